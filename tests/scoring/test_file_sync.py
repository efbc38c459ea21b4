"""Writing derivatives into an existing folder: unchanged files stay untouched, changed ones replaced, stale ones gone.

With a manifest, files it vouches for are not read; hand-edited, deleted and racy files are still caught.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cpmlab.scoring import file_sync
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


FILES = {Path("a/x.tsv"): b"one\n", Path("a/y.tsv"): b"two\n", Path("b/z.json"): b"{}\n"}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every file the sync reads to compare contents."""
    seen: list[str] = []
    compare = file_sync._same_content

    def counting(path: str, data: bytes) -> bool:
        seen.append(Path(path).name)
        return compare(path, data)

    monkeypatch.setattr(file_sync, "_same_content", counting)
    return seen


def _synced_out_of_the_racy_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Sync FILES with a manifest, as if the racy window had passed since."""
    monkeypatch.setattr(file_sync, "RACY_S", 0.0)
    out, manifest = tmp_path / "out", tmp_path / "cache" / "written.json"
    sync_folder(out, FILES, manifest=manifest)
    return out, manifest


def test_files_the_manifest_vouches_for_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[str]
) -> None:
    """A re-sync of unchanged files reads none of them and rewrites none; a changed one is written unread."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    before = {p: (out / p).stat() for p in FILES}
    sync_folder(out, {**FILES, Path("a/y.tsv"): b"TWO\n"}, manifest=manifest)
    assert reads == []
    assert (out / "a/y.tsv").read_bytes() == b"TWO\n"
    for p in (Path("a/x.tsv"), Path("b/z.json")):
        after = (out / p).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before[p].st_ino, before[p].st_mtime_ns)
    assert sorted(file_sync.manifest_paths(manifest)) == ["a/x.tsv", "a/y.tsv", "b/z.json"]


def test_a_hand_edited_file_of_the_same_size_and_time_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[str]
) -> None:
    """Editing a derivative in place (same size, its old modification time put back) is seen and undone."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    edited = out / "a/x.tsv"
    old = edited.stat()
    edited.write_bytes(b"ONE\n")
    os.utime(edited, ns=(old.st_atime_ns, old.st_mtime_ns))
    sync_folder(out, FILES, manifest=manifest)
    assert edited.read_bytes() == b"one\n"
    assert reads == ["x.tsv"]  # compared by content: the change time moved


def test_a_file_edited_to_another_size_is_rewritten_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[str]
) -> None:
    """A derivative whose size differs has changed: it is replaced and not read."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    (out / "b/z.json").write_bytes(b'{"edited": true}\n')
    sync_folder(out, FILES, manifest=manifest)
    assert (out / "b/z.json").read_bytes() == b"{}\n" and reads == []


def test_deleted_files_and_a_deleted_or_damaged_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[str]
) -> None:
    """A deleted derivative is written again; without a readable manifest every file is compared by content."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    (out / "a/y.tsv").unlink()
    sync_folder(out, FILES, manifest=manifest)
    assert (out / "a/y.tsv").read_bytes() == b"two\n" and reads == []
    manifest.unlink()
    (out / "a/x.tsv").write_bytes(b"ONE\n")
    sync_folder(out, FILES, manifest=manifest)
    assert sorted(reads) == ["x.tsv", "y.tsv", "z.json"] and (out / "a/x.tsv").read_bytes() == b"one\n"
    reads.clear()
    manifest.write_text("{not json")
    (out / "a/x.tsv").write_bytes(b"ONE\n")
    sync_folder(out, FILES, manifest=manifest)
    assert sorted(reads) == ["x.tsv", "y.tsv", "z.json"] and (out / "a/x.tsv").read_bytes() == b"one\n"
    assert sorted(file_sync.manifest_paths(manifest)) == ["a/x.tsv", "a/y.tsv", "b/z.json"]


def test_a_file_no_longer_produced_leaves_the_folder_and_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale file is deleted and forgotten; if it comes back it is written, not vouched for."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    fewer = {p: d for p, d in FILES.items() if p != Path("b/z.json")}
    sync_folder(out, fewer, manifest=manifest)
    assert not (out / "b").exists()
    assert sorted(file_sync.manifest_paths(manifest)) == ["a/x.tsv", "a/y.tsv"]
    sync_folder(out, FILES, manifest=manifest)
    assert (out / "b/z.json").read_bytes() == b"{}\n"


def test_files_written_just_before_the_manifest_are_compared_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: list[str]
) -> None:
    """Within the racy window after a sync the manifest vouches for nothing: every same-size file is read."""
    monkeypatch.setattr(file_sync, "FINE_RACY_S", 60.0)  # the window, however slow the machine is today
    out, manifest = tmp_path / "out", tmp_path / "written.npz"
    sync_folder(out, FILES, manifest=manifest)
    sync_folder(out, FILES, manifest=manifest)
    assert sorted(reads) == ["x.tsv", "y.tsv", "z.json"]


def test_the_returned_paths_are_the_sorted_paths_of_the_folder(tmp_path: Path) -> None:
    """The paths come back in Path order (part by part: a/y before a-x/y), as a sequence of the right length."""
    out = tmp_path / "out"
    rels = ["a-x/y.tsv", "a/y.tsv", "a/b/c.tsv", "a.b/c.tsv", "ab.tsv"]
    written = sync_folder(out, {rel: b"1\n" for rel in rels})
    expected = sorted(out / rel for rel in rels)
    assert list(written) == expected and len(written) == 5
    assert written[0] == expected[0] and written[-1] == expected[-1] and written[1:3] == expected[1:3]


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every folder the sync reads (the others are taken from the manifest's folder record)."""
    seen: list[str] = []
    scan = file_sync._Tree._scan

    def counting(self: file_sync._Tree, rel: str) -> list[str]:
        seen.append(rel)
        return scan(self, rel)

    monkeypatch.setattr(file_sync._Tree, "_scan", counting)
    return seen


