"""The expected timeline of a protocol: each step's start and the total duration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cpmlab.protocol.model import Protocol
from cpmlab.protocol.model.base import sequence_offsets
from cpmlab.protocol.walk import StepPath, child_path


@dataclass(frozen=True)
class TimelineEntry:
    """One step on the expected timeline (times in protocol seconds)."""

    start_s: float
    duration_s: float
    depth: int
    kind: str
    step_id: str | None
    description: str
    upper_bound: bool = False  # duration is a timeout or maximum, may end sooner


def build_timeline(protocol: Protocol, variables: dict[str, Any] | None = None) -> list[TimelineEntry]:
    """Return the expected timeline in walk order (upper bounds for screens that end on a key)."""
    variables = {**protocol.variables, **(variables or {})}
    visits = list(protocol.walk())
    # 1. in protocol order, so a step sees the values earlier steps set
    text: dict[StepPath, str] = {}
    own: dict[StepPath, tuple[float, bool]] = {}
    for visit in visits:
        step = visit.step
        text[visit.path] = step.timeline_text(variables)
        own[visit.path] = step.expected_duration(variables) if not step.children() else (0.0, False)
        step.estimate_into(variables)  # timelines only; the session uses what the step finds
    # 2. innermost first: a group lasts as its children say
    duration: dict[StepPath, float] = {}
    for visit in reversed(visits):
        children = visit.step.children()
        kids = [duration[child_path(visit.path, i)] for i in range(len(children))]
        duration[visit.path] = visit.step.combined_duration_s(kids) if children else own[visit.path][0]
    # 3. outermost first: each child starts where its parent puts it
    tops = [v.path for v in visits if v.depth == 0]
    start = dict(zip(tops, sequence_offsets([duration[p] for p in tops]), strict=True))
    for visit in visits:
        children = visit.step.children()
        offsets = visit.step.child_offsets([duration[child_path(visit.path, i)] for i in range(len(children))])
        for i, offset in enumerate(offsets):
            start[child_path(visit.path, i)] = start[visit.path] + offset
    return [
        TimelineEntry(
            start[v.path],
            duration[v.path],
            v.depth,
            v.step.type,
            v.step.id,
            text[v.path],
            own[v.path][1],
        )
        for v in visits
    ]


def total_duration_s(entries: list[TimelineEntry]) -> float:
    """Return the end of the last top-level step."""
    top = [e for e in entries if e.depth == 0]
    return max((e.start_s + e.duration_s for e in top), default=0.0)


def format_clock(seconds: float) -> str:
    """Format seconds as m:ss (or h:mm:ss)."""
    seconds = round(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_timeline(protocol: Protocol, entries: list[TimelineEntry]) -> str:
    """Return a readable timeline: each step's start, duration and what it does."""
    lines = [f"{protocol.title} ({protocol.name}, task-{protocol.task})"]
    for e in entries:
        dur = ("<=" if e.upper_bound else "") + f"{e.duration_s:g} s"
        ident = f" [{e.step_id}]" if e.step_id else ""
        lines.append(f"  {format_clock(e.start_s):>7}  {dur:>10}  {'  ' * e.depth}{e.description}{ident}")
    total = total_duration_s(entries)
    bounded = any(e.upper_bound for e in entries)
    lines.append(f"  total: {format_clock(total)} ({total:g} s{', at most' if bounded else ''})")
    return "\n".join(lines)
