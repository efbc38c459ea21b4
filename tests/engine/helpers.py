"""Run small protocols through the engine with in-process fake devices."""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass, field
from typing import Any

from cpmlab.core import events as ev
from cpmlab.core.events import EventBus
from cpmlab.engine import EngineDevices, SessionEngine
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, parse_protocol
from cpmlab.testing.fake_devices import FakeBath, FakeThermode

HEADER = """\
name: t
title: Test
task: cpmtest
limits: {max_thermode_c: 50, max_plateau_s: 60, max_immersion_s: 120, min_bath_c: 5}
"""


@dataclass
class Run:
    """An engine wired to fakes, with every published event collected."""

    engine: SessionEngine
    thermode: FakeThermode
    bath: FakeBath
    participant: SimulatedParticipant
    events: list[ev.Event] = field(default_factory=list)

    def of(self, kind: str, **match: Any) -> list[ev.Event]:
        return [e for e in self.events if e.kind == kind and all(e.data.get(k) == v for k, v in match.items())]

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.engine.run, daemon=True)
        thread.start()
        return thread

    def wait_for(self, kind: str, timeout_s: float = 10.0, **match: Any) -> ev.Event:
        deadline = threading.Event()
        for _ in range(int(timeout_s / 0.01)):
            found = self.of(kind, **match)
            if found:
                return found[0]
            deadline.wait(0.01)
        raise AssertionError(f"no {kind} event matching {match} within {timeout_s} s")


def make_run(
    body: str, speed: float = 20.0, model: ParticipantModel | None = None, seed: int = 0, rate_hz: float = 50.0
) -> Run:
    protocol = parse_protocol(HEADER + textwrap.dedent(body), "test.yaml")
    limits = effective_limits(protocol, None)
    bus = EventBus()
    thermode, bath = FakeThermode(speed, rate_hz=rate_hz), FakeBath(speed)
    participant = SimulatedParticipant(model, seed=seed, speed=speed, on_hand_immersed=bath.physics.set_hand_immersed)
    bus.subscribe(participant.observe)
    thermode.connect(limits)
    bath.connect(limits)
    engine = SessionEngine(protocol, EngineDevices(thermode, bath), participant, bus, limits, speed=speed, seed=seed)
    run = Run(engine, thermode, bath, participant)
    bus.subscribe(run.events.append)
    return run
