"""Whole-protocol checks after schema validation: limits, ids, references, variables."""

from __future__ import annotations

from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.values import Expr, ExpressionError
from cpmlab.protocol.walk import StepPath, fmt_path

BUILTIN_VARIABLES = frozenset({"participant", "session", "run", "speed"})


def check_protocol(protocol: Protocol, limits: SafetyLimits) -> list[tuple[StepPath, str]]:
    """Return (path, message) for every limit, id, reference or variable problem."""
    out: list[tuple[StepPath, str]] = []
    defaults = dict(protocol.variables)
    known = set(defaults) | BUILTIN_VARIABLES
    ids: dict[str, StepPath] = {}
    stimulus_ids: set[str] = set()

    for visit in protocol.walk():
        path, step = visit.path, visit.step
        if step.id is not None:
            if step.id in ids:
                out.append(((*path, "id"), f"step id {step.id!r} is already used at {fmt_path(ids[step.id])}"))
            ids[step.id] = path
        if step.stimulus is not None and step.id:
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
        known |= set(step.defines())
        out += [((*path, field), message) for field, message in step.safety_problems(limits, defaults)]

    for visit in protocol.walk():
        rated = visit.step.rated_step_id()
        if rated is not None and rated not in stimulus_ids:
            out.append(
                (
                    (*visit.path, "rates"),
                    f"refers to {rated!r}, which is not the id of a thermal or immersion step",
                )
            )
    return out
