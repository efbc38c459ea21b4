"""What a participant does next: the visit, its condition and protocol, the run number and carried variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpmlab.core.errors import CpmlabError
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import effective_limits
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.overrides import variable_problems
from cpmlab.study.loader import LoadedStudy
from cpmlab.study.model import Visit
from cpmlab.study.participants import Participant, participants
from cpmlab.study.state import VisitState, participant_state


class StudyStateError(CpmlabError):
    """The study cannot go on for this participant as things stand (nothing was opened)."""


@dataclass(frozen=True)
class Carried:
    """A variable value taken from an earlier visit's result."""

    name: str
    value: Any
    from_visit: str
    from_run: int | None
    from_variable: str


@dataclass(frozen=True)
class NextVisit:
    """Everything needed to run a participant's next visit."""

    participant: Participant
    visit: Visit
    condition: str | None
    protocol_path: Path
    protocol: Protocol
    run: int
    carried: list[Carried]
    repeats: list[int] = field(default_factory=list)  # earlier runs of this visit that ended early

    @property
    def variables(self) -> dict[str, Any]:
        """The carried values by variable name."""
        return {c.name: c.value for c in self.carried}

    def metadata(self, study_name: str, overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Return the study facts journaled with the session (session_start and _beh.json)."""
        return {
            "study": {
                "name": study_name,
                "visit": self.visit.id,
                "condition": self.condition,
                "condition_order": list(self.participant.order or ()),
                "carried": [
                    {
                        "name": c.name,
                        "value": c.value,
                        "from_visit": c.from_visit,
                        "from_run": c.from_run,
                        "from_variable": c.from_variable,
                    }
                    for c in self.carried
                ],
                "overrides": overrides or [],
            }
        }


def find_participant(loaded: LoadedStudy, root: Path, label: str) -> Participant:
    """Return an enrolled participant; raise StudyStateError naming how to enrol otherwise."""
    for p in participants(loaded.study, root):
        if p.label == label and p.order is not None:
            return p
    raise StudyStateError(
        f"sub-{label} is not enrolled in study {loaded.study.name} in {root}: "
        f"enrol them first (cpmlab study add {loaded.path} -p {label} --data {root}, or study next --enrol)"
    )


def next_visit(loaded: LoadedStudy, root: Path, label: str, lab_limits: SafetyLimits | None = None) -> NextVisit | None:
    """Return the participant's next visit (None when every visit is done); raise StudyStateError if blocked."""
    participant = find_participant(loaded, root, label)
    states = participant_state(loaded.study, root, label)
    for state in states:
        if state.status == "done":
            continue
        if state.status == "open":
            run = next(r for r in state.runs if r.outcome == "incomplete")
            raise StudyStateError(
                f"sub-{label} visit {state.visit.id} run {run.run} has no end in its journal: it is running now, "
                f"or it crashed (then rebuild its files with: cpmlab recover {run.journal})"
            )
        return _plan(loaded, root, participant, state, states, lab_limits)
    return None


def _plan(
    loaded: LoadedStudy,
    root: Path,
    participant: Participant,
    state: VisitState,
    states: list[VisitState],
    lab_limits: SafetyLimits | None,
) -> NextVisit:
    visit = state.visit
    condition = None
    if visit.condition is not None:
        assert participant.order is not None
        condition = participant.order[visit.condition - 1]
    protocol_path, protocol = loaded.protocol_for(visit, condition)
    by_id = {s.visit.id: s for s in states}
    carried = []
    problems = []
    for name, carry in visit.carry.items():
        source = by_id[carry.from_visit].completed
        if source is None:
            problems.append(f"{name}: visit {carry.from_visit} has no completed run to take {carry.from_variable} from")
            continue
        value = source.value_of(carry.variable)
        if value is None:
            problems.append(f"{name}: visit {carry.from_visit} run {source.run} recorded no value of {carry.variable}")
            continue
        carried.append(Carried(name, value, carry.from_visit, source.run, carry.variable))
    if not problems:
        limits = effective_limits(protocol, lab_limits)
        problems = variable_problems(protocol, {c.name: c.value for c in carried}, limits)
        if problems:
            shown = ", ".join(f"{c.name} = {c.value!r} (from visit {c.from_visit})" for c in carried)
            problems = [f"carried {shown} does not fit {protocol.name}'s limits:", *problems]
    if problems:
        raise StudyStateError(
            f"sub-{participant.label} visit {visit.id} cannot start; nothing was opened:\n  " + "\n  ".join(problems)
        )
    used = [r.run for r in state.runs]
    return NextVisit(
        participant,
        visit,
        condition,
        protocol_path,
        protocol,
        run=max(used, default=0) + 1,
        carried=carried,
        repeats=[r.run for r in state.runs if r.outcome != "completed"],
    )
