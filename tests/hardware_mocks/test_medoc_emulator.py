"""Medoc external-control emulator on loopback TCP: a manual-only client, states, faults."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.devices.transport import TcpConnector
from cpmlab.drivers.medoc import MedocThermode
from cpmlab.hardware_mocks.medoc import EMULATOR, MedocEmulator, start

GET_STATUS, SELECT_TP, START, TRIGGER, STOP, ABORT, T_UP = 0, 1, 2, 4, 5, 6, 12
PROGRAM = 0b00011100


@pytest.fixture
def emu() -> Iterator[MedocEmulator]:
    device = start(time_scale=10.0, seed=3, pretest_s=(1.0, 2.0), programs={PROGRAM: (42.0, 5.0, 2.0, 10.0)})
    yield device
    device.close()


# -- a minimal third-party client, written from the manual only ------------------------------
def medoc(address: str, command: int, parameter: int | None = None, timeout: float = 1.0) -> dict[str, Any]:
    """Send one little-endian frame on a new connection; read until the server closes."""
    host, port = address.rsplit(":", 1)
    body = struct.pack("<IB", int(time.time()), command)
    if parameter is not None:
        body += struct.pack("<I", parameter)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(struct.pack("<I", len(body)) + body)
        data = b""
        while chunk := sock.recv(1024):
            data += chunk
    (length,) = struct.unpack_from("<I", data)
    fields = struct.unpack_from("<IBBBHIHBBBB", data, 4)
    names = [
        "timestamp",
        "command",
        "state",
        "test_state",
        "result",
        "test_ms",
        "temp",
        "covas",
        "yes",
        "no",
        "ttl",
    ]
    out = dict(zip(names, fields, strict=True))
    out["length"], out["temp_c"] = length, out["temp"] / 100
    out["text"] = data[23 : 4 + length].decode("latin-1")
    return out


def wait_running(address: str, timeout_s: float = 2.0) -> dict[str, Any]:
    """Poll GET_STATUS until the test state is RUNNING (1)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = medoc(address, GET_STATUS)
        if status["test_state"] == 1:
            return status
        time.sleep(0.01)
    raise AssertionError("test never left the pre-test phase")


def test_spec_and_loopback_port(emu: MedocEmulator) -> None:
    """EMULATOR is declared; the server binds 127.0.0.1 on a free port."""
    assert EMULATOR.name == "medoc" and "alarm" in EMULATOR.faults
    host, port = emu.port.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0


def test_get_status_answers_a_manual_client(emu: MedocEmulator) -> None:
    """GET_STATUS: 19-byte body, command echo 0, IDLE/IDLE, result OK, 32.00 C."""
    status = medoc(emu.port, GET_STATUS)
    assert status["length"] == 19 and status["command"] == GET_STATUS
    assert (status["state"], status["test_state"], status["result"]) == (0, 0, 0)
    assert status["temp_c"] == pytest.approx(32.0, abs=0.05)


def test_trigger_during_pretest_is_lost_then_works_once_running(emu: MedocEmulator) -> None:
    """After START a TRIGGER is answered OK but lost; once RUNNING it starts the stimulus."""
    assert medoc(emu.port, SELECT_TP, PROGRAM)["state"] == 1
    started = medoc(emu.port, START)
    assert (started["state"], started["test_state"]) == (2, 3)
    assert medoc(emu.port, TRIGGER)["result"] == 0
    assert emu.lost_triggers == 1 and not emu.model.stimulating
    wait_running(emu.port)
    time.sleep(0.1)  # the settling time after RUNNING: 0.5 s device time at scale 10
    assert medoc(emu.port, TRIGGER)["result"] == 0
    assert emu.model.stimulating


