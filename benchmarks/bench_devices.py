"""Benchmark the device layer: command round trips, emergency-stop latency, the 100 Hz stream.

Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/bench_devices.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import struct
import threading
import time

import serial

from cpmlab.app.transport import open_transport
from cpmlab.core.clock import now
from cpmlab.core.events import EventBus
from cpmlab.core.limits import SafetyLimits
from cpmlab.core.vocabulary import driver_sink
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.devices.plugins import load_drivers, load_emulators
from cpmlab.engine import EngineDevices, SessionEngine
from cpmlab.participant.simulated import SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, parse_protocol
from cpmlab.testing.abort_spy import AbortSpy


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"  {name:38} n={len(ms):4}  median {statistics.median(ms):7.3f} ms  p99 {pct(ms, 0.99):7.3f} ms"
        f"  max {max(ms):7.3f} ms"
    )


def serial_round_trips(name: str, request: bytes, terminator: bytes, n: int, settings: dict) -> list[float]:
    """Time request -> complete reply through an emulator with a plain pyserial client."""
    emulator = load_emulators().get(name).start()
    port = serial.Serial(emulator.port, timeout=1.0, **settings)
    try:
        if name == "tcs2":
            port.write(b"F")  # mute the periodic output so only replies come back
            time.sleep(0.05)
        port.reset_input_buffer()
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            port.write(request)
            reply = port.read_until(terminator)
            out.append(time.perf_counter() - t0)
            if not reply.endswith(terminator):
                raise RuntimeError(f"{name}: incomplete reply {reply!r}")
            if name == "julabo":
                time.sleep(0.011)  # the manual's spacing between IN_ queries
        return out
    finally:
        port.close()
        emulator.close()


def medoc_round_trips(n: int) -> list[float]:
    """Time GET_STATUS request -> response over a fresh TCP connection each (as the protocol does)."""
    emulator = load_emulators().get("medoc").start()
    host, port = emulator.port.rsplit(":", 1)
    out = []
    try:
        for _ in range(n):
            frame = struct.pack("<IB", int(time.time()), 0)
            t0 = time.perf_counter()
            with socket.create_connection((host, int(port)), timeout=2) as sock:
                sock.sendall(struct.pack("<I", len(frame)) + frame)
                header = sock.recv(4)
                (length,) = struct.unpack("<I", header)
                body = b""
                while len(body) < length:
                    body += sock.recv(length - len(body))
            out.append(time.perf_counter() - t0)
        return out
    finally:
        emulator.close()


PROTOCOL = """\
name: estop
title: E-stop benchmark
task: bench
limits: {max_thermode_c: 48}
devices: [thermode]
steps:
  - {type: thermal, id: ts, target_c: 46, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 60}
"""


def estop_latencies(trials: int) -> list[float]:
    """Time engine.emergency_stop() (the console button calls it) -> 'A' received by the TCS II emulator."""
    spec = load_drivers().get("tcs2")
    protocol = parse_protocol(PROTOCOL, "estop.yaml")
    limits = effective_limits(protocol, None)
    out = []
    for _ in range(trials):
        emulator = load_emulators().get("tcs2").start()
        spy = AbortSpy(emulator)
        transport = open_transport(spec, emulator.port)
        bus = EventBus()
        bus.subscribe(lambda e: None, critical=True)
        # driver-specific reply fields travel in the declared "fields" dict, as cpmlab.app.devices does
        device = spec.factory(transport, event_sink=driver_sink(bus.emit))
        device.connect(limits)
        participant = SimulatedParticipant(speed=1.0)
        engine = SessionEngine(protocol, EngineDevices(thermode=device), participant, bus, limits)
        runner = threading.Thread(target=engine.run, daemon=True)
        runner.start()
        while not engine.context.stimuli:
            time.sleep(0.01)
        time.sleep(0.2)
        t_button = now()
        engine.emergency_stop("benchmark")
        received_at = spy.wait(2.0)
        runner.join(5)
        if received_at is not None:
            out.append(received_at - t_button)
        device.close()
        transport.close()
        emulator.close()
    return out


def stream_loss(minutes: float) -> None:
    """Hold the TCS II 100 Hz stream for `minutes` and count dropped and malformed records."""
    spec = load_drivers().get("tcs2")
    emulator = load_emulators().get("tcs2").start()
    transport = open_transport(spec, emulator.port)
    device = spec.factory(transport)
    received = [0]
    gaps: list[float] = []
    last = [None]

    def on_reading(reading: object) -> None:
        received[0] += 1
        t = now()
        if last[0] is not None:
            gaps.append(t - last[0])
        last[0] = t

    device.add_reading_listener(on_reading)
    device.connect(SafetyLimits(max_thermode_c=48.0, max_plateau_s=120.0))
    device.set_baseline(32.0)
    end = time.monotonic() + minutes * 60
    stimulus = ThermalStimulus(32.0, 36.0, 4.0, 4.0, 95.0)  # D = 96 s, within the device's 99.999 s
    # count from a quiet line: mute, let the last record arrive, then take both counters
    device.set_streaming(False)
    time.sleep(0.2)
    sent_before = emulator.records_sent
    received[0] = 0
    device.set_streaming(True)
    gaps.clear()
    while time.monotonic() < end:
        device.stimulate(stimulus)
        time.sleep(min(stimulus.device_duration_s + 0.5, max(end - time.monotonic(), 0)))
        device.abort()
        time.sleep(0.05)
    device.set_streaming(False)
    time.sleep(0.3)
    sent = emulator.records_sent - sent_before
    malformed = device.malformed_count
    device.close()
    transport.close()
    emulator.close()
    print(
        f"  100 Hz stream for {minutes:g} min: records sent {sent}, received {received[0]}, "
        f"dropped {sent - received[0]}, malformed bytes skipped {malformed}"
    )
    if gaps:
        print(
            f"  gap between readings: median {statistics.median(gaps) * 1000:.2f} ms, "
            f"p99 {pct(gaps, 0.99) * 1000:.2f} ms, max {max(gaps) * 1000:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the 100 Hz stream test")
    parser.add_argument("--n", type=int, default=300, help="round trips per device")
    parser.add_argument("--trials", type=int, default=30, help="emergency-stop trials")
    args = parser.parse_args()
    print("command round trip through each emulator (plain client, real pty / loopback TCP):")
    report("tcs2  '?' -> 'TCS' @115200", serial_round_trips("tcs2", b"?", b"TCS", args.n, {"baudrate": 115200}))
    report(
        "julabo IN_PV_00 @9600 8N1", serial_round_trips("julabo", b"IN_PV_00\r", b"\r\n", args.n, {"baudrate": 9600})
    )
    report("lauda IN_PV_00 @9600 8N1", serial_round_trips("lauda", b"IN_PV_00\r", b"\r\n", args.n, {"baudrate": 9600}))
    report("medoc GET_STATUS (TCP connection each)", medoc_round_trips(args.n))
    print("emergency stop: engine.emergency_stop() -> abort byte received by the TCS II emulator:")
    report("button -> 'A' on the wire", estop_latencies(args.trials))
    print("temperature stream:")
    stream_loss(args.minutes)


if __name__ == "__main__":
    main()
