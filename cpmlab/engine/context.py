"""What the step code of one session works with: the session context the engine builds.

The engine owns the session's controls and device streams; it builds one SessionContext
and hands it to the step code, which never imports the engine module.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cpmlab.core.events import EventBus
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ColdPressor, Thermode, ThermodeReading
from cpmlab.engine.timer import SessionTimer
from cpmlab.participant.channel import ParticipantChannel
from cpmlab.protocol.model import Protocol, StepBase
from cpmlab.protocol.values import Expr, resolve
from cpmlab.protocol.walk import StepPath

RunStep = Callable[[StepBase, StepPath, "int | None"], None]


@dataclass
class EngineDevices:
    """The devices a session uses, by role."""

    thermode: Thermode | None = None
    cold_pressor: ColdPressor | None = None

    def items(self) -> list[tuple[str, Any]]:
        """Return (role, device) for every present device."""
        return [(k, v) for k, v in (("thermode", self.thermode), ("cold_pressor", self.cold_pressor)) if v]


class ReadingHistory:
    """Recent thermode readings, so a response can be matched to the temperature at its own time stamp."""

    def __init__(self, maxlen: int = 3000) -> None:
        self._readings: deque[ThermodeReading] = deque(maxlen=maxlen)

    def append(self, reading: ThermodeReading) -> None:
        """Remember a reading (the oldest drops out when full)."""
        self._readings.append(reading)

    def thermode_at(self, t: float) -> ThermodeReading | None:
        """Return the last thermode reading taken at or before shared-clock time t."""
        for reading in reversed(self._readings):
            if reading.t <= t:
                return reading
        return None


class ImmersionState:
    """Which immersion is running, so exactly one of its end paths (time, withdrawal, stop) ends it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: str | None = None  # step id (or path) of the running immersion

    def start(self, step_key: str) -> None:
        """Mark an immersion as running."""
        with self._lock:
            self._running = step_key

    @property
    def running(self) -> str | None:
        """The running immersion's step id (or path), or None."""
        with self._lock:
            return self._running

    def finish(self) -> bool:
        """Mark the running immersion as ended; return False if none was running (already ended)."""
        with self._lock:
            if self._running is None:
                return False
            self._running = None
            return True


@dataclass(eq=False)
class SessionContext:
    """Everything step code may use during one session, and the state steps share."""

    protocol: Protocol
    devices: EngineDevices
    participant: ParticipantChannel
    bus: EventBus
    limits: SafetyLimits
    timer: SessionTimer
    rng: random.Random
    variables: dict[str, Any]
    readings: ReadingHistory = field(default_factory=ReadingHistory)
    screen_lock: threading.RLock = field(default_factory=threading.RLock)  # one participant screen at a time
    stimuli: dict[str, dict[str, Any]] = field(default_factory=dict)  # step id -> delivered heat stimulus
    immersion: ImmersionState = field(default_factory=ImmersionState)
    baseline_c: float | None = None  # thermode baseline last sent
    setpoint_c: float | None = None  # bath setpoint last sent
    by_id: dict[str, StepBase] = field(init=False)
    run_step: RunStep | None = None  # set by the step runner; flow steps run their children through it

    def __post_init__(self) -> None:
        self.by_id = {v.step.id: v.step for v in self.protocol.walk() if v.step.id}

    def num(self, value: float | Expr) -> float:
        """Return a number, or an expression's value with the session's variables."""
        return resolve(value, self.variables)

    def thermode_at(self, t: float) -> ThermodeReading | None:
        """Return the last thermode reading taken at or before shared-clock time t."""
        return self.readings.thermode_at(t)
