"""TCS II driver: exact byte exchanges from the manual, against a scripted fake port."""

from __future__ import annotations

import threading
import time

import pytest

from cpmlab.core.errors import DeviceError, LimitError, StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus, Thermode, ThermodeReading
from cpmlab.drivers._tcs2_protocol import COMMANDS, StreamParser
from cpmlab.drivers.tcs2 import DRIVER, Tcs2Thermode, probe
from cpmlab.testing.byte_exchange import FakeSerial, expected_protocol

HELP = (
    b"Firmware: 012 Jun 20 2022 11:07:51\r\n"
    b"Probe ID: 2D DD 40 C1 3A 00 00 B2\r\n"
    b"Probe TYPE: 003\r\n"
    b"\r\n"
    b"Command list:\r\n"
    b"'H'       : help\r\n"
)
CONNECT = [
    (b"F", b""),
    (b"?", b"TCS\r\n"),
    (b"H", HELP),
    (b"Om500", b""),
    (b"Oa", b""),
    (b"Ob", b""),
]
CLOSE = [(b"A", b"")]
LIMITS = SafetyLimits(max_thermode_c=50.0, min_thermode_c=5.0, max_ramp_c_per_s=10.0)


def make(fake: FakeSerial, **kwargs: object) -> Tcs2Thermode:
    """Build a driver with short timeouts suited to a fake port (no monitor: the exchanges are scripted)."""
    kwargs.setdefault("monitor_every_s", None)
    kwargs.setdefault("start_check_s", None)  # scripted ports stream nothing unless a test feeds it
    driver = Tcs2Thermode(fake, reply_timeout_s=0.3, **kwargs)  # type: ignore[arg-type]
    driver.help_quiet_s = 0.05
    return driver


def connected(exchanges: list[tuple[bytes, bytes]], **kwargs: object):
    """Return (fake, driver) with connect already done and exchanges expected afterwards."""
    fake = FakeSerial(CONNECT + exchanges)
    driver = make(fake, **kwargs)
    driver.connect(LIMITS)
    return fake, driver


def test_driver_satisfies_the_thermode_protocol_and_declares_its_spec() -> None:
    """The class is a Thermode and DRIVER names the serial settings of the manual."""
    fake = FakeSerial([])
    assert isinstance(Tcs2Thermode(fake), Thermode)
    assert DRIVER.name == "tcs2" and DRIVER.transport == "serial" and DRIVER.emulator == "tcs2"
    assert DRIVER.serial_settings == {
        "baudrate": 115200,
        "bytesize": 8,
        "parity": "N",
        "stopbits": 1,
    }


def test_every_command_encodes_to_its_fixed_length() -> None:
    """Each command in the table formats to exactly its declared length of ASCII."""
    samples = {
        "neutral": {"tenths": 320},
        "zones": {"mask": "11111"},
        "target": {"zone": 0, "tenths": 450},
        "ramp": {"zone": 1, "tenths_per_s": 25},
        "return": {"zone": 1, "tenths_per_s": 25},
        "duration": {"zone": 0, "ms": 1000},
        "trigger_out": {"code": 255, "ms": 10},
        "display_time": {"ten_ms": 0},
        "max_target": {"tenths": 500},
        "ramp_fine": {"zone": 0, "hundredths_per_s": 250},
        "return_fine": {"zone": 0, "hundredths_per_s": 250},
        "target_fine": {"zone": 0, "hundredths": 4500},
        "mri_filter": {"strength": 1},
        "integral": {"on": 1},
        "buzzer": {"ten_ms": 10, "ten_hz": 100},
    }
    for name, command in COMMANDS.items():
        assert len(command.encode(**samples.get(name, {}))) == command.length, name


def test_connect_mutes_identifies_reads_help_sends_ceiling_and_reenables_output() -> None:
    """connect writes F, ?, H, Om500, Oa, Ob and reports firmware and probe lines."""
    with expected_protocol(CONNECT + CLOSE) as fake:
        driver = make(fake)
        info = driver.connect(LIMITS)
        assert bytes(fake.written) == b"F?HOm500OaOb"
        assert info.identity == "TCS" and info.model == "QST.Lab TCS II"
        assert info.details["firmware"] == "012 Jun 20 2022 11:07:51"
        assert info.details["probe_id"] == "2D DD 40 C1 3A 00 00 B2"
        assert info.details["probe_type"] == "003"
        driver.close()


def test_connect_never_rounds_the_ceiling_up() -> None:
    """A 47.56 C session ceiling is sent as Om475 (floored to 1/10 C)."""
    exchanges = [*CONNECT[:3], (b"Om475", b""), (b"Oa", b""), (b"Ob", b""), *CLOSE]
    with expected_protocol(exchanges) as fake:
        driver = make(fake)
        driver.connect(SafetyLimits(max_thermode_c=47.56))
        driver.close()


