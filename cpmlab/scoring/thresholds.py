"""Calibration, heat pain threshold and cold-pressor PDT/PTT from the events table.

Every fact comes from its own column (censored, discarded, method, variable, limit_s); the
free-text detail column is never read.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

MISMATCH_TOLERANCE_C = 0.05


def _rows(events: pd.DataFrame, trial_type: str) -> pd.DataFrame:
    rows = events[events["trial_type"] == trial_type]
    return rows.sort_values("onset", kind="stable") if "onset" in rows else rows


def _value(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _text(v: Any) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)


def _flag(v: Any) -> bool:
    """Return a boolean column cell as bool (True/False text, or a bool); missing is False."""
    if isinstance(v, bool):
        return v
    return _text(v).strip().lower() == "true"


def calibration(events: pd.DataFrame) -> dict[str, Any]:
    """Return the calibrated test-stimulus temperature (degC), the method and whether it is a fallback."""
    result = _rows(events, "calibration_result")
    for _, row in result.iloc[::-1].iterrows():
        value = _value(row["value"])
        if value is not None:
            method = _text(row.get("method")) or _text(row.get("step_id")) or "calibration_result"
            return {"calibrated_c": value, "calibration_method": method, "calibration_fallback": _flag(row["fallback"])}
    variables = _rows(events, "variable")
    named = variables[variables["variable"].fillna("").str.contains("calib", case=False)]
    for _, row in named.iloc[::-1].iterrows():
        value = _value(row["value"])
        if value is not None:
            return {
                "calibrated_c": value,
                "calibration_method": f"variable {_text(row['variable'])}",
                "calibration_fallback": _flag(row["fallback"]),
            }
    return {"calibrated_c": None, "calibration_method": None, "calibration_fallback": None}


def heat_pain_threshold(events: pd.DataFrame) -> dict[str, Any]:
    """Return the heat pain threshold (degC): mean of the trials neither censored nor discarded."""
    trials = _rows(events, "threshold_trial")
    values = [
        _value(v)
        for v, censored, discarded in zip(trials["value"], trials["censored"], trials["discarded"], strict=True)
        if not (_flag(censored) or _flag(discarded))
    ]
    valid = [v for v in values if v is not None]
    hpt = sum(valid) / len(valid) if valid else None
    recorded = [_value(v) for v in _rows(events, "threshold_result")["value"]]
    recorded = [v for v in recorded if v is not None]
    mismatch = bool(recorded and hpt is not None and abs(recorded[-1] - hpt) > MISMATCH_TOLERANCE_C)
    return {
        "hpt_c": hpt,
        "hpt_n_trials": len(valid),
        "hpt_n_invalid": len(trials) - len(valid),
        "hpt_result_mismatch": mismatch,
    }


def cold_pressor_times(events: pd.DataFrame) -> dict[str, Any]:
    """Return pain detection/tolerance times (s from immersion onset) with censored flags.

    A censored time with no value (nobody reported detection) is the time limit (limit_s).
    """
    out: dict[str, Any] = {}
    for name, trial_type in (("pdt", "cold_pain_detection"), ("ptt", "cold_pain_tolerance")):
        rows = _rows(events, trial_type)
        value, censored = None, None
        for _, row in rows.iterrows():  # the first recorded time of the run
            censored = _flag(row["censored"])
            value = _value(row["value"])
            if value is None and censored:
                value = _value(row["limit_s"])
            break
        out[f"{name}_s"] = value
        out[f"{name}_censored"] = censored
    return out
