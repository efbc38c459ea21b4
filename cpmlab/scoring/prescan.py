"""The file checks of a re-score that need nothing but the dataset: started first, in the background.

Which runs there are and the stat of their files (for the cache keys), and what the output
folders hold (for writing only what changed), are found while pandas is imported and the runs
are scored (background.py). Nothing here writes: the results are exactly what the scoring would
find itself a moment later, and it uses them only when they are about the same dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpmlab.scoring.background import Background
from cpmlab.scoring.file_sync import TreeScan, scan_folder
from cpmlab.scoring.layout import output_folders, written_manifest
from cpmlab.scoring.run_files import find_run_files, run_file_paths, sorted_by_run, stat_numbers


@dataclass
class RawScan:
    """A dataset's run files (sorted by participant, session, task, run) and the stat of every file they use."""

    root: str
    beh_paths: list[str]
    file_paths: list[str]
    numbers: np.ndarray  # size (-1: not there) and mtime_ns per file of file_paths


def scan_raw(root: str) -> RawScan:
    """Find the runs of a dataset and stat their files."""
    beh_paths = sorted_by_run(find_run_files(root))
    file_paths = run_file_paths(beh_paths)
    return RawScan(root, beh_paths, file_paths, stat_numbers(file_paths))


def scan_outputs(dataset: Path) -> list[TreeScan]:
    """Scan the folders cpmlab score writes, with their manifests."""
    return [scan_folder(out, written_manifest(dataset, name)) for out, name in output_folders(dataset)]


class Prescan:
    """The raw scan and the output scans of a dataset, started in the background."""

    def __init__(self, dataset: Path, fork: bool | None = None) -> None:
        self.dataset = dataset
        root = os.fspath(dataset)
        self._work = Background([lambda: scan_raw(root), lambda: scan_outputs(dataset)], fork=fork)

    def raw(self) -> RawScan:
        """Return the runs and the stat of their files."""
        return self._work.result(0)  # type: ignore[no-any-return]

    def outputs(self) -> list[TreeScan]:
        """Return what the output folders hold."""
        return self._work.result(1)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the background work."""
        self._work.close()
