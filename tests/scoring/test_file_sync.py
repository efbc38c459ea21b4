"""Writing derivatives into an existing folder: unchanged files stay untouched, changed ones replaced, stale ones gone."""

from __future__ import annotations

from pathlib import Path

from cpmlab.scoring.file_sync import sync_folder


def test_only_changed_files_are_written_and_stale_ones_deleted(tmp_path: Path) -> None:
    """Same bytes keep their inode and time; new bytes replace; files and folders not wanted disappear."""
    out = tmp_path / "out"
    first = {Path("a/x.tsv"): b"1\n", Path("a/y.tsv"): b"2\n", Path("b/z.tsv"): b"3\n"}
    written = sync_folder(out, first)
    assert written == sorted(out / p for p in first)
    kept = (out / "a/x.tsv").stat()
    sync_folder(out, {Path("a/x.tsv"): b"1\n", Path("a/y.tsv"): b"22\n", Path("c/new.tsv"): b"4\n"})
    again = (out / "a/x.tsv").stat()
    assert (again.st_ino, again.st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert (out / "a/y.tsv").read_bytes() == b"22\n" and (out / "c/new.tsv").read_bytes() == b"4\n"
    assert not (out / "b").exists()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a/x.tsv",
        "a/y.tsv",
        "c/new.tsv",
    ]


def test_a_link_inside_the_folder_is_removed_not_followed(tmp_path: Path) -> None:
    """A symlinked folder in the output is unlinked; what it points to is left alone."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    out = tmp_path / "out"
    sync_folder(out, {Path("a.tsv"): b"1\n"})
    (out / "link").symlink_to(outside, target_is_directory=True)
    sync_folder(out, {Path("a.tsv"): b"1\n"})
    assert not (out / "link").exists() and (outside / "keep.txt").read_text() == "keep"