def test_connect_rejects_a_device_that_is_not_a_tcs() -> None:
    """A wrong identity reply raises DeviceError naming the expected TCS; no Om is sent."""
    with expected_protocol([(b"F", b""), (b"?", b"JULABO FP50\r\n"), *CLOSE]) as fake:
        driver = make(fake)
        with pytest.raises(DeviceError, match="expected TCS"):
            driver.connect(LIMITS)
        driver.close()


def test_connect_reads_the_identity_across_stream_records() -> None:
    """Periodic temperature records interleaved with the ? reply do not confuse connect."""
    record = b"\r320+320+320+320+320+320\r\n"
    exchanges = [(b"F", record), (b"?", record + b"TCS\r\n" + record), *CONNECT[2:], *CLOSE]
    with expected_protocol(exchanges) as fake:
        driver = make(fake)
        assert driver.connect(LIMITS).identity == "TCS"
        driver.close()


def test_set_baseline_sends_neutral_in_tenths() -> None:
    """set_baseline(30.0) writes N300."""
    fake, driver = connected([(b"N300", b""), *CLOSE])
    driver.set_baseline(30.0)
    driver.close()
    fake.check()


@pytest.mark.parametrize("baseline_c", [19.9, 40.1, 45.0, 4.0])
def test_set_baseline_outside_device_range_sends_nothing(baseline_c: float) -> None:
    """Neutral temperatures outside 20.0-40.0 C raise LimitError before any byte."""
    fake, driver = connected(CLOSE)
    before = bytes(fake.written)
    with pytest.raises(LimitError):
        driver.set_baseline(baseline_c)
    assert bytes(fake.written) == before
    driver.close()
    fake.check()


STIM = ThermalStimulus(baseline_c=32.0, target_c=45.0, ramp_c_per_s=2.5, return_c_per_s=5.0, plateau_s=3.0)


def test_stimulate_all_zones_uses_selector_zero() -> None:
    """All five zones: C0/V0/R0/D0 with D = ramp + plateau in ms, then S11111 and L."""
    wire = b"C0450V00025R00050D008200S11111L"
    fake, driver = connected([(b"N320", b""), (wire, b""), *CLOSE])
    driver.set_baseline(32.0)
    driver.stimulate(STIM)
    driver.close()
    fake.check()


def test_stimulate_some_zones_sends_per_zone_parameters() -> None:
    """Zones 2 and 4: per-zone C/V/R/D for each, S01010 then L."""
    wire = b"C2450V20025R20050D208200C4450V40025R40050D408200S01010L"
    fake, driver = connected([(wire, b""), *CLOSE])
    driver.stimulate(ThermalStimulus(32.0, 45.0, 2.5, 5.0, 3.0, zones=(4, 2)))
    driver.close()
    fake.check()


@pytest.mark.parametrize(
    ("stimulus", "why"),
    [
        (ThermalStimulus(32.0, 50.5, 2.5, 5.0, 3.0), "above the session ceiling"),
        (ThermalStimulus(32.0, 45.0, 12.0, 5.0, 3.0), "ramp above the session limit"),
        (ThermalStimulus(32.0, 45.0, 2.5, 5.0, 200.0), "plateau above the session limit"),
        (ThermalStimulus(32.0, 45.0, 0.04, 5.0, 3.0), "ramp below 0.1 C/s"),
        (ThermalStimulus(32.0, 8.0, 2.5, 5.0, 3.0), "target below 10.0 C"),
        (ThermalStimulus(32.0, 45.0, 0.2, 5.0, 60.0), "duration above 99999 ms"),
        (ThermalStimulus(32.0, 45.0, 2.5, 5.0, 3.0, zones=(6,)), "zone 6"),
        (ThermalStimulus(32.0, 45.0, 2.5, 5.0, 3.0, zones=()), "no zone"),
        (ThermalStimulus(32.0, 45.0, 2.5, 5.0, 3.0, zones=(1, 1)), "duplicate zone"),
        (ThermalStimulus(30.0, 45.0, 2.5, 5.0, 3.0), "baseline differs from the neutral"),
    ],
)
def test_stimulate_refuses_before_any_byte(stimulus: ThermalStimulus, why: str) -> None:
    """Every device-range or session-limit violation raises LimitError and writes nothing."""
    fake, driver = connected([(b"N320", b""), *CLOSE])
    driver.set_baseline(32.0)
    before = bytes(fake.written)
    with pytest.raises(LimitError):
        driver.stimulate(stimulus)
    assert bytes(fake.written) == before, why
    driver.close()
    fake.check()


