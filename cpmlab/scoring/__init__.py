"""Scoring: CPM effects, thresholds, group tables, test-retest and reports from BIDS files."""

from __future__ import annotations

from typing import Any

__all__ = ["ScoringOptions", "phase_means", "ts_cpm_scores"]


def __getattr__(name: str) -> Any:
    # imported on first use: cpmlab score checks files in a background process that must not load pandas
    if name == "ScoringOptions":
        from cpmlab.scoring.options import ScoringOptions

        return ScoringOptions
    if name in ("phase_means", "ts_cpm_scores"):
        from cpmlab.scoring import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
