"""Write a session's journal out as BIDS files (also used by ``cpmlab recover``).

The tables come from cpmlab.storage.bids_tables; this module writes files and recordings.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab import __version__
from cpmlab.core import events as ev
from cpmlab.core.errors import SessionExistsError
from cpmlab.core.filemode import create_temp
from cpmlab.storage import bids_meta as meta
from cpmlab.storage.bids_tables import JournalSession, events_table, ratings_table
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
    s: JournalSession, records: list[dict[str, Any]], columns: list[str], getter: Any, hz: float
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


def ensure_dataset_files(root: Path, participant: str | None, lab: str) -> list[Path]:
    """Write the dataset-level files that are missing and add participant (if any) to participants.tsv."""
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
    if participant is None:
        if not ptsv.exists():
            atomic_write(ptsv, b"participant_id\n")
            written.append(ptsv)
        return written
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
    s = JournalSession(records)
    targets = {
        "events": paths.bids_file("events", ".tsv"),
        "events_json": paths.bids_file("events", ".json"),
        "beh": paths.bids_file("beh", ".tsv"),
        "beh_json": paths.bids_file("beh", ".json"),
    }
    if not recovered:
        clash = [p for p in targets.values() if p.exists()]
        if clash:
            raise SessionExistsError(f"{clash[0]} already exists; cpmlab never overwrites session data")
    written = ensure_dataset_files(paths.root, paths.participant, str(s.info.get("lab") or "cpmlab"))
    outputs: list[tuple[Path, bytes]] = []

    events = events_table(s)
    ratings = ratings_table(records)
    info = {k: v for k, v in s.info.items() if k not in ("kind", "seq", "simulated_parameters")}
    simulated = s.info.get("simulated_parameters")
    session_meta = {
        **info,
        "outcome": s.outcome,
        "recovered_from_journal": recovered,
        "journal": os.path.relpath(journal_path, paths.root),
        "journal_records": len(records),
        "software": {"name": "cpmlab", "version": __version__},
    }
    outputs.append((targets["events"], _tsv_bytes(events)))
    outputs.append(
        (
            targets["events_json"],
            _json_bytes(
                {
                    **meta.EVENTS_COLUMNS,
                    "StimulusPresentation": {"SoftwareName": "cpmlab", "SoftwareVersion": __version__},
                }
            ),
        )
    )
    outputs.append((targets["beh"], _tsv_bytes(ratings)))
    outputs.append(
        (
            targets["beh_json"],
            _json_bytes(
                {
                    "TaskName": s.info.get("task", paths.task),
                    "TaskDescription": s.info.get("protocol_title", ""),
                    **meta.BEH_COLUMNS,
                    "cpmlab": session_meta,
                    **({"SimulatedParticipant": meta.simulated_participant(simulated)} if simulated else {}),
                }
            ),
        )
    )

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
        outputs.append((data_path, data))
        outputs.append((side_path, _json_bytes(meta.recording_sidecar(columns, hz, start, what, units))))
    written += _write_missing(paths, outputs, recovered)
    return WrittenSession(written, s.outcome, ratings, recovered)


def _write_missing(paths: SessionPaths, outputs: list[tuple[Path, bytes]], recovered: bool) -> list[Path]:
    """Write every output; when recovering after a crash mid-write, keep the files already complete.

    Each file was written whole or not at all (temporary file, fsync, link), so a file that exists is
    complete; the crashed writer's leftover temporary files are removed. A run whose files all exist
    has nothing to recover and is refused, as is any overwrite.
    """
    if recovered:
        missing = [(path, data) for path, data in outputs if not path.exists()]
        if not missing:
            raise SessionExistsError(
                f"sub-{paths.participant} ses-{paths.session} run-{paths.run}: every file already exists; "
                "nothing to recover (cpmlab never overwrites session data)"
            )
        for path, _ in outputs:
            for leftover in path.parent.glob(f".{path.name}.*.tmp"):
                leftover.unlink()
        outputs = missing
    for path, data in outputs:
        atomic_write(path, data)
    return [path for path, _ in outputs]