def test_commands_before_connect_raise_and_send_nothing() -> None:
    """Without connect (no limits known) stimulate and set_baseline raise; no byte leaves."""
    with expected_protocol([]) as fake:
        driver = make(fake)
        with pytest.raises(DeviceError, match="connect"):
            driver.stimulate(STIM)
        with pytest.raises(DeviceError, match="connect"):
            driver.set_baseline(32.0)
        assert fake.written == b""


def test_abort_sends_a() -> None:
    """abort writes the single byte A."""
    fake, driver = connected([(b"A", b""), *CLOSE])
    driver.abort()
    driver.close()
    fake.check()


@pytest.mark.parametrize(
    ("reply", "stim", "response"),
    [
        (b"\r00\r\n", False, False),
        (b"\r10\r\n", True, False),
        (b"\r01\r\n", False, True),
        (b"\r11\r\n", True, True),
    ],
)
def test_buttons_parse_cr_and_two_digits(reply: bytes, stim: bool, response: bool) -> None:
    """K replies CR + two digits: stim button first, response button second."""
    fake, driver = connected([(b"K", reply), (b"K", reply), *CLOSE])
    assert driver.buttons() == (stim, response)
    assert driver.response_button_pressed() is response
    driver.close()
    fake.check()


def test_error_state_reports_zone_and_neutral_codes() -> None:
    """Q replies six digits (zones 1-5, then neutral); nonzero means an error."""
    fake, driver = connected([(b"Q", b"000000\r\n"), (b"Q", b"020000\r\n"), *CLOSE])
    assert driver.error_state().ok
    state = driver.error_state()
    assert not state.ok and state.zones == (0, 2, 0, 0, 0) and state.neutral == 0
    driver.close()
    fake.check()


def test_battery_parses_voltage_and_charge() -> None:
    """B replies e.g. 4.02v 85%."""
    fake, driver = connected([(b"B", b"4.02v 85%\r\n"), *CLOSE])
    assert driver.battery() == (4.02, 85)
    driver.close()
    fake.check()


def test_identify_returns_tcs() -> None:
    """? replies TCS."""
    fake, driver = connected([(b"?", b"TCS\r\n"), *CLOSE])
    assert driver.identify() == "TCS"
    driver.close()
    fake.check()


def test_garbage_reply_raises_clear_device_error_and_reports_a_fault() -> None:
    """Binary garbage instead of a K reply: DeviceError, bytes counted, one fault."""
    faults: list[str] = []
    fake, driver = connected([(b"K", b"\xff\xfe\x00\x81zz\r\n"), *CLOSE])
    driver.add_fault_listener(faults.append)
    with pytest.raises(DeviceError, match="no valid reply from the TCS II to 'K'"):
        driver.response_button_pressed()
    assert driver.malformed_count >= 6
    assert len(faults) == 1
    driver.close()
    fake.check()


def test_wrong_text_reply_names_what_came_back() -> None:
    """A printable but wrong reply to Q is quoted in the DeviceError."""
    fake, driver = connected([(b"Q", b"hello\r\n"), *CLOSE])
    with pytest.raises(DeviceError, match="answered 'hello' to 'Q'"):
        driver.error_state()
    driver.close()
    fake.check()


def test_silence_raises_device_error_after_the_reply_timeout() -> None:
    """No reply at all to B raises DeviceError within about the reply timeout."""
    fake, driver = connected([(b"B", b""), *CLOSE])
    start = time.monotonic()
    with pytest.raises(DeviceError, match="no valid reply"):
        driver.battery()
    assert time.monotonic() - start < 2.0
    driver.close()
    fake.check()


def test_streamed_records_reach_reading_listeners_and_garbage_is_skipped() -> None:
    """Records (whole, split, back to back) become readings; junk between them is counted."""
    fake, driver = connected(CLOSE)
    readings: list[ThermodeReading] = []
    got = threading.Event()
    driver.add_reading_listener(lambda r: (readings.append(r), len(readings) >= 3 and got.set()))
    fake.feed(b"\r320+450+451-012+320+320\r\n")
    fake.feed(b"\x00\xffjunk\x07\r\n")
    fake.feed(b"\r320+400+400+4")
    time.sleep(0.05)
    fake.feed(b"00+400+400")
    fake.feed(b"\r320+410+410+410+410+410\n")
    assert got.wait(2.0)
    assert readings[0].neutral_c == 32.0
    assert readings[0].zones_c == (45.0, 45.1, -1.2, 32.0, 32.0)
    assert readings[1].zones_c == (40.0,) * 5 and readings[2].zones_c == (41.0,) * 5
    assert readings[0].t <= readings[1].t <= readings[2].t
    assert driver.malformed_count > 0
    assert driver.read_temperatures() is readings[-1]
    driver.close()
    fake.check()


