"""Scaled, pausable, abortable waiting in protocol seconds."""

from __future__ import annotations

import threading

from cpmlab.core.clock import now
from cpmlab.core.errors import SessionAborted


class SessionTimer:
    """Waits in protocol seconds (real seconds x speed); pause suspends pausable waits."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._cond = threading.Condition()
        self._paused = False
        self._holds: set[str] = set()  # what holds the session besides a pause (e.g. "display")
        self.hold_count = 0  # holds so far: a step can tell whether one began while it waited
        self._aborted: str | None = None

    @property
    def paused(self) -> bool:
        """True while paused or held."""
        return self._paused or bool(self._holds)

    @property
    def holds(self) -> frozenset[str]:
        """What holds the session now (resume() does not lift a hold; release() does)."""
        with self._cond:
            return frozenset(self._holds)

    @property
    def aborted(self) -> str | None:
        """The abort reason, or None while running."""
        return self._aborted

    def to_real(self, protocol_s: float) -> float:
        """Convert protocol seconds to real seconds."""
        return protocol_s / self.speed

    def pause(self) -> None:
        """Suspend pausable waits from now on."""
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        """Let pausable waits continue."""
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def hold(self, name: str) -> None:
        """Suspend pausable waits until release(name), whatever resume() says."""
        with self._cond:
            self._holds.add(name)
            self.hold_count += 1
            self._cond.notify_all()

    def release(self, name: str) -> bool:
        """Lift a hold; return False if it was not held."""
        with self._cond:
            held = name in self._holds
            self._holds.discard(name)
            self._cond.notify_all()
            return held

    def abort(self, reason: str) -> None:
        """Make every current and future wait raise SessionAborted."""
        with self._cond:
            if self._aborted is None:
                self._aborted = reason
            self._cond.notify_all()

    def check(self) -> None:
        """Raise SessionAborted if aborted."""
        if self._aborted is not None:
            raise SessionAborted(self._aborted)

    def wait_if_paused(self) -> None:
        """Block while paused; raise SessionAborted on abort."""
        with self._cond:
            while (self._paused or self._holds) and self._aborted is None:
                self._cond.wait()
        self.check()

    def sleep(self, protocol_s: float, *, pausable: bool = True) -> None:
        """Wait protocol_s; pausable waits stop the clock while paused."""
        remaining = self.to_real(max(protocol_s, 0.0))
        with self._cond:
            while True:
                if self._aborted is not None:
                    raise SessionAborted(self._aborted)
                if pausable and (self._paused or self._holds):
                    self._cond.wait()
                    continue
                if remaining <= 0:
                    return
                start = now()
                self._cond.wait(remaining)
                remaining -= now() - start

    def sleep_until(self, t_real: float) -> None:
        """Wait (not pausable) until shared-clock time t_real."""
        self.sleep((t_real - now()) * self.speed, pausable=False)
