"""The report's section on the other results each protocol exists for: calibration, threshold, cold-pressor times."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from cpmlab.scoring.pipeline import ScoredDataset
from cpmlab.scoring.report_format import html_table, integer, number, text

# (column, censored-flag column or None, label, unit)
RESULTS = (
    ("calibrated_c", None, "calibrated test-stimulus temperature", "°C"),
    ("hpt_c", None, "heat pain threshold", "°C"),
    ("pdt_s", "pdt_censored", "cold pain detection time", "s"),
    ("ptt_s", "ptt_censored", "cold pain tolerance time", "s"),
)


def _median_text(values: np.ndarray, censored: np.ndarray) -> str:
    """Median of times where a censored time is at least its value: '>= x' once the median is censored."""
    order = np.argsort(values, kind="stable")
    values, censored = values[order], censored[order]
    middle = (len(values) - 1) / 2
    lo, hi = int(np.floor(middle)), int(np.ceil(middle))
    if censored[lo] or censored[hi]:
        return f"≥ {number(values[lo], 1)}"  # at or above a censored time: only a lower bound is known
    return number((values[lo] + values[hi]) / 2, 1)


def results_rows(sessions: pd.DataFrame) -> list[list[str]]:
    """Return one row per task and result: runs, censored runs, mean and SD (uncensored results), median, range."""
    rows = []
    for column, flag, label, unit in RESULTS:
        if column not in sessions.columns:
            continue
        part = sessions[sessions[column].notna()]
        for task, runs in part.groupby("task", sort=True):
            values = runs[column].to_numpy(dtype=float)
            censored = runs[flag].fillna(False).to_numpy(dtype=bool) if flag else np.zeros(len(values), dtype=bool)
            mean = number(values.mean(), 2) if not censored.any() else "n/a (censored)"
            sd = number(values.std(ddof=1), 2) if len(values) > 1 and not censored.any() else "n/a"
            rows.append(
                [
                    text(task),
                    f"{label} ({unit})",
                    integer(runs["participant_id"].nunique()),
                    integer(len(values)),
                    integer(int(censored.sum())),
                    mean,
                    sd,
                    _median_text(values, censored),
                    f"{number(values.min(), 1)} to {number(values.max(), 1)}",
                ]
            )
    return rows


def results_section(scored: ScoredDataset) -> str:
    """Return the calibration, threshold and cold-pressor results per task, over runs."""
    intro = "<h2>Calibration, thresholds and cold-pressor times</h2>"
    rows = results_rows(scored.sessions)
    if not rows:
        return intro + '<p class="note">No run has a calibration, a threshold or cold-pressor times.</p>'
    header = ["Paradigm", "Result", "Participants", "Runs", "Censored", "Mean", "SD", "Median", "Range"]
    note = (
        "Over runs. A censored time (no report before the limit) counts at its limit and is a lower bound: "
        "the mean is then not given, and a median that falls on a censored time reads '≥'. Per run: the "
        f"{html.escape('calibrated_c, hpt_c, pdt_s/pdt_censored and ptt_s/ptt_censored')} columns of "
        '<a href="../cpm_sessions.tsv">cpm_sessions.tsv</a>.'
    )
    return intro + html_table(header, rows, labels=2) + f'<p class="note">{note}</p>'
