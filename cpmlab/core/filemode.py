"""How session files are created: new only, readable by the lab's group (the umask still applies)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Owner reads and writes; group and others read, as the lab's analysts need (a umask of 027 keeps
# others out). Every session file is created with it: journal, BIDS files, temporary files.
SESSION_FILE_MODE = 0o644


def create_new(path: Path) -> int:
    """Create path (it must not exist) with SESSION_FILE_MODE; return a write-only descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SESSION_FILE_MODE)


def create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new hidden temporary file for name in folder with SESSION_FILE_MODE; return (descriptor, path)."""
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return create_new(tmp), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {name} in {folder}")
