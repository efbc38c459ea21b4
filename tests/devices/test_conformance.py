"""Conformance: every thermode driver and every cold-pressor driver against its emulator.

The same contract for each device of a kind: starts at neutral, abort returns to neutral,
limits are refused before any byte is sent, closing twice is safe, and an unplugged cable
becomes a clear fault event within one second while the session data stays intact.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeBath, FakeThermode

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import LimitError
from cpmlab.core.events import EventBus
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ColdPressor, ThermalStimulus, Thermode
from cpmlab.devices.plugins import load_drivers, load_emulators
from cpmlab.devices.transport import open_transport
from cpmlab.engine import EngineDevices, SessionEngine, SessionOutcome
from cpmlab.participant.simulated import SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, parse_protocol
from cpmlab.storage.bids import write_bids
from cpmlab.storage.journal import Journal, read_journal
from cpmlab.storage.paths import SessionPaths

TIME_SCALE = 20.0
LIMITS = SafetyLimits(max_thermode_c=48.0, min_bath_c=6.0)
DRIVER_OPTIONS: dict[str, dict[str, Any]] = {"medoc": {"program_for": {44.0: 0b1, 46.0: 0b10, 48.0: 0b11100}}}
THERMODES = sorted(n for n, s in load_drivers().specs.items() if s.kind == "thermode")
BATHS = sorted(n for n, s in load_drivers().specs.items() if s.kind == "cold_pressor")


class CountingTransport:
    """Wraps a pyserial object or a TCP connector and counts what is sent through it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.sent = 0

    def write(self, data: bytes) -> int:
        self.sent += 1
        return self._inner.write(data)

    def open(self) -> Any:
        self.sent += 1
        return self._inner.open()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_inner", "sent"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._inner, name, value)


@dataclass
class Rig:
    """A driver connected to its emulator, with the driver's events collected."""

    name: str
    device: Any
    emulator: Any
    transport: CountingTransport
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)


def _rig(name: str, **emulator_options: Any) -> Iterator[Rig]:
    spec = load_drivers().get(name)
    emulator = (
        load_emulators()
        .get(spec.emulator or name)
        .start(time_scale=TIME_SCALE, **{**spec.emulator_options, **emulator_options})
    )
    transport = CountingTransport(open_transport(spec, emulator.port))
    rig = Rig(name, None, emulator, transport)
    rig.device = spec.factory(
        transport, event_sink=lambda kind, **data: rig.events.append((kind, data)), **DRIVER_OPTIONS.get(name, {})
    )
    rig.device.add_fault_listener(lambda message: rig.faults.append((time.monotonic(), message)))
    try:
        yield rig
    finally:
        rig.device.close()
        transport.close()
        emulator.close()


@pytest.fixture(params=THERMODES)
def thermode(request: pytest.FixtureRequest) -> Iterator[Rig]:
    yield from _rig(request.param)


@pytest.fixture(params=BATHS)
def bath(request: pytest.FixtureRequest) -> Iterator[Rig]:
    yield from _rig(request.param, start_c=10.0, setpoint_c=10.0)


