"""Adaptive calibration procedures as pure state machines (no devices, no clock).

Each procedure proposes the next test temperature, takes the rating it got (None when the
participant did not answer), and in the end states its result. The step runner delivers
the heat and collects the ratings; tests drive these classes directly too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from cpmlab.protocol.model import Calibration


@dataclass
class CalibrationResult:
    """What a calibration found and how."""

    method: str
    value_c: float | None
    stopped_by: str
    trials: list[tuple[float, float | None]] = field(default_factory=list)
    reversals_c: list[float] = field(default_factory=list)
    slope_per_c: float | None = None
    intercept: float | None = None
    censored: bool = False  # reached the ceiling without reaching the target
    ci_low_c: float | None = None  # credible interval of the result (bayesian)
    ci_high_c: float | None = None

    def details(self) -> dict[str, object]:
        """Return a JSON-able summary for the journal."""
        out: dict[str, object] = {
            "method": self.method,
            "stopped_by": self.stopped_by,
            "trials": self.trials,
            "reversals_c": self.reversals_c,
            "slope_per_c": self.slope_per_c,
            "intercept": self.intercept,
            "censored": self.censored,
        }
        if self.ci_low_c is not None:
            out.update(ci_low_c=self.ci_low_c, ci_high_c=self.ci_high_c)
        return out


class Procedure:
    """Common bookkeeping: trials, missing answers and the stop rating."""

    def __init__(self, step: Calibration, ceiling_c: float, scale_max: float) -> None:
        self.step = step
        self.ceiling_c = min(step.ceiling_c, ceiling_c)
        self.floor_c = step.floor_c
        self.to_vas = 100.0 / scale_max  # ratings are compared on a 0-100 scale
        self.trials: list[tuple[float, float | None]] = []
        self.missing_in_row = 0
        self.stopped_by: str | None = None

    def clamp(self, temp_c: float) -> float:
        """Keep a temperature inside [floor, ceiling], rounded to 0.1 C as devices take it."""
        return round(min(max(temp_c, self.floor_c), self.ceiling_c), 1)

    def record(self, temp_c: float, rating: float | None) -> None:
        """Take the rating of the trial at temp_c (None: no answer)."""
        self.trials.append((temp_c, rating))
        if rating is None:
            self.missing_in_row += 1
            if self.missing_in_row >= self.step.max_missing:
                self.stopped_by = "no answers"
            return
        self.missing_in_row = 0
        if rating * self.to_vas >= self.step.stop_rating:
            self.stopped_by = "stop rating reached"
        self.update(temp_c, rating * self.to_vas)
        if self.stopped_by is None and len(self.trials) >= self.step.trial_count():
            self.stopped_by = "maximum trials"

    def update(self, temp_c: float, vas: float) -> None:
        """Adapt to an answered trial (subclasses)."""

    def vas_trials(self) -> list[tuple[float, float]]:
        """Return the answered trials as (temperature, rating on 0-100)."""
        return [(t, r * self.to_vas) for t, r in self.trials if r is not None]

    def below_stop(self, value_c: float | None) -> float | None:
        """Cap a result below every temperature rated at or above the stop rating.

        The cap is the hottest temperature rated below the stop rating that is cooler than
        the coolest stop-rated one; with no such temperature there is no result (None).
        """
        answered = self.vas_trials()
        stopped = [t for t, v in answered if v >= self.step.stop_rating]
        if value_c is None or not stopped:
            return value_c
        safe = [t for t, v in answered if v < self.step.stop_rating and t < min(stopped)]
        return min(value_c, max(safe)) if safe else None

    def progress(self) -> dict[str, float] | None:
        """Return the running estimate after the last trial (methods that keep one), else None."""
        return None

    def next_temperature(self) -> float | None:
        """Return the next temperature to test, or None when the series is over."""
        raise NotImplementedError

    def result(self) -> CalibrationResult:
        """Return the result of the series."""
        raise NotImplementedError


class Staircase(Procedure):
    """Up when below the target, down when at or above it; the step halves at each reversal.

    Stopping rule: the series ends after ``reversals`` reversals, after ``max_trials``
    trials, at the first rating at or above ``stop_rating`` or after ``max_missing``
    unanswered ratings in a row. The step halves at each reversal but never below
    ``min_step_c``, so the step size never ends the series and the reversal count is honoured.
    Result: the mean of the reversal temperatures (or, with none, the last temperature rated);
    a stop-rated trial is no reversal, and the result is capped below it (``below_stop``).
    """

    def __init__(self, step: Calibration, ceiling_c: float, scale_max: float) -> None:
        super().__init__(step, ceiling_c, scale_max)
        self.current_c = self.clamp(step.start_c)
        self.step_c = step.step_c
        self.direction = 0
        self.reversals_c: list[float] = []

    def update(self, temp_c: float, vas: float) -> None:
        if vas >= self.step.stop_rating:
            return  # the series is over; this trial counts as no reversal
        direction = 1 if vas < self.step.target_rating else -1
        if self.direction and direction != self.direction:
            self.reversals_c.append(temp_c)
            self.step_c = max(self.step_c / 2, self.step.min_step_c)
        self.direction = direction
        if len(self.reversals_c) >= self.step.reversals:
            self.stopped_by = self.stopped_by or "reversals"
        self.current_c = self.clamp(temp_c + direction * self.step_c)

    def next_temperature(self) -> float | None:
        return None if self.stopped_by else self.current_c

    def result(self) -> CalibrationResult:
        answered = [(t, v) for t, v in self.vas_trials() if v < self.step.stop_rating]
        value: float | None = None
        if self.reversals_c:
            value = float(np.mean(self.reversals_c))
        elif answered and self.stopped_by != "no answers":
            value = answered[-1][0]  # never reversed: the last temperature rated below the stop rating
        value = self.below_stop(value)
        return CalibrationResult("staircase", value, self.stopped_by or "ended", self.trials, self.reversals_c)


class Ascending(Procedure):
    """Up from start_c by step_c until a rating reaches the target (or the ceiling is reached)."""

    def __init__(self, step: Calibration, ceiling_c: float, scale_max: float) -> None:
        super().__init__(step, ceiling_c, scale_max)
        self.current_c: float | None = self.clamp(step.start_c)

    def update(self, temp_c: float, vas: float) -> None:
        if vas >= self.step.target_rating:
            self.stopped_by = self.stopped_by or "target reached"
        elif temp_c >= self.ceiling_c:
            self.stopped_by = self.stopped_by or "ceiling reached"
        else:
            self.current_c = self.clamp(temp_c + self.step.step_c)

    def next_temperature(self) -> float | None:
        return None if self.stopped_by else self.current_c

    def result(self) -> CalibrationResult:
        answered = [(t, r * self.to_vas) for t, r in self.trials if r is not None]
        target = self.step.target_rating
        if not answered or self.stopped_by == "no answers":
            return CalibrationResult("ascending", None, self.stopped_by or "ended", self.trials)
        last_t, last_v = answered[-1]
        if last_v < target:  # ceiling or trials ran out below the target
            return CalibrationResult("ascending", last_t, self.stopped_by or "ended", self.trials, censored=True)
        below = [(t, v) for t, v in answered if v < target]
        if not below:
            return CalibrationResult("ascending", last_t, self.stopped_by or "ended", self.trials)
        t0, v0 = below[-1]
        value = t0 + (target - v0) * (last_t - t0) / (last_v - v0) if last_v != v0 else last_t
        return CalibrationResult("ascending", float(value), self.stopped_by or "ended", self.trials)


class FitSeries(Procedure):
    """Rate a fixed set of temperatures in random order; fit rating = a + b * T; solve for the target."""

    def __init__(self, step: Calibration, ceiling_c: float, scale_max: float, rng: random.Random) -> None:
        super().__init__(step, ceiling_c, scale_max)
        order = [t for _ in range(step.repeats) for t in step.temperatures]
        rng.shuffle(order)
        self.queue = [self.clamp(t) for t in order]

    def next_temperature(self) -> float | None:
        if self.stopped_by or len(self.trials) >= len(self.queue):
            return None
        return self.queue[len(self.trials)]

    def result(self) -> CalibrationResult:
        points = [(t, r * self.to_vas) for t, r in self.trials if r is not None]
        if len({t for t, _ in points}) < 2:
            return CalibrationResult("fit", None, self.stopped_by or "too few answers", self.trials)
        temps, ratings = np.array([p[0] for p in points]), np.array([p[1] for p in points])
        slope, intercept = np.polyfit(temps, ratings, 1)
        if slope <= 0:
            return CalibrationResult(
                "fit",
                None,
                "ratings do not rise with temperature",
                self.trials,
                slope_per_c=float(slope),
                intercept=float(intercept),
            )
        value = (self.step.target_rating - intercept) / slope
        # never extrapolate beyond the tested range (or the ceiling)
        clamped = min(max(value, float(temps.min())), float(temps.max()), self.ceiling_c)
        capped = self.below_stop(float(clamped))
        return CalibrationResult(
            "fit",
            capped,
            self.stopped_by or "all temperatures rated",
            self.trials,
            slope_per_c=float(slope),
            intercept=float(intercept),
            censored=clamped != value,
        )
