"""In-process device doubles for engine tests: the emulators' physics without the wire.

``FakeThermode`` and ``FakeBath`` keep the same contract as a real driver (they pass the
conformance suites in ``cpmlab.testing.conformance``) and record every call in ``calls``.
``vanish()`` simulates a pulled cable: fault listeners are told and later commands raise.
``FakeThermode.refuse_stimuli = True`` makes ``stimulate`` raise StimulusRefusedError (a
device that does not accept the stimulus) without starting anything.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError, StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import (
    BathListener,
    BathReading,
    BathStatus,
    DeviceInfo,
    FaultListener,
    ReadingListener,
    ThermalStimulus,
    ThermodeReading,
)
from cpmlab.hardware_mocks.physics import BathModel, DeviceClock, ThermodeModel

#: Recorded calls that would put bytes on the wire of a real device.
COMMAND_CALLS = frozenset({"baseline", "stimulate", "abort", "setpoint", "start", "stop"})


_LIVE: weakref.WeakSet[FakeThermode] = weakref.WeakSet()


def close_all_fakes() -> int:
    """Stop every fake thermode still streaming (a test that forgot to close one); return how many."""
    live = list(_LIVE)
    for fake in live:
        fake.close()
    return len(live)


class FakeThermode:
    """A thermode double: ThermodeModel physics, readings streamed at rate_hz, calls recorded."""

    kind = "thermode"
    model = "fake thermode"

    def __init__(self, time_scale: float = 1.0, rate_hz: float = 50.0) -> None:
        self.physics = ThermodeModel(clock=DeviceClock(time_scale))
        self.calls: list[tuple[str, Any]] = []
        self.limits: SafetyLimits | None = None
        self._listeners: list[ReadingListener] = []
        self._fault_listeners: list[FaultListener] = []
        self._stop = threading.Event()
        self.vanished = False
        self.refuse_stimuli = False
        self.rate_hz = rate_hz
        self._thread = threading.Thread(target=self._stream, daemon=True)
        self._thread.start()
        _LIVE.add(self)

    def _stream(self) -> None:
        while not self._stop.wait(1.0 / self.rate_hz):
            if self.vanished:
                continue
            reading = self.read_temperatures()
            for listener in list(self._listeners):
                listener(reading)

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Take the session limits (the probe's ceiling follows them)."""
        self.limits = limits
        self.physics.max_c = limits.max_thermode_c
        self.calls.append(("connect", limits.max_thermode_c))
        return DeviceInfo("thermode", self.model, "FAKE")

    def set_baseline(self, baseline_c: float) -> None:
        """Set the neutral temperature."""
        self.calls.append(("baseline", baseline_c))
        self.physics.set_neutral(baseline_c)

    def stimulate(self, stimulus: ThermalStimulus) -> None:
        """Check the stimulus against the limits, then run it on the physics model."""
        if self.vanished:
            raise DeviceError("fake thermode vanished")
        if self.limits is None:
            raise DeviceError("fake thermode is not connected: call connect(limits) first")
        stimulus.check(self.limits)
        self.calls.append(("stimulate", stimulus))
        if self.refuse_stimuli:
            raise StimulusRefusedError("fake thermode refused the stimulus", command="stimulate")
        for zone in stimulus.zones:
            program = self.physics.program(zone)
            program.target_c = stimulus.target_c
            program.ramp_c_per_s = stimulus.ramp_c_per_s
            program.return_c_per_s = stimulus.return_c_per_s
            program.duration_s = stimulus.device_duration_s
        self.physics.start(list(stimulus.zones))

    def abort(self) -> None:
        """Return to neutral at the return rate."""
        self.calls.append(("abort", now()))
        self.physics.abort()

    def read_temperatures(self) -> ThermodeReading:
        """Return the model's current temperatures."""
        return ThermodeReading(now(), self.physics.neutral_c, tuple(self.physics.temperatures()))

    def add_reading_listener(self, listener: ReadingListener) -> None:
        """Call listener with every streamed reading."""
        self._listeners.append(listener)

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the fake vanishes."""
        self._fault_listeners.append(listener)

    def vanish(self) -> None:
        """Simulate a pulled cable."""
        self.vanished = True
        for listener in self._fault_listeners:
            listener("fake thermode vanished")

    def response_button_pressed(self) -> bool:
        """Return False: the fake has no button."""
        return False

    def close(self) -> None:
        """Stop streaming; safe to call twice."""
        self._stop.set()


class FakeBath:
    """A cold-pressor double with BathModel physics; setpoints are checked against the limits."""

    kind = "cold_pressor"
    model = "fake bath"

    def __init__(self, time_scale: float = 1.0, start_c: float = 10.0) -> None:
        self.physics = BathModel(start_c=start_c, setpoint_c=start_c, clock=DeviceClock(time_scale))
        self.calls: list[tuple[str, Any]] = []
        self.limits: SafetyLimits | None = None
        self.vanished = False
        self._fault_listeners: list[FaultListener] = []

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Take the session limits."""
        self.limits = limits
        self.calls.append(("connect", limits.min_bath_c))
        return DeviceInfo("cold_pressor", self.model, "FAKE")

    def _usable(self) -> None:
        if self.vanished:
            raise DeviceError("fake bath vanished")

    def set_setpoint(self, setpoint_c: float) -> None:
        """Check the setpoint against the limits, then set it."""
        self._usable()
        if self.limits is not None:
            self.limits.check_bath_c(setpoint_c)
        self.calls.append(("setpoint", setpoint_c))
        self.physics.set_setpoint(setpoint_c)

    def start_circulation(self) -> None:
        """Record the start."""
        self._usable()
        self.calls.append(("start", None))

    def stop_circulation(self) -> None:
        """Record the stop."""
        self._usable()
        self.calls.append(("stop", None))

    def read_temperature(self) -> BathReading:
        """Return the model's bath temperature."""
        self._usable()
        return BathReading(now(), self.physics.temperature())

    def status(self) -> BathStatus:
        """Return an OK status."""
        self._usable()
        return BathStatus(True, 3, "03 REMOTE START")

    def add_reading_listener(self, listener: BathListener) -> None:
        """Accept a listener; the fake does not poll."""

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the fake vanishes."""
        self._fault_listeners.append(listener)

    def vanish(self) -> None:
        """Simulate a pulled cable."""
        self.vanished = True
        for listener in self._fault_listeners:
            listener("fake bath vanished")

    def abort(self) -> None:
        """Record the abort; a bath keeps its setpoint."""
        self.calls.append(("abort", now()))

    def close(self) -> None:
        """Record the close; safe to call twice."""
        self.calls.append(("close", None))
