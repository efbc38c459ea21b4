"""Protocol loading: valid files load; each class of invalid file gets a message naming file, line, field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import ProtocolError, load_protocol, parse_protocol
from cpmlab.protocol.model import Block, Parallel, Thermal
from cpmlab.protocol.values import Expr

HEADER = """\
name: t
title: Test
task: cpmtest
limits: {max_thermode_c: 48, max_plateau_s: 60, max_immersion_s: 90, min_bath_c: 6}
"""


def parse(body: str, lab: SafetyLimits | None = None):
    return parse_protocol(HEADER + textwrap.dedent(body), "p.yaml", lab)


def problems(body: str, lab: SafetyLimits | None = None) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        parse(body, lab)
    return [str(p) for p in info.value.problems]


def test_shipped_protocols_all_load(protocols_dir: Path) -> None:
    """Every protocol in protocols/ validates."""
    files = sorted(protocols_dir.glob("*.yaml"))
    assert files
    for path in files:
        load_protocol(path)


def test_every_step_kind_loads_into_typed_models() -> None:
    """A file using every step kind loads, with expressions kept for run time."""
    p = parse("""
        variables: {ts_c: 45}
        steps:
          - {type: instruction, text: Hello, end: key}
          - {type: wait, min_s: 1, max_s: 2}
          - {type: thermal, id: ts, target_c: "${ts_c}", plateau_s: 5, zones: [1, 2]}
          - {type: rating, rates: ts, scale: nrs, timeout_s: 5}
          - type: parallel
            steps:
              - {type: immersion, id: cs, setpoint_c: 10, duration_s: 30, max_s: 60, ratings_at_s: [10]}
              - {type: block, repeat: 2, randomize: true, steps: [{type: thermal, id: ts2, target_c: 44, total_s: 20}]}
          - {type: continuous_rating, duration_s: 10, rates: ts2}
          - {type: marker, name: done}
          - {type: set, variable: x, value: "${ts_c + 1}"}
    """)
    assert isinstance(p.steps[2], Thermal)
    assert isinstance(p.steps[2].target_c, Expr)
    assert isinstance(p.steps[4], Parallel)
    assert isinstance(p.steps[4].steps[1], Block)


def test_yaml_syntax_error_names_the_line() -> None:
    """Broken YAML is reported with its line."""
    msgs = problems("steps:\n  - {type: wait, duration_s: 1\n")
    assert msgs[0].startswith("p.yaml:")
    assert "not valid YAML" in msgs[0]


def test_unknown_field_names_file_line_and_field() -> None:
    """A misspelt field points at its line and path."""
    msgs = problems("""
        steps:
          - type: thermal
            target_c: 45
            plateu_s: 5
    """)
    assert any(m.startswith("p.yaml:9: steps[0].plateu_s: unknown field") for m in msgs), msgs


def test_unknown_step_type_lists_the_allowed_ones() -> None:
    """A bad step type says which types exist."""
    msgs = problems("steps:\n  - {type: heat, target_c: 45}\n")
    assert "unknown step type 'heat'" in msgs[0] and "'thermal'" in msgs[0]
    assert msgs[0].startswith("p.yaml:6: steps[0]")


def test_target_above_protocol_limit_is_refused_with_the_range() -> None:
    """A target above the header's max_thermode_c names the allowed range."""
    msgs = problems("steps:\n  - {type: thermal, target_c: 49, plateau_s: 5}\n")
    assert msgs == ["p.yaml:6: steps[0].target_c: target_c 49 C is outside the allowed range 5-48 C"]


def test_lab_limits_stricter_than_protocol_win() -> None:
    """The lab config's stricter maximum applies even though the protocol allows more."""
    body = "steps:\n  - {type: thermal, target_c: 47, plateau_s: 5}\n"
    parse(body)  # fine under the protocol's 48 C
    msgs = problems(body, SafetyLimits(max_thermode_c=46.0))
    assert "allowed range 5-46 C" in msgs[0]


