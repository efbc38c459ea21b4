"""Late replies are never taken as the answer to a later question, on every driver.

Each trial changes the emulated device's state at random, then asks one question; in some
trials the emulator's ``slow`` fault delays that reply past the driver's reply timeout, so
it arrives while a later question is waiting. A value that does not match the state at the
time of its question is a misattribution; there must be none. The counts are printed
(``pytest -s``). The TCS II button reply is also read with and without a line end, with the
100 Hz stream on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cpmlab.app.transport import open_serial
from cpmlab.core.errors import DeviceError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.devices.transport import TcpConnector
from cpmlab.drivers import julabo, lauda, medoc, tcs2
from cpmlab.drivers._medoc_protocol import COMMANDS as MEDOC_COMMANDS
from cpmlab.hardware_mocks import julabo as julabo_emulator
from cpmlab.hardware_mocks import lauda as lauda_emulator
from cpmlab.hardware_mocks import medoc as medoc_emulator
from cpmlab.hardware_mocks import tcs2 as tcs2_emulator

TRIALS = 40
REPLY_TIMEOUT_S = 0.15
LIMITS = SafetyLimits(min_bath_c=4.0)


@dataclass
class Counts:
    """What happened over the trials of one driver."""

    trials: int = 0
    late: int = 0
    correct: int = 0
    device_errors: int = 0
    misattributed: int = 0

    def line(self, name: str) -> str:
        """Return the counts as one printable line."""
        return (
            f"{name:7s} trials={self.trials} late-injected={self.late} correct={self.correct} "
            f"device-errors={self.device_errors} misattributed={self.misattributed}"
        )


Trial = Callable[[random.Random], tuple[Callable[[], Any], Any]]


def run_trials(emulator: Any, trial: Trial, seed: int) -> Counts:
    """Run TRIALS questions; about a third with the reply delayed past the timeout."""
    rng = random.Random(seed)
    counts = Counts()
    for _ in range(TRIALS):
        ask, expected = trial(rng)
        late = rng.random() < 0.35
        if late:
            emulator.set_fault("slow", latency_s=rng.uniform(1.2, 3.0) * REPLY_TIMEOUT_S)
        counts.trials += 1
        counts.late += late
        try:
            answer = ask()
        except DeviceError:
            counts.device_errors += 1
        else:
            if answer == expected:
                counts.correct += 1
            else:
                counts.misattributed += 1
                print(f"  MISATTRIBUTED: got {answer!r}, expected {expected!r}")
        finally:
            emulator.set_fault(None)
        if rng.random() < 0.3:
            time.sleep(rng.uniform(0, 2 * REPLY_TIMEOUT_S))  # let some late replies land idle
    print(counts.line(type(emulator).__name__))
    return counts


def test_julabo_never_takes_a_late_reply_as_an_answer() -> None:
    """Julabo: setpoints and limits changed every trial; every accepted value is the current one."""
    emu = julabo_emulator.start(time_scale=1.0, framing="8N1")
    bath = julabo.JulaboBath(open_serial(emu.port, julabo.serial_settings_for()), reply_timeout_s=REPLY_TIMEOUT_S)
    try:
        bath.connect(LIMITS)

        def trial(rng: random.Random) -> tuple[Callable[[], Any], Any]:
            emu.setpoints_c = [round(rng.uniform(4, 30), 2) for _ in range(3)]
            emu.over_limit_c = round(rng.uniform(31, 90), 2)
            emu.sub_limit_c = round(rng.uniform(-10, 3), 2)
            index = rng.randrange(5)
            value = ([*emu.setpoints_c, emu.over_limit_c, emu.sub_limit_c])[index]
            return (lambda: bath.query_number(f"IN_SP_0{index}")), value

        counts = run_trials(emu, trial, seed=13)
    finally:
        bath.close()
        emu.close()
    assert counts.misattributed == 0
    assert counts.correct >= TRIALS // 4 and counts.late > 0


def test_lauda_never_takes_a_late_reply_as_an_answer() -> None:
    """Lauda: setpoint and level changed every trial; every accepted value is the current one."""
    emu = lauda_emulator.start(time_scale=1.0)
    bath = lauda.LaudaBath(open_serial(emu.port, lauda.SERIAL_SETTINGS), reply_timeout_s=REPLY_TIMEOUT_S)
    try:
        bath.connect(LIMITS)

        def trial(rng: random.Random) -> tuple[Callable[[], Any], Any]:
            setpoint_c = round(rng.uniform(4, 30), 2)
            emu.bath.set_setpoint(setpoint_c)
            emu.level = rng.randrange(1, 9)
            if rng.random() < 0.5:
                return (lambda: bath.query_number("IN_SP_00")), setpoint_c
            return bath.read_level, float(emu.level)

        counts = run_trials(emu, trial, seed=17)
    finally:
        bath.close()
        emu.close()
    assert counts.misattributed == 0
    assert counts.correct >= TRIALS // 4 and counts.late > 0


def test_tcs2_never_takes_a_late_reply_as_an_answer() -> None:
    """TCS II: buttons changed every trial; every accepted button state is the current one."""
    emu = tcs2_emulator.start(time_scale=1.0)
    thermode = tcs2.Tcs2Thermode(
        open_serial(emu.port, tcs2.SERIAL_SETTINGS), reply_timeout_s=REPLY_TIMEOUT_S, monitor_every_s=None
    )
    try:
        thermode.connect(SafetyLimits())

        def trial(rng: random.Random) -> tuple[Callable[[], Any], Any]:
            emu.buttons = (rng.random() < 0.5, rng.random() < 0.5)
            return thermode.buttons, emu.buttons

        counts = run_trials(emu, trial, seed=19)
    finally:
        thermode.close()
        emu.close()
    assert counts.misattributed == 0
    assert counts.correct >= TRIALS // 4 and counts.late > 0


def test_medoc_never_takes_a_late_reply_as_an_answer() -> None:
    """Medoc (TCP, one connection per request): every accepted response answers its own command."""
    emu = medoc_emulator.start(time_scale=1.0)
    host, port = TcpConnector.parse(emu.port, 0).host, TcpConnector.parse(emu.port, 0).port
    connector = TcpConnector(host, port, timeout_s=REPLY_TIMEOUT_S)
    thermode = medoc.MedocThermode(connector, poll_interval_s=None)
    try:
        thermode.connect(SafetyLimits())

        def trial(rng: random.Random) -> tuple[Callable[[], Any], Any]:
            command = rng.choice(["GET_STATUS", "YES", "NO"])
            return (lambda: thermode.request(command).command), MEDOC_COMMANDS[command]

        counts = run_trials(emu, trial, seed=23)
    finally:
        thermode.close()
        emu.close()
    assert counts.misattributed == 0
    assert counts.correct >= TRIALS // 4 and counts.late > 0


@pytest.mark.parametrize("line_end", [True, False])
def test_tcs2_button_reply_is_read_with_or_without_a_line_end_while_streaming(line_end: bool) -> None:
    """K is answered CR + two digits (+ CRLF or nothing); it is read right at 1 Hz and at 100 Hz."""
    emu = tcs2_emulator.start(time_scale=1.0, button_line_end=line_end)
    thermode = tcs2.Tcs2Thermode(open_serial(emu.port, tcs2.SERIAL_SETTINGS))
    try:
        thermode.connect(SafetyLimits())
        thermode.set_baseline(32.0)
        rng = random.Random(7)
        for _ in range(6):
            emu.buttons = (rng.random() < 0.5, rng.random() < 0.5)
            assert thermode.buttons() == emu.buttons
        count = thermode._reading_count
        thermode.stimulate(ThermalStimulus(32.0, 40.0, 10.0, 10.0, 2.0))  # 100 Hz output during it
        for _ in range(10):
            emu.buttons = (rng.random() < 0.5, rng.random() < 0.5)
            assert thermode.buttons() == emu.buttons
            time.sleep(0.05)
        assert thermode._reading_count - count > 20, "the 100 Hz stream was not on"
    finally:
        thermode.close()
        emu.close()
