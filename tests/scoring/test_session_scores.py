"""Per-session test-stimulus CPM effects and conditioning-stimulus ratings on hand-computed fixtures."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scoring_helpers import ratings, ts_rows

from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.session import cs_scores, ts_cpm_scores
from cpmlab.scoring.summary import cpm_summary

POS = ScoringOptions(sign="inhibition-positive")


def test_phase_means_counts_and_early_late_effects_match_hand_computation() -> None:
    """before 50,60 -> 55; during 40,44 -> 42; after 45,55 -> 50: early -13 (-23.64 %), late -5 (-9.09 %)."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [50, 60], "during": [40, 44], "after": [45, 55]})))
    assert (s["ts_before_mean"], s["ts_during_mean"], s["ts_after_mean"]) == (55.0, 42.0, 50.0)
    assert (s["ts_before_n"], s["ts_during_n"], s["ts_after_n"]) == (2, 2, 2)
    assert s["cpm_early"] == pytest.approx(-13.0)
    assert s["cpm_early_pct"] == pytest.approx(100 * -13 / 55)
    assert s["cpm_late"] == pytest.approx(-5.0)
    assert s["cpm_late_pct"] == pytest.approx(100 * -5 / 55)
    assert s["cpm_early_direction"] == s["cpm_late_direction"] == "inhibition"
    assert s["ts_range"] == "0-100"


def test_inhibition_positive_flips_the_sign_of_absolute_and_percent_effects() -> None:
    """--sign inhibition-positive: the same data give +13 and +23.64 %."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [50, 60], "during": [40, 44]})), POS)
    assert s["cpm_early"] == pytest.approx(13.0)
    assert s["cpm_early_pct"] == pytest.approx(100 * 13 / 55)
    assert s["cpm_early_direction"] == "inhibition"


def test_zero_baseline_gives_missing_percent_never_infinity() -> None:
    """before 0,0 and after 10: absolute +10, percent missing (None), not inf."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [0, 0], "after": [10, 10]})))
    assert s["cpm_late"] == 10.0
    assert s["cpm_late_pct"] is None
    assert s["cpm_late_direction"] == "facilitation"


def test_missing_ratings_are_counted_and_left_out_of_the_means() -> None:
    """n/a ratings are not zeros: before 50,n/a -> mean 50, n 1, missing 1."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [50, None], "after": [None, 40]})))
    assert (s["ts_before_mean"], s["ts_before_n"], s["ts_before_missing"]) == (50.0, 1, 1)
    assert (s["ts_after_mean"], s["ts_after_missing"]) == (40.0, 1)
    assert s["cpm_late"] == -10.0


def test_no_after_phase_leaves_late_effect_missing_but_keeps_the_baseline() -> None:
    """A session that stopped before the after phase still reports its baseline."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [30, 40]})))
    assert s["ts_before_mean"] == 35.0
    assert s["cpm_late"] is None and s["cpm_late_pct"] is None and s["cpm_late_direction"] is None


def test_facilitation_is_kept_not_clipped() -> None:
    """after > before gives a positive effect (default sign) that is reported as it is."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [40], "after": [52]})))
    assert s["cpm_late"] == 12.0 and s["cpm_late_pct"] == pytest.approx(30.0)
    assert s["cpm_late_direction"] == "facilitation"


def test_nrs_ratings_are_scored_on_their_own_0_10_range() -> None:
    """NRS only: means stay 0-10 and the range says so."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [6, 8], "after": [5, 5]}, scale="nrs")))
    assert s["ts_range"] == "0-10" and s["ts_scale"] == "nrs"
    assert s["cpm_late"] == -2.0


def test_nrs_is_normalised_to_0_100_only_when_asked() -> None:
    """--normalise-nrs: NRS 6,8 -> 60,80; range 0-100."""
    s = ts_cpm_scores(
        ratings(ts_rows({"before": [6, 8], "after": [5, 5]}, scale="nrs")), ScoringOptions(normalise_nrs=True)
    )
    assert s["ts_range"] == "0-100" and s["ts_before_mean"] == 70.0 and s["cpm_late"] == -20.0


def test_vas_and_nrs_are_never_mixed_silently() -> None:
    """VAS before and NRS after: no means and no effect, flagged mixed; normalised: 50 vs 40 -> -10."""
    rows = ts_rows({"before": [50]}, "vas") + ts_rows({"after": [4]}, "nrs")
    s = ts_cpm_scores(ratings(rows))
    assert s["ts_mixed_scales"] and s["ts_range"] is None
    assert s["ts_before_mean"] is None and s["cpm_late"] is None
    s = ts_cpm_scores(ratings(rows), ScoringOptions(normalise_nrs=True))
    assert not s["ts_mixed_scales"] and s["cpm_late"] == -10.0 and s["ts_scale"] == "vas+nrs"


def test_other_ratings_do_not_enter_the_test_stimulus_scores() -> None:
    """Cold ratings, practice heat and categorical ratings are ignored by the TS effect."""
    rows = [
        *ts_rows({"before": [50], "after": [40]}),
        {"about": "cold", "role": "conditioning", "phase": "during", "scale": "nrs", "rating": 9},
        {"about": "heat", "role": "practice", "phase": "before", "scale": "vas", "rating": 99},
        {"about": "heat", "role": "test_stimulus", "phase": "before", "scale": "categorical", "rating": None},
    ]
    s = ts_cpm_scores(ratings(rows))
    assert s["ts_before_mean"] == 50.0 and s["ts_before_n"] == 1 and s["ts_before_missing"] == 0


def test_conditioning_stimulus_mean_and_peak() -> None:
    """CS NRS 4, 7, n/a: mean 5.5, peak 7, n 2, missing 1."""
    rows = [
        {"about": "cold", "role": "conditioning", "phase": "during", "scale": "nrs", "rating": v} for v in (4, 7, None)
    ]
    s = cs_scores(ratings(rows))
    assert (s["cs_mean"], s["cs_peak"], s["cs_n"], s["cs_missing"], s["cs_range"]) == (5.5, 7.0, 2, 1, "0-10")


def test_cli_summary_delegates_to_the_session_scoring() -> None:
    """cpm_summary keeps its keys and gives the scoring's numbers (during/after - before)."""
    df = ratings(ts_rows({"before": [50, 60], "during": [40, 44], "after": [45, 55]}))
    s = cpm_summary(df)
    assert s == {"ts_before": 55.0, "ts_during": 42.0, "ts_after": 50.0, "cpm_during": -13.0, "cpm_after": -5.0}
    assert cpm_summary(ratings(ts_rows({"before": [0]})))["cpm_after"] is None


def test_percent_is_never_infinite_for_any_small_baseline() -> None:
    """Tiny but non-zero baselines give finite percentages."""
    s = ts_cpm_scores(ratings(ts_rows({"before": [0.1], "after": [0.0]})))
    assert math.isfinite(s["cpm_late_pct"]) and s["cpm_late_pct"] == pytest.approx(-100.0)


def test_scores_do_not_depend_on_row_order() -> None:
    """Seeded shuffles of the ratings rows give identical scores."""
    df = ratings(ts_rows({"before": [51.3, 60.1, 47.9], "during": [40.2, 44.4], "after": [45.5, 55.5, None]}))
    expected = ts_cpm_scores(df)
    for seed in range(5):
        shuffled = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        got = ts_cpm_scores(shuffled)
        assert got.keys() == expected.keys()
        for k, v in expected.items():
            assert got[k] == pytest.approx(v) if isinstance(v, float) else got[k] == v, k
    assert isinstance(df, pd.DataFrame)
