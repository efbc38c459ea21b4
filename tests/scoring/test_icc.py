"""ICC(3,1) and ICC(2,1) from a two-way ANOVA, checked on Shrout & Fleiss (1979) table 2, their CIs against pingouin, and SEM/SRD."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cpmlab.scoring.icc import icc, icc_with_ci, sem_srd, two_way_anova

# Shrout PE, Fleiss JL (1979) Psychol Bull 86:420-428, table 2: 6 targets rated by 4 judges.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")  # pingouin 0.7 on pandas 3

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])


def test_shrout_fleiss_table_2_published_iccs() -> None:
    """Published values: ICC(3,1) = 0.71, ICC(2,1) = 0.29."""
    r = icc(SHROUT_FLEISS)
    assert round(r["icc_3_1"], 2) == 0.71
    assert round(r["icc_2_1"], 2) == 0.29


def test_shrout_fleiss_table_2_mean_squares() -> None:
    """Published ANOVA (table 3): BMS 11.24, JMS 32.49, EMS 1.02."""
    a = two_way_anova(SHROUT_FLEISS)
    assert a["msr"] == pytest.approx(11.24, abs=0.01)
    assert a["msc"] == pytest.approx(32.49, abs=0.01)
    assert a["mse"] == pytest.approx(1.02, abs=0.01)


def test_perfect_agreement_gives_one_and_a_constant_offset_separates_the_two_forms() -> None:
    """Identical sessions: both ICCs 1; session 2 = session 1 + 5: ICC(3,1) 1, ICC(2,1) < 1."""
    x = np.array([[1.0, 1.0], [4.0, 4.0], [9.0, 9.0]])
    assert icc(x) == {"icc_3_1": pytest.approx(1.0), "icc_2_1": pytest.approx(1.0)}
    y = x + np.array([0.0, 5.0])
    r = icc(y)
    assert r["icc_3_1"] == pytest.approx(1.0) and r["icc_2_1"] < 0.9


def test_undefined_cases_return_none() -> None:
    """Fewer than 2 subjects, NaNs or zero variance give None, never a crash."""
    assert icc(np.array([[1.0, 2.0]]))["icc_3_1"] is None
    assert icc(np.array([[1.0, np.nan], [2.0, 3.0]]))["icc_2_1"] is None
    assert icc(np.zeros((3, 2)))["icc_3_1"] is None


def test_sem_and_srd_formulas() -> None:
    """SD 10, ICC 0.75: SEM = 10 x sqrt(0.25) = 5; SRD = 1.96 x sqrt(2) x 5 = 13.86."""
    sem, srd = sem_srd(10.0, 0.75)
    assert sem == pytest.approx(5.0)
    assert srd == pytest.approx(1.96 * math.sqrt(2) * 5.0)
    assert sem_srd(10.0, None) == (None, None)


def _pingouin_iccs(x: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[float, float, float]]:
    import pandas as pd
    import pingouin as pg  # dev dependency: the independent reference

    monkeypatch.setitem(pg.options, "round.column.CI95", None)  # pingouin rounds CIs to 2 decimals by default
    n, k = x.shape
    long = pd.DataFrame([(i, j, x[i, j]) for i in range(n) for j in range(k)], columns=["subject", "session", "value"])
    table = pg.intraclass_corr(long, targets="subject", raters="session", ratings="value").set_index("Type")
    return {t: (float(table.at[t, "ICC"]), *map(float, table.at[t, "CI95"])) for t in ("ICC(C,1)", "ICC(A,1)")}


@pytest.mark.parametrize("seed", range(6))
def test_confidence_intervals_equal_pingouin(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """ICC(3,1) = ICC(C,1) and ICC(2,1) = ICC(A,1) with their F-based 95% CIs equal pingouin's on random data."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    trait = rng.normal(0, rng.uniform(0.5, 8), n)
    x = np.column_stack([trait + rng.normal(0, 3, n), trait + rng.uniform(-3, 3) + rng.normal(0, 3, n)])
    ours = icc_with_ci(x)
    ref = _pingouin_iccs(x, monkeypatch)
    for name, kind in (("icc_3_1", "ICC(C,1)"), ("icc_2_1", "ICC(A,1)")):
        expected = ref[kind]
        got = (ours[name], ours[f"{name}_ci_low"], ours[f"{name}_ci_high"])
        assert got == pytest.approx(expected, abs=1e-9), (name, got, expected)


def test_shrout_fleiss_confidence_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four sessions (k = 4) of table 2: the CIs equal pingouin's and contain the point estimates."""
    ours = icc_with_ci(SHROUT_FLEISS)
    ref = _pingouin_iccs(SHROUT_FLEISS.astype(float), monkeypatch)
    assert (ours["icc_3_1_ci_low"], ours["icc_3_1_ci_high"]) == pytest.approx(ref["ICC(C,1)"][1:], abs=1e-9)
    assert (ours["icc_2_1_ci_low"], ours["icc_2_1_ci_high"]) == pytest.approx(ref["ICC(A,1)"][1:], abs=1e-9)
    assert ours["icc_2_1_ci_low"] < ours["icc_2_1"] < ours["icc_2_1_ci_high"]


def test_confidence_intervals_are_missing_when_undefined() -> None:
    """No residual variance (perfect agreement) or too few subjects: point estimates as before, CIs None."""
    perfect = icc_with_ci(np.array([[1.0, 1.0], [4.0, 4.0], [9.0, 9.0]]))
    assert perfect["icc_3_1"] == pytest.approx(1.0)
    assert perfect["icc_3_1_ci_low"] is None and perfect["icc_2_1_ci_high"] is None
    assert set(icc_with_ci(np.array([[1.0, 2.0]])).values()) == {None}
