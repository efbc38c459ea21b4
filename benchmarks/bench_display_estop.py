"""Emergency stop from the participant display: F12 pressed in the full-screen window -> 'A' at the TCS II emulator.

Run: xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/bench_display_estop.py [--trials 30]
(re-runs itself under xvfb-run when there is no DISPLAY). Each trial runs a 46 C plateau on the
emulated TCS II through its real driver, focuses the full-screen display and presses F12 through
XTEST (what xdotool does, in-process: the press time is taken just before the key goes to the X
server). The display forwards the key to the engine, which aborts the thermode. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from typing import Any

PROTOCOL = """\
name: estop
title: Estop
task: estop
limits: {max_thermode_c: 48}
devices: [thermode]
steps:
  - {type: thermal, id: ts, target_c: 46, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 60}
"""


def pct(values: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values."""
    ordered = sorted(values)
    return ordered[min(round(q / 100 * (len(ordered) - 1)), len(ordered) - 1)]


def main(argv: list[str] | None = None) -> int:
    """Start a full-screen display, run the trials, print median and p99."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="key presses (default 30)")
    args = parser.parse_args(argv)
    from cpmlab.app.transport import open_transport
    from cpmlab.core.clock import now
    from cpmlab.core.events import EventBus
    from cpmlab.core.vocabulary import driver_sink
    from cpmlab.devices.plugins import load_drivers, load_emulators
    from cpmlab.display import DisplayChannel
    from cpmlab.display.inject import XTestInjector
    from cpmlab.engine import EngineDevices, SessionEngine
    from cpmlab.participant.simulated import SimulatedParticipant
    from cpmlab.protocol.loader import effective_limits, parse_protocol
    from cpmlab.testing.abort_spy import AbortSpy

    spec = load_drivers().get("tcs2")
    protocol = parse_protocol(PROTOCOL, "estop.yaml")
    limits = effective_limits(protocol, None)
    engine_box: list[Any] = []
    stamps: list[float] = []
    arrivals: list[float] = []

    def on_stop(key: str, t: float) -> None:
        arrivals.append(now())
        stamps.append(t)
        engine_box[-1].emergency_stop(f"display key {key}", key=key)

    channel = DisplayChannel(fullscreen=True, on_emergency_stop=on_stop)
    injector = XTestInjector()
    injector.set_window(channel.window)
    press_to_abort, stamp_to_abort, stamp_to_engine = [], [], []
    try:
        for _ in range(args.trials):
            emulator = load_emulators().get("tcs2").start()
            spy = AbortSpy(emulator)
            transport = open_transport(spec, emulator.port)
            bus = EventBus()
            bus.subscribe(lambda e: None, critical=True)
            device = spec.factory(transport, event_sink=driver_sink(bus.emit))
            device.connect(limits)
            engine = SessionEngine(protocol, EngineDevices(thermode=device), SimulatedParticipant(), bus, limits)
            engine_box.append(engine)
            runner = threading.Thread(target=engine.run, daemon=True)
            runner.start()
            while not engine.context.stimuli:
                time.sleep(0.01)
            time.sleep(0.2)
            n_stamps = len(stamps)
            t_press = now()
            injector.key("F12")
            received_at = spy.wait(2.0)
            runner.join(5)
            if received_at is not None:
                press_to_abort.append(received_at - t_press)
                if len(stamps) > n_stamps:
                    stamp_to_abort.append(received_at - stamps[n_stamps])
                    stamp_to_engine.append(arrivals[n_stamps] - stamps[n_stamps])
            device.close()
            transport.close()
            emulator.close()
    finally:
        injector.close()
        channel.close()
    print(f"emergency stop from the full-screen participant display ({len(press_to_abort)}/{args.trials} trials):")
    for name, values in (
        ("F12 into the X server -> 'A' at the TCS II emulator", press_to_abort),
        ("display's key stamp -> 'A' at the emulator", stamp_to_abort),
        ("display's key stamp -> engine's stop call", stamp_to_engine),
    ):
        if values:
            ms = [v * 1000 for v in values]
            median, p99 = statistics.median(ms), pct(ms, 99)
            slowest = ", ".join(f"{v:.1f}" for v in sorted(ms)[-3:])
            print(f"  {name:52} median {median:7.2f} ms  p99 {p99:7.2f} ms  (slowest 3: {slowest} ms)")
    return 0


if __name__ == "__main__":
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and not os.environ.get("CPMLAB_BENCH_XVFB"):
        os.environ["CPMLAB_BENCH_XVFB"] = "1"
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, *sys.argv])
    sys.exit(main())
