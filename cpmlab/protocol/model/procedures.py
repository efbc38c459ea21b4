"""Procedures that find a temperature and store it as a session variable: calibration and heat threshold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from cpmlab.core.limits import SafetyLimits
from cpmlab.core.scales import DEFAULT_ANCHORS, NumericScaleName
from cpmlab.protocol.model.base import FieldProblem, StepBase, StepDuration, check_each


class Calibration(StepBase):
    """Find the temperature that evokes a target rating; the result becomes a session variable.

    Methods: ``staircase`` (step halved per reversal down to ``min_step_c``; ends after ``reversals``
    reversals), ``ascending`` (up from ``start_c`` by ``step_c``), ``fit`` (line through shuffled
    ``temperatures``), ``bayesian`` (grid posterior from ``prior_mean_c``/``prior_sd_c``; ends when the
    ``ci_level`` credible interval is at most ``ci_width_c`` wide). See docs/calibration.md.
    """

    type: Literal["calibration"]
    method: Literal["staircase", "ascending", "fit", "bayesian"]
    variable: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    target_rating: float = Field(ge=0, le=100)
    stop_rating: float = Field(90.0, ge=0, le=100)  # any rating at or above ends the series
    scale: NumericScaleName = "vas"
    question: str = "How painful was the heat at its strongest?"
    anchors: tuple[str, str] = DEFAULT_ANCHORS
    rating_timeout_s: float = Field(15.0, gt=0, le=600)
    baseline_c: float = Field(32.0, ge=20, le=40)
    ramp_c_per_s: float = Field(4.0, gt=0, le=300)
    return_c_per_s: float = Field(4.0, gt=0, le=300)
    plateau_s: float = Field(5.0, ge=0, le=300)
    zones: tuple[Annotated[int, Field(ge=1, le=5)], ...] = (1, 2, 3, 4, 5)
    start_c: float = Field(44.0, ge=20, le=55)
    step_c: float = Field(1.0, gt=0, le=10)
    min_step_c: float = Field(0.25, gt=0, le=10)
    reversals: int = Field(6, ge=1, le=50)
    max_trials: int = Field(15, ge=1, le=100)
    ceiling_c: float = Field(50.0, ge=20, le=55)
    floor_c: float = Field(36.0, ge=20, le=55)
    temperatures: tuple[float, ...] = ()
    repeats: int = Field(1, ge=1, le=20)
    isi_s: float = Field(20.0, ge=0, le=600)
    max_missing: int = Field(2, ge=1, le=20)  # consecutive unanswered ratings that end the series
    fallback_c: float | None = None  # used (and flagged) when the series ends without a result
    prior_mean_c: float = Field(46.0, ge=20, le=55)
    prior_sd_c: float = Field(2.0, ge=0.5, le=10)
    ci_width_c: float = Field(1.0, ge=0.2, le=10)  # stop when the credible interval is this narrow
    ci_level: float = Field(0.95, ge=0.5, le=0.99)
    max_stop_risk: float = Field(0.02, gt=0, le=0.5)
    device: str = "thermode"

    @model_validator(mode="after")
    def _method_fields(self) -> Calibration:
        if self.method == "fit" and len(set(self.temperatures)) < 2:
            raise ValueError("method fit needs at least two distinct temperatures")
        if self.method != "fit" and self.temperatures:
            raise ValueError("temperatures are only used with method: fit")
        bayes_only = self.model_fields_set & {"prior_mean_c", "prior_sd_c", "ci_width_c", "ci_level", "max_stop_risk"}
        if self.method != "bayesian" and bayes_only:
            raise ValueError(f"{', '.join(sorted(bayes_only))} apply only to method: bayesian")
        if self.method == "bayesian" and not self.floor_c - 5 <= self.prior_mean_c <= self.ceiling_c + 5:
            raise ValueError("prior_mean_c must lie within 5 C of floor_c and ceiling_c")
        if self.floor_c >= self.ceiling_c:
            raise ValueError("floor_c must be below ceiling_c")
        if self.stop_rating < self.target_rating:
            raise ValueError("stop_rating must be at or above target_rating")
        return self

    def defines(self) -> list[str]:
        """Variables this step sets."""
        return [self.variable]

    def estimate_c(self) -> float:
        """A rough expected result, for timelines before the session has run."""
        if self.method == "bayesian":
            return min(max(self.prior_mean_c, self.floor_c), self.ceiling_c)
        return sum(self.temperatures) / len(self.temperatures) if self.method == "fit" else self.start_c

    def trial_count(self) -> int:
        """Most trials the series can take."""
        return len(self.temperatures) * self.repeats if self.method == "fit" else self.max_trials

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'calibration (staircase) to 50/100 -> ${ts_target_c}'."""
        return f"calibration ({self.method}) to {self.target_rating:g}/100 -> ${{{self.variable}}}"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the longest the series can take (adaptive methods may end sooner)."""
        peak = max(self.temperatures) if self.method == "fit" else self.ceiling_c
        trial_s = (peak - self.baseline_c) * (1 / self.ramp_c_per_s + 1 / self.return_c_per_s) + self.plateau_s
        total = self.trial_count() * (trial_s + self.rating_timeout_s + self.isi_s)
        return StepDuration(total, self.method != "fit")

    def estimate_into(self, variables: dict[str, Any]) -> None:
        """Give later steps the rough expected result (timelines only; the session uses the real one)."""
        variables.setdefault(self.variable, self.estimate_c())

    def safety_problems(self, limits: SafetyLimits, defaults: dict[str, Any]) -> list[FieldProblem]:
        """Every temperature the series may deliver, its rates and its plateau must be inside the limits."""
        values: list[tuple[str, float]] = [
            ("ceiling_c", self.ceiling_c),
            ("floor_c", self.floor_c),
            ("start_c", self.start_c),
            ("baseline_c", self.baseline_c),
        ]
        values += [("temperatures", t) for t in self.temperatures]
        if self.fallback_c is not None:
            values.append(("fallback_c", self.fallback_c))
        out = check_each([(name, _thermode_check(limits, value, name)) for name, value in values])
        if self.method != "fit" and not self.floor_c <= self.start_c <= self.ceiling_c:
            out.append(("start_c", f"start_c {self.start_c:g} must lie between floor_c and ceiling_c"))
        rates = (("ramp_c_per_s", self.ramp_c_per_s), ("return_c_per_s", self.return_c_per_s))
        out += check_each([(name, _ramp_check(limits, value, name)) for name, value in rates])
        out += check_each([("plateau_s", lambda: limits.check_plateau_s(self.plateau_s))])
        return out


class HeatThreshold(StepBase):
    """Heat pain threshold by the method of limits: ramps until the participant responds."""

    type: Literal["heat_threshold"]
    variable: str = Field("hpt_c", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    trials: int = Field(4, ge=1, le=20)
    discard_first: bool = True
    baseline_c: float = Field(32.0, ge=20, le=40)
    ramp_c_per_s: float = Field(1.0, gt=0, le=10)
    return_c_per_s: float = Field(5.0, gt=0, le=300)
    ceiling_c: float = Field(50.0, ge=20, le=55)  # cut-off: the ramp never goes past it
    isi_s: float = Field(10.0, ge=0, le=600)
    response: Literal["key", "button", "either"] = "either"
    instruction: str = "Press the response key as soon as the warmth turns into pain."
    zones: tuple[Annotated[int, Field(ge=1, le=5)], ...] = (1, 2, 3, 4, 5)
    device: str = "thermode"

    def defines(self) -> list[str]:
        """Variables this step sets."""
        return [self.variable]

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'heat pain threshold, 4 ramps at 1 C/s -> ${hpt_c}'."""
        return f"heat pain threshold, {self.trials} ramps at {self.ramp_c_per_s:g} C/s -> ${{{self.variable}}}"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the longest the ramps can take (each ends sooner when the participant responds)."""
        span = self.ceiling_c - self.baseline_c
        return StepDuration(self.trials * (span / self.ramp_c_per_s + span / self.return_c_per_s + self.isi_s), True)

    def safety_problems(self, limits: SafetyLimits, defaults: dict[str, Any]) -> list[FieldProblem]:
        """Check the cut-off, the baseline and the ramp rates against the limits."""
        checks = [(name, _thermode_check(limits, getattr(self, name), name)) for name in ("ceiling_c", "baseline_c")]
        checks += [
            (name, _ramp_check(limits, getattr(self, name), name)) for name in ("ramp_c_per_s", "return_c_per_s")
        ]
        return check_each(checks)


def _thermode_check(limits: SafetyLimits, value_c: float, what: str) -> Callable[[], None]:
    return lambda: limits.check_thermode_c(value_c, what)


def _ramp_check(limits: SafetyLimits, rate_c_per_s: float, what: str) -> Callable[[], None]:
    return lambda: limits.check_ramp(rate_c_per_s, what)
