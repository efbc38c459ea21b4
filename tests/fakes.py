"""In-process device doubles for engine tests: the emulators' physics without the wire."""

from __future__ import annotations

import threading
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathReading, BathStatus, DeviceInfo, ThermalStimulus, ThermodeReading
from cpmlab.hardware_mocks.physics import BathModel, DeviceClock, ThermodeModel


class FakeThermode:
    """A thermode double: ThermodeModel physics, readings streamed at rate_hz, calls recorded."""

    kind = "thermode"
    model = "fake thermode"

    def __init__(self, time_scale: float = 1.0, rate_hz: float = 50.0) -> None:
        self.physics = ThermodeModel(clock=DeviceClock(time_scale))
        self.calls: list[tuple[str, Any]] = []
        self.limits: SafetyLimits | None = None
        self._listeners: list[Any] = []
        self._fault_listeners: list[Any] = []
        self._stop = threading.Event()
        self.vanished = False
        self.rate_hz = rate_hz
        self._thread = threading.Thread(target=self._stream, daemon=True)
        self._thread.start()

    def _stream(self) -> None:
        while not self._stop.wait(1.0 / self.rate_hz):
            if self.vanished:
                continue
            reading = self.read_temperatures()
            for listener in list(self._listeners):
                listener(reading)

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        self.limits = limits
        self.physics.max_c = limits.max_thermode_c
        self.calls.append(("connect", limits.max_thermode_c))
        return DeviceInfo("thermode", self.model, "FAKE")

    def set_baseline(self, baseline_c: float) -> None:
        self.calls.append(("baseline", baseline_c))
        self.physics.set_neutral(baseline_c)

    def stimulate(self, stimulus: ThermalStimulus) -> None:
        if self.vanished:
            raise DeviceError("fake thermode vanished")
        assert self.limits is not None
        stimulus.check(self.limits)
        self.calls.append(("stimulate", stimulus))
        for zone in stimulus.zones:
            program = self.physics.program(zone)
            program.target_c = stimulus.target_c
            program.ramp_c_per_s = stimulus.ramp_c_per_s
            program.return_c_per_s = stimulus.return_c_per_s
            program.duration_s = stimulus.device_duration_s
        self.physics.start(list(stimulus.zones))

    def abort(self) -> None:
        self.calls.append(("abort", now()))
        self.physics.abort()

    def read_temperatures(self) -> ThermodeReading:
        return ThermodeReading(now(), self.physics.neutral_c, tuple(self.physics.temperatures()))

    def add_reading_listener(self, listener: Any) -> None:
        self._listeners.append(listener)

    def add_fault_listener(self, listener: Any) -> None:
        self._fault_listeners.append(listener)

    def vanish(self) -> None:
        """Simulate a pulled cable."""
        self.vanished = True
        for listener in self._fault_listeners:
            listener("fake thermode vanished")

    def response_button_pressed(self) -> bool:
        return False

    def close(self) -> None:
        self._stop.set()


class FakeBath:
    """A cold-pressor double with BathModel physics."""

    kind = "cold_pressor"
    model = "fake bath"

    def __init__(self, time_scale: float = 1.0, start_c: float = 10.0) -> None:
        self.physics = BathModel(start_c=start_c, setpoint_c=start_c, clock=DeviceClock(time_scale))
        self.calls: list[tuple[str, Any]] = []
        self._fault_listeners: list[Any] = []

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        self.calls.append(("connect", limits.min_bath_c))
        return DeviceInfo("cold_pressor", self.model, "FAKE")

    def set_setpoint(self, setpoint_c: float) -> None:
        self.calls.append(("setpoint", setpoint_c))
        self.physics.set_setpoint(setpoint_c)

    def start_circulation(self) -> None:
        self.calls.append(("start", None))

    def stop_circulation(self) -> None:
        self.calls.append(("stop", None))

    def read_temperature(self) -> BathReading:
        return BathReading(now(), self.physics.temperature())

    def status(self) -> BathStatus:
        return BathStatus(True, 3, "03 REMOTE START")

    def add_reading_listener(self, listener: Any) -> None:
        pass

    def add_fault_listener(self, listener: Any) -> None:
        self._fault_listeners.append(listener)

    def abort(self) -> None:
        self.calls.append(("abort", now()))

    def close(self) -> None:
        self.calls.append(("close", None))
