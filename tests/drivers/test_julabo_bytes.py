"""Julabo driver: exact byte exchanges against a scripted fake port (no hardware, no pty)."""

from __future__ import annotations

import itertools
import math

import pytest

from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ColdPressor
from cpmlab.drivers import julabo
from cpmlab.drivers.julabo import JulaboBath
from cpmlab.testing.byte_exchange import FakeSerial


def line(text: str) -> bytes:
    """Return a device reply line (text + CR LF)."""
    return text.encode("ascii") + b"\r\n"


def cmd(text: str) -> bytes:
    """Return a driver command (text + CR)."""
    return text.encode("ascii") + b"\r"


VERSION = "JULABO HIGHTECH FL HL/SL VERSION 4.0"
LIMITS = SafetyLimits(min_bath_c=4.0)
CONNECT = [
    (cmd("VERSION"), line(VERSION)),
    (cmd("STATUS"), line("03 REMOTE START")),
    (cmd("IN_SP_06"), line("0")),
    (cmd("OUT_SP_04 4.00"), None),
    (cmd("IN_SP_04"), line("4.00")),
]


def connected(*more: tuple[bytes, bytes | None], **options: object) -> tuple[JulaboBath, FakeSerial]:
    """Return a driver connected over a fake port that then expects more exchanges."""
    fake = FakeSerial([*CONNECT, *more])
    bath = JulaboBath(fake, reply_timeout_s=0.2, **options)
    bath.connect(LIMITS)
    return bath, fake


def test_connect_identifies_checks_unit_and_sets_sub_temperature_limit() -> None:
    """connect sends VERSION, STATUS, IN_SP_06, then OUT_SP_04 <min_bath_c> read back."""
    fake = FakeSerial(list(CONNECT))
    bath = JulaboBath(fake, reply_timeout_s=0.2)
    info = bath.connect(LIMITS)
    fake.check()
    assert isinstance(bath, ColdPressor)
    assert info.kind == "cold_pressor"
    assert info.identity == VERSION
    assert info.details["sub_limit_c"] == "4.00"


def test_connect_rounds_sub_limit_up_never_down() -> None:
    """A minimum of 4.001 C sets the sub-temperature limit to 4.01 C, not 4.00 C."""
    script = [*CONNECT[:3], (cmd("OUT_SP_04 4.01"), None), (cmd("IN_SP_04"), line("4.01"))]
    fake = FakeSerial(script)
    JulaboBath(fake, reply_timeout_s=0.2).connect(SafetyLimits(min_bath_c=4.001))
    fake.check()


def test_connect_refuses_a_device_that_is_not_a_julabo() -> None:
    """A VERSION reply not starting with JULABO raises DeviceError; nothing else is sent."""
    fake = FakeSerial([(cmd("VERSION"), line("LAUDA RE206"))])
    bath = JulaboBath(fake, reply_timeout_s=0.2)
    with pytest.raises(DeviceError, match="not a Julabo"):
        bath.connect(LIMITS)
    fake.check()
    with pytest.raises(DeviceError, match="not connected"):
        bath.set_setpoint(12.0)


def test_connect_refuses_fahrenheit() -> None:
    """IN_SP_06 = 1 (F) raises DeviceError before any OUT_ command."""
    fake = FakeSerial([*CONNECT[:2], (cmd("IN_SP_06"), line("1"))])
    with pytest.raises(DeviceError, match="not 0 \\(C\\)"):
        JulaboBath(fake, reply_timeout_s=0.2).connect(LIMITS)
    fake.check()


def test_first_query_timeout_is_retried_once() -> None:
    """The first query after connect may go unanswered: VERSION is sent a second time."""
    fake = FakeSerial([(cmd("VERSION"), None), *CONNECT])
    JulaboBath(fake, reply_timeout_s=0.2).connect(LIMITS)
    fake.check()


def test_later_timeouts_are_not_retried() -> None:
    """After the first answer, a silent device raises DeviceError after one attempt."""
    bath, fake = connected((cmd("IN_PV_00"), None))
    faults: list[str] = []
    bath.add_fault_listener(faults.append)
    with pytest.raises(DeviceError, match="no reply to 'IN_PV_00'"):
        bath.read_temperature()
    fake.check()
    assert len(faults) == 1


def test_set_setpoint_sends_two_decimals_and_reads_back() -> None:
    """set_setpoint(12) sends OUT_SP_00 12.00, reads IN_SP_00 back, checks IN_MODE_01."""
    bath, fake = connected(
        (cmd("OUT_SP_00 12.00"), None),
        (cmd("IN_SP_00"), line("12.00")),
        (cmd("IN_MODE_01"), line("0")),
    )
    bath.set_setpoint(12)
    fake.check()


