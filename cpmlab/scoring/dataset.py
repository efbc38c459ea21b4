"""Read a cpmlab BIDS dataset from its files only (never the journal), run by run."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.run_files import BEH_NAME, find_run_files, labels_key
from cpmlab.storage.bids_meta import EVENTS_COLUMNS, NUMERIC_EVENT_COLUMNS

_BEH_NAME = BEH_NAME  # the run file name with its labels
REQUIRED_BEH_COLUMNS = ("about", "role", "phase", "scale", "rating")
BEH_TEXT = ("about", "role", "phase", "scale", "step_id", "rates")
EVENT_TEXT = tuple(c for c in EVENTS_COLUMNS if c not in NUMERIC_EVENT_COLUMNS)


@dataclass(frozen=True)
class Recording:
    """A continuous recording: samples at start_s + i / sampling_hz, one column per channel."""

    start_s: float
    sampling_hz: float
    data: pd.DataFrame

    @property
    def times_s(self) -> np.ndarray:
        """Sample times in seconds from session start."""
        return self.start_s + np.arange(len(self.data)) / self.sampling_hz


@dataclass
class Run:
    """One run of one session: its labels, ratings, events, session metadata and file stem."""

    participant: str
    session: str | None
    task: str
    run: int | None
    stem: str  # .../beh/sub-X_ses-Y_task-T_run-N (no suffix); a string: 10,000 Path objects cost
    loaded_ratings: pd.DataFrame | None = field(default=None, repr=False)  # None: read from the file when needed
    loaded_events: pd.DataFrame | None = field(default=None, repr=False)
    loaded_meta: dict[str, Any] | None = field(default=None, repr=False)
    legacy_events: bool = False  # _events.tsv from before the structured columns (censored, discarded, ...)

    @property
    def meta(self) -> dict[str, Any]:
        """The cpmlab session metadata of _beh.json (read on first use when the run was scored in bulk)."""
        if self.loaded_meta is None:
            self.loaded_meta = read_meta(self.stem_path.with_name(f"{self.stem_path.name}_beh.tsv"))
        return self.loaded_meta

    @property
    def ratings(self) -> pd.DataFrame:
        """The run's _beh.tsv as read by read_run (read on first use when the run was scored in bulk)."""
        if self.loaded_ratings is None:
            self.loaded_ratings = read_ratings(self.stem_path.with_name(f"{self.stem_path.name}_beh.tsv"))
        return self.loaded_ratings

    @property
    def events(self) -> pd.DataFrame:
        """The run's _events.tsv as read by read_run (read on first use when the run was scored in bulk)."""
        if self.loaded_events is None:
            self.loaded_events, _ = read_events(self.stem_path.with_name(f"{self.stem_path.name}_events.tsv"))
        return self.loaded_events

    @property
    def stem_path(self) -> Path:
        """The run's path without suffix, as a Path."""
        return Path(self.stem)

    @property
    def stem_name(self) -> str:
        """The run's file name without suffix (sub-X_ses-Y_task-T_run-N)."""
        return os.path.basename(self.stem)

    @property
    def key(self) -> tuple[str, str, str, int]:
        """Sort key: participant, session, task, run."""
        return (self.participant, self.session or "", self.task, self.run or 0)

    @property
    def rel_dir(self) -> Path:
        """Folder of the run relative to the dataset root (sub-X[/ses-Y]/beh)."""
        parts = [f"sub-{self.participant}"] + ([f"ses-{self.session}"] if self.session else [])
        return Path(*parts, "beh")

    @property
    def condition(self) -> str:
        """active, sham or none (active when the session did not record one)."""
        value = str(self.meta.get("condition") or "active")
        return value if value in ("active", "sham", "none") else "none"

    @property
    def outcome(self) -> str:
        """completed, aborted, emergency_stopped, fault, failed or incomplete."""
        return str(self.meta.get("outcome") or "incomplete")

    @property
    def recovered(self) -> bool:
        """True when the BIDS files were rebuilt from the journal after a crash."""
        return bool(self.meta.get("recovered_from_journal", False))

    def recording(self, label: str, suffix: str) -> Recording | None:
        """Read the _recording-<label>_<suffix>.tsv.gz file of this run, or None if absent."""
        data_path = self.stem_path.with_name(f"{self.stem_path.name}_recording-{label}_{suffix}.tsv.gz")
        side_path = data_path.with_name(data_path.name.replace(".tsv.gz", ".json"))
        if not data_path.exists():
            return None
        sidecar = read_json(side_path)
        try:
            columns = list(sidecar["Columns"])
            hz = float(sidecar["SamplingFrequency"])
            start = float(sidecar.get("StartTime", 0.0))
        except (KeyError, TypeError, ValueError) as exc:
            raise CpmlabError(f"cannot read {side_path}: missing or bad field {exc}") from None
        try:
            data = pd.read_csv(
                data_path, sep="\t", header=None, names=columns, na_values=["n/a"], compression="gzip", dtype=float
            )
        except (OSError, ValueError, EOFError, pd.errors.ParserError) as exc:
            raise CpmlabError(f"cannot read {data_path}: {exc}") from None
        return Recording(start, hz, data)


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object from path, raising CpmlabError with the path on any problem."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CpmlabError(f"cannot read {path}: {exc}") from None
    if not isinstance(obj, dict):
        raise CpmlabError(f"cannot read {path}: expected a JSON object")
    return obj


