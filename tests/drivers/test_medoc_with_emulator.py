"""MedocThermode against the Medoc emulator: both "Automatic Start" configurations, the settling
time before TRIGGER, refused commands, and signed temperatures below zero."""

from __future__ import annotations

from typing import Any

import pytest

from cpmlab.core.errors import DeviceError, StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.devices.transport import TcpConnector
from cpmlab.drivers.medoc import MedocThermode
from cpmlab.hardware_mocks.medoc import MedocEmulator, start

PROGRAM = 0b00011100
START = 2
STIM = ThermalStimulus(32.0, 42.0, 5.0, 5.0, 2.0, zones=(1,))


def emulator(**options: Any) -> MedocEmulator:
    """An emulator at 10x with a short pre-test and one 42 C program."""
    return start(time_scale=10.0, seed=7, pretest_s=(0.3, 0.6), programs={PROGRAM: (42.0, 5.0, 2.0, 10.0)}, **options)


@pytest.fixture
def events() -> list[tuple[str, dict[str, Any]]]:
    return []


def driver_for(emu: MedocEmulator, events: list[tuple[str, dict[str, Any]]], **options: Any) -> MedocThermode:
    """A connected driver (no background polling) that records its events."""
    connector = TcpConnector.parse(emu.port, 20121)
    options = {"poll_interval_s": None, "pretest_poll_s": 0.01, "trigger_settle_s": 0.1, **options}
    driver = MedocThermode(
        connector,
        event_sink=lambda kind, **data: events.append((kind, data)),
        program_for={42.0: PROGRAM},
        **options,
    )
    driver.connect(SafetyLimits())
    driver.set_baseline(32.0)
    return driver


def warnings(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The warnings the driver journaled."""
    return [str(data["warning"]) for _, data in events if "warning" in data]


@pytest.mark.parametrize(
    ("start_mode", "automatic_start", "sends_start", "warned"),
    [
        ("command", False, True, ""),
        ("automatic", True, False, ""),
        ("command", True, False, "option is on"),  # the SELECT_TP answer shows the test started
        ("automatic", False, True, "option is off"),
    ],
)
def test_both_configurations_deliver_the_stimulus(
    events: list[tuple[str, dict[str, Any]]], start_mode: str, automatic_start: bool, sends_start: bool, warned: str
) -> None:
    """Whichever way the software is set, the stimulus is delivered; a mismatch is named in a warning."""
    emu = emulator(automatic_start=automatic_start)
    driver = driver_for(emu, events, start_mode=start_mode)
    try:
        driver.stimulate(STIM)
        assert emu.model.stimulating and emu.lost_triggers == 0
        assert any(command == START for command, _ in emu.requests) is sends_start
        found = warnings(events)
        assert (len(found) == 1 and warned in found[0]) if warned else found == []
    finally:
        driver.close()
        emu.close()


def test_without_the_settling_time_the_trigger_is_lost(events: list[tuple[str, dict[str, Any]]]) -> None:
    """The emulator loses a TRIGGER sent right at RUNNING (0.5 s device time): the delay is needed."""
    emu = emulator(trigger_settle_s=2.0)  # 0.2 s real at 10x
    driver = driver_for(emu, events, trigger_settle_s=0.0)
    try:
        driver.stimulate(STIM)
        assert emu.lost_triggers == 1 and not emu.model.stimulating
    finally:
        driver.close()
        emu.close()


@pytest.mark.parametrize("command", [1, START])
def test_a_refused_selection_or_start_raises_stimulus_refused(
    events: list[tuple[str, dict[str, Any]]], command: int
) -> None:
    """The emulator's refuse fault on SELECT_TP or START: StimulusRefusedError, nothing delivered."""
    emu = emulator()
    driver = driver_for(emu, events)
    try:
        emu.set_fault("refuse", commands=(command,))
        with pytest.raises(StimulusRefusedError, match="illegal state"):
            driver.stimulate(STIM)
        assert not emu.model.stimulating
    finally:
        driver.close()
        emu.close()


def test_a_probe_below_zero_is_read_as_a_negative_temperature() -> None:
    """A probe at -3.00 C (signed on the wire) reads -3.00 C; one at -20 C is a device error."""
    for neutral_c in (-3.0, -20.0):
        emu = start(neutral_c=neutral_c)
        driver = MedocThermode(TcpConnector.parse(emu.port, 20121), poll_interval_s=None)
        try:
            if neutral_c > -10.0:
                driver.connect(SafetyLimits())
                assert driver.read_temperatures().zones_c[0] == pytest.approx(neutral_c, abs=0.05)
            else:
                with pytest.raises(DeviceError, match="outside what a probe can report"):
                    driver.connect(SafetyLimits())
        finally:
            driver.close()
            emu.close()
