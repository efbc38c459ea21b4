"""t and F quantiles, the t tail area and the Wilcoxon test equal scipy.stats bit for bit; scoring never imports it."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from scipy import stats

from cpmlab.scoring.distributions import average_ranks, f_ppf, t_ppf, t_sf, wilcoxon_signed_rank

QS = [0.0, 1e-300, 1e-12, 1e-4, 0.001, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.995, 1 - 1e-12, 1.0]
BAD_QS = [-0.1, 1.1, math.nan, -math.inf, math.inf]
DFS = [0.5, 1, 2, 3, 4, 5, 7.3, 9, 10, 19, 29, 30, 49.5, 100, 1e3, 1e6, math.inf]
BAD_DFS = [0, -1, -math.inf, math.nan]
XS = [-math.inf, -1e6, -50.0, -3.0, -1.0, -1e-9, -0.0, 0.0, 1e-9, 0.5, 1.0, 2.0, 2.262, 3.7, 40.0, 1e6, math.inf]


def _same(a: float, b: float) -> bool:
    """Return whether two floats are the same bits' worth: equal with the same sign, or both NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def test_t_ppf_equals_scipy() -> None:
    """t_ppf equals scipy.stats.t.ppf over a grid of q and df, including q = 0 and 1 and invalid arguments (NaN)."""
    for q in QS + BAD_QS:
        for df in DFS + BAD_DFS:
            assert _same(t_ppf(q, df), float(stats.t.ppf(q, df))), (q, df)
    assert t_ppf(0.975, 9) == pytest.approx(2.262, abs=1e-3)


def test_t_sf_equals_scipy() -> None:
    """t_sf equals scipy.stats.t.sf over a grid of x and df, including infinite x and invalid arguments (NaN)."""
    for x in [*XS, math.nan]:
        for df in DFS + BAD_DFS:
            assert _same(t_sf(x, df), float(stats.t.sf(x, df))), (x, df)
    assert t_sf(0.0, 5) == 0.5


def test_f_ppf_equals_scipy() -> None:
    """f_ppf equals scipy.stats.f.ppf over a grid of q, dfn and dfd, including q = 0 and 1 and invalid arguments."""
    for q in QS + BAD_QS:
        for dfn in DFS + BAD_DFS:
            for dfd in DFS + BAD_DFS:
                assert _same(f_ppf(q, dfn, dfd), float(stats.f.ppf(q, dfn, dfd))), (q, dfn, dfd)
    assert f_ppf(0.975, 10, 10) == pytest.approx(3.717, abs=1e-3)


def test_average_ranks_equal_scipy_rankdata() -> None:
    """average_ranks gives scipy.stats.rankdata's average ranks, and each tie group's size at its first sorted slot."""
    rng = np.random.default_rng(7)
    for n in range(1, 40):
        x = np.round(rng.normal(size=n) * 2) / 2
        ranks, ties = average_ranks(x)
        assert np.array_equal(ranks, stats.rankdata(x))
        assert np.array_equal(ties[ties > 0], np.unique(x, return_counts=True)[1].astype(float))
        assert ties.sum() == n
    ranks, ties = average_ranks(np.array([3.0, 1.0, 3.0, 3.0, 2.0]))
    assert ranks.tolist() == [4.0, 1.0, 4.0, 4.0, 2.0]
    assert ties.tolist() == [1.0, 1.0, 3.0, 0.0, 0.0]
    assert average_ranks(np.empty(0))[0].shape == (0,)


def _scipy_wilcoxon(d: np.ndarray) -> tuple[float, float]:
    """Return scipy.stats.wilcoxon(d) as two floats (scipy warns where no difference is left; that is not tested)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.wilcoxon(d)
    return float(res.statistic), float(res.pvalue)


def _check(d: np.ndarray) -> None:
    """Assert that wilcoxon_signed_rank(d) equals scipy.stats.wilcoxon(d) bit for bit, without warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = wilcoxon_signed_rank(d)
    want = _scipy_wilcoxon(d)
    assert _same(got[0], want[0]) and _same(got[1], want[1]), (d.tolist(), got, want)


