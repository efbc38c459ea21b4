"""A study's state read from the data folder: each participant's runs per visit, from journals and BIDS files."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpmlab.core import events as ev
from cpmlab.storage.journal import read_journal
from cpmlab.study.model import Study, Visit

_STEM = re.compile(
    r"^sub-(?P<sub>[A-Za-z0-9]+)_ses-(?P<ses>[A-Za-z0-9]+)_task-(?P<task>[A-Za-z0-9]+)_run-(?P<run>\d+)$"
)
ENDED_EARLY = ("aborted", "emergency_stopped", "failed")


@dataclass(frozen=True)
class StoppedAt:
    """Where and why a run ended early."""

    step_id: str | None
    reason: str


@dataclass
class VisitRun:
    """One run recorded in a visit's session folder."""

    run: int
    task: str
    journal: Path
    protocol: str | None = None
    condition: str | None = None
    outcome: str = "incomplete"  # completed, aborted, emergency_stopped, failed, or incomplete (no end)
    variables: dict[str, Any] = field(default_factory=dict)  # values set while it ran (calibrations)
    end_variables: dict[str, Any] = field(default_factory=dict)  # every variable at the end
    measures: list[dict[str, Any]] = field(default_factory=list)
    stopped: StoppedAt | None = None
    study: dict[str, Any] = field(default_factory=dict)  # the study metadata the run was started with

    def value_of(self, name: str) -> Any:
        """Return the value a variable had in this run (set while running, else at the end)."""
        return self.variables.get(name, self.end_variables.get(name))


@dataclass(frozen=True)
class VisitState:
    """A participant's runs of one visit and what they add up to."""

    visit: Visit
    runs: list[VisitRun]

    @property
    def status(self) -> str:
        """not started, done, ended early (latest run aborted/stopped/failed) or open (a run has no end)."""
        if not self.runs:
            return "not started"
        if any(r.outcome == "incomplete" for r in self.runs):
            return "open"
        if any(r.outcome == "completed" for r in self.runs):
            return "done"
        return "ended early"

    @property
    def completed(self) -> VisitRun | None:
        """The latest completed run, if any."""
        done = [r for r in self.runs if r.outcome == "completed"]
        return done[-1] if done else None


def read_run(journal: Path, beh_json: Path | None = None) -> VisitRun:
    """Summarise one run from its journal (outcome from the BIDS sidecar if the journal has no end)."""
    m = _STEM.match(journal.name.removesuffix("_journal.jsonl"))
    run = VisitRun(run=int(m["run"]) if m else 1, task=m["task"] if m else "", journal=journal)
    last_step: str | None = None
    for rec in read_journal(journal):
        kind = rec.get("kind")
        if kind == ev.SESSION_START:
            run.protocol = rec.get("protocol")
            run.condition = rec.get("condition")
            run.study = dict(rec.get("study") or {})
        elif kind == ev.STEP_START:
            last_step = rec.get("step_id") or rec.get("path") or last_step
        elif kind == ev.VARIABLE and rec.get("name"):
            run.variables[rec["name"]] = rec.get("value")
        elif kind == ev.MEASURE:
            run.measures.append(rec)
        elif kind == ev.CONTROL and rec.get("action") in ("abort", "emergency_stop"):
            reason = rec.get("reason") or rec["action"].replace("_", " ")
            run.stopped = StoppedAt(last_step, f"{reason} ({rec.get('source', 'operator')})")
        elif kind == ev.FAULT and run.stopped is None and rec.get("device") == "engine":
            run.stopped = StoppedAt(rec.get("step_id") or last_step, str(rec.get("message", "fault")))
        elif kind == ev.SESSION_END:
            run.outcome = str(rec.get("outcome", "incomplete"))
            run.end_variables = dict(rec.get("variables") or {})
    if run.outcome == "incomplete" and beh_json is not None and beh_json.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            run.outcome = str(json.loads(beh_json.read_text(encoding="utf-8"))["cpmlab"]["outcome"])
    if run.outcome not in ENDED_EARLY:
        run.stopped = None
    elif run.stopped is None:
        run.stopped = StoppedAt(last_step, run.outcome.replace("_", " "))
    return run


def visit_runs(root: Path, participant: str, visit: Visit) -> list[VisitRun]:
    """Return every run of a participant's visit, oldest first, read from sourcedata/cpmlab."""
    folder = root / "sourcedata" / "cpmlab" / f"sub-{participant}" / f"ses-{visit.session}"
    beh = root / f"sub-{participant}" / f"ses-{visit.session}" / "beh"
    runs = []
    for journal in sorted(folder.glob("*_journal.jsonl")):
        stem = journal.name.removesuffix("_journal.jsonl")
        runs.append(read_run(journal, beh / f"{stem}_beh.json"))
    return sorted(runs, key=lambda r: (r.run, r.journal.name))


def participant_state(study: Study, root: Path, participant: str) -> list[VisitState]:
    """Return the state of each of the study's visits for one participant."""
    return [VisitState(v, visit_runs(root, participant, v)) for v in study.visits]