def test_read_temperatures_queries_e_when_muted() -> None:
    """With the output muted (F), read_temperatures writes E and parses its 24-byte record."""
    record = b"\r300+301+302+303+304+305\r\n"
    fake, driver = connected([(b"F", b""), (b"E", record), *CLOSE])
    driver.set_streaming(False)
    reading = driver.read_temperatures()
    assert reading.neutral_c == 30.0
    assert reading.zones_c == (30.1, 30.2, 30.3, 30.4, 30.5)
    driver.close()
    fake.check()


def test_event_sink_sees_each_command_before_its_bytes_leave() -> None:
    """event_sink('command') runs before the write, with the command text and hex."""
    fake = FakeSerial([*CONNECT, (b"A", b""), *CLOSE])
    seen: list[tuple[str, int]] = []

    def sink(kind: str, **data: object) -> None:
        if kind == "command":
            seen.append((str(data["command"]), len(fake.written)))

    driver = make(fake, event_sink=sink)
    driver.connect(LIMITS)
    driver.abort()
    assert seen[-1] == ("A", len(b"F?HOm500OaOb"))
    assert [c for c, _ in seen][:6] == ["F", "?", "H", "Om500", "Oa", "Ob"]
    driver.close()
    fake.check()


def test_vanished_port_faults_once_within_a_second_then_commands_raise() -> None:
    """A read error is one fault-listener call within 1 s; later commands raise DeviceError."""
    fake, driver = connected([])
    faults: list[str] = []
    reported = threading.Event()
    driver.add_fault_listener(lambda m: (faults.append(m), reported.set()))
    fake.vanish()
    assert reported.wait(1.0)
    with pytest.raises(DeviceError, match="gone"):
        driver.abort()
    with pytest.raises(DeviceError):
        driver.set_baseline(32.0)
    driver.close()
    driver.close()
    assert len(faults) == 1
    fake.check()


def test_close_aborts_once_and_is_safe_twice() -> None:
    """close sends A once, closes the port and never raises on a second call."""
    fake, driver = connected(CLOSE)
    driver.close()
    driver.close()
    assert not fake.is_open
    assert fake.written.endswith(b"ObA")
    fake.check()


def test_probe_recognises_a_tcs_and_rejects_others() -> None:
    """probe sends ? and returns TCS, or None for another device."""
    assert probe(FakeSerial([(b"?", b"TCS\r\n")]), timeout_s=0.3) == "TCS"
    assert probe(FakeSerial([(b"?", b"JULABO\r\n")]), timeout_s=0.2) is None


def test_stream_parser_waits_for_a_split_k_reply() -> None:
    """CR + two digits is held until its line end shows it is a K reply, not a record."""
    parser = StreamParser()
    assert parser.feed(b"\r0") == []
    assert parser.feed(b"1") == []
    assert parser.feed(b"\r\n") == [("line", "01")]


# -- a stimulus the device does not start is refused ------------------------------------------
RECORD = b"\r320+320+320+320+320+320\r\n"
STIM_WIRE = b"C0450V00025R00050D008200S11111L"


def test_stimulate_sees_the_100_hz_output_of_a_started_stimulation() -> None:
    """After L, records at 100 Hz (three within the check time) show the device took the stimulus."""
    fake, driver = connected([(b"N320", b""), (STIM_WIRE, RECORD * 3), *CLOSE], start_check_s=0.5)
    driver.set_baseline(32.0)
    driver.stimulate(STIM)
    driver.close()
    fake.check()


def test_stimulate_without_the_100_hz_output_is_a_refused_stimulus() -> None:
    """After L only one record (the 1 Hz rate between stimulations): StimulusRefusedError naming L."""
    fake, driver = connected([(b"N320", b""), (STIM_WIRE, RECORD), *CLOSE], start_check_s=0.3)
    faults: list[str] = []
    driver.add_fault_listener(faults.append)
    driver.set_baseline(32.0)
    started = time.monotonic()
    with pytest.raises(StimulusRefusedError, match="did not start the stimulation: 1 temperature record") as caught:
        driver.stimulate(STIM)
    assert caught.value.command == "L" and faults == []
    assert 0.3 <= time.monotonic() - started < 1.0
    driver.close()
    fake.check()


def test_no_start_check_while_the_output_is_muted() -> None:
    """With the periodic output muted there is nothing to tell by: stimulate returns after L."""
    fake, driver = connected([(b"F", b""), (b"N320", b""), (STIM_WIRE, b""), *CLOSE], start_check_s=0.3)
    driver.set_streaming(False)
    driver.set_baseline(32.0)
    started = time.monotonic()
    driver.stimulate(STIM)
    assert time.monotonic() - started < 0.2
    driver.close()
    fake.check()
