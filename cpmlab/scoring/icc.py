"""Intraclass correlations from a two-way ANOVA (Shrout & Fleiss 1979), their 95% CIs, SEM and SRD.

The confidence intervals are the F-based ones of McGraw KO, Wong SP (1996) Psychol Methods
1:30-46 (and its 1996 correction), for ICC(C,1) = ICC(3,1) and ICC(A,1) = ICC(2,1).
"""

from __future__ import annotations

import math

import numpy as np

from cpmlab.scoring.distributions import f_ppf

CONFIDENCE = 0.95


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


def _ratio(num: float, den: float) -> float | None:
    value = num / den if den != 0 else math.nan
    return value if math.isfinite(value) else None


def icc_c1_ci(msr: float, mse: float, n: int, k: int) -> tuple[float | None, float | None]:
    """Return the 95% CI of ICC(C,1) (consistency): F = MSR/MSE against F(n-1, (n-1)(k-1))."""
    if mse <= 0:
        return None, None
    alpha = 1.0 - CONFIDENCE
    df1, df2 = n - 1, (n - 1) * (k - 1)
    f_obs = msr / mse
    f_low = f_obs / f_ppf(1 - alpha / 2, df1, df2)
    f_high = f_obs * f_ppf(1 - alpha / 2, df2, df1)
    return _ratio(f_low - 1, f_low + k - 1), _ratio(f_high - 1, f_high + k - 1)


def icc_a1_ci(
    msr: float, msc: float, mse: float, n: int, k: int, icc_a1: float | None
) -> tuple[float | None, float | None]:
    """Return the 95% CI of ICC(A,1) (absolute agreement) with Satterthwaite's df v (McGraw & Wong table 7)."""
    if icc_a1 is None or icc_a1 >= 1 or mse <= 0:
        return None, None
    alpha = 1.0 - CONFIDENCE
    a = k * icc_a1 / (n * (1 - icc_a1))
    b = 1 + k * icc_a1 * (n - 1) / (n * (1 - icc_a1))
    v_den = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    if v_den <= 0:
        return None, None
    v = (a * msc + b * mse) ** 2 / v_den
    f_low = f_ppf(1 - alpha / 2, n - 1, v)
    f_high = f_ppf(1 - alpha / 2, v, n - 1)
    c = k * msc + (k * n - k - n) * mse
    low = _ratio(n * (msr - f_low * mse), f_low * c + n * msr)
    high = _ratio(n * (f_high * msr - mse), c + n * f_high * msr)
    return low, high


def icc_with_ci(scores: np.ndarray) -> dict[str, float | None]:
    """Return ICC(3,1) and ICC(2,1) of an n x k matrix with their 95% CIs (None where undefined)."""
    point = icc(scores)
    out: dict[str, float | None] = {
        "icc_3_1": point["icc_3_1"],
        "icc_3_1_ci_low": None,
        "icc_3_1_ci_high": None,
        "icc_2_1": point["icc_2_1"],
        "icc_2_1_ci_low": None,
        "icc_2_1_ci_high": None,
    }
    if point["icc_3_1"] is None and point["icc_2_1"] is None:
        return out
    x = np.asarray(scores, dtype=float)
    n, k = x.shape
    a = two_way_anova(x)
    if point["icc_3_1"] is not None:
        out["icc_3_1_ci_low"], out["icc_3_1_ci_high"] = icc_c1_ci(a["msr"], a["mse"], n, k)
    out["icc_2_1_ci_low"], out["icc_2_1_ci_high"] = icc_a1_ci(a["msr"], a["msc"], a["mse"], n, k, point["icc_2_1"])
    return out


def sem_srd(sd_pooled: float | None, icc_value: float | None) -> tuple[float | None, float | None]:
    """Return SEM = sd x sqrt(1 - ICC) and SRD = 1.96 x sqrt(2) x SEM (None when undefined)."""
    if sd_pooled is None or icc_value is None or icc_value > 1:
        return None, None
    sem = sd_pooled * math.sqrt(max(1.0 - icc_value, 0.0))
    return sem, 1.96 * math.sqrt(2.0) * sem
