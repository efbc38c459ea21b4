"""The contract every thermode and every cold-pressor driver keeps, as reusable pytest suites.

A driver is tested through a :class:`Rig`: the device, a count of what it has sent, a way to
pull its cable and the events and faults it reported. Subclass :class:`ThermodeConformance`
or :class:`BathConformance` in a test module named ``test_*.py`` and give the class a ``rig``
fixture (see docs/drivers.md)::

    class TestMyBath(BathConformance):
        @pytest.fixture
        def rig(self) -> Iterator[Rig]:
            yield from emulator_rig(MY_DRIVER, MY_EMULATOR)

For installed plugins, ``plugin_rig(name)`` finds the driver and its emulator by entry point;
``fake_rig(device)`` serves the in-process doubles of ``cpmlab.testing.fake_devices``. Every
check runs at ``TIME_SCALE`` times device speed, under ``LIMITS``.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cpmlab.app.transport import open_transport
from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import LimitError
from cpmlab.core.events import EventBus
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ColdPressor, ThermalStimulus, Thermode
from cpmlab.devices.plugins import DriverSpec, EmulatorSpec, load_drivers, load_emulators
from cpmlab.engine import EngineDevices, SessionEngine, SessionOutcome
from cpmlab.participant.simulated import SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, parse_protocol
from cpmlab.storage.bids import write_bids
from cpmlab.storage.journal import Journal, read_journal
from cpmlab.storage.paths import SessionPaths
from cpmlab.testing.fake_devices import COMMAND_CALLS, FakeBath, FakeThermode

TIME_SCALE = 20.0
LIMITS = SafetyLimits(max_thermode_c=48.0, min_bath_c=6.0)


class CountingTransport:
    """Wraps a serial transport or a TCP connector and counts the writes and connections made."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "sent", 0)

    def write(self, data: bytes) -> Any:
        """Count, then write data."""
        object.__setattr__(self, "sent", self.sent + 1)
        return self._inner.write(data)

    def open(self) -> Any:
        """Count, then open a connection."""
        object.__setattr__(self, "sent", self.sent + 1)
        return self._inner.open()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


@dataclass
class Rig:
    """A device under test and what the suites need around it."""

    name: str
    device: Any
    sent: Callable[[], int]  # how many writes/commands have reached the device so far
    unplug: Callable[[], None]  # pull the cable
    setpoint_c: Callable[[], float] | None = None  # a bath's setpoint as the device holds it
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)


def _bath_setpoint(emulator: Any) -> Callable[[], float] | None:
    model = getattr(emulator, "bath", None)
    return (lambda: model.setpoint_c) if model is not None and hasattr(model, "setpoint_c") else None


def emulator_rig(
    driver: DriverSpec,
    emulator: EmulatorSpec,
    *,
    time_scale: float = TIME_SCALE,
    driver_options: dict[str, Any] | None = None,
    read_setpoint: Callable[[Any], float] | None = None,
    **emulator_options: Any,
) -> Iterator[Rig]:
    """Yield a Rig of driver talking to a freshly started emulator; close everything after.

    read_setpoint(emulator) returns a bath emulator's setpoint (default: ``emulator.bath.setpoint_c``).
    """
    running = emulator.start(time_scale=time_scale, **{**driver.emulator_options, **emulator_options})
    transport = CountingTransport(open_transport(driver, running.port))
    reader = (lambda: read_setpoint(running)) if read_setpoint is not None else _bath_setpoint(running)
    rig = Rig(driver.name, None, lambda: transport.sent, lambda: running.set_fault("unplug"), reader)
    try:
        rig.device = driver.factory(
            transport, event_sink=lambda kind, **data: rig.events.append((kind, data)), **(driver_options or {})
        )
        rig.device.add_fault_listener(lambda message: rig.faults.append((time.monotonic(), message)))
        yield rig
    finally:
        if rig.device is not None:
            rig.device.close()
        transport.close()
        running.close()


def plugin_rig(name: str, **options: Any) -> Iterator[Rig]:
    """Yield a Rig of the installed driver plugin name and its emulator plugin (see emulator_rig)."""
    driver = load_drivers().get(name)
    yield from emulator_rig(driver, load_emulators().get(driver.emulator or name), **options)


