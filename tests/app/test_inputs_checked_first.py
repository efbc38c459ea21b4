"""Inputs are checked before anything opens: --set names and values, bath range, label length."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpmlab.cli.main import main
from cpmlab.core.errors import LabelError, LimitError
from cpmlab.core.labels import MAX_LABEL_CHARS, validate_label
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import ProtocolError, parse_protocol

RUN = ["run", "cpm_sequential", "-s", "1", "--emulate", "--simulate", "--speed", "60"]

BATH_PROTOCOL = """\
name: bath
title: bath
task: bath
devices: [cold_pressor]
{limits}
steps:
  - type: immersion
    setpoint_c: {setpoint}
    duration_s: 30
    max_s: 60
"""


def _nothing_written(data: Path) -> bool:
    return not data.exists() or not any(p.is_file() for p in data.rglob("*"))


def test_unknown_set_name_is_refused_listing_the_declared_names(tmp_path: Path, capsys) -> None:
    """--set with a name the protocol does not declare stops before any file exists and lists the names."""
    data = tmp_path / "d"
    assert main([*RUN, "-p", "01", "--data", str(data), "--set", "ts_target=45"]) == 2
    err = capsys.readouterr().err
    assert "ts_target" in err and "ts_target_c" in err
    assert _nothing_written(data)


def test_set_value_outside_the_limits_is_refused_before_any_file(tmp_path: Path, capsys) -> None:
    """--set ts_target_c=85 is checked against the limits at load, with the file and line of each stimulus."""
    data = tmp_path / "d"
    assert main([*RUN, "-p", "01", "--data", str(data), "--set", "ts_target_c=85"]) == 2
    err = capsys.readouterr().err
    assert "cpm_sequential.yaml:" in err and "85" in err
    assert _nothing_written(data)


def test_validate_applies_set_like_run(capsys) -> None:
    """cpmlab validate NAME --set finds shipped protocols and runs the same checks as run."""
    assert main(["validate", "-q", "cpm_sequential", "--set", "ts_target_c=45.5"]) == 0
    assert main(["validate", "-q", "cpm_sequential", "--set", "ts_target_c=85"]) == 1
    assert main(["validate", "-q", "cpm_sequential", "--set", "ts_target_c=hot"]) == 1
    assert "is not a number" in capsys.readouterr().err


@pytest.mark.parametrize(("setpoint", "ok"), [(10, True), (46.5, True), (85, False), (2, False)])
def test_bath_setpoints_are_bounded_both_ways(setpoint: float, ok: bool) -> None:
    """Hot-water conditioning (46.5 C) is allowed by default; 85 C and 2 C are refused at load."""
    text = BATH_PROTOCOL.format(limits="", setpoint=setpoint)
    if ok:
        parse_protocol(text, "bath.yaml")
    else:
        with pytest.raises(ProtocolError, match="setpoint_c"):
            parse_protocol(text, "bath.yaml")


def test_the_stricter_maximum_bath_temperature_wins() -> None:
    """A lab config's lower max_bath_c refuses a setpoint the protocol header allows, and vice versa."""
    text = BATH_PROTOCOL.format(limits="limits:\n  max_bath_c: 47", setpoint=46.5)
    parse_protocol(text, "bath.yaml")
    with pytest.raises(ProtocolError, match=r"46\.5"):
        parse_protocol(text, "bath.yaml", SafetyLimits(max_bath_c=40.0))
    strict_header = BATH_PROTOCOL.format(limits="limits:\n  max_bath_c: 30", setpoint=46.5)
    with pytest.raises(ProtocolError, match=r"46\.5"):
        parse_protocol(strict_header, "bath.yaml", SafetyLimits(max_bath_c=48.0))
    with pytest.raises(LimitError):
        SafetyLimits(max_bath_c=85.0)


def test_overlong_label_is_refused_before_any_file(tmp_path: Path, capsys) -> None:
    """A participant label too long for file names is refused with a clear message and writes nothing."""
    data = tmp_path / "d"
    assert main([*RUN, "-p", "x" * 300, "--data", str(data)]) == 2
    assert f"at most {MAX_LABEL_CHARS}" in capsys.readouterr().err
    assert _nothing_written(data)
    with pytest.raises(LabelError):
        validate_label("participant", "a" * (MAX_LABEL_CHARS + 1))
    assert validate_label("participant", "a" * MAX_LABEL_CHARS)


def test_a_start_that_fails_burns_no_labels(tmp_path: Path, capsys) -> None:
    """Devices that cannot open leave the labels free; the failed attempt is kept and recover says what it is."""
    data = tmp_path / "d"
    missing_port = str(tmp_path / "no-such-port")
    args = ["run", "cpm_sequential", "-p", "01", "-s", "1", "--data", str(data), "--simulate"]
    devices = ["--device", f"thermode=tcs2:{missing_port}", "--device", f"bath=julabo:{missing_port}"]
    assert main([*args, *devices]) != 0
    kept = sorted((data / "sourcedata" / "cpmlab" / "failed-starts").glob("*_journal*.jsonl"))
    assert len(kept) == 1
    assert not (data / "sub-01").exists()
    assert not (data / "sourcedata" / "cpmlab" / "sub-01").exists()
    assert main([*args, *devices]) != 0  # a second failure in the same second never overwrites the first
    assert len(list((data / "sourcedata" / "cpmlab" / "failed-starts").glob("*_journal*.jsonl"))) == 2
    capsys.readouterr()
    assert main(["recover", str(kept[0])]) == 0
    assert "start that failed" in capsys.readouterr().out
    assert main([*args, "--emulate", "--speed", "60"]) == 0  # the same labels, at once
