"""Participant display timing: engine<->display message round trip, and onset stamp vs flip time.

Run: xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/bench_display.py
(re-runs itself under xvfb-run when there is no DISPLAY). Prints figures; asserts nothing.
Under Xvfb there is no vsync: flips return at once, so these are the software floors; on a real
monitor the show->onset latency adds up to one refresh interval (16.7 ms at 60 Hz).
"""

from __future__ import annotations

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


def main() -> int:
    """Start a display, measure, print."""
    from cpmlab.core.clock import now
    from cpmlab.display import DisplayChannel

    started = time.monotonic()
    channel = DisplayChannel(size=(1024, 768), position=(0, 0))
    print(f"display process up in {time.monotonic() - started:.2f} s (PsychoPy import + window)")
    try:
        for _ in range(50):  # warm-up
            channel.round_trip_s()
        rtts = [rt for rt in (channel.round_trip_s() for _ in range(N_PINGS)) if rt is not None]
        onset_latency, stamp_vs_flip, onset_delivery = [], [], []
        for _ in range(N_SCREENS):
            sent = now()
            box: dict = {}

            def on_onset(msg: dict, box: dict = box) -> None:
                box.update(msg, got=now())

            channel.show_screen({"kind": "fixation", "timeout_s": 0.001}, on_onset=on_onset)
            onset_latency.append(box["t"] - sent)
            stamp_vs_flip.append(box["t"] - box["flip_t"])
            onset_delivery.append(box["got"] - box["t"])
    finally:
        channel.close()
    print("participant display (ZeroMQ DEALER/ROUTER over loopback TCP, JSON messages):")
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
