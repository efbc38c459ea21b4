"""Physical models behind the emulators: thermode zones and a circulating water bath.

Both run on *device time*: real elapsed time multiplied by a time scale, so a protocol
dry-run at --speed N sees the device behave N times faster.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


class DeviceClock:
    """Device time in seconds: real monotonic time scaled by time_scale."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Return device seconds since the clock started."""
        return (time.monotonic() - self._t0) * self.time_scale


@dataclass
class ZoneProgram:
    """One zone's stimulation parameters as the device stores them."""

    target_c: float = 32.0
    ramp_c_per_s: float = 1.0
    return_c_per_s: float = 1.0
    duration_s: float = 1.0


@dataclass
class _ZoneState:
    temp_c: float
    setpoint_c: float
    program: ZoneProgram = field(default_factory=ZoneProgram)
    phase: str = "idle"  # idle, ramp, hold, return, follow
    phase_start: float = 0.0
    start_c: float = 0.0


class ThermodeModel:
    """Peltier zones that ramp at the commanded rates, with a first-order lag, clamped at max."""

    def __init__(
        self,
        zone_count: int = 5,
        neutral_c: float = 32.0,
        max_c: float = 60.0,
        lag_tau_s: float = 0.1,
        clock: DeviceClock | None = None,
    ) -> None:
        self.clock = clock or DeviceClock()
        self.neutral_c = neutral_c
        self.max_c = max_c
        self.lag_tau_s = lag_tau_s
        # Fault injection: a stimulating zone drives this far past its command (in the ramp's
        # direction), ignoring the ceiling, as a probe whose regulation failed would.
        self.overshoot_c = 0.0
        self.zones = [_ZoneState(neutral_c, neutral_c) for _ in range(zone_count)]
        self._last = self.clock.now()
        self._lock = threading.RLock()

    @property
    def zone_count(self) -> int:
        """Number of Peltier zones."""
        return len(self.zones)

    def program(self, zone: int) -> ZoneProgram:
        """Return the stored program of zone (1-based)."""
        return self.zones[zone - 1].program

    def set_neutral(self, neutral_c: float) -> None:
        """Change the neutral temperature; idle zones follow it."""
        with self._lock:
            self._advance()
            self.neutral_c = neutral_c
            for z in self.zones:
                if z.phase == "idle":
                    z.setpoint_c = neutral_c

    def start(self, zones: list[int] | None = None) -> None:
        """Start the stored stimulation on the given zones (all by default)."""
        with self._lock:
            self._advance()
            now = self.clock.now()
            for i in zones or range(1, self.zone_count + 1):
                z = self.zones[i - 1]
                z.phase, z.phase_start, z.start_c = "ramp", now, z.setpoint_c

    def abort(self) -> None:
        """Return every zone to neutral at its return speed."""
        with self._lock:
            self._advance()
            now = self.clock.now()
            for z in self.zones:
                if z.phase != "idle" or abs(z.setpoint_c - self.neutral_c) > 1e-9:
                    z.phase, z.phase_start, z.start_c = "return", now, z.setpoint_c

    def set_overshoot(self, overshoot_c: float) -> None:
        """Make stimulating zones drive overshoot_c past their command (0 restores regulation)."""
        with self._lock:
            self._advance()
            self.overshoot_c = overshoot_c

    def follow(self, zone: int, target_c: float) -> None:
        """Make zone track target_c at its ramp speed until told otherwise."""
        with self._lock:
            self._advance()
            z = self.zones[zone - 1]
            z.program.target_c = target_c
            z.phase, z.phase_start, z.start_c = "follow", self.clock.now(), z.setpoint_c

    @property
    def stimulating(self) -> bool:
        """True while any zone is not idle."""
        with self._lock:
            self._advance()
            return any(z.phase != "idle" for z in self.zones)

    def temperatures(self) -> list[float]:
        """Return the current zone temperatures in C."""
        with self._lock:
            self._advance()
            return [z.temp_c for z in self.zones]

    def _setpoint(self, z: _ZoneState, t: float) -> float:
        p = z.program
        target = min(p.target_c, self.max_c)
        elapsed = t - z.phase_start
        if z.phase in ("ramp", "follow"):
            if z.phase == "ramp" and elapsed >= p.duration_s:
                # The return starts where the ramp stood at the end of the duration, not
                # where it would be now (a duration shorter than the ramp cuts it short).
                step = p.ramp_c_per_s * p.duration_s
                sp = z.start_c + math.copysign(min(step, abs(target - z.start_c)), target - z.start_c)
                z.phase, z.phase_start, z.start_c = "return", z.phase_start + p.duration_s, sp
                return self._setpoint(z, t)
            step = p.ramp_c_per_s * elapsed
            return z.start_c + math.copysign(min(step, abs(target - z.start_c)), target - z.start_c)
        if z.phase == "return":
            step = p.return_c_per_s * elapsed
            gap = self.neutral_c - z.start_c
            sp = z.start_c + math.copysign(min(step, abs(gap)), gap)
            if step >= abs(gap):
                z.phase = "idle"
            return sp
        return self.neutral_c

    def _advance(self) -> None:
        t_end = self.clock.now()
        t = self._last
        dt_max = self.lag_tau_s / 4
        while t < t_end:
            dt = min(dt_max, t_end - t)
            t += dt
            alpha = 1.0 - math.exp(-dt / self.lag_tau_s)
            for z in self.zones:
                z.setpoint_c = min(self._setpoint(z, t), self.max_c)
                drive_c = z.setpoint_c
                if self.overshoot_c and z.phase in ("ramp", "follow"):
                    drive_c += math.copysign(self.overshoot_c, z.program.target_c - self.neutral_c)
                z.temp_c += alpha * (drive_c - z.temp_c)
        self._last = t_end


