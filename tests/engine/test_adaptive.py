"""Calibration procedures as state machines: staircase halving and stopping rule, ascending stop rules, line fit."""

from __future__ import annotations

import itertools
import random

import pytest

from cpmlab.engine.adaptive import Ascending, FitSeries, Staircase
from cpmlab.protocol.model import Calibration


def cal(**fields: object) -> Calibration:
    base = {"type": "calibration", "variable": "t", "target_rating": 60, "method": "staircase"}
    return Calibration.model_validate({**base, **fields})


def run(proc, respond) -> list[float]:
    temps = []
    while (t := proc.next_temperature()) is not None:
        temps.append(t)
        proc.record(t, respond(t))
    return temps


def linear(threshold: float = 43.0, slope: float = 12.0):
    return lambda t: max(0.0, min(100.0, slope * (t - threshold) + 10.0 * (t > threshold)))


def test_staircase_halves_the_step_at_each_reversal_and_averages_the_reversals() -> None:
    """Up below the target, down at or above it; step halves per reversal; result = mean of reversals."""
    proc = Staircase(cal(start_c=44, step_c=2, reversals=4, min_step_c=0.1, ceiling_c=50), 50, 100)
    temps = run(proc, linear())
    assert temps[:4] == [44.0, 46.0, 48.0, 47.0]  # 48 is the first at/above 60 -> reversal, step 1
    result = proc.result()
    assert proc.stopped_by == "reversals" and len(result.reversals_c) == 4
    assert result.value_c == pytest.approx(sum(result.reversals_c) / 4)
    assert abs(result.value_c - (43 + 50 / 12)) < 0.6


def test_staircase_honours_the_reversal_count_with_the_step_floored_at_min_step() -> None:
    """With 1 C steps, min_step 0.25 and 4 reversals it stops after the 4th reversal, not the 3rd."""
    proc = Staircase(cal(start_c=44, step_c=1, min_step_c=0.25, reversals=4, max_trials=30), 50, 100)
    temps = run(proc, linear())
    assert proc.stopped_by == "reversals" and len(proc.reversals_c) == 4
    assert proc.step_c == 0.25  # halved 1 -> 0.5 -> 0.25, then held at the minimum
    steps = {round(abs(b - a), 1) for a, b in itertools.pairwise(temps)}
    assert min(steps) >= 0.2  # moves are never smaller than the minimum step (rounded to 0.1 C)


def test_staircase_reversal_count_of_six_is_reached_too() -> None:
    """A larger reversal count keeps the series going at the minimum step until it is reached."""
    proc = Staircase(cal(start_c=44, step_c=1, min_step_c=0.25, reversals=6, max_trials=30), 50, 100)
    run(proc, linear())
    assert proc.stopped_by == "reversals" and len(proc.reversals_c) == 6


def test_staircase_max_trials_ends_before_the_reversals() -> None:
    """max_trials bounds the series even when too few reversals have happened."""
    proc = Staircase(cal(start_c=44, step_c=1, min_step_c=0.25, reversals=10, max_trials=7), 50, 100)
    assert len(run(proc, linear())) == 7 and proc.stopped_by == "maximum trials"


def test_staircase_ending_on_the_stop_rating_without_reversals_returns_the_last_temperature_below_it() -> None:
    """44 -> 30, 45 -> 50, 46 -> 95: stopped at 46, the result is 45 (never the stop-rated 46)."""
    ratings = {44.0: 30.0, 45.0: 50.0, 46.0: 95.0}
    proc = Staircase(cal(start_c=44, step_c=1, stop_rating=85), 50, 100)
    assert run(proc, ratings.__getitem__) == [44.0, 45.0, 46.0]
    result = proc.result()
    assert result.stopped_by == "stop rating reached" and result.value_c == 45.0


def test_staircase_result_is_capped_below_a_stop_rated_temperature() -> None:
    """Reversal at 47 C, then 46.5 C rated 90: the mean of reversals (47) is capped at 46 C, rated below stop."""
    ratings = {46.0: 40.0, 47.0: 70.0, 46.5: 90.0}
    proc = Staircase(cal(start_c=46, step_c=1, stop_rating=85), 50, 100)
    assert run(proc, ratings.__getitem__) == [46.0, 47.0, 46.5]
    result = proc.result()
    assert result.reversals_c == [47.0]  # the stop-rated trial is no reversal
    assert result.value_c == 46.0


def test_staircase_stop_rating_on_the_first_trial_gives_no_result() -> None:
    """No temperature was rated below the stop rating: there is nothing safe to return."""
    proc = Staircase(cal(start_c=44, stop_rating=80), 50, 100)
    run(proc, lambda t: 100.0)
    assert proc.result().value_c is None


