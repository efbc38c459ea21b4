"""Opt-in checks against real devices: pytest --device-port tcs2=/dev/ttyUSB0 (marked 'hardware').

Safe by construction: they identify the device, read temperatures and send abort; the
only stimulus is a 1 C rise above 32 C for 1 s.
"""

from __future__ import annotations

import time

import pytest

from cpmlab.app.transport import open_transport
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.devices.plugins import load_drivers

pytestmark = pytest.mark.hardware
LIMITS = SafetyLimits(max_thermode_c=40.0, min_bath_c=8.0)


def open_real(name: str, device_ports: dict[str, str]):
    if name not in device_ports:
        pytest.skip(f"no --device-port {name}=PORT given")
    spec = load_drivers().get(name)
    transport = open_transport(spec, device_ports[name])
    return spec.factory(transport), transport


@pytest.mark.parametrize("name", ["tcs2", "medoc"])
def test_real_thermode_identifies_rests_at_neutral_and_aborts(name: str, device_ports: dict[str, str]) -> None:
    """The thermode answers, rests near 32 C, takes a mild stimulus and returns on abort."""
    device, transport = open_real(name, device_ports)
    try:
        assert device.connect(LIMITS).identity
        device.set_baseline(32.0)
        assert abs(device.read_temperatures().max_c - 32.0) < 2.0
        device.stimulate(ThermalStimulus(32.0, 33.0, 1.0, 1.0, 1.0))
        time.sleep(1.0)
        device.abort()
    finally:
        device.close()
        transport.close()


@pytest.mark.parametrize("name", ["julabo", "lauda"])
def test_real_bath_reports_temperature_and_status(name: str, device_ports: dict[str, str]) -> None:
    """The circulator answers with a plausible bath temperature and a status."""
    device, transport = open_real(name, device_ports)
    try:
        device.connect(LIMITS)
        assert -30.0 < device.read_temperature().bath_c < 60.0
        device.status()
    finally:
        device.close()
        transport.close()
