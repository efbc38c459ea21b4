"""Write a session's journal out as BIDS files (also used by ``cpmlab recover``)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab import __version__
from cpmlab.core import events as ev
from cpmlab.core.errors import CpmlabError, SessionExistsError
from cpmlab.core.filemode import create_temp
from cpmlab.storage import bids_meta as meta
from cpmlab.storage.journal import read_journal
from cpmlab.storage.paths import SessionPaths

RESAMPLE_HZ = 10.0  # recordings are resampled onto a regular grid; raw samples stay in the journal
MAX_GAP_S = 2.5  # longer gaps between device samples become n/a instead of interpolated values


@dataclass
class WrittenSession:
    """What write_bids produced."""

    files: list[Path]
    outcome: str
    ratings: pd.DataFrame
    recovered: bool


def atomic_write(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write data to path via a temporary file and rename; refuse to replace unless overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not overwrite:
        raise SessionExistsError(f"{path} already exists; cpmlab never overwrites session data")
    fd, tmp = create_temp(path.parent, path.name)  # group-readable like the journal (mkstemp gives 0600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path appeared meanwhile: never clobber
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _tsv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, sep="\t", index=False, na_rep="n/a", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
    return buf.getvalue().encode("utf-8")


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return value


class _Session:
    """The journal's records, split by kind, with times relative to session start."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        self.records = list(records)
        starts = [r for r in self.records if r["kind"] == ev.SESSION_START]
        if not starts:
            raise CpmlabError("the journal has no session_start record; nothing can be rebuilt from it")
        self.info = starts[0]
        self.t0 = float(self.info["t"])
        self.speed = float(self.info.get("speed", 1.0))
        ends = [r for r in self.records if r["kind"] == ev.SESSION_END]
        self.outcome = ends[-1]["outcome"] if ends else "incomplete"

    def onset(self, t: float) -> float:
        """Protocol seconds since session start."""
        return round((float(t) - self.t0) * self.speed, 4)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == kind]


def _events_table(s: _Session) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def add(onset_t: float, duration_s: float | None, trial_type: str, rec: dict[str, Any], **extra: Any) -> None:
        rows.append(
            {
                "onset": s.onset(onset_t),
                "duration": None if duration_s is None else round(max(duration_s, 0.0), 4),
                "trial_type": trial_type,
                "step_id": rec.get("step_id"),
                "role": rec.get("role"),
                "phase": rec.get("phase"),
                "rep": rec.get("rep"),
                "value": extra.get("value"),
                "stimulus_c": extra.get("stimulus_c"),
                "detail": _clean_text(extra.get("detail")),
            }
        )

    # Group stimulus stages: each ramp_start opens a stimulus (parallel stimuli carry step ids).
    stimuli: list[tuple[dict[str, Any], dict[str, float]]] = []
    for r in s.of(ev.STIMULUS):
        if r["stage"] == "ramp_start":
            stimuli.append((r, {"ramp_start": float(r["t"])}))
            continue
        for rec, stages in reversed(stimuli):
            if rec.get("step_id") == r.get("step_id") and r["stage"] not in stages:
                stages[r["stage"]] = float(r["t"])
                break
    for rec, stages in stimuli:
        start = stages["ramp_start"]
        end = stages.get("end")
        tc = rec.get("target_c")
        add(start, None if end is None else (end - start) * s.speed, "heat_stimulus", rec, stimulus_c=tc)
        seq = [
            ("ramp_start", "plateau_start", "heat_ramp"),
            ("plateau_start", "return_start", "heat_plateau"),
            ("return_start", "end", "heat_return"),
        ]
        for a, b, name in seq:
            if a in stages:
                if b == "plateau_start" and b not in stages:
                    b = "return_start"  # a ramp stopped by the participant (threshold) has no plateau
                dur = (stages[b] - stages[a]) * s.speed if b in stages else None
                add(stages[a], dur, name, rec, stimulus_c=tc)

    open_immersion: dict[str, Any] | None = None
    for r in s.of(ev.IMMERSION):
        if r["stage"] == "immersion_start":
            open_immersion = r
        elif r["stage"] == "immersion_end" and open_immersion is not None:
            detail = f"ended by {r.get('reason', 'time')}" + ("; censored at the limit" if r.get("censored") else "")
            add(
                open_immersion["t"],
                (float(r["t"]) - float(open_immersion["t"])) * s.speed,
                "cold_immersion",
                open_immersion,
                stimulus_c=open_immersion.get("setpoint_c"),
                detail=detail,
            )
            open_immersion = None
    if open_immersion is not None:
        add(
            open_immersion["t"],
            None,
            "cold_immersion",
            open_immersion,
            stimulus_c=open_immersion.get("setpoint_c"),
            detail="no end recorded",
        )

    for r in s.of(ev.RATING):
        onset_t = float(r.get("onset_t", r["t"]))
        add(
            onset_t,
            (float(r["t"]) - onset_t) * s.speed,
            "rating",
            r,
            value=r.get("value"),
            stimulus_c=r.get("stimulus_c"),
            detail=f"{r.get('scale')} rating of {r.get('rates') or r.get('about')}",
        )
    for r in s.of(ev.DISPLAY):
        kind = {"instruction": "instruction", "wait": "instruction", "continuous": "continuous_rating"}.get(
            r.get("screen", "")
        )
        if kind:
            end_t = r.get("end_t")
            duration = None if end_t is None else (float(end_t) - float(r["t"])) * s.speed
            add(r["t"], duration, kind, r, detail=r.get("ended_by"))
    for r in s.of(ev.MEASURE):
        flags = [k for k in ("censored", "discarded", "fallback") if r.get(k)]
        parts = [f"{k}={r[k]}" for k in ("method", "stopped_by", "variable", "rating") if r.get(k) is not None]
        add(r["t"], 0.0, r["measure"], r, value=r.get("value"), detail=" ".join(parts + flags) or None)
    for r in s.of(ev.VARIABLE):
        add(r["t"], 0.0, "variable", r, value=r.get("value"), detail=r.get("name"))
    for r in s.of(ev.MARKER):
        add(r["t"], 0.0, "marker", r, detail=r.get("name"))
    for r in s.of(ev.NOTE):
        add(r["t"], 0.0, "note", r, detail=r.get("text"))
    for r in s.of(ev.FAULT):
        add(r["t"], 0.0, "fault", r, detail=f"{r.get('device')}: {r.get('message')}")
    for r in s.of(ev.CONTROL):
        add(r["t"], 0.0, r["action"], r, detail=r.get("reason") or r.get("source"))

    cols = list(meta.EVENTS_COLUMNS)
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    df = df.sort_values(["onset", "trial_type"], kind="stable").reset_index(drop=True)
    df["rep"] = df["rep"].astype("Int64")
    return df


