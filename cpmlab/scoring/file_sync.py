"""Make a folder hold exactly a given set of files, writing only the files whose content changed.

A file whose size differs from the new content has changed and is rewritten without being read.
A file of the right size is compared with the new content by reading it, unless the manifest
(kept outside the folder, written at the end of every sync) shows it is the very file written
last time: same size, modification time, change time and inode, and not modified within the
racy window before the manifest was written (a change within the clock's resolution could
otherwise go unseen, as git knows): RACY_S on a file system that keeps whole seconds,
FINE_RACY_S on one that keeps fractions (judged from the manifest's own time). Then the
SHA-256 the manifest holds for it is compared instead. A missing or unreadable manifest only
costs the reads; a file anyone touched is compared by content.
The manifest also records every folder's stat: a folder whose modification time, change time and
inode are unchanged (and not racy) still holds exactly the entries recorded (POSIX changes a
folder's modification time when an entry is created, deleted or renamed), so finding stray files
reads only the folders that changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np

from cpmlab.scoring.file_states import FileStates, load_states, save_states

FORMAT = 2  # the manifest's layout (1 was JSON)
RACY_S = 2.0  # on a file system that keeps whole seconds (FAT, exFAT, some network shares)
FINE_RACY_S = 0.1  # where it keeps fractions of a second: many ticks of its clock (ext4's is a few ms)
_WIDTHS = {"files": 4, "folders": 3}  # files: size, mtime_ns, ctime_ns, inode; folders: mtime_ns, ctime_ns, inode


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

    def relative_paths(self) -> list[str]:
        """Return the relative paths (with '/') of every folder's files, as added (unsorted)."""
        return [rel for _, rels in self._unsorted for rel in rels]

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


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path, follow_symlinks=False)
    except OSError:
        return None


def _load(manifest: Path | None) -> tuple[FileStates, FileStates]:
    tables = load_states(manifest, FORMAT, _WIDTHS) if manifest is not None else None
    if tables is None:
        return tuple(FileStates(numbers=np.zeros((0, _WIDTHS[name]), dtype=np.int64)) for name in _WIDTHS)  # type: ignore[return-value]
    assert manifest is not None
    trusted_before_ns = tables["files"].written_ns - int(_racy_window_s(manifest) * 1e9)
    for table in tables.values():
        table.trusted_before_ns = trusted_before_ns
    return tables["files"], tables["folders"]


def _racy_window_s(manifest: Path) -> float:
    """Return how long before the manifest was written a change could keep a file's time: the clock's tick.

    The manifest's own modification time shows the file system's resolution: a time in whole
    seconds means one that keeps seconds (or two), where RACY_S applies; any fraction of a second
    means a fine clock, where FINE_RACY_S is ample. So the files a full score wrote in its last
    seconds need not all be read again by the next score, as they would with a fixed 2 s.
    """
    try:
        fine = os.stat(manifest).st_mtime_ns % 1_000_000_000 != 0
    except OSError:
        fine = False
    return min(RACY_S, FINE_RACY_S) if fine else RACY_S


def manifest_paths(manifest: Path) -> list[str]:
    """Return the relative paths a manifest records (empty when there is none or it is unreadable)."""
    return list(_load(manifest)[0].rels)


def _folders_of(rels: Sequence[str]) -> set[str]:
    """Return every folder (relative, "" for the root) that holds one of rels, directly or below."""
    folders = {""}
    for parent in {rel.rpartition("/")[0] for rel in rels}:
        while parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    return folders


class _Tree:
    """The files and folders under root now: recorded folders whose stat is unchanged are not read."""

    def __init__(self, root: str, files: FileStates, folders: FileStates) -> None:
        self.root = root
        self.others: set[str] = set()  # links and anything else: always removed
        self.folder_stats: dict[str, tuple[int, int, int]] = {}  # every folder seen -> (mtime, ctime, inode)
        trusted_before_ns = folders.trusted_before_ns
        stats = [_stat(self.path(rel)) for rel in folders.rels]
        now = np.array(
            [(s.st_mtime_ns, s.st_ctime_ns, s.st_ino) if s and stat.S_ISDIR(s.st_mode) else (-1, 0, 0) for s in stats],
            dtype=np.int64,
        ).reshape(-1, 3)
        same = (now == folders.numbers).all(axis=1) & (now[:, 0] >= 0) & (now[:, 0] < trusted_before_ns)
        trusted = [rel for rel, ok in zip(folders.rels, same.tolist(), strict=True) if ok]
        self.folder_stats = dict(zip(trusted, map(tuple, now[same].tolist()), strict=True))
        changed = set(folders.rels) - self.folder_stats.keys()
        # a trusted folder holds the files recorded in it; a changed one is read
        self.files = (
            {rel for rel in files.rels if rel.rpartition("/")[0] not in changed} if changed else set(files.rels)
        )
        queue = [*changed, *([""] if "" not in self.folder_stats else [])]
        while queue:
            rel = queue.pop()
            if rel in self.folder_stats:
                continue
            st = _stat(self.path(rel))  # before reading it: a change while reading is seen next time
            if st is None or not stat.S_ISDIR(st.st_mode):
                continue
            self.folder_stats[rel] = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            queue.extend(child for child in self._scan(rel) if child not in self.folder_stats)

    def path(self, rel: str) -> str:
        """Return the absolute path of a relative path."""
        return self.root + os.sep + rel.replace("/", os.sep) if rel else self.root

    def _scan(self, rel: str) -> list[str]:
        folders = []
        try:
            with os.scandir(self.path(rel)) as entries:
                for entry in entries:
                    child = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_symlink():
                        self.others.add(child)  # a link (also to a folder) is removed, never followed
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(child)
                    elif entry.is_file(follow_symlinks=False):
                        self.files.add(child)
                    else:
                        self.others.add(child)
        except (FileNotFoundError, NotADirectoryError):
            pass
        return folders


