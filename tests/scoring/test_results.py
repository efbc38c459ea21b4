"""Run results from the journal: calibration with uncertainty, threshold, PDT/PTT with censoring, early ends."""

from __future__ import annotations

import pandas as pd
import pytest

from cpmlab.scoring.results import format_results, format_run_summary, run_results


def end(outcome: str = "completed") -> dict:
    return {"kind": "session_end", "t": 9.0, "outcome": outcome}


def test_staircase_result_shows_the_sd_of_its_reversals() -> None:
    """A staircase result of 46.0 from reversals 45.5, 46.5, 45.5, 46.5 shows ± their SD (0.58 °C)."""
    rec = {
        "kind": "measure",
        "t": 1.0,
        "measure": "calibration_result",
        "value": 46.0,
        "variable": "ts_target_c",
        "method": "staircase",
        "reversals_c": [45.5, 46.5, 45.5, 46.5],
        "stopped_by": "reversals",
    }
    results = run_results([rec, end()])
    assert results.calibrations[0].uncertainty_c == pytest.approx(0.57735, abs=1e-4)
    assert "calibrated ts_target_c: 46.0 °C ± 0.58 °C (SD of 4 reversals)" in format_results(results)


def test_line_fit_result_shows_the_standard_error_of_the_inverse_prediction() -> None:
    """Ratings exactly on a line give SE 0; scattered ratings give a positive SE in °C."""
    exact = [[44.0, 20.0], [45.0, 40.0], [46.0, 60.0], [47.0, 80.0]]
    rec = {
        "kind": "measure",
        "t": 1.0,
        "measure": "calibration_result",
        "value": 46.0,
        "method": "fit",
        "trials": exact,
    }
    assert run_results([rec, end()]).calibrations[0].uncertainty_c == pytest.approx(0.0, abs=1e-9)
    noisy = [[44.0, 25.0], [45.0, 35.0], [46.0, 65.0], [47.0, 75.0], [45.0, None]]
    cal = run_results([{**rec, "trials": noisy}, end()]).calibrations[0]
    assert cal.uncertainty_c is not None and 0.1 < cal.uncertainty_c < 1.0
    assert cal.uncertainty_kind == "SE of the line fit over 4 ratings"


def test_fallback_and_no_result_are_marked() -> None:
    """A fallback value is marked FALLBACK with no uncertainty; a calibration that found nothing says so."""
    rec = {
        "kind": "measure",
        "t": 1.0,
        "measure": "calibration_result",
        "value": 45.0,
        "method": "staircase",
        "fallback": True,
        "reversals_c": [44.0, 46.0],
    }
    text = format_results(run_results([rec, end()]))
    assert "FALLBACK" in text and "±" not in text
    none = {**rec, "value": None, "fallback": False, "stopped_by": "no answers"}
    assert "no temperature found (no answers)" in format_results(run_results([none, end("failed")]))


def test_threshold_and_cold_pressor_times_with_censoring() -> None:
    """HPT shows its valid trials; a PTT that hit the limit is marked censored, a PDT that did not is not."""
    records = [
        {"kind": "measure", "t": 1.0, "measure": "threshold_result", "value": 44.25, "n_valid": 3, "n_trials": 4},
        {
            "kind": "measure",
            "t": 2.0,
            "measure": "cold_pain_detection",
            "value": 12.5,
            "censored": False,
            "limit_s": 180,
        },
        {"kind": "measure", "t": 3.0, "measure": "cold_pain_tolerance", "value": 180, "censored": True, "limit_s": 180},
        end(),
    ]
    text = format_results(run_results(records))
    assert "heat pain threshold: 44.25 °C (mean of 3 valid of 4 trials)" in text
    assert "cold pain detection time: 12.5 s\n" in text
    assert "cold pain tolerance time: 180.0 s (censored at the 180 s limit)" in text


def test_an_early_end_says_where_and_why() -> None:
    """An aborted run names the step that was running and the operator's reason; a completed run says nothing."""
    records = [
        {"kind": "step_start", "t": 1.0, "step_id": "cs"},
        {"kind": "control", "t": 2.0, "action": "abort", "source": "operator", "reason": "participant felt faint"},
        end("aborted"),
    ]
    assert format_results(run_results(records)) == "ENDED EARLY (aborted) at step cs: participant felt faint (operator)"
    assert format_results(run_results([records[0], end()])) == ""


def test_run_summary_adds_the_cpm_lines_only_when_test_stimuli_were_rated() -> None:
    """A threshold-only run shows no 'test stimulus rating' lines; a CPM run shows the effect."""
    hpt = [{"kind": "measure", "t": 1.0, "measure": "threshold_result", "value": 44.0}, end()]
    assert "test stimulus" not in format_run_summary(pd.DataFrame(), hpt)
    ratings = pd.DataFrame(
        {
            "about": ["heat"] * 2,
            "role": ["test_stimulus"] * 2,
            "phase": ["before", "after"],
            "scale": ["vas"] * 2,
            "scale_max": [100, 100],
            "rating": [50.0, 40.0],
        }
    )
    assert "CPM effect (after - before): -10.0" in format_run_summary(ratings, [end()])
