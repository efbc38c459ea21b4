"""Typed protocol model: a header, safety limits, variables and a list of steps."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cpmlab.core.limits import (
    ABSOLUTE_MAX_IMMERSION_S,
    ABSOLUTE_MAX_PLATEAU_S,
    ABSOLUTE_MAX_THERMODE_C,
    ABSOLUTE_MIN_BATH_C,
    SafetyLimits,
)
from cpmlab.protocol.values import Number

Role = Literal["test_stimulus", "conditioning", "calibration", "threshold", "practice", "other"]
Phase = Literal["before", "during", "after", "none"]
Scale = Literal["vas", "nrs", "categorical"]

STEP_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitsModel(_Strict):
    """Safety limits in a protocol header or lab config (omitted fields use the defaults)."""

    max_thermode_c: float = Field(50.0, gt=0, le=ABSOLUTE_MAX_THERMODE_C)
    min_thermode_c: float = Field(5.0, ge=0, le=ABSOLUTE_MAX_THERMODE_C)
    max_plateau_s: float = Field(120.0, gt=0, le=ABSOLUTE_MAX_PLATEAU_S)
    max_immersion_s: float = Field(180.0, gt=0, le=ABSOLUTE_MAX_IMMERSION_S)
    min_bath_c: float = Field(4.0, ge=ABSOLUTE_MIN_BATH_C, le=40)
    max_ramp_c_per_s: float = Field(10.0, gt=0, le=300)

    def to_limits(self) -> SafetyLimits:
        """Return these as SafetyLimits."""
        return SafetyLimits(**self.model_dump())


class RatingScale(_Strict):
    """How a rating is asked: scale, question, end anchors and timeout."""

    scale: Scale = "vas"
    question: str = "How painful was it?"
    anchors: tuple[str, str] = ("no pain", "worst pain imaginable")
    categories: tuple[str, ...] = ()  # for scale: categorical
    timeout_s: float = Field(20.0, gt=0, le=600)

    @model_validator(mode="after")
    def _categories_match_scale(self) -> RatingScale:
        if self.scale == "categorical" and len(self.categories) < 2:
            raise ValueError("a categorical scale needs at least two categories")
        if self.scale != "categorical" and self.categories:
            raise ValueError("categories are only used with scale: categorical")
        return self

    @property
    def range(self) -> tuple[float, float]:
        """Lowest and highest value of the scale."""
        if self.scale == "vas":
            return 0.0, 100.0
        if self.scale == "nrs":
            return 0.0, 10.0
        return 0.0, float(len(self.categories) - 1)


class StepBase(_Strict):
    """Fields every step has."""

    id: str | None = Field(None, pattern=STEP_ID_PATTERN)
    label: str | None = None  # shown to the operator


class Instruction(StepBase):
    """Participant screen text; ends on a key press or after a time."""

    type: Literal["instruction"]
    text: str = Field(min_length=1)
    end: Literal["key", "timeout"] = "key"
    timeout_s: float | None = Field(None, gt=0, le=3600)
    key: str = "space"

    @model_validator(mode="after")
    def _timeout_needed(self) -> Instruction:
        if self.end == "timeout" and self.timeout_s is None:
            raise ValueError("end: timeout needs timeout_s")
        return self


class Wait(StepBase):
    """A fixed or random (uniform) interval."""

    type: Literal["wait"]
    duration_s: Number | None = None
    min_s: float | None = Field(None, ge=0, le=3600)
    max_s: float | None = Field(None, ge=0, le=3600)
    text: str | None = None  # optional participant screen text during the wait

    @model_validator(mode="after")
    def _one_form(self) -> Wait:
        fixed = self.duration_s is not None
        rand = self.min_s is not None or self.max_s is not None
        if fixed == rand:
            raise ValueError("give either duration_s, or min_s and max_s")
        if rand and (self.min_s is None or self.max_s is None or self.min_s > self.max_s):
            raise ValueError("a random wait needs min_s <= max_s")
        if isinstance(self.duration_s, float) and not 0 <= self.duration_s <= 3600:
            raise ValueError("duration_s must be between 0 and 3600 s")
        return self


class Thermal(StepBase):
    """A device-timed thermode stimulus: ramp, plateau, return."""

    type: Literal["thermal"]
    role: Role = "test_stimulus"
    phase: Phase = "none"
    baseline_c: Number = 32.0
    target_c: Number
    ramp_c_per_s: Number = 2.0
    return_c_per_s: Number = 2.0
    plateau_s: Number | None = None
    total_s: Number | None = None
    zones: tuple[Annotated[int, Field(ge=1, le=5)], ...] = (1, 2, 3, 4, 5)
    device: str = "thermode"

    @model_validator(mode="after")
    def _one_duration(self) -> Thermal:
        if (self.plateau_s is None) == (self.total_s is None):
            raise ValueError("give either plateau_s or total_s (ramp + plateau + return)")
        return self

    @field_validator("zones")
    @classmethod
    def _distinct_zones(cls, zones: tuple[int, ...]) -> tuple[int, ...]:
        if not zones or len(set(zones)) != len(zones):
            raise ValueError("zones must be a non-empty list of distinct zone numbers 1-5")
        return zones


class Immersion(StepBase):
    """Cold-pressor immersion with a hard maximum and ratings of the water at given times."""

    type: Literal["immersion"]
    role: Role = "conditioning"
    phase: Phase = "none"
    setpoint_c: Number
    duration_s: float = Field(gt=0, le=ABSOLUTE_MAX_IMMERSION_S)
    max_s: float = Field(gt=0, le=ABSOLUTE_MAX_IMMERSION_S)
    until_withdrawal: bool = False  # tolerance test: ends when the participant withdraws
    detect_pain: bool = False  # first response key = pain detection (PDT), then withdrawal (PTT)
    detect_text: str = "Press the response key as soon as the cold becomes painful."
    limb: str = "non-dominant hand"
    prompt_text: str = "Put your hand in the water now, up to the wrist."
    withdraw_text: str = "Take your hand out of the water."
    settle_tolerance_c: float = Field(1.0, gt=0, le=10)
    ratings_at_s: tuple[float, ...] = ()
    rating: RatingScale = RatingScale(scale="nrs", question="How painful is the cold water?")
    device: str = "cold_pressor"

    @model_validator(mode="after")
    def _times(self) -> Immersion:
        if self.duration_s > self.max_s:
            raise ValueError(f"duration_s {self.duration_s:g} is longer than max_s {self.max_s:g}")
        for t in self.ratings_at_s:
            if not 0 < t < self.duration_s:
                raise ValueError(f"ratings_at_s {t:g} is outside the immersion (0, {self.duration_s:g}) s")
        return self


class Rating(StepBase):
    """One rating screen (VAS 0-100, NRS 0-10 or categorical)."""

    type: Literal["rating"]
    rates: str | None = None  # id of the stimulus step this rating is about
    scale: Scale = "vas"
    question: str = "How painful was the heat?"
    anchors: tuple[str, str] = ("no pain", "worst pain imaginable")
    categories: tuple[str, ...] = ()
    timeout_s: float = Field(20.0, gt=0, le=600)

    def as_scale(self) -> RatingScale:
        """Return the scale description of this rating."""
        return RatingScale(
            scale=self.scale,
            question=self.question,
            anchors=self.anchors,
            categories=self.categories,
            timeout_s=self.timeout_s,
        )


class ContinuousRating(StepBase):
    """A slider rated continuously over a window (CoVAS style)."""

    type: Literal["continuous_rating"]
    rates: str | None = None
    duration_s: Number
    rate_hz: float = Field(30.0, ge=1, le=250)
    scale: Literal["vas", "nrs"] = "vas"
    question: str = "Rate your pain continuously."
    anchors: tuple[str, str] = ("no pain", "worst pain imaginable")


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
    scale: Literal["vas", "nrs"] = "vas"
    question: str = "How painful was the heat at its strongest?"
    anchors: tuple[str, str] = ("no pain", "worst pain imaginable")
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

    def describe(self, variables: dict[str, Any]) -> tuple[str, float, bool]:
        """Timeline text, upper-bound duration and whether it may end sooner."""
        peak = max(self.temperatures) if self.method == "fit" else self.ceiling_c
        trial_s = (peak - self.baseline_c) * (1 / self.ramp_c_per_s + 1 / self.return_c_per_s) + self.plateau_s
        total = self.trial_count() * (trial_s + self.rating_timeout_s + self.isi_s)
        text = f"calibration ({self.method}) to {self.target_rating:g}/100 -> ${{{self.variable}}}"
        return text, total, self.method != "fit"


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

    def describe(self, variables: dict[str, Any]) -> tuple[str, float, bool]:
        """Timeline text, upper-bound duration and whether it may end sooner."""
        span = self.ceiling_c - self.baseline_c
        total = self.trials * (span / self.ramp_c_per_s + span / self.return_c_per_s + self.isi_s)
        return (
            f"heat pain threshold, {self.trials} ramps at {self.ramp_c_per_s:g} C/s -> ${{{self.variable}}}",
            total,
            True,
        )


class Marker(StepBase):
    """Emit a named marker into the journal and the event streams."""

    type: Literal["marker"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    fields: dict[str, str | float | int] = Field(default_factory=dict)


class SetVariable(StepBase):
    """Set a session variable from a value or expression."""

    type: Literal["set"]
    variable: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    value: Number


class Parallel(StepBase):
    """Steps that run together (e.g. a test stimulus during immersion); ends when all end."""

    type: Literal["parallel"]
    steps: list[Step] = Field(min_length=2)


class Block(StepBase):
    """A sequence of steps, repeated and optionally shuffled per repetition."""

    type: Literal["block"]
    steps: list[Step] = Field(min_length=1)
    repeat: int = Field(1, ge=1, le=1000)
    randomize: bool = False


Step = Annotated[
    Instruction
    | Wait
    | Thermal
    | Immersion
    | Rating
    | ContinuousRating
    | Calibration
    | HeatThreshold
    | Marker
    | SetVariable
    | Parallel
    | Block,
    Field(discriminator="type"),
]

Parallel.model_rebuild()
Block.model_rebuild()


class Protocol(_Strict):
    """A whole protocol file."""

    cpmlab_protocol: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    task: str = Field(pattern=r"^[A-Za-z0-9]+$", description="BIDS task label")
    description: str = ""
    references: tuple[str, ...] = ()
    language: str = "en"
    condition: Literal["active", "sham", "none"] = "active"  # sham: neutral-temperature bath control
    limits: LimitsModel = LimitsModel()
    devices: tuple[Literal["thermode", "cold_pressor"], ...] = ("thermode", "cold_pressor")
    variables: dict[str, float | int | str] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)


def walk_steps(steps: list[Any]) -> list[Any]:
    """Return every step, depth first, including those inside parallel and block steps."""
    out: list[Any] = []
    for step in steps:
        out.append(step)
        if isinstance(step, Parallel | Block):
            out.extend(walk_steps(step.steps))
    return out
