"""TCS II emulator over a real pty: a client written from the manual, physics, every fault."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus, ThermodeReading
from cpmlab.drivers.tcs2 import Tcs2Thermode
from cpmlab.hardware_mocks.tcs2 import EMULATOR, Tcs2Emulator, start

RECORD = re.compile(rb"^\r(\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})$")


@pytest.fixture
def emu() -> Iterator[Tcs2Emulator]:
    device = start(time_scale=10.0, seed=1)
    yield device
    device.close()


@pytest.fixture
def client(emu: Tcs2Emulator) -> Iterator[serial.Serial]:
    port = serial.Serial(emu.port, baudrate=115200, bytesize=8, parity="N", stopbits=1, timeout=0.5)
    yield port
    port.close()


# -- a minimal third-party client, written from the manual only ------------------------------
def get_temperatures(port: serial.Serial) -> tuple[float, list[float]]:
    """Flush, send E, read exactly 24 bytes: CR + neutral + five signed zones (1/10 C)."""
    port.reset_input_buffer()
    port.write(b"E")
    data = port.read(24)
    match = RECORD.match(data)
    assert match, data
    values = [int(g) / 10 for g in match.groups()]
    return values[0], values[1:]


def mute(port: serial.Serial) -> None:
    """Send F, let a record already on its way arrive, then drop it."""
    port.write(b"F")
    time.sleep(0.05)
    port.reset_input_buffer()


def read_stream(port: serial.Serial, seconds: float) -> list[tuple[float, list[float]]]:
    """Read streamed records line by line for a while; return (receipt time, zones)."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        line = port.readline()
        match = RECORD.match(line.rstrip(b"\r\n"))
        if match:
            out.append((time.monotonic(), [int(g) / 10 for g in match.groups()[1:]]))
    return out


def test_spec_declares_all_serial_faults() -> None:
    """EMULATOR names tcs2 and offers unplug, silence, garbage, slow, split, alarm, overshoot and refuse."""
    assert EMULATOR.name == "tcs2" and EMULATOR.kind == "thermode"
    assert set(EMULATOR.faults) == {"unplug", "silence", "garbage", "slow", "split", "alarm", "overshoot", "refuse"}


def test_back_to_back_commands_and_a_24_byte_read(emu: Tcs2Emulator, client: serial.Serial) -> None:
    """N300Om500F in one write sets neutral and ceiling and mutes; E then reads 24 bytes."""
    client.write(b"N300Om500F")
    time.sleep(0.05)
    neutral, zones = get_temperatures(client)
    assert neutral == 30.0 and len(zones) == 5
    assert emu.max_tenths == 500 and not emu.output_between
    client.reset_input_buffer()
    assert client.read(30) == b""  # muted: nothing streams (the 1 Hz output is off)


def test_whole_line_reader_gets_the_same_record(client: serial.Serial) -> None:
    """A client reading a whole line after E gets CR + 23 bytes + line end."""
    client.write(b"F")
    time.sleep(0.05)
    client.reset_input_buffer()
    client.write(b"E")
    line = client.readline()
    assert line.endswith(b"\n") and RECORD.match(line.rstrip(b"\r\n"))
    assert len(line.rstrip(b"\r\n")) == 24


def test_identity_and_help_text(client: serial.Serial) -> None:
    """? answers TCS; H starts with Firmware, Probe ID and Probe TYPE lines."""
    client.write(b"F")
    time.sleep(0.05)
    client.reset_input_buffer()
    client.write(b"?")
    assert client.readline() == b"TCS\r\n"
    client.write(b"H")
    lines = [client.readline().decode().strip() for _ in range(6)]
    assert lines[0].startswith("Firmware: ")
    assert lines[1].startswith("Probe ID: ")
    assert lines[2].startswith("Probe TYPE: ")
    assert "Command list:" in lines


def test_split_commands_and_unknown_bytes_resynchronise(emu: Tcs2Emulator, client: serial.Serial) -> None:
    """A command split across writes still works; junk bytes are skipped."""
    client.write(b"F\x00zz!")
    client.write(b"N3")
    time.sleep(0.05)
    client.write(b"10")
    time.sleep(0.05)
    assert get_temperatures(client)[0] == 31.0
    assert "N310" in emu.commands_seen


def test_periodic_output_at_1_hz_when_idle(client: serial.Serial) -> None:
    """Unmuted and idle, a record arrives about once per second (real time)."""
    records = read_stream(client, 1.3)
    assert 1 <= len(records) <= 3


def test_stimulus_ramps_holds_and_returns_by_itself() -> None:
    """Ramp at the commanded 5 C/s, hold at 42 C, and return to 32 C with no further command."""
    scale = 5.0
    device = start(time_scale=scale)
    port = serial.Serial(device.port, 115200, timeout=0.2)
    try:
        # ramp 2 s + plateau 2 s = D 4000 ms; return at 10 C/s: 1 s. 5 device s = 1 real s.
        port.write(b"N320C0420V00050R00100D004000S11111L")
        records = read_stream(port, 1.5)
        assert len(records) > 50  # 100 Hz during the stimulation
        t0 = records[0][0]
        peak = next(i for i, (_, z) in enumerate(records) if z[0] >= 41.9)
        rising = [(t - t0, z[0]) for t, z in records[:peak] if 34.0 <= z[0] <= 40.0]
        times, temps = zip(*rising, strict=True)
        n = len(times)
        mean_t, mean_c = sum(times) / n, sum(temps) / n
        slope = sum((t - mean_t) * (c - mean_c) for t, c in rising) / sum((t - mean_t) ** 2 for t in times)
        assert slope / scale == pytest.approx(5.0, rel=0.25)  # C per device second
        assert max(z[0] for _, z in records) == pytest.approx(42.0, abs=0.2)
        held = [z[0] for t, z in records if 41.9 <= z[0] <= 42.1]
        assert len(held) > 20  # about 2 device s = 0.4 real s of plateau
        time.sleep(0.3)
        port.reset_input_buffer()
        port.write(b"F")
        time.sleep(0.05)
        assert get_temperatures(port)[1] == pytest.approx([32.0] * 5, abs=0.2)
        assert not device.model.stimulating
    finally:
        port.close()
        device.close()


