"""t and F quantiles, the t tail area and the Wilcoxon signed-rank test on scipy.special and numpy only.

Importing scipy.stats costs most of a second (it parses its docstrings on import), more than a
re-score after one added run should take in all, and the group statistics need only four of its
functions. This module reproduces them with the same numpy operations in the same order as
scipy 1.17, so they return the same floats bit for bit:

- `t_ppf`, `t_sf`: `scipy.stats.t.ppf` and `scipy.stats.t.sf` (`special.stdtrit`, `special.stdtr`);
- `f_ppf`: `scipy.stats.f.ppf` (`special.fdtri`);
- `wilcoxon_signed_rank`: `scipy.stats.wilcoxon(d)` with its defaults (zero differences dropped,
  two-sided, no continuity correction): the exact null distribution for n <= 50 without ties or
  zeros, all 2**n sign flips for n <= 13 with ties or zeros, the normal approximation otherwise.

Arguments outside a distribution's domain give NaN, as scipy.stats does.
tests/scoring/test_distributions.py compares every function with scipy.stats itself.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt
from scipy import special

EXACT_MAX_N = 50  # scipy's "auto" method: exact null distribution up to this many differences
SIGN_FLIP_MAX_N = 13  # 2**13 <= 9999 resamples, so scipy enumerates every sign flip
PERMUTATION_RTOL = float(np.finfo(np.float64).eps) * 100  # scipy's tolerance for ties with the observed value


def t_ppf(q: float, df: float) -> float:
    """Return the q quantile of Student's t with df degrees of freedom (as scipy.stats.t.ppf)."""
    if not df > 0:
        return math.nan
    if 0 < q < 1:
        # scipy adds loc = 0 to the quantile, which turns -0.0 into 0.0
        return float(special.stdtrit(df, q)) * 1 + 0
    if q == 0:
        return -math.inf
    if q == 1:
        return math.inf
    return math.nan


def t_sf(x: float, df: float) -> float:
    """Return P(T > x) for Student's t with df degrees of freedom (as scipy.stats.t.sf)."""
    if not df > 0 or math.isnan(x):
        return math.nan
    if x == -math.inf:
        return 1.0
    if x == math.inf:
        return 0.0
    return float(special.stdtr(df, -x))


def f_ppf(q: float, dfn: float, dfd: float) -> float:
    """Return the q quantile of the F distribution with dfn and dfd degrees of freedom (as scipy.stats.f.ppf)."""
    if not (dfn > 0 and dfd > 0):
        return math.nan
    if 0 < q < 1:
        return float(special.fdtri(dfn, dfd, q)) * 1 + 0
    if q == 0:
        return 0.0
    if q == 1:
        return math.inf
    return math.nan


