"""Safety limits: protocol header and lab config, the stricter wins."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from cpmlab.core.errors import LimitError

# Absolute ceilings no configuration may exceed (TCS II and Medoc probes top out at 60 / 55 C).
ABSOLUTE_MAX_THERMODE_C = 55.0
ABSOLUTE_MIN_THERMODE_C = 0.0
ABSOLUTE_MAX_PLATEAU_S = 300.0
ABSOLUTE_MAX_IMMERSION_S = 300.0
ABSOLUTE_MIN_BATH_C = 1.0
# Hot-water conditioning in the literature uses 44-47 C; water from about 50 C scalds within minutes.
ABSOLUTE_MAX_BATH_C = 49.0


@dataclass(frozen=True, slots=True)
class SafetyLimits:
    """Limits that bound every stimulus; all values in C or seconds."""

    max_thermode_c: float = 50.0
    min_thermode_c: float = 5.0
    max_plateau_s: float = 120.0
    max_immersion_s: float = 180.0
    min_bath_c: float = 4.0
    max_ramp_c_per_s: float = 10.0
    max_bath_c: float = 48.0

    def __post_init__(self) -> None:
        if not ABSOLUTE_MIN_THERMODE_C <= self.min_thermode_c < self.max_thermode_c:
            raise LimitError("min_thermode_c must be below max_thermode_c and at least 0 C")
        if self.max_thermode_c > ABSOLUTE_MAX_THERMODE_C:
            raise LimitError(
                f"max_thermode_c {self.max_thermode_c} is above the absolute ceiling {ABSOLUTE_MAX_THERMODE_C} C"
            )
        if not 0 < self.max_plateau_s <= ABSOLUTE_MAX_PLATEAU_S:
            raise LimitError(f"max_plateau_s must be in (0, {ABSOLUTE_MAX_PLATEAU_S}] s")
        if not 0 < self.max_immersion_s <= ABSOLUTE_MAX_IMMERSION_S:
            raise LimitError(f"max_immersion_s must be in (0, {ABSOLUTE_MAX_IMMERSION_S}] s")
        if self.min_bath_c < ABSOLUTE_MIN_BATH_C:
            raise LimitError(f"min_bath_c must be at least {ABSOLUTE_MIN_BATH_C} C")
        if not self.min_bath_c < self.max_bath_c <= ABSOLUTE_MAX_BATH_C:
            raise LimitError(f"max_bath_c must be above min_bath_c and at most {ABSOLUTE_MAX_BATH_C} C")
        if self.max_ramp_c_per_s <= 0:
            raise LimitError("max_ramp_c_per_s must be positive")

    def stricter(self, other: SafetyLimits) -> SafetyLimits:
        """Return the limits that satisfy both self and other."""
        return SafetyLimits(
            max_thermode_c=min(self.max_thermode_c, other.max_thermode_c),
            min_thermode_c=max(self.min_thermode_c, other.min_thermode_c),
            max_plateau_s=min(self.max_plateau_s, other.max_plateau_s),
            max_immersion_s=min(self.max_immersion_s, other.max_immersion_s),
            min_bath_c=max(self.min_bath_c, other.min_bath_c),
            max_ramp_c_per_s=min(self.max_ramp_c_per_s, other.max_ramp_c_per_s),
            max_bath_c=min(self.max_bath_c, other.max_bath_c),
        )

    def check_thermode_c(self, value_c: float, what: str = "thermode temperature") -> None:
        """Raise LimitError unless value_c is inside the thermode range."""
        if not self.min_thermode_c <= value_c <= self.max_thermode_c:
            raise LimitError(
                f"{what} {value_c:g} C is outside the allowed range {self.min_thermode_c:g}-{self.max_thermode_c:g} C"
            )

    def check_ramp(self, rate_c_per_s: float, what: str = "ramp rate") -> None:
        """Raise LimitError unless 0 < rate <= max_ramp_c_per_s."""
        if not 0 < rate_c_per_s <= self.max_ramp_c_per_s:
            raise LimitError(
                f"{what} {rate_c_per_s:g} C/s is outside the allowed range 0-{self.max_ramp_c_per_s:g} C/s"
            )

    def check_plateau_s(self, value_s: float) -> None:
        """Raise LimitError if a plateau is longer than allowed."""
        if not 0 <= value_s <= self.max_plateau_s:
            raise LimitError(f"plateau {value_s:g} s is outside the allowed range 0-{self.max_plateau_s:g} s")

    def check_immersion_s(self, value_s: float) -> None:
        """Raise LimitError if an immersion may last longer than allowed."""
        if not 0 < value_s <= self.max_immersion_s:
            raise LimitError(f"immersion {value_s:g} s is outside the allowed range 0-{self.max_immersion_s:g} s")

    def check_bath_c(self, value_c: float) -> None:
        """Raise LimitError unless a bath setpoint is inside min_bath_c-max_bath_c."""
        if not self.min_bath_c <= value_c <= self.max_bath_c:
            raise LimitError(
                f"bath setpoint {value_c:g} C is outside the allowed range {self.min_bath_c:g}-{self.max_bath_c:g} C"
            )

    def as_dict(self) -> dict[str, float]:
        """Return the limits as a plain dict."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        """Return the names of all limit fields."""
        return [f.name for f in fields(cls)]
