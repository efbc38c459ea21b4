"""Whole-protocol checks after schema validation: limits, ids, references, variables."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from cpmlab.core.errors import LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.model import (
    Block,
    Calibration,
    ContinuousRating,
    HeatThreshold,
    Immersion,
    Parallel,
    Protocol,
    Rating,
    SetVariable,
    Thermal,
)
from cpmlab.protocol.values import Expr, ExpressionError

BUILTIN_VARIABLES = frozenset({"participant", "session", "run", "speed"})

Path_ = tuple[str | int, ...]


def iter_steps(steps: list[Any], base: Path_ = ("steps",)) -> Iterator[tuple[Path_, Any]]:
    """Yield (yaml path, step) for every step, depth first."""
    for i, step in enumerate(steps):
        path = (*base, i)
        yield path, step
        if isinstance(step, Parallel | Block):
            yield from iter_steps(step.steps, (*path, "steps"))


def step_variables(step: Any) -> set[str]:
    """Return the variable names a step defines when it runs."""
    if isinstance(step, SetVariable):
        return {step.variable}
    defines = getattr(step, "defines", None)
    return set(defines()) if callable(defines) else set()


def _check_value(
    value: Any, check: Any, path: Path_, field: str, defaults: dict[str, Any], out: list[tuple[Path_, str]]
) -> None:
    """Check a numeric value now, or an expression's value from variable defaults if it has them."""
    if isinstance(value, Expr):
        try:
            value = value.evaluate(defaults)
        except ExpressionError:
            return  # computed at run time; the engine and the driver check it before sending
        field += " (default value of its expression)"
    try:
        check(value)
    except LimitError as exc:
        out.append(((*path, field.split(" ")[0]), str(exc)))


def _check_calibration(step: Calibration, path: Path_, limits: SafetyLimits, out: list[tuple[Path_, str]]) -> None:
    """Every temperature a calibration may deliver must be inside the limits."""
    values: list[tuple[str, float]] = [
        ("ceiling_c", step.ceiling_c),
        ("floor_c", step.floor_c),
        ("start_c", step.start_c),
        ("baseline_c", step.baseline_c),
    ]
    values += [("temperatures", t) for t in step.temperatures]
    if step.fallback_c is not None:
        values.append(("fallback_c", step.fallback_c))
    for name, value in values:
        try:
            limits.check_thermode_c(value, name)
        except LimitError as exc:
            out.append(((*path, name), str(exc)))
    if step.method != "fit" and not step.floor_c <= step.start_c <= step.ceiling_c:
        out.append(((*path, "start_c"), f"start_c {step.start_c:g} must lie between floor_c and ceiling_c"))
    for name, value in (("ramp_c_per_s", step.ramp_c_per_s), ("return_c_per_s", step.return_c_per_s)):
        try:
            limits.check_ramp(value, name)
        except LimitError as exc:
            out.append(((*path, name), str(exc)))
    try:
        limits.check_plateau_s(step.plateau_s)
    except LimitError as exc:
        out.append(((*path, "plateau_s"), str(exc)))


def check_protocol(protocol: Protocol, limits: SafetyLimits) -> list[tuple[Path_, str]]:
    """Return (path, message) for every limit, id, reference or variable problem."""
    out: list[tuple[Path_, str]] = []
    defaults = dict(protocol.variables)
    known = set(defaults) | BUILTIN_VARIABLES
    ids: dict[str, Path_] = {}
    stimulus_ids: set[str] = set()

    for path, step in iter_steps(protocol.steps):
        if step.id is not None:
            if step.id in ids:
                out.append(((*path, "id"), f"step id {step.id!r} is already used at {_fmt(ids[step.id])}"))
            ids[step.id] = path
        if isinstance(step, Thermal | Immersion) and step.id:
            stimulus_ids.add(step.id)

        for field_name in type(step).model_fields:
            value = getattr(step, field_name)
            if isinstance(value, Expr):
                try:
                    missing = value.names() - known
                except ExpressionError as exc:
                    out.append(((*path, field_name), str(exc)))
                    continue
                if missing:
                    out.append(
                        (
                            (*path, field_name),
                            f"uses variable(s) {', '.join(sorted(missing))} that no earlier step "
                            f"or the 'variables' header defines",
                        )
                    )
        known |= step_variables(step)

        if isinstance(step, Thermal | HeatThreshold):
            temperatures = ("target_c", "baseline_c") if isinstance(step, Thermal) else ("ceiling_c", "baseline_c")
            for name in temperatures:
                check = partial(limits.check_thermode_c, what=name)
                _check_value(getattr(step, name), check, path, name, defaults, out)
            for name in ("ramp_c_per_s", "return_c_per_s"):
                _check_value(getattr(step, name), partial(limits.check_ramp, what=name), path, name, defaults, out)
            if isinstance(step, Thermal) and step.plateau_s is not None:
                _check_value(step.plateau_s, limits.check_plateau_s, path, "plateau_s", defaults, out)
        elif isinstance(step, Calibration):
            _check_calibration(step, path, limits, out)
        elif isinstance(step, Immersion):
            _check_value(step.setpoint_c, limits.check_bath_c, path, "setpoint_c", defaults, out)
            try:
                limits.check_immersion_s(step.max_s)
            except LimitError as exc:
                out.append(((*path, "max_s"), str(exc) + " (limits.max_immersion_s)"))

    for path, step in iter_steps(protocol.steps):
        if isinstance(step, Rating | ContinuousRating) and step.rates is not None and step.rates not in stimulus_ids:
            out.append(
                (
                    (*path, "rates"),
                    f"refers to {step.rates!r}, which is not the id of a thermal or immersion step",
                )
            )
    return out


def _fmt(path: Path_) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
