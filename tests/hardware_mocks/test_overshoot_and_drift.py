"""Temperature faults of the emulators: a probe that overshoots its command, a bath that drifts off its setpoint."""

from __future__ import annotations

import time

import pytest
import serial
from test_medoc_emulator import GET_STATUS, PROGRAM, SELECT_TP, START, TRIGGER, medoc, wait_running

from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.drivers.tcs2 import Tcs2Thermode
from cpmlab.hardware_mocks import julabo, lauda, tcs2
from cpmlab.hardware_mocks import medoc as medoc_mock


def test_tcs2_overshoot_drives_the_probe_past_its_command_and_off_again() -> None:
    """With overshoot on, zones read about overshoot_c above a 46 C command (past the Om ceiling); off, they obey."""
    emu = tcs2.start(time_scale=10.0, seed=1)
    port = serial.Serial(emu.port, baudrate=115200, timeout=0.05)
    driver = Tcs2Thermode(port)
    try:
        driver.connect(SafetyLimits(max_thermode_c=50.0))
        emu.set_fault("overshoot", overshoot_c=6.0)
        driver.stimulate(ThermalStimulus(32.0, 46.0, 10.0, 10.0, 20.0))
        time.sleep(0.6)  # 6 s of device time: ramp done, on the plateau
        assert min(driver.read_temperatures().zones_c) > 51.0
        emu.set_fault(None)
        time.sleep(0.3)
        assert max(driver.read_temperatures().zones_c) <= 46.2
    finally:
        driver.close()
        port.close()
        emu.close()


def test_medoc_overshoot_shows_in_the_status_temperature() -> None:
    """The Medoc emulator's probe overshoots its program's target while the fault is on."""
    emu = medoc_mock.start(time_scale=10.0, seed=3, pretest_s=(1.0, 2.0), programs={PROGRAM: (42.0, 5.0, 20.0, 10.0)})
    try:
        emu.set_fault("overshoot", overshoot_c=5.0)
        medoc(emu.port, SELECT_TP, PROGRAM)
        medoc(emu.port, START)
        wait_running(emu.port)
        time.sleep(0.1)  # the settling time after RUNNING (0.5 s device time)
        medoc(emu.port, TRIGGER)
        time.sleep(0.5)  # 5 s of device time: 2 s ramp, then the plateau
        assert medoc(emu.port, GET_STATUS)["temp_c"] > 46.0
    finally:
        emu.close()


@pytest.mark.parametrize("module", [julabo, lauda])
def test_bath_drift_moves_the_water_off_its_setpoint_until_cleared(module) -> None:
    """drift: the regulation is lost and the water moves at drift_c_per_s; clearing it regulates again."""
    emu = module.start(time_scale=10.0, start_c=10.0, setpoint_c=10.0, running=True)
    try:
        emu.set_fault("drift", drift_c_per_s=-1.0)
        time.sleep(0.5)  # 5 s of device time
        drifted_c = emu.temperature_c()
        assert drifted_c < 6.0
        emu.set_fault(None)
        time.sleep(0.2)
        assert emu.temperature_c() > drifted_c
    finally:
        emu.close()


def test_each_emulator_lists_its_own_temperature_fault_and_refuses_the_other() -> None:
    """Thermodes accept overshoot, baths drift; each refuses the other's with the list of its faults."""
    assert "overshoot" in tcs2.EMULATOR.faults and "overshoot" in medoc_mock.EMULATOR.faults
    assert "drift" in julabo.EMULATOR.faults and "drift" in lauda.EMULATOR.faults
    emu = julabo.start()
    try:
        with pytest.raises(ValueError, match="drift"):
            emu.set_fault("overshoot")
    finally:
        emu.close()
