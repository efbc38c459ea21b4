"""Measure how long the GUI event loop is ever blocked: a 10 ms timer records its tick gaps."""

from __future__ import annotations

import time

import numpy as np
from PyQt6.QtCore import QObject, Qt, QTimer


class StallMonitor(QObject):
    """Record the gaps between ticks of a precise timer; a long gap is a frozen GUI."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.gaps_ms: list[float] = []

    def start(self) -> None:
        """Start (or restart) measuring from zero."""
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        """Stop measuring; the figures stay readable."""
        self._timer.stop()
        self._last = None

    def suspend(self) -> None:
        """Stop ticking without forgetting the gaps (e.g. around a deliberate screenshot)."""
        self._timer.stop()
        self._last = None

    def resume(self) -> None:
        """Tick again after suspend(); the suspended time is not counted as a stall."""
        self._last = None
        self._timer.start()

    def reset(self) -> None:
        """Forget every recorded gap."""
        self.gaps_ms = []
        self._last = None

    @property
    def running(self) -> bool:
        """True while measuring."""
        return self._timer.isActive()

    @property
    def max_stall_ms(self) -> float:
        """Longest gap between two ticks, in ms (the timer asks for one every interval_ms)."""
        return max(self.gaps_ms, default=0.0)

    def percentile_ms(self, q: float) -> float:
        """Return the q-th percentile (0-100) of the tick gaps, in ms."""
        return float(np.percentile(self.gaps_ms, q)) if self.gaps_ms else 0.0

    def _tick(self) -> None:
        t = time.perf_counter()
        if self._last is not None:
            self.gaps_ms.append((t - self._last) * 1000.0)
        self._last = t
