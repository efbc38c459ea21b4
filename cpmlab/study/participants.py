"""participants.tsv and participants.json: enrol a participant with the study's fields and condition order."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpmlab.core.errors import CpmlabError
from cpmlab.core.file_lock import exclusive_lock, lock_path_for
from cpmlab.core.labels import validate_label
from cpmlab.storage.bids import atomic_write
from cpmlab.study.counterbalance import order_for, order_label, order_levels
from cpmlab.study.model import ParticipantField, Study

MISSING = "n/a"
ENROL_LOCK_TIMEOUT_S = 15.0  # another enrolment holds participants.tsv for milliseconds; longer is a stuck process


@dataclass(frozen=True)
class Participant:
    """One row of participants.tsv as the study sees it."""

    label: str
    fields: dict[str, str]
    order: tuple[str, ...] | None  # None: in the dataset but not enrolled in this study


def read_table(root: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Return participants.tsv's columns and rows (empty if there is no file)."""
    path = root / "participants.tsv"
    if not path.exists():
        return ["participant_id"], []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        columns = list(reader.fieldnames or ["participant_id"])
        return columns, [dict(row) for row in reader]


def participants(study: Study, root: Path) -> list[Participant]:
    """Return the dataset's participants in enrolment (row) order with their condition order."""
    levels = order_levels(study)
    out = []
    for row in read_table(root)[1]:
        label = row.get("participant_id", "").removeprefix("sub-")
        order = levels.get(row.get("condition_order") or "") if study.conditions else ()
        fields = {f.name: row.get(f.name) or MISSING for f in study.participant_fields}
        out.append(Participant(label, fields, order))
    return out


def check_field(field: ParticipantField, text: str | None) -> str:
    """Return the participants.tsv text of a field's value; raise CpmlabError if it is not allowed."""
    if text is None or text.strip() in ("", MISSING):
        if field.required:
            raise CpmlabError(f"{field.name} is required")
        return MISSING
    text = text.strip()
    if field.type in ("integer", "number"):
        try:
            value = int(text) if field.type == "integer" else float(text)
        except ValueError:
            raise CpmlabError(
                f"{field.name}: {text!r} is not {'a whole number' if field.type == 'integer' else 'a number'}"
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise CpmlabError(f"{field.name}: {text!r} is not a number")
        if (field.min is not None and value < field.min) or (field.max is not None and value > field.max):
            low = "" if field.min is None else f"{field.min:g}"
            high = "" if field.max is None else f"{field.max:g}"
            unit = f" {field.unit}" if field.unit else ""
            raise CpmlabError(f"{field.name}: {text} is outside {low}-{high}{unit}")
        return str(value)
    if field.type == "choice" and text not in field.levels:
        allowed = ", ".join(f"{k} ({v})" for k, v in field.levels.items())
        raise CpmlabError(f"{field.name}: {text!r} is not one of {allowed}")
    if "\t" in text or "\n" in text:
        raise CpmlabError(f"{field.name}: tabs and line breaks are not allowed")
    return text


def _sidecar(study: Study) -> dict[str, Any]:
    out: dict[str, Any] = {"participant_id": {"Description": "Participant label"}}
    for f in study.participant_fields:
        entry: dict[str, Any] = {"Description": f.description or f.name}
        if f.unit:
            entry["Units"] = f.unit
        if f.levels:
            entry["Levels"] = dict(f.levels)
        out[f.name] = entry
    if study.conditions:
        out["condition_order"] = {
            "Description": (
                f"Order of the conditions over the visits of study {study.name}, assigned at enrolment by "
                f"scheme {study.counterbalance.scheme} with seed {study.counterbalance.seed}"
            ),
            "Levels": {label: " then ".join(o) for label, o in order_levels(study).items()},
        }
    return out


def enrol(
    study: Study, root: Path, label: str, values: dict[str, str], *, lock_timeout_s: float = ENROL_LOCK_TIMEOUT_S
) -> Participant:
    """Add a participant with the study's fields and the next counterbalanced order; never change another row.

    The read of participants.tsv, the enrolment index drawn from it and the write happen under one
    lock across processes (two consoles, a console and `cpmlab study add`), so every participant
    gets their own index and no row is lost.
    """
    validate_label("participant", label)
    unknown = sorted(set(values) - {f.name for f in study.participant_fields})
    if unknown:
        known = ", ".join(f.name for f in study.participant_fields) or "none"
        raise CpmlabError(f"unknown participant field(s) {', '.join(unknown)}; this study collects: {known}")
    cells = {f.name: check_field(f, values.get(f.name)) for f in study.participant_fields}
    root.mkdir(parents=True, exist_ok=True)
    lock = lock_path_for(root / "participants.tsv")
    with exclusive_lock(lock, timeout_s=lock_timeout_s, purpose=f"enrol sub-{label} in {study.name}"):
        return _enrol_locked(study, root, label, cells)


def _enrol_locked(study: Study, root: Path, label: str, cells: dict[str, str]) -> Participant:
    """Read participants.tsv, give the participant the next index's order, write it back (lock held)."""
    existing = participants(study, root)
    if any(p.label == label and p.order is not None for p in existing):
        raise CpmlabError(f"sub-{label} is already enrolled in {root}")
    order = order_for(study, sum(p.order is not None for p in existing)) if study.conditions else ()
    columns, rows = read_table(root)
    wanted = [*cells, "condition_order"] if study.conditions else list(cells)
    new_columns = [c for c in wanted if c not in columns]
    columns += new_columns
    for row in rows:
        for c in new_columns:
            row[c] = MISSING
    row = next((r for r in rows if r.get("participant_id") == f"sub-{label}"), None)
    if row is None:
        row = {c: MISSING for c in columns}
        row["participant_id"] = f"sub-{label}"
        rows.append(row)
    for name, text in cells.items():
        if row.get(name, MISSING) not in (MISSING, "", text):
            raise CpmlabError(
                f"sub-{label} already has {name} = {row[name]!r} in participants.tsv; it is never overwritten"
            )
        if text != MISSING:
            row[name] = text
    if study.conditions:
        row["condition_order"] = order_label(order)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, delimiter="\t", lineterminator="\n", restval=MISSING)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(root / "participants.tsv", buf.getvalue().encode("utf-8"), overwrite=True)
    _merge_sidecar(root / "participants.json", _sidecar(study))
    return Participant(label, {n: row.get(n, MISSING) for n in cells}, order)


def _merge_sidecar(path: Path, entries: dict[str, Any]) -> None:
    """Add descriptions of new columns to participants.json; keep every existing entry."""
    current: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    merged = {**entries, **current} if current else entries
    for key, value in entries.items():
        if key not in current:
            merged[key] = value
    text = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"), overwrite=path.exists())
