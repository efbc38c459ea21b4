"""A third-party LSL receiver written with plain pylsl (no cpmlab import), as a lab's own script would be.

Usage: receiver.py SOURCE_ID_PREFIX [TIMEOUT_S]

Resolves the markers stream by type and name, and the temperature streams by type, keeps
those whose source_id starts with SOURCE_ID_PREFIX, prints "READY" once every inlet is
connected, then collects until a "session_end" marker arrived (plus one second) and prints
one JSON line: the markers with their LSL time stamps, and the sample counts and channel
labels of the numeric streams.
"""

from __future__ import annotations

import json
import sys
import time

import pylsl


def _pick(infos: list[pylsl.StreamInfo], prefix: str) -> list[pylsl.StreamInfo]:
    return [i for i in infos if i.source_id().startswith(prefix)]


def _labels(inlet: pylsl.StreamInlet) -> list[str]:
    ch = inlet.info(5.0).desc().child("channels").child("channel")
    labels = []
    while not ch.empty():
        labels.append(f"{ch.child_value('label')}[{ch.child_value('unit')}]")
        ch = ch.next_sibling()
    return labels


def main() -> int:
    prefix = sys.argv[1]
    timeout_s = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    deadline = time.monotonic() + 15.0
    markers: list[pylsl.StreamInfo] = []
    temps: list[pylsl.StreamInfo] = []
    while time.monotonic() < deadline and (not markers or len(temps) < 2):
        mine = f"starts-with(source_id, '{prefix}')"  # other cpmlab sessions may run on this machine
        markers = _pick(pylsl.resolve_bypred(f"type='Markers' and name='cpmlab-markers' and {mine}", 1, 1.0), prefix)
        temps = _pick(pylsl.resolve_bypred(f"type='Temperature' and {mine}", 2, 1.0), prefix)
    if not markers:
        print(json.dumps({"error": "markers stream not found"}), flush=True)
        return 1
    marker_inlet = pylsl.StreamInlet(markers[0])
    marker_inlet.open_stream(5.0)
    numeric = {}
    for info in temps:
        inlet = pylsl.StreamInlet(info)
        inlet.open_stream(5.0)
        numeric[info.name()] = inlet
    print("READY", flush=True)

    received: list[tuple[float, str]] = []
    counts = {name: 0 for name in numeric}
    end_at = time.monotonic() + timeout_s
    while time.monotonic() < end_at:
        samples, stamps = marker_inlet.pull_chunk(timeout=0.05)
        for sample, t in zip(samples, stamps, strict=True):
            received.append((t, sample[0]))
            if sample[0].startswith("session_end "):
                end_at = min(end_at, time.monotonic() + 1.0)
        for name, inlet in numeric.items():
            _, st = inlet.pull_chunk(timeout=0.0)
            counts[name] += len(st)
    labels = {name: _labels(inlet) for name, inlet in numeric.items()}
    print(
        json.dumps(
            {
                "markers": received,
                "counts": counts,
                "labels": labels,
                "marker_type": markers[0].type(),
                "marker_rate": markers[0].nominal_srate(),
                "marker_format": markers[0].channel_format(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
