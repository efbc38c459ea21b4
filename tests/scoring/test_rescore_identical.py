"""A cached re-score after one added run writes exactly the files a full --no-cache score writes; runs are found as by glob."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from scoring_helpers import simple_session

from cpmlab.cli.main import main
from cpmlab.scoring import cache as cache_module
from cpmlab.scoring.cache import cache_dir
from cpmlab.scoring.dataset import _BEH_NAME, find_runs
from cpmlab.scoring.derivatives import derivative_root, group_root
from cpmlab.scoring.line_cache import load_lines
from cpmlab.scoring.synthetic import generate_dataset, write_run


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_rescore_after_one_added_run_is_byte_identical_to_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Score with the cache, add one run, score again: every derivative file equals a --no-cache score of a copy."""
    monkeypatch.setattr(cache_module, "RACY_S", -1e9)  # trust size + mtime at once, so the cached path is taken
    root = tmp_path / "ds"
    generate_dataset(root, 4, 2, seed=5)
    assert main(["score", str(root)]) == 0
    write_run(root, simple_session("002", "9", "sham", [60, 65], [62, 61], recordings=["covas"]))
    assert main(["score", str(root)]) == 0
    stored = load_lines(cache_dir(root.resolve()))
    assert stored is not None and len(stored.rows) == 4 * 2 + 1  # the next score takes these lines
    _same_files_as_no_cache(root, tmp_path / "fresh", "ses-9")


def test_rescore_after_a_changed_rating_rewrites_that_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing one rating after a cached score: the re-score writes exactly what a --no-cache score writes."""
    monkeypatch.setattr(cache_module, "RACY_S", -1e9)
    root = tmp_path / "ds"
    generate_dataset(root, 3, 2, seed=8)
    assert main(["score", str(root)]) == 0
    beh = next(root.glob("sub-002/ses-1/beh/*_beh.tsv"))
    lines = beh.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split("\t")
    at = header.index("rating")
    for n, line in enumerate(lines[1:], start=1):
        cells = line.rstrip("\n").split("\t")
        if cells[at] not in ("n/a", ""):
            cells[at] = str(float(cells[at]) + 7.0)
            lines[n] = "\t".join(cells) + "\n"
            break
    beh.write_text("".join(lines))
    before = (derivative_root(root.resolve()) / beh.relative_to(root).parent).glob("*_desc-cpm_beh.tsv")
    old = {p.name: p.read_bytes() for p in before}
    assert main(["score", str(root)]) == 0
    after = _same_files_as_no_cache(root, tmp_path / "fresh", "ses-1")
    changed = [n for n, data in old.items() if after[f"{beh.relative_to(root).parent}/{n}"] != data]
    assert len(changed) == 1


def _same_files_as_no_cache(root: Path, fresh: Path, session: str) -> dict[str, bytes]:
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("derivatives"))
    assert main(["score", str(fresh), "--no-cache"]) == 0
    for folder in (group_root, derivative_root):
        cached, full = _tree_bytes(folder(root.resolve())), _tree_bytes(folder(fresh.resolve()))
        assert folder is group_root or any(session in name for name in cached)
        assert cached.keys() == full.keys()
        for name, data in full.items():
            assert cached[name] == data, name
    return cached


def test_find_runs_matches_glob_order_and_skips_other_files(tmp_path: Path) -> None:
    """find_runs returns the glob's run files in sorted path order, without non-run files or folders."""
    root = tmp_path / "ds"
    generate_dataset(root, 3, 2, seed=2)
    write_run(root, simple_session("001", "10", "sham", [50, 60], [40, 30]))
    (root / "sub-001" / "beh").mkdir(parents=True, exist_ok=True)
    (root / "sub-001" / "beh" / "sub-001_task-cpm_beh.tsv").write_text("about\n")
    (root / "sub-001" / "beh" / "notes_beh.tsv").write_text("x\n")
    (root / "sub-002" / "ses-zz").write_text("not a folder\n")
    (root / "sub-002" / "ses-1" / "beh" / "sub-002_task-cpm_beh.tsv.bak").write_text("x\n")
    (root / "sub-x.txt").write_text("x\n")
    (root / "sub-003" / "beh").write_text("a file named beh\n")
    (root / "sub-003" / "ses-7").symlink_to(root / "sub-003" / "ses-1")  # a linked folder is followed, as glob does
    globbed = list(root.glob("sub-*/beh/sub-*_beh.tsv")) + list(root.glob("sub-*/ses-*/beh/sub-*_beh.tsv"))
    expected = sorted(p for p in globbed if _BEH_NAME.match(p.name))
    found = find_runs(root)
    assert found == expected
    assert root / "sub-001" / "beh" / "sub-001_task-cpm_beh.tsv" in found and len(found) == 3 * 2 + 2 + 1
