"""Julabo emulator over a real pty, driven by a minimal client written from the manual.

The client is raw pyserial (not our driver): it writes ``COMMAND\\r`` and reads one
``\\r\\n`` line. Timings are behavioural (generous), never tight.
"""

from __future__ import annotations

import contextlib
import math
import re
import termios
import time
from collections.abc import Iterator

import pytest
import serial

from cpmlab.hardware_mocks import julabo
from cpmlab.hardware_mocks.julabo import JulaboEmulator

NUMBER = re.compile(rb"^-?\d+\.\d\d\r\n$")


def open_7e1_client(port: str) -> serial.Serial | None:
    """Open a 4800 7E1 client, or return None if this kernel's pty cannot carry 7E1.

    Recent Linux ptys keep CS8 without parity: they refuse CS7/PARENB (EINVAL) or
    silently drop them, so legacy framing can only be exercised on a real port there.
    """
    try:
        client = serial.Serial(port, baudrate=4800, bytesize=7, parity="E", timeout=0.05)
    except (serial.SerialException, termios.error, OSError):
        return None
    cflag = termios.tcgetattr(client.fd)[2]
    if cflag & termios.CSIZE != termios.CS7 or not cflag & termios.PARENB:
        client.close()
        return None
    return client


def ask(client: serial.Serial, command: str, wait_s: float = 1.0) -> bytes:
    """Write command + CR (after the manual's >10 ms pause) and read one line or wait_s."""
    time.sleep(0.02)
    client.write(command.encode("ascii") + b"\r")
    deadline = time.monotonic() + wait_s
    data = b""
    while not data.endswith(b"\n") and time.monotonic() < deadline:
        data += client.read(1)
    return data


@pytest.fixture
def emulator() -> Iterator[JulaboEmulator]:
    """A newer-framing (9600 8N1) Julabo at 120x speed: tau 120 s becomes 1 s."""
    emu = julabo.start(time_scale=120.0, framing="8N1", start_c=20.0, setpoint_c=10.0)
    yield emu
    emu.close()


@pytest.fixture
def client(emulator: JulaboEmulator) -> Iterator[serial.Serial]:
    """A third-party client at the emulator's 9600 8N1."""
    port = serial.Serial(emulator.port, baudrate=9600, timeout=0.05)
    yield port
    with contextlib.suppress(Exception):
        port.close()


def test_legacy_7e1_client_from_the_manual_reads_the_bath() -> None:
    """A client at 4800 7E1 (legacy default) writes IN_PV_00 and reads a plain decimal.

    Over a pty where the kernel carries 7E1; else over the emulator's TCP port, where each
    frame is 7 data bits + even parity and the client (written here from the manual) adds
    and checks the parity bit itself, as its UART would.
    """
    emu = julabo.start(framing="7E1")
    client = open_7e1_client(emu.port)
    if client is None:
        emu.close()
        emu = julabo.start(framing="7E1", tcp=True)
        client = ParityClient(serial.serial_for_url(emu.port, timeout=0.05))
    try:
        assert NUMBER.match(ask(client, "IN_PV_00"))
        assert ask(client, "VERSION").startswith(b"JULABO")
        client.close()
    finally:
        emu.close()


class ParityClient:
    """A 7E1 client on a TCP URL: adds even parity to each byte written, checks and strips it on read."""

    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port

    def write(self, data: bytes) -> int | None:
        """Write data as 7E1 frames."""
        return self.port.write(bytes(b | 0x80 if bin(b).count("1") % 2 else b for b in data))

    def read(self, size: int = 1) -> bytes:
        """Read frames; a parity error fails the test."""
        data = self.port.read(size)
        assert all(bin(b).count("1") % 2 == 0 for b in data), f"parity error in {data!r}"
        return bytes(b & 0x7F for b in data)

    def close(self) -> None:
        """Close the port."""
        self.port.close()


def test_client_from_the_manual_speaks_to_newer_framing(emulator: JulaboEmulator, client: serial.Serial) -> None:
    """VERSION, IN_PV_00, IN_SP_06, and OUT_SP_00 (no reply) then IN_SP_00 all work."""
    assert ask(client, "VERSION") == b"JULABO HIGHTECH FL HL/SL VERSION 4.0\r\n"
    assert NUMBER.match(ask(client, "IN_PV_00"))
    assert ask(client, "IN_SP_06") == b"0\r\n"
    assert ask(client, "OUT_SP_00 12.00", wait_s=0.3) == b""
    time.sleep(0.3)
    assert ask(client, "IN_SP_00") == b"12.00\r\n"
    assert ask(client, "STATUS") == b"02 REMOTE STOP\r\n"
    time.sleep(0.3)
    assert ask(client, "OUT_MODE_05 1", wait_s=0.3) == b""
    assert ask(client, "STATUS") == b"03 REMOTE START\r\n"
    assert emulator.spacing_violations == 0


