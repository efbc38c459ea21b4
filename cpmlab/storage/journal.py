"""Append-only session journal: one JSON object per line, flushed and fsynced.

The journal is the source of truth while a session runs: the BIDS files are written
from it at the end, and can be rebuilt from it after a crash (``cpmlab recover``).
Non-sample events are fsynced before publish() returns; high-rate samples (device
readings, continuous ratings) are written and flushed at once and fsynced in groups
at most ``sample_sync_s`` later, so a 100 Hz stream does not cost 100 fsyncs a second.
A kill of the process loses nothing that was written (the OS holds it); only a power
cut can lose the last ``sample_sync_s`` of samples.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError, SessionExistsError
from cpmlab.core.events import SAMPLE_KINDS, Event
from cpmlab.core.filemode import SESSION_FILE_MODE

JOURNAL_FORMAT = 1


def _finite(obj: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) with None, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_finite(v) for v in obj]
    return obj


def _default(obj: Any) -> Any:
    return str(obj)


def _line(record: dict[str, Any]) -> str:
    """Return one journal line's JSON (non-finite numbers as null)."""
    try:
        return json.dumps(record, default=_default, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN or infinity somewhere: clean the record (rare, so not done up front)
        return json.dumps(_finite(record), default=_default, allow_nan=False, separators=(",", ":"))


class Journal:
    """Writes events to an append-only JSONL file; refuses to open an existing one."""

    def __init__(self, path: str | Path, sample_sync_s: float = 0.25) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: an existing journal is never opened for writing again.
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, SESSION_FILE_MODE)
        except FileExistsError:
            raise SessionExistsError(f"journal {self.path} already exists; it is never overwritten") from None
        self._fsync_dir()
        self._lock = threading.Lock()
        self._seq = 0
        self._dirty_since: float | None = None
        self.sample_sync_s = sample_sync_s
        self._closed = False
        self._syncer_stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)
        self._syncer.start()

    def _fsync_dir(self) -> None:
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def write(self, event: Event) -> None:
        """Append one event; fsync now unless it is a high-rate sample."""
        with self._lock:
            if self._closed:
                raise CpmlabError(f"journal {self.path} is closed")
            self._seq += 1
            record = _finite({"seq": self._seq, **event.to_json()})
            line = json.dumps(record, default=_default, allow_nan=False, separators=(",", ":")) + "\n"
            data = line.encode("utf-8")
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            if event.kind in SAMPLE_KINDS:
                if self._dirty_since is None:
                    self._dirty_since = now()
            else:
                os.fsync(self._fd)
                self._dirty_since = None

    __call__ = write  # so a Journal can subscribe to the EventBus directly

    def _sync_loop(self) -> None:
        while not self._syncer_stop.wait(self.sample_sync_s / 2):
            with self._lock:
                if self._closed:
                    return
                if self._dirty_since is not None and now() - self._dirty_since >= self.sample_sync_s / 2:
                    os.fsync(self._fd)
                    self._dirty_since = None

    def close(self) -> None:
        """Fsync and close; safe to call twice."""
        self._syncer_stop.set()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.fsync(self._fd)
            os.close(self._fd)


def write_journal(path: str | Path, events: Iterable[Event]) -> Path:
    """Write a whole journal at once (one fsync), refusing an existing file; return its path.

    For journals built outside a live session (synthetic data); a session uses Journal.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_line({"seq": i, **e.to_json()}) for i, e in enumerate(events, start=1)]
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + ("\n" if lines else ""))
            fh.flush()
            os.fsync(fh.fileno())
    except FileExistsError:
        raise SessionExistsError(f"journal {path} already exists; it is never overwritten") from None
    return path


def read_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield every complete record of a journal; a torn last line (crash mid-write) is skipped."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                return  # the process died mid-write; everything before is intact
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
