"""The console's one clock: protocol seconds since session_start, fed by the engine's events (no Qt).

Protocol time is (t - t_session_start) x speed for any shared-clock time t: the time base of the
journal, the BIDS onsets and the LSL markers, so a time read off the console is found as such in
the data. A pause is part of that time; it is kept as intervals so that what the engine freezes
while paused (a pausable wait, the timeline's position) can leave it out, and the header can show
the clock stopped at the pause with the paused duration beside it.
"""

from __future__ import annotations

from cpmlab.core import events as ev
from cpmlab.protocol.timeline import format_clock

PAUSE_ACTIONS = ("pause", "hold")  # the engine's state becomes paused on either


class ProtocolClock:
    """Protocol time of a session, its pauses, and elapsed times with or without them."""

    def __init__(self) -> None:
        self.t0: float | None = None  # shared-clock time of session_start
        self.speed = 1.0
        self.t_end: float | None = None
        self.pauses: list[tuple[float, float | None]] = []  # (start, end) in shared-clock seconds; end None: paused

    # -- events ----------------------------------------------------------------------------
    def on_event(self, event: ev.Event) -> bool:
        """Apply a session event; return True if the clock's state changed."""
        kind, data = event.kind, event.data
        if kind == ev.SESSION_START:
            self.t0 = event.t
            self.speed = float(data.get("speed") or self.speed)  # kept when the event does not say
            self.t_end = None
            self.pauses = []
            return True
        if kind == ev.CONTROL:
            action = data.get("action")
            if action in PAUSE_ACTIONS and not self.paused:
                self.pauses.append((event.t, None))
                return True
            if action == "resume" and self.paused:
                self._close_pause(event.t)
                return True
            return False
        if kind == ev.SESSION_END:
            if self.paused:
                self._close_pause(event.t)
            self.t_end = event.t
            return True
        return False

    def _close_pause(self, t: float) -> None:
        start, _ = self.pauses[-1]
        self.pauses[-1] = (start, max(t, start))

    # -- reading ---------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """True once session_start has arrived."""
        return self.t0 is not None

    @property
    def paused(self) -> bool:
        """True from a pause (or hold) until the resume."""
        return bool(self.pauses) and self.pauses[-1][1] is None

    def _clip(self, t: float) -> float:
        return min(t, self.t_end) if self.t_end is not None else t

    def at(self, t: float) -> float:
        """Protocol seconds of shared-clock time t (pauses included, as the BIDS onsets count them)."""
        if self.t0 is None:
            return 0.0
        return max((self._clip(t) - self.t0) * self.speed, 0.0)

    def shown_s(self, t: float) -> float:
        """The header's clock: protocol time, stopped at the moment of the pause while paused."""
        if self.paused:
            return self.at(self.pauses[-1][0])
        return self.at(t)

    def paused_for_s(self, t: float) -> float:
        """Protocol seconds the current pause has lasted (0 when not paused)."""
        if not self.paused:
            return 0.0
        return max(self._clip(t) - self.pauses[-1][0], 0.0) * self.speed

    def paused_total_s(self, t: float) -> float:
        """Protocol seconds paused since the session start."""
        return self.paused_between_real(self.t0 if self.t0 is not None else t, t) * self.speed

    def paused_between_real(self, a: float, b: float) -> float:
        """Real seconds paused between shared-clock times a and b."""
        b = self._clip(b)
        total = 0.0
        for start, end in self.pauses:
            stop = b if end is None else min(end, b)
            total += max(stop - max(start, a), 0.0)
        return total

    def since(self, anchor_t: float, t: float, *, pausable: bool = False) -> float:
        """Protocol seconds from anchor_t to t; a pausable wait leaves the paused time out."""
        real = max(self._clip(t) - anchor_t, 0.0)
        if pausable:
            real -= self.paused_between_real(anchor_t, t)
        return max(real, 0.0) * self.speed

    def stamp(self, t: float) -> str:
        """Return the event log's stamp of shared-clock time t, e.g. '3:21'."""
        return format_clock(self.at(t))
