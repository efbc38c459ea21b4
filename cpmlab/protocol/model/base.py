"""Shared pieces of the protocol model: limits, rating scales, and what every step knows about itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cpmlab.core.errors import LimitError
from cpmlab.core.limits import (
    ABSOLUTE_MAX_BATH_C,
    ABSOLUTE_MAX_IMMERSION_S,
    ABSOLUTE_MAX_PLATEAU_S,
    ABSOLUTE_MAX_THERMODE_C,
    ABSOLUTE_MIN_BATH_C,
    SafetyLimits,
)
from cpmlab.core.scales import DEFAULT_ANCHORS, SCALES, ScaleName
from cpmlab.protocol.values import Expr, ExpressionError, resolve

Role = Literal["test_stimulus", "conditioning", "calibration", "threshold", "practice", "other"]
Phase = Literal["before", "during", "after", "none"]
Scale = ScaleName
Stimulus = Literal["heat", "cold"]

STEP_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"

FieldProblem = tuple[str, str]  # (field name of the step, message)


class StepDuration(NamedTuple):
    """How long a step is expected to take (protocol seconds)."""

    duration_s: float
    upper_bound: bool = False  # a timeout or maximum: the step may end sooner


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
    max_bath_c: float = Field(48.0, gt=ABSOLUTE_MIN_BATH_C, le=ABSOLUTE_MAX_BATH_C)

    def to_limits(self) -> SafetyLimits:
        """Return these as SafetyLimits."""
        return SafetyLimits(**self.model_dump())


class RatingScale(_Strict):
    """How a rating is asked: scale, question, end anchors and timeout."""

    scale: Scale = "vas"
    question: str = "How painful was it?"
    anchors: tuple[str, str] = DEFAULT_ANCHORS
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
        return SCALES[self.scale].range(len(self.categories))


def value_or_none(value: float | Expr | None, variables: dict[str, Any]) -> float | None:
    """Return a number, or an expression's value, or None while it cannot be computed yet."""
    if value is None:
        return None
    try:
        return resolve(value, variables)
    except (ExpressionError, ArithmeticError):
        return None


def check_value(value: Any, check: Callable[[float], None], field: str, defaults: dict[str, Any]) -> list[FieldProblem]:
    """Check a number now, or an expression's value from the variable defaults if it has them."""
    if isinstance(value, Expr):
        try:
            value = value.evaluate(defaults)
        except ExpressionError:
            return []  # computed at run time; the engine and the driver check it before sending
    try:
        check(value)
    except LimitError as exc:
        return [(field, str(exc))]
    return []


def check_each(checks: Sequence[tuple[str, Callable[[], None]]]) -> list[FieldProblem]:
    """Run (field, check) pairs; return (field, message) for every check that fails."""
    out: list[FieldProblem] = []
    for field, check in checks:
        try:
            check()
        except LimitError as exc:
            out.append((field, str(exc)))
    return out


def sequence_offsets(durations_s: Sequence[float]) -> list[float]:
    """Return each step's start relative to the first when they run one after another."""
    offsets, t = [], 0.0
    for duration_s in durations_s:
        offsets.append(t)
        t += duration_s
    return offsets


class StepBase(_Strict):
    """Fields every step has, and what every step can say about itself.

    Subclasses override what applies to them; the defaults describe a step that takes no
    time, has no children, defines no variable and needs no safety check.
    """

    id: str | None = Field(None, pattern=STEP_ID_PATTERN)
    label: str | None = None  # shown to the operator

    if TYPE_CHECKING:
        type: str  # each step kind declares its own literal

    stimulus: ClassVar[Stimulus | None] = None  # what a rating of this step is about
    notable: ClassVar[bool] = False  # the operator is told when it comes next

    # -- structure ---------------------------------------------------------------------------
    def children(self) -> Sequence[StepBase]:
        """Return the steps this step runs (empty for a single step)."""
        return ()

    def repetitions(self) -> int:
        """How many times the children run, one after another."""
        return 1

    def child_offsets(self, durations_s: Sequence[float]) -> list[float]:
        """Return each child's start relative to this step's start, given the children's durations."""
        return sequence_offsets(durations_s)

    def combined_duration_s(self, durations_s: Sequence[float]) -> float:
        """Return this step's duration given its children's (one repetition each)."""
        return sum(durations_s) * self.repetitions()

    # -- timeline ----------------------------------------------------------------------------
    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return the timeline's description of this step."""
        return self.type

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return how long this step is expected to take (children included)."""
        children = self.children()
        if children:
            return StepDuration(self.combined_duration_s([c.expected_duration(variables)[0] for c in children]))
        return StepDuration(0.0)

    def estimate_into(self, variables: dict[str, Any]) -> None:
        """Record the values later steps will see, as well as they can be known before the session."""

    def defines(self) -> list[str]:
        """Variables this step sets."""
        return []

    # -- validation --------------------------------------------------------------------------
    def safety_problems(self, limits: SafetyLimits, defaults: dict[str, Any]) -> list[FieldProblem]:
        """Return (field, message) for every value outside the safety limits."""
        return []

    def rated_step_id(self) -> str | None:
        """Return the id of the stimulus step this step rates, if any."""
        return None

    # -- what other layers ask ---------------------------------------------------------------
    def bath_setpoint(self) -> float | Expr | None:
        """Return the bath setpoint this step needs, if it uses the cold pressor."""
        return None

    def rating_rate_hz(self) -> float | None:
        """Return the sample rate of a continuous rating, if this step is one."""
        return None

    def announcement(self, variables: dict[str, Any]) -> str | None:
        """Return how the operator is told this step comes next (None: its timeline text)."""
        return None

    def list_text(self, variables: dict[str, Any]) -> str | None:
        """Return this step's short text in the operator's step list (None: its timeline text)."""
        return None

    def operator_description(self, timeline_text: str) -> str:
        """Return the operator's longer description, given the step's timeline text."""
        return timeline_text
