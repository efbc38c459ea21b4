"""Per-run scores cached under derivatives/, keyed by the content of the run's files.

A run's key is a SHA-256 over the cpmlab version, the scoring options, the run's path and the
bytes of every file its scores are read from. A file's hash is read again only when its size
or modification time changed (or it was modified within RACY_S of the cache being written, as
git does), so checking 10,000 unchanged runs reads no file contents. An unreadable or
inconsistent cache is ignored with a warning: the runs are scored from their files.

The rows are kept in a base pair of tables and a small delta pair beside it. A score that adds a
few runs to a large cache writes only the delta (every row not in the base), so re-scoring
10,000 runs after adding one does not rewrite 10,000 rows; once the delta would exceed
DELTA_SHARE of the base, the base is rewritten whole and the delta removed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cpmlab import __version__
from cpmlab.scoring.file_states import FileStates, save_states
from cpmlab.scoring.frames import RUN
from cpmlab.scoring.layout import CACHE_DIR as CACHE_DIR  # where the cache lives, re-exported
from cpmlab.scoring.layout import cache_dir as cache_dir
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.progress import Progress
from cpmlab.scoring.run_keys import FORMAT, KeyRecord, RunKeys, old_files, run_keys

log = logging.getLogger(__name__)

KEY = "cache_key"
RACY_S = 2.0
DELTA_SHARE = 0.1  # the delta is written alone while it holds at most this share of the base's rows


class RunCache:
    """The cached score rows and plateau rows of a dataset's runs."""

    def __init__(self, directory: Path, root: Path, options: ScoringOptions) -> None:
        self.directory = directory
        self.root = root
        self.options = options
        # the files' size, mtime_ns and SHA-256 and the runs' keys, as found by keys()
        self._record = RunKeys([], FileStates(numbers=np.zeros((0, 2), dtype=np.int64)), {}, RACY_S)
        self.last_keys: list[str] | None = None  # the keys the last keys() call returned
        # the run files (_beh.tsv) and the size and mtime of the files they use (run_file_paths order), if known
        self.prestat: tuple[list[str], np.ndarray] | None = None
        self.prekeys: RunKeys | None = None  # the keys, if already computed (checked against the options)
        self._stored_files: KeyRecord | None = None
        self._stored_rows: tuple[pd.DataFrame, pd.DataFrame] | None = None
        self._held: tuple[list[str], pd.DataFrame, pd.DataFrame] | None = None  # rows to save (hold/save_held)
        self._base_keys: set[str] | None = None  # the keys of the base tables as read (None: not read or unusable)
        self._hits = np.zeros(0, dtype=bool)  # per key of the last lookup: its rows came from the cache

    @property
    def _paths(self) -> tuple[Path, Path, Path]:
        d = self.directory
        return d / "runs.parquet", d / "plateaus.parquet", d / "files.npz"

    @property
    def _delta_paths(self) -> tuple[Path, Path]:
        d = self.directory
        return d / "runs-delta.parquet", d / "plateaus-delta.parquet"

    def keys(self, beh_paths: Sequence[Path | str], progress: Progress | None = None) -> list[str]:
        """Return each run's key from the content of its files (hashing only files whose size or time changed)."""
        paths = [os.fspath(beh) for beh in beh_paths]
        found = self.prekeys
        # what the background scan found is used only for these very files, options and racy window
        scanned = self.prestat is not None and self.prestat[0] == paths
        if scanned and found is not None and found.racy_s == RACY_S and found.options == self.options.as_dict():
            result = found  # computed a moment ago, in the background (prescan.py)
        else:
            numbers = self.prestat[1] if scanned and self.prestat is not None else None
            old, self._stored_files = self._stored_files or self._old_files(), None
            result = run_keys(os.fspath(self.root), paths, self.options.as_dict(), __version__, old, RACY_S, numbers)
        self._record = result
        if progress is not None:
            progress.advance(len(paths))
        self.last_keys = result.keys
        return result.keys

    def _old_files(self) -> KeyRecord:
        return old_files(self.directory)

    def preload(self) -> None:
        """Read the cached rows now (e.g. while the files are checked in the background)."""
        self._stored_rows = self._read_rows()

    def _read_rows(self) -> tuple[list[pd.DataFrame], list[pd.DataFrame]] | None:
        """Return the row tables and plateau tables of the base and (if any) the delta, or None."""
        runs_path, plateaus_path, _ = self._paths
        self._base_keys = None
        if not runs_path.exists():
            return None
        try:
            rows = [pd.read_parquet(runs_path)]
            plateaus = [pd.read_parquet(plateaus_path)]
            delta_runs, delta_plateaus = self._delta_paths
            if delta_runs.exists():
                rows.append(pd.read_parquet(delta_runs))
                plateaus.append(pd.read_parquet(delta_plateaus))
            for part, plateau_part in zip(rows, plateaus, strict=True):
                if KEY not in part or KEY not in plateau_part or part[KEY].duplicated().any():
                    raise ValueError("no key column, or a key twice")
        except Exception as exc:
            log.warning(
                "ignoring the scoring cache in %s (%s); every run is scored from its files", self.directory, exc
            )
            return None
        self._base_keys = set(rows[0][KEY].tolist())
        return rows, plateaus

    def lookup(self, keys: Sequence[str]) -> tuple[list[pd.DataFrame], list[pd.DataFrame], set[int]]:
        """Return the cached row tables (index = position in keys), their plateau tables and the positions found."""
        stored, self._stored_rows = self._stored_rows or self._read_rows(), None
        if stored is None:
            return [], [], set()
        position = {k: i for i, k in enumerate(keys)}
        hit = np.zeros(len(keys) + 1, dtype=bool)  # the last slot: "not wanted" (-1)
        found_rows, found_plateaus = [], []
        # a base rewritten just before a crash may hold the delta's runs too: the base's rows count
        for rows, plateaus in zip(*stored, strict=True):
            # plain lists of keys: a lookup per key is much faster than isin on arrow-backed strings
            row_at = np.array([position.get(k, -1) for k in rows[KEY].tolist()], dtype=np.int64)
            plateau_at = np.array([position.get(k, -1) for k in plateaus[KEY].tolist()], dtype=np.int64)
            counts = np.bincount(plateau_at[plateau_at >= 0], minlength=len(keys))
            wanted = (row_at >= 0) & ~hit[row_at]
            complete = np.zeros(len(row_at), dtype=bool)
            n_plateaus = rows["covas_n_plateaus"].fillna(0).to_numpy()
            complete[wanted] = counts[row_at[wanted]] == n_plateaus[wanted]  # rows and plateaus saved together
            taken = row_at[complete]
            hit[taken] = True
            found = rows[complete].drop(columns=KEY)
            found.index = taken
            is_taken = np.zeros(len(keys) + 1, dtype=bool)
            is_taken[taken] = True
            take = is_taken[plateau_at]
            picked = plateaus[take].drop(columns=KEY)
            picked.insert(0, RUN, plateau_at[take])
            found_rows.append(found)
            found_plateaus.append(picked)
        self._hits = hit[:-1]
        return found_rows, found_plateaus, set(np.flatnonzero(self._hits).tolist())

    def hold(self, keys: Sequence[str], sessions: pd.DataFrame, plateau_table: pd.DataFrame) -> None:
        """Keep these runs' rows to be saved by save_held (the scoring goes on meanwhile)."""
        self._held = (list(keys), sessions, plateau_table)

    def save_held(self) -> None:
        """Save the rows given to hold, if not saved yet."""
        held, self._held = self._held, None
        if held is not None:
            self.save(*held)

    def save(self, keys: Sequence[str], sessions: pd.DataFrame, plateau_table: pd.DataFrame) -> None:
        """Save these runs' rows (through temporary files): only the delta beside the base when few are new."""
        self.directory.mkdir(parents=True, exist_ok=True)
        keys = list(keys)
        base = self._base_keys
        # rows to add: runs not in the base, and runs scored afresh (a base row without its plateaus)
        scored = ~self._hits if len(self._hits) == len(keys) else np.ones(len(keys), dtype=bool)
        new = np.array([k not in base for k in keys], dtype=bool) | scored if base is not None else None
        delta_only = new is not None and base is not None and int(new.sum()) <= DELTA_SHARE * len(base)
        take = new if delta_only and new is not None else np.ones(len(keys), dtype=bool)
        rows = sessions[take].copy()
        rows[KEY] = [k for k, t in zip(keys, take.tolist(), strict=True) if t]
        run_at = plateau_table[RUN].to_numpy(dtype=np.int64)
        plateaus = plateau_table[take[run_at]].copy() if len(run_at) else plateau_table.copy()
        plateaus[KEY] = np.asarray(keys, dtype=object)[plateaus[RUN].to_numpy(dtype=np.int64)]
        plateaus = plateaus.drop(columns=RUN)
        for column in ("step_id", "role", "phase"):
            plateaus[column] = plateaus[column].astype(object)
        runs_path, plateaus_path, files_path = self._delta_paths + self._paths[2:] if delta_only else self._paths
        for path, write in (
            (plateaus_path, lambda p: plateaus.to_parquet(p, index=False)),
            (runs_path, lambda p: rows.to_parquet(p, index=False)),
            (files_path, lambda p: save_states(p, self._record.tables(), FORMAT)),
        ):
            tmp = path.with_name(path.name + ".tmp")
            write(tmp)
            os.replace(tmp, path)
        if not delta_only:  # the base holds every row now
            for path in self._delta_paths:
                path.unlink(missing_ok=True)
        (self.directory / "files.json").unlink(missing_ok=True)  # where format 1 kept the file hashes
