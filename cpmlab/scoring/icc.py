"""Intraclass correlations from a two-way ANOVA (Shrout & Fleiss 1979), with SEM and SRD."""

from __future__ import annotations

import math

import numpy as np


def two_way_anova(scores: np.ndarray) -> dict[str, float]:
    """Return MSR (subjects), MSC (sessions) and MSE (residual) of an n x k score matrix."""
    x = np.asarray(scores, dtype=float)
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    ss_total = float(((x - grand) ** 2).sum())
    ss_error = max(ss_total - ss_rows - ss_cols, 0.0)
    return {"msr": ss_rows / (n - 1), "msc": ss_cols / (k - 1), "mse": ss_error / ((n - 1) * (k - 1))}


def icc(scores: np.ndarray) -> dict[str, float | None]:
    """Return ICC(3,1) consistency and ICC(2,1) absolute agreement of an n subjects x k sessions matrix."""
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or np.isnan(x).any():
        return {"icc_3_1": None, "icc_2_1": None}
    n, k = x.shape
    a = two_way_anova(x)
    msr, msc, mse = a["msr"], a["msc"], a["mse"]
    d31 = msr + (k - 1) * mse
    d21 = msr + (k - 1) * mse + k * (msc - mse) / n
    return {"icc_3_1": (msr - mse) / d31 if d31 > 0 else None, "icc_2_1": (msr - mse) / d21 if d21 > 0 else None}


def sem_srd(sd_pooled: float | None, icc_value: float | None) -> tuple[float | None, float | None]:
    """Return SEM = sd x sqrt(1 - ICC) and SRD = 1.96 x sqrt(2) x SEM (None when undefined)."""
    if sd_pooled is None or icc_value is None or icc_value > 1:
        return None, None
    sem = sd_pooled * math.sqrt(max(1.0 - icc_value, 0.0))
    return sem, 1.96 * math.sqrt(2.0) * sem