def fake_rig(device: FakeThermode | FakeBath) -> Iterator[Rig]:
    """Yield a Rig of an in-process fake device; its recorded commands count as sent."""
    commands = COMMAND_CALLS
    rig = Rig(device.model, device, lambda: sum(1 for c in device.calls if c[0] in commands), device.vanish)
    if isinstance(device, FakeBath):
        commands = COMMAND_CALLS - {"abort"}  # a bath's abort is recorded but, as on a real bath, sends nothing
        rig.setpoint_c = lambda: device.physics.setpoint_c
    device.add_fault_listener(lambda message: rig.faults.append((time.monotonic(), message)))
    try:
        yield rig
    finally:
        device.close()


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.02) -> bool:
    """Poll predicate until it holds or timeout_s passes; return its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


class ThermodeConformance:
    """What every thermode driver must do; subclass with a ``rig`` fixture yielding a thermode Rig."""

    def test_satisfies_the_interface_and_starts_at_neutral(self, rig: Rig) -> None:
        """After connect the probe rests at neutral (32 C) in every zone."""
        assert isinstance(rig.device, Thermode)
        info = rig.device.connect(LIMITS)
        assert info.kind == "thermode" and info.identity
        rig.device.set_baseline(32.0)
        reading = rig.device.read_temperatures()
        assert all(abs(z - 32.0) < 1.0 for z in reading.zones_c), reading

    def test_abort_returns_to_neutral(self, rig: Rig) -> None:
        """A stimulus aborted on its plateau returns the probe to neutral by itself."""
        device = rig.device
        device.connect(LIMITS)
        device.set_baseline(32.0)
        device.stimulate(ThermalStimulus(32.0, 46.0, 4.0, 4.0, 30.0))
        assert wait_until(lambda: device.read_temperatures().max_c > 44.0, 5.0)
        device.abort()
        assert wait_until(lambda: device.read_temperatures().max_c < 33.0, 5.0), device.read_temperatures()

    def test_stimulus_is_timed_by_the_device(self, rig: Rig) -> None:
        """Without abort, the device returns to neutral on its own after ramp + plateau."""
        device = rig.device
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
    def test_limits_are_refused_before_any_byte(self, rig: Rig, stimulus: ThermalStimulus) -> None:
        """An out-of-limit stimulus raises LimitError and nothing is sent to the device."""
        rig.device.connect(LIMITS)
        rig.device.set_baseline(32.0)
        sent = rig.sent()
        with pytest.raises(LimitError):
            rig.device.stimulate(stimulus)
        assert rig.sent() == sent

    def test_close_twice_is_safe(self, rig: Rig) -> None:
        """close() can be called twice and never raises."""
        rig.device.connect(LIMITS)
        rig.device.close()
        rig.device.close()

    def test_unplug_is_a_fault_within_one_second_and_data_survives(self, rig: Rig, tmp_path: Path) -> None:
        """Pulling the thermode's cable mid-session gives a fault event within 1 s; the session data is written."""
        run_session_and_pull_the_cable(rig, "thermode", tmp_path)


class BathConformance:
    """What every cold-pressor driver must do; subclass with a ``rig`` fixture yielding a bath Rig.

    The bath must start at 10 C with its setpoint at 10 C (emulators: start_c=10, setpoint_c=10).
    """

    def test_satisfies_the_interface_and_reports_its_temperature(self, rig: Rig) -> None:
        """After connect the bath reports its temperature and an OK status."""
        assert isinstance(rig.device, ColdPressor)
        info = rig.device.connect(LIMITS)
        assert info.kind == "cold_pressor" and info.identity
        assert abs(rig.device.read_temperature().bath_c - 10.0) < 1.0
        rig.device.start_circulation()
        assert rig.device.status().ok

    def test_setpoint_is_applied_and_abort_changes_nothing(self, rig: Rig) -> None:
        """The setpoint reaches the device; abort never raises, sends nothing and leaves the setpoint."""
        assert rig.setpoint_c is not None, "the rig cannot read the device's setpoint: pass read_setpoint"
        rig.device.connect(LIMITS)
        rig.device.set_setpoint(12.0)
        assert abs(rig.setpoint_c() - 12.0) < 0.01
        sent = rig.sent()
        rig.device.abort()
        assert rig.sent() == sent
        assert abs(rig.setpoint_c() - 12.0) < 0.01

    def test_limits_are_refused_before_any_byte(self, rig: Rig) -> None:
        """A setpoint below the minimum bath temperature raises LimitError; nothing is sent."""
        rig.device.connect(LIMITS)
        sent = rig.sent()
        with pytest.raises(LimitError):
            rig.device.set_setpoint(5.0)
        assert rig.sent() == sent

    def test_close_twice_is_safe(self, rig: Rig) -> None:
        """close() can be called twice and never raises."""
        rig.device.connect(LIMITS)
        rig.device.close()
        rig.device.close()

    def test_unplug_is_a_fault_within_one_second_and_data_survives(self, rig: Rig, tmp_path: Path) -> None:
        """Pulling the bath's cable mid-immersion gives a fault event within 1 s; the session data is written."""
        run_session_and_pull_the_cable(rig, "cold_pressor", tmp_path)


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


def run_session_and_pull_the_cable(rig: Rig, role: str, data_root: Path) -> None:
    """Run a short session with rig.device as role, pull its cable once immersed, and check the data."""
    protocol = parse_protocol(PROTOCOL, "conformance.yaml")
    limits = effective_limits(protocol, None)
    paths = SessionPaths.create(data_root, "01", "1", protocol.task)
    bus = EventBus()
    journal = Journal(paths.journal)
    bus.subscribe(journal, critical=True)
    participant = SimulatedParticipant(seed=1, speed=TIME_SCALE)
    bus.subscribe(participant.observe)
    devices: dict[str, Any] = {"thermode": FakeThermode(TIME_SCALE), "cold_pressor": FakeBath(TIME_SCALE)}
    devices[role] = rig.device
    for device in devices.values():
        device.connect(limits)
    engine = SessionEngine(protocol, EngineDevices(**devices), participant, bus, limits, speed=TIME_SCALE)
    unplugged_at: list[float] = []

    def pull_cable_when_immersed(event: ev.Event) -> None:
        if event.kind == ev.IMMERSION and event.data.get("stage") == "immersion_start":

            def pull() -> None:
                time.sleep(0.2)
                unplugged_at.append(now())
                rig.unplug()

            threading.Thread(target=pull, daemon=True).start()

    bus.subscribe(pull_cable_when_immersed)
    outcome = engine.run()
    journal.close()
    for device in devices.values():
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
