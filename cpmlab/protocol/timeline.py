"""The expected timeline of a protocol: each step's start and the total duration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cpmlab.protocol.model import (
    Block,
    ContinuousRating,
    Immersion,
    Instruction,
    Marker,
    Parallel,
    Protocol,
    Rating,
    SetVariable,
    Thermal,
    Wait,
)
from cpmlab.protocol.values import Expr, ExpressionError, resolve


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


def _num(value: float | Expr | None, variables: dict[str, Any]) -> float | None:
    if value is None:
        return None
    try:
        return resolve(value, variables)
    except ExpressionError:
        return None


def thermal_total_s(step: Thermal, variables: dict[str, Any]) -> float | None:
    """Ramp + plateau + return of a thermal step, or None if a variable has no value."""
    if step.total_s is not None:
        return _num(step.total_s, variables)
    target, base = _num(step.target_c, variables), _num(step.baseline_c, variables)
    up, down = _num(step.ramp_c_per_s, variables), _num(step.return_c_per_s, variables)
    plateau = _num(step.plateau_s, variables)
    if None in (target, base, up, down, plateau):
        return None
    assert target is not None and base is not None and up and down and plateau is not None
    return abs(target - base) / up + plateau + abs(target - base) / down


def _describe(step: Any, variables: dict[str, Any]) -> tuple[str, float, bool]:
    if isinstance(step, Instruction):
        text = step.text.strip().splitlines()[0][:50]
        if step.end == "timeout":
            return f'instruction "{text}"', step.timeout_s or 0.0, False
        return f'instruction "{text}" (until {step.key})', step.timeout_s or 0.0, True
    if isinstance(step, Wait):
        if step.duration_s is not None:
            d = _num(step.duration_s, variables)
            return f"wait {d:g} s" if d is not None else f"wait {step.duration_s}", d or 0.0, False
        assert step.min_s is not None and step.max_s is not None
        return f"wait {step.min_s:g}-{step.max_s:g} s (random)", step.max_s, True
    if isinstance(step, Thermal):
        target = _num(step.target_c, variables)
        t_text = f"{target:.1f} C" if target is not None else str(step.target_c)
        total = thermal_total_s(step, variables)
        zones = ",".join(str(z) for z in step.zones)
        what = f"heat {t_text} zones {zones} [{step.role}/{step.phase}]"
        return what, total or 0.0, total is None
    if isinstance(step, Immersion):
        sp = _num(step.setpoint_c, variables)
        sp_text = f"{sp:g} C" if sp is not None else str(step.setpoint_c)
        if step.until_withdrawal:
            return f"cold pressor {sp_text} until withdrawal (max {step.max_s:g} s)", step.max_s, True
        return f"cold pressor {sp_text} for {step.duration_s:g} s [{step.role}/{step.phase}]", step.duration_s, False
    if isinstance(step, Rating):
        about = f" of {step.rates}" if step.rates else ""
        return f"{step.scale.upper()} rating{about}", step.timeout_s, True
    if isinstance(step, ContinuousRating):
        d = _num(step.duration_s, variables) or 0.0
        return f"continuous {step.scale.upper()} rating for {d:g} s at {step.rate_hz:g} Hz", d, False
    if isinstance(step, Marker):
        return f"marker {step.name}", 0.0, False
    if isinstance(step, SetVariable):
        return f"set {step.variable} = {step.value}", 0.0, False
    describe = getattr(step, "describe", None)
    if callable(describe):
        return describe(variables)
    return step.type, 0.0, False


def build_timeline(protocol: Protocol, variables: dict[str, Any] | None = None) -> list[TimelineEntry]:
    """Return the expected timeline (upper bounds for screens that end on a key)."""
    variables = {**protocol.variables, **(variables or {})}
    entries: list[TimelineEntry] = []

    def visit(steps: list[Any], start: float, depth: int) -> float:
        t = start
        for step in steps:
            t = t + visit_one(step, t, depth)
        return t - start

    def visit_one(step: Any, start: float, depth: int) -> float:
        if isinstance(step, Parallel):
            entries.append(TimelineEntry(start, 0.0, depth, "parallel", step.id, "together:"))
            index = len(entries) - 1
            longest = max(visit([child], start, depth + 1) for child in step.steps)
            entries[index] = TimelineEntry(start, longest, depth, "parallel", step.id, "together:")
            return longest
        if isinstance(step, Block):
            order = " in random order" if step.randomize else ""
            head = f"block x{step.repeat}{order}:"
            entries.append(TimelineEntry(start, 0.0, depth, "block", step.id, head))
            index = len(entries) - 1
            once = visit(step.steps, start, depth + 1)
            entries[index] = TimelineEntry(start, once * step.repeat, depth, "block", step.id, head)
            return once * step.repeat
        if isinstance(step, SetVariable):
            value = _num(step.value, variables)
            if value is not None:
                variables[step.variable] = value
        description, duration, bounded = _describe(step, variables)
        estimate = getattr(step, "estimate_c", None)
        if callable(estimate) and hasattr(step, "variable"):
            variables.setdefault(step.variable, estimate())  # timelines only; the session uses the result
        entries.append(TimelineEntry(start, duration, depth, step.type, step.id, description, bounded))
        return duration

    visit(protocol.steps, 0.0, 0)
    return entries


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
