"""Lauda driver (TYPE/STAT space-syntax family): exact byte exchanges against a fake port."""

from __future__ import annotations

import math

import pytest

from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ColdPressor
from cpmlab.drivers import lauda
from cpmlab.drivers.lauda import LaudaBath
from cpmlab.testing.byte_exchange import FakeSerial


def line(text: str) -> bytes:
    """Return a device reply line (text + CR LF)."""
    return text.encode("ascii") + b"\r\n"


def cmd(text: str) -> bytes:
    """Return a driver command (text + CR)."""
    return text.encode("ascii") + b"\r"


LIMITS = SafetyLimits(min_bath_c=4.0)
CONNECT = [(cmd("TYPE"), line("RE206")), (cmd("STAT"), line("00000"))]


def connected(*more: tuple[bytes, bytes | None]) -> tuple[LaudaBath, FakeSerial]:
    """Return a driver connected over a fake port that then expects more exchanges."""
    fake = FakeSerial([*CONNECT, *more])
    bath = LaudaBath(fake, reply_timeout_s=0.2)
    bath.connect(LIMITS)
    return bath, fake


def test_connect_sends_type_then_stat() -> None:
    """connect asks TYPE (identity) and STAT; the model names the command family."""
    fake = FakeSerial(list(CONNECT))
    bath = LaudaBath(fake, reply_timeout_s=0.2)
    info = bath.connect(LIMITS)
    fake.check()
    assert isinstance(bath, ColdPressor)
    assert info.identity == "RE206"
    assert "TYPE/STAT" in info.model and "TYPE/STAT" in lauda.DRIVER.model


def test_first_query_timeout_is_retried_once() -> None:
    """An unanswered first TYPE is sent once more."""
    fake = FakeSerial([(cmd("TYPE"), None), *CONNECT])
    LaudaBath(fake, reply_timeout_s=0.2).connect(LIMITS)
    fake.check()


def test_connect_refuses_an_error_reply_to_type() -> None:
    """A device answering TYPE with ERR_3 (another family) is refused."""
    fake = FakeSerial([(cmd("TYPE"), line("ERR_3"))])
    with pytest.raises(DeviceError, match="wrong command"):
        LaudaBath(fake, reply_timeout_s=0.2).connect(LIMITS)


def test_set_setpoint_expects_ok_and_reads_back() -> None:
    """set_setpoint(12) sends 'OUT_SP_00 12.00', expects OK, reads IN_SP_00 back."""
    bath, fake = connected((cmd("OUT_SP_00 12.00"), line("OK")), (cmd("IN_SP_00"), line("12.00")))
    bath.set_setpoint(12)
    fake.check()


def test_setpoint_error_reply_raises() -> None:
    """OUT_SP_00 answered ERR_6 raises DeviceError naming the error; no readback."""
    bath, fake = connected((cmd("OUT_SP_00 12.00"), line("ERR_6")))
    with pytest.raises(DeviceError, match="ERR_6 \\(illegal value\\)"):
        bath.set_setpoint(12.0)
    fake.check()


@pytest.mark.parametrize("setpoint_c", [3.99, 0.0, -30.0, 49.0, math.nan])
def test_setpoints_outside_limits_are_refused_before_any_byte(setpoint_c: float) -> None:
    """Below min_bath_c, outside -20..40 C or NaN: LimitError and nothing written."""
    bath, fake = connected()
    sent = len(fake.writes)
    with pytest.raises(LimitError):
        bath.set_setpoint(setpoint_c)
    assert len(fake.writes) == sent


def test_start_and_stop() -> None:
    """start reads IN_SP_00, checks it, sends START (OK); stop sends STOP (OK)."""
    bath, fake = connected(
        (cmd("IN_SP_00"), line("12.00")),
        (cmd("START"), line("OK")),
        (cmd("STAT"), line("00000")),
        (cmd("STOP"), line("OK")),
        (cmd("STAT"), line("00000")),
    )
    bath.start_circulation()
    assert bath.status().running
    bath.stop_circulation()
    assert not bath.status().running
    fake.check()


def test_start_refused_while_device_setpoint_is_too_cold() -> None:
    """A device setpoint below min_bath_c blocks START with LimitError."""
    bath, fake = connected((cmd("IN_SP_00"), line("2.00")))
    with pytest.raises(LimitError):
        bath.start_circulation()
    fake.check()


def test_read_temperature_and_level() -> None:
    """IN_PV_00 gives the bath temperature, IN_PV_05 the level."""
    bath, fake = connected((cmd("IN_PV_00"), line("12.34")), (cmd("IN_PV_05"), line("5")))
    assert bath.read_temperature().bath_c == pytest.approx(12.34)
    assert bath.read_level() == 5
    fake.check()


@pytest.mark.parametrize(
    ("flags", "code", "text"),
    [
        ("10000", 1, "overheat"),
        ("01000", 2, "low level"),
        ("00100", 4, "pump error"),
        ("00010", 8, "controller error 1"),
        ("10001", 17, "overheat, controller error 2"),
    ],
)
def test_stat_flags_are_alarms(flags: str, code: int, text: str) -> None:
    """Any STAT flag set gives ok False with the flag names; listeners told once."""
    bath, _fake = connected((cmd("STAT"), line(flags)), (cmd("STAT"), line(flags)))
    faults: list[str] = []
    bath.add_fault_listener(faults.append)
    status = bath.status()
    assert (status.ok, status.code, status.text) == (False, code, text)
    bath.status()
    assert faults == [f"lauda alarm: {text}"]


@pytest.mark.parametrize(
    ("command", "call", "reply"),
    [
        ("STAT", "status", b"0a000\r\n"),
        ("STAT", "status", b"0000\r\n"),
        ("IN_PV_00", "read_temperature", b"twelve\r\n"),
        ("IN_PV_00", "read_temperature", b"\x80\x81\r\n"),
    ],
)
def test_garbage_raises_device_error_and_changes_nothing(command: str, call: str, reply: bytes) -> None:
    """Garbage where flags or a number are expected raises DeviceError; after TYPE, next call works."""
    bath, fake = connected(
        (cmd(command), reply),
        (cmd("TYPE"), line("RE206")),
        (cmd("IN_PV_00"), line("11.00")),
    )
    with pytest.raises(DeviceError, match="garbled"):
        getattr(bath, call)()
    assert bath.read_temperature().bath_c == 11.0
    fake.check()


def test_command_not_answered_ok_is_garbage() -> None:
    """START answered with anything but OK raises DeviceError."""
    bath, _fake = connected((cmd("STOP"), line("KO")))
    with pytest.raises(DeviceError, match="expected OK"):
        bath.stop_circulation()


def test_vanished_port_and_lifecycle() -> None:
    """A vanished port raises DeviceError told once; abort never raises; close twice."""
    bath, fake = connected()
    faults: list[str] = []
    bath.add_fault_listener(faults.append)
    fake.vanish()
    for _ in range(2):
        with pytest.raises(DeviceError, match="vanished"):
            bath.status()
    assert len(faults) == 1
    bath.abort()
    bath.close()
    bath.close()
    assert fake.closed == 1


def test_driver_spec_and_probe() -> None:
    """DRIVER declares lauda at 9600 8N1; probe returns TYPE or None."""
    spec = lauda.DRIVER
    assert (spec.name, spec.kind, spec.emulator) == ("lauda", "cold_pressor", "lauda")
    assert spec.serial_settings == {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    assert spec.probe is not None
    assert spec.probe(FakeSerial([(cmd("TYPE"), line("RE206"))])) == "RE206"
    assert spec.probe(FakeSerial([(cmd("TYPE"), line("ERR_3"))])) is None
