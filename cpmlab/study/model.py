"""Typed study model: participant fields, conditions and their counterbalancing, visits and carried variables."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
LABEL = r"^[A-Za-z0-9]+$"
RESERVED_FIELDS = frozenset({"participant_id", "condition_order"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParticipantField(_Strict):
    """One column of participants.tsv collected at enrolment."""

    name: str = Field(pattern=NAME)
    type: Literal["integer", "number", "choice", "text"] = "text"
    description: str = ""
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    levels: dict[str, str] = Field(default_factory=dict)  # code -> meaning (type choice)
    required: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ParticipantField:
        if self.name in RESERVED_FIELDS:
            raise ValueError(f"{self.name!r} is a column cpmlab writes itself; choose another name")
        if self.type == "choice" and not self.levels:
            raise ValueError("a choice field needs levels (code: meaning)")
        if self.type != "choice" and self.levels:
            raise ValueError("levels are only for type: choice")
        if self.type not in ("integer", "number") and (self.min is not None or self.max is not None):
            raise ValueError("min and max are only for integer and number fields")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class Counterbalance(_Strict):
    """How each participant's order of conditions is chosen."""

    scheme: Literal["permuted_blocks"] = "permuted_blocks"
    seed: int = 0


class Carry(_Strict):
    """A variable a visit takes from an earlier visit's result."""

    from_visit: str
    variable: str = Field(pattern=NAME)


class Visit(_Strict):
    """One visit: a BIDS session running one protocol (chosen by the participant's condition)."""

    id: str = Field(pattern=NAME)
    session: str = Field(pattern=LABEL, description="BIDS session label")
    title: str = ""
    condition: int | None = Field(None, ge=1, description="which of the participant's conditions (1 = first)")
    protocol: str | dict[str, str]
    carry: dict[str, Carry] = Field(default_factory=dict)


class Study(_Strict):
    """A whole study file."""

    cpmlab_study: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    description: str = ""
    participant_fields: list[ParticipantField] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    counterbalance: Counterbalance = Counterbalance()
    visits: list[Visit] = Field(min_length=1)

    def visit(self, visit_id: str) -> Visit:
        """Return the visit with this id (KeyError if none)."""
        for visit in self.visits:
            if visit.id == visit_id:
                return visit
        raise KeyError(visit_id)

    def field(self, name: str) -> ParticipantField:
        """Return the participant field with this name (KeyError if none)."""
        for f in self.participant_fields:
            if f.name == name:
                return f
        raise KeyError(name)
