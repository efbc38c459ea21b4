"""Benchmark the LSL bridge: marker latency to another process, and 100 Hz samples lost.

Run: .venv/bin/python benchmarks/bench_lsl.py [--minutes 10] [--markers 2000]

1. Marker latency: --markers markers go through LslBridge (as the engine's events do),
   one every --marker-interval-ms; a plain-pylsl receiver in another process notes
   local_clock() when each arrives. Latency = receipt time - event time (one clock: same
   machine). Prints median, 99th percentile and maximum.
2. Samples lost: thermode readings at 100 Hz for --minutes (value = sequence number);
   the receiver counts which arrived. Prints pushed, received, lost, and push timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LSLAPICFG", str(ROOT / "tests" / "lsl" / "lsl_api.cfg"))  # resolve on this machine

from cpmlab.core import events as ev  # noqa: E402
from cpmlab.core.clock import now  # noqa: E402
from cpmlab.core.events import Event  # noqa: E402
from cpmlab.lsl import streams as st  # noqa: E402
from cpmlab.lsl.bridge import LslBridge  # noqa: E402

RECEIVER = r"""
import json, sys, threading, pylsl
prefix = sys.argv[1]
def find(name):
    while True:
        pred = f"name='{name}' and starts-with(source_id, '{prefix}')"
        found = pylsl.resolve_bypred(pred, 1, 2.0)
        if found:
            inlet = pylsl.StreamInlet(found[0], max_buflen=60)
            inlet.open_stream(10.0)
            return inlet
markers, thermode = find("cpmlab-markers"), find("cpmlab-thermode")
latencies, seqs, done = [], [], threading.Event()
def pull_markers():
    while True:
        sample, t = markers.pull_sample(timeout=1.0)
        if sample is None:
            continue
        received = pylsl.local_clock()
        if sample[0].startswith("marker "):
            latencies.append(received - t)
        if sample[0].startswith("session_end "):
            done.set()
            return
def pull_thermode():
    while not done.is_set():
        samples, _ = thermode.pull_chunk(timeout=0.1)
        seqs.extend(int(s[0]) for s in samples)
    samples, _ = thermode.pull_chunk(timeout=1.0)
    seqs.extend(int(s[0]) for s in samples)
threads = [threading.Thread(target=pull_markers), threading.Thread(target=pull_thermode)]
for th in threads: th.start()
print("READY", flush=True)
for th in threads: th.join()
print(json.dumps({"latencies_s": latencies, "seqs": seqs}), flush=True)
"""


def _sleep_until(t: float) -> None:
    delay = t - now()
    if delay > 0:
        time.sleep(delay)


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="duration of the 100 Hz run (default 10)")
    parser.add_argument("--markers", type=int, default=2000, help="markers for the latency figure (default 2000)")
    parser.add_argument("--marker-interval-ms", type=float, default=5.0, help="time between markers (default 5)")
    args = parser.parse_args()

    lab = f"bench-{uuid.uuid4().hex[:8]}"
    bridge = LslBridge(lab, streams=(st.MARKERS, st.THERMODE))
    bridge.open({"participant": "bench", "session": "1", "run": 1, "protocol": "bench", "task": "bench"})
    receiver = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, f"cpmlab.{lab}."], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert receiver.stdout is not None
    if receiver.stdout.readline().strip() != "READY":
        print("receiver did not start", file=sys.stderr)
        return 1
    bridge.wait_for_consumers(10.0, (st.MARKERS, st.THERMODE))
    time.sleep(0.5)

    # 1. markers, one every interval
    interval_s = args.marker_interval_ms / 1000.0
    t_next = now()
    for i in range(args.markers):
        _sleep_until(t_next)
        bridge(Event(ev.MARKER, now(), {"name": "bench", "fields": {"i": i}}))
        t_next += interval_s

    # 2. thermode readings at 100 Hz, paced on an absolute schedule
    period_s = 0.01
    n_samples = round(args.minutes * 60.0 / period_s)
    late = 0
    t_start = now()
    for i in range(n_samples):
        t_due = t_start + i * period_s
        _sleep_until(t_due)
        t = now()
        if t - t_due > period_s:
            late += 1
        bridge(Event(ev.READING, t, {"device": "thermode", "neutral_c": float(i), "zones_c": [32.0] * 5}))
    elapsed_s = now() - t_start
    bridge(Event(ev.SESSION_END, now(), {"outcome": "completed"}))
    out, _ = receiver.communicate(timeout=60)
    bridge.close()
    result = json.loads(out.strip().splitlines()[-1])

    lat_ms = np.asarray(result["latencies_s"]) * 1000.0
    seqs = set(result["seqs"])
    lost = n_samples - len(seqs & set(range(n_samples)))
    print(f"LSL bridge benchmark (liblsl on this machine, receiver in another process; lab {lab})")
    print(f"markers: {len(lat_ms)} of {args.markers} received, one every {args.marker_interval_ms:g} ms")
    print(
        f"  latency event -> receipt: median {np.median(lat_ms):.3f} ms, "
        f"p99 {np.percentile(lat_ms, 99):.3f} ms, max {lat_ms.max():.3f} ms"
    )
    print(
        f"thermode 100 Hz for {args.minutes:g} min ({elapsed_s:.1f} s): pushed {n_samples}, "
        f"received {len(seqs)}, lost {lost} ({100.0 * lost / max(n_samples, 1):.4f} %)"
    )
    print(
        f"  pushes more than one period late (scheduler jitter): {late}; "
        f"bridge push errors: {sum(bridge.errors.values())}"
    )
    return 0 if lost == 0 and len(lat_ms) == args.markers else 1


if __name__ == "__main__":
    sys.exit(main())
