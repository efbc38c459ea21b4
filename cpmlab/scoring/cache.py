"""Per-run scores cached under derivatives/, keyed by the content of the run's files.

A run's key is a SHA-256 over the cpmlab version, the scoring options, the run's path and the
bytes of every file its scores are read from. A file's hash is read again only when its size
or modification time changed (or it was modified within RACY_S of the cache being written, as
git does), so checking 10,000 unchanged runs reads no file contents. An unreadable or
inconsistent cache is ignored with a warning: the runs are scored from their files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab import __version__
from cpmlab.scoring.frames import RUN
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.progress import Progress
from cpmlab.scoring.run_frames import COVAS

log = logging.getLogger(__name__)

CACHE_DIR = Path("derivatives", ".cpmlab-cache")  # hidden: BIDS validators skip it; delete it to re-score all
FORMAT = 1
KEY = "cache_key"
RACY_S = 2.0
_PROGRESS_EVERY = 500


def cache_dir(dataset: Path) -> Path:
    """Return DATASET/derivatives/.cpmlab-cache."""
    return dataset / CACHE_DIR


_RECORDING = f"_recording-{COVAS[0]}_{COVAS[1]}"
RUN_FILE_SUFFIXES = ("_beh.tsv", "_beh.json", "_events.tsv", f"{_RECORDING}.tsv.gz", f"{_RECORDING}.json")


class RunCache:
    """The cached score rows and plateau rows of a dataset's runs."""

    def __init__(self, directory: Path, root: Path, options: ScoringOptions) -> None:
        self.directory = directory
        self.root = root
        self.options = options
        self._files: dict[str, list[Any]] = {}  # relative path -> [size, mtime_ns, sha256]
        self._written_ns = 0
        self.last_keys: list[str] | None = None  # the keys the last keys() call returned

    @property
    def _paths(self) -> tuple[Path, Path, Path]:
        d = self.directory
        return d / "runs.parquet", d / "plateaus.parquet", d / "files.json"

    def _load_files(self) -> None:
        try:
            state = json.loads(self._paths[2].read_text(encoding="utf-8"))
            if state.get("format") == FORMAT and isinstance(state.get("files"), dict):
                self._files = state["files"]
                self._written_ns = int(state.get("written_ns", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            self._files = {}

    def _file_hash(self, path: str, rel: str) -> str:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return "absent"
        known = self._files.get(rel)
        racy = st.st_mtime_ns >= self._written_ns - int(RACY_S * 1e9)
        if known and known[0] == st.st_size and known[1] == st.st_mtime_ns and not racy:
            return str(known[2])
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self._files[rel] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def keys(self, beh_paths: Sequence[Path], progress: Progress | None = None) -> list[str]:
        """Return each run's key from the content of its files."""
        self._load_files()
        base = json.dumps([FORMAT, __version__, self.options.as_dict()], sort_keys=True).encode()
        root = os.fspath(self.root) + os.sep
        keys = []
        for i, beh in enumerate(beh_paths):
            h = hashlib.sha256(base)
            stem = os.fspath(beh)[: -len("_beh.tsv")]  # plain strings: 50,000 files on a large dataset
            for suffix in RUN_FILE_SUFFIXES:
                path = stem + suffix
                rel = path[len(root) :].replace(os.sep, "/") if path.startswith(root) else path
                h.update(f"\0{rel}\0{self._file_hash(path, rel)}".encode())
            keys.append(h.hexdigest())
            if progress is not None and (i + 1) % _PROGRESS_EVERY == 0:
                progress.advance(_PROGRESS_EVERY)
        if progress is not None:
            progress.advance(len(keys) % _PROGRESS_EVERY)
        self.last_keys = keys
        return keys

    def lookup(self, keys: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, set[int]]:
        """Return the cached rows (index = position in keys), their plateau rows and the positions found."""
        runs_path, plateaus_path, _ = self._paths
        empty = pd.DataFrame(), pd.DataFrame(), set()
        if not runs_path.exists():
            return empty
        try:
            rows = pd.read_parquet(runs_path)
            plateaus = pd.read_parquet(plateaus_path)
            if KEY not in rows or KEY not in plateaus or rows[KEY].duplicated().any():
                raise ValueError("no key column, or a key twice")
        except Exception as exc:
            log.warning(
                "ignoring the scoring cache in %s (%s); every run is scored from its files", self.directory, exc
            )
            return empty
        position = {k: i for i, k in enumerate(keys)}
        rows = rows[rows[KEY].isin(position)]
        counts = plateaus[KEY].value_counts()
        found = counts.reindex(rows[KEY]).fillna(0).to_numpy()
        rows = rows[found == rows["covas_n_plateaus"].fillna(0).to_numpy()]  # rows and plateaus saved together
        rows.index = [position[k] for k in rows[KEY]]
        plateaus = plateaus[plateaus[KEY].isin(set(rows[KEY]))].copy()
        plateaus.insert(0, RUN, np.array([position[k] for k in plateaus[KEY]], dtype=np.int64))
        return rows.drop(columns=KEY), plateaus.drop(columns=KEY), set(rows.index)

    def save(self, keys: Sequence[str], sessions: pd.DataFrame, plateau_table: pd.DataFrame) -> None:
        """Replace the cache with these runs' rows (written to temporary files, then renamed)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        rows = sessions.copy()
        rows[KEY] = list(keys)
        plateaus = plateau_table.copy()
        plateaus[KEY] = np.asarray(keys, dtype=object)[plateaus[RUN].to_numpy(dtype=np.int64)]
        plateaus = plateaus.drop(columns=RUN)
        for column in ("step_id", "role", "phase"):
            plateaus[column] = plateaus[column].astype(object)
        runs_path, plateaus_path, files_path = self._paths
        state = {"format": FORMAT, "written_ns": time.time_ns(), "files": self._files}
        for path, write in (
            (plateaus_path, lambda p: plateaus.to_parquet(p, index=False)),
            (runs_path, lambda p: rows.to_parquet(p, index=False)),
            (files_path, lambda p: p.write_text(json.dumps(state), encoding="utf-8")),
        ):
            tmp = path.with_name(path.name + ".tmp")
            write(tmp)
            os.replace(tmp, path)