def ratings_table(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Return one row per rating from journal records (used by the BIDS writer and summaries)."""
    s = _Session(records)
    rows = []
    for i, r in enumerate(s.of(ev.RATING), start=1):
        scale = r.get("scale")
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
                "scale_max": {"vas": 100, "nrs": 10}.get(scale),
                "rating": r.get("value"),
                "category": _clean_text(r.get("category")),
                "response_time": None if r.get("rt_s") is None else round(float(r["rt_s"]) * s.speed, 4),
                "stimulus_c": r.get("stimulus_c"),
                "input": r.get("input"),
            }
        )
    df = pd.DataFrame(rows, columns=list(meta.BEH_COLUMNS))
    df["rep"] = df["rep"].astype("Int64")
    df["scale_max"] = df["scale_max"].astype("Int64")
    return df


def _resample(times: np.ndarray, values: np.ndarray, hz: float) -> tuple[float, np.ndarray]:
    """Linear interpolation onto a regular grid; gaps longer than MAX_GAP_S become NaN."""
    grid = np.arange(times[0], times[-1] + 1e-9, 1.0 / hz)
    out = np.empty((len(grid), values.shape[1]))
    for c in range(values.shape[1]):
        out[:, c] = np.interp(grid, times, values[:, c])
    idx = np.searchsorted(times, grid, side="right")
    prev_t = times[np.clip(idx - 1, 0, len(times) - 1)]
    next_t = times[np.clip(idx, 0, len(times) - 1)]
    out[(next_t - prev_t) > MAX_GAP_S] = np.nan
    return float(grid[0]), out


def _recording(
    s: _Session, records: list[dict[str, Any]], columns: list[str], getter: Any, hz: float
) -> tuple[bytes, float] | None:
    pairs = [(s.onset(r["t"]), getter(r)) for r in records]
    pairs = [(t, v) for t, v in pairs if v is not None]
    if len(pairs) < 2:
        return None
    pairs.sort(key=lambda p: p[0])
    times = np.array([p[0] for p in pairs])
    times, unique_idx = np.unique(times, return_index=True)
    values = np.array([p[1] for p in pairs], dtype=float)[unique_idx]
    start, grid_values = _resample(times, values, hz)
    df = pd.DataFrame(np.round(grid_values, 3), columns=columns)
    buf = io.StringIO()
    df.to_csv(buf, sep="\t", index=False, header=False, na_rep="n/a", lineterminator="\n")
    # mtime=0 keeps the bytes reproducible for the same journal
    return gzip.compress(buf.getvalue().encode("utf-8"), mtime=0), start


def _ensure_dataset_files(root: Path, participant: str, lab: str) -> list[Path]:
    written = []
    desc = root / "dataset_description.json"
    if not desc.exists():
        atomic_write(desc, _json_bytes(meta.dataset_description(f"{lab}: CPM sessions", __version__, [lab])))
        written.append(desc)
    readme = root / "README"
    if not readme.exists():
        atomic_write(readme, meta.README_TEXT.encode("utf-8"))
        written.append(readme)
    pjson = root / "participants.json"
    if not pjson.exists():
        atomic_write(pjson, _json_bytes(meta.PARTICIPANTS_JSON))
        written.append(pjson)
    ptsv = root / "participants.tsv"
    pid = f"sub-{participant}"
    if ptsv.exists():
        existing = pd.read_csv(ptsv, sep="\t", dtype=str, keep_default_na=False)
        if pid not in set(existing.get("participant_id", [])):
            row = {c: "n/a" for c in existing.columns}
            row["participant_id"] = pid
            table = pd.concat([existing, pd.DataFrame([row])], ignore_index=True)
            atomic_write(ptsv, _tsv_bytes(table), overwrite=True)  # adds a row; keeps every existing one
            written.append(ptsv)
    else:
        atomic_write(ptsv, _tsv_bytes(pd.DataFrame({"participant_id": [pid]})))
        written.append(ptsv)
    return written


def write_bids(paths: SessionPaths, journal_path: Path | None = None, *, recovered: bool = False) -> WrittenSession:
    """Write events, ratings, recordings and sidecars for one run from its journal."""
    journal_path = journal_path or paths.journal
    records = list(read_journal(journal_path))
    s = _Session(records)
    targets = {
        "events": paths.bids_file("events", ".tsv"),
        "events_json": paths.bids_file("events", ".json"),
        "beh": paths.bids_file("beh", ".tsv"),
        "beh_json": paths.bids_file("beh", ".json"),
    }
    clash = [p for p in targets.values() if p.exists()]
    if clash:
        raise SessionExistsError(f"{clash[0]} already exists; cpmlab never overwrites session data")
    written = _ensure_dataset_files(paths.root, paths.participant, str(s.info.get("lab") or "cpmlab"))

    events = _events_table(s)
    ratings = ratings_table(records)
    info = {k: v for k, v in s.info.items() if k not in ("kind", "seq")}
    session_meta = {
        **info,
        "outcome": s.outcome,
        "recovered_from_journal": recovered,
        "journal": os.path.relpath(journal_path, paths.root),
        "journal_records": len(records),
        "software": {"name": "cpmlab", "version": __version__},
    }
    atomic_write(targets["events"], _tsv_bytes(events))
    atomic_write(
        targets["events_json"],
        _json_bytes(
            {**meta.EVENTS_COLUMNS, "StimulusPresentation": {"SoftwareName": "cpmlab", "SoftwareVersion": __version__}}
        ),
    )
    atomic_write(targets["beh"], _tsv_bytes(ratings))
    atomic_write(
        targets["beh_json"],
        _json_bytes(
            {
                "TaskName": s.info.get("task", paths.task),
                "TaskDescription": s.info.get("protocol_title", ""),
                **meta.BEH_COLUMNS,
                "cpmlab": session_meta,
            }
        ),
    )
    written += list(targets.values())

    thermode = [r for r in s.of(ev.READING) if r.get("device") == "thermode"]
    bath = [r for r in s.of(ev.READING) if r.get("device") == "cold_pressor"]
    covas = s.of(ev.CONTINUOUS_SAMPLE)
    recordings = [
        (
            "thermode",
            "stim",
            thermode,
            meta.THERMODE_COLUMNS,
            lambda r: [r["neutral_c"], *(list(r["zones_c"]) + [np.nan] * 5)[:5]],
            RESAMPLE_HZ,
            "thermode probe temperatures, resampled from the device stream",
            "degC",
        ),
        (
            "bath",
            "stim",
            bath,
            meta.BATH_COLUMNS,
            lambda r: [r["bath_c"]],
            1.0,
            "cold-pressor bath temperature",
            "degC",
        ),
        (
            "covas",
            "physio",
            covas,
            meta.CONTINUOUS_COLUMNS,
            lambda r: None if r.get("value") is None else [r["value"]],
            RESAMPLE_HZ,
            "continuous pain rating",
            "rating units",
        ),
    ]
    for label, suffix, recs, columns, getter, hz, what, units in recordings:
        result = _recording(s, recs, columns, getter, hz)
        if result is None:
            continue
        data, start = result
        data_path = paths.bids_file(suffix, ".tsv.gz", recording=label)
        side_path = paths.bids_file(suffix, ".json", recording=label)
        atomic_write(data_path, data)
        atomic_write(side_path, _json_bytes(meta.recording_sidecar(columns, hz, start, what, units)))
        written += [data_path, side_path]
    return WrittenSession(written, s.outcome, ratings, recovered)
