"""Participant and group summaries, active-versus-sham contrast and test-retest on hand-built datasets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scoring_helpers import simple_session, write_specs

from cpmlab.scoring.columns import RETEST_PAIR_COLUMNS, contrast_columns, retest_columns, summary_columns
from cpmlab.scoring.group import active_sham_contrast, group_summary, long_scores
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.pipeline import score_dataset
from cpmlab.scoring.retest import retest_pairs, retest_table


def _row(df: pd.DataFrame, **where: object) -> pd.Series:
    mask = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, where
    return df[mask].iloc[0]


@pytest.fixture
def crossover(tmp_path: Path) -> Path:
    """Three participants; late effects: A active -10,-6 sham -2; B active -4 sham +2; C active +3 (facilitator)."""
    specs = [
        simple_session("A", "1", "active", [50, 50], [40, 40]),
        simple_session("A", "2", "sham", [50, 50], [48, 48]),
        simple_session("A", "3", "active", [50, 50], [44, 44]),
        simple_session("B", "1", "active", [40, 40], [36, 36]),
        simple_session("B", "2", "sham", [40, 40], [42, 42]),
        simple_session("C", "1", "active", [30, 30], [33, 33]),
    ]
    return write_specs(tmp_path / "ds", specs)


def test_tables_have_the_schema_columns_in_order_and_every_column_described(crossover: Path) -> None:
    """participants, groups, contrast, retest_pairs and retest have exactly the agreed columns, each in its sidecar."""
    scored = score_dataset(crossover)
    o = scored.options
    expected = {
        "participants": "participant_id task condition measure range n_sessions mean sd median sign_convention",
        "groups": "task condition measure range n n_sessions mean sd ci_low ci_high median prop_inhibition "
        "sign_convention",
        "contrast": "task measure range n mean_active mean_sham mean_diff sd_diff diff_ci_low diff_ci_high t df "
        "p_t wilcoxon_w p_wilcoxon dz sign_convention",
        "retest_pairs": "participant_id task condition measure range session_1 session_2 value_1 value_2",
        "retest": "task condition measure range n sessions icc_3_1 icc_3_1_ci_low icc_3_1_ci_high icc_2_1 "
        "icc_2_1_ci_low icc_2_1_ci_high sd_pooled sem_3_1 srd_3_1 sem_2_1 srd_2_1 sign_convention",
    }
    described = {
        "participants": summary_columns(o, "participant"),
        "groups": summary_columns(o, "group"),
        "contrast": contrast_columns(o),
        "retest_pairs": RETEST_PAIR_COLUMNS,
        "retest": retest_columns(o),
    }
    for name, columns in expected.items():
        assert list(getattr(scored, name).columns) == columns.split(), name
        assert list(described[name]) == columns.split(), name


def test_group_summary_counts_each_participant_once_with_a_t_interval(crossover: Path) -> None:
    """Active late: participant means A -8, B -4, C +3 -> n 3, mean -3, median -4, 2/3 inhibited, scipy t CI."""
    g = score_dataset(crossover).groups
    r = _row(g, task="cpm", condition="active", measure="cpm_late")
    assert (r["n"], r["n_sessions"]) == (3, 4)
    assert r["mean"] == pytest.approx(-3.0) and r["median"] == pytest.approx(-4.0)
    assert r["sd"] == pytest.approx(np.std([-8, -4, 3], ddof=1))
    assert r["prop_inhibition"] == pytest.approx(2 / 3)
    low, high = stats.t.interval(0.95, 2, loc=-3.0, scale=stats.sem([-8, -4, 3]))
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert set(g["condition"]) == {"active", "sham"}  # no 'overall' rows pooling active with sham
    one = _row(g, condition="sham", measure="cpm_late")  # A -2, B +2
    assert one["n"] == 2 and one["ci_low"] < 0 < one["ci_high"]


def test_participant_summary_per_task_and_condition(crossover: Path) -> None:
    """A active: sessions -10 and -6 -> 2 sessions, mean -8, SD 2.828; C (one session) has no SD."""
    p = score_dataset(crossover).participants
    r = _row(p, participant_id="sub-A", task="cpm", condition="active", measure="cpm_late")
    assert (r["n_sessions"], r["mean"], r["median"]) == (2, -8.0, -8.0)
    assert r["sd"] == pytest.approx(math.sqrt(8))
    assert pd.isna(_row(p, participant_id="sub-C", measure="cpm_late")["sd"])


def test_active_sham_contrast_is_paired_within_participants(crossover: Path) -> None:
    """Only A and B have both: differences A -8-(-2) = -6, B -4-2 = -6 -> mean -6, SD 0, t and dz undefined."""
    c = score_dataset(crossover).contrast
    r = _row(c, task="cpm", measure="cpm_late")
    assert (r["n"], r["mean_diff"], r["sd_diff"], r["df"]) == (2, -6.0, 0.0, 1)
    assert (r["mean_active"], r["mean_sham"]) == (-6.0, 0.0)
    assert pd.isna(r["t"]) and pd.isna(r["p_t"]) and pd.isna(r["dz"])
    w = stats.wilcoxon([-6.0, -6.0])
    assert (r["wilcoxon_w"], r["p_wilcoxon"]) == (pytest.approx(w.statistic), pytest.approx(w.pvalue))


def test_contrast_statistics_equal_pingouin_and_scipy(tmp_path: Path) -> None:
    """Eight participants' active and sham effects: t, df, p, CI and dz equal pingouin.ttest; W and p scipy's."""
    import pingouin as pg  # dev dependency: the independent reference

    active = [-12.0, -7.5, -3.0, -15.5, 1.0, -9.0, -4.5, -6.0]
    sham = [-2.0, -4.0, 1.5, -6.0, 2.0, -1.0, -5.5, 0.5]
    specs = []
    for i, (a, s) in enumerate(zip(active, sham, strict=True)):
        specs.append(simple_session(f"P{i}", "1", "active", [50, 50], [50 + a, 50 + a]))
        specs.append(simple_session(f"P{i}", "2", "sham", [50, 50], [50 + s, 50 + s]))
    r = _row(score_dataset(write_specs(tmp_path / "ds", specs)).contrast, measure="cpm_late")
    ref = pg.ttest(active, sham, paired=True).iloc[0]
    diff = np.subtract(active, sham)
    assert r["t"] == pytest.approx(ref["T"]) and r["df"] == ref["dof"] and r["p_t"] == pytest.approx(ref["p_val"])
    low, high = stats.ttest_rel(active, sham).confidence_interval(0.95)
    assert (r["diff_ci_low"], r["diff_ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert r["dz"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    w = pg.wilcoxon(active, sham).iloc[0]
    assert r["wilcoxon_w"] == pytest.approx(w["W_val"]) and r["p_wilcoxon"] == pytest.approx(w["p_val"])


def test_contrast_never_pairs_active_and_sham_of_different_tasks(tmp_path: Path) -> None:
    """Active in task cpmsequential and sham in task cpmparallel gives no contrast; same task gives one."""
    specs = []
    for i in range(3):
        specs.append(simple_session(f"X{i}", "1", "active", [50, 50], [40 + i, 40], task="cpmsequential"))
        specs.append(simple_session(f"X{i}", "2", "sham", [50, 50], [49, 49 - i], task="cpmparallel"))
    scored = score_dataset(write_specs(tmp_path / "ds", specs))
    assert scored.contrast.empty
    groups = scored.groups[scored.groups["measure"] == "cpm_late"]
    assert sorted(zip(groups["task"], groups["condition"], strict=True)) == [
        ("cpmparallel", "sham"),
        ("cpmsequential", "active"),
    ]


def test_facilitators_are_kept_in_every_table(crossover: Path) -> None:
    """C's positive effect appears in the sessions, participants and group tables."""
    scored = score_dataset(crossover)
    s = scored.sessions
    c = s[s["participant_id"] == "sub-C"].iloc[0]
    assert c["cpm_late"] == 3.0 and c["cpm_late_direction"] == "facilitation"
    assert pd.isna(c["flags"])  # facilitation is a result (the direction column), not a data-quality flag
    assert (scored.participants["participant_id"] == "sub-C").any()


