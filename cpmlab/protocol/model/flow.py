"""Flow steps (markers, variables, parallel and repeated groups) and the union of every step kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from cpmlab.protocol.model.base import StepBase, value_or_none
from cpmlab.protocol.model.procedures import Calibration, HeatThreshold
from cpmlab.protocol.model.screens import ContinuousRating, Instruction, Rating, Wait
from cpmlab.protocol.model.stimuli import Immersion, Thermal
from cpmlab.protocol.values import Number


class Marker(StepBase):
    """Emit a named marker into the journal and the event streams."""

    type: Literal["marker"]
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    fields: dict[str, str | float | int] = Field(default_factory=dict)

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return 'marker <name>'."""
        return f"marker {self.name}"


class SetVariable(StepBase):
    """Set a session variable from a value or expression."""

    type: Literal["set"]
    variable: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    value: Number

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return 'set <variable> = <value>'."""
        return f"set {self.variable} = {self.value}"

    def estimate_into(self, variables: dict[str, Any]) -> None:
        """Give later steps the value, when it can be computed before the session."""
        value = value_or_none(self.value, variables)
        if value is not None:
            variables[self.variable] = value

    def defines(self) -> list[str]:
        """Variables this step sets."""
        return [self.variable]


class Parallel(StepBase):
    """Steps that run together (e.g. a test stimulus during immersion); ends when all end."""

    type: Literal["parallel"]
    steps: list[Step] = Field(min_length=2)

    def children(self) -> Sequence[StepBase]:
        """Return the steps that run together."""
        return self.steps

    def child_offsets(self, durations_s: Sequence[float]) -> list[float]:
        """Every child starts with this step."""
        return [0.0 for _ in durations_s]

    def combined_duration_s(self, durations_s: Sequence[float]) -> float:
        """The step ends when its longest child ends."""
        return max(durations_s, default=0.0)

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return 'together:'."""
        return "together:"


class Block(StepBase):
    """A sequence of steps, repeated and optionally shuffled per repetition."""

    type: Literal["block"]
    steps: list[Step] = Field(min_length=1)
    repeat: int = Field(1, ge=1, le=1000)
    randomize: bool = False

    def children(self) -> Sequence[StepBase]:
        """Return the steps of one repetition, in file order."""
        return self.steps

    def repetitions(self) -> int:
        """Return how often the sequence runs."""
        return self.repeat

    def timeline_text(self, variables: dict[str, Any]) -> str:
        """Return e.g. 'block x2 in random order:'."""
        order = " in random order" if self.randomize else ""
        return f"block x{self.repeat}{order}:"

    def list_text(self, variables: dict[str, Any]) -> str | None:
        """Return e.g. 'before (x2, random order)'."""
        name = self.label or self.id or "block"
        return f"{name} (x{self.repeat}{', random order' if self.randomize else ''})"

    def operator_description(self, timeline_text: str) -> str:
        """Return the timeline text followed by the block's label."""
        return f"{timeline_text} {self.label}" if self.label else timeline_text


Step = Annotated[
    Instruction
    | Wait
    | Thermal
    | Immersion
    | Rating
    | ContinuousRating
    | Calibration
    | HeatThreshold
    | Marker
    | SetVariable
    | Parallel
    | Block,
    Field(discriminator="type"),
]

STEP_CLASSES: tuple[type[StepBase], ...] = get_args(get_args(Step)[0])  # every step kind, from the union

Parallel.model_rebuild()
Block.model_rebuild()

__all__ = ["STEP_CLASSES", "Block", "Marker", "Parallel", "SetVariable", "Step"]
