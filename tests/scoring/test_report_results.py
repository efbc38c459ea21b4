"""The report's results section: censored times are lower bounds, never averaged; nothing reads None or nan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpmlab.scoring.report_results import _median_text, results_rows


def test_median_is_a_lower_bound_once_it_falls_on_a_censored_time() -> None:
    """Times 10, 20 (uncensored) and 180, 180 (censored): the median is '>= 20.0' lower-middle bound."""
    assert _median_text(np.array([10.0, 20.0, 30.0]), np.array([False, False, True])) == "20.0"
    assert _median_text(np.array([180.0, 10.0, 180.0]), np.array([True, False, True])).startswith("≥ 180")
    assert _median_text(np.array([10.0, 20.0, 180.0, 180.0]), np.array([False, False, True, True])) == "≥ 20.0"


def test_rows_per_task_with_censored_counts_and_no_mean_when_censored() -> None:
    """Cold-pressor rows count censored runs and give no mean; calibration rows give mean and SD."""
    sessions = pd.DataFrame(
        {
            "participant_id": ["sub-1", "sub-2", "sub-3", "sub-1"],
            "task": ["coldpressor", "coldpressor", "coldpressor", "cpmsequential"],
            "calibrated_c": [np.nan, np.nan, np.nan, 45.5],
            "hpt_c": [np.nan] * 4,
            "pdt_s": [12.0, 180.0, 20.0, np.nan],
            "pdt_censored": pd.array([False, True, False, pd.NA], dtype="boolean"),
            "ptt_s": [60.0, 90.0, 30.0, np.nan],
            "ptt_censored": pd.array([False, False, False, pd.NA], dtype="boolean"),
        }
    )
    rows = {(r[0], r[1]): r for r in results_rows(sessions)}
    assert set(rows) == {
        ("cpmsequential", "calibrated test-stimulus temperature (°C)"),
        ("coldpressor", "cold pain detection time (s)"),
        ("coldpressor", "cold pain tolerance time (s)"),
    }
    pdt = rows[("coldpressor", "cold pain detection time (s)")]
    assert pdt[2:6] == ["3", "3", "1", "n/a (censored)"] and pdt[7] == "20.0"
    ptt = rows[("coldpressor", "cold pain tolerance time (s)")]
    assert ptt[4] == "0" and ptt[5] == "60.00" and ptt[7] == "60.0"
    for row in rows.values():
        assert not any(cell in ("None", "nan", "NaN") for cell in row)
