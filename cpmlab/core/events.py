"""Session events and the bus that fans them out to subscribers (journal first)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cpmlab.core import vocabulary as voc
from cpmlab.core.clock import now

log = logging.getLogger(__name__)

# Event kinds: plain strings in the journal, each declared with its fields in cpmlab.core.vocabulary.
SESSION_START = voc.SESSION_START.name
SESSION_END = voc.SESSION_END.name
STEP_START = voc.STEP_START.name
STEP_END = voc.STEP_END.name
COMMAND = voc.COMMAND.name
REPLY = voc.REPLY.name
READING = voc.READING.name
RATING_ONSET = voc.RATING_ONSET.name
RATING = voc.RATING.name
CONTINUOUS_SAMPLE = voc.CONTINUOUS_SAMPLE.name
STIMULUS = voc.STIMULUS.name
IMMERSION = voc.IMMERSION.name
VARIABLE = voc.VARIABLE.name
MARKER = voc.MARKER.name
NOTE = voc.NOTE.name
FAULT = voc.FAULT.name
CONTROL = voc.CONTROL.name
DISPLAY = voc.DISPLAY.name
MEASURE = voc.MEASURE.name

SAMPLE_KINDS = frozenset(k.name for k in voc.KINDS.values() if k.sample)


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
        """Build an event from a journal line's dict (not checked: older journals stay readable)."""
        body = {k: v for k, v in obj.items() if k not in ("kind", "t", "seq")}
        return cls(kind=obj["kind"], t=float(obj["t"]), data=body)


Subscriber = Callable[[Event], None]


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "item")


def _plain(value: Any) -> Any:
    """Return a numpy scalar as the Python value it holds (json would write np.False_ as "False")."""
    return value.item() if _is_numpy(value) else value


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
        """Check event against its kind's declaration, then deliver it to critical subscribers and the others.

        Raises EventFieldError (nothing is delivered) for an undeclared kind or field or a mistyped value.
        """
        if any(_is_numpy(v) for v in event.data.values()):
            event = Event(event.kind, event.t, {k: _plain(v) for k, v in event.data.items()})
        voc.check_event(event.kind, event.data)
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
