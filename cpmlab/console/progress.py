"""Where a running session is on its expected timeline, and what comes next (no Qt).

The protocol's timeline (cpmlab.protocol.timeline) lists each step once; here every block
repetition gets its own row ("occurrence") so the operator sees the whole script, and step
events are matched to rows by their path (steps[1].steps[0]) in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cpmlab.console.protocol_clock import ProtocolClock
from cpmlab.core import events as ev
from cpmlab.protocol.model import Protocol, StepBase
from cpmlab.protocol.timeline import TimelineEntry, build_timeline, format_clock, total_duration_s
from cpmlab.protocol.walk import fmt_path

LEAF_DONE = ("done", "timeout", "ended at hard maximum")


def format_zones(zones: object) -> str:
    """Return zones as '1-5' when contiguous, else '1,3,5'."""
    try:
        z = sorted(int(v) for v in zones)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return str(zones)
    if len(z) > 2 and z == list(range(z[0], z[-1] + 1)):
        return f"{z[0]}-{z[-1]}"
    return ",".join(str(v) for v in z)


def row_text(occ: Occurrence, variables: dict[str, Any]) -> str:
    """Return a short description of a row of the step list."""
    text = occ.step.list_text(variables) if occ.step is not None else None
    return text if text is not None else occ.description


@dataclass
class Occurrence:
    """One row of the script: a step (or one repetition of it) with its expected start."""

    index: int
    path: str
    rep: int | None
    rep_of: int | None
    start_s: float  # expected start, protocol seconds from the session start
    duration_s: float
    depth: int
    kind: str
    step_id: str | None
    description: str
    upper_bound: bool
    leaf: bool
    step: StepBase | None = None
    state: str = "pending"  # pending, running, done, or the step_end status
    started_pc: float | None = None  # protocol clock at step_start
    started_t: float | None = None  # shared clock at step_start
    actual_duration_s: float | None = None  # a random wait's drawn length (its 'wait' marker)

    @property
    def end_s(self) -> float:
        """Expected end, protocol seconds."""
        return self.start_s + self.duration_s


def build_occurrences(protocol: Protocol, variables: dict[str, Any] | None = None) -> list[Occurrence]:
    """Return every step occurrence (block repetitions expanded) with its expected start."""
    entries = build_timeline(protocol, variables)
    by_path = {fmt_path(v.path): e for v, e in zip(protocol.walk(), entries, strict=True)}
    out: list[Occurrence] = []
    for visit in protocol.walk(expand_repetitions=True):
        key = fmt_path(visit.path)
        e = by_path[key]
        shift = 0.0
        for repetition in visit.repetitions:  # each earlier repetition of an enclosing step moves this one
            once = by_path[fmt_path(repetition.step_path)].duration_s / repetition.of
            shift += (repetition.rep - 1) * once
        step = visit.step
        out.append(
            Occurrence(
                len(out), key, visit.rep, visit.rep_of, e.start_s + shift, e.duration_s, e.depth, e.kind,
                e.step_id, step.operator_description(e.description), e.upper_bound, not step.children(), step,
            )
        )  # fmt: skip
    return out


def pausable(occ: Occurrence) -> bool:
    """True for a step whose wait the engine suspends while paused (a wait without participant text)."""
    return occ.kind == "wait" and occ.step is not None and not getattr(occ.step, "text", None)


def next_phrase(occ: Occurrence, variables: dict[str, Any]) -> str:
    """Return what the operator should expect, e.g. 'Hand into the water (10 °C, 60 s)'."""
    phrase = occ.step.announcement(variables) if occ.step is not None else None
    return phrase if phrase is not None else occ.description


class SessionProgress:
    """Track step events against the expected timeline; every time in protocol seconds."""

    def __init__(self, occurrences: list[Occurrence], speed: float, variables: dict[str, Any] | None = None) -> None:
        self.occurrences = occurrences
        self.speed = speed
        self.variables = dict(variables or {})
        top = [
            TimelineEntry(o.start_s, o.duration_s, o.depth, o.kind, o.step_id, o.description, o.upper_bound)
            for o in occurrences
            if o.depth == 0
        ]
        self.total_s = total_duration_s(top)
        self.clock = ProtocolClock()
        self.clock.speed = speed
        self.immersion_t: float | None = None  # flip of the running immersion's countdown (immersion_start)
        self._last_done: Occurrence | None = None

    @property
    def t0(self) -> float | None:
        """Shared-clock time of session_start (None before it)."""
        return self.clock.t0

    @property
    def t_end(self) -> float | None:
        """Shared-clock time of session_end (None while running)."""
        return self.clock.t_end

    # -- clocks ----------------------------------------------------------------------------
    def protocol_clock_s(self, t: float) -> float:
        """Protocol seconds since session start at shared-clock time t (the data's time base)."""
        return self.clock.at(t)

    def step_elapsed_s(self, occ: Occurrence, t: float) -> float:
        """Protocol seconds a started row has run; a pausable wait stands still while paused."""
        if occ.started_t is None:
            return 0.0
        return self.clock.since(occ.started_t, t, pausable=pausable(occ))

    def position_s(self, t: float) -> float:
        """Where the session is on the expected timeline (protocol seconds; frozen while paused between steps)."""
        running = [o for o in self.occurrences if o.leaf and o.state == "running" and o.started_t is not None]
        if running:
            return max(o.start_s + min(self.step_elapsed_s(o, t), o.duration_s) for o in running)
        if self._last_done is not None:
            return self._last_done.end_s
        return 0.0

    def start_of(self, occ: Occurrence, t: float) -> float:
        """Actual start of a started row, else its expected start given the delays so far (protocol s)."""
        if occ.started_pc is not None:
            return occ.started_pc
        now_s = self.clock.at(t)
        return max(occ.start_s + now_s - self.position_s(t), now_s)

    def remaining_s(self, t: float) -> float:
        """Expected protocol seconds left (upper bound: screens may end sooner)."""
        if self.t_end is not None:
            return 0.0
        return max(self.total_s - self.position_s(t) - self._shortfall_s(), 0.0)

    def _shortfall_s(self) -> float:
        """Protocol seconds by which running random waits end before their timeline maximum."""
        return sum(
            max(o.duration_s - o.actual_duration_s, 0.0) for o in self.current() if o.actual_duration_s is not None
        )

    # -- events ----------------------------------------------------------------------------
    def on_event(self, event: ev.Event) -> list[int]:
        """Apply an event; return the indices of rows whose state changed."""
        kind, data = event.kind, event.data
        self.clock.on_event(event)
        if kind == ev.SESSION_START:
            self.speed = self.clock.speed
            return []
        if kind == ev.SESSION_END:
            self.immersion_t = None
            changed = []
            for o in self.occurrences:
                if o.state == "running":
                    o.state = "aborted"
                    changed.append(o.index)
            return changed
        if kind == ev.IMMERSION:
            stage = data.get("stage")
            self.immersion_t = (
                event.t if stage == "immersion_start" else None if stage == "immersion_end" else self.immersion_t
            )
            return []
        if kind == ev.MARKER and data.get("name") == "wait":
            waiting = [o for o in self.current() if o.kind == "wait"]
            if waiting and data.get("duration_s") is not None:
                waiting[-1].actual_duration_s = float(data["duration_s"])  # a random wait's drawn length
            return []
        if kind == ev.STEP_START:
            occ = self._find(data.get("path", ""), data.get("rep"), ("pending",))
            if occ is None:
                return []
            occ.state = "running"
            occ.started_t = event.t
            occ.started_pc = self.clock.at(event.t)
            return [occ.index]
        if kind == ev.STEP_END:
            occ = self._find(data.get("path", ""), data.get("rep"), ("running",))
            if occ is None:
                return []
            status = str(data.get("status", "done"))
            occ.state = "done" if status in LEAF_DONE else status
            if occ.leaf:
                self._last_done = occ
            return [occ.index]
        return []

    def _find(self, path: str, rep: int | None, states: tuple[str, ...]) -> Occurrence | None:
        candidates = [o for o in self.occurrences if o.path == path and o.state in states]
        if rep is not None:
            with_rep = [o for o in candidates if o.rep == rep]
            candidates = with_rep or candidates
        return candidates[0] if candidates else None

    # -- what is happening -----------------------------------------------------------------
    def current(self) -> list[Occurrence]:
        """Return the running leaf steps (several inside a parallel step)."""
        return [o for o in self.occurrences if o.leaf and o.state == "running"]

    def current_index(self) -> int | None:
        """Return the row to keep in view: the latest running leaf, else the latest started row."""
        running = self.current()
        if running:
            return running[-1].index
        started = [o.index for o in self.occurrences if o.state != "pending"]
        return started[-1] if started else None

    def next_up(self, t: float) -> tuple[Occurrence, float] | None:
        """Return the next notable step and the protocol seconds until it is expected."""
        started = [o.index for o in self.occurrences if o.leaf and o.state != "pending"]
        after = started[-1] if started else -1
        running_ids = {id(o) for o in self.current()}
        for o in self.occurrences[after + 1 :]:
            if o.leaf and o.state == "pending" and o.step is not None and o.step.notable and id(o) not in running_ids:
                return o, max(o.start_s - self.position_s(t) - self._shortfall_s(), 0.0)
        return None

    def next_text(self, t: float) -> str:
        """Return e.g. 'Hand into the water (10 °C, 60 s) in 0:12', or '' at the end."""
        if self.t_end is not None:
            return ""
        up = self.next_up(t)
        if up is None:
            return "Last step: the session ends after it"
        occ, in_s = up
        in_s = max(math.ceil(in_s - 1e-6), 0)  # rounded up, as countdowns are: 'in 0:28' while '0:28 left'
        phrase = next_phrase(occ, self.variables)
        if any(o.upper_bound and o.actual_duration_s is None for o in self.current()):
            return f"{phrase} when this step ends (at most {format_clock(in_s)})"
        return f"{phrase} in {format_clock(in_s)}"