def test_unchanged_folders_are_not_read_and_strays_in_changed_ones_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    """Folders whose stat the manifest records unchanged are not read; a stray file, link or folder added
    later changes its folder, which is read again and cleaned."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    scans.clear()
    sync_folder(out, FILES, manifest=manifest)
    assert scans == []
    (out / "a" / "stray.tsv").write_bytes(b"x\n")
    (out / "b" / "deeper" / "more").mkdir(parents=True)
    (out / "b" / "deeper" / "more" / "stray.json").write_bytes(b"{}\n")
    (out / "link").symlink_to(out / "a", target_is_directory=True)
    sync_folder(out, FILES, manifest=manifest)
    assert sorted(scans) == ["", "a", "b", "b/deeper", "b/deeper/more"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["a", "a/x.tsv", "a/y.tsv", "b", "b/z.json"]
    scans.clear()
    sync_folder(out, FILES, manifest=manifest)
    assert scans == [] and (out / "a/x.tsv").read_bytes() == b"one\n"


def test_a_folder_replaced_behind_the_record_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    """A folder deleted and made again (another inode), with a stray in it, is read and cleaned."""
    out, manifest = _synced_out_of_the_racy_window(tmp_path, monkeypatch)
    for name in ("x.tsv", "y.tsv"):
        (out / "a" / name).unlink()
    (out / "a").rmdir()
    (out / "a").mkdir()
    (out / "a" / "x.tsv").write_bytes(b"one\n")
    (out / "a" / "stray.tsv").write_bytes(b"x\n")
    scans.clear()
    sync_folder(out, FILES, manifest=manifest)
    assert "a" in scans
    assert sorted(p.name for p in (out / "a").iterdir()) == ["x.tsv", "y.tsv"]


def test_a_folder_changed_within_the_racy_window_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scans: list[str]
) -> None:
    """Right after a sync (within the racy window) the folder record vouches for nothing: every folder is read."""
    monkeypatch.setattr(file_sync, "FINE_RACY_S", 60.0)  # the window, however slow the machine is today
    out, manifest = tmp_path / "out", tmp_path / "written.npz"
    sync_folder(out, FILES, manifest=manifest)
    scans.clear()
    sync_folder(out, FILES, manifest=manifest)
    assert sorted(scans) == ["", "a", "b"]


def test_the_racy_window_follows_the_file_systems_resolution(tmp_path: Path) -> None:
    """A manifest time with a fraction of a second means a fine clock (FINE_RACY_S); whole seconds mean RACY_S."""
    manifest = tmp_path / "written.npz"
    manifest.write_bytes(b"")
    os.utime(manifest, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert file_sync._racy_window_s(manifest) == file_sync.RACY_S
    os.utime(manifest, ns=(1_700_000_000_004_000_000, 1_700_000_000_004_000_000))
    assert file_sync._racy_window_s(manifest) == file_sync.FINE_RACY_S < file_sync.RACY_S
    assert file_sync._racy_window_s(tmp_path / "missing.npz") == file_sync.RACY_S


def test_files_written_well_before_the_manifest_are_vouched_for_on_a_fine_clock(
    tmp_path: Path, reads: list[str]
) -> None:
    """On a file system with sub-second times, files written more than FINE_RACY_S before the manifest are
    not read again by the next sync (a full score's output need not all be re-read by the next one)."""
    out, manifest = tmp_path / "out", tmp_path / "written.npz"
    sync_folder(out, FILES, manifest=manifest)
    if os.stat(manifest).st_mtime_ns % 1_000_000_000 == 0:
        pytest.skip("this file system keeps whole seconds")
    time.sleep(file_sync.FINE_RACY_S + 0.05)
    sync_folder(out, FILES, manifest=manifest)  # the record is rewritten well after the files
    reads.clear()
    sync_folder(out, FILES, manifest=manifest)
    assert reads == []  # with a fixed 2 s window all three would be read again
