"""Bayesian Pain-X search as a state machine: recovery, precision stop, safety rules, adversarial raters."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cpmlab.engine.bayes import BayesianSearch
from cpmlab.engine.calibration_methods import make_procedure
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant
from cpmlab.protocol.model import Calibration

LIMIT_C = 49.0


def cal(**fields: object) -> Calibration:
    base = {
        "type": "calibration",
        "variable": "t",
        "target_rating": 60,
        "method": "bayesian",
        "stop_rating": 85,
        "floor_c": 40,
        "ceiling_c": 49,
        "max_trials": 12,
    }
    return Calibration.model_validate({**base, **fields})


def run(proc: BayesianSearch, respond) -> list[float]:
    """Drive the procedure; check before every trial that its temperature is inside limits and safe enough."""
    temps = []
    while (t := proc.next_temperature()) is not None:
        assert proc.floor_c <= t <= min(proc.step.ceiling_c, LIMIT_C)
        assert proc.stop_risk(np.array([t]))[0] <= proc.step.max_stop_risk + 1e-12
        temps.append(t)
        proc.record(t, respond(t))
    return temps


def simulated(label: str, profile: str = "typical") -> tuple[ParticipantModel, SimulatedParticipant]:
    model = ParticipantModel.from_population(label, profile)
    return model, SimulatedParticipant(model, seed=len(label))


def test_make_procedure_builds_the_bayesian_search() -> None:
    """method: bayesian selects BayesianSearch, with the session limit capping the ceiling."""
    proc = make_procedure(cal(ceiling_c=50), 48.5, 100, random.Random(0))
    assert isinstance(proc, BayesianSearch) and proc.ceiling_c == 48.5 and proc.candidates.max() <= 48.5


@pytest.mark.parametrize("label", [f"p{i:02d}" for i in range(12)])
def test_recovers_pain60_of_simulated_participants_with_few_stimuli(label: str) -> None:
    """Typical participants: within 0.6 C of the true Pain-60, ended by the precision target in at most 10 trials."""
    model, sim = simulated(label)
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    temps = run(proc, sim.heat_rating)
    result = proc.result()
    assert result.stopped_by == "precision reached" and len(temps) <= 10
    assert result.value_c is not None and abs(result.value_c - model.pain60_c) <= 0.6
    assert result.ci_low_c is not None and result.ci_high_c is not None
    assert result.ci_high_c - result.ci_low_c <= 1.0 + 1e-9
    assert result.ci_low_c <= result.value_c <= result.ci_high_c


def test_the_running_estimate_and_interval_are_reported_after_each_answered_trial() -> None:
    """progress() is None before any rating, then gives an estimate inside its credible interval."""
    _, sim = simulated("p03")
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    assert proc.progress() is None
    widths = []
    while (t := proc.next_temperature()) is not None:
        proc.record(t, sim.heat_rating(t))
        report = proc.progress()
        assert report is not None and report["ci_low_c"] <= report["estimate_c"] <= report["ci_high_c"]
        assert report["ci_level"] == 0.95
        widths.append(report["ci_high_c"] - report["ci_low_c"])
    assert widths[-1] < widths[0]


def test_the_full_rating_is_used_not_only_above_or_below_the_target() -> None:
    """Ratings 65 and 95 at the same temperature are both above 60 but move the estimate differently."""
    mild, strong = (
        BayesianSearch(cal(stop_rating=100), LIMIT_C, 100),
        BayesianSearch(cal(stop_rating=100), LIMIT_C, 100),
    )
    mild.record(45.0, 65.0)
    strong.record(45.0, 95.0)
    assert strong.progress()["estimate_c"] < mild.progress()["estimate_c"] - 0.3  # type: ignore[index]


def test_nrs_ratings_are_scaled_to_0_100() -> None:
    """An NRS 6 (of 10) updates the posterior exactly like a VAS 60."""
    vas, nrs = BayesianSearch(cal(), LIMIT_C, 100), BayesianSearch(cal(scale="nrs"), LIMIT_C, 10)
    vas.record(45.0, 60.0)
    nrs.record(45.0, 6.0)
    assert vas.progress() == nrs.progress()


def test_the_first_temperature_is_cautious_under_the_prior() -> None:
    """Before any rating, the chosen temperature has at most max_stop_risk chance of a stop rating."""
    proc = BayesianSearch(cal(max_stop_risk=0.01), LIMIT_C, 100)
    first = proc.next_temperature()
    assert first is not None and first < 46.0
    assert proc.stop_risk(np.array([first]))[0] <= 0.01


def test_insensitive_participant_ends_censored_at_the_ceiling() -> None:
    """Pain-60 above the limit: never past the ceiling; result = ceiling, flagged censored."""
    model, sim = simulated("p01", "insensitive")
    assert model.pain60_c > LIMIT_C
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    temps = run(proc, sim.heat_rating)
    result = proc.result()
    assert max(temps) <= LIMIT_C and result.value_c == LIMIT_C and result.censored


@pytest.mark.parametrize("label", ["p01", "p02", "p03", "p04"])
def test_sensitive_participant_is_found_without_a_stop_rating(label: str) -> None:
    """Pain-60 of 41.5-43 C (the prior expects 46 C): cautious first stimuli, the estimate close to the truth."""
    model, sim = simulated(label, "sensitive")
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    run(proc, sim.heat_rating)
    value = proc.result().value_c
    assert all(r is not None and r < 85 for _, r in proc.trials)
    assert value is not None and abs(value - model.pain60_c) <= 0.8


# -- adversarial raters ---------------------------------------------------------------------------
def test_always_zero_never_passes_the_ceiling_and_is_censored() -> None:
    """A rater who always answers 0 cannot drive it past the ceiling; the result is the ceiling, censored."""
    proc = BayesianSearch(cal(ceiling_c=47), LIMIT_C, 100)
    temps = run(proc, lambda t: 0.0)
    assert max(temps) <= 47.0 and len(temps) <= 12
    result = proc.result()
    assert result.value_c == 47.0 and result.censored


def test_always_100_stops_after_one_stimulus_without_a_result() -> None:
    """The first rating is at the stop rating: the series ends and nothing rated below it exists."""
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    assert len(run(proc, lambda t: 100.0)) == 1
    assert proc.stopped_by == "stop rating reached" and proc.result().value_c is None


def test_never_answering_stops_after_max_missing_without_a_result() -> None:
    """max_missing unanswered ratings end the series; no temperature is made up."""
    proc = BayesianSearch(cal(max_missing=2), LIMIT_C, 100)
    assert len(run(proc, lambda t: None)) == 2
    assert proc.stopped_by == "no answers" and proc.result().value_c is None


@pytest.mark.parametrize("seed", range(10))
def test_random_rater_keeps_every_limit_and_stop_rule(seed: int) -> None:
    """Uniform random ratings: within the limits, ended by a stop rule, never a result at or above a stop-rated temperature."""
    rng = random.Random(seed)
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    temps = run(proc, lambda t: round(rng.uniform(0, 100), 1))
    assert 1 <= len(temps) <= 12 and proc.stopped_by is not None
    assert sum(r >= 85 for _, r in proc.trials if r is not None) <= 1  # the first stop rating ends it
    result = proc.result()
    stopped = [t for t, r in proc.trials if r is not None and r >= 85]
    if result.value_c is not None:
        assert 40.0 <= result.value_c <= LIMIT_C
        assert not stopped or result.value_c < min(stopped)


def test_result_is_capped_below_a_stop_rated_temperature() -> None:
    """After a stop rating at 46 C the result stays below 46 C even if the estimate lies above it."""
    proc = BayesianSearch(cal(), LIMIT_C, 100)
    for temp_c, rating in ((44.0, 20.0), (45.0, 30.0), (46.0, 90.0)):
        proc.record(temp_c, rating)
    result = proc.result()
    assert proc.stopped_by == "stop rating reached"
    assert result.value_c is not None and result.value_c <= 45.0


# -- protocol model ----------------------------------------------------------------------------------
def test_bayesian_fields_with_another_method_are_refused() -> None:
    """prior_mean_c, ci_width_c, ... with method staircase give a clear error."""
    with pytest.raises(ValueError, match="apply only to method: bayesian"):
        cal(method="staircase", ci_width_c=0.5)


@pytest.mark.parametrize(
    ("field", "value"),
    [("prior_mean_c", 30.0), ("ci_width_c", 0.1), ("ci_level", 1.0), ("max_stop_risk", 0.0), ("prior_sd_c", 0.1)],
)
def test_bad_bayesian_parameters_are_refused(field: str, value: float) -> None:
    """Out-of-range Bayesian parameters fail validation."""
    with pytest.raises(ValueError):
        cal(**{field: value})
