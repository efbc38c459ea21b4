"""The emergency abort reaches each device at once, even while a slow request holds the driver.

A request is left waiting on a slow device (the emulator's ``slow`` fault); ``abort()`` is
called meanwhile and must reach the device (or, for a bath, return) without waiting for it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from cpmlab.app.transport import open_serial
from cpmlab.core.errors import DeviceError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.transport import TcpConnector
from cpmlab.drivers import julabo, medoc, tcs2
from cpmlab.drivers._medoc_protocol import COMMANDS as MEDOC_COMMANDS
from cpmlab.hardware_mocks import julabo as julabo_emulator
from cpmlab.hardware_mocks import medoc as medoc_emulator
from cpmlab.hardware_mocks import tcs2 as tcs2_emulator

REACH_WITHIN_S = 0.3


def busy(call: Callable[[], object]) -> threading.Thread:
    """Start call on a thread (it holds the driver's request lock while the device is slow)."""

    def run() -> None:
        with contextlib.suppress(DeviceError):
            call()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.1)
    return thread


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> float | None:
    """Return the seconds until predicate held, or None if it did not within timeout_s."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.002)
    return None


def test_medoc_abort_does_not_wait_for_a_trickled_request() -> None:
    """A poll held 1.5 s by a slow Medoc does not delay ABORT: it arrives within 0.3 s."""
    emu = medoc_emulator.start()
    address = TcpConnector.parse(emu.port, 0)
    thermode = medoc.MedocThermode(address, poll_interval_s=None, request_deadline_s=3.0)
    try:
        thermode.connect(SafetyLimits())
        emu.set_fault("slow", latency_s=1.5)
        worker = busy(lambda: thermode.request("GET_STATUS"))
        start = time.monotonic()
        aborter = busy(thermode.abort)
        reached = wait_for(lambda: any(c == MEDOC_COMMANDS["ABORT"] for c, _ in emu.requests), 1.0)
        assert reached is not None and time.monotonic() - start < REACH_WITHIN_S + 0.1
        aborter.join(timeout=medoc.ABORT_DEADLINE_S + 0.5)
        assert not aborter.is_alive(), "abort() outlived its own deadline"
        worker.join(timeout=3)
    finally:
        emu.set_fault(None)
        thermode.close()
        emu.close()


def test_tcs2_abort_does_not_wait_for_a_slow_query() -> None:
    """A K query held by a slow TCS II does not delay A: it is written at once (not after the query).

    The emulator handles bytes on one thread, busy delaying the K reply, so it records the
    A only afterwards; the write itself is what the driver controls.
    """
    emu = tcs2_emulator.start()
    thermode = tcs2.Tcs2Thermode(open_serial(emu.port, tcs2.SERIAL_SETTINGS), monitor_every_s=None)
    try:
        thermode.connect(SafetyLimits())
        emu.set_fault("slow", latency_s=0.8)
        worker = busy(thermode.buttons)
        before = emu.received.count(b"A")
        start = time.monotonic()
        thermode.abort()
        assert time.monotonic() - start < REACH_WITHIN_S
        assert worker.is_alive(), "the K query was no longer waiting: the test proved nothing"
        assert wait_for(lambda: emu.received.count(b"A") > before, 2.0) is not None
        worker.join(timeout=2)
    finally:
        emu.set_fault(None)
        thermode.close()
        emu.close()


def test_bath_abort_returns_at_once_while_a_query_waits() -> None:
    """A bath's abort (no wire traffic: the bath keeps its setpoint) never waits for a slow query."""
    emu = julabo_emulator.start(framing="8N1")
    bath = julabo.JulaboBath(open_serial(emu.port, julabo.serial_settings_for()))
    try:
        bath.connect(SafetyLimits(min_bath_c=4.0))
        emu.set_fault("slow", latency_s=0.35)
        worker = busy(bath.read_temperature)
        start = time.monotonic()
        bath.abort()
        assert time.monotonic() - start < 0.05
        worker.join(timeout=2)
    finally:
        emu.set_fault(None)
        bath.close()
        emu.close()