def test_om_clamps_later_targets_and_the_physics(emu: Tcs2Emulator, client: serial.Serial) -> None:
    """With Om400, C0450 is stored as 40.0 C and the probe never exceeds it."""
    client.write(b"FOm400C0450V09999D005000Ot04500L")
    time.sleep(0.15)
    zones = get_temperatures(client)[1]
    assert max(zones) <= 40.0
    assert max(zones) == pytest.approx(40.0, abs=0.2)
    client.write(b"A")
    client.reset_input_buffer()
    client.write(b"P")
    text = b"".join(client.readline() for _ in range(9)).decode()
    assert "C=400" in text and "C=450" not in text


def test_buttons_q_b_and_clock(emu: Tcs2Emulator, client: serial.Serial) -> None:
    """K reports held buttons as CR + two digits; Q, B and Xw/Xr answer as documented."""
    client.write(b"F")
    time.sleep(0.05)
    client.reset_input_buffer()
    emu.press_button(stim=True, response=False)
    client.write(b"K")
    assert client.readline() == b"\r10\r\n"
    emu.press_button(stim=False, response=True)
    client.write(b"K")
    assert client.readline() == b"\r01\r\n"
    client.write(b"Q")
    assert client.readline() == b"000000\r\n"
    client.write(b"B")
    assert re.match(rb"^\d\.\d\dv \d+%\r\n$", client.readline())
    client.write(b"Xw120000010125Xr")
    assert client.readline().startswith(b"1200")


def test_response_button_stops_an_ol_stimulation(emu: Tcs2Emulator, client: serial.Serial) -> None:
    """Ol starts a stimulation that the response button stops."""
    client.write(b"FC0450V00010D099999Ol")
    time.sleep(0.05)
    assert emu.model.stimulating
    emu.press_button(response=True)
    assert all(z.phase in ("return", "idle") for z in emu.model.zones)


def test_g_calibration_replies_neutral(client: serial.Serial) -> None:
    """G answers Nxxx after a few (device) seconds."""
    mute(client)
    client.write(b"N330G")
    assert client.readline() == b"N330\r\n"


def test_profiles_are_stored_and_listed(client: serial.Serial) -> None:
    """Uw stores a two-segment profile for area 1; Ur lists it."""
    mute(client)
    client.write(b"Uw10000002100400050320Ur")
    lines = [client.readline() for _ in range(5)]
    assert lines[0].startswith(b"1 0 002 100400 050320")


# -- faults ---------------------------------------------------------------------------------


def test_alarm_reports_a_zone_error_and_aborts(emu: Tcs2Emulator, client: serial.Serial) -> None:
    """Alarm: Q shows a nonzero zone code, the stimulation aborts and L is refused."""
    client.write(b"FC0450V00010D099999L")
    time.sleep(0.05)
    assert emu.model.stimulating
    emu.set_fault("alarm")
    assert all(z.phase in ("return", "idle") for z in emu.model.zones)
    client.reset_input_buffer()
    client.write(b"Q")
    codes = client.readline().strip()
    assert codes != b"000000" and len(codes) == 6
    time.sleep(0.3)
    client.write(b"L")
    time.sleep(0.05)
    assert not emu.model.stimulating


# -- our own driver against the emulator ----------------------------------------------------
def test_driver_runs_a_stimulus_and_sees_the_port_vanish(emu: Tcs2Emulator) -> None:
    """Tcs2Thermode connects, streams readings during a stimulus and faults on unplug."""
    port = serial.Serial(emu.port, 115200, timeout=0.05)
    driver = Tcs2Thermode(port)
    readings: list[ThermodeReading] = []
    faults: list[str] = []
    vanished = threading.Event()
    driver.add_reading_listener(readings.append)
    driver.add_fault_listener(lambda m: (faults.append(m), vanished.set()))
    try:
        info = driver.connect(SafetyLimits(max_thermode_c=48.0))
        assert info.details["probe_type"] == "003"
        deadline = time.monotonic() + 1.0
        while emu.max_tenths != 480 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert emu.max_tenths == 480
        driver.set_baseline(32.0)
        driver.stimulate(ThermalStimulus(32.0, 44.0, 10.0, 10.0, 3.0, zones=(1, 3)))
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not any(r.zones_c[0] > 43.8 for r in readings):
            time.sleep(0.01)
        assert max(r.zones_c[0] for r in readings) == pytest.approx(44.0, abs=0.3)
        assert max(r.zones_c[1] for r in readings) < 33.0  # zone 2 was not stimulated
        assert driver.malformed_count == 0
        emu.set_fault("unplug")
        assert vanished.wait(1.0)
        assert len(faults) == 1
    finally:
        driver.close()
        driver.close()
