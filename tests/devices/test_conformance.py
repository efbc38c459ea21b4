"""Conformance: every installed thermode and bath driver against its emulator, and the engine's fakes.

The suites themselves are in cpmlab.testing.conformance (labs run them on their own drivers):
starts at neutral, abort returns to neutral, limits are refused before any byte is sent,
closing twice is safe, and an unplugged cable becomes a clear fault event within one second
while the session data stays intact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cpmlab.devices.plugins import load_drivers
from cpmlab.testing.conformance import (
    TIME_SCALE,
    BathConformance,
    Rig,
    ThermodeConformance,
    fake_rig,
    plugin_rig,
)
from cpmlab.testing.fake_devices import FakeBath, FakeThermode

DRIVER_OPTIONS: dict[str, dict[str, Any]] = {"medoc": {"program_for": {44.0: 0b1, 46.0: 0b10, 48.0: 0b11100}}}
THERMODES = sorted(n for n, s in load_drivers().specs.items() if s.kind == "thermode")
BATHS = sorted(n for n, s in load_drivers().specs.items() if s.kind == "cold_pressor")


def test_every_shipped_driver_is_covered() -> None:
    """The plugin lists below are not empty: the four shipped drivers are installed."""
    assert THERMODES == ["medoc", "tcs2"] and BATHS == ["julabo", "lauda"]


class TestThermodeDrivers(ThermodeConformance):
    """Every installed thermode plugin against its emulator."""

    @pytest.fixture(params=THERMODES)
    def rig(self, request: pytest.FixtureRequest) -> Iterator[Rig]:
        yield from plugin_rig(request.param, driver_options=DRIVER_OPTIONS.get(request.param))


class TestBathDrivers(BathConformance):
    """Every installed cold-pressor plugin against its emulator."""

    @pytest.fixture(params=BATHS)
    def rig(self, request: pytest.FixtureRequest) -> Iterator[Rig]:
        yield from plugin_rig(request.param, start_c=10.0, setpoint_c=10.0)


class TestFakeThermode(ThermodeConformance):
    """The engine tests' FakeThermode keeps the thermode contract."""

    @pytest.fixture
    def rig(self) -> Iterator[Rig]:
        yield from fake_rig(FakeThermode(TIME_SCALE))


class TestFakeBath(BathConformance):
    """The engine tests' FakeBath keeps the bath contract."""

    @pytest.fixture
    def rig(self) -> Iterator[Rig]:
        yield from fake_rig(FakeBath(TIME_SCALE, start_c=10.0))
