"""Make a folder hold exactly a given set of files, writing only the files whose content changed.

A file whose size differs from the new content has changed and is rewritten without being read.
A file of the right size is compared with the new content by reading it, unless the manifest
(kept outside the folder, written at the end of every sync) shows it is the very file written
last time: same size, modification time, change time and inode, and not modified within RACY_S
of the manifest being written (a change within the clock's resolution could otherwise go
unseen, as git knows). Then the SHA-256 the manifest holds for it is compared instead. A missing
or unreadable manifest only costs the reads; a file anyone touched is compared by content.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

FORMAT = 1
RACY_S = 2.0

Entry = list[int | str]  # [size, mtime_ns, ctime_ns, inode, sha256]


_BEFORE_ALL = str.maketrans("/", "\0")


def _part_order(rel: str) -> str:
    """Sort key of a relative path with '/' that orders as Path objects do (part by part)."""
    return rel.translate(_BEFORE_ALL)


class SyncedPaths(Sequence[Path]):
    """The paths of the files of synced folders, in order, made into Path objects only when read."""

    def __init__(self) -> None:
        self._unsorted: list[tuple[Path, list[str]]] = []  # folder, relative paths with '/'
        self._sorted: list[tuple[Path, list[str]]] | None = None
        self._count = 0

    @property
    def _folders(self) -> list[tuple[Path, list[str]]]:
        """The folders with their files sorted as their Path objects sort (sorted when first read)."""
        if self._sorted is None:
            self._sorted = [(out, sorted(rels, key=_part_order)) for out, rels in self._unsorted]
        return self._sorted

    def add(self, out: Path, rels: list[str]) -> None:
        """Append a folder's files (relative paths with '/'); they are read back sorted as Path objects sort."""
        self._unsorted.append((out, list(rels)))
        self._sorted = None
        self._count += len(rels)

    def extend(self, other: SyncedPaths) -> None:
        """Append the folders of another SyncedPaths."""
        for out, rels in other._unsorted:
            self.add(out, rels)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Path: ...

    @overload
    def __getitem__(self, index: slice) -> list[Path]: ...

    def __getitem__(self, index: int | slice) -> Path | list[Path]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        index %= self._count
        for out, rels in self._folders:
            if index < len(rels):
                return out / rels[index]
            index -= len(rels)
        raise IndexError(index)

    def __iter__(self) -> Iterator[Path]:
        for out, rels in self._folders:
            for rel in rels:
                yield out / rel

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def _same_content(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False


def _entry(st: os.stat_result, digest: str) -> Entry:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest]


class _Manifest:
    """What the last sync wrote: relative path -> [size, mtime_ns, ctime_ns, inode, sha256]."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.old: dict[str, Entry] = {}
        self.new: dict[str, Entry] = {}
        self.written_ns = 0
        if path is None:
            return
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            if state.get("format") == FORMAT and isinstance(state.get("files"), dict):
                self.old = state["files"]
                self.written_ns = int(state["written_ns"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.old, self.written_ns = {}, 0

    def vouches(self, rel: str, st: os.stat_result) -> str | None:
        """Return the recorded SHA-256 if the file on disk is untouched since the last sync, else None."""
        known = self.old.get(rel)
        if not isinstance(known, list) or len(known) != 5:
            return None
        if st.st_mtime_ns >= self.written_ns - int(RACY_S * 1e9):
            return None
        if known[:4] != [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]:
            return None
        return str(known[4])

    def save(self) -> None:
        """Write the manifest through a temporary file (a sync cut short leaves the old one, never a torn one)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        state = {"format": FORMAT, "written_ns": time.time_ns(), "files": self.new}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path)


def _prune(folder: str, wanted: dict[str, bytes], found: dict[str, os.stat_result], kept: set[str]) -> bool:
    """Delete what is not wanted under folder, note the stat of each file kept; return whether anything is left."""
    left = False
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if _prune(entry.path, wanted, found, kept):
                    left = True
                else:
                    os.rmdir(entry.path)
            elif entry.path in wanted:
                found[entry.path] = entry.stat(follow_symlinks=False)
                left = True
            else:
                os.unlink(entry.path)  # a link (also to a folder) is removed, never followed
    if left:
        kept.add(folder)
    return left


def _remove_unwanted(root: str, wanted: dict[str, bytes]) -> tuple[dict[str, os.stat_result], set[str]]:
    """Delete every file and link under root that is not wanted, and empty folders.

    Return the stat of every wanted file found and the folders that remain.
    """
    found: dict[str, os.stat_result] = {}
    kept: set[str] = set()
    if os.path.isdir(root):
        _prune(root, wanted, found, kept)
        kept.add(root)
    return found, kept


def _unchanged(
    path: str, rel: str, data: bytes, digest: str, st: os.stat_result | None, record: _Manifest
) -> os.stat_result | None:
    """Return the file's stat if it already holds data, else None (a link is replaced, never written through)."""
    if st is None or not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
        return None  # a different size: changed, nothing to read
    known = record.vouches(rel, st)
    same = known == digest if known is not None else _same_content(path, data)
    return st if same else None


def sync_folder(out: Path, files: Mapping[str | Path, bytes], manifest: Path | None = None) -> SyncedPaths:
    """Write files (relative to out) whose content differs, delete every other file under out; return all paths.

    files: relative paths (Path, or str with '/') and their bytes.
    manifest: where to keep the record of what was written (outside out), or None to compare every file.
    """
    root = os.fspath(out)
    wanted = {  # plain strings: 40,000 files on a large dataset
        os.path.join(root, os.fspath(rel).replace("/", os.sep)): data for rel, data in files.items()
    }
    record = _Manifest(manifest)
    found, made = _remove_unwanted(root, wanted)
    start = len(root) + 1
    for path in sorted(wanted):
        data = wanted[path]
        rel = path[start:].replace(os.sep, "/")
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        digest = hashlib.sha256(data).hexdigest()
        st = _unchanged(path, rel, data, digest, found.get(path), record)
        if st is None:
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            st = os.lstat(path)
        record.new[rel] = _entry(st, digest)
    record.save()
    paths = SyncedPaths()
    paths.add(out, [rel.replace(os.sep, "/") for rel in (p[start:] for p in wanted)])
    return paths
