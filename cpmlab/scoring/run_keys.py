"""Each run's cache key from the content of its files (standard library and numpy only: runs in the background).

A run's key is a SHA-256 over the cache format, the cpmlab version, the scoring options, the
run's path and the SHA-256 of every file its scores are read from. A file is hashed again only
when its size or modification time differs from the record of the last score (files.npz), or
when it was modified within racy_s of that record being written (a change within the clock's
resolution could otherwise go unseen, as git knows).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
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
    """Each run's key, and the record of the files they were computed from (to save with the cache)."""

    keys: list[str]
    files: FileStates
    options: dict[str, Any]
    racy_s: float


def base_key(version: str, options: dict[str, Any]) -> bytes:
    """Return what every run's key starts from: format, version and options."""
    return json.dumps([FORMAT, version, options], sort_keys=True).encode()


def old_files(directory: Path) -> FileStates:
    """Return the file record of the last score (empty when there is none or it cannot be read)."""
    tables = load_states(directory / FILES_RECORD, FORMAT, {"files": 2})
    return tables["files"] if tables is not None else FileStates(numbers=np.zeros((0, 2), dtype=np.int64))


def run_keys(
    root: str,
    beh_paths: list[str],
    options: dict[str, Any],
    version: str,
    old: FileStates,
    racy_s: float,
    numbers: np.ndarray | None = None,
) -> RunKeys:
    """Return each run's key; numbers: the files' size and mtime if already found (run_file_paths order)."""
    paths = run_file_paths(beh_paths)
    prefix = root + os.sep
    rels = [p[len(prefix) :].replace(os.sep, "/") if p.startswith(prefix) else p for p in paths]
    digests, files = _digests(paths, rels, old, racy_s, numbers)
    base = base_key(version, options)
    per_run = len(RUN_FILE_SUFFIXES)
    keys = []
    for i in range(len(beh_paths)):
        h = hashlib.sha256(base)
        for k in range(i * per_run, (i + 1) * per_run):
            h.update(f"\0{rels[k]}\0{digests[k]}".encode())
        keys.append(h.hexdigest())
    return RunKeys(keys, files, options, racy_s)


def _digests(
    paths: list[str], rels: list[str], old: FileStates, racy_s: float, numbers: np.ndarray | None
) -> tuple[list[str], FileStates]:
    """Return each file's SHA-256 (hex; "absent" for a missing file) and the new record, reading only changed files."""
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
    present = numbers[:, 0] >= 0
    kept = [r for r, p in zip(rels, present.tolist(), strict=True) if p]
    hexes = raw.tobytes().hex()
    digests = [hexes[64 * i : 64 * (i + 1)] if p else "absent" for i, p in enumerate(present.tolist())]
    return digests, FileStates(kept, numbers[present], raw[present])
