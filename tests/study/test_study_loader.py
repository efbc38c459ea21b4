"""Study files: the shipped example loads; each kind of mistake is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_helpers import STUDY

from cpmlab.study.loader import StudyError, load_study, parse_study

ROOT = Path(__file__).resolve().parents[2]


def problems(text: str) -> list[str]:
    with pytest.raises(StudyError) as info:
        parse_study(text, str(ROOT / "studies" / "x.yaml"))
    return [str(p).split("x.yaml", 1)[1] for p in info.value.problems]


def test_shipped_example_study_loads_with_a_protocol_per_visit_and_condition() -> None:
    """cpm_active_sham (by name) names a protocol for both conditions of both visits, and visit 2 carries ts_target_c."""
    loaded = load_study("cpm_active_sham")
    assert set(loaded.protocols) == {("v1", "active"), ("v1", "sham"), ("v2", "active"), ("v2", "sham")}
    assert loaded.protocols[("v1", "sham")].condition == "sham"
    assert loaded.protocols[("v2", "sham")].name == "cpm_sham_control"
    assert loaded.study.visit("v2").carry["ts_target_c"].from_visit == "v1"


def test_the_small_test_study_loads() -> None:
    """The helper study is valid (so the failures below come from the one change each makes)."""
    assert parse_study(STUDY, str(ROOT / "studies" / "x.yaml")).study.name == "s"


def test_unknown_field_names_the_line() -> None:
    """A misspelt key is reported at its own line."""
    out = problems(STUDY.replace('    session: "2"', '    sesion: "2"'))
    assert any(p.startswith(":15: visits[1].sesion: unknown field") for p in out), out


def test_carry_from_a_later_visit_and_an_unknown_variable_are_refused() -> None:
    """A visit can only take values from an earlier visit, into a variable its protocol declares."""
    text = STUDY.replace("from_visit: v1", "from_visit: v2")
    assert any("not an earlier visit" in p and ":19: visits[1].carry.ts_target_c" in p for p in problems(text)), (
        problems(text)
    )
    text = STUDY.replace("ts_target_c: {from_visit", "ts_targt_c: {from_visit")
    assert any("has no variable 'ts_targt_c'" in p for p in problems(text))
    text = STUDY.replace("variable: ts_target_c}", "variable: hpt_c}")
    assert any("never sets 'hpt_c'" in p for p in problems(text))


def test_protocols_must_cover_the_conditions_and_match_their_declared_condition() -> None:
    """A condition without a protocol, an unknown protocol and an active protocol given for sham are refused."""
    out = problems(STUDY.replace("{active: cpm_sequential, sham: cpm_sham_control}", "{active: cpm_sequential}"))
    assert any("name one protocol for each condition" in p for p in out), out
    out = problems(STUDY.replace("sham: cpm_sham_control}\n  - id: v2", "sham: nope}\n  - id: v2"))
    assert any("visits[0].protocol.sham: no shipped protocol 'nope'" in p for p in out), out
    out = problems(
        STUDY.replace(
            "{active: cpm_sequential, sham: cpm_sham_control}", "{active: cpm_sequential, sham: cpm_sequential}"
        )
    )
    assert any("declares condition 'active', not 'sham'" in p for p in out), out


def test_duplicate_ids_sessions_and_bad_condition_numbers_are_refused() -> None:
    """Two visits with one id or one BIDS session, or condition 3 of two, are each reported."""
    out = problems(STUDY.replace("id: v2", "id: v1").replace("from_visit: v1", "from_visit: v0"))
    assert any("visit id 'v1' is already used" in p for p in out), out
    out = problems(STUDY.replace('session: "2"', 'session: "1"'))
    assert any("session '1' is already visit 'v1'" in p for p in out), out
    out = problems(STUDY.replace("condition: 2", "condition: 3"))
    assert any("condition 3 does not exist" in p for p in out), out


def test_bad_participant_fields_are_refused() -> None:
    """A choice without levels and a field named like a column cpmlab writes are refused."""
    out = problems(
        STUDY.replace("{name: sex, type: choice, levels: {F: female, M: male}}", "{name: sex, type: choice}")
    )
    assert any("needs levels" in p for p in out), out
    out = problems(STUDY.replace("name: sex,", "name: condition_order,"))
    assert any("column cpmlab writes itself" in p for p in out), out


def test_missing_file_and_bad_yaml() -> None:
    """A missing file and broken YAML get one clear problem each."""
    with pytest.raises(StudyError, match="no such file"):
        load_study(ROOT / "nope.yaml")
    assert (
        problems("name: [unclosed\n")[0].startswith(":2: not valid YAML")
        or "not valid YAML" in problems("name: [unclosed\n")[0]
    )
