"""Continuous (CoVAS) ratings summarised over each heat plateau: mean, peak and area under the curve."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cpmlab.scoring.dataset import Recording


def window_summary(times_s: np.ndarray, values: np.ndarray, start_s: float, end_s: float) -> dict[str, Any]:
    """Return mean, peak, AUC (trapezoid, rating x s) and coverage of values within [start_s, end_s]."""
    ok = ~np.isnan(values)
    t, v = times_s[ok], values[ok]
    inside = (t >= start_s) & (t <= end_s)
    n = int(inside.sum())
    empty = {"n_samples": n, "mean": None, "peak": None, "auc": None, "covered_s": 0.0}
    if n == 0:
        return empty
    # The window edges are interpolated from the neighbouring samples when the recording covers them.
    tw, vw = list(t[inside]), list(v[inside])
    if t[0] < start_s < tw[0]:
        tw.insert(0, start_s)
        vw.insert(0, float(np.interp(start_s, t, v)))
    if tw[-1] < end_s < t[-1]:
        tw.append(end_s)
        vw.append(float(np.interp(end_s, t, v)))
    ta, va = np.asarray(tw), np.asarray(vw)
    covered = float(ta[-1] - ta[0])
    auc = float(np.trapezoid(va, ta)) if len(ta) > 1 else 0.0
    mean = auc / covered if covered > 0 else float(va.mean())  # time-weighted mean
    return {"n_samples": n, "mean": mean, "peak": float(v[inside].max()), "auc": auc, "covered_s": round(covered, 6)}


def plateau_summaries(events: pd.DataFrame, recording: Recording | None) -> pd.DataFrame:
    """Return one row per heat_plateau event with the continuous rating summary over its window."""
    columns = [
        "plateau_onset",
        "plateau_duration",
        "step_id",
        "role",
        "phase",
        "rep",
        "stimulus_c",
        "n_samples",
        "covered_s",
        "mean",
        "peak",
        "auc",
    ]
    if recording is None or "rating" not in recording.data.columns:
        return pd.DataFrame(columns=columns)
    plateaus = events[(events["trial_type"] == "heat_plateau") & events["duration"].notna()]
    times, values = recording.times_s, recording.data["rating"].to_numpy(dtype=float)
    rows = []
    for _, p in plateaus.sort_values("onset", kind="stable").iterrows():
        start, end = float(p["onset"]), float(p["onset"]) + float(p["duration"])
        if end < times[0] or start > times[-1]:
            continue  # the continuous rating did not run during this plateau
        rows.append(
            {
                "plateau_onset": start,
                "plateau_duration": float(p["duration"]),
                "step_id": p.get("step_id"),
                "role": p.get("role"),
                "phase": p.get("phase"),
                "rep": p.get("rep"),
                "stimulus_c": p.get("stimulus_c"),
                **window_summary(times, values, start, end),
            }
        )
    return pd.DataFrame(rows, columns=columns)
