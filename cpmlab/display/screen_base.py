"""The base of every participant screen: onset at the flip, timeout, result, geometry.

A screen is built from a typed spec sent by the engine (every participant-facing string is in
the spec), gets its onset at the flip, takes stamped input events, and finishes with a Result
message. Held screens (countdown, withdrawal text) stay up until another screen replaces them.
"""

from __future__ import annotations

import math
from typing import Any

import cpmlab.display.messages as m
from cpmlab.display.inputs import InputEvent
from cpmlab.display.specs import ScreenSpec
from cpmlab.display.widgets import Context

ACCEPT_KEYS = frozenset({"return", "space"})


def format_clock(seconds: float) -> str:
    """Format seconds as m:ss (rounded up, never negative)."""
    whole = max(math.ceil(seconds - 1e-6), 0)
    return f"{whole // 60}:{whole % 60:02d}"


class Screen:
    """Base of every screen: onset, timeout, result, geometry."""

    kind = "blank"

    def __init__(self, ctx: Context, spec: ScreenSpec, request_id: int | None) -> None:
        self.ctx, self.id = ctx, request_id
        self.hold = spec.hold
        self.overlay = spec.overlay
        self.onset_t: float | None = None
        self.result: m.Result | None = None
        self.samples_out: list[tuple[float, float | None]] = []

    @property
    def done(self) -> bool:
        """Whether the screen has finished (held screens never do)."""
        return self.result is not None

    def start(self, onset_t: float) -> None:
        """Record the flip time of the first frame."""
        self.onset_t = onset_t

    def elapsed(self, t: float) -> float:
        """Seconds since onset (0 before the first flip)."""
        return 0.0 if self.onset_t is None else t - self.onset_t

    def timed_out(self, t: float, timeout_s: float | None) -> bool:
        """Return whether a running, timed screen has reached timeout_s after its onset."""
        if timeout_s is None or self.onset_t is None or self.done or self.hold:
            return False
        return t - self.onset_t >= timeout_s

    def handle(self, event: InputEvent, held: set[str]) -> None:
        """React to one input event."""

    def update(self, t: float, held: set[str]) -> None:
        """Advance time-driven state (timeouts, sampling, held keys)."""

    def draw(self) -> None:
        """Draw the screen into the back buffer."""

    def cancel(self, t: float) -> None:
        """End the screen at once (abort)."""
        if not self.done and not self.hold:
            self.finish(t, "aborted")

    def finish(self, t: float, ended_by: m.EndedBy, **fields: Any) -> None:
        """End the screen with a result (fields: the kind-specific fields of m.Result)."""
        onset_t = self.onset_t if self.onset_t is not None else t
        self.result = m.Result(id=self.id, kind=self.kind, onset_t=onset_t, end_t=t, ended_by=ended_by, **fields)

    def follow_up(self) -> Screen | None:
        """Return a screen to show briefly after this one ends (e.g. 'No answer')."""
        return None

    def geometry(self) -> dict[str, Any]:
        """Return where the screen's elements are, in window pixels."""
        return {}
