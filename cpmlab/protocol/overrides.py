"""Check values given for a protocol's variables (carried from a visit, --set, a form) before a session opens."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.safety import check_protocol
from cpmlab.protocol.walk import fmt_path


def value_problems(protocol: Protocol, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return (name, message) for every value that names no declared variable or has the wrong type."""
    problems: list[tuple[str, str]] = []
    known = protocol.variables
    for name, value in values.items():
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none"
            problems.append((name, f"{name}: {protocol.name} has no such variable (it declares: {allowed})"))
        elif value is None:
            problems.append((name, f"{name}: no value"))
        elif _is_number(known[name]) and not (_is_number(value) and math.isfinite(value)):
            problems.append((name, f"{name}: {value!r} is not a number"))
    return problems


def with_values(protocol: Protocol, values: Mapping[str, Any]) -> Protocol:
    """Return the protocol with its declared variables set to values (numbers as float)."""
    merged = dict(protocol.variables)
    for name, value in values.items():
        merged[name] = float(value) if _is_number(protocol.variables.get(name)) else str(value)
    return protocol.model_copy(update={"variables": merged})


def variable_problems(protocol: Protocol, values: Mapping[str, Any], limits: SafetyLimits) -> list[str]:
    """Return what is wrong with values for protocol's variables: unknown names, wrong types, limits."""
    problems = [message for _, message in value_problems(protocol, values)]
    if problems:
        return problems
    return [f"{fmt_path(path)}: {message}" for path, message in check_protocol(with_values(protocol, values), limits)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
