"""Values for protocol variables are checked before a session: unknown names, types and the limits."""

from __future__ import annotations

from pathlib import Path

from cpmlab.protocol.loader import effective_limits, load_protocol
from cpmlab.protocol.overrides import parse_variable_text, variable_problems

ROOT = Path(__file__).resolve().parents[2]


def test_values_inside_the_limits_pass_and_outside_name_the_step() -> None:
    """46.5 C is fine for cpm_sequential; 50.5 C is refused at each test stimulus naming the limit."""
    protocol = load_protocol(ROOT / "protocols" / "cpm_sequential.yaml")
    limits = effective_limits(protocol, None)
    assert variable_problems(protocol, {"ts_target_c": 46.5}, limits) == []
    out = variable_problems(protocol, {"ts_target_c": 50.5}, limits)
    assert out and all("target_c 50.5 C is outside the allowed range" in p for p in out), out


def test_unknown_names_and_non_numbers_are_refused() -> None:
    """A name the protocol does not declare, and text for a numeric variable, are each refused."""
    protocol = load_protocol(ROOT / "protocols" / "cpm_sequential.yaml")
    limits = effective_limits(protocol, None)
    assert "has no such variable" in variable_problems(protocol, {"ts_target": 45}, limits)[0]
    assert "is not a number" in variable_problems(protocol, {"ts_target_c": "hot"}, limits)[0]
    assert parse_variable_text(protocol, "ts_target_c", " 45.5 ") == 45.5
