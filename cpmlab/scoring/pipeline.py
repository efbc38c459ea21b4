"""Score a whole dataset: every run, then participant, group, contrast and retest tables per task and condition."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.batches import score_paths
from cpmlab.scoring.cache import RunCache
from cpmlab.scoring.dataset import Run, check_dataset, find_runs, run_key
from cpmlab.scoring.frames import RUN
from cpmlab.scoring.group import (
    active_sham_contrast,
    group_summary,
    long_scores,
    participant_means,
    participant_summary,
    session_values,
)
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.prescan import RawScan
from cpmlab.scoring.progress import Progress
from cpmlab.scoring.retest import retest_pairs, retest_table
from cpmlab.scoring.run_files import RunLabels, labels_from_names


class PlateauView(Mapping[int, pd.DataFrame]):
    """Plateau summaries by run index (position in ScoredDataset.runs), sliced from one table on access."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        runs = table[RUN].to_numpy()
        self._bounds: dict[int, tuple[int, int]] = {}
        if len(runs):
            edges = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1], True])
            self._bounds = {int(runs[a]): (int(a), int(b)) for a, b in itertools.pairwise(edges)}

    def __getitem__(self, index: int) -> pd.DataFrame:
        a, b = self._bounds[index]
        return self.table.iloc[a:b].drop(columns=RUN).reset_index(drop=True)

    def __iter__(self) -> Iterator[int]:
        return iter(self._bounds)

    def __len__(self) -> int:
        return len(self._bounds)


@dataclass
class ScoredDataset:
    """Everything the scoring computed for one dataset."""

    root: Path
    options: ScoringOptions
    runs: list[Run]
    sessions: pd.DataFrame
    plateaus: Mapping[int, pd.DataFrame] = field(default_factory=dict)  # index in runs -> plateau summaries
    participants: pd.DataFrame = field(default_factory=pd.DataFrame)
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    contrast: pd.DataFrame = field(default_factory=pd.DataFrame)
    retest_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    retest: pd.DataFrame = field(default_factory=pd.DataFrame)
    rescored: int = 0  # runs scored from their files (the others came from the cache)
    cache_keys: list[str] | None = None  # each run's cache key (by position), when scored with the cache
    cache_dir: Path | None = None  # the cache folder, when scored with the cache
    cache: RunCache | None = field(default=None, repr=False)  # holds the new rows until save_cache

    def save_cache(self) -> None:
        """Save the cache rows of this scoring, once (nothing when scored without the cache)."""
        cache, self.cache = self.cache, None
        if cache is not None:
            cache.save_held()

    def take_cache_save(self) -> Callable[[], None]:
        """Return the cache save to be called elsewhere (e.g. in a background process); save_cache then does nothing."""
        cache, self.cache = self.cache, None
        return cache.save_held if cache is not None else (lambda: None)


def _run(beh_path: str, labels: RunLabels | None) -> Run:
    if labels is None:
        raise CpmlabError(f"{beh_path} does not have a BIDS behavioural file name")
    return Run(*labels, beh_path[: -len("_beh.tsv")])


def score_runs(
    runs: list[Run],
    options: ScoringOptions,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    cache: RunCache | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Return the session table (one row per run), the plateau table (run_index = position) and runs scored."""
    beh_paths = [f"{r.stem}_beh.tsv" for r in runs]
    return score_paths(beh_paths, options, jobs=jobs, progress=progress, cache=cache)


def score_dataset(
    root: str | Path,
    options: ScoringOptions | None = None,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
    raw: Callable[[], RawScan] | None = None,
    after_runs: Callable[[ScoredDataset], object] | None = None,
) -> ScoredDataset:
    """Read a BIDS dataset and compute every score and table (only the cache, if given, is written).

    raw: returns the dataset's runs and the stat of their files as prescan.scan_raw found them
    (asked for only after the cache is read), or None to look here.
    after_runs: called with the dataset once every run is scored, before the group tables (which
    it must not read): cpmlab score starts writing the per-run files there.
    """
    options = options or ScoringOptions()
    path = check_dataset(root)
    cache = RunCache(cache_dir, path, options) if cache_dir is not None else None
    if cache is not None:
        cache.preload()
    scan = raw() if raw is not None else None
    labels: list[RunLabels | None] = []
    if scan is not None and scan.root == os.fspath(path):
        files, labels = scan.beh_paths, scan.labels
        if cache is not None:
            cache.prestat = (scan.beh_paths, scan.numbers)
            cache.prekeys = scan.keys
    else:
        files = [os.fspath(p) for p in sorted(find_runs(path), key=run_key)]
    if not files:
        raise CpmlabError(f"{path} has no sessions to score (no sub-*/[ses-*/]beh/*_beh.tsv files)")
    if len(labels) != len(files):
        labels = labels_from_names(files)
    runs = [_run(path, lab) for path, lab in zip(files, labels, strict=True)]
    sessions, plateau_table, rescored = score_runs(runs, options, jobs=jobs, progress=progress, cache=cache)
    scored = ScoredDataset(
        root=path,
        options=options,
        runs=runs,
        sessions=sessions,
        plateaus=PlateauView(plateau_table),
        rescored=rescored,
        cache_keys=cache.last_keys if cache is not None else None,
        cache_dir=cache_dir if cache is not None else None,
        cache=cache,
    )
    if after_runs is not None:
        after_runs(scored)
    scored.save_cache()  # unless after_runs took it (to save it in the background)
    step: Callable[[str], None] = progress.step if progress is not None else (lambda _name: None)
    step("group tables")
    long = long_scores(sessions)
    values = session_values(long)  # computed once for every table
    means = participant_means(values)
    scored.participants = participant_summary(long, options, values)
    scored.groups = group_summary(long, options, values, means)
    scored.contrast = active_sham_contrast(long, options, values, means)
    scored.retest_pairs = retest_pairs(long, options, values)
    scored.retest = retest_table(scored.retest_pairs, options)
    return scored
