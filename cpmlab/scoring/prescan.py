"""The file checks of a re-score that need nothing but the dataset and the options: started first, in the background.

Which runs there are, the stat of their files and their cache keys, and what the output
folders hold (for writing only what changed), are found while pandas is imported and the runs
are scored (background.py). Nothing here writes: the results are exactly what the scoring would
find itself a moment later, and it uses them only when they are about the same dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cpmlab import __version__
from cpmlab.scoring.background import Background
from cpmlab.scoring.file_sync import TreeScan, scan_folder
from cpmlab.scoring.layout import cache_dir, output_folders, written_manifest
from cpmlab.scoring.run_files import (
    RunLabels,
    find_run_files,
    labels_from_names,
    run_file_paths,
    sorted_by_run,
    stat_numbers,
)
from cpmlab.scoring.run_keys import RACY_S, RunKeys, old_files, run_keys


@dataclass
class RawScan:
    """A dataset's run files (sorted by participant, session, task, run) and the stat of every file they use."""

    root: str
    beh_paths: list[str]
    numbers: np.ndarray  # size (-1: not there) and mtime_ns per file of file_paths
    keys: RunKeys | None = None  # the runs' cache keys, when the options were given
    labels: list[RunLabels | None] = field(default_factory=list)  # per run: sub, ses, task, run (None: not a run name)

    @property
    def file_paths(self) -> list[str]:
        """Every file the runs' scores are read from (run_file_paths order: made here, not sent by the child)."""
        return run_file_paths(self.beh_paths)


def scan_raw(root: str, options: dict[str, Any] | None = None) -> RawScan:
    """Find the runs of a dataset and stat their files; with the scoring options, also compute their cache keys."""
    beh_paths = sorted_by_run(find_run_files(root))
    scan = RawScan(root, beh_paths, stat_numbers(run_file_paths(beh_paths)), labels=labels_from_names(beh_paths))
    if options is not None:
        old = old_files(cache_dir(Path(root)))
        scan.keys = run_keys(root, beh_paths, options, __version__, old, RACY_S, scan.numbers)
    return scan


def scan_output(dataset: Path, index: int) -> TreeScan:
    """Scan one of the folders cpmlab score writes (output_folders order), with its manifest."""
    out, name = output_folders(dataset)[index]
    return scan_folder(out, written_manifest(dataset, name))


class Prescan:
    """The raw scan and the output scans of a dataset, started in the background.

    The child sends the raw scan, then the small group folder's scan, then the per-run folder's
    (the largest): cpmlab score reads the first two, forks the writer of derivatives/cpmlab, and
    hands the rest of the pipe over to it (release), so the per-run folder's scan is waited for
    and unpickled beside the group tables, not before them.
    """

    def __init__(self, dataset: Path, options: dict[str, Any] | None = None, fork: bool | None = None) -> None:
        self.dataset = dataset
        root = os.fspath(dataset)
        steps = [lambda: scan_raw(root, options), lambda: scan_output(dataset, 1), lambda: scan_output(dataset, 0)]
        self._work = Background(steps, fork=fork)

    def raw(self) -> RawScan:
        """Return the runs and the stat of their files."""
        return self._work.result(0)  # type: ignore[no-any-return]

    def group_scan(self) -> TreeScan:
        """Return what derivatives/cpmlab-group holds (read it before forking a process that takes run_scan)."""
        return self._work.result(1)  # type: ignore[no-any-return]

    def run_scan(self) -> TreeScan:
        """Return what derivatives/cpmlab holds (from the child's pipe, or scanned here once released)."""
        return self._work.result(2)  # type: ignore[no-any-return]

    def release(self) -> None:
        """Stop reading the child's pipe here: a forked process reads the rest; asked here, it is scanned here."""
        self._work.close()

    def close(self) -> None:
        """Stop the background work."""
        self._work.close()
