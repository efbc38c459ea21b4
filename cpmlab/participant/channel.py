"""The participant channel contract: the PsychoPy display and the simulated participant both fulfil it.

All durations here are *real* seconds (the engine has already applied its time scale);
all times are on the shared clock (cpmlab.core.clock.now), stamped at the screen flip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from cpmlab.core.scales import SCALES


@dataclass(frozen=True)
class ScreenResult:
    """When a text screen appeared and how it ended."""

    onset_t: float
    end_t: float
    ended_by: Literal["key", "timeout", "aborted"]
    key: str | None = None


@dataclass(frozen=True)
class RatingRequest:
    """One rating screen to show."""

    scale: Literal["vas", "nrs", "categorical"]
    question: str
    anchors: tuple[str, str]
    timeout_s: float
    categories: tuple[str, ...] = ()
    step_id: str | None = None
    rates: str | None = None  # id of the stimulus step being rated
    about: Literal["heat", "cold", "other"] = "heat"

    @property
    def maximum(self) -> float:
        """Top of the scale."""
        return SCALES[self.scale].maximum(len(self.categories))


@dataclass(frozen=True)
class RatingResult:
    """A rating: value is None when the participant did not answer in time (never 0)."""

    value: float | None
    onset_t: float
    response_t: float | None
    input_device: str = "none"  # keyboard, mouse, simulated, none
    category: str | None = None

    @property
    def rt_s(self) -> float | None:
        """Reaction time from screen onset to answer, in seconds."""
        return None if self.response_t is None else self.response_t - self.onset_t


@dataclass(frozen=True)
class ContinuousRequest:
    """A continuous rating window."""

    scale: Literal["vas", "nrs"]
    question: str
    anchors: tuple[str, str]
    duration_s: float
    rate_hz: float
    step_id: str | None = None
    rates: str | None = None

    @property
    def maximum(self) -> float:
        """Top of the scale."""
        return SCALES[self.scale].maximum()


@dataclass
class ContinuousResult:
    """Samples (t on the shared clock, value or None before first touch) of a continuous rating."""

    onset_t: float
    samples: list[tuple[float, float | None]] = field(default_factory=list)
    rate_hz: float | None = None  # samples taken per real second; None: the request's rate_hz


SampleCallback = Callable[[float, float | None], None]


@runtime_checkable
class ParticipantChannel(Protocol):
    """Everything the engine asks of the participant."""

    def show_text(self, text: str, *, key: str | None, timeout_s: float | None) -> ScreenResult:
        """Show text until key is pressed (if key) or timeout_s passes (if given)."""
        ...

    def rate(self, request: RatingRequest) -> RatingResult:
        """Show a rating screen and return the answer (value None on timeout)."""
        ...

    def rate_continuously(self, request: ContinuousRequest, on_sample: SampleCallback) -> ContinuousResult:
        """Run a continuous rating window, calling on_sample for every sample."""
        ...

    def prompt_immersion(self, text: str, duration_s: float) -> float:
        """Ask for the hand in the water with a visible timer; return the onset time."""
        ...

    def prompt_withdrawal(self, text: str) -> float:
        """Ask for the hand out of the water; return the onset time."""
        ...

    def wait_for_response(self, timeout_s: float, what: str = "withdrawal") -> float | None:
        """Wait for the participant's response key; return its time or None.

        ``what`` says what the key means: ``withdrawal`` (hand out of the water),
        ``cold_detection`` (the cold became painful) or ``heat_threshold`` (the heat became painful).
        """
        ...

    def cancel(self) -> None:
        """End whatever screen is showing at once (abort / emergency stop)."""
        ...

    def close(self) -> None:
        """Release the display; safe to call twice."""
        ...
