"""Calibration, heat pain threshold and cold-pressor PDT/PTT from the events table."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

_INVALID = re.compile(r"invalid|exclud|discard|no response|timeout|timed out|censor|practice", re.IGNORECASE)
_CENSORED = re.compile(r"censor", re.IGNORECASE)
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


def calibration(events: pd.DataFrame) -> dict[str, Any]:
    """Return the calibrated test-stimulus temperature (degC) and the method that produced it."""
    result = _rows(events, "calibration_result")
    for _, row in result.iloc[::-1].iterrows():
        value = _value(row["value"])
        if value is not None:
            method = _text(row["detail"]) or _text(row.get("step_id")) or "calibration_result"
            return {"calibrated_c": value, "calibration_method": method}
    variables = _rows(events, "variable")
    named = variables[variables["detail"].fillna("").str.contains("calib", case=False)]
    for _, row in named.iloc[::-1].iterrows():
        value = _value(row["value"])
        if value is not None:
            return {"calibrated_c": value, "calibration_method": f"variable {_text(row['detail'])}"}
    return {"calibrated_c": None, "calibration_method": None}


def heat_pain_threshold(events: pd.DataFrame) -> dict[str, Any]:
    """Return the heat pain threshold (degC) recomputed as the mean of the valid threshold trials."""
    trials = _rows(events, "threshold_trial")
    values = [
        _value(v) for v, d in zip(trials["value"], trials["detail"], strict=True) if not _INVALID.search(_text(d))
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
    """Return pain detection/tolerance times (s from immersion onset) with censored flags."""
    out: dict[str, Any] = {}
    for name, trial_type in (("pdt", "cold_pain_detection"), ("ptt", "cold_pain_tolerance")):
        rows = _rows(events, trial_type)
        value, censored = None, None
        for _, row in rows.iterrows():  # the first recorded time of the run
            value = _value(row["value"])
            if value is None and _CENSORED.search(_text(row["detail"])):
                value = _value(row.get("duration"))
            censored = bool(_CENSORED.search(_text(row["detail"])))
            break
        out[f"{name}_s"] = value
        out[f"{name}_censored"] = censored
    return out
