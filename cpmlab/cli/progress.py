"""Terminal progress for long runs: current step and time left."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.timeline import build_timeline, format_clock, total_duration_s


class ProgressPrinter:
    """Bus subscriber printing one line per top-level step (and faults and controls)."""

    def __init__(self, protocol: Protocol, speed: float, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.speed = speed
        self.total_s = total_duration_s(build_timeline(protocol))
        self.t0: float | None = None
        self._lock = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        if event.kind == ev.SESSION_START:
            self.t0 = event.t
            self._print(
                f"session started: {event.data.get('protocol')} at speed {self.speed:g}, "
                f"about {format_clock(self.total_s)} of protocol time"
            )
        elif event.kind == ev.STEP_START and event.data.get("path", "").count(".") == 0:
            elapsed = self._elapsed()
            left = max(self.total_s - elapsed, 0.0)
            what = event.data.get("label") or event.data.get("step_id") or event.data.get("step_type")
            self._print(f"[{format_clock(elapsed)} | ~{format_clock(left)} left] {event.data.get('step_type')}: {what}")
        elif event.kind == ev.RATING:
            value = event.data.get("value")
            self._print(
                f"    rating ({event.data.get('scale')}, {event.data.get('rates') or event.data.get('about')}):"
                f" {'no answer' if value is None else value}"
            )
        elif event.kind == ev.CONTROL:
            reason = event.data.get("reason")
            source = event.data.get("source")
            self._print(
                f"  ! control: {event.data.get('action')}"
                + (f" ({source})" if source else "")
                + (f": {reason}" if reason else "")
            )
        elif event.kind == ev.FAULT:
            self._print(f"  ! fault: {event.data.get('device', '')} {event.data.get('message')}")

    def _elapsed(self) -> float:
        return 0.0 if self.t0 is None else (now() - self.t0) * self.speed

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)
