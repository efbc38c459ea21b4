"""Typed device contracts: what the engine needs from a thermode and a cold pressor.

The engine only ever sees these protocols; concrete drivers live in cpmlab.drivers and
are found through entry points (cpmlab.devices.plugins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from cpmlab.core.limits import SafetyLimits

ALL_ZONES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class ThermalStimulus:
    """A device-timed thermal stimulus: ramp to target, hold, return to baseline."""

    baseline_c: float
    target_c: float
    ramp_c_per_s: float
    return_c_per_s: float
    plateau_s: float
    zones: tuple[int, ...] = ALL_ZONES

    @property
    def ramp_s(self) -> float:
        """Time to ramp from baseline to target, in seconds."""
        return abs(self.target_c - self.baseline_c) / self.ramp_c_per_s

    @property
    def return_s(self) -> float:
        """Time to return from target to baseline, in seconds."""
        return abs(self.target_c - self.baseline_c) / self.return_c_per_s

    @property
    def device_duration_s(self) -> float:
        """Ramp plus plateau: the device's stimulation duration before it returns by itself."""
        return self.ramp_s + self.plateau_s

    @property
    def total_s(self) -> float:
        """Ramp, plateau and return, in seconds."""
        return self.ramp_s + self.plateau_s + self.return_s

    def check(self, limits: SafetyLimits) -> None:
        """Raise LimitError if any part of the stimulus is outside limits."""
        limits.check_thermode_c(self.target_c, "target temperature")
        limits.check_thermode_c(self.baseline_c, "baseline temperature")
        limits.check_ramp(self.ramp_c_per_s, "ramp rate")
        limits.check_ramp(self.return_c_per_s, "return rate")
        limits.check_plateau_s(self.plateau_s)


@dataclass(frozen=True, slots=True)
class ThermodeReading:
    """Probe temperatures at one moment: neutral (baseline) and each zone, in C."""

    t: float
    neutral_c: float
    zones_c: tuple[float, ...]

    @property
    def max_c(self) -> float:
        """Hottest zone."""
        return max(self.zones_c)


@dataclass(frozen=True, slots=True)
class BathReading:
    """Bath temperature at one moment, in C."""

    t: float
    bath_c: float


@dataclass(frozen=True, slots=True)
class BathStatus:
    """Circulator status: ok is False for any alarm."""

    ok: bool
    code: int
    text: str
    running: bool = True


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Identity reported by a device at connect."""

    kind: str
    model: str
    identity: str
    details: dict[str, str] = field(default_factory=dict)


ReadingListener = Callable[[ThermodeReading], None]
BathListener = Callable[[BathReading], None]
FaultListener = Callable[[str], None]


@runtime_checkable
class Thermode(Protocol):
    """A contact thermode whose stimuli are timed by the device itself.

    A driver whose stimulus starts later than ``stimulate`` is called (the Medoc starts it at
    TRIGGER, after its pre-test) also sets ``stimulus_onset_t``: the shared-clock time it
    told the device to start; the engine times the stimulus stages from it.
    """

    kind: str  # "thermode"
    model: str

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Identify the device and send the safety ceiling; return its identity."""
        ...

    def set_baseline(self, baseline_c: float) -> None:
        """Set the neutral temperature the probe rests at."""
        ...

    def stimulate(self, stimulus: ThermalStimulus) -> None:
        """Check limits, load and start a device-timed stimulus; return once started."""
        ...

    def abort(self) -> None:
        """Abort any stimulation and return to neutral at once."""
        ...

    def read_temperatures(self) -> ThermodeReading:
        """Return the latest probe temperatures."""
        ...

    def add_reading_listener(self, listener: ReadingListener) -> None:
        """Call listener (from a reader thread) with every streamed reading."""
        ...

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the device faults or vanishes."""
        ...

    def response_button_pressed(self) -> bool:
        """Return True while the device's response button is pressed."""
        ...

    def close(self) -> None:
        """Abort, stop streaming and release the transport; safe to call twice."""
        ...


@runtime_checkable
class ColdPressor(Protocol):
    """A circulating water bath used for cold-pressor conditioning."""

    kind: str  # "cold_pressor"
    model: str

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Identify the device and apply the bath limits; return its identity."""
        ...

    def set_setpoint(self, setpoint_c: float) -> None:
        """Check limits and set the bath setpoint."""
        ...

    def start_circulation(self) -> None:
        """Start the circulator."""
        ...

    def stop_circulation(self) -> None:
        """Stop the circulator."""
        ...

    def read_temperature(self) -> BathReading:
        """Query and return the bath temperature."""
        ...

    def status(self) -> BathStatus:
        """Query and return the circulator status."""
        ...

    def add_reading_listener(self, listener: BathListener) -> None:
        """Call listener with bath readings while polling is on."""
        ...

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the device faults or vanishes."""
        ...

    def abort(self) -> None:
        """Emergency stop: leave the bath safe (no stimulus to end; never raises)."""
        ...

    def close(self) -> None:
        """Stop polling and release the transport; safe to call twice."""
        ...
