"""Make a folder hold exactly a given set of files, writing only the files whose content changed."""

from __future__ import annotations

import os
from pathlib import Path


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def sync_folder(out: Path, files: dict[Path, bytes]) -> list[Path]:
    """Write files (relative to out) whose content differs, delete every other file under out; return all paths."""
    wanted = {out / rel: data for rel, data in files.items()}
    if out.exists():
        for folder, dirs, names in os.walk(out, topdown=False):
            base = Path(folder)
            for name in names:
                path = base / name
                if path not in wanted:
                    path.unlink()
            for name in dirs:
                sub = base / name
                if sub.is_symlink():
                    sub.unlink()  # never follow a link out of the folder
                elif not any(sub.iterdir()):
                    sub.rmdir()
    made: set[Path] = set()
    for path, data in sorted(wanted.items()):
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if not _same(path, data):
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
    return sorted(wanted)
