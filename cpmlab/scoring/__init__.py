"""Scoring: CPM effects, thresholds, group tables, test-retest and reports from BIDS files."""

from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.session import phase_means, ts_cpm_scores

__all__ = ["ScoringOptions", "phase_means", "ts_cpm_scores"]
