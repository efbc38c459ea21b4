"""Benchmark the temperature watchdog: overshooting reading received -> abort byte at the TCS II emulator.

Each trial runs a one-stimulus session through the TCS II driver against its emulator with the
``overshoot`` fault on; the journal is a real one (fsynced), as in a session. Prints figures;
asserts nothing. Run: .venv/bin/python benchmarks/bench_watchdog.py [--trials 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from pathlib import Path

from cpmlab.app.transport import open_transport
from cpmlab.core import events as ev
from cpmlab.core.events import EventBus
from cpmlab.core.vocabulary import driver_sink
from cpmlab.devices.plugins import load_drivers, load_emulators
from cpmlab.engine import EngineDevices, SessionEngine, SessionOutcome
from cpmlab.participant.simulated import SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, parse_protocol
from cpmlab.storage.journal import Journal
from cpmlab.testing.abort_spy import AbortSpy

SPEED = 5.0  # device and session time scale: the probe reaches the limit sooner, the latency is real time

PROTOCOL = """\
name: watchdog
title: Watchdog benchmark
task: bench
limits: {max_thermode_c: 48}
devices: [thermode]
steps:
  - {type: thermal, id: ts, target_c: 46, ramp_c_per_s: 10, return_c_per_s: 10, plateau_s: 30}
"""


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_trial(folder: Path, n: int, journal_on: bool = True) -> float | None:
    """Run one session with an overshooting probe; return reading receipt -> abort byte, in seconds."""
    spec = load_drivers().get("tcs2")
    protocol = parse_protocol(PROTOCOL, "watchdog.yaml")
    limits = effective_limits(protocol, None)
    emulator = load_emulators().get("tcs2").start(time_scale=SPEED, fault="overshoot")
    spy = AbortSpy(emulator)
    transport = open_transport(spec, emulator.port)
    bus = EventBus()
    journal = Journal(folder / f"trial{n}_journal.jsonl")
    bus.subscribe(journal if journal_on else (lambda e: None), critical=True)
    faults: list[ev.Event] = []
    bus.subscribe(lambda e: faults.append(e) if e.kind == ev.FAULT else None)
    device = spec.factory(transport, event_sink=driver_sink(bus.emit))
    try:
        device.connect(limits)
        engine = SessionEngine(
            protocol, EngineDevices(thermode=device), SimulatedParticipant(speed=SPEED), bus, limits, speed=SPEED
        )
        done = threading.Event()
        runner = threading.Thread(target=lambda: (engine.run(), done.set()), daemon=True)
        runner.start()
        done.wait(30)
        if engine.outcome != SessionOutcome.FAULT or spy.received_at is None or not faults:
            print(f"  trial {n}: no watchdog trip (outcome {engine.outcome})")
            return None
        return spy.received_at - faults[0].data["reading_t"]
    finally:
        device.close()
        transport.close()
        emulator.close()
        journal.close()


def main() -> None:
    """Run the trials and print median and p99."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--no-journal", action="store_true", help="a no-op journal (isolates the disk's fsync)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [r for n in range(args.trials) if (r := one_trial(Path(tmp), n, not args.no_journal)) is not None]
    ms = [r * 1000 for r in results]
    print("watchdog: overshooting reading received by the driver -> abort byte received by the TCS II emulator")
    print(
        f"  n={len(ms)}  median {statistics.median(ms):.3f} ms  p99 {pct(ms, 0.99):.3f} ms  max {max(ms):.3f} ms"
        f"  (reading period during a stimulus: 10 ms)"
    )


if __name__ == "__main__":
    main()
