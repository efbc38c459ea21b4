"""Score a whole dataset: every run, then participant, group, contrast and retest tables per task and condition."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cpmlab.scoring.columns import session_columns
from cpmlab.scoring.dataset import Run, read_dataset
from cpmlab.scoring.group import active_sham_contrast, group_summary, long_scores, participant_summary
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.retest import retest_pairs, retest_table
from cpmlab.scoring.run_scores import score_run


@dataclass
class ScoredDataset:
    """Everything the scoring computed for one dataset."""

    root: Path
    options: ScoringOptions
    runs: list[Run]
    sessions: pd.DataFrame
    plateaus: dict[int, pd.DataFrame] = field(default_factory=dict)  # index in runs -> plateau summaries
    participants: pd.DataFrame = field(default_factory=pd.DataFrame)
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    contrast: pd.DataFrame = field(default_factory=pd.DataFrame)
    retest_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    retest: pd.DataFrame = field(default_factory=pd.DataFrame)


def score_runs(runs: list[Run], options: ScoringOptions) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Return the session table (one row per run, in file column order) and plateau summaries."""
    rows, plateaus = [], {}
    for i, run in enumerate(runs):
        row, plat = score_run(run, options)
        rows.append(row)
        if not plat.empty:
            plateaus[i] = plat
    columns = session_columns(options)
    sessions = pd.DataFrame(rows, columns=list(columns))
    for name, spec in columns.items():  # fixed dtypes: a column's type never depends on the other rows
        if "Units" in spec:
            sessions[name] = pd.to_numeric(sessions[name], errors="coerce").astype(float)
        elif name == "run" or name.endswith(("_n", "_missing", "_n_trials", "_n_invalid", "_plateaus")):
            sessions[name] = sessions[name].astype("Int64")
        elif name in ("recovered", "ts_mixed_scales", "cs_mixed_scales", "hpt_result_mismatch") or name.endswith(
            "_censored"
        ):
            sessions[name] = sessions[name].astype("boolean")
        else:
            sessions[name] = sessions[name].astype("string")
    return sessions, plateaus


def score_dataset(root: str | Path, options: ScoringOptions | None = None) -> ScoredDataset:
    """Read a BIDS dataset and compute every score and table (nothing is written)."""
    options = options or ScoringOptions()
    runs = read_dataset(root)
    sessions, plateaus = score_runs(runs, options)
    long = long_scores(sessions)
    pairs = retest_pairs(long, options)
    return ScoredDataset(
        root=Path(root).resolve(),
        options=options,
        runs=runs,
        sessions=sessions,
        plateaus=plateaus,
        participants=participant_summary(long, options),
        groups=group_summary(long, options),
        contrast=active_sham_contrast(long, options),
        retest_pairs=pairs,
        retest=retest_table(pairs, options),
    )
