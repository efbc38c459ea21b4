"""A study's state read from the data folder: each participant's runs per visit, from journals and BIDS files."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpmlab.core import events as ev
from cpmlab.scoring.results import RunResults, StoppedAt, run_results
from cpmlab.storage.journal import read_journal
from cpmlab.study.model import Study, Visit

_STEM = re.compile(
    r"^sub-(?P<sub>[A-Za-z0-9]+)_ses-(?P<ses>[A-Za-z0-9]+)_task-(?P<task>[A-Za-z0-9]+)_run-(?P<run>\d+)$"
)


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
    results: RunResults = field(default_factory=RunResults)
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
    records = list(read_journal(journal))
    for rec in records:
        kind = rec.get("kind")
        if kind == ev.SESSION_START:
            run.protocol = rec.get("protocol")
            run.condition = rec.get("condition")
            run.study = dict(rec.get("study") or {})
        elif kind == ev.VARIABLE and rec.get("name"):
            run.variables[rec["name"]] = rec.get("value")
        elif kind == ev.SESSION_END:
            run.end_variables = dict(rec.get("variables") or {})
    if not any(r.get("kind") == ev.SESSION_END for r in records) and beh_json is not None and beh_json.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            outcome = str(json.loads(beh_json.read_text(encoding="utf-8"))["cpmlab"]["outcome"])
            records.append({"kind": ev.SESSION_END, "t": 0.0, "outcome": outcome})
    run.results = run_results(records)
    run.outcome = run.results.outcome
    run.stopped = run.results.stopped
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
