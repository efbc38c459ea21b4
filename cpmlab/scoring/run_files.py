"""Find a dataset's run files and check their stat (standard library and numpy only: runs in a background process)."""

from __future__ import annotations

import os
import re

import numpy as np

BEH_NAME = re.compile(
    r"^sub-(?P<sub>[A-Za-z0-9]+)(?:_ses-(?P<ses>[A-Za-z0-9]+))?_task-(?P<task>[A-Za-z0-9]+)"
    r"(?:_acq-[A-Za-z0-9]+)?(?:_run-(?P<run>[0-9]+))?_beh\.tsv$"
)

RECORDING = "_recording-covas_physio"  # the continuous-rating recording (run_frames.COVAS)
RUN_FILE_SUFFIXES = ("_beh.tsv", "_beh.json", "_events.tsv", f"{RECORDING}.tsv.gz", f"{RECORDING}.json")


def run_file_paths(beh_paths: list[str]) -> list[str]:
    """Return every file a run's scores are read from, run by run (RUN_FILE_SUFFIXES order)."""
    return [beh[: -len("_beh.tsv")] + suffix for beh in beh_paths for suffix in RUN_FILE_SUFFIXES]


RunLabels = tuple[str, str | None, str, int | None]  # participant, session, task, run


def labels_from_names(beh_paths: list[str]) -> list[RunLabels | None]:
    """Return each run file's labels from its name (None for a name that is not a run's)."""
    return [
        (m["sub"], m["ses"], m["task"], int(m["run"]) if m["run"] else None) if m else None for m in _matches(beh_paths)
    ]


def labels_key(match: re.Match[str]) -> tuple[str, str, str, int]:
    """Sort key of a run from its name's labels: participant, session, task, run."""
    return (match["sub"], match["ses"] or "", match["task"], int(match["run"]) if match["run"] else 0)


def find_run_files(root: str) -> list[str]:
    """Return the path of every *_beh.tsv of the dataset (sub-*/[ses-*/]beh/), sorted as paths sort.

    Names are listed without asking each entry whether it is a folder: one that is not fails to
    be listed and is skipped, which costs less than 15,000 folders' worth of entry objects.
    """
    found: list[tuple[str, ...]] = []
    prefix = root + os.sep
    for sub in _names(root):
        if not sub.startswith("sub-"):
            continue
        sub_dir = prefix + sub
        for name in _names(sub_dir):  # one read of the participant's folder finds its sessions and beh/
            if name == "beh":
                found.extend((sub, "beh", file) for file in _beh_names(sub_dir + os.sep + "beh"))
            elif name.startswith("ses-"):
                found.extend((sub, name, "beh", file) for file in _beh_names(os.path.join(sub_dir, name, "beh")))
    found.sort()  # the order of the parts is the order of the paths
    return [os.path.join(root, *parts) for parts in found]


def sorted_by_run(paths: list[str]) -> list[str]:
    """Return run files sorted by participant, session, task and run (names that are not runs last, as found)."""
    keyed = [(m is None, labels_key(m) if m else ("", "", "", 0), i) for i, m in enumerate(_matches(paths))]
    return [paths[i] for *_, i in sorted(keyed)]


def _matches(paths: list[str]) -> list[re.Match[str] | None]:
    return [BEH_NAME.match(os.path.basename(p)) for p in paths]


def stat_numbers(paths: list[str]) -> np.ndarray:
    """Return each file's size and modification time (ns) as rows; size -1 for a file that is not there."""
    rows = []
    for path in paths:
        try:
            st = os.stat(path)
            rows.append((st.st_size, st.st_mtime_ns))
        except (FileNotFoundError, NotADirectoryError):
            rows.append((-1, 0))
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _names(folder: str) -> list[str]:
    """Return the names in a folder (none if it is not a readable folder)."""
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _beh_names(folder: str) -> list[str]:
    """Return the names of the run files (sub-*_beh.tsv) in a beh folder."""
    return [name for name in _names(folder) if name.endswith("_beh.tsv") and BEH_NAME.match(name)]
