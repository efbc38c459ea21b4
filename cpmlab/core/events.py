"""Session events and the bus that fans them out to subscribers (journal first)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cpmlab.core.clock import now

log = logging.getLogger(__name__)

# Event kinds. Kept as plain strings so journals stay readable and forward compatible.
SESSION_START = "session_start"
SESSION_END = "session_end"
STEP_START = "step_start"
STEP_END = "step_end"
COMMAND = "command"
REPLY = "reply"
READING = "reading"
RATING_ONSET = "rating_onset"
RATING = "rating"
CONTINUOUS_SAMPLE = "continuous_sample"
STIMULUS = "stimulus"  # phases of a thermal stimulus: ramp_start, plateau_start, return_start
IMMERSION = "immersion"  # immersion_start / immersion_end / withdrawal
VARIABLE = "variable"
MARKER = "marker"
NOTE = "note"
FAULT = "fault"
CONTROL = "control"  # pause / resume / abort / emergency_stop
DISPLAY = "display"
MEASURE = "measure"  # a procedure's result: calibration/threshold trials and results, PDT/PTT

SAMPLE_KINDS = frozenset({READING, CONTINUOUS_SAMPLE})


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, stamped on the shared clock at the moment it happened."""

    kind: str
    t: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of this event."""
        return {"kind": self.kind, "t": self.t, **self.data}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Event:
        """Build an event from a journal line's dict."""
        body = {k: v for k, v in obj.items() if k not in ("kind", "t", "seq")}
        return cls(kind=obj["kind"], t=float(obj["t"]), data=body)


Subscriber = Callable[[Event], None]


class EventBus:
    """Publish events to subscribers in order; the first (journal) subscriber may not fail."""

    def __init__(self) -> None:
        self._critical: list[Subscriber] = []
        self._subscribers: list[Subscriber] = []
        self._lock = threading.RLock()

    def subscribe(self, fn: Subscriber, *, critical: bool = False) -> None:
        """Add a subscriber; critical ones run first and their errors propagate."""
        with self._lock:
            (self._critical if critical else self._subscribers).append(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        """Remove a subscriber if present."""
        with self._lock:
            for group in (self._critical, self._subscribers):
                if fn in group:
                    group.remove(fn)

    def publish(self, event: Event) -> Event:
        """Deliver event to critical subscribers, then to the others (errors logged)."""
        with self._lock:
            critical = list(self._critical)
            others = list(self._subscribers)
        for fn in critical:
            fn(event)
        for fn in others:
            try:
                fn(event)
            except Exception:  # a broken view must never stop the session
                log.exception("event subscriber %r failed", fn)
        return event

    def emit(self, kind: str, t: float | None = None, **data: Any) -> Event:
        """Stamp (unless t is given) and publish an event."""
        return self.publish(Event(kind=kind, t=now() if t is None else t, data=data))