def test_program_ramps_holds_returns_and_ends_the_test() -> None:
    """Program (42 C, 5 C/s, 2 s, 10 C/s): rate within tolerance, hold, back to READY/IDLE."""
    scale = 5.0
    device = start(time_scale=scale, pretest_s=(0.5, 0.5), programs={PROGRAM: (42.0, 5.0, 2.0, 10.0)})
    try:
        medoc(device.port, SELECT_TP, PROGRAM)
        medoc(device.port, START)
        wait_running(device.port)
        time.sleep(0.15)  # settling: 0.5 s device time at scale 5
        medoc(device.port, TRIGGER)
        samples = []
        end = time.monotonic() + 1.4
        while time.monotonic() < end:
            status = medoc(device.port, GET_STATUS)
            samples.append((time.monotonic(), status["temp_c"], status["state"], status["test_state"]))
            time.sleep(0.01)
        peak = next(i for i, s in enumerate(samples) if s[1] >= 41.9)
        rising = [(t, c) for t, c, _, _ in samples[:peak] if 34.0 <= c <= 40.0]
        (t_a, c_a), (t_b, c_b) = rising[0], rising[-1]
        assert (c_b - c_a) / (t_b - t_a) / scale == pytest.approx(5.0, rel=0.3)
        assert sum(1 for s in samples if 41.9 <= s[1] <= 42.1) >= 5
        assert samples[-1][1] == pytest.approx(32.0, abs=0.2)
        assert samples[-1][2:] == (1, 0)  # system READY, test IDLE: the test is over
    finally:
        device.close()


def test_illegal_state_and_parameter_results(emu: MedocEmulator) -> None:
    """START unselected -> 2; unknown program -> 1; TRIGGER idle -> 2; T_UP idle -> 3."""
    assert medoc(emu.port, START)["result"] == 2
    bad = medoc(emu.port, SELECT_TP, 0b11111111)
    assert bad["result"] == 1 and bad["text"]
    assert medoc(emu.port, TRIGGER)["result"] == 2
    assert medoc(emu.port, T_UP, 100)["result"] == 3
    assert medoc(emu.port, STOP)["result"] == 2
    assert medoc(emu.port, ABORT)["result"] == 0


def test_big_endian_length_gets_no_answer(emu: MedocEmulator) -> None:
    """A frame whose length is big-endian (a known client bug) is dropped unanswered."""
    host, port = emu.port.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=1.0) as sock:
        sock.sendall(struct.pack(">I", 5) + struct.pack("<IB", 0, GET_STATUS))
        try:
            answer = sock.recv(64)
        except ConnectionResetError:  # closed with the unread frame still queued
            answer = b""
        assert answer == b""


# -- faults ---------------------------------------------------------------------------------
def test_unplug_refuses_connections_until_cleared(emu: MedocEmulator) -> None:
    """Unplug closes the listener (connection refused); clearing it listens again."""
    emu.set_fault("unplug")
    with pytest.raises(ConnectionRefusedError):
        medoc(emu.port, GET_STATUS)
    emu.set_fault(None)
    assert medoc(emu.port, GET_STATUS)["result"] == 0


def test_alarm_is_a_safety_error_that_stops_the_test(emu: MedocEmulator) -> None:
    """Alarm: result 16384 with a text, the stimulus returns and the system goes IDLE."""
    medoc(emu.port, SELECT_TP, PROGRAM)
    medoc(emu.port, START)
    wait_running(emu.port)
    time.sleep(0.1)
    medoc(emu.port, TRIGGER)
    emu.set_fault("alarm")
    status = medoc(emu.port, GET_STATUS)
    assert status["result"] == 16384 and status["text"]
    assert (status["state"], status["test_state"]) == (0, 0)
    assert emu.model.zones[0].phase in ("return", "idle")


# -- our own driver against the emulator ----------------------------------------------------
def test_driver_waits_out_the_pretest_and_faults_on_unplug(emu: MedocEmulator) -> None:
    """MedocThermode never loses its TRIGGER, sees the ramp, and reports unplug once."""
    connector = TcpConnector.parse(emu.port, 20121)
    driver = MedocThermode(connector, program_for={42.0: PROGRAM}, poll_interval_s=0.05)
    faults: list[str] = []
    gone = threading.Event()
    driver.add_fault_listener(lambda m: (faults.append(m), gone.set()))
    try:
        driver.connect(SafetyLimits())
        driver.set_baseline(32.0)
        driver.stimulate(ThermalStimulus(32.0, 42.0, 5.0, 5.0, 2.0, zones=(1,)))
        assert emu.lost_triggers == 0 and emu.model.stimulating
        time.sleep(0.3)
        assert driver.read_temperatures().zones_c[0] > 36.0
        emu.set_fault("unplug")
        assert gone.wait(1.0)
        time.sleep(0.2)
        assert len(faults) == 1
    finally:
        driver.close()
        driver.close()
