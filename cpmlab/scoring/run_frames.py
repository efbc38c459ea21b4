"""Read a batch of runs at once: one ratings frame, one events frame and one continuous-rating frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.dataset import (
    BEH_TEXT,
    EVENT_TEXT,
    REQUIRED_BEH_COLUMNS,
    check_beh_columns,
    read_json,
    read_meta,
)
from cpmlab.scoring.frames import RUN, as_text, concat_numeric, concat_tsv, gunzip, read_bytes
from cpmlab.storage.bids_meta import EVENTS_COLUMNS

COVAS = ("covas", "physio")  # the continuous-rating recording: _recording-covas_physio.tsv.gz


@dataclass
class RunBatch:
    """Runs read together; every frame has a run_index column (position in beh_paths)."""

    beh_paths: list[Path]
    metas: list[dict[str, Any]]
    legacy_events: np.ndarray  # bool per run
    ratings: pd.DataFrame
    events: pd.DataFrame  # sorted by run, then onset (stable, missing onsets last)
    samples: pd.DataFrame  # continuous rating samples: run_index, t (s), rating (NaN = none)


def stem_of(beh_path: Path) -> Path:
    """Return the run's path stem (no _beh.tsv suffix)."""
    return beh_path.with_name(beh_path.name[: -len("_beh.tsv")])


def recording_paths(beh_path: Path, label: str, suffix: str) -> tuple[Path, Path]:
    """Return the .tsv.gz and .json paths of a run's recording."""
    stem = stem_of(beh_path).name
    data = beh_path.with_name(f"{stem}_recording-{label}_{suffix}.tsv.gz")
    return data, data.with_name(data.name.replace(".tsv.gz", ".json"))


def _ratings(paths: Sequence[Path]) -> pd.DataFrame:
    ratings, headers = concat_tsv(paths, BEH_TEXT)
    has_rows = np.zeros(len(paths), dtype=bool)
    has_rows[ratings[RUN].to_numpy()] = True
    for i, columns in headers.items():
        check_beh_columns(paths[i], columns, bool(has_rows[i]))
    ratings = as_text(ratings, BEH_TEXT)
    for c in REQUIRED_BEH_COLUMNS:
        if c not in ratings.columns:
            ratings[c] = pd.Series([None] * len(ratings), index=ratings.index, dtype=object)
    ratings["rating"] = pd.to_numeric(ratings["rating"], errors="coerce")
    return ratings


def _events(paths: Sequence[Path]) -> tuple[pd.DataFrame, np.ndarray]:
    found = [p if p.exists() else None for p in paths]
    events, headers = concat_tsv(found, EVENT_TEXT)
    counts = np.bincount(events[RUN].to_numpy(), minlength=len(paths))
    legacy = np.array([counts[i] > 0 and "censored" not in headers.get(i, ()) for i in range(len(paths))], dtype=bool)
    for c in EVENTS_COLUMNS:
        if c not in events.columns:  # columns no file of the batch has read as n/a (text or numeric)
            events[c] = np.nan if c not in EVENT_TEXT else None
    events = as_text(events, EVENT_TEXT)
    for c in ("onset", "duration"):
        events[c] = pd.to_numeric(events[c], errors="coerce")
    order = np.lexsort((events["onset"].to_numpy(dtype=float), events[RUN].to_numpy()))  # stable; NaN last
    return events.iloc[order].reset_index(drop=True), legacy


def _samples(paths: Sequence[Path]) -> pd.DataFrame:
    groups: dict[tuple[str, ...], list[tuple[int, Path, bytes, float, float]]] = {}
    for i, beh in enumerate(paths):
        data_path, side_path = recording_paths(beh, *COVAS)
        if not data_path.exists():
            continue
        sidecar = read_json(side_path)
        try:
            columns = tuple(sidecar["Columns"])
            hz = float(sidecar["SamplingFrequency"])
            start = float(sidecar.get("StartTime", 0.0))
        except (KeyError, TypeError, ValueError) as exc:
            raise CpmlabError(f"cannot read {side_path}: missing or bad field {exc}") from None
        body = gunzip(data_path, read_bytes(data_path))
        groups.setdefault(columns, []).append((i, data_path, body, start, hz))
    parts = []
    for columns, members in groups.items():
        frame, counts = concat_numeric([m[1] for m in members], [m[2] for m in members], columns)
        if "rating" not in columns:
            continue  # a recording without ratings gives no plateau summaries
        run = np.repeat(np.array([m[0] for m in members], dtype=np.int64), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        local = (np.arange(int(counts.sum())) - first).astype(float)  # sample number within its run
        start = np.repeat(np.array([m[3] for m in members]), counts)
        hz = np.repeat(np.array([m[4] for m in members]), counts)
        parts.append(pd.DataFrame({RUN: run, "t": start + local / hz, "rating": frame["rating"].to_numpy(float)}))
    if not parts:
        return pd.DataFrame({RUN: pd.Series(dtype=np.int64), "t": pd.Series(dtype=float), "rating": []})
    samples = pd.concat(parts, ignore_index=True)
    order = np.argsort(samples[RUN].to_numpy(), kind="stable")
    return samples.iloc[order].reset_index(drop=True)


def read_batch(beh_paths: Sequence[Path]) -> RunBatch:
    """Read the _beh.tsv, _beh.json, _events.tsv and continuous-rating recording of every run given."""
    paths = list(beh_paths)
    ratings = _ratings(paths)
    metas = [read_meta(p) for p in paths]
    events, legacy = _events([stem_of(p).with_name(f"{stem_of(p).name}_events.tsv") for p in paths])
    return RunBatch(paths, metas, legacy, ratings, events, _samples(paths))
