"""Calibration, heat pain threshold and cold-pressor PDT/PTT read from events rows."""

from __future__ import annotations

import pytest
from scoring_helpers import events

from cpmlab.scoring.thresholds import calibration, cold_pressor_times, heat_pain_threshold


def test_calibrated_temperature_and_method_come_from_the_calibration_result_row() -> None:
    """calibration_result value 46.3 with detail 'staircase to Pain-60'."""
    ev = events([{"onset": 5.0, "trial_type": "calibration_result", "value": 46.3, "detail": "staircase to Pain-60"}])
    assert calibration(ev) == {"calibrated_c": 46.3, "calibration_method": "staircase to Pain-60"}


def test_calibration_falls_back_to_a_calibration_variable() -> None:
    """Without a calibration_result row, a variable named like *calib* is used and named as the method."""
    ev = events(
        [
            {"onset": 1.0, "trial_type": "variable", "value": 45.5, "detail": "calibrated_ts_c"},
            {"onset": 2.0, "trial_type": "variable", "value": 3, "detail": "block_count"},
        ]
    )
    assert calibration(ev) == {"calibrated_c": 45.5, "calibration_method": "variable calibrated_ts_c"}
    assert calibration(events([]))["calibrated_c"] is None


def test_heat_pain_threshold_is_recomputed_from_the_valid_trials() -> None:
    """Trials 43.0, 44.0, invalid 49.0, n/a, 45.0 -> mean 44.0 over 3; a recorded 44.0 does not mismatch."""
    ev = events(
        [
            {"onset": 1, "trial_type": "threshold_trial", "value": 43.0},
            {"onset": 2, "trial_type": "threshold_trial", "value": 44.0},
            {"onset": 3, "trial_type": "threshold_trial", "value": 49.0, "detail": "invalid: moved the arm"},
            {"onset": 4, "trial_type": "threshold_trial", "value": None, "detail": "no response"},
            {"onset": 5, "trial_type": "threshold_trial", "value": 45.0},
            {"onset": 6, "trial_type": "threshold_result", "value": 44.0},
        ]
    )
    h = heat_pain_threshold(ev)
    assert h["hpt_c"] == pytest.approx(44.0)
    assert (h["hpt_n_trials"], h["hpt_n_invalid"], h["hpt_result_mismatch"]) == (3, 2, False)


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
    """PDT 12.5 s (not censored); PTT at the 120 s limit is censored."""
    ev = events(
        [
            {"onset": 100.0, "trial_type": "cold_pain_detection", "value": 12.5},
            {"onset": 220.0, "trial_type": "cold_pain_tolerance", "value": 120.0, "detail": "censored at the limit"},
        ]
    )
    assert cold_pressor_times(ev) == {"pdt_s": 12.5, "pdt_censored": False, "ptt_s": 120.0, "ptt_censored": True}


def test_censored_time_without_a_value_uses_the_row_duration() -> None:
    """A censored tolerance row with value n/a takes its duration (the limit)."""
    ev = events(
        [
            {
                "onset": 0.0,
                "duration": 90.0,
                "trial_type": "cold_pain_tolerance",
                "value": None,
                "detail": "censored at the limit",
            }
        ]
    )
    assert cold_pressor_times(ev)["ptt_s"] == 90.0
    assert cold_pressor_times(events([]))["ptt_s"] is None
