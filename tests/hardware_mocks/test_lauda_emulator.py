"""Lauda emulator (TYPE/STAT space-syntax family) over a real pty, with a manual-only client.

The client is raw pyserial at 9600 8N1 (not our driver): it writes ``COMMAND\\r`` and
reads one ``\\r\\n`` line. Timings are behavioural, never tight.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Iterator

import pytest
import serial

from cpmlab.hardware_mocks import lauda
from cpmlab.hardware_mocks.lauda import LaudaEmulator

NUMBER = re.compile(rb"^-?\d+\.\d\d\r\n$")


def ask(client: serial.Serial, command: str, wait_s: float = 1.0) -> bytes:
    """Write command + CR and return everything read until a line end or wait_s."""
    client.write(command.encode("ascii") + b"\r")
    deadline = time.monotonic() + wait_s
    data = b""
    while not data.endswith(b"\n") and time.monotonic() < deadline:
        data += client.read(1)
    return data


@pytest.fixture
def emulator() -> Iterator[LaudaEmulator]:
    """A Lauda at 120x speed (tau 120 s becomes 1 s), bath 20 C, setpoint 10 C."""
    emu = lauda.start(time_scale=120.0, start_c=20.0, setpoint_c=10.0)
    yield emu
    emu.close()


@pytest.fixture
def client(emulator: LaudaEmulator) -> Iterator[serial.Serial]:
    """A third-party client at 9600 8N1."""
    port = serial.Serial(emulator.port, baudrate=9600, timeout=0.05)
    yield port
    with contextlib.suppress(Exception):
        port.close()


def test_client_from_the_manual(client: serial.Serial) -> None:
    """TYPE, IN_PV_00, IN_PV_05, OUT_SP_00 12.00 -> OK, IN_SP_00, START/STOP -> OK, STAT."""
    assert ask(client, "TYPE") == b"RE206\r\n"
    assert NUMBER.match(ask(client, "IN_PV_00"))
    assert ask(client, "IN_PV_05") == b"5\r\n"
    assert ask(client, "OUT_SP_00 12.00") == b"OK\r\n"
    assert ask(client, "IN_SP_00") == b"12.00\r\n"
    assert ask(client, "START") == b"OK\r\n"
    assert ask(client, "STAT") == b"00000\r\n"
    assert ask(client, "STOP") == b"OK\r\n"


def test_errors_follow_lauda_table(emulator: LaudaEmulator, client: serial.Serial) -> None:
    """Unknown command ERR_3, bad value ERR_5, out-of-range value ERR_6, underscore syntax ERR_3."""
    assert ask(client, "HELLO") == b"ERR_3\r\n"
    assert ask(client, "OUT_SP_00 abc") == b"ERR_5\r\n"
    assert ask(client, "OUT_SP_00 999.00") == b"ERR_6\r\n"
    assert ask(client, "OUT_SP_00_012.00") == b"ERR_3\r\n"
    assert emulator.bath.setpoint_c == 10.0


def test_wrong_framing_client_gets_garbage() -> None:
    """A client at 4800 baud reads noise instead of the TYPE reply."""
    emu = lauda.start(seed=1)
    try:
        client = serial.Serial(emu.port, baudrate=4800, timeout=0.05)
        reply = ask(client, "TYPE")
        assert reply and b"RE206" not in reply
        client.close()
    finally:
        emu.close()


def test_bath_approaches_setpoint_with_its_time_constant(emulator: LaudaEmulator, client: serial.Serial) -> None:
    """Readings follow 10 + 10 exp(-t / 120 s) in device time once started."""
    emulator.bath.set_running(True)
    t0 = emulator.clock.now()
    for _ in range(3):
        before = emulator.clock.now() - t0
        value = float(ask(client, "IN_PV_00"))
        after = emulator.clock.now() - t0
        assert 10 + 10 * math.exp(-after / 120) - 0.05 <= value
        assert value <= 10 + 10 * math.exp(-before / 120) + 0.05
        time.sleep(0.5)
    assert value < 15.0


def test_hand_warms_the_bath(emulator: LaudaEmulator, client: serial.Serial) -> None:
    """With the bath settled at its setpoint, an immersed hand warms it measurably."""
    emulator.bath.temp_c = 10.0
    emulator.bath.set_running(True)
    settled = float(ask(client, "IN_PV_00"))
    emulator.set_hand_immersed(True)
    time.sleep(1.0)
    assert float(ask(client, "IN_PV_00")) > settled + 0.3


def test_alarm_sets_low_level_flag(emulator: LaudaEmulator, client: serial.Serial) -> None:
    """Alarm: STAT shows the low-level flag, the level drops, START does not restart."""
    emulator.set_fault("alarm")
    assert ask(client, "STAT") == b"01000\r\n"
    assert ask(client, "IN_PV_05") == b"0\r\n"
    assert ask(client, "START") == b"OK\r\n"
    assert not emulator.bath.running
    emulator.set_fault(None)
    assert ask(client, "STAT") == b"00000\r\n"


def test_first_query_timeout_option() -> None:
    """first_query_timeout=True: the very first query is ignored, the next answered."""
    emu = lauda.start(first_query_timeout=True)
    try:
        client = serial.Serial(emu.port, baudrate=9600, timeout=0.05)
        assert ask(client, "TYPE", wait_s=0.4) == b""
        assert ask(client, "TYPE") == b"RE206\r\n"
        client.close()
    finally:
        emu.close()


def test_emulator_spec() -> None:
    """EMULATOR declares lauda, a cold pressor at 9600 8N1, with every serial fault."""
    spec = lauda.EMULATOR
    assert (spec.name, spec.kind) == ("lauda", "cold_pressor")
    assert set(spec.faults) >= {"unplug", "silence", "garbage", "slow", "split", "alarm"}
    emu = spec.start(time_scale=2.0)
    try:
        assert (emu.baudrate, emu.bytesize, emu.parity) == (9600, 8, "N")
    finally:
        emu.close()
