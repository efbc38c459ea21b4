"""Build the _events.tsv and _beh.tsv tables from journal records.

Each event field declared with a ``column`` in cpmlab.core.vocabulary goes to that column,
so structured facts (censored, discarded, fallback, method, stopped_by, limit_s, ...) stay
structured; ``detail`` only carries free text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from cpmlab.core import events as ev
from cpmlab.core import scales
from cpmlab.core import vocabulary as voc
from cpmlab.core.errors import CpmlabError
from cpmlab.storage import bids_meta as meta

_STAGES = (
    ("ramp_start", "plateau_start", "heat_ramp"),
    ("plateau_start", "return_start", "heat_plateau"),
    ("return_start", "end", "heat_return"),
)
_SCREENS = {"instruction": "instruction", "wait": "instruction", "continuous": "continuous_rating"}


def clean_text(value: Any) -> Any:
    """Return text with tabs and line breaks replaced by spaces (other values unchanged)."""
    if isinstance(value, str):
        return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return value


class JournalSession:
    """The journal's records, split by kind, with times relative to session start."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self.records = list(records)
        starts = [r for r in self.records if r.get("kind") == ev.SESSION_START]
        if not starts:
            raise CpmlabError("the journal has no session_start record; nothing can be rebuilt from it")
        self.info = starts[0]
        self.t0 = float(self.info["t"])
        self.speed = float(self.info.get("speed", 1.0))
        ends = [r for r in self.records if r.get("kind") == ev.SESSION_END]
        self.outcome = ends[-1].get("outcome", "incomplete") if ends else "incomplete"
        self._by_kind: dict[str, list[dict[str, Any]]] = {}
        for r in self.records:
            self._by_kind.setdefault(str(r.get("kind")), []).append(r)

    def onset(self, t: float) -> float:
        """Return protocol seconds since session start."""
        return round((float(t) - self.t0) * self.speed, 4)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Return the records of one kind, in journal order."""
        return list(self._by_kind.get(kind, ()))


def columns_of(kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    """Return the _events.tsv columns a record fills, from its kind's declaration (unknown fields ignored)."""
    declared = voc.KINDS.get(kind)
    if declared is None:
        return {}
    out: dict[str, Any] = {}
    for f in declared.fields:
        if f.column and rec.get(f.name) is not None and out.get(f.column) is None:
            out[f.column] = clean_text(rec[f.name])
    return out


def events_table(s: JournalSession) -> pd.DataFrame:
    """Return the _events.tsv table of a session: one row per timed event, sorted by onset."""
    rows: list[dict[str, Any]] = []

    def add(onset_t: float, duration_s: float | None, trial_type: str, cols: dict[str, Any]) -> None:
        duration = None if duration_s is None else round(max(duration_s, 0.0), 4)
        rows.append({**cols, "onset": s.onset(onset_t), "duration": duration, "trial_type": trial_type})

    # Group stimulus stages: each ramp_start opens a stimulus (parallel stimuli carry step ids).
    stimuli: list[tuple[dict[str, Any], dict[str, float]]] = []
    for r in s.of(ev.STIMULUS):
        if r.get("stage") == "ramp_start":
            stimuli.append((r, {"ramp_start": float(r["t"])}))
            continue
        for rec, stages in reversed(stimuli):
            if rec.get("step_id") == r.get("step_id") and r.get("stage") not in stages:
                stages[str(r.get("stage"))] = float(r["t"])
                break
    for rec, stages in stimuli:
        cols = columns_of(ev.STIMULUS, rec)
        start, end = stages["ramp_start"], stages.get("end")
        add(start, None if end is None else (end - start) * s.speed, "heat_stimulus", cols)
        for a, b, name in _STAGES:
            if a in stages:
                if b == "plateau_start" and b not in stages:
                    b = "return_start"  # a ramp stopped by the participant (threshold) has no plateau
                add(stages[a], (stages[b] - stages[a]) * s.speed if b in stages else None, name, cols)

    open_immersion: dict[str, Any] | None = None
    for r in s.of(ev.IMMERSION):
        if r.get("stage") == "immersion_start":
            open_immersion = r
        elif r.get("stage") == "immersion_end" and open_immersion is not None:
            cols = {**columns_of(ev.IMMERSION, r), **columns_of(ev.IMMERSION, open_immersion)}
            cols["ended_by"] = clean_text(r.get("reason")) or "time"
            cols["censored"] = bool(r.get("censored"))
            duration = (float(r["t"]) - float(open_immersion["t"])) * s.speed
            add(open_immersion["t"], duration, "cold_immersion", cols)
            open_immersion = None
    if open_immersion is not None:  # the journal ends inside an immersion (crash)
        add(open_immersion["t"], None, "cold_immersion", columns_of(ev.IMMERSION, open_immersion))

    for r in s.of(ev.RATING):
        onset_t = float(r.get("onset_t", r["t"]))
        add(onset_t, (float(r["t"]) - onset_t) * s.speed, "rating", columns_of(ev.RATING, r))
    for r in s.of(ev.DISPLAY):
        trial_type = _SCREENS.get(str(r.get("screen", "")))
        if trial_type:
            end_t = r.get("end_t")
            duration = None if end_t is None else (float(end_t) - float(r["t"])) * s.speed
            add(r["t"], duration, trial_type, columns_of(ev.DISPLAY, r))
    for r in s.of(ev.MEASURE):
        add(r["t"], 0.0, str(r.get("measure")), columns_of(ev.MEASURE, r))
    for kind, trial_type in ((ev.VARIABLE, "variable"), (ev.MARKER, "marker"), (ev.NOTE, "note"), (ev.FAULT, "fault")):
        for r in s.of(kind):
            add(r["t"], 0.0, trial_type, columns_of(kind, r))
    for r in s.of(ev.CONTROL):
        add(r["t"], 0.0, str(r.get("action")), columns_of(ev.CONTROL, r))

    df = pd.DataFrame(rows, columns=list(meta.EVENTS_COLUMNS))
    if df.empty:
        return df
    df = df.sort_values(["onset", "trial_type"], kind="stable").reset_index(drop=True)
    for c in ("rep", "trial"):
        df[c] = df[c].astype("Int64")
    for c in meta.BOOLEAN_EVENT_COLUMNS:
        df[c] = df[c].astype("boolean")
    return df


def ratings_table(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Return one row per rating from journal records (used by the BIDS writer and summaries)."""
    s = JournalSession(records)
    rows = []
    for i, r in enumerate(s.of(ev.RATING), start=1):
        scale = r.get("scale")
        definition = scales.SCALES.get(str(scale))
        rows.append(
            {
                "trial": i,
                "onset": s.onset(float(r.get("onset_t", r["t"]))),
                "step_id": r.get("step_id"),
                "rates": r.get("rates"),
                "about": r.get("about"),
                "role": r.get("role"),
                "phase": r.get("phase"),
                "rep": r.get("rep"),
                "scale": scale,
                "scale_max": None if definition is None or definition.high is None else definition.high,
                "rating": r.get("value"),
                "category": clean_text(r.get("category")),
                "response_time": None if r.get("rt_s") is None else round(float(r["rt_s"]) * s.speed, 4),
                "stimulus_c": r.get("stimulus_c"),
                "input": r.get("input"),
            }
        )
    df = pd.DataFrame(rows, columns=list(meta.BEH_COLUMNS))
    df["rep"] = df["rep"].astype("Int64")
    df["scale_max"] = df["scale_max"].astype("Int64")
    return df
