"""Stimulus steps: a device-timed heat stimulus and a cold-pressor immersion."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from cpmlab.core.errors import LimitError
from cpmlab.core.limits import ABSOLUTE_MAX_IMMERSION_S, SafetyLimits
from cpmlab.protocol.model.base import (
    FieldProblem,
    Phase,
    RatingScale,
    Role,
    StepBase,
    StepDuration,
    check_each,
    check_value,
    value_or_none,
)
from cpmlab.protocol.values import Expr, Number


class Thermal(StepBase):
    """A device-timed thermode stimulus: ramp, plateau, return."""

    type: Literal["thermal"]
    role: Role = "test_stimulus"
    phase: Phase = "none"
    baseline_c: Number = 32.0
    target_c: Number
    ramp_c_per_s: Number = 2.0
    return_c_per_s: Number = 2.0
    plateau_s: Number | None = None
    total_s: Number | None = None
    zones: tuple[Annotated[int, Field(ge=1, le=5)], ...] = (1, 2, 3, 4, 5)
    device: str = "thermode"

    stimulus = "heat"
    notable = True

    @model_validator(mode="after")
    def _one_duration(self) -> Thermal:
        if (self.plateau_s is None) == (self.total_s is None):
            raise ValueError("give either plateau_s or total_s (ramp + plateau + return)")
        return self

    @field_validator("zones")
    @classmethod
    def _distinct_zones(cls, zones: tuple[int, ...]) -> tuple[int, ...]:
        if not zones or len(set(zones)) != len(zones):
            raise ValueError("zones must be a non-empty list of distinct zone numbers 1-5")
        return zones

    def total_s_given(self, variables: dict[str, Any]) -> float | None:
        """Ramp + plateau + return, or None if a variable has no value yet."""
        if self.total_s is not None:
            return value_or_none(self.total_s, variables)
        target, base = value_or_none(self.target_c, variables), value_or_none(self.baseline_c, variables)
        up, down = value_or_none(self.ramp_c_per_s, variables), value_or_none(self.return_c_per_s, variables)
        plateau = value_or_none(self.plateau_s, variables)
        if None in (target, base, up, down, plateau):
            return None
        assert target is not None and base is not None and up and down and plateau is not None
        return abs(target - base) / up + plateau + abs(target - base) / down

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'heat 46.0 C zones 1,2,3,4,5 [test_stimulus/before]'."""
        target = value_or_none(self.target_c, variables)
        t_text = f"{target:.1f} C" if target is not None else str(self.target_c)
        zones = ",".join(str(z) for z in self.zones)
        return f"heat {t_text} zones {zones} [{self.role}/{self.phase}]"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return ramp + plateau + return (unknown until its variables have values)."""
        total = self.total_s_given(variables)
        return StepDuration(total or 0.0, total is None)

    def safety_problems(self, limits: SafetyLimits, defaults: dict[str, Any]) -> list[FieldProblem]:
        """Check target, baseline, ramp rates and plateau against the limits."""
        out: list[FieldProblem] = []
        for name in ("target_c", "baseline_c"):
            out += check_value(getattr(self, name), partial(limits.check_thermode_c, what=name), name, defaults)
        for name in ("ramp_c_per_s", "return_c_per_s"):
            out += check_value(getattr(self, name), partial(limits.check_ramp, what=name), name, defaults)
        if self.plateau_s is not None:
            out += check_value(self.plateau_s, limits.check_plateau_s, "plateau_s", defaults)
        if self.total_s is not None:
            out += check_value(self.total_s, partial(self.check_total_s, limits, defaults), "total_s", defaults)
        return out

    def check_total_s(self, limits: SafetyLimits, defaults: dict[str, Any], total_s: float) -> None:
        """Raise LimitError unless total_s holds the ramp and return and leaves an allowed plateau."""
        if not total_s > 0:
            raise LimitError(f"total_s {total_s:g} s must be positive")
        fields = (self.target_c, self.baseline_c, self.ramp_c_per_s, self.return_c_per_s)
        target, base, up, down = (value_or_none(v, defaults) for v in fields)
        if target is None or base is None or not up or not down or up < 0 or down < 0:
            return  # computed during the session (or a bad rate, refused on its own); the engine checks then
        ramp_return_s = abs(target - base) / up + abs(target - base) / down
        if total_s < ramp_return_s:
            raise LimitError(
                f"total_s {total_s:g} s is shorter than the ramp and return ({ramp_return_s:.3g} s) it must hold"
            )
        limits.check_plateau_s(total_s - ramp_return_s)

    def _operator_what(self, variables: dict[str, Any]) -> str:
        target = value_or_none(self.target_c, variables)
        t_text = f"{target:.1f} °C" if target is not None else str(self.target_c)
        what = self.phase if self.role == "test_stimulus" else f"{self.role.replace('_', ' ')}, {self.phase}"
        return f"{t_text} ({what})"

    def announcement(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'Heat stimulus 46.0 °C (before)'."""
        return f"Heat stimulus {self._operator_what(variables)}"

    def list_text(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'Heat 46.0 °C (before)'."""
        return f"Heat {self._operator_what(variables)}"


class Immersion(StepBase):
    """Cold-pressor immersion with a hard maximum and ratings of the water at given times."""

    type: Literal["immersion"]
    role: Role = "conditioning"
    phase: Phase = "none"
    setpoint_c: Number
    duration_s: float = Field(gt=0, le=ABSOLUTE_MAX_IMMERSION_S)
    max_s: float = Field(gt=0, le=ABSOLUTE_MAX_IMMERSION_S)
    until_withdrawal: bool = False  # tolerance test: ends when the participant withdraws
    detect_pain: bool = False  # first response key = pain detection (PDT), then withdrawal (PTT)
    detect_text: str = "Press the response key as soon as the cold becomes painful."
    limb: str = "non-dominant hand"
    prompt_text: str = "Put your hand in the water now, up to the wrist."
    withdraw_text: str = "Take your hand out of the water."
    settle_tolerance_c: float = Field(1.0, gt=0, le=10)
    ratings_at_s: tuple[float, ...] = ()
    rating: RatingScale = RatingScale(scale="nrs", question="How painful is the cold water?")
    device: str = "cold_pressor"

    stimulus = "cold"
    notable = True

    @model_validator(mode="after")
    def _times(self) -> Immersion:
        if self.duration_s > self.max_s:
            raise ValueError(f"duration_s {self.duration_s:g} is longer than max_s {self.max_s:g}")
        for t in self.ratings_at_s:
            if not 0 < t < self.duration_s:
                raise ValueError(f"ratings_at_s {t:g} is outside the immersion (0, {self.duration_s:g}) s")
        return self

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'cold pressor 10 C for 60 s [conditioning/during]'."""
        sp = value_or_none(self.setpoint_c, variables)
        sp_text = f"{sp:g} C" if sp is not None else str(self.setpoint_c)
        if self.until_withdrawal:
            return f"cold pressor {sp_text} until withdrawal (max {self.max_s:g} s)"
        return f"cold pressor {sp_text} for {self.duration_s:g} s [{self.role}/{self.phase}]"

    def expected_duration(self, variables: dict[str, Any]) -> StepDuration:
        """Return the immersion time, or the hard maximum when it ends on withdrawal."""
        if self.until_withdrawal:
            return StepDuration(self.max_s, True)
        return StepDuration(self.duration_s)

    def safety_problems(self, limits: SafetyLimits, defaults: dict[str, Any]) -> list[FieldProblem]:
        """Check the bath setpoint and the hard maximum against the limits."""
        out = check_value(self.setpoint_c, limits.check_bath_c, "setpoint_c", defaults)
        for field, message in check_each([("max_s", lambda: limits.check_immersion_s(self.max_s))]):
            out.append((field, message + " (limits.max_immersion_s)"))
        return out

    def bath_setpoint(self) -> float | Expr | None:
        """Return the bath setpoint."""
        return self.setpoint_c

    def _operator_what(self, variables: dict[str, Any]) -> str:
        sp = value_or_none(self.setpoint_c, variables)
        what = f"{sp:g} °C" if sp is not None else "bath"
        length = "until withdrawal" if self.until_withdrawal else f"{self.duration_s:g} s"
        return f"({what}, {length})"

    def announcement(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'Hand into the water (10 °C, 60 s)'."""
        return f"Hand into the water {self._operator_what(variables)}"

    def list_text(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'Cold pressor (10 °C, 60 s)'."""
        return f"Cold pressor {self._operator_what(variables)}"