def test_sign_convention_flips_group_means_and_keeps_proportions(crossover: Path) -> None:
    """inhibition-positive: active late mean +3, proportion with inhibition still 2/3, CI flipped."""
    neg = _row(score_dataset(crossover).groups, condition="active", measure="cpm_late")
    g = score_dataset(crossover, ScoringOptions(sign="inhibition-positive")).groups
    r = _row(g, condition="active", measure="cpm_late")
    assert r["mean"] == pytest.approx(3.0) and r["prop_inhibition"] == pytest.approx(2 / 3)
    assert r["ci_low"] == pytest.approx(-neg["ci_high"])


def _icc_31(x: np.ndarray) -> float:
    n, k = x.shape
    gm = x.mean()
    msr = k * ((x.mean(1) - gm) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(0) - gm) ** 2).sum() / (k - 1)
    mse = (((x - gm) ** 2).sum() - msr * (n - 1) - msc * (k - 1)) / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse)


def test_retest_uses_same_participant_same_condition_first_two_sessions(tmp_path: Path) -> None:
    """Four participants x two active sessions with known values give the numpy ICC and SRD and pingouin's CIs."""
    values = [(-10, -8), (-4, -6), (0, 1), (-7, -3)]
    specs = []
    for i, (v1, v2) in enumerate(values):
        specs.append(simple_session(f"P{i}", "1", "active", [50, 50], [50 + v1, 50 + v1]))
        specs.append(simple_session(f"P{i}", "2", "active", [50, 50], [50 + v2, 50 + v2]))
        specs.append(simple_session(f"P{i}", "3", "sham", [50, 50], [50, 50]))
    scored = score_dataset(write_specs(tmp_path / "ds", specs))
    r = _row(scored.retest, task="cpm", condition="active", measure="cpm_late")
    x = np.array(values, dtype=float)
    icc31 = _icc_31(x)
    assert (r["n"], r["sessions"]) == (4, "ses-1 | ses-2")
    assert r["icc_3_1"] == pytest.approx(icc31)
    sd = x.std(ddof=1)
    assert r["sem_3_1"] == pytest.approx(sd * math.sqrt(1 - icc31))
    assert r["srd_3_1"] == pytest.approx(1.96 * math.sqrt(2) * sd * math.sqrt(1 - icc31))
    assert r["icc_3_1_ci_low"] < r["icc_3_1"] < r["icc_3_1_ci_high"]
    assert not (scored.retest["condition"] == "sham").any()  # one sham session each: no retest