def wait_until(predicate: Any, timeout_s: float, step_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


# -- thermodes -------------------------------------------------------------------------------


def test_thermode_satisfies_the_interface_and_starts_at_neutral(thermode: Rig) -> None:
    """After connect the probe rests at neutral (32 C) in every zone."""
    assert isinstance(thermode.device, Thermode)
    info = thermode.device.connect(LIMITS)
    assert info.kind == "thermode" and info.identity
    thermode.device.set_baseline(32.0)
    reading = thermode.device.read_temperatures()
    assert all(abs(z - 32.0) < 1.0 for z in reading.zones_c), reading


def test_thermode_abort_returns_to_neutral(thermode: Rig) -> None:
    """A stimulus aborted on its plateau returns the probe to neutral by itself."""
    device = thermode.device
    device.connect(LIMITS)
    device.set_baseline(32.0)
    device.stimulate(ThermalStimulus(32.0, 46.0, 4.0, 4.0, 30.0))
    assert wait_until(lambda: device.read_temperatures().max_c > 44.0, 5.0)
    device.abort()
    assert wait_until(lambda: device.read_temperatures().max_c < 33.0, 5.0), device.read_temperatures()


def test_thermode_stimulus_is_timed_by_the_device(thermode: Rig) -> None:
    """Without abort, the device returns to neutral on its own after ramp + plateau."""
    device = thermode.device
    device.connect(LIMITS)
    device.set_baseline(32.0)
    device.stimulate(ThermalStimulus(32.0, 44.0, 4.0, 4.0, 5.0))
    assert wait_until(lambda: device.read_temperatures().max_c > 42.0, 5.0)
    # 3 s ramp + 5 s plateau + 3 s return = 11 s device time, ~0.55 s real at x20
    assert wait_until(lambda: device.read_temperatures().max_c < 33.0, 5.0)


@pytest.mark.parametrize(
    "stimulus",
    [
        ThermalStimulus(32.0, 49.0, 4.0, 4.0, 5.0),  # above the session maximum
        ThermalStimulus(32.0, 46.0, 40.0, 4.0, 5.0),  # ramp faster than allowed
        ThermalStimulus(32.0, 46.0, 4.0, 4.0, 500.0),  # plateau longer than allowed
    ],
)
def test_thermode_limits_are_refused_before_any_byte(thermode: Rig, stimulus: ThermalStimulus) -> None:
    """An out-of-limit stimulus raises LimitError and nothing is sent to the device."""
    thermode.device.connect(LIMITS)
    thermode.device.set_baseline(32.0)
    sent = thermode.transport.sent
    with pytest.raises(LimitError):
        thermode.device.stimulate(stimulus)
    assert thermode.transport.sent == sent
    assert not [e for e in thermode.events[-3:] if e[0] == "command" and e[1].get("command") == "L"]


def test_thermode_close_twice_is_safe(thermode: Rig) -> None:
    """close() can be called twice and never raises."""
    thermode.device.connect(LIMITS)
    thermode.device.close()
    thermode.device.close()


# -- cold pressors -------------------------------------------------------------------------


def test_bath_satisfies_the_interface_and_reports_its_temperature(bath: Rig) -> None:
    """After connect the bath reports its temperature and an OK status."""
    assert isinstance(bath.device, ColdPressor)
    info = bath.device.connect(LIMITS)
    assert info.kind == "cold_pressor" and info.identity
    assert abs(bath.device.read_temperature().bath_c - 10.0) < 1.0
    bath.device.start_circulation()
    assert bath.device.status().ok


def test_bath_setpoint_is_applied_and_abort_changes_nothing(bath: Rig) -> None:
    """The setpoint reaches the device; abort never raises and leaves the setpoint alone."""
    bath.device.connect(LIMITS)
    bath.device.set_setpoint(12.0)
    assert abs(bath.emulator.bath.setpoint_c - 12.0) < 0.01 if hasattr(bath.emulator, "bath") else True
    sent = bath.transport.sent
    bath.device.abort()
    assert bath.transport.sent == sent


def test_bath_limits_are_refused_before_any_byte(bath: Rig) -> None:
    """A setpoint below the minimum bath temperature raises LimitError; nothing is sent."""
    bath.device.connect(LIMITS)
    sent = bath.transport.sent
    with pytest.raises(LimitError):
        bath.device.set_setpoint(5.0)
    assert bath.transport.sent == sent


def test_bath_close_twice_is_safe(bath: Rig) -> None:
    """close() can be called twice and never raises."""
    bath.device.connect(LIMITS)
    bath.device.close()
    bath.device.close()


# -- a pulled cable during a session --------------------------------------------------------

PROTOCOL = textwrap.dedent("""\
    name: c
    title: Conformance
    task: conformance
    limits: {max_thermode_c: 48, min_bath_c: 6}
    steps:
      - {type: thermal, id: ts, target_c: 44, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 2}
      - {type: rating, rates: ts, timeout_s: 5}
      - {type: immersion, id: cs, setpoint_c: 10, duration_s: 100, max_s: 120}
""")


def _session_with(rig: Rig, role: str, tmp_path: Path) -> None:
    protocol = parse_protocol(PROTOCOL, "conformance.yaml")
    limits = effective_limits(protocol, None)
    paths = SessionPaths.create(tmp_path, "01", "1", protocol.task)
    bus = EventBus()
    journal = Journal(paths.journal)
    bus.subscribe(journal, critical=True)
    participant = SimulatedParticipant(seed=1, speed=TIME_SCALE)
    bus.subscribe(participant.observe)
    others = {"thermode": FakeThermode(TIME_SCALE), "cold_pressor": FakeBath(TIME_SCALE)}
    others[role] = rig.device
    for device in others.values():
        device.connect(limits)
    engine = SessionEngine(protocol, EngineDevices(**others), participant, bus, limits, speed=TIME_SCALE)
    unplugged_at: list[float] = []

    def pull_cable_when_immersed(event: ev.Event) -> None:
        if event.kind == ev.IMMERSION and event.data.get("stage") == "immersion_start":

            def pull() -> None:
                time.sleep(0.2)
                unplugged_at.append(now())
                rig.emulator.set_fault("unplug")

            threading.Thread(target=pull, daemon=True).start()

    bus.subscribe(pull_cable_when_immersed)
    outcome = engine.run()
    journal.close()
    for device in others.values():
        device.close()
    assert outcome == SessionOutcome.FAULT
    records = list(read_journal(paths.journal))
    faults = [r for r in records if r["kind"] == "fault" and r["device"] == role]
    assert unplugged_at and faults and faults[0]["message"]
    assert faults[0]["t"] - unplugged_at[0] < 1.0, "fault not journaled within one second of the unplug"
    assert any(r["kind"] == "rating" for r in records)
    written = write_bids(paths)
    assert written.outcome == "fault"
    assert len(written.ratings) == 1


def test_thermode_unplug_is_a_fault_within_one_second_and_data_survives(thermode: Rig, tmp_path: Path) -> None:
    """Pulling the thermode's cable mid-session gives a fault event within 1 s; the session data is written."""
    _session_with(thermode, "thermode", tmp_path)


def test_bath_unplug_is_a_fault_within_one_second_and_data_survives(bath: Rig, tmp_path: Path) -> None:
    """Pulling the bath's cable mid-immersion gives a fault event within 1 s; the session data is written."""
    _session_with(bath, "cold_pressor", tmp_path)
