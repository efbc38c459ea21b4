"""Lauda driver against its emulator over a real pty (tier 2, behavioural)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cpmlab.app.transport import open_serial
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathReading
from cpmlab.drivers.lauda import SERIAL_SETTINGS as LAUDA_SETTINGS
from cpmlab.drivers.lauda import LaudaBath
from cpmlab.hardware_mocks import lauda as lauda_emulator

LIMITS = SafetyLimits(min_bath_c=4.0)


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Poll predicate until true or timeout_s; return its last value."""
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_lauda_session_and_polling() -> None:
    """Lauda: connect, setpoint, start, polled readings, alarm and split replies handled."""
    emu = lauda_emulator.start(time_scale=60.0)
    bath = LaudaBath(open_serial(emu.port, LAUDA_SETTINGS))
    readings: list[BathReading] = []
    faults: list[str] = []
    seen = threading.Event()
    bath.add_reading_listener(lambda r: (readings.append(r), seen.set()))
    bath.add_fault_listener(faults.append)
    try:
        assert bath.connect(LIMITS).identity == "RE206"
        bath.set_setpoint(10.0)
        bath.start_circulation()
        emu.set_fault("split", chunk=2, gap_s=0.01)
        assert bath.read_temperature().bath_c < 21.0
        emu.set_fault(None)
        bath.start_polling(interval_s=0.2)
        assert seen.wait(2.0)
        emu.set_fault("alarm")
        assert wait_for(lambda: "lauda alarm: low level" in faults, 2.0)
        emu.set_fault("unplug")
        assert wait_for(lambda: any("vanished" in f for f in faults), 1.0)
    finally:
        bath.close()
        emu.close()
