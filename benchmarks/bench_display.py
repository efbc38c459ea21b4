"""Participant display timing: engine<->display message round trip, and onset stamp vs flip time.

Run: xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/bench_display.py
(re-runs itself under xvfb-run when there is no DISPLAY); --pings N --screens N shorten it.
Prints figures; asserts nothing.
Under Xvfb there is no vsync: flips return at once, so these are the software floors; on a real
monitor the show->onset latency adds up to one refresh interval (16.7 ms at 60 Hz).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

N_PINGS = 1000
N_SCREENS = 300


def pct(values: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values."""
    ordered = sorted(values)
    return ordered[min(round(q / 100 * (len(ordered) - 1)), len(ordered) - 1)]


def line(name: str, values_s: list[float]) -> str:
    """Format median / p99 / max of values (seconds) in ms."""
    ms = [v * 1000 for v in values_s]
    median, p99 = statistics.median(ms), pct(ms, 99)
    return f"  {name:44} n={len(ms):4}  median {median:7.3f} ms  p99 {p99:7.3f} ms  max {max(ms):7.3f} ms"


def main(argv: list[str] | None = None) -> int:
    """Start a display, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=N_PINGS, help=f"ping round trips (default {N_PINGS})")
    parser.add_argument("--screens", type=int, default=N_SCREENS, help=f"screens shown (default {N_SCREENS})")
    args = parser.parse_args(argv)
    n_pings, n_screens = args.pings, args.screens
    import cpmlab.display.messages as m
    from cpmlab.core.clock import now
    from cpmlab.display import DisplayChannel
    from cpmlab.display.specs import FixationSpec
    from cpmlab.testing.display import round_trip_s, show_screen

    started = time.monotonic()
    channel = DisplayChannel(size=(1024, 768), position=(0, 0))
    print(f"display process up in {time.monotonic() - started:.2f} s (PsychoPy import + window)")
    try:
        for _ in range(50):  # warm-up
            round_trip_s(channel)
        rtts = [rt for rt in (round_trip_s(channel) for _ in range(n_pings)) if rt is not None]
        onset_latency, stamp_vs_flip, onset_delivery = [], [], []
        for _ in range(n_screens):
            sent = now()
            seen: list[tuple[m.Onset, float]] = []
            show_screen(
                channel, FixationSpec(timeout_s=0.001), on_onset=lambda msg, seen=seen: seen.append((msg, now()))
            )
            onset, got = seen[0]
            onset_latency.append(onset.t - sent)
            stamp_vs_flip.append(onset.t - (onset.flip_t if onset.flip_t is not None else onset.t))
            onset_delivery.append(got - onset.t)
    finally:
        channel.close()
    print("participant display (ZeroMQ DEALER/ROUTER over loopback TCP, CURVE-encrypted JSON messages):")
    print(line("ping round trip engine->display->engine", rtts))
    print(line("show message sent -> onset flip", onset_latency))
    print(line("onset stamp - PsychoPy flip time", stamp_vs_flip))
    print(line("onset flip -> onset message at the engine", onset_delivery))
    return 0


if __name__ == "__main__":
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") and not os.environ.get("CPMLAB_BENCH_XVFB"):
        os.environ["CPMLAB_BENCH_XVFB"] = "1"
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, *sys.argv])
    sys.exit(main())
