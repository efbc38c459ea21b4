"""The whole protocol file: header, safety limits, variables and steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from cpmlab.protocol.model.base import LimitsModel, _Strict
from cpmlab.protocol.model.flow import Step
from cpmlab.protocol.values import Expr
from cpmlab.protocol.walk import StepVisit, walk_steps


class Protocol(_Strict):
    """A whole protocol file."""

    cpmlab_protocol: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    task: str = Field(pattern=r"^[A-Za-z0-9]+$", description="BIDS task label")
    description: str = ""
    references: tuple[str, ...] = ()
    language: str = "en"
    condition: Literal["active", "sham", "none"] = "active"  # sham: neutral-temperature bath control
    limits: LimitsModel = LimitsModel()
    devices: tuple[Literal["thermode", "cold_pressor"], ...] = ("thermode", "cold_pressor")
    variables: dict[str, float | int | str] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)

    def walk(self, *, expand_repetitions: bool = False) -> Iterator[StepVisit]:
        """Yield every step of the protocol, depth first (see cpmlab.protocol.walk)."""
        return walk_steps(self.steps, expand_repetitions=expand_repetitions)

    def first_bath_setpoint(self) -> float | Expr | None:
        """Return the setpoint of the first step that uses the bath, or None."""
        return next((sp for v in self.walk() if (sp := v.step.bath_setpoint()) is not None), None)

    def continuous_rating_rates_hz(self) -> list[float]:
        """Return the sample rate of every continuous rating, in protocol order."""
        return [hz for v in self.walk() if (hz := v.step.rating_rate_hz()) is not None]