def test_sessions_pair_in_natural_order(tmp_path: Path) -> None:
    """Sessions 10, 2 and 1: the pair is ses-1 and ses-2 (not ses-1 and ses-10), whatever the write order."""
    specs = []
    for i, (v1, v2, v10) in enumerate([(-10, -8, 20), (-4, -6, -30), (0, 1, 15)]):
        for ses, v in (("10", v10), ("2", v2), ("1", v1)):
            specs.append(simple_session(f"N{i}", ses, "active", [50, 50], [50 + v, 50 + v]))
    scored = score_dataset(write_specs(tmp_path / "ds", specs))
    pairs = scored.retest_pairs[scored.retest_pairs["measure"] == "cpm_late"]
    assert list(pairs["session_1"]) == ["ses-1"] * 3 and list(pairs["session_2"]) == ["ses-2"] * 3
    assert list(pairs["value_2"]) == [-8.0, -6.0, 1.0]
    assert _row(scored.retest, measure="cpm_late")["sessions"] == "ses-1 | ses-2"


def test_retest_sessions_option_names_the_pair(tmp_path: Path) -> None:
    """retest_sessions=('10', '2') pairs ses-10 with ses-2 in that order; a participant without ses-10 is left out."""
    specs = []
    for i, (v2, v10) in enumerate([(-8, 20), (-6, -30), (1, 15)]):
        for ses, v in (("1", 0), ("2", v2), ("10", v10)):
            specs.append(simple_session(f"N{i}", ses, "active", [50, 50], [50 + v, 50 + v]))
    specs.append(simple_session("N9", "1", "active", [50, 50], [45, 45]))
    specs.append(simple_session("N9", "2", "active", [50, 50], [44, 44]))
    root = write_specs(tmp_path / "ds", specs)
    scored = score_dataset(root, ScoringOptions(retest_sessions=("10", "2")))
    pairs = scored.retest_pairs[scored.retest_pairs["measure"] == "cpm_late"]
    assert list(pairs["participant_id"]) == ["sub-N0", "sub-N1", "sub-N2"]
    assert list(pairs["value_1"]) == [20.0, -30.0, 15.0] and list(pairs["value_2"]) == [-8.0, -6.0, 1.0]
    r = _row(scored.retest, measure="cpm_late")
    assert r["sessions"] == "ses-10 | ses-2"
    assert r["icc_3_1"] == pytest.approx(_icc_31(np.array([[20, -8], [-30, -6], [15, 1]], dtype=float)))