def _random_samples(rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield seeded samples for n = 1 .. 80: continuous, ties (rounded to 0.5 or 1), zeros, one-signed.

    scipy's own sign-flip test (ties or zeros, n <= 13) costs 15 ms at n = 7 and doubles with each
    further n, so those samples are fewest there and absent at n = 10 .. 13; the edge-case test
    has one at n = 13.
    """
    for n in range(1, 81):
        reps = 5 if n <= 6 else 1 if n <= 9 else 4
        for _ in range(reps):
            x = rng.normal(loc=rng.choice([-1.0, 0.0, 0.5]), scale=2.0, size=n)
            yield x
            if 10 <= n <= 13:
                continue
            rounded = np.round(x * 2) / 2
            yield rounded  # ties and zeros
            yield np.round(x)  # more ties and zeros
            yield np.abs(rounded) if rng.random() < 0.5 else -np.abs(rounded)


def test_wilcoxon_equals_scipy_on_random_samples() -> None:
    """Thousands of seeded samples (n 1-80, with and without ties and zeros, one-signed) give scipy's W and p exactly."""
    rng = np.random.default_rng(20261202)
    count = 0
    for d in _random_samples(rng):
        if d.shape[0] == 1 and d[0] == 0:
            continue  # a single zero: both raise, tested below
        _check(d)
        count += 1
    assert count > 1200


def _balanced(n: int) -> np.ndarray:
    """Return n distinct differences whose positive and negative rank sums are equal (n = 0 or 3 mod 4)."""
    half = n * (n + 1) // 4
    signs = -np.ones(n)
    for rank in range(n, 0, -1):
        if rank <= half:
            signs[rank - 1] = 1.0
            half -= rank
    assert half == 0
    return signs * np.exp(np.arange(1, n + 1) / 7.0)


def test_wilcoxon_equals_scipy_at_edges_and_switch_points() -> None:
    """All-equal values, one non-zero value, negatives only, r_plus = r_minus and n = 13/14, 50/51 match scipy."""
    rng = np.random.default_rng(11)
    for n in [*range(1, 7), 14, 15, 30, 50, 51, 80]:
        _check(np.full(n, 2.5))  # all tied
        _check(np.full(n, -0.5))
        _check(np.r_[np.zeros(n - 1), 1.5])  # one non-zero value
        _check(-np.abs(rng.normal(size=n)) - 0.1)  # negatives only, no ties
        if n >= 2:
            _check(np.zeros(n))  # nothing left: p 1 by sign flips, NaN by the normal approximation
    for n in [n for n in range(3, 60) if n % 4 in (0, 3)]:
        d = _balanced(n)
        assert wilcoxon_signed_rank(d)[0] == n * (n + 1) / 4
        _check(d)
        if n <= 8 or n >= 14:  # scipy's sign flips are slow at n = 11, 12
            _check(np.round(d))  # ties among the small values
    for n in (13, 14, 50, 51):
        _check(rng.normal(size=n))  # no ties: exact up to 50
        _check(np.r_[np.round(rng.normal(size=n - 1), 1), 0.0])  # a zero and ties: sign flips up to 13
    _check(np.array([1.0, -1.0, 2.0, -2.0]))
    _check(np.array([np.inf, 1.0, -2.0]))
    _check(np.array([0.0, 1.0]))


def test_wilcoxon_known_values_and_bad_input() -> None:
    """Hand-checked W and p; NaN or empty input gives NaN; a single zero or a 2-D array raises ValueError."""
    assert wilcoxon_signed_rank([1.0, 2.0, 3.0]) == (0.0, 0.25)  # 1 of 8 sign patterns on each side
    assert wilcoxon_signed_rank([1.0, 1.0]) == (0.0, 0.5)
    w, p = wilcoxon_signed_rank([1.0, np.nan, 2.0])
    assert math.isnan(w) and math.isnan(p)
    w, p = wilcoxon_signed_rank([])
    assert math.isnan(w) and math.isnan(p)
    with pytest.raises(ValueError, match="single zero"):
        wilcoxon_signed_rank([0.0])
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy divides 0 by 0 before it raises
        stats.wilcoxon([0.0])
    with pytest.raises(ValueError, match="1-D"):
        wilcoxon_signed_rank(np.ones((3, 2)))


def test_scoring_and_cli_do_not_import_scipy_stats() -> None:
    """A fresh interpreter importing the scoring derivatives, the pipeline and the CLI leaves scipy.stats unloaded."""
    code = (
        "import sys\n"
        "import cpmlab.scoring.derivatives, cpmlab.scoring.pipeline, cpmlab.cli.main\n"
        "assert 'scipy.special' in sys.modules, 'check did not load scipy at all'\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr
