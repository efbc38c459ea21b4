"""Calibration, heat pain threshold and cold-pressor PDT/PTT read from the structured events columns."""

from __future__ import annotations

import pytest
from scoring_helpers import events

from cpmlab.scoring.thresholds import calibration, cold_pressor_times, heat_pain_threshold


def test_calibrated_temperature_and_method_come_from_the_calibration_result_row() -> None:
    """calibration_result value 46.3, method staircase, fallback False; the detail text is not read."""
    row = {"onset": 5.0, "trial_type": "calibration_result", "value": 46.3, "method": "staircase", "fallback": False}
    ev = events([{**row, "detail": "fit to Pain-60"}])
    assert calibration(ev) == {"calibrated_c": 46.3, "calibration_method": "staircase", "calibration_fallback": False}
    fallback = events([{**row, "fallback": "True"}])  # as read back from the TSV text
    assert calibration(fallback)["calibration_fallback"] is True


def test_calibration_falls_back_to_a_calibration_variable() -> None:
    """Without a calibration_result row, a variable named like *calib* is used and named as the method."""
    ev = events(
        [
            {"onset": 1.0, "trial_type": "variable", "value": 45.5, "variable": "calibrated_ts_c"},
            {"onset": 2.0, "trial_type": "variable", "value": 3, "variable": "block_count"},
            {"onset": 3.0, "trial_type": "variable", "value": 47.0, "detail": "calibrated_in_detail"},
        ]
    )
    assert calibration(ev)["calibrated_c"] == 45.5
    assert calibration(ev)["calibration_method"] == "variable calibrated_ts_c"
    assert calibration(events([]))["calibrated_c"] is None


def test_heat_pain_threshold_is_recomputed_from_the_valid_trials() -> None:
    """Trials 43.0, 44.0, censored 49.0, discarded 41.0, n/a, 45.0 -> mean 44.0 over 3; recorded 44.0 agrees."""
    ev = events(
        [
            {"onset": 1, "trial_type": "threshold_trial", "value": 43.0, "censored": False},
            {"onset": 2, "trial_type": "threshold_trial", "value": 44.0, "detail": "invalid: words are not read"},
            {"onset": 3, "trial_type": "threshold_trial", "value": 49.0, "censored": "True"},
            {"onset": 3.5, "trial_type": "threshold_trial", "value": 41.0, "discarded": True},
            {"onset": 4, "trial_type": "threshold_trial", "value": None},
            {"onset": 5, "trial_type": "threshold_trial", "value": 45.0, "censored": "False"},
            {"onset": 6, "trial_type": "threshold_result", "value": 44.0},
        ]
    )
    h = heat_pain_threshold(ev)
    assert h["hpt_c"] == pytest.approx(44.0)
    assert (h["hpt_n_trials"], h["hpt_n_invalid"], h["hpt_result_mismatch"]) == (3, 3, False)


def test_threshold_result_that_disagrees_with_the_trials_is_flagged() -> None:
    """A recorded result of 45.0 against trials averaging 44.0 sets hpt_result_mismatch."""
    ev = events(
        [
            {"onset": 1, "trial_type": "threshold_trial", "value": 43.0},
            {"onset": 2, "trial_type": "threshold_trial", "value": 45.0},
            {"onset": 3, "trial_type": "threshold_result", "value": 45.0},
        ]
    )
    assert heat_pain_threshold(ev)["hpt_result_mismatch"] is True


def test_pdt_and_ptt_in_seconds_with_censoring_at_the_limit() -> None:
    """PDT 12.5 s (not censored); PTT at the 120 s limit is censored (censored column, not detail)."""
    ev = events(
        [
            {"onset": 100.0, "trial_type": "cold_pain_detection", "value": 12.5, "detail": "censored? no"},
            {"onset": 220.0, "trial_type": "cold_pain_tolerance", "value": 120.0, "censored": True},
        ]
    )
    assert cold_pressor_times(ev) == {"pdt_s": 12.5, "pdt_censored": False, "ptt_s": 120.0, "ptt_censored": True}


def test_censored_time_without_a_value_is_the_limit() -> None:
    """A censored detection row with value n/a takes its limit_s; without a limit it stays unknown."""
    ev = events([{"onset": 0.0, "trial_type": "cold_pain_detection", "value": None, "censored": True, "limit_s": 90.0}])
    assert cold_pressor_times(ev)["pdt_s"] == 90.0 and cold_pressor_times(ev)["pdt_censored"] is True
    no_limit = events([{"onset": 0.0, "trial_type": "cold_pain_detection", "value": None, "censored": True}])
    assert cold_pressor_times(no_limit)["pdt_s"] is None
    assert cold_pressor_times(events([]))["ptt_s"] is None
