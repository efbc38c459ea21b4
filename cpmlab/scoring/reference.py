"""The per-run reference scorer: every run read and scored on its own (slow; checks the bulk path)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpmlab.scoring.columns import session_columns
from cpmlab.scoring.dataset import Run, read_dataset
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.run_scores import score_run
from cpmlab.scoring.session_table import typed_sessions


def score_runs_reference(runs: list[Run], options: ScoringOptions) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Return the session table and plateau summaries, scoring one run at a time."""
    rows, plateaus = [], {}
    for i, run in enumerate(runs):
        row, plat = score_run(run, options)
        rows.append(row)
        if not plat.empty:
            plateaus[i] = plat
    sessions = pd.DataFrame(rows, columns=list(session_columns(options)))
    return typed_sessions(sessions, options), plateaus


def score_dataset_reference(root: str | Path, options: ScoringOptions) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Read every run of the dataset on its own and score it with the reference path."""
    return score_runs_reference(read_dataset(root), options)