def test_two_tasks_are_never_pooled_in_retest(tmp_path: Path) -> None:
    """Sequential and parallel sessions of the same people: one retest row per task, each its own ICC.

    Averaging the two tasks into one session value (the old pooling) would give a different ICC.
    """
    seq = [(-10, -9), (-4, -5), (0, 1), (-7, -6), (-2, -12)]
    par = [(-20, 5), (3, -18), (-9, -1), (6, -11), (-15, 2)]
    specs = []
    for i, ((s1, s2), (p1, p2)) in enumerate(zip(seq, par, strict=True)):
        for ses, s, p in (("1", s1, p1), ("2", s2, p2)):
            specs.append(simple_session(f"T{i}", ses, "active", [50, 50], [50 + s, 50 + s], task="cpmsequential"))
            specs.append(simple_session(f"T{i}", ses, "active", [50, 50], [50 + p, 50 + p], task="cpmparallel"))
    scored = score_dataset(write_specs(tmp_path / "ds", specs))
    late = scored.retest[scored.retest["measure"] == "cpm_late"]
    assert sorted(late["task"]) == ["cpmparallel", "cpmsequential"]
    x_seq, x_par = np.array(seq, dtype=float), np.array(par, dtype=float)
    assert _row(late, task="cpmsequential")["icc_3_1"] == pytest.approx(_icc_31(x_seq))
    assert _row(late, task="cpmparallel")["icc_3_1"] == pytest.approx(_icc_31(x_par))
    pooled = _icc_31((x_seq + x_par) / 2)
    assert abs(pooled - _icc_31(x_seq)) > 0.1 and abs(pooled - _icc_31(x_par)) > 0.1
    groups = scored.groups[scored.groups["measure"] == "cpm_late"]
    assert len(groups) == 2 and _row(groups, task="cpmsequential")["mean"] == pytest.approx(x_seq.mean())


def test_runs_of_one_session_are_averaged_before_pairing(tmp_path: Path) -> None:
    """Two runs in ses-1 (-10, -6) form one session value -8 in the participant mean and the retest pair."""
    specs = [
        simple_session("R", "1", "active", [50, 50], [40, 40], run=1),
        simple_session("R", "1", "active", [50, 50], [44, 44], run=2),
        simple_session("R", "2", "active", [50, 50], [48, 48]),
        simple_session("S", "1", "active", [50, 50], [45, 45]),
        simple_session("S", "2", "active", [50, 50], [47, 47]),
    ]
    scored = score_dataset(write_specs(tmp_path / "ds", specs))
    p = _row(scored.participants, participant_id="sub-R", measure="cpm_late")
    assert (p["n_sessions"], p["mean"]) == (2, -5.0)
    pair = _row(scored.retest_pairs, participant_id="sub-R", measure="cpm_late")
    assert (pair["value_1"], pair["value_2"]) == (-8.0, -2.0)


def test_group_tables_do_not_depend_on_row_order(crossover: Path) -> None:
    """Seeded shuffles of the session table give identical group, contrast and retest tables."""
    scored = score_dataset(crossover)
    opts = scored.options
    base = long_scores(scored.sessions)
    for seed in range(4):
        shuffled = long_scores(scored.sessions.sample(frac=1.0, random_state=seed))
        pd.testing.assert_frame_equal(group_summary(shuffled, opts), group_summary(base, opts))
        pd.testing.assert_frame_equal(active_sham_contrast(shuffled, opts), active_sham_contrast(base, opts))
        pd.testing.assert_frame_equal(
            retest_table(retest_pairs(shuffled), opts), retest_table(retest_pairs(base), opts)
        )


def test_session_scores_do_not_depend_on_other_participants(tmp_path: Path) -> None:
    """A participant's session row is the same alone or among 20 synthetic others."""
    from cpmlab.scoring.synthetic import generate_dataset

    alone = write_specs(tmp_path / "alone", [simple_session("X1", "1", "active", [61, 57], [44, 50])])
    crowd = tmp_path / "crowd"
    generate_dataset(crowd, 20, 2, seed=3, recordings=())
    write_specs(crowd, [simple_session("X1", "1", "active", [61, 57], [44, 50])])
    a = score_dataset(alone).sessions
    c = score_dataset(crowd).sessions
    row_c = c[c["participant_id"] == "sub-X1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, row_c)
