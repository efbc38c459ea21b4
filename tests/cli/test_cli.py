"""The cpmlab command as a newcomer uses it: help everywhere, validate, devices, mock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import serial

from cpmlab.cli.main import build_parser, main

CPMLAB = [sys.executable, "-m", "cpmlab"]


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


@pytest.mark.parametrize("command", [None, *subcommands()])
def test_every_command_has_help(command: str | None, capsys) -> None:
    """--help works on the main command and on every subcommand."""
    with pytest.raises(SystemExit) as info:
        main(["--help"] if command is None else [command, "--help"])
    assert info.value.code == 0
    assert "usage: cpmlab" in capsys.readouterr().out


def test_validate_prints_the_timeline_and_total(protocols_dir: Path, capsys) -> None:
    """validate prints each step's start and the total duration."""
    assert main(["validate", str(protocols_dir / "cpm_sequential.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK ")
    assert "heat 46.0 C" in out and "cold pressor 10 C for 60 s" in out
    assert "total: " in out


def test_validate_reports_every_invalid_file_and_exits_nonzero(tmp_path: Path, protocols_dir: Path, capsys) -> None:
    """An invalid file is reported with file:line: field: message; valid ones still pass; exit 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\ntitle: B\ntask: b\nsteps:\n  - {type: thermal, target_c: 58, plateau_s: 5}\n")
    code = main(["validate", "-q", str(protocols_dir / "cpm_sequential.yaml"), str(bad)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{bad}:5: steps[0].target_c: target_c 58 C is outside the allowed range 5-50 C" in captured.err
    assert "1 of 2 protocol file(s) invalid; nothing was run" in captured.err


def test_run_with_an_invalid_protocol_runs_nothing(tmp_path: Path, capsys) -> None:
    """run refuses an invalid protocol before opening any device or writing any file."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\ntitle: B\ntask: b\nsteps:\n  - {type: bogus}\n")
    assert main(["run", str(bad), "-p", "01", "-s", "1", "--data", str(tmp_path / "d"), "--emulate", "--simulate"]) == 2
    assert "unknown step type" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_devices_lists_every_driver_with_kind_and_transport(capsys) -> None:
    """devices lists the installed driver plugins and serial ports."""
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    for name, kind in (
        ("tcs2", "thermode"),
        ("medoc", "thermode"),
        ("julabo", "cold_pressor"),
        ("lauda", "cold_pressor"),
    ):
        assert any(line.split()[:2] == [name, kind] for line in out.splitlines()), out
    assert "serial ports:" in out


@pytest.mark.parametrize(("name", "identity"), [("tcs2", "tcs2"), ("julabo", "julabo")])
def test_mock_prints_its_port_first_and_devices_probe_identifies_it(name: str, identity: str) -> None:
    """cpmlab mock prints the pty path as its first line; devices --probe names what answers there."""
    proc = subprocess.Popen([*CPMLAB, "mock", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/pts/")
        with serial.Serial(port, timeout=0.5):
            pass
        probe = subprocess.run([*CPMLAB, "devices", "--probe", port], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        assert f"{port}: {identity} (" in probe.stdout
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_mock_with_an_unknown_name_is_a_clear_error(capsys) -> None:
    """An unknown emulator name lists the available ones."""
    assert main(["mock", "nosuch"]) == 2
    assert "available: julabo, lauda, medoc, tcs2" in capsys.readouterr().err


def test_bad_device_argument_is_a_clear_error(tmp_path: Path, capsys) -> None:
    """--device without ROLE=DRIVER:PORT is explained."""
    assert main(["run", "cpm_sequential", "-p", "01", "-s", "1", "--data", str(tmp_path), "--device", "tcs2"]) == 2
    assert "expected ROLE=DRIVER:PORT" in capsys.readouterr().err


def test_display_without_the_session_key_is_a_clear_error(tmp_path: Path, capsys, monkeypatch) -> None:
    """`cpmlab display` with no key (or a bad one) refuses to start, naming where the key comes from."""
    monkeypatch.delenv("CPMLAB_DISPLAY_KEY", raising=False)
    assert main(["display", "--connect", "tcp://127.0.0.1:9"]) == 2
    assert "no display key" in capsys.readouterr().err
    bad = tmp_path / "display.key"
    bad.write_text("not a key")
    assert main(["display", "--key-file", str(bad)]) == 2
    assert "not a cpmlab display key" in capsys.readouterr().err


def test_mock_tcp_serves_a_socket_url_that_pyserial_and_probe_accept() -> None:
    """cpmlab mock lauda --tcp prints socket://127.0.0.1:PORT; pyserial and devices --probe use it."""
    proc = subprocess.Popen(
        [*CPMLAB, "mock", "lauda", "--tcp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("socket://127.0.0.1:")
        with serial.serial_for_url(url, timeout=1.0) as port:
            port.write(b"TYPE\r")
            assert port.readline() == b"RE206\r\n"
        probe = subprocess.run([*CPMLAB, "devices", "--probe", url], capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        assert f"{url}: lauda (" in probe.stdout
    finally:
        proc.terminate()
        proc.wait(10)


def test_demo_runs_entirely_over_tcp_emulators(tmp_path: Path, capsys) -> None:
    """cpmlab demo --tcp completes with both serial emulators on loopback TCP (as on Windows)."""
    data = tmp_path / "demo"
    assert main(["demo", "--tcp", "--data", str(data), "--speed", "40"]) == 0
    journal = next(data.rglob("*_journal.jsonl")).read_text()
    assert journal.count("socket://127.0.0.1:") >= 2, "the devices were not on TCP emulators"
