"""Fault injection of every emulator plugin (unplug, silence, garbage, slow, split), seen by a client.

The suite is cpmlab.testing.emulator_faults; each emulator's own file tests its alarm and
what else is specific to the device.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cpmlab.devices.plugins import DriverSpec, load_drivers, load_emulators
from cpmlab.testing.emulator_faults import EmulatorFaults, Link, open_link

EMULATORS = sorted(load_emulators().specs)


def _driver_for(emulator: str) -> DriverSpec:
    return next(s for s in load_drivers().specs.values() if (s.emulator or s.name) == emulator)


def test_every_shipped_emulator_is_covered() -> None:
    """All four shipped emulators are installed, each with a driver whose probe can ask it."""
    assert EMULATORS == ["julabo", "lauda", "medoc", "tcs2"]
    assert all(_driver_for(name).probe is not None for name in EMULATORS)


class TestEmulatorFaults(EmulatorFaults):
    """The shared fault suite over every installed emulator plugin."""

    @pytest.fixture(params=EMULATORS)
    def link(self, request: pytest.FixtureRequest) -> Iterator[Link]:
        yield from open_link(_driver_for(request.param), load_emulators().get(request.param))


SERIAL_EMULATORS = [name for name in EMULATORS if _driver_for(name).transport == "serial"]


class TestEmulatorFaultsOverTcp(EmulatorFaults):
    """The same suite with every serial emulator served on loopback TCP (as on Windows)."""

    @pytest.fixture(params=SERIAL_EMULATORS)
    def link(self, request: pytest.FixtureRequest) -> Iterator[Link]:
        yield from open_link(_driver_for(request.param), load_emulators().get(request.param), tcp=True)
