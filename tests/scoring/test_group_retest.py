"""Participant and group summaries, active-versus-sham contrast and test-retest on hand-built datasets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scoring_helpers import simple_session, write_specs

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


def test_group_summary_counts_each_participant_once(crossover: Path) -> None:
    """Active late: participant means A -8, B -4, C +3 -> n 3, mean -3, median -4, SD 5.568, 2/3 inhibited."""
    g = score_dataset(crossover).groups
    r = _row(g, group="active", measure="cpm_late")
    assert (r["n"], r["n_sessions"]) == (3, 4)
    assert r["mean"] == pytest.approx(-3.0) and r["median"] == pytest.approx(-4.0)
    assert r["sd"] == pytest.approx(np.std([-8, -4, 3], ddof=1))
    assert r["prop_inhibition"] == pytest.approx(2 / 3)
    o = _row(g, group="overall", measure="cpm_late")  # A: mean(-10,-2,-6) = -6, B: mean(-4,2) = -1, C: 3
    assert o["mean"] == pytest.approx((-6 - 1 + 3) / 3)


def test_participant_summary_per_condition(crossover: Path) -> None:
    """A active: sessions -10 and -6 -> n 2, mean -8, SD 2.828, proportion inhibited 1."""
    p = score_dataset(crossover).participants
    r = _row(p, participant_id="sub-A", group="active", measure="cpm_late")
    assert (r["n"], r["mean"], r["prop_inhibition"]) == (2, -8.0, 1.0)
    assert r["sd"] == pytest.approx(math.sqrt(8))


def test_active_sham_contrast_is_paired_within_participants(crossover: Path) -> None:
    """Only A and B have both: differences A -8-(-2) = -6, B -4-2 = -6 -> mean -6, SD 0, n 2."""
    c = score_dataset(crossover).contrast
    r = _row(c, measure="cpm_late")
    assert (r["n"], r["mean_diff"], r["sd_diff"]) == (2, -6.0, 0.0)
    assert (r["mean_active"], r["mean_sham"]) == (-6.0, 0.0)


def test_facilitators_are_kept_in_every_table(crossover: Path) -> None:
    """C's positive effect appears in the sessions, participants and group tables."""
    scored = score_dataset(crossover)
    s = scored.sessions
    c = s[s["participant_id"] == "sub-C"].iloc[0]
    assert c["cpm_late"] == 3.0 and c["cpm_late_direction"] == "facilitation"
    assert pd.isna(c["flags"])  # facilitation is a result (the direction column), not a data-quality flag
    assert (scored.participants["participant_id"] == "sub-C").any()


def test_sign_convention_flips_group_means_and_keeps_proportions(crossover: Path) -> None:
    """inhibition-positive: active late mean +3, proportion with inhibition still 2/3."""
    g = score_dataset(crossover, ScoringOptions(sign="inhibition-positive")).groups
    r = _row(g, group="active", measure="cpm_late")
    assert r["mean"] == pytest.approx(3.0) and r["prop_inhibition"] == pytest.approx(2 / 3)


def test_retest_uses_same_participant_same_condition_first_two_sessions(tmp_path: Path) -> None:
    """Four participants x two active sessions with known values give the numpy ICC and SRD."""
    values = [(-10, -8), (-4, -6), (0, 1), (-7, -3)]
    specs = []
    for i, (v1, v2) in enumerate(values):
        specs.append(simple_session(f"P{i}", "1", "active", [50, 50], [50 + v1, 50 + v1]))
        specs.append(simple_session(f"P{i}", "2", "active", [50, 50], [50 + v2, 50 + v2]))
        specs.append(simple_session(f"P{i}", "3", "sham", [50, 50], [50, 50]))
    scored = score_dataset(write_specs(tmp_path / "ds", specs))
    r = _row(scored.retest, condition="active", measure="cpm_late")
    x = np.array(values, dtype=float)
    n, k = x.shape
    gm = x.mean()
    msr = k * ((x.mean(1) - gm) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(0) - gm) ** 2).sum() / (k - 1)
    mse = (((x - gm) ** 2).sum() - msr * (n - 1) - msc * (k - 1)) / ((n - 1) * (k - 1))
    icc31 = (msr - mse) / (msr + (k - 1) * mse)
    assert (r["n"], r["k"], r["sessions"]) == (4, 2, "ses-1 | ses-2")
    assert r["icc_3_1"] == pytest.approx(icc31)
    assert r["icc_2_1"] == pytest.approx((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))
    sd = x.std(ddof=1)
    assert r["sem_3_1"] == pytest.approx(sd * math.sqrt(1 - icc31))
    assert r["srd_3_1"] == pytest.approx(1.96 * math.sqrt(2) * sd * math.sqrt(1 - icc31))
    assert not (scored.retest["condition"] == "sham").any()  # one sham session each: no retest


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
