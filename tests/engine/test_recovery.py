"""Procedures recover known parameters of simulated participants across seeds; stop rules hold."""

from __future__ import annotations

import statistics

import pytest
from helpers import make_run
from recovery import CALIBRATION, THRESHOLD, across_seeds, recover_calibration, recover_threshold

from cpmlab.core import events as ev
from cpmlab.engine import SessionOutcome
from cpmlab.participant.simulated import ParticipantModel

SEEDS = range(20)
# Stated tolerances: every seed within these of the true value (C).
TOLERANCE_C = {"staircase": 1.0, "ascending": 1.0, "fit": 1.0, "bayesian": 1.0, "threshold": 1.0}


@pytest.mark.parametrize("method", ["staircase", "ascending", "fit", "bayesian"])
def test_calibration_recovers_pain60_across_20_seeds(method: str) -> None:
    """Each method finds the temperature rated 60/100 within 1 C for 20 different participants."""
    results = across_seeds(recover_calibration, SEEDS, method=method)
    errors = [r.error_c for r in results]
    assert None not in errors, results
    print(f"\n{method}: mean error {statistics.mean(errors):+.2f} C, max |error| {max(map(abs, errors)):.2f} C")
    assert max(abs(e) for e in errors) <= TOLERANCE_C[method], results


def test_heat_pain_threshold_recovers_the_threshold_across_20_seeds() -> None:
    """The method of limits (1 C/s) finds each participant's threshold within 1 C."""
    results = across_seeds(recover_threshold, SEEDS)
    errors = [r.error_c for r in results]
    assert None not in errors, results
    print(f"\nthreshold: mean error {statistics.mean(errors):+.2f} C, max |error| {max(map(abs, errors)):.2f} C")
    assert max(abs(e) for e in errors) <= TOLERANCE_C["threshold"], results


def delivered(run) -> list[float]:
    return [e.data["target_c"] for e in run.of(ev.STIMULUS, stage="ramp_start")]


@pytest.mark.parametrize("method", ["staircase", "ascending", "fit", "bayesian"])
def test_always_zero_never_pushes_past_the_ceiling_or_the_limit(method: str) -> None:
    """A participant who always rates 0 cannot drive the calibration above the ceiling."""
    run = make_run(
        f"steps:\n  - {CALIBRATION[method]}\n", speed=80, model=ParticipantModel(fixed_rating=0.0), rate_hz=400
    )
    run.engine.run()
    assert max(delivered(run)) <= 49.0
    assert all(c[1].target_c <= 49.0 for c in run.thermode.calls if c[0] == "stimulate")


@pytest.mark.parametrize("method", ["staircase", "ascending", "fit", "bayesian"])
def test_always_100_stops_at_the_first_rating_at_the_stop_value(method: str) -> None:
    """A participant who always rates 100 ends the series after one stimulus."""
    run = make_run(
        f"steps:\n  - {CALIBRATION[method]}\n", speed=80, model=ParticipantModel(fixed_rating=100.0), rate_hz=400
    )
    run.engine.run()
    assert len(delivered(run)) == 1
    result = run.of(ev.MEASURE, measure="calibration_result")
    assert result and result[0].data["stopped_by"] == "stop rating reached"


@pytest.mark.parametrize("method", ["staircase", "bayesian"])
def test_never_answering_ends_the_calibration_and_the_session_without_a_made_up_value(method: str) -> None:
    """Two missing ratings end the series; with no fallback the session fails safely before any CPM step."""
    body = f"steps:\n  - {CALIBRATION[method]}\n  - {{type: thermal, id: ts, target_c: '${{ts_c}}', plateau_s: 5}}\n"
    run = make_run(body, speed=80, model=ParticipantModel(answers=False), rate_hz=400)
    assert run.engine.run() == SessionOutcome.FAILED
    assert len(delivered(run)) == 2
    assert "ts_c" not in run.engine.variables


@pytest.mark.parametrize("method", ["staircase", "bayesian"])
def test_fallback_temperature_is_used_and_flagged_when_calibration_fails(method: str) -> None:
    """With fallback_c the session goes on at that temperature and the result says it is a fallback."""
    step = CALIBRATION[method].replace("rating_timeout_s: 10}", "rating_timeout_s: 10, fallback_c: 45}")
    run = make_run(f"steps:\n  - {step}\n", speed=80, model=ParticipantModel(answers=False), rate_hz=400)
    assert run.engine.run() == SessionOutcome.COMPLETED
    result = run.of(ev.MEASURE, measure="calibration_result")[0]
    assert result.data["value"] == 45.0 and result.data["fallback"] is True
    assert run.engine.variables["ts_c"] == 45.0


def test_threshold_without_responses_is_censored_at_the_cutoff() -> None:
    """Nobody presses: every ramp stops at the cut-off (device-timed) and the result is censored."""
    run = make_run(f"steps:\n  - {THRESHOLD}\n", speed=40, model=ParticipantModel(answers=False), rate_hz=400)
    assert run.engine.run() == SessionOutcome.COMPLETED
    trials = run.of(ev.MEASURE, measure="threshold_trial")
    assert len(trials) == 4 and all(t.data["censored"] for t in trials)
    assert run.of(ev.MEASURE, measure="threshold_result")[0].data["censored"] is True
    assert max(r.data["zones_c"][0] for r in run.of(ev.READING, device="thermode")) <= 49.05


def test_bayesian_journals_its_estimate_and_interval_after_every_answered_trial() -> None:
    """One calibration_estimate measure per answered trial, with typed fields: value, CI, level, slope, noise."""
    model = ParticipantModel(pain_threshold_c=43.0, slope_vas_per_c=13.0, noise_sd_vas=4.0, cpm_effect_vas=0.0)
    run = make_run(f"steps:\n  - {CALIBRATION['bayesian']}\n", speed=80, model=model, rate_hz=400)
    assert run.engine.run() == SessionOutcome.COMPLETED
    trials = run.of(ev.MEASURE, measure="calibration_trial")
    estimates = run.of(ev.MEASURE, measure="calibration_estimate")
    assert len(estimates) == len(trials) >= 2
    assert [e.data["trial"] for e in estimates] == list(range(1, len(trials) + 1))
    for e in estimates:
        d = e.data
        assert d["ci_low_c"] <= d["value"] <= d["ci_high_c"] and d["ci_level"] == 0.95 and d["unit"] == "degC"
        assert d["slope_vas_per_c"] > 0 and d["noise_sd_vas"] > 0
    result = run.of(ev.MEASURE, measure="calibration_result")[0].data
    assert result["ci_low_c"] <= result["value"] <= result["ci_high_c"]
    assert result["value"] == round(estimates[-1].data["value"], 1)  # the runner rounds to 0.1 C
    assert abs(result["value"] - model.pain60_c) <= 1.0
