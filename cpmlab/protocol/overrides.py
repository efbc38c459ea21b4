"""Check values given for a protocol's variables (carried from a visit, --set, a form) before a session opens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import format_path
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.safety import check_protocol


def variable_problems(protocol: Protocol, values: Mapping[str, Any], limits: SafetyLimits) -> list[str]:
    """Return what is wrong with values for protocol's variables: unknown names, wrong types, limits."""
    problems: list[str] = []
    known = protocol.variables
    for name, value in values.items():
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none"
            problems.append(f"{name}: {protocol.name} has no such variable (its variables: {allowed})")
        elif value is None:
            problems.append(f"{name}: no value")
        elif isinstance(known[name], int | float) and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{name}: {value!r} is not a number")
    if problems:
        return problems
    trial = protocol.model_copy(update={"variables": {**known, **values}})
    for path, message in check_protocol(trial, limits):
        problems.append(f"{format_path(path)}: {message}")
    return problems


def parse_variable_text(protocol: Protocol, name: str, text: str) -> float | int | str:
    """Convert a typed value to the type of the protocol's default for name; raise ValueError if it is not one."""
    if name not in protocol.variables:
        raise ValueError(f"{protocol.name} has no variable {name!r}")
    default = protocol.variables[name]
    text = text.strip()
    if isinstance(default, bool) or not isinstance(default, int | float):
        return text
    try:
        return int(text) if isinstance(default, int) and text.lstrip("-").isdigit() else float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None