class BathModel:
    """A circulating bath that approaches its setpoint; an immersed hand warms it."""

    def __init__(
        self,
        start_c: float = 20.0,
        setpoint_c: float = 20.0,
        tau_s: float = 120.0,
        hand_warming_c_per_s: float = 0.01,
        clock: DeviceClock | None = None,
    ) -> None:
        self.clock = clock or DeviceClock()
        self.temp_c = start_c
        self.setpoint_c = setpoint_c
        self.tau_s = tau_s
        self.hand_warming_c_per_s = hand_warming_c_per_s
        self.running = True
        self.hand_immersed = False
        self.drift_c_per_s = 0.0  # fault injection: regulation lost, the water drifts at this rate
        self._last = self.clock.now()
        self._lock = threading.RLock()

    def set_setpoint(self, setpoint_c: float) -> None:
        """Change the setpoint."""
        with self._lock:
            self._advance()
            self.setpoint_c = setpoint_c

    def set_running(self, running: bool) -> None:
        """Start or stop the circulator (a stopped bath drifts toward room temperature)."""
        with self._lock:
            self._advance()
            self.running = running

    def set_hand_immersed(self, immersed: bool) -> None:
        """Put a hand in (True) or take it out (False)."""
        with self._lock:
            self._advance()
            self.hand_immersed = immersed

    def set_drift(self, drift_c_per_s: float) -> None:
        """Make the water drift at drift_c_per_s whatever the setpoint (0 restores regulation)."""
        with self._lock:
            self._advance()
            self.drift_c_per_s = drift_c_per_s

    def temperature(self) -> float:
        """Return the bath temperature in C."""
        with self._lock:
            self._advance()
            return self.temp_c

    def _advance(self) -> None:
        t_end = self.clock.now()
        dt = t_end - self._last
        if dt <= 0:
            return
        target = self.setpoint_c if self.running else 22.0
        tau = self.tau_s if self.running else self.tau_s * 20
        if self.drift_c_per_s:
            self.temp_c += self.drift_c_per_s * dt
        else:
            self.temp_c = target + (self.temp_c - target) * math.exp(-dt / tau)
        if self.hand_immersed:
            self.temp_c += self.hand_warming_c_per_s * dt
        self._last = t_end
