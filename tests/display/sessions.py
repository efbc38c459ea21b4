"""Run a whole session through the real display with in-process device doubles (tests/fakes.py)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cpmlab.core import events as ev
from cpmlab.display import DisplayChannel, SimulatedDisplayParticipant
from cpmlab.engine import EngineDevices, SessionEngine, SessionOutcome
from cpmlab.participant.simulated import SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, load_protocol
from cpmlab.storage.bids import write_bids
from cpmlab.storage.journal import Journal, read_journal
from cpmlab.storage.paths import SessionPaths
from cpmlab.testing.fake_devices import FakeBath, FakeThermode

PROTOCOL = Path(__file__).resolve().parent / "display_protocol.yaml"


@dataclass
class DisplaySession:
    """A session wired like PreparedSession with display and simulate, but on fake devices."""

    bus: ev.EventBus
    engine: SessionEngine
    participant: SimulatedDisplayParticipant
    paths: SessionPaths
    journal: Journal
    devices: tuple[FakeThermode, FakeBath]

    def run(self) -> SessionOutcome:
        """Run, close everything, write the BIDS files."""
        try:
            outcome = self.engine.run({"participant": "01", "session": "1", "run": 1})
        finally:
            self.participant.close()
            for device in self.devices:
                device.close()
            self.journal.close()
        write_bids(self.paths)
        return outcome

    def beh(self) -> list[dict[str, str]]:
        """Rows of the _beh.tsv."""
        path = next(self.paths.beh_dir.glob("*_beh.tsv"))
        with path.open(newline="") as f:
            return list(csv.DictReader(f, delimiter="\t"))

    def records(self) -> list[dict]:
        """The journal."""
        return list(read_journal(self.paths.journal))


def display_session(
    root: Path, *, speed: float, seed: int = 3, mode: str = "mixed", on_fault: Callable[[str], None] | None = None
) -> DisplaySession:
    """Build a DisplaySession for the display test protocol."""
    protocol = load_protocol(PROTOCOL)
    limits = effective_limits(protocol, None)
    bus = ev.EventBus()
    paths = SessionPaths.create(root, "01", "1", protocol.task)
    journal = Journal(paths.journal)
    bus.subscribe(journal, critical=True)
    thermode, bath = FakeThermode(speed), FakeBath(speed)
    thermode.connect(limits)
    bath.connect(limits)
    sim = SimulatedParticipant(seed=seed, speed=speed)
    bus.subscribe(sim.observe)
    channel = DisplayChannel(
        language=protocol.language,
        size=(1024, 768),
        position=(0, 0),
        time_scale=speed,
        on_fault=on_fault or (lambda m: bus.emit(ev.FAULT, device="display", message=m)),
        on_restored=lambda m: bus.emit(ev.NOTE, text=m, source="display"),
    )
    participant = SimulatedDisplayParticipant(channel, sim, seed=seed, input_mode=mode)  # type: ignore[arg-type]
    engine = SessionEngine(
        protocol,
        EngineDevices(thermode, bath),
        participant,
        bus,
        limits,
        speed=speed,
        variables={"participant": "01", "session": "1", "run": 1},
        seed=seed,
    )
    return DisplaySession(bus, engine, participant, paths, journal, (thermode, bath))