@pytest.mark.parametrize("seed", range(30))
def test_staircase_never_returns_a_temperature_at_or_above_a_stop_rated_one(seed: int) -> None:
    """Noisy raters with a low stop rating: the result stays below every temperature rated at or above it."""
    rng = random.Random(seed)
    rater = linear(threshold=rng.uniform(41, 44), slope=rng.uniform(8, 18))
    proc = Staircase(cal(start_c=44, step_c=1, stop_rating=70, reversals=4, max_trials=12), 49, 100)
    run(proc, lambda t: min(100.0, max(0.0, rater(t) + rng.gauss(0, 8))))
    value = proc.result().value_c
    stopped = [t for t, r in proc.trials if r is not None and r >= 70]
    if value is not None and stopped:
        assert value < min(stopped)


def test_staircase_never_leaves_floor_and_ceiling() -> None:
    """A participant who always rates 0 pushes the staircase only up to the ceiling."""
    proc = Staircase(cal(start_c=44, step_c=2, ceiling_c=47, max_trials=8), 49, 100)
    temps = run(proc, lambda t: 0.0)
    assert max(temps) == 47.0 and len(temps) == 8
    assert proc.stopped_by == "maximum trials"


def test_session_limit_caps_the_ceiling() -> None:
    """A session limit below the step's ceiling wins."""
    proc = Staircase(cal(start_c=44, step_c=2, ceiling_c=50, max_trials=8), 45.5, 100)
    assert max(run(proc, lambda t: 0.0)) == 45.5


def test_stop_rating_ends_the_series_at_once() -> None:
    """Any rating at or above stop_rating ends the series (here the very first)."""
    proc = Staircase(cal(start_c=44, stop_rating=80), 50, 100)
    assert run(proc, lambda t: 100.0) == [44.0]
    assert proc.stopped_by == "stop rating reached"


def test_missing_answers_end_the_series_without_a_result() -> None:
    """max_missing unanswered ratings in a row end the series; no temperature is made up."""
    proc = Staircase(cal(start_c=44, max_missing=2), 50, 100)
    assert len(run(proc, lambda t: None)) == 2
    assert proc.result().value_c is None and proc.stopped_by == "no answers"


def test_nrs_ratings_are_compared_on_the_0_100_scale() -> None:
    """With an NRS (0-10), a 6 meets a target of 60."""
    proc = Ascending(cal(method="ascending", start_c=44, step_c=1, scale="nrs"), 50, 10)
    run(proc, lambda t: 6.0 if t >= 46 else 2.0)
    assert proc.stopped_by == "target reached" and proc.result().value_c == pytest.approx(46.0)


def test_ascending_interpolates_between_the_last_two_temperatures() -> None:
    """Ratings 40 at 45 C and 80 at 46 C give 45.5 C for a target of 60."""
    ratings = {44.0: 20.0, 45.0: 40.0, 46.0: 80.0}
    proc = Ascending(cal(method="ascending", start_c=44, step_c=1, stop_rating=90), 50, 100)
    assert run(proc, ratings.__getitem__) == [44.0, 45.0, 46.0]
    assert proc.result().value_c == pytest.approx(45.5)


def test_ascending_that_reaches_the_ceiling_is_censored() -> None:
    """Never reaching the target: result is the ceiling, flagged as censored."""
    proc = Ascending(cal(method="ascending", start_c=44, step_c=1, ceiling_c=46), 50, 100)
    run(proc, lambda t: 10.0)
    result = proc.result()
    assert result.value_c == 46.0 and result.censored and proc.stopped_by == "ceiling reached"


def test_fit_solves_the_least_squares_line_for_the_target() -> None:
    """Exact linear ratings give the exact crossing; every temperature is rated, in shuffled order."""
    temps = (43.0, 44.0, 45.0, 46.0, 47.0)
    proc = FitSeries(cal(method="fit", temperatures=temps, repeats=2, stop_rating=100), 50, 100, random.Random(1))
    order = run(proc, lambda t: 15.0 * (t - 42.0))
    assert sorted(order) == sorted(temps * 2) and order != sorted(order)
    result = proc.result()
    assert result.slope_per_c == pytest.approx(15.0) and result.value_c == pytest.approx(46.0)


def test_fit_with_flat_ratings_gives_no_result() -> None:
    """Ratings that do not rise with temperature give no temperature rather than a wild one."""
    proc = FitSeries(cal(method="fit", temperatures=(44.0, 46.0)), 50, 100, random.Random(0))
    run(proc, lambda t: 30.0)
    assert proc.result().value_c is None
