"""TCS II against its emulator: a stimulus the device starts is accepted, one it does not start
(the emulator's refuse fault, or an alarm) is a StimulusRefusedError within the check time."""

from __future__ import annotations

import time

import pytest

from cpmlab.app.transport import open_serial
from cpmlab.core.errors import StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.drivers import tcs2
from cpmlab.hardware_mocks import tcs2 as tcs2_emulator

STIM = ThermalStimulus(32.0, 40.0, 10.0, 10.0, 2.0)


@pytest.mark.parametrize("fault", [None, "refuse", "alarm"])
def test_the_driver_sees_whether_the_device_started_the_stimulus(fault: str | None) -> None:
    """Healthy: stimulate returns with the probe heating. refuse / alarm: StimulusRefusedError naming L."""
    emu = tcs2_emulator.start(time_scale=5.0)
    thermode = tcs2.Tcs2Thermode(open_serial(emu.port, tcs2.SERIAL_SETTINGS), monitor_every_s=None)
    try:
        thermode.connect(SafetyLimits())
        thermode.set_baseline(32.0)
        time.sleep(0.1)
        if fault is None:
            thermode.stimulate(STIM)
            assert emu.model.stimulating
            return
        emu.set_fault(fault)
        started = time.monotonic()
        with pytest.raises(StimulusRefusedError, match="did not start the stimulation") as caught:
            thermode.stimulate(STIM)
        assert caught.value.command == "L" and not emu.model.stimulating
        assert time.monotonic() - started < tcs2.START_CHECK_S + 0.5
    finally:
        emu.set_fault(None)
        thermode.close()
        emu.close()