def read_tsv(path: Path, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a BIDS TSV (n/a = missing), raising CpmlabError with the path on any problem."""
    try:
        return pd.read_csv(
            path, sep="\t", na_values=["n/a"], keep_default_na=False, dtype=dict.fromkeys(text_columns, object)
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise CpmlabError(f"cannot read {path}: {exc}") from None


def check_dataset(root: str | Path) -> Path:
    """Return the dataset root if it exists and looks like BIDS, else raise CpmlabError."""
    path = Path(root)
    if not path.exists():
        raise CpmlabError(f"no dataset at {path}: the folder does not exist")
    if not path.is_dir():
        raise CpmlabError(f"{path} is not a folder; give the BIDS dataset folder")
    if not (path / "dataset_description.json").is_file():
        raise CpmlabError(f"{path} is not a BIDS dataset: it has no dataset_description.json")
    desc = read_json(path / "dataset_description.json")
    if desc.get("DatasetType") == "derivative":
        raise CpmlabError(f"{path} is a derivative dataset; give the raw dataset folder")
    return path.resolve()


def find_runs(root: Path) -> list[Path]:
    """Return every *_beh.tsv of the dataset (sub-*/[ses-*/]beh/), sorted."""
    return [Path(p) for p in find_run_files(os.fspath(root))]


def _as_text(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for c in columns:  # plain object columns: much faster to filter than pandas' arrow-backed strings
        if c in df.columns:
            values = df[c].to_numpy(dtype=object, copy=True)
            values[pd.isna(values) | (values == "")] = None
            df[c] = pd.Series(values, index=df.index, dtype=object)
    return df


def check_beh_columns(path: Path, columns: Any, has_rows: bool) -> None:
    """Raise CpmlabError naming the file when a _beh.tsv with rows lacks a column the scoring needs."""
    missing = [c for c in REQUIRED_BEH_COLUMNS if c not in columns]
    if missing and has_rows:
        raise CpmlabError(f"cannot read {path}: missing columns {', '.join(missing)}")


def read_ratings(beh_path: Path) -> pd.DataFrame:
    """Read a _beh.tsv: text columns as text (None = missing), rating numeric."""
    ratings = read_tsv(beh_path, BEH_TEXT)
    check_beh_columns(beh_path, ratings.columns, not ratings.empty)
    for c in REQUIRED_BEH_COLUMNS:
        if c not in ratings.columns:
            ratings[c] = pd.Series(dtype="object")
    ratings = _as_text(ratings, BEH_TEXT)
    ratings["rating"] = pd.to_numeric(ratings["rating"], errors="coerce")
    return ratings


def read_events(events_path: Path) -> tuple[pd.DataFrame, bool]:
    """Read an _events.tsv (absent: no rows); return it and whether it predates the structured columns."""
    events = read_tsv(events_path, EVENT_TEXT) if events_path.exists() else pd.DataFrame()
    legacy = not events.empty and "censored" not in events.columns
    for c in EVENTS_COLUMNS:  # datasets from older versions lack the newer columns: they read as n/a
        if c not in events.columns:
            events[c] = pd.Series(dtype="object")
    events = _as_text(events, EVENT_TEXT)
    for c in ("onset", "duration"):
        events[c] = pd.to_numeric(events[c], errors="coerce")
    return events, legacy


def read_meta(beh_path: Path) -> dict[str, Any]:
    """Return the cpmlab session metadata of a run's _beh.json ({} when there is none)."""
    side = beh_path.with_name(beh_path.name[: -len(".tsv")] + ".json")
    meta = read_json(side).get("cpmlab", {}) if side.exists() else {}
    return meta if isinstance(meta, dict) else {}


def run_labels(beh_path: Path) -> re.Match[str]:
    """Return the labels (sub, ses, task, run) of a _beh.tsv file name, or raise CpmlabError."""
    m = _BEH_NAME.match(beh_path.name)
    if m is None:
        raise CpmlabError(f"{beh_path} does not have a BIDS behavioural file name")
    return m


def run_key(beh_path: Path) -> tuple[str, str, str, int]:
    """Sort key of a run from its file name: participant, session, task, run (as Run.key)."""
    return labels_key(run_labels(beh_path))


def read_run(beh_path: Path) -> Run:
    """Read one run: _beh.tsv, its _beh.json session metadata and _events.tsv."""
    m = run_labels(beh_path)
    ratings = read_ratings(beh_path)
    meta = read_meta(beh_path)
    stem = beh_path.name[: -len("_beh.tsv")]
    events, legacy = read_events(beh_path.with_name(f"{stem}_events.tsv"))
    return Run(
        participant=m["sub"],
        session=m["ses"],
        task=m["task"],
        run=int(m["run"]) if m["run"] else None,
        stem=os.fspath(beh_path.with_name(stem)),
        loaded_ratings=ratings,
        loaded_events=events,
        loaded_meta=meta,
        legacy_events=legacy,
    )


def read_dataset(root: str | Path) -> list[Run]:
    """Read every run of a BIDS dataset; raise CpmlabError if it is missing, not BIDS or empty."""
    path = check_dataset(root)
    files = find_runs(path)
    if not files:
        raise CpmlabError(f"{path} has no sessions to score (no sub-*/[ses-*/]beh/*_beh.tsv files)")
    runs = [read_run(p) for p in files]
    return sorted(runs, key=lambda r: r.key)
