"""A record of files as they were last seen: relative path, stat numbers and SHA-256, in one .npz file.

Tens of thousands of entries load and save in milliseconds (a JSON of the same facts took
about a tenth of a second each way). The file holds only numeric arrays and is read with
allow_pickle=False, so a damaged or planted record can cost time but never run code.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIGEST_BYTES = 32


@dataclass
class FileStates:
    """Files (relative paths with '/'), their stat numbers (one row each) and SHA-256 digests."""

    rels: list[str] = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    digests: np.ndarray = field(default_factory=lambda: np.zeros((0, DIGEST_BYTES), dtype=np.uint8))  # or (n, 0)
    written_ns: int = 0  # when the record was written (time.time_ns)
    trusted_before_ns: int = 0  # files modified before this are not racy (set by whoever loads the record)

    def positions(self) -> dict[str, int]:
        """Return each path's row."""
        return {rel: i for i, rel in enumerate(self.rels)}


def save_states(path: Path, tables: dict[str, FileStates], version: int) -> None:
    """Write named tables to one record through a temporary file (a cut-short write leaves the old record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"header": np.array([version, time.time_ns()], dtype=np.int64)}
    for name, states in tables.items():
        names = "\0".join(states.rels).encode("utf-8", "surrogateescape")
        arrays[f"{name}.count"] = np.array([len(states.rels)], dtype=np.int64)
        arrays[f"{name}.names"] = np.frombuffer(names, dtype=np.uint8)
        arrays[f"{name}.numbers"] = np.ascontiguousarray(states.numbers, dtype=np.int64)
        arrays[f"{name}.digests"] = np.ascontiguousarray(states.digests, dtype=np.uint8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load_states(
    path: Path, version: int, widths: dict[str, int], optional: dict[str, int] | None = None
) -> dict[str, FileStates] | None:
    """Return the named tables of a record, or None when there is none or it cannot be used (logged).

    optional: tables read when the record has them (an older record may not), with their widths.
    """
    try:
        tables = {}
        with np.load(path, allow_pickle=False) as z:
            header = z["header"]
            if header.shape != (2,) or int(header[0]) != version:
                raise ValueError(f"its header {header.tolist()} is not that of version {version}")
            present = {name: width for name, width in (optional or {}).items() if f"{name}.count" in z.files}
            for name, width in (widths | present).items():
                count = int(z[f"{name}.count"][0])
                names, numbers, digests = z[f"{name}.names"], z[f"{name}.numbers"], z[f"{name}.digests"]
                rels = names.tobytes().decode("utf-8", "surrogateescape").split("\0") if count else []
                shapes_ok = numbers.shape == (count, width) and digests.shape in ((count, DIGEST_BYTES), (count, 0))
                if len(rels) != count or not shapes_ok:
                    raise ValueError(f"the arrays of {name} do not match")
                tables[name] = FileStates(rels, numbers.astype(np.int64, copy=False), digests, int(header[1]))
        return tables
    except FileNotFoundError:
        return None
    except Exception as exc:  # any damage costs only the time to read the files again
        log.warning("ignoring the file record %s (%s); the files are read again", path, exc)
        return None