def average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return average ranks of a 1-D array and the size of each tie group at its first sorted position.

    The second array is scipy's tie layout: zero everywhere except at the first sorted position
    of each group of equal values, which holds the group's size. NaNs sort last, one group each.
    """
    n = values.shape[-1]
    if n == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ordinal = np.arange(1, n + 1, dtype=np.float64)
    ordered = values[order]
    starts = np.concatenate([np.ones(1, dtype=bool), ordered[:-1] != ordered[1:]])
    first = np.arange(n)[starts]
    counts = np.diff(first, append=np.asarray([n], dtype=first.dtype))
    group_ranks = ordinal[starts] + (counts.astype(np.float64) - 1) / 2
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(group_ranks, counts)
    ties = np.zeros(n, dtype=np.float64)
    ties[starts] = counts.astype(np.float64)
    return ranks, ties


@functools.cache
def _null_pmf(n: int) -> np.ndarray:
    """Return P(r_plus = r) for r = 0 .. n(n+1)/2 without ties (scipy's _get_wilcoxon_distr)."""
    c = np.ones(1, dtype=np.float64)
    for k in range(1, n + 1):
        prev_c = c
        c = np.zeros(k * (k + 1) // 2 + 1, dtype=np.float64)
        m = len(prev_c)
        c[:m] = prev_c * 0.5
        c[-m:] += prev_c * 0.5
    c.flags.writeable = False
    return c


def _exact_p(r_plus: float, n: int) -> float:
    """Return the two-sided p-value of r_plus from the exact null distribution of n untied differences."""
    pmf = _null_pmf(n)
    mean = n * (n + 1) / 4
    k_sf = int(np.floor(r_plus))
    k_cdf = int(np.ceil(r_plus))
    sf = float(pmf[k_sf:].sum()) if k_sf <= mean else 1 - float(pmf[:k_sf].sum())
    cdf = float(pmf[: k_cdf + 1].sum()) if k_cdf <= mean else 1 - float(pmf[k_cdf + 1 :].sum())
    return min(max(2 * min(sf, cdf), 0.0), 1.0)


def _sign_flip_p(d: np.ndarray, ranks: np.ndarray, r_plus: float) -> float:
    """Return the two-sided p-value of r_plus over all 2**n sign flips of d (scipy's exact permutation test)."""
    n = d.shape[0]
    flipped = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
    positive = np.where(flipped, d < 0, d > 0)  # a dropped zero (NaN) is neither
    # every rank is a multiple of 0.5, so these sums are exact in any order, as scipy's are
    null = np.sum(positive.astype(np.float64) * ranks, axis=-1)
    gamma = abs(PERMUTATION_RTOL * r_plus)
    less = float(np.count_nonzero(null <= r_plus + gamma)) / 2**n
    greater = float(np.count_nonzero(null >= r_plus - gamma)) / 2**n
    return min(max(min(less, greater) * 2, 0.0), 1.0)


def _normal_p(r_plus: float, count: float, ties: np.ndarray) -> float:
    """Return the two-sided p-value of r_plus from the tie-corrected normal approximation (no continuity correction)."""
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    tie_correct = np.sum(ties**3 - ties, axis=-1)
    se = np.sqrt((se - tie_correct / 2) / 24)
    with np.errstate(invalid="ignore", divide="ignore"):  # no differences left: se = 0 and p is NaN
        z = (np.float64(r_plus) - mn) / se
    return float(2 * special.ndtr(-np.abs(z)))


def wilcoxon_signed_rank(d: npt.ArrayLike) -> tuple[float, float]:
    """Return the Wilcoxon signed-rank statistic and two-sided p-value of differences d (as scipy.stats.wilcoxon(d)).

    The statistic is the smaller of the positive and negative rank sums after dropping zero
    differences. An empty sample or one with a NaN gives (NaN, NaN); a single zero difference
    raises ValueError, as in scipy (a sign-flip test needs two observations).
    """
    x = np.asarray(d, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"wilcoxon_signed_rank needs a 1-D array of differences, got shape {x.shape}")
    n = x.shape[0]
    if n == 0 or bool(np.isnan(x).any()):
        return math.nan, math.nan
    is_zero = x == 0
    n_zero = int(np.count_nonzero(is_zero))
    if n_zero and n < 2:
        raise ValueError("wilcoxon_signed_rank: a single zero difference leaves nothing to test (need two or more)")
    kept = np.where(is_zero, np.nan, x)
    count = np.float64(n - np.count_nonzero(np.isnan(kept)))
    ranks, ties = average_ranks(np.abs(kept))
    r_plus = np.sum((kept > 0).astype(np.float64) * ranks, axis=-1)
    r_minus = np.sum((kept < 0).astype(np.float64) * ranks, axis=-1)
    has_ties = bool(np.any(ties == 0))
    if n <= EXACT_MAX_N and not (has_ties or n_zero > 0):
        p = _exact_p(float(r_plus), n)
    elif n <= SIGN_FLIP_MAX_N:
        p = _sign_flip_p(kept, ranks, float(r_plus))
    else:
        p = _normal_p(float(r_plus), float(count), ties)
    return float(np.minimum(r_plus, r_minus)), p
