"""Score runs in batches (one read and one set of grouped operations per batch), optionally in processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from cpmlab.scoring.cache import RunCache
from cpmlab.scoring.columns import session_columns
from cpmlab.scoring.frames import RUN
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.plateau_frames import PLATEAU_TABLE_COLUMNS
from cpmlab.scoring.progress import NoProgress, Progress
from cpmlab.scoring.run_frames import read_batch
from cpmlab.scoring.session_table import typed_sessions
from cpmlab.scoring.vectorised import score_batch

BATCH_RUNS = 500  # runs read and scored together: bounds the memory of the continuous ratings


def score_batch_files(paths: Sequence[Path], options: ScoringOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and score one batch of runs; plateau rows carry the run's position in paths."""
    return score_batch(read_batch(paths), options, list(session_columns(options)))


def _batches(indices: Sequence[int]) -> list[list[int]]:
    return [list(indices[i : i + BATCH_RUNS]) for i in range(0, len(indices), BATCH_RUNS)]


def _score(
    paths: Sequence[Path | str], todo: Sequence[int], options: ScoringOptions, jobs: int, progress: Progress
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    rows, plateaus = [], []
    batches = _batches(todo)

    def collect(batch: list[int], result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        r, p = result
        r.index = batch
        p[RUN] = np.asarray(batch, dtype=np.int64)[p[RUN].to_numpy()]
        rows.append(r)
        plateaus.append(p)
        progress.advance(len(batch))

    if jobs > 1 and len(batches) > 1:
        context = multiprocessing.get_context("spawn")  # no fork of a process that may run threads
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(score_batch_files, [Path(paths[i]) for i in b], options) for b in batches]
            for batch, future in zip(batches, futures, strict=True):
                collect(batch, future.result())
    else:
        for batch in batches:
            collect(batch, score_batch_files([Path(paths[i]) for i in batch], options))
    return rows, plateaus


def _session_table(cached: list[pd.DataFrame], new: list[pd.DataFrame], options: ScoringOptions) -> pd.DataFrame:
    """Return all rows in run order with the declared column types.

    A column's type never depends on the other rows (session_table.py), and cached rows were saved
    typed: only the new rows are typed, unless a cached column came back with another type.
    """
    columns = list(session_columns(options))
    expected = typed_sessions(pd.DataFrame(columns=columns), options).dtypes
    parts = [r.reindex(columns=columns) for r in cached] + [
        typed_sessions(r.reindex(columns=columns), options) for r in new
    ]
    if parts and all(part.dtypes.equals(expected) for part in parts):
        return pd.concat(parts).sort_index().reset_index(drop=True)
    sessions = pd.concat(parts or [pd.DataFrame(columns=columns)])
    return typed_sessions(sessions.sort_index().reset_index(drop=True), options)


def score_paths(
    beh_paths: Sequence[Path | str],
    options: ScoringOptions,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    cache: RunCache | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Return the typed session table, the plateau table (run_index = position) and how many runs were scored.

    With a cache, the rows are held for cache.save_held() (so the caller may save them in the background).
    """
    progress = progress or NoProgress()
    paths = list(beh_paths)
    rows: list[pd.DataFrame] = []
    plateaus: list[pd.DataFrame] = []
    todo = list(range(len(paths)))
    keys: list[str] = []
    if cache is not None:
        progress.start("checking files", len(paths))
        keys = cache.keys(paths, progress)
        cached_rows, cached_plateaus, hits = cache.lookup(keys)
        rows.extend(cached_rows)
        plateaus.extend(cached_plateaus)
        todo = [i for i in range(len(paths)) if i not in hits]
    progress.start("scoring runs", len(todo))
    new_rows, new_plateaus = _score(paths, todo, options, jobs, progress)
    sessions = _session_table(rows, new_rows, options)
    table = [p for p in (*plateaus, *new_plateaus) if len(p)]
    plateau_table = (
        pd.concat(table, ignore_index=True) if table else pd.DataFrame(columns=[RUN, *PLATEAU_TABLE_COLUMNS])
    )
    plateau_table = plateau_table.iloc[np.argsort(plateau_table[RUN].to_numpy(), kind="stable")]
    plateau_table = plateau_table.reset_index(drop=True)
    if cache is not None:
        cache.hold(keys, sessions, plateau_table)  # saved by cache.save_held(), here or in the background
    return sessions, plateau_table, len(todo)
