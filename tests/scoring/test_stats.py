"""Natural session order, t-intervals and the paired tests, checked against scipy.stats on the same numbers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from cpmlab.scoring.stats import mean_ci, natural_key, paired_tests


def test_natural_key_orders_digit_runs_as_numbers() -> None:
    """ses-10 sorts after ses-2; labels without digits sort by text; mixed labels stay deterministic."""
    labels = ["ses-10", "ses-2", "ses-1", "ses-1b", "ses-baseline", "ses-01a", "", "ses-9"]
    ordered = sorted(labels, key=natural_key)
    assert ordered[:6] == ["", "ses-1", "ses-01a", "ses-1b", "ses-2", "ses-9"]
    assert ordered.index("ses-10") == 6 and ordered[-1] == "ses-baseline"
    assert sorted(["10", "2", "1"], key=natural_key) == ["1", "2", "10"]
    assert natural_key(None) == ()


@pytest.mark.parametrize("seed", range(4))
def test_mean_ci_equals_scipy_t_interval(seed: int) -> None:
    """Mean, SD and the 95% interval equal numpy and scipy.stats.t.interval."""
    x = np.random.default_rng(seed).normal(-5, 8, 3 + 5 * seed)
    r = mean_ci(x)
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (r["mean"], r["sd"]) == (pytest.approx(x.mean()), pytest.approx(x.std(ddof=1)))
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_mean_ci_of_too_few_values_is_missing() -> None:
    """One value has a mean but no SD or interval; none has nothing."""
    assert mean_ci(np.array([3.0])) == {"mean": 3.0, "sd": None, "ci_low": None, "ci_high": None}
    assert set(mean_ci(np.array([])).values()) == {None}


@pytest.mark.parametrize(
    "diff",
    [
        [-6.0, -2.5, 1.0, -9.0, -4.0, -3.5, 0.5, -7.0, -1.0, -2.0],
        [1.0, 1.0, 2.0, -3.0, 4.0, 4.0, 5.0, -6.0, 7.0, 8.0, 8.0, -1.0],  # ties: all sign flips
        [1.0, 0.0, 2.0, -3.0, 4.0, 4.0, -6.0],  # a zero difference is dropped by the signed-rank test
        list(np.random.default_rng(1).normal(-2, 5, 60)),  # n > 50: normal approximation
    ],
)
def test_paired_tests_equal_scipy(diff: list[float]) -> None:
    """t, df, p, CI and dz equal scipy.stats.ttest_rel; W and p equal scipy.stats.wilcoxon."""
    d = np.array(diff)
    r = paired_tests(d)
    ref = stats.ttest_rel(d, np.zeros_like(d))
    assert (r["t"], r["df"], r["p_t"]) == (pytest.approx(ref.statistic), len(d) - 1, pytest.approx(ref.pvalue))
    low, high = ref.confidence_interval(0.95)
    assert (r["diff_ci_low"], r["diff_ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert r["dz"] == pytest.approx(d.mean() / d.std(ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = stats.wilcoxon(d)
    assert (r["wilcoxon_w"], r["p_wilcoxon"]) == (pytest.approx(w.statistic), pytest.approx(w.pvalue))


def test_paired_tests_with_no_spread_or_one_pair_leave_the_undefined_parts_missing() -> None:
    """Equal differences: no t, p or dz (the CI is the point); all zero: no Wilcoxon; one pair: mean only."""
    same = paired_tests(np.array([-6.0, -6.0, -6.0]))
    assert same["mean_diff"] == -6.0 and same["sd_diff"] == 0.0 and same["df"] == 2
    assert same["t"] is None and same["p_t"] is None and same["dz"] is None
    assert same["diff_ci_low"] == same["diff_ci_high"] == -6.0
    zero = paired_tests(np.zeros(4))
    assert zero["wilcoxon_w"] is None and zero["p_wilcoxon"] is None
    one = paired_tests(np.array([2.0]))
    assert one["mean_diff"] == 2.0 and all(one[k] is None for k in one if k != "mean_diff")
    assert math.isfinite(paired_tests(np.array([1.0, 3.0]))["t"])