def test_protocol_limit_above_absolute_ceiling_is_refused() -> None:
    """A header cannot raise the thermode ceiling above the absolute maximum."""
    with pytest.raises(ProtocolError) as info:
        parse_protocol(
            "name: t\ntitle: T\ntask: x\nlimits: {max_thermode_c: 70}\nsteps: [{type: marker, name: m}]\n", "p.yaml"
        )
    assert "limits.max_thermode_c" in str(info.value) and "allowed range: > 0 and <= 55" in str(info.value)


def test_variable_default_is_checked_against_limits() -> None:
    """An expression whose default value breaks a limit is refused at load time."""
    msgs = problems('variables: {ts_c: 52}\nsteps:\n  - {type: thermal, target_c: "${ts_c}", plateau_s: 5}\n')
    assert "target_c" in msgs[0] and "52" in msgs[0]


def test_undefined_variable_is_refused() -> None:
    """Using a variable nobody defines is an error at load time."""
    msgs = problems('steps:\n  - {type: thermal, target_c: "${nope}", plateau_s: 5}\n')
    assert "nope" in msgs[0] and "steps[0].target_c" in msgs[0]


def test_malformed_expression_is_refused() -> None:
    """Only arithmetic on variables is allowed in expressions."""
    msgs = problems('steps:\n  - {type: thermal, target_c: "${__import__(1)}", plateau_s: 5}\n')
    assert "steps[0].target_c" in msgs[0]


def test_immersion_longer_than_limit_is_refused() -> None:
    """max_s above the lab's max_immersion_s is refused."""
    msgs = problems("steps:\n  - {type: immersion, setpoint_c: 10, duration_s: 60, max_s: 100}\n")
    assert "steps[0].max_s" in msgs[0] and "90" in msgs[0]


def test_bath_colder_than_minimum_is_refused() -> None:
    """A setpoint below min_bath_c is refused."""
    msgs = problems("steps:\n  - {type: immersion, setpoint_c: 3, duration_s: 60, max_s: 60}\n")
    assert "steps[0].setpoint_c" in msgs[0] and "outside the allowed range 6-" in msgs[0]


def test_rating_reference_must_exist() -> None:
    """rates: must name a thermal or immersion step."""
    msgs = problems("steps:\n  - {type: rating, rates: ghost}\n")
    assert "steps[0].rates" in msgs[0] and "ghost" in msgs[0]


def test_duplicate_step_ids_and_keys_are_refused() -> None:
    """Ids are unique and a key given twice is an error, not silently dropped."""
    msgs = problems("steps:\n  - {type: marker, id: a, name: x}\n  - {type: marker, id: a, name: y}\n")
    assert "already used" in msgs[0]
    msgs = problems("steps:\n  - type: marker\n    name: x\n    name: y\n")
    assert msgs[0] == "p.yaml:8: steps[0].name: key given twice"


def test_wrong_type_and_range_messages_include_the_allowed_range() -> None:
    """Out-of-range schema values say the range; wrong types say what was expected."""
    msgs = problems("steps:\n  - {type: rating, timeout_s: 900}\n")
    assert "steps[0].timeout_s" in msgs[0] and "allowed range: > 0 and <= 600" in msgs[0]
    msgs = problems("steps:\n  - {type: thermal, target_c: hot, plateau_s: 5}\n")
    assert "steps[0].target_c" in msgs[0] and "expected a number" in msgs[0]


def test_missing_required_fields_and_empty_files() -> None:
    """Missing fields, an empty file and a non-mapping file each get a message."""
    msgs = problems("steps:\n  - {type: thermal, plateau_s: 5}\n")
    assert "steps[0].target_c: Field required" in msgs[0]
    for text, expected in (("", "empty"), ("- a\n- b\n", "must be a mapping")):
        with pytest.raises(ProtocolError, match=expected):
            parse_protocol(text, "p.yaml")


def test_missing_file_is_a_protocol_error(tmp_path: Path) -> None:
    """A path that does not exist is reported, not a traceback."""
    with pytest.raises(ProtocolError, match="no such file"):
        load_protocol(tmp_path / "missing.yaml")


def test_bad_task_label_is_refused() -> None:
    """The BIDS task label must be alphanumeric."""
    with pytest.raises(ProtocolError, match="task"):
        parse_protocol("name: t\ntitle: T\ntask: cpm-seq\nsteps: [{type: marker, name: m}]\n", "p.yaml")
