"""Julabo driver against its emulator over a real pty (tier 2, behavioural)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from cpmlab.app.transport import open_serial
from cpmlab.core.errors import DeviceError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathReading
from cpmlab.drivers.julabo import JulaboBath, serial_settings_for
from cpmlab.hardware_mocks import julabo as julabo_emulator

LIMITS = SafetyLimits(min_bath_c=4.0)


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Poll predicate until true or timeout_s; return its last value."""
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def julabo_pair(**options: Any) -> tuple[Any, JulaboBath]:
    """Start a 9600 8N1 Julabo emulator and a driver on the port as the CLI opens it."""
    emu = julabo_emulator.start(time_scale=60.0, framing="8N1", **options)
    bath = JulaboBath(open_serial(emu.port, serial_settings_for()), framing="8N1")
    return emu, bath


def test_julabo_session_respects_spacing_and_first_query_timeout() -> None:
    """connect (first query ignored), setpoint, start: no spacing violation, bath cools."""
    emu, bath = julabo_pair(first_query_timeout=True, start_c=20.0)
    try:
        info = bath.connect(LIMITS)
        assert info.identity.startswith("JULABO")
        assert emu.ignored == ["VERSION"]
        bath.set_setpoint(8.0)
        bath.start_circulation()
        assert bath.status().running
        assert emu.sub_limit_c == 4.0
        time.sleep(1.0)
        assert bath.read_temperature().bath_c < 19.0
        bath.stop_circulation()
        assert emu.spacing_violations == 0
    finally:
        bath.close()
        emu.close()


def test_julabo_polling_reports_readings_alarm_and_vanished_port() -> None:
    """Polling feeds readings; an alarm and then a pulled cable reach fault listeners in < 1 s."""
    emu, bath = julabo_pair()
    readings: list[BathReading] = []
    faults: list[str] = []
    bath.add_reading_listener(readings.append)
    bath.add_fault_listener(faults.append)
    try:
        bath.connect(LIMITS)
        bath.start_polling(interval_s=1.0)
        assert wait_for(lambda: len(readings) >= 1, 2.0)
        emu.set_fault("alarm")
        assert wait_for(lambda: any("LOW LIQUID LEVEL" in f for f in faults), 2.5)
        time.sleep(0.3)  # let the poll finish, so the next check waits between polls
        emu.set_fault("unplug")
        unplugged = time.monotonic()
        assert wait_for(lambda: any("vanished" in f for f in faults), 1.0)
        assert time.monotonic() - unplugged <= 1.0
        with pytest.raises(DeviceError):
            bath.read_temperature()
        bath.abort()
    finally:
        bath.close()
        bath.close()
        emu.close()


def test_julabo_garbage_fault_raises_device_error() -> None:
    """With the garbage fault on, a reading raises DeviceError; after it, readings work."""
    emu, bath = julabo_pair()
    try:
        bath.connect(LIMITS)
        emu.set_fault("garbage")
        with pytest.raises(DeviceError):
            bath.read_temperature()
        emu.set_fault(None)
        assert bath.read_temperature().bath_c == pytest.approx(20.0, abs=1.0)
    finally:
        bath.close()
        emu.close()


def test_julabo_legacy_framing_through_the_driver() -> None:
    """framing='7E1' on the driver talks to the 4800 7E1 emulator over TCP; an 8N1 client is not understood.

    Linux ptys cannot carry 7E1, so the emulator serves loopback TCP, where each frame travels
    as 7 data bits plus its even-parity bit and the client's transport adds and checks parity.
    """
    emu = julabo_emulator.start(time_scale=60.0, framing="7E1", tcp=True)
    try:
        bath = JulaboBath(open_serial(emu.port, serial_settings_for("7E1")), framing="7E1")
        assert bath.connect(LIMITS).identity.startswith("JULABO")
        assert bath.read_temperature().bath_c == pytest.approx(20.0, abs=1.0)
        bath.close()
        assert all(b < 0x80 for b in emu.received)
        wrong = JulaboBath(open_serial(emu.port, serial_settings_for("8N1")), framing="8N1")
        with pytest.raises(DeviceError):
            wrong.identify()
        wrong.close()
    finally:
        emu.close()
