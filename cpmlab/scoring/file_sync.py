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
from pathlib import Path

FORMAT = 1
RACY_S = 2.0

Entry = list[int | str]  # [size, mtime_ns, ctime_ns, inode, sha256]


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


def _remove_unwanted(root: str, wanted: dict[str, bytes]) -> set[str]:
    """Delete every file and link under root that is not wanted, and empty folders; return the folders kept."""
    folders: set[str] = set()
    if not os.path.isdir(root):
        return folders
    for folder, dirs, names in os.walk(root, topdown=False):
        for name in names:
            path = os.path.join(folder, name)
            if path not in wanted:
                os.unlink(path)
        for name in dirs:
            sub = os.path.join(folder, name)
            if os.path.islink(sub):
                os.unlink(sub)  # never follow a link out of the folder
            elif not os.listdir(sub):
                os.rmdir(sub)
            else:
                folders.add(sub)
    folders.add(root)
    return folders


def _unchanged(path: str, rel: str, data: bytes, digest: str, record: _Manifest) -> os.stat_result | None:
    """Return the file's stat if it already holds data, else None (a link is replaced, never written through)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
        return None  # a different size: changed, nothing to read
    known = record.vouches(rel, st)
    same = known == digest if known is not None else _same_content(path, data)
    return st if same else None


def sync_folder(out: Path, files: dict[Path, bytes], manifest: Path | None = None) -> list[Path]:
    """Write files (relative to out) whose content differs, delete every other file under out; return all paths.

    manifest: where to keep the record of what was written (outside out), or None to compare every file.
    """
    root = os.fspath(out)
    wanted = {os.path.join(root, os.fspath(rel)): data for rel, data in files.items()}  # plain strings: 40,000 files
    record = _Manifest(manifest)
    made = _remove_unwanted(root, wanted)
    start = len(root) + 1
    for path in sorted(wanted):
        data = wanted[path]
        rel = path[start:].replace(os.sep, "/")
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        digest = hashlib.sha256(data).hexdigest()
        st = _unchanged(path, rel, data, digest, record)
        if st is None:
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            st = os.lstat(path)
        record.new[rel] = _entry(st, digest)
    record.save()
    return [out / rel for rel in sorted(files)]
