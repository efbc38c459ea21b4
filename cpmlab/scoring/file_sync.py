"""Make a folder hold exactly a given set of files, writing only the files whose content changed."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _same(path: str, data: bytes) -> bool:
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False  # a link is replaced by a plain file, never written through
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False


def sync_folder(out: Path, files: dict[Path, bytes]) -> list[Path]:
    """Write files (relative to out) whose content differs, delete every other file under out; return all paths."""
    root = os.fspath(out)
    wanted = {os.path.join(root, os.fspath(rel)): data for rel, data in files.items()}  # plain strings: 40,000 files
    if os.path.isdir(root):
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
    made: set[str] = set()
    for path in sorted(wanted):
        data = wanted[path]
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        if not _same(path, data):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
    return [out / rel for rel in sorted(files)]
