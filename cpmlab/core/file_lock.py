"""An exclusive lock across processes and threads, for read-modify-write of a shared file.

The operating system holds the lock (fcntl.lockf on POSIX, msvcrt.locking on Windows) on a
small lock file next to the guarded one, so a process that dies while holding it releases it
with its last breath: a lock is never left behind for good, and nothing has to be broken by
hand. The holder writes who it is into the lock file; a waiter that gives up names that holder,
and a holder that finds the previous holder's name still there says that process ended
without releasing the lock (it was killed) before going on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cpmlab.core.clock import wall_time_iso
from cpmlab.core.errors import CpmlabError

log = logging.getLogger(__name__)

POLL_S = 0.02
_INFO_AT = 1  # byte 0 is the one Windows locks; who holds the lock is written after it
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


class LockTimeoutError(CpmlabError):
    """The lock stayed taken longer than the caller would wait."""


def lock_path_for(path: Path) -> Path:
    """Return the lock file that guards path, e.g. '.participants.tsv.lock' beside participants.tsv."""
    return path.with_name(f".{path.name}.lock")


def _thread_lock(path: Path) -> threading.Lock:
    key = os.path.normcase(str(path.resolve()))
    with _thread_locks_guard:
        return _thread_locks.setdefault(key, threading.Lock())


def _try_os_lock(fd: int) -> bool:
    """Take the OS lock on byte 0 without waiting; return False if another process holds it."""
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
    except OSError:
        return False
    return True


def _os_unlock(fd: int) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)


def _read_holder(fd: int) -> dict[str, object] | None:
    """Return who wrote themselves into the lock file, or None if nobody (or unreadable)."""
    try:
        os.lseek(fd, _INFO_AT, os.SEEK_SET)
        raw = os.read(fd, 4096)
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _write_holder(fd: int, purpose: str) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "since": wall_time_iso(), "purpose": purpose}
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b" ")
    os.lseek(fd, _INFO_AT, os.SEEK_SET)
    os.write(fd, json.dumps(info).encode("utf-8"))
    os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_CUR))


def _clear_holder(fd: int) -> None:
    os.ftruncate(fd, _INFO_AT)


def describe_holder(holder: dict[str, object] | None) -> str:
    """Return e.g. 'process 4242 on LAB-PC since 2026-12-02T10:00:00+0100 (enrol sub-07)'."""
    if not holder:
        return "another process"
    purpose = f" ({holder['purpose']})" if holder.get("purpose") else ""
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}{purpose}"


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, *, timeout_s: float = 15.0, purpose: str = "") -> Iterator[None]:
    """Hold an exclusive lock on lock_path (created if missing) across processes and threads.

    Raises LockTimeoutError, naming the holder, if the lock stays taken for timeout_s.
    """
    deadline = time.monotonic() + timeout_s
    thread_lock = _thread_lock(lock_path)  # POSIX record locks do not exclude threads of one process
    if not thread_lock.acquire(timeout=max(timeout_s, 0.0)):
        raise LockTimeoutError(f"{lock_path} is held by another task of this program for more than {timeout_s:g} s")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o664)
        try:
            while not _try_os_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockTimeoutError(
                        f"{lock_path} is locked by {describe_holder(_read_holder(fd))}; waited {timeout_s:g} s. "
                        "Wait for it to finish and try again. A process that was killed releases the lock by "
                        "itself (on a network drive this can take a few minutes)."
                    )
                time.sleep(POLL_S)
            left = _read_holder(fd)
            if left is not None:
                log.warning(
                    "%s: the lock was left by %s, which ended without releasing it; recovered (the system freed it)",
                    lock_path,
                    describe_holder(left),
                )
            _write_holder(fd, purpose)
            try:
                yield
            finally:
                _clear_holder(fd)
                _os_unlock(fd)
        finally:
            os.close(fd)
    finally:
        thread_lock.release()
