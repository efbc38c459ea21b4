"""Bus subscriber that hands session events to the GUI thread, coalesced into batches."""

from __future__ import annotations

import contextlib
import threading
from collections import deque

from PyQt6.QtCore import QObject, pyqtSignal

from cpmlab.core import events as ev

WIRE_KINDS = frozenset({ev.COMMAND, ev.REPLY})  # byte traffic: journaled, not shown


class EventBridge(QObject):
    """Collect events from any thread; signal the GUI once per batch (never once per reading)."""

    events_ready = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: deque[ev.Event] = deque()
        self._signalled = False

    def __call__(self, event: ev.Event) -> None:
        """Queue an event (bus subscriber; called on the engine's and drivers' threads)."""
        if event.kind in WIRE_KINDS:
            return
        with self._lock:
            self._pending.append(event)
            if self._signalled:
                return
            self._signalled = True
        with contextlib.suppress(RuntimeError):  # the console window is gone; the journal still has everything
            self.events_ready.emit()

    def drain(self) -> list[ev.Event]:
        """Return and clear the queued events (GUI thread)."""
        with self._lock:
            out = list(self._pending)
            self._pending.clear()
            self._signalled = False
        return out