@dataclass
class TreeScan:
    """A folder as found before a sync: its files and folders, the manifest, and the recorded files' stat now."""

    root: str
    manifest: str | None
    tree: _Tree
    old_files: FileStates
    now: np.ndarray  # a row per recorded file: size (-1: not there), mtime_ns, ctime_ns, inode, regular file


def _stat_rows(paths: Sequence[str | None]) -> np.ndarray:
    rows = []
    for path in paths:
        st = _stat(path) if path is not None else None
        if st is None:
            rows.append((-1, 0, 0, 0, 0))
        else:
            rows.append((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, int(stat.S_ISREG(st.st_mode))))
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def scan_folder(out: Path, manifest: Path | None = None) -> TreeScan:
    """Find what a folder holds now, and the stat of the files its manifest records (no file is changed)."""
    root = os.fspath(out)
    old_files, old_folders = _load(manifest)
    tree = _Tree(root, old_files, old_folders)
    now = _stat_rows([tree.path(rel) if rel in tree.files else None for rel in old_files.rels])
    return TreeScan(root, os.fspath(manifest) if manifest is not None else None, tree, old_files, now)


def sync_folder(
    out: Path, files: Mapping[str | Path, bytes], manifest: Path | None = None, scan: TreeScan | None = None
) -> SyncedPaths:
    """Write files (relative to out) whose content differs, delete every other file under out; return all paths.

    files: relative paths (Path, or str with '/') and their bytes.
    manifest: where to keep the record of what was written and of the folders (outside out), or None to
    compare every file and read every folder.
    scan: what scan_folder(out, manifest) found a moment ago (e.g. in a background process), or None.
    """
    root = os.fspath(out)
    wanted = {rel if isinstance(rel, str) else rel.as_posix(): data for rel, data in files.items()}
    rels = sorted(wanted)
    if scan is None or scan.root != root or scan.manifest != (os.fspath(manifest) if manifest is not None else None):
        scan = scan_folder(out, manifest)
    tree = scan.tree
    touched: set[str] = set()  # folders whose entries this sync changed
    for rel in sorted((tree.files - wanted.keys()) | tree.others):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tree.path(rel))
        touched.add(rel.rpartition("/")[0])
    needed = _folders_of(rels)
    for rel in sorted(tree.folder_stats.keys() - needed, key=lambda r: -r.count("/")):  # deepest first
        with contextlib.suppress(OSError):  # something appeared in it meanwhile: left for the next sync
            os.rmdir(tree.path(rel))
        touched.add(rel.rpartition("/")[0])
    for rel in sorted(needed - tree.folder_stats.keys()):
        os.makedirs(tree.path(rel), exist_ok=True)
        touched.add(rel)
        touched.add(rel.rpartition("/")[0])
    numbers, digests = _write_changed(scan, wanted, rels, touched)
    folder_rels = sorted(needed)
    known = tree.folder_stats
    rows = [
        known[rel] if rel not in touched and rel in known else _folder_numbers(tree.path(rel)) for rel in folder_rels
    ]
    folder_numbers = np.array(rows, dtype=np.int64).reshape(-1, 3)
    if manifest is not None:
        tables = {
            "files": FileStates(rels, numbers, digests),
            "folders": FileStates(folder_rels, folder_numbers, np.zeros((len(folder_rels), 0), dtype=np.uint8)),
        }
        save_states(manifest, tables, FORMAT)
    paths = SyncedPaths()
    paths.add(out, rels)
    return paths


def _folder_numbers(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _write_changed(
    scan: TreeScan, wanted: Mapping[str, bytes], rels: list[str], touched: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Write the files whose content differs; return every file's stat numbers and SHA-256 (rows of rels)."""
    tree, old = scan.tree, scan.old_files
    paths = [tree.path(rel) for rel in rels]
    data = [wanted[rel] for rel in rels]
    digests = np.frombuffer(b"".join(hashlib.sha256(d).digest() for d in data), dtype=np.uint8).reshape(-1, 32)
    position = old.positions()
    rows = np.array([position.get(rel, -1) for rel in rels], dtype=np.int64)
    recorded = rows >= 0
    now = np.zeros((len(rels), 5), dtype=np.int64)
    now[recorded] = scan.now[rows[recorded]]
    unrecorded = np.flatnonzero(~recorded)
    if len(unrecorded):
        now[unrecorded] = _stat_rows([paths[i] if rels[i] in tree.files else None for i in unrecorded])
    numbers = now[:, :4].copy()
    same_size = (now[:, 4] == 1) & (numbers[:, 0] == np.array([len(d) for d in data], dtype=np.int64))
    vouched = same_size & recorded & (numbers[:, 1] < old.trusted_before_ns)
    if len(old.rels):
        vouched &= (old.numbers[rows] == numbers).all(axis=1)
        unchanged = vouched & (old.digests[rows] == digests).all(axis=1)
    else:
        unchanged = np.zeros(len(rels), dtype=bool)
    for i in np.flatnonzero(~unchanged):
        if same_size[i] and not vouched[i] and _same_content(paths[i], data[i]):
            continue  # the manifest could not vouch for it, but it holds these bytes
        tmp = paths[i] + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data[i])
        os.replace(tmp, paths[i])
        st = os.lstat(paths[i])
        numbers[i] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        touched.add(rels[i].rpartition("/")[0])
    return numbers, digests
