"""Each run's cache key from the content of its files (standard library and numpy only: runs in the background).

A run's key is a SHA-256 over the cache format, the cpmlab version, the scoring options, the
run's path and the SHA-256 of every file its scores are read from. A file is hashed again only
when its size or modification time differs from the record of the last score (files.npz), or
when it was modified within racy_s of that record being written (a change within the clock's
resolution could otherwise go unseen, as git knows). The record also keeps each run's key and a
hash of what every key starts from (format, version, options): a run whose files are all
unchanged keeps its recorded key without hashing it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cpmlab.scoring.file_states import DIGEST_BYTES, FileStates, load_states
from cpmlab.scoring.run_files import RUN_FILE_SUFFIXES, run_file_paths, stat_numbers

FORMAT = 2  # the cache's layout (1 kept the file hashes as JSON)
RACY_S = 2.0  # a file modified this close before the record was written is hashed again
FILES_RECORD = "files.npz"


@dataclass
class RunKeys:
    """Each run's key, and the record of the files and keys they were computed from (to save with the cache)."""

    keys: list[str]
    files: FileStates
    options: dict[str, Any]
    racy_s: float
    runs: FileStates = field(default_factory=FileStates)  # each run's _beh.tsv (relative) and its key as bytes
    base: str = ""  # SHA-256 (hex) of base_key: what every key of runs starts from

    def tables(self) -> dict[str, FileStates]:
        """Return the record's tables, to be saved with save_states(..., FORMAT)."""
        empty = np.zeros((1, 0), dtype=np.int64)
        return {"files": self.files, "runs": self.runs, "base": FileStates([self.base], empty, empty.astype(np.uint8))}


@dataclass
class KeyRecord:
    """What the last score recorded: the files' size, mtime and SHA-256, and the runs' keys."""

    files: FileStates
    runs: FileStates
    base: str


def base_key(version: str, options: dict[str, Any]) -> bytes:
    """Return what every run's key starts from: format, version and options."""
    return json.dumps([FORMAT, version, options], sort_keys=True).encode()


def old_files(directory: Path) -> KeyRecord:
    """Return the record of the last score (empty when there is none or it cannot be read)."""
    tables = load_states(directory / FILES_RECORD, FORMAT, {"files": 2}, {"runs": 0, "base": 0})
    if tables is None:
        return KeyRecord(FileStates(numbers=np.zeros((0, 2), dtype=np.int64)), FileStates(), "")
    base = tables.get("base")
    runs = tables.get("runs")
    if base is None or runs is None or len(base.rels) != 1 or runs.digests.shape[1] != DIGEST_BYTES:
        return KeyRecord(tables["files"], FileStates(), "")
    return KeyRecord(tables["files"], runs, base.rels[0])


def run_keys(
    root: str,
    beh_paths: list[str],
    options: dict[str, Any],
    version: str,
    old: KeyRecord,
    racy_s: float,
    numbers: np.ndarray | None = None,
) -> RunKeys:
    """Return each run's key; numbers: the files' size and mtime if already found (run_file_paths order)."""
    paths = run_file_paths(beh_paths)
    prefix = root + os.sep
    rels = [p[len(prefix) :].replace(os.sep, "/") if p.startswith(prefix) else p for p in paths]
    raw, present, unchanged, files = _digests(paths, rels, old.files, racy_s, numbers)
    base = base_key(version, options)
    base_hex = hashlib.sha256(base).hexdigest()
    per_run = len(RUN_FILE_SUFFIXES)
    beh_rels = rels[::per_run]  # RUN_FILE_SUFFIXES starts with _beh.tsv
    key_raw = np.zeros((len(beh_paths), DIGEST_BYTES), dtype=np.uint8)
    same = unchanged.reshape(-1, per_run).all(axis=1) if len(beh_paths) else np.zeros(0, dtype=bool)
    if old.base == base_hex and len(old.runs.rels):
        position = old.runs.positions()
        rows = np.array([position.get(r, -1) for r in beh_rels], dtype=np.int64)
        same &= rows >= 0
        key_raw[same] = old.runs.digests[rows[same]]
    else:
        same[:] = False
    hexes = raw.tobytes().hex()
    for i in np.flatnonzero(~same).tolist():
        h = hashlib.sha256(base)
        for k in range(i * per_run, (i + 1) * per_run):
            digest = hexes[64 * k : 64 * (k + 1)] if present[k] else "absent"
            h.update(f"\0{rels[k]}\0{digest}".encode())
        key_raw[i] = np.frombuffer(h.digest(), dtype=np.uint8)
    key_hex = key_raw.tobytes().hex()
    keys = [key_hex[64 * i : 64 * (i + 1)] for i in range(len(beh_paths))]
    runs = FileStates(beh_rels, np.zeros((len(beh_rels), 0), dtype=np.int64), key_raw)
    return RunKeys(keys, files, options, racy_s, runs, base_hex)


def _digests(
    paths: list[str], rels: list[str], old: FileStates, racy_s: float, numbers: np.ndarray | None
) -> tuple[np.ndarray, list[bool], np.ndarray, FileStates]:
    """Return each file's SHA-256, whether it is there, whether it is as recorded, and the new record.

    Only files whose size or time changed (or that are racy) are read. A file that is not there
    and was not recorded counts as unchanged.
    """
    numbers = stat_numbers(paths) if numbers is None else numbers.copy()
    position = old.positions()
    rows = np.array([position.get(r, -1) for r in rels], dtype=np.int64)
    known = (rows >= 0) & (numbers[:, 0] >= 0) & (numbers[:, 1] < old.written_ns - int(racy_s * 1e9))
    if len(old.rels):
        known &= (old.numbers[rows] == numbers).all(axis=1)
    raw = np.zeros((len(paths), DIGEST_BYTES), dtype=np.uint8)
    raw[known] = old.digests[rows[known]]
    for i in np.flatnonzero(~known):
        if numbers[i, 0] < 0:
            continue
        try:
            with open(paths[i], "rb") as f:
                raw[i] = np.frombuffer(hashlib.sha256(f.read()).digest(), dtype=np.uint8)
        except FileNotFoundError:  # deleted since its stat
            numbers[i] = (-1, 0)
    there = numbers[:, 0] >= 0
    unchanged = known | (~there & (rows < 0))
    kept = [r for r, p in zip(rels, there.tolist(), strict=True) if p]
    return raw, there.tolist(), unchanged, FileStates(kept, numbers[there], raw[there])
