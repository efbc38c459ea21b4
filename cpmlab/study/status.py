"""The participants-by-visits table of a study, read from the data folder."""

from __future__ import annotations

from pathlib import Path

from cpmlab.study.loader import LoadedStudy
from cpmlab.study.participants import participants
from cpmlab.study.plan import StudyStateError, next_visit
from cpmlab.study.state import VisitState, participant_state


def visit_cell(state: VisitState) -> str:
    """Return one visit's cell: status, condition and run, and where a run ended early."""
    if not state.runs:
        return "-"
    latest = state.runs[-1]
    condition = f"{latest.condition} " if latest.condition and latest.condition != "none" else ""
    if state.status == "done":
        done = state.completed
        assert done is not None
        return f"done {condition}run {done.run}"
    if state.status == "open":
        return f"open run {latest.run} (running or crashed)"
    where = f" at {latest.stopped.step_id}" if latest.stopped and latest.stopped.step_id else ""
    return f"{latest.outcome.replace('_', ' ')}{where} {condition}run {latest.run}"


def next_cell(loaded: LoadedStudy, root: Path, label: str) -> str:
    """Return what the participant does next, or why they cannot go on."""
    try:
        nv = next_visit(loaded, root, label)
    except StudyStateError as exc:
        return "blocked: " + str(exc).split("\n", 1)[-1].strip().split(":", 1)[0]
    if nv is None:
        return "all done"
    condition = f" {nv.condition}" if nv.condition else ""
    return f"{nv.visit.id}{condition} (run {nv.run})"


def status_rows(loaded: LoadedStudy, root: Path) -> tuple[list[str], list[list[str]]]:
    """Return the header and one row per enrolled participant, in enrolment order."""
    study = loaded.study
    header = ["participant", *(["order"] if study.conditions else [])]
    header += [f.name for f in study.participant_fields] + [v.id for v in study.visits] + ["next"]
    rows = []
    for p in participants(study, root):
        if p.order is None:
            continue
        row = [f"sub-{p.label}", *(["-".join(p.order)] if study.conditions else [])]
        row += [p.fields[f.name] for f in study.participant_fields]
        row += [visit_cell(s) for s in participant_state(study, root, p.label)]
        row.append(next_cell(loaded, root, p.label))
        rows.append(row)
    return header, rows
