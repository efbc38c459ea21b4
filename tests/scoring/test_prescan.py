"""The background scan finds what the scoring would find itself; cpmlab score with it writes the same files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scoring_helpers import simple_session

from cpmlab.scoring import file_sync
from cpmlab.scoring.background import Background
from cpmlab.scoring.dataset import find_runs, run_key
from cpmlab.scoring.derivatives import derivative_root, group_root
from cpmlab.scoring.layout import output_folders, written_manifest
from cpmlab.scoring.prescan import Prescan, scan_output, scan_raw
from cpmlab.scoring.run_files import RECORDING, run_file_paths
from cpmlab.scoring.run_frames import COVAS
from cpmlab.scoring.synthetic import generate_dataset, write_run


def test_the_run_files_are_those_the_scoring_reads() -> None:
    """The recording suffix the scan stats is the continuous-rating recording the scoring reads."""
    assert f"_recording-{COVAS[0]}_{COVAS[1]}" == RECORDING


def test_scan_raw_finds_the_runs_in_scoring_order_and_stats_their_files(tmp_path: Path) -> None:
    """Runs sorted as score_dataset sorts them; one size and time per file; -1 for a file that is not there."""
    root = tmp_path / "ds"
    generate_dataset(root, 3, 2, seed=2, recordings=("covas",))
    next(root.glob("sub-002/ses-1/beh/*_recording-covas_physio.json")).unlink()
    scan = scan_raw(os.fspath(root))
    assert scan.beh_paths == [os.fspath(p) for p in sorted(find_runs(root), key=run_key)]
    assert scan.file_paths == run_file_paths(scan.beh_paths)
    expected = [(os.stat(p).st_size, os.stat(p).st_mtime_ns) if os.path.exists(p) else (-1, 0) for p in scan.file_paths]
    assert scan.numbers.tolist() == [list(e) for e in expected]
    assert (scan.numbers[:, 0] == -1).sum() == 1


def _scored_dataset(tmp_path: Path) -> Path:
    """Two participants x two sessions, scored once by cpmlab score (so both output folders and records exist)."""
    root = tmp_path / "ds"
    generate_dataset(root, 2, 2, seed=4)
    _score(root)
    return root


def test_the_background_scan_equals_a_scan_here(tmp_path: Path) -> None:
    """Forked or not, the scans of a scored dataset carry the same runs, files, folders and stats."""
    root = _scored_dataset(tmp_path)
    here, there = Prescan(root, fork=False), Prescan(root, fork=True)
    a, b = here.raw(), there.raw()
    assert (a.beh_paths, a.file_paths) == (b.beh_paths, b.file_paths) and np.array_equal(a.numbers, b.numbers)
    for x, y in zip((here.run_scan(), here.group_scan()), (there.run_scan(), there.group_scan()), strict=True):
        assert (x.root, x.manifest, x.tree.files, x.tree.folder_stats) == (
            y.root,
            y.manifest,
            y.tree.files,
            y.tree.folder_stats,
        )
        assert np.array_equal(x.now, y.now) and x.old_files.rels == y.old_files.rels
    there.close()
    assert [scan_output(root, i).root for i in (0, 1)] == [os.fspath(out) for out, _ in output_folders(root)]
    assert all(written_manifest(root, name).is_file() for _, name in output_folders(root))


def test_a_forked_process_takes_over_the_per_run_folder_scan(tmp_path: Path) -> None:
    """After the group scan is read here, a forked child reads the per-run folder's scan from the same pipe."""
    root = _scored_dataset(tmp_path)
    prescan = Prescan(root, fork=True)
    assert prescan.raw().beh_paths and prescan.group_scan().root == os.fspath(group_root(root))
    taker = Background(
        [lambda: (lambda s: (s.root, sorted(s.tree.files), s.now.tolist()))(prescan.run_scan())], fork=True
    )
    assert taker.forked
    prescan.release()  # this process no longer reads the pipe
    direct = scan_output(root, 0)
    assert taker.result(0) == (direct.root, sorted(direct.tree.files), direct.now.tolist())
    assert prescan.run_scan().root == os.fspath(derivative_root(root))  # asked here after release: scanned here


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _score(root: Path, *extra: str) -> None:
    """Run cpmlab score in a fresh single-threaded process, so the checks run in a forked child."""
    done = subprocess.run([sys.executable, "-m", "cpmlab.cli.main", "score", str(root), *extra], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_a_rescore_with_the_background_scan_writes_what_a_full_score_writes(tmp_path: Path) -> None:
    """Score, wait out the racy window, add a run and a stray file, score again: the same bytes as --no-cache."""
    root = tmp_path / "ds"
    generate_dataset(root, 3, 2, seed=6, recordings=("covas",))
    _score(root)
    time.sleep(file_sync.RACY_S + 0.2)  # so the records vouch for what the first score wrote
    write_run(root, simple_session("003", "9", "sham", [60, 65], [62, 61], recordings=["covas"]))
    stray = next(derivative_root(root).glob("sub-001/ses-1/beh")) / "stray.tsv"
    stray.write_text("x\n")
    _score(root)
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("derivatives"))
    _score(fresh, "--no-cache")
    for folder in (derivative_root, group_root):
        assert _tree_bytes(folder(root)) == _tree_bytes(folder(fresh))
    assert not stray.exists()