def test_set_setpoint_selects_setpoint_1_when_another_is_active() -> None:
    """If setpoint 2 is active, OUT_MODE_01 0 selects setpoint 1 (read back)."""
    bath, fake = connected(
        (cmd("OUT_SP_00 10.50"), None),
        (cmd("IN_SP_00"), line("10.50")),
        (cmd("IN_MODE_01"), line("1")),
        (cmd("OUT_MODE_01 0"), None),
        (cmd("IN_MODE_01"), line("0")),
    )
    bath.set_setpoint(10.5)
    fake.check()


def test_setpoint_readback_mismatch_raises() -> None:
    """A setpoint that reads back differently raises DeviceError."""
    bath, fake = connected((cmd("OUT_SP_00 12.00"), None), (cmd("IN_SP_00"), line("20.00")))
    with pytest.raises(DeviceError, match="reads back"):
        bath.set_setpoint(12.0)
    fake.check()


@pytest.mark.parametrize("setpoint_c", [3.99, 3.996, -5.0, 48.5, math.nan, math.inf])
def test_setpoints_outside_limits_are_refused_before_any_byte(setpoint_c: float) -> None:
    """Below min_bath_c, outside -20..40 C or not finite: LimitError and nothing written."""
    bath, fake = connected()
    sent = len(fake.writes)
    with pytest.raises(LimitError):
        bath.set_setpoint(setpoint_c)
    assert len(fake.writes) == sent


def test_set_setpoint_before_connect_sends_nothing() -> None:
    """Without connect(limits) no limits are known: DeviceError, no byte."""
    fake = FakeSerial([])
    with pytest.raises(DeviceError):
        JulaboBath(fake).set_setpoint(12.0)
    assert fake.writes == []


def test_sub_limit_below_session_minimum_is_refused() -> None:
    """The sub-temperature warning limit can never be set below min_bath_c."""
    bath, fake = connected()
    sent = len(fake.writes)
    with pytest.raises(LimitError):
        bath.set_sub_temperature_limit(2.0)
    assert len(fake.writes) == sent


def test_over_temperature_limit() -> None:
    """set_over_temperature_limit sends OUT_SP_03 and reads IN_SP_03 back."""
    bath, fake = connected((cmd("OUT_SP_03 30.00"), None), (cmd("IN_SP_03"), line("30.00")))
    bath.set_over_temperature_limit(30.0)
    fake.check()
    with pytest.raises(LimitError):
        bath.set_over_temperature_limit(3.0)


def test_start_and_stop_circulation() -> None:
    """start checks the active setpoint, sends OUT_MODE_05 1; stop sends OUT_MODE_05 0."""
    bath, fake = connected(
        (cmd("IN_MODE_01"), line("0")),
        (cmd("IN_SP_00"), line("12.00")),
        (cmd("OUT_MODE_05 1"), None),
        (cmd("IN_MODE_05"), line("1")),
        (cmd("OUT_MODE_05 0"), None),
        (cmd("IN_MODE_05"), line("0")),
    )
    bath.start_circulation()
    bath.stop_circulation()
    fake.check()


def test_start_refused_while_active_setpoint_is_too_cold() -> None:
    """A front-panel setpoint below min_bath_c blocks OUT_MODE_05 1 with LimitError."""
    bath, fake = connected((cmd("IN_MODE_01"), line("2")), (cmd("IN_SP_02"), line("1.00")))
    with pytest.raises(LimitError):
        bath.start_circulation()
    fake.check()


def test_read_temperature() -> None:
    """IN_PV_00 answered 12.34 gives a BathReading of 12.34 C."""
    bath, fake = connected((cmd("IN_PV_00"), line("12.34")))
    assert bath.read_temperature().bath_c == pytest.approx(12.34)
    fake.check()


def test_status_parsing_and_alarm_reported_once() -> None:
    """STATUS: 03 runs; a negative code is an alarm told once to fault listeners."""
    bath, fake = connected(
        (cmd("STATUS"), line("02 REMOTE STOP")),
        (cmd("STATUS"), line("-01 LOW LIQUID LEVEL ALARM")),
        (cmd("STATUS"), line("-01 LOW LIQUID LEVEL ALARM")),
        (cmd("STATUS"), line("03 REMOTE START")),
    )
    faults: list[str] = []
    bath.add_fault_listener(faults.append)
    stopped = bath.status()
    assert (stopped.ok, stopped.code, stopped.running) == (True, 2, False)
    alarm = bath.status()
    assert (alarm.ok, alarm.code) == (False, -1)
    assert "LOW LIQUID LEVEL" in alarm.text
    bath.status()
    assert faults == ["julabo alarm: -01 LOW LIQUID LEVEL ALARM"]
    assert bath.status().running
    fake.check()


