"""Participant screens: instructions, waits, ratings and continuous ratings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from cpmlab.core.errors import LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.core.scales import DEFAULT_ANCHORS, NumericScaleName
from cpmlab.protocol.model.base import (
    FieldProblem,
    RatingScale,
    Scale,
    StepBase,
    StepDuration,
    check_value,
    value_or_none,
)
from cpmlab.protocol.values import Number

# Longer than any stimulus the absolute limits allow (a 300 s plateau or immersion and its ramps).
MAX_CONTINUOUS_WINDOW_S = 600.0


def check_continuous_window(duration_s: float) -> None:
    """Raise LimitError unless a continuous-rating window is positive and at most MAX_CONTINUOUS_WINDOW_S."""
    if not 0 < duration_s <= MAX_CONTINUOUS_WINDOW_S:
        raise LimitError(
            f"continuous-rating window {duration_s:g} s is outside the allowed range 0-{MAX_CONTINUOUS_WINDOW_S:g} s"
        )


class Instruction(StepBase):
    """Participant screen text; ends on a key press or after a time."""

    type: Literal["instruction"]
    text: str = Field(min_length=1)
    end: Literal["key", "timeout"] = "key"
    timeout_s: float | None = Field(None, gt=0, le=3600)
    key: str = "space"

    notable = True

    @model_validator(mode="after")
    def _timeout_needed(self) -> Instruction:
        if self.end == "timeout" and self.timeout_s is None:
            raise ValueError("end: timeout needs timeout_s")
        return self

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return the first line of the text, and the key that ends it."""
        text = self.text.strip().splitlines()[0][:50]
        if self.end == "timeout":
            return f'instruction "{text}"'
        return f'instruction "{text}" (until {self.key})'

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the timeout (an upper bound when a key ends it)."""
        return StepDuration(self.timeout_s or 0.0, self.end != "timeout")

    def announcement(self, variables: dict[str, Any]) -> str | None:
        """Return 'Instruction screen'."""
        return "Instruction screen"


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

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return 'wait 30 s' or 'wait 5-10 s (random)'."""
        if self.duration_s is not None:
            d = value_or_none(self.duration_s, variables)
            return f"wait {d:g} s" if d is not None else f"wait {self.duration_s}"
        return f"wait {self.min_s:g}-{self.max_s:g} s (random)"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the fixed duration, or the random wait's maximum."""
        if self.duration_s is not None:
            return StepDuration(value_or_none(self.duration_s, variables) or 0.0)
        assert self.max_s is not None
        return StepDuration(self.max_s, True)


class Rating(StepBase):
    """One rating screen (VAS 0-100, NRS 0-10 or categorical)."""

    type: Literal["rating"]
    rates: str | None = None  # id of the stimulus step this rating is about
    scale: Scale = "vas"
    question: str = "How painful was the heat?"
    anchors: tuple[str, str] = DEFAULT_ANCHORS
    categories: tuple[str, ...] = ()
    timeout_s: float = Field(20.0, gt=0, le=600)

    notable = True

    def as_scale(self) -> RatingScale:
        """Return the scale description of this rating."""
        return RatingScale(
            scale=self.scale,
            question=self.question,
            anchors=self.anchors,
            categories=self.categories,
            timeout_s=self.timeout_s,
        )

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'VAS rating of ts1'."""
        about = f" of {self.rates}" if self.rates else ""
        return f"{self.scale.upper()} rating{about}"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the timeout (the participant may answer sooner)."""
        return StepDuration(self.timeout_s, True)

    def rated_step_id(self) -> str | None:
        """Return the id of the rated stimulus step."""
        return self.rates

    def announcement(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'VAS rating of ts1'."""
        return self.timeline_text(variables)

    def list_text(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'VAS rating of ts1'."""
        return self.announcement(variables)


class ContinuousRating(StepBase):
    """A slider rated continuously over a window (CoVAS style)."""

    type: Literal["continuous_rating"]
    rates: str | None = None
    duration_s: Number
    rate_hz: float = Field(30.0, ge=1, le=250)
    scale: NumericScaleName = "vas"
    question: str = "Rate your pain continuously."
    anchors: tuple[str, str] = DEFAULT_ANCHORS

    notable = True

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'continuous VAS rating for 60 s at 30 Hz'."""
        d = value_or_none(self.duration_s, variables) or 0.0
        return f"continuous {self.scale.upper()} rating for {d:g} s at {self.rate_hz:g} Hz"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the rating window."""
        return StepDuration(value_or_none(self.duration_s, variables) or 0.0)

    def safety_problems(self, limits: SafetyLimits, defaults: dict[str, Any]) -> list[FieldProblem]:
        """Check the rating window (positive, bounded) now, with the variables' values where it is an expression."""
        return check_value(self.duration_s, check_continuous_window, "duration_s", defaults)

    def rated_step_id(self) -> str | None:
        """Return the id of the rated stimulus step."""
        return self.rates

    def rating_rate_hz(self) -> float | None:
        """Return the slider's sample rate."""
        return self.rate_hz

    def announcement(self, variables: dict[str, Any]) -> str | None:
        """Return 'Continuous rating'."""
        return "Continuous rating"
