"""Software over-temperature watchdog: every device reading checked against the session's limits.

The limits are checked before any command is sent; this watchdog checks what the devices
then report. A thermode zone above ``max_thermode_c`` or below ``min_thermode_c`` by more
than :data:`THERMODE_TOLERANCE_C`, or a bath outside ``min_bath_c``..``max_bath_c`` by more
than :data:`BATH_TOLERANCE_C` while a hand is in the water, is a breach. The watchdog trips
once per session and hands the breach to the engine, which aborts every device at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathReading, ThermodeReading

# Allowance for a Peltier probe that passes its command a little at the end of a fast ramp
# (the limits allow ramps up to max_ramp_c_per_s, at most 10 C/s by default) and for the
# 0.1 C resolution of a TCS II reading. It is small against a runaway: a probe that keeps
# heating at 10 C/s passes it within 0.1 s, i.e. within one reading at 100 Hz.
THERMODE_TOLERANCE_C = 1.0
# Allowance for a circulator settling onto its setpoint (a bath cooled to min_bath_c may dip a
# few tenths below it before regulating) and for the accuracy of its internal sensor.
BATH_TOLERANCE_C = 0.5


@dataclass(frozen=True, slots=True)
class Breach:
    """A reading outside the allowed range: which device, what it read, and which limit it crossed."""

    device: str  # "thermode" or "cold_pressor"
    t: float  # shared-clock time of the reading
    reading_c: float
    limit_c: float
    bound: Literal["max", "min"]
    tolerance_c: float
    zone: int | None = None  # thermode zone (1-based); None for the bath

    def fields(self) -> dict[str, Any]:
        """Return the breach as journal fields, plus a sentence for people."""
        side = "above the maximum" if self.bound == "max" else "below the minimum"
        where = f"zone {self.zone}" if self.zone is not None else "bath"
        return {
            "device": self.device,
            "cause": "watchdog",
            "reading_t": self.t,
            "reading_c": self.reading_c,
            "limit_c": self.limit_c,
            "bound": self.bound,
            "tolerance_c": self.tolerance_c,
            "zone": self.zone,
            "message": (
                f"{where} read {self.reading_c:.1f} C, {side} of {self.limit_c:g} C "
                f"(tolerance {self.tolerance_c:g} C): every device aborted"
            ),
        }


class TemperatureWatchdog:
    """Check readings against the limits; call on_breach once, on the first breach."""

    def __init__(
        self,
        limits: SafetyLimits,
        on_breach: Callable[[Breach], None],
        hand_in_water: Callable[[], bool],
        *,
        thermode_tolerance_c: float = THERMODE_TOLERANCE_C,
        bath_tolerance_c: float = BATH_TOLERANCE_C,
    ) -> None:
        self.limits = limits
        self._on_breach = on_breach
        self._hand_in_water = hand_in_water
        self.thermode_tolerance_c = thermode_tolerance_c
        self.bath_tolerance_c = bath_tolerance_c
        self._lock = threading.Lock()
        self.tripped: Breach | None = None

    def thermode_breach(self, reading: ThermodeReading) -> Breach | None:
        """Return the worst zone's breach of the thermode range, or None."""
        high_c = self.limits.max_thermode_c + self.thermode_tolerance_c
        low_c = self.limits.min_thermode_c - self.thermode_tolerance_c
        zone, hottest_c = max(enumerate(reading.zones_c, 1), key=lambda z: z[1])
        if hottest_c > high_c:
            return Breach(
                "thermode", reading.t, hottest_c, self.limits.max_thermode_c, "max", self.thermode_tolerance_c, zone
            )
        zone, coldest_c = min(enumerate(reading.zones_c, 1), key=lambda z: z[1])
        if coldest_c < low_c:
            return Breach(
                "thermode", reading.t, coldest_c, self.limits.min_thermode_c, "min", self.thermode_tolerance_c, zone
            )
        return None

    def bath_breach(self, reading: BathReading) -> Breach | None:
        """Return the bath's breach of its range while a hand is in the water, or None."""
        if not self._hand_in_water():
            return None
        tolerance_c, bath_c = self.bath_tolerance_c, reading.bath_c
        if bath_c > self.limits.max_bath_c + tolerance_c:
            return Breach("cold_pressor", reading.t, bath_c, self.limits.max_bath_c, "max", tolerance_c)
        if bath_c < self.limits.min_bath_c - tolerance_c:
            return Breach("cold_pressor", reading.t, bath_c, self.limits.min_bath_c, "min", tolerance_c)
        return None

    def check_thermode(self, reading: ThermodeReading) -> Breach | None:
        """Check a thermode reading; trip on a breach. Return the breach, if any."""
        return self._trip(self.thermode_breach(reading))

    def check_bath(self, reading: BathReading) -> Breach | None:
        """Check a bath reading; trip on a breach while a hand is in the water. Return the breach, if any."""
        return self._trip(self.bath_breach(reading))

    def _trip(self, breach: Breach | None) -> Breach | None:
        if breach is None:
            return None
        with self._lock:
            first = self.tripped is None
            if first:
                self.tripped = breach
        if first:
            self._on_breach(breach)
        return breach
