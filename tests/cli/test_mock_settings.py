"""cpmlab mock --set KEY=VALUE: an emulator's scalar options, typed from its constructor; bad settings are clear errors."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys

import pytest

from cpmlab.cli.main import main
from cpmlab.cli.mock_settings import parse_settings, settable_options
from cpmlab.core.errors import CpmlabError
from cpmlab.devices.plugins import load_emulators

CPMLAB = [sys.executable, "-m", "cpmlab"]
SELECT_TP, START = 1, 2
PROGRAM = 0b00011100


def _start(name: str):
    return load_emulators().get(name).start


def test_the_settable_options_are_the_constructors_scalars() -> None:
    """Medoc's Automatic Start is a bool, its seed an int; the options --speed, --fault and --tcp set are not listed."""
    medoc = settable_options(_start("medoc"))
    assert medoc["automatic_start"] is bool and medoc["seed"] is int and medoc["trigger_settle_s"] is float
    assert "programs" not in medoc and "time_scale" not in medoc and "fault" not in medoc  # not scalars / own flags
    assert settable_options(_start("julabo")) == {"framing": str, "version": str}


def test_settings_are_typed() -> None:
    """true/false, numbers and text become the option's type; dashes may stand for underscores."""
    assert parse_settings("medoc", _start("medoc"), ["automatic-start=on", "trigger_settle_s=0.25", "seed=7"]) == {
        "automatic_start": True,
        "trigger_settle_s": 0.25,
        "seed": 7,
    }
    assert parse_settings("julabo", _start("julabo"), ["framing=7E1"]) == {"framing": "7E1"}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("nosuch=1", "has no setting 'nosuch'; settable: automatic_start (bool)"),
        ("automatic_start=maybe", "expected true or false"),
        ("seed=1.5", "expected a number (int)"),
        ("max_c=nan", "expected a finite number"),
        ("automatic_start", "expected KEY=VALUE"),
    ],
)
def test_a_bad_setting_is_a_clear_error(setting: str, message: str) -> None:
    """Unknown keys list what can be set; values of the wrong kind say what was expected."""
    with pytest.raises(CpmlabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_settings("medoc", _start("medoc"), [setting])


def test_a_value_the_emulator_refuses_and_an_unknown_fault_are_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """The emulator's own refusal reaches the user as one line, exit status 2, nothing started."""
    assert main(["mock", "julabo", "--set", "framing=9N2"]) == 2
    assert "the julabo emulator did not start: unknown framing '9N2'" in capsys.readouterr().err
    assert main(["mock", "tcs2", "--fault", "nosuch"]) == 2
    assert "the tcs2 emulator did not start: unknown fault 'nosuch'" in capsys.readouterr().err


def _answer(address: str, command: int, parameter: int) -> tuple[int, int, int]:
    """Send one Medoc request; return the (system state, test state, result code) of its answer."""
    host, port = address.rsplit(":", 1)
    body = struct.pack("<IBI", 1, command, parameter)
    with socket.create_connection((host, int(port)), timeout=2.0) as sock:
        sock.sendall(struct.pack("<I", len(body)) + body)
        data = b""
        while chunk := sock.recv(1024):
            data += chunk
    _, _, system, test, result = struct.unpack_from("<IBBBH", data, 4)
    return system, test, result


def test_mock_medoc_with_automatic_start_starts_the_test_on_selection() -> None:
    """`cpmlab mock medoc --set automatic_start=true`: a client selecting a program finds its test started."""
    proc = subprocess.Popen(
        [*CPMLAB, "mock", "medoc", "--set", "automatic_start=true"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        system, test, result = _answer(address, SELECT_TP, PROGRAM)
        assert (system, test, result) == (2, 3, 0)  # test running, in its pre-test: no START needed
        assert _answer(address, START, 0)[2] == 2  # START is an illegal state now
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.stderr is not None and "automatic_start=True" in proc.stderr.read()
