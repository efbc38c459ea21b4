"""Run independent, read-only steps in a forked process while this one goes on; fall back to running them here.

cpmlab score spends much of a re-score checking files (a stat per file and folder) and much of it
importing pandas: on a machine with two cores the checks run beside the imports and the scoring.
Only where fork is safe (Linux, this process running a single thread) is a child forked; it runs
the steps in order and sends each result (pickled, through a pipe) as soon as it has it. A step
that fails in the child, or a child that dies, costs only time: the step runs here. Steps must
only read: whatever they return is what this process would have computed itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<Q")
_EXITING: list[int] = []  # children done with their work, not yet reaped


def _reap() -> None:
    """Reap the children that have exited (without waiting for the others)."""
    for pid in list(_EXITING):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _EXITING.remove(pid)


def can_fork() -> bool:
    """Return whether a child may be forked here (Linux, one thread)."""
    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


class Background:
    """Steps started in a forked child (or, where that is not possible, run here when asked for)."""

    def __init__(self, steps: list[Callable[[], Any]], fork: bool | None = None) -> None:
        self._steps = steps
        self._results: list[tuple[bool, Any]] = []  # (ok, value) per step received so far
        self._fd: int | None = None
        self._pid: int | None = None
        self._started = False
        if fork if fork is not None else can_fork():
            self._start()

    @property
    def forked(self) -> bool:
        """Whether a child was started for the steps."""
        return self._started

    def _start(self) -> None:
        _reap()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            _child(self._steps, write_fd)
        os.close(write_fd)
        self._fd, self._pid, self._started = read_fd, pid, True

    def result(self, index: int) -> Any:
        """Return step index's value: from the child when it computed it, else computed here now."""
        while self._fd is not None and len(self._results) <= index:
            message = self._receive()
            if message is None:
                self._close()
                break
            self._results.append(message)
        if index < len(self._results) and self._results[index][0]:
            return self._results[index][1]
        if index < len(self._results):
            log.debug("background step %d failed (%s); running it here", index, self._results[index][1])
        return self._steps[index]()

    def _receive(self) -> tuple[bool, Any] | None:
        assert self._fd is not None
        header = _read_exactly(self._fd, _HEADER.size)
        if header is None:
            return None
        body = _read_exactly(self._fd, _HEADER.unpack(header)[0])
        if body is None:
            return None
        try:
            ok, value = pickle.loads(body)  # our own child's bytes
            return bool(ok), value
        except Exception as exc:
            return False, exc

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._pid is not None:
            # a child still exiting (freeing its memory) is not waited for: it has nothing left to send;
            # it is reaped when the next child starts, or by the system once this process ends
            _EXITING.append(self._pid)
            self._pid = None
        _reap()

    def close(self) -> None:
        """Stop waiting for the child (it exits once its pipe is closed)."""
        self._close()

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self._close()


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _child(steps: list[Callable[[], Any]], fd: int) -> None:
    """Run the steps, send each result; exit without running the parent's exit handlers.

    A thread sends the results, so the steps go on while a large result waits in the pipe for the
    parent to read it (a pipe holds 64 KiB; a scan of 10,000 runs is megabytes).
    """
    code = 0
    try:
        logging.disable(logging.CRITICAL)  # the parent reports; a step run here would log twice
        with os.fdopen(fd, "wb") as out:
            bodies: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
            failed: list[BaseException] = []
            sender = threading.Thread(target=_send, args=(bodies, out, failed), daemon=True)
            sender.start()
            for step in steps:
                try:
                    body = pickle.dumps((True, step()), protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as exc:
                    body = pickle.dumps((False, repr(exc)))
                bodies.put(body)
            bodies.put(None)
            sender.join()
            if failed:
                code = 1
    except BaseException:  # an interrupt
        code = 1
    finally:
        os._exit(code)


def _send(bodies: queue.SimpleQueue[bytes | None], out: BinaryIO, failed: list[BaseException]) -> None:
    """Write each body to the pipe as it comes, until None; a closed pipe (the parent went on) ends it."""
    try:
        while (body := bodies.get()) is not None:
            out.write(_HEADER.pack(len(body)) + body)
            out.flush()
    except BaseException as exc:
        failed.append(exc)