@pytest.mark.parametrize(
    ("framing", "client_settings"),
    [
        ("7E1", {"baudrate": 9600}),
        ("8N1", {"baudrate": 4800}),
    ],
)
def test_wrong_framing_client_gets_garbage(framing: str, client_settings: dict[str, object]) -> None:
    """A client at another baud rate or framing than the device reads noise, not a reply."""
    emu = julabo.start(framing=framing, seed=1)
    try:
        client = serial.Serial(emu.port, timeout=0.05, **client_settings)
        reply = ask(client, "VERSION")
        assert reply
        assert b"JULABO" not in reply
        client.close()
    finally:
        emu.close()


def test_unknown_commands_are_ignored(client: serial.Serial) -> None:
    """An unknown command gets no reply; the next query is answered."""
    assert ask(client, "HELLO", wait_s=0.3) == b""
    assert NUMBER.match(ask(client, "IN_PV_00"))


def test_bath_approaches_setpoint_with_its_time_constant(emulator: JulaboEmulator, client: serial.Serial) -> None:
    """Running toward 10 C from 20 C, readings follow 10 + 10 exp(-t / 120 s) (device time)."""
    emulator.bath.set_running(True)
    t0 = emulator.clock.now()
    for _ in range(3):
        before = emulator.clock.now() - t0
        value = float(ask(client, "IN_PV_00"))
        after = emulator.clock.now() - t0
        expected_high = 10 + 10 * math.exp(-before / 120.0)
        expected_low = 10 + 10 * math.exp(-after / 120.0)
        assert expected_low - 0.05 <= value <= expected_high + 0.05
        time.sleep(0.5)
    assert value < 15.0


def test_hand_warms_the_bath(emulator: JulaboEmulator, client: serial.Serial) -> None:
    """With the bath settled at its setpoint, an immersed hand warms it measurably."""
    emulator.bath.temp_c = 10.0
    emulator.bath.set_running(True)
    settled = float(ask(client, "IN_PV_00"))
    emulator.set_hand_immersed(True)
    time.sleep(1.0)
    warmed = float(ask(client, "IN_PV_00"))
    assert warmed > settled + 0.3
    emulator.set_hand_immersed(False)
    time.sleep(1.0)
    assert float(ask(client, "IN_PV_00")) < warmed


def test_alarm_gives_negative_status_and_stops(emulator: JulaboEmulator, client: serial.Serial) -> None:
    """Alarm: STATUS starts with a negative number and the circulator stops."""
    emulator.bath.set_running(True)
    emulator.set_fault("alarm")
    reply = ask(client, "STATUS")
    assert reply == b"-01 LOW LIQUID LEVEL ALARM\r\n"
    assert ask(client, "IN_MODE_05") == b"0\r\n"
    emulator.set_fault(None)
    assert ask(client, "STATUS") == b"02 REMOTE STOP\r\n"


def test_first_query_timeout_option() -> None:
    """first_query_timeout=True: the very first query is ignored, the next answered."""
    emu = julabo.start(framing="8N1", first_query_timeout=True)
    try:
        client = serial.Serial(emu.port, baudrate=9600, timeout=0.05)
        assert ask(client, "VERSION", wait_s=0.4) == b""
        assert ask(client, "VERSION").startswith(b"JULABO")
        client.close()
    finally:
        emu.close()


def test_spacing_violations_are_counted(emulator: JulaboEmulator, client: serial.Serial) -> None:
    """Two OUT_ commands 0 ms apart are both applied but counted as one violation."""
    client.write(b"OUT_SP_00 11.00\rOUT_SP_01 15.00\r")
    time.sleep(0.2)
    assert ask(client, "IN_SP_01") == b"15.00\r\n"
    assert emulator.spacing_violations == 1


def test_emulator_spec() -> None:
    """EMULATOR declares julabo, a cold pressor, with every serial fault."""
    spec = julabo.EMULATOR
    assert (spec.name, spec.kind) == ("julabo", "cold_pressor")
    assert set(spec.faults) >= {"unplug", "silence", "garbage", "slow", "split", "alarm"}
    emu = spec.start(time_scale=2.0)
    try:
        assert (emu.baudrate, emu.bytesize, emu.parity) == (9600, 8, "N")
    finally:
        emu.close()
