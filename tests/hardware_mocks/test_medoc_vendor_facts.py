"""Medoc emulator as the vendor's addendum describes it: signed temperature, return codes,
Automatic Start on and off, the settling time after RUNNING, refused commands, timestamp echo.

The client here decodes with its own struct formats (not the driver's tables).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator

import pytest

from cpmlab.hardware_mocks.medoc import MedocEmulator, start

GET_STATUS, SELECT_TP, START, TRIGGER = 0, 1, 2, 4
PROGRAM = 0b00011100
WAITING_MANUAL_OPERATION = 0x3000
STAMP = 0x5E0F1A2B


def exchange(address: str, command: int, parameter: int | None = None) -> bytes:
    """Send one little-endian request stamped STAMP; return the raw response."""
    host, port = address.rsplit(":", 1)
    body = struct.pack("<IB", STAMP, command) + (b"" if parameter is None else struct.pack("<I", parameter))
    with socket.create_connection((host, int(port)), timeout=1.0) as sock:
        sock.sendall(struct.pack("<I", len(body)) + body)
        data = b""
        while chunk := sock.recv(1024):
            data += chunk
    return data


def status(address: str, command: int = GET_STATUS, parameter: int | None = None) -> dict[str, int]:
    """Decode the fixed fields (temperature as a signed short, as the addendum's table says)."""
    raw = exchange(address, command, parameter)
    stamp, echo, system, test, result, _, temp = struct.unpack_from("<IBBBHIh", raw, 4)
    return {"stamp": stamp, "command": echo, "system": system, "test": test, "result": result, "temp": temp}


def wait_for(address: str, system: int, test: int, timeout_s: float = 2.0) -> dict[str, int]:
    """Poll GET_STATUS until the (system, test) states are reached."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = status(address)
        if (answer["system"], answer["test"]) == (system, test):
            return answer
        time.sleep(0.01)
    raise AssertionError(f"states ({system}, {test}) never reached")


@pytest.fixture
def emu() -> Iterator[MedocEmulator]:
    device = start(time_scale=10.0, seed=5, pretest_s=(0.5, 1.0), programs={PROGRAM: (42.0, 5.0, 2.0, 10.0)})
    yield device
    device.close()


@pytest.mark.parametrize(("neutral_c", "wire"), [(-2.5, b"\x06\xff"), (32.0, b"\x80\x0c"), (-0.01, b"\xff\xff")])
def test_temperature_is_a_signed_little_endian_short(neutral_c: float, wire: bytes) -> None:
    """Below zero the temperature bytes are the two's complement: -2.50 C is 0x06 0xff."""
    device = start(neutral_c=neutral_c)
    try:
        raw = exchange(device.port, GET_STATUS)
        assert raw[17:19] == wire
        assert struct.unpack_from("<h", raw, 17)[0] == round(neutral_c * 100)
    finally:
        device.close()


def test_response_echoes_the_request_timestamp(emu: MedocEmulator) -> None:
    """The addendum: a response carries the time stamp of the command it answers."""
    assert status(emu.port)["stamp"] == STAMP


def test_manual_start_program_waits_for_start_with_waiting_manual_operation(emu: MedocEmulator) -> None:
    """Automatic Start off: after SELECT_TP the system is READY and GET_STATUS answers 0x3000."""
    assert status(emu.port, SELECT_TP, PROGRAM)["result"] == 0
    waiting = status(emu.port)
    assert (waiting["system"], waiting["test"], waiting["result"]) == (1, 0, WAITING_MANUAL_OPERATION)
    started = status(emu.port, START)
    assert (started["system"], started["test"], started["result"]) == (2, 3, 0)


def test_automatic_start_starts_the_test_on_selection_and_refuses_start() -> None:
    """Automatic Start on: SELECT_TP goes straight to the pre-test; START is an illegal state (2)."""
    device = start(time_scale=10.0, pretest_s=(0.5, 0.5), automatic_start=True)
    try:
        selected = status(device.port, SELECT_TP, PROGRAM)
        assert (selected["system"], selected["test"], selected["result"]) == (2, 3, 0)
        assert status(device.port, START)["result"] == 2
        wait_for(device.port, 2, 1)
    finally:
        device.close()


def test_trigger_right_after_running_is_lost_and_waits_for_it_meanwhile(emu: MedocEmulator) -> None:
    """A TRIGGER within the settling time after RUNNING is lost; later it starts the stimulus.

    Until the stimulus starts, a RUNNING test waiting for its trigger answers 0x3000.
    """
    status(emu.port, SELECT_TP, PROGRAM)
    status(emu.port, START)
    running = wait_for(emu.port, 2, 1)
    assert running["result"] == WAITING_MANUAL_OPERATION
    assert status(emu.port, TRIGGER)["result"] == 0
    assert emu.lost_triggers == 1 and not emu.model.stimulating
    time.sleep(0.1)  # 0.5 s device time at scale 10
    assert status(emu.port, TRIGGER)["result"] == 0
    assert emu.model.stimulating and status(emu.port)["result"] == 0


def test_refuse_fault_answers_illegal_state_and_changes_nothing(emu: MedocEmulator) -> None:
    """refuse: SELECT_TP (or the commands given) is answered 2 and not carried out."""
    emu.set_fault("refuse")
    refused = status(emu.port, SELECT_TP, PROGRAM)
    assert (refused["result"], refused["system"]) == (2, 0)
    emu.set_fault("refuse", commands=(START,))
    assert status(emu.port, SELECT_TP, PROGRAM)["result"] == 0
    refused = status(emu.port, START)
    assert (refused["result"], refused["system"]) == (2, 1)
    emu.set_fault(None)
    assert status(emu.port, START)["result"] == 0
