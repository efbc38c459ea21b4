"""Descriptive and paired statistics with 95% confidence intervals (t quantiles and Wilcoxon from distributions.py)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from cpmlab.scoring.distributions import t_ppf, t_sf, wilcoxon_signed_rank

CONFIDENCE = 0.95


def natural_key(label: str | None) -> tuple[tuple[int, int | str], ...]:
    """Return a sort key that orders digit runs numerically: ses-1, ses-2, ..., ses-10."""
    parts = re.split(r"(\d+)", label or "")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def mean_ci(values: np.ndarray) -> dict[str, float | None]:
    """Return mean, SD (n-1) and the 95% t-interval of the mean (None where undefined)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else None
    sd = float(x.std(ddof=1)) if n > 1 else None
    low = high = None
    if n > 1 and sd is not None and mean is not None:
        half = t_ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
    return {"mean": mean, "sd": sd, "ci_low": low, "ci_high": high}


def paired_tests(diff: np.ndarray) -> dict[str, Any]:
    """Return mean and SD of paired differences, their 95% CI, paired t (t, df, p), Wilcoxon (W, p) and dz."""
    d = np.asarray(diff, dtype=float)
    n = len(d)
    out: dict[str, Any] = {
        "mean_diff": float(d.mean()) if n else None,
        "sd_diff": float(d.std(ddof=1)) if n > 1 else None,
        "diff_ci_low": None,
        "diff_ci_high": None,
        "t": None,
        "df": n - 1 if n > 1 else None,
        "p_t": None,
        "wilcoxon_w": None,
        "p_wilcoxon": None,
        "dz": None,
    }
    if n < 2:
        return out
    ci = mean_ci(d)
    out["diff_ci_low"], out["diff_ci_high"] = ci["ci_low"], ci["ci_high"]
    sd = out["sd_diff"]
    if sd is not None and sd > 0:
        t_value = out["mean_diff"] / (sd / math.sqrt(n))
        out["t"] = t_value
        out["p_t"] = 2.0 * t_sf(abs(t_value), n - 1)
        out["dz"] = out["mean_diff"] / sd
    if np.any(d != 0):  # all-zero differences leave the signed-rank test undefined
        w, p = wilcoxon_signed_rank(d)
        out["wilcoxon_w"] = _finite(w)
        out["p_wilcoxon"] = _finite(p)
    return out