@pytest.mark.parametrize(
    ("command", "call", "reply"),
    [
        ("IN_PV_00", "read_temperature", b"1a.34\r\n"),
        ("IN_PV_00", "read_temperature", b"\xff\xfe\x01\r\n"),
        ("STATUS", "status", b"REMOTE START\r\n"),
    ],
)
def test_garbage_raises_device_error_and_changes_nothing(command: str, call: str, reply: bytes) -> None:
    """A non-numeric reply raises DeviceError; the link resynchronises (VERSION), then works."""
    bath, fake = connected(
        (cmd(command), reply),
        (cmd("VERSION"), line(VERSION)),
        (cmd("IN_PV_00"), line("12.00")),
    )
    with pytest.raises(DeviceError, match="garbled"):
        getattr(bath, call)()
    assert bath.read_temperature().bath_c == 12.0
    fake.check()


def test_reply_without_line_end_is_garbage() -> None:
    """Bytes that never end in a line end raise DeviceError (not a silent timeout)."""
    bath, _fake = connected((cmd("IN_PV_00"), b"12.3"))
    with pytest.raises(DeviceError, match="incomplete"):
        bath.read_temperature()


def test_spacing_between_commands_is_respected() -> None:
    """OUT_ commands are >250 ms apart, IN_ queries >10 ms (generous behavioural check)."""
    bath, fake = connected(
        (cmd("OUT_SP_00 10.00"), None),
        (cmd("IN_SP_00"), line("10.00")),
        (cmd("IN_MODE_01"), line("1")),
        (cmd("OUT_MODE_01 0"), None),
        (cmd("IN_MODE_01"), line("0")),
    )
    bath.set_setpoint(10.0)
    outs = [t for t, data in fake.writes if data.startswith(b"OUT_")]
    ins = [t for t, data in fake.writes if data.startswith(b"IN_")]
    assert len(outs) == 3
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(outs))
    assert all(b - a >= 0.01 for a, b in itertools.pairwise(ins))


def test_command_event_is_emitted_before_the_bytes_leave() -> None:
    """event_sink sees kind='command' (text and hex) before the write, then kind='reply'."""
    fake = FakeSerial(list(CONNECT))
    events: list[tuple[str, dict[str, object], int]] = []
    bath = JulaboBath(
        fake,
        reply_timeout_s=0.2,
        event_sink=lambda kind, **d: events.append((kind, d, len(fake.writes))),
    )
    bath.connect(LIMITS)
    kind, data, writes_before = events[0]
    assert (kind, data["device"], data["command"], data["raw"]) == (
        "command",
        "julabo",
        "VERSION",
        b"VERSION\r".hex(),
    )
    assert writes_before == 0
    assert events[1][0] == "reply" and events[1][1]["value"] == VERSION


def test_vanished_port_raises_and_is_reported_once() -> None:
    """A vanished port becomes DeviceError, told once to fault listeners."""
    bath, fake = connected()
    faults: list[str] = []
    bath.add_fault_listener(faults.append)
    fake.vanish()
    for _ in range(2):
        with pytest.raises(DeviceError, match="vanished"):
            bath.read_temperature()
    assert len(faults) == 1
    bath.abort()
    bath.close()


def test_abort_sends_nothing_and_close_is_safe_twice() -> None:
    """abort() writes no byte (the setpoint stays); close() twice never raises."""
    bath, fake = connected()
    sent = len(fake.writes)
    bath.abort()
    assert len(fake.writes) == sent
    bath.close()
    bath.close()
    assert fake.closed == 1
    bath.abort()


def test_framing_option_configures_the_open_port() -> None:
    """model='julabo-fp' sets 4800 7E1 on the port; conflicting options are refused."""

    class PortWithSettings(FakeSerial):
        baudrate, bytesize, parity, stopbits = 9600, 8, "N", 1

    port = PortWithSettings([])
    bath = JulaboBath(port, model="julabo-fp")
    assert (port.baudrate, port.bytesize, port.parity) == (4800, 7, "E")
    assert bath.framing == "7E1"
    with pytest.raises(ValueError):
        JulaboBath(PortWithSettings([]), model="julabo-fp", framing="8N1")
    assert julabo.serial_settings_for(model="julabo-corio")["baudrate"] == 9600
    assert julabo.LEGACY_SERIAL_SETTINGS == {
        "baudrate": 4800,
        "bytesize": 7,
        "parity": "E",
        "stopbits": 1,
    }


def test_driver_spec_and_probe() -> None:
    """DRIVER declares julabo, newer 9600 8N1 defaults; probe returns VERSION or None."""
    spec = julabo.DRIVER
    assert (spec.name, spec.kind, spec.transport, spec.emulator) == (
        "julabo",
        "cold_pressor",
        "serial",
        "julabo",
    )
    assert spec.serial_settings == {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    assert spec.probe is not None
    assert spec.probe(FakeSerial([(cmd("VERSION"), line(VERSION))])) == VERSION
    assert spec.probe(FakeSerial([(cmd("VERSION"), line("?"))])) is None
