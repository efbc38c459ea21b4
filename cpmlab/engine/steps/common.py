"""Helpers every step kind uses: the step's event fields, measurements and session variables."""

from __future__ import annotations

from typing import Any

from cpmlab.core import events as ev
from cpmlab.engine.context import SessionContext


def step_fields(ctx: SessionContext, step: Any) -> dict[str, Any]:
    """Return the fields that identify a step in its events (role and phase of what it rates)."""
    fields = {"step_id": step.id, "step_type": step.type}
    for name in ("role", "phase", "rates", "label"):
        value = getattr(step, name, None)
        if value is not None:
            fields[name] = value
    if getattr(step, "rates", None) and step.rates in ctx.by_id:
        ref: Any = ctx.by_id[step.rates]
        fields.setdefault("role", ref.role)
        fields.setdefault("phase", ref.phase)
    return fields


def measure(ctx: SessionContext, name: str, value: float | None, t: float | None = None, **details: Any) -> None:
    """Journal a procedure's measurement (calibration, threshold, PDT/PTT)."""
    ctx.bus.emit(ev.MEASURE, t=t, measure=name, value=value, **details)


def set_variable(ctx: SessionContext, name: str, value: Any, source: str, **details: Any) -> None:
    """Store a session variable for later steps and journal it."""
    ctx.variables[name] = value
    ctx.bus.emit(ev.VARIABLE, name=name, value=value, source=source, **details)
