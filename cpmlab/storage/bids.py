"""Write a session's journal out as BIDS files (also used by ``cpmlab recover``).

The tables come from cpmlab.storage.bids_tables and the recordings from cpmlab.storage.recordings;
this module writes the files.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cpmlab import __version__
from cpmlab.core.errors import SessionExistsError
from cpmlab.core.file_lock import exclusive_lock, lock_path_for
from cpmlab.core.filemode import create_temp
from cpmlab.storage import bids_meta as meta
from cpmlab.storage.bids_tables import JournalSession, events_table, ratings_table
from cpmlab.storage.journal import read_journal
from cpmlab.storage.paths import SessionPaths
from cpmlab.storage.recordings import recording_files


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
    # the same lock as study enrolment: a session ending while someone enrols never loses a row
    with exclusive_lock(lock_path_for(ptsv), purpose=f"add sub-{participant} to participants.tsv"):
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

    for recording in recording_files(s):
        data_path = paths.bids_file(recording.suffix, ".tsv.gz", recording=recording.label)
        outputs.append((data_path, recording.data))
        outputs.append(
            (paths.bids_file(recording.suffix, ".json", recording=recording.label), _json_bytes(recording.sidecar))
        )
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
