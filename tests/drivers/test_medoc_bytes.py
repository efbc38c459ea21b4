"""Medoc external control: exact little-endian frames, response decoding, driver sequences."""

from __future__ import annotations

import struct
import time

import pytest

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError, LimitError, StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import ThermalStimulus, Thermode
from cpmlab.drivers._medoc_protocol import (
    COMMANDS,
    MedocState,
    ResultKind,
    decode_response,
    encode_request,
)
from cpmlab.drivers.medoc import DRIVER, MedocThermode
from cpmlab.testing.byte_exchange import FakeConnector

TS = 0x01020304  # fixed unix time so frames are byte exact
TS_LE = "04030201"
LIMITS = SafetyLimits(max_thermode_c=50.0, max_ramp_c_per_s=10.0)
PROGRAMS = {46.0: 0b00011100}
STIM = ThermalStimulus(baseline_c=32.0, target_c=46.0, ramp_c_per_s=4.0, return_c_per_s=4.0, plateau_s=5.0, zones=(1,))


def req(command: int, parameter: int | None = None) -> bytes:
    """Build a request the way the manual describes it (independently of the driver)."""
    body = struct.pack("<IB", TS, command)
    if parameter is not None:
        body += struct.pack("<I", parameter)
    return struct.pack("<I", len(body)) + body


def resp(
    command: int,
    system: int = 0,
    test: int = 0,
    result: int = 0,
    test_ms: int = 0,
    temp_hundredths: int = 3200,
    yes: int = 0,
    text: bytes = b"",
) -> bytes:
    """Build a response frame: 19 fixed bytes after the length field, then optional text."""
    body = struct.pack("<IBBBHIhBBBB", TS, command, system, test, result, test_ms, temp_hundredths, 0, yes, 0, 0)
    return struct.pack("<I", len(body) + len(text)) + body + text


def make(connector: FakeConnector, **kwargs: object) -> MedocThermode:
    """A driver with a fixed clock and no background polling (deterministic exchanges)."""
    options: dict[str, object] = {
        "program_for": PROGRAMS,
        "poll_interval_s": None,
        "unix_time": lambda: TS,
        "pretest_poll_s": 0.0,
        "trigger_settle_s": 0.0,
    }
    options.update(kwargs)
    return MedocThermode(connector, **options)  # type: ignore[arg-type]


CONNECT = [(req(0), resp(0))]


def test_driver_satisfies_the_thermode_protocol_and_declares_its_spec() -> None:
    """The class is a Thermode; DRIVER is a TCP driver on the default port 20121."""
    assert isinstance(make(FakeConnector([])), Thermode)
    assert DRIVER.name == "medoc" and DRIVER.transport == "tcp"
    assert DRIVER.default_port == "127.0.0.1:20121" and DRIVER.emulator == "medoc"


def test_get_status_frame_is_little_endian_and_exact() -> None:
    """GET_STATUS: length 5, unix time, command 0, all little-endian."""
    assert encode_request("GET_STATUS", timestamp=TS) == bytes.fromhex("05000000" + TS_LE + "00")


def test_select_tp_frame_carries_the_program_code_as_u32() -> None:
    """SELECT_TP 0b00011100: length 9, command 1, parameter 28 as little-endian u32."""
    frame = encode_request("SELECT_TP", 0b00011100, timestamp=TS)
    assert frame == bytes.fromhex("09000000" + TS_LE + "01" + "1c000000")


def test_t_up_frame_carries_the_step_in_hundredths() -> None:
    """T_UP 5.00 C: command 12, parameter 500 (0x01f4) little-endian."""
    assert encode_request("T_UP", 500, timestamp=TS) == bytes.fromhex("09000000" + TS_LE + "0c" + "f4010000")


def test_command_ids_follow_the_manual() -> None:
    """The command table maps names to ids 0-14 exactly as documented."""
    names = [
        "GET_STATUS",
        "SELECT_TP",
        "START",
        "PAUSE",
        "TRIGGER",
        "STOP",
        "ABORT",
        "YES",
        "NO",
        "COVAS",
        "VAS",
        "SPECIFY_NEXT",
        "T_UP",
        "T_DOWN",
        "KEYUP",
    ]
    assert {name: i for i, name in enumerate(names)} == COMMANDS


def test_parameters_only_for_commands_that_take_one() -> None:
    """SELECT_TP without a parameter, or GET_STATUS with one, is a programming error."""
    with pytest.raises(ValueError):
        encode_request("SELECT_TP")
    with pytest.raises(ValueError):
        encode_request("GET_STATUS", 1)


def test_response_decoding_reads_every_field() -> None:
    """All fields at their documented offsets: states, result, test time, 1/100 C, buttons."""
    frame = bytes.fromhex(
        "13000000" + TS_LE + "00" + "02" + "01" + "0000" + "e8030000" + "f40c" + "07" + "01" + "00" + "01"
    )
    response = decode_response(frame)
    assert (response.command, response.system_state, response.test_state) == (0, 2, 1)
    assert response.result == 0 and response.test_time_ms == 1000
    assert response.temperature_c == pytest.approx(33.16)
    assert (response.covas, response.yes, response.no, response.ttl) == (7, 1, 0, 1)
    assert response.error_text == ""


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0, "OK"),
        (1, "illegal parameter"),
        (2, "illegal state"),
        (3, "not the proper test state"),
        (4096, "device communication error"),
        (8192, "safety warning"),
        (12288, "waiting for manual operation"),
        (16384, "safety error"),
    ],
)
def test_result_codes_and_error_text_are_decoded(code: int, text: str) -> None:
    """Every documented result code has its meaning; an optional error text follows."""
    response = decode_response(resp(4, result=code, text=b"probe hot"))
    assert response.result == code and text in response.result_text
    assert response.error_text == "probe hot"


def test_response_with_a_wrong_length_field_is_rejected() -> None:
    """A length field that disagrees with the frame raises DeviceError."""
    frame = bytearray(resp(0))
    frame[0] = 30
    with pytest.raises(DeviceError, match="length"):
        decode_response(bytes(frame))


def test_connect_sends_get_status() -> None:
    """connect is one GET_STATUS exchange and reports the states."""
    connector = FakeConnector([(req(0), resp(0, system=1))])
    info = make(connector).connect(LIMITS)
    assert info.details["system_state"] == "READY"
    connector.check()


def test_stimulate_waits_for_running_before_trigger() -> None:
    """SELECT_TP, START, GET_STATUS while the pre-test runs, TRIGGER only once RUNNING."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(1, 0b00011100), resp(1, system=1)),
            (req(2), resp(2, system=2, test=3)),
            (req(0), resp(0, system=2, test=3)),  # pre-test: a TRIGGER now would be lost
            (req(0), resp(0, system=2, test=3)),
            (req(0), resp(0, system=2, test=1)),  # RUNNING
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    driver = make(connector)
    driver.connect(LIMITS)
    driver.set_baseline(32.0)
    driver.stimulate(STIM)
    connector.check()


def test_stimulate_with_a_callable_program_mapping() -> None:
    """program_for may be a callable from stimulus to program code."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(1, 3), resp(1, system=1)),
            (req(2), resp(2, system=2, test=1)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    driver = make(connector, program_for=lambda stimulus: 3)
    driver.connect(LIMITS)
    driver.stimulate(STIM)
    connector.check()


@pytest.mark.parametrize(
    ("stimulus", "probe_type", "error"),
    [
        (ThermalStimulus(32.0, 51.0, 4.0, 4.0, 5.0), "ATS", LimitError),  # session ceiling
        (ThermalStimulus(32.0, 46.0, 9.0, 4.0, 5.0), "ATS", LimitError),  # ATS 8 C/s
        (ThermalStimulus(32.0, 46.0, 4.0, 9.0, 5.0), "ATS", LimitError),  # ATS return
        (ThermalStimulus(25.0, 46.0, 4.0, 4.0, 5.0), "CHEPS", LimitError),  # CHEPS 30-55 C
        (ThermalStimulus(32.0, 44.0, 4.0, 4.0, 5.0), "ATS", DeviceError),  # no program
    ],
)
def test_stimulate_refuses_before_any_frame(stimulus: ThermalStimulus, probe_type: str, error: type[Exception]) -> None:
    """Limit, probe or program-mapping problems raise before a single frame is sent."""
    connector = FakeConnector(CONNECT)
    driver = make(connector, probe_type=probe_type)
    driver.connect(LIMITS)
    with pytest.raises(error):
        driver.stimulate(stimulus)
    assert len(connector.requests) == 1
    connector.check()


def test_refused_program_stops_the_sequence() -> None:
    """SELECT_TP answered 'illegal parameter' raises DeviceError; START is never sent."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(1, 0b00011100), resp(1, result=1, text=b"no such program")),
        ]
    )
    driver = make(connector)
    driver.connect(LIMITS)
    with pytest.raises(DeviceError, match=r"refused SELECT_TP.*no such program"):
        driver.stimulate(STIM)
    connector.check()


def test_safety_error_becomes_a_fault_and_a_device_error() -> None:
    """Result 16384 on TRIGGER raises DeviceError and calls the fault listeners once."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(1, 0b00011100), resp(1, system=1)),
            (req(2), resp(2, system=2, test=1)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, result=16384, text=b"over temperature")),
        ]
    )
    faults: list[str] = []
    driver = make(connector)
    driver.add_fault_listener(faults.append)
    driver.connect(LIMITS)
    with pytest.raises(DeviceError, match="safety error"):
        driver.stimulate(STIM)
    assert len(faults) == 1 and "over temperature" in faults[0]
    connector.check()


def test_abort_sends_abort_and_tolerates_nothing_to_abort() -> None:
    """abort sends ABORT (6); an 'illegal state' answer (idle) is not an error."""
    connector = FakeConnector([*CONNECT, (req(6), resp(6)), (req(6), resp(6, result=2))])
    driver = make(connector)
    driver.connect(LIMITS)
    driver.abort()
    driver.abort()
    connector.check()


def test_readings_and_yes_button_come_from_get_status() -> None:
    """GET_STATUS temperature (1/100 C) is the zone reading; yes is the response button."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(0), resp(0, temp_hundredths=4512)),
            (req(0), resp(0, yes=1)),
        ]
    )
    driver = make(connector)
    driver.connect(LIMITS)
    reading = driver.read_temperatures()
    assert reading.zones_c == (pytest.approx(45.12),)
    assert driver.response_button_pressed() is True
    connector.check()


def test_garbage_response_raises_a_clear_device_error_and_one_fault() -> None:
    """Random bytes instead of a response: DeviceError saying garbage, one fault report."""
    connector = FakeConnector([*CONNECT, (req(0), b"\xde\xad\xbe\xef" + bytes(30))])
    faults: list[str] = []
    driver = make(connector)
    driver.add_fault_listener(faults.append)
    driver.connect(LIMITS)
    with pytest.raises(DeviceError, match="garbage"):
        driver.read_temperatures()
    assert len(faults) == 1
    connector.check()


def test_big_endian_length_is_garbage() -> None:
    """A response whose length field is big-endian is rejected, not misread."""
    frame = bytearray(resp(0))
    frame[0:4] = struct.pack(">I", 19)
    connector = FakeConnector([*CONNECT, (req(0), bytes(frame))])
    driver = make(connector)
    driver.connect(LIMITS)
    with pytest.raises(DeviceError, match="garbage"):
        driver.read_temperatures()


def test_unreachable_medoc_raises_and_faults_once() -> None:
    """A refused connection raises DeviceError; repeated failures report one fault."""
    connector = FakeConnector(CONNECT)
    faults: list[str] = []
    driver = make(connector)
    driver.add_fault_listener(faults.append)
    driver.connect(LIMITS)
    connector.refuse = True
    for _ in range(3):
        with pytest.raises(DeviceError, match="refused"):
            driver.abort()
    assert len(faults) == 1
    driver.close()
    driver.close()  # safe twice, never raises


def test_unanswered_request_raises_device_error() -> None:
    """A connection that never answers raises DeviceError (no complete response)."""
    connector = FakeConnector([*CONNECT, (req(6), None)])  # the software takes the request, never answers
    driver = make(connector)
    driver.connect(LIMITS)
    with pytest.raises(DeviceError, match="no complete Medoc response"):
        driver.abort()


# -- the vendor's addendum: signed temperature, every return code, start modes, settling -------
def test_temperature_is_signed() -> None:
    """0x06 0xff at offset 17 is -2.50 C (a signed short), not 653.18 C."""
    frame = resp(0, temp_hundredths=-250)
    assert frame[17:19] == b"\x06\xff"
    assert decode_response(frame).temperature_c == pytest.approx(-2.5)


def test_below_the_reported_range_is_still_garbage() -> None:
    """A signed value below what a probe can report (-20.00 C) is a device error, not a reading."""
    with pytest.raises(DeviceError, match="outside what a probe can report"):
        decode_response(resp(0, temp_hundredths=-2000))


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (0x0000, ResultKind.OK),
        (0x0001, ResultKind.REFUSED),
        (0x0002, ResultKind.REFUSED),
        (0x0003, ResultKind.REFUSED),
        (0x1000, ResultKind.DEVICE_ERROR),
        (0x2000, ResultKind.WARNING),
        (0x3000, ResultKind.WAITING_MANUAL),
        (0x4000, ResultKind.SAFETY_ERROR),
    ],
)
def test_every_documented_return_code_has_a_typed_kind(code: int, kind: ResultKind) -> None:
    """Each of the addendum's eight return codes maps to one ResultKind."""
    assert decode_response(resp(0, result=code)).result_kind is kind


@pytest.mark.parametrize("code", [4, 0x0800, 0x5000, 0xFFFF])
def test_an_undocumented_return_code_is_a_device_error_naming_it(code: int) -> None:
    """A return code the addendum does not list raises DeviceError with the code in the message."""
    with pytest.raises(DeviceError, match=rf"undocumented result code {code} \(0x{code:04x}\)"):
        decode_response(resp(0, result=code))


@pytest.mark.parametrize(
    ("system", "test", "state"),
    [
        (0, 0, MedocState.LISTENING),
        (1, 0, MedocState.PROGRAM_SELECTED),
        (2, 3, MedocState.PRETEST),
        (2, 1, MedocState.RUNNING),
        (2, 2, MedocState.PAUSED),
        (2, 0, MedocState.TEST_IDLE),
    ],
)
def test_system_and_test_states_give_a_typed_state(system: int, test: int, state: MedocState) -> None:
    """The (system, test) state pair is one MedocState, also in the journaled fields."""
    response = decode_response(resp(0, system=system, test=test))
    assert response.state is state and response.fields()["state"] == str(state)


def test_an_older_short_layout_is_a_clear_error() -> None:
    """A 13-byte body (older software: message at offset 17) is refused by name, never read as data."""
    frame = struct.pack("<I", 13) + struct.pack("<IBBBHI", TS, 0, 0, 0, 0, 0)
    connector = FakeConnector([*CONNECT, (req(0), frame)])
    driver = make(connector)
    driver.connect(LIMITS)
    with pytest.raises(DeviceError, match="older layout"):
        driver.read_temperatures()


SELECTED = (req(1, 0b00011100), resp(1, system=1))


def test_command_mode_skips_start_when_the_software_started_the_test_itself() -> None:
    """Expecting START but SELECT_TP already shows the test in progress: no START, a journaled warning."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(1, 0b00011100), resp(1, system=2, test=3)),
            (req(0), resp(0, system=2, test=1, result=0x3000)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    events: list[tuple[str, dict[str, object]]] = []
    driver = make(connector, event_sink=lambda kind, **data: events.append((kind, data)))
    driver.connect(LIMITS)
    driver.stimulate(STIM)
    connector.check()
    warnings = [str(data["warning"]) for kind, data in events if "warning" in data]
    assert len(warnings) == 1 and "'Automatic Start' option is on" in warnings[0]


def test_command_mode_treats_a_start_refused_during_the_test_as_automatic_start() -> None:
    """START refused (illegal state) while the test is in progress: the software started it; go on."""
    connector = FakeConnector(
        [
            *CONNECT,
            SELECTED,
            (req(2), resp(2, system=2, test=3, result=2)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    driver = make(connector)
    driver.connect(LIMITS)
    driver.stimulate(STIM)
    connector.check()


def test_automatic_mode_sends_no_start() -> None:
    """start_mode='automatic': SELECT_TP, then GET_STATUS until RUNNING, then TRIGGER; no START."""
    connector = FakeConnector(
        [
            *CONNECT,
            (req(1, 0b00011100), resp(1, system=2, test=3)),
            (req(0), resp(0, system=2, test=3)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    driver = make(connector, start_mode="automatic")
    driver.connect(LIMITS)
    driver.stimulate(STIM)
    connector.check()


def test_automatic_mode_sends_start_when_the_software_waits_for_manual_operation() -> None:
    """Expecting Automatic Start but the program waits (0x3000, system READY): START is sent, warned."""
    connector = FakeConnector(
        [
            *CONNECT,
            SELECTED,
            (req(0), resp(0, system=1, result=0x3000)),
            (req(2), resp(2, system=2, test=3)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    events: list[tuple[str, dict[str, object]]] = []
    driver = make(connector, start_mode="automatic", event_sink=lambda kind, **data: events.append((kind, data)))
    driver.connect(LIMITS)
    driver.stimulate(STIM)
    connector.check()
    assert any("'Automatic Start' option is off" in str(data.get("warning", "")) for _, data in events)


def test_automatic_mode_sends_start_after_the_grace_time_without_the_code() -> None:
    """No 0x3000, but no test starts within autostart_grace_s: START is sent (never a hang)."""
    connector = FakeConnector(
        [
            *CONNECT,
            SELECTED,
            (req(0), resp(0, system=1)),
            (req(0), resp(0, system=1)),
            (req(2), resp(2, system=2, test=1)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    driver = make(connector, start_mode="automatic", autostart_grace_s=0.02, pretest_poll_s=0.05)
    driver.connect(LIMITS)
    driver.stimulate(STIM)
    connector.check()


def test_unknown_start_mode_is_refused() -> None:
    """start_mode must be 'command' or 'automatic'."""
    with pytest.raises(ValueError, match="start_mode"):
        make(FakeConnector([]), start_mode="manual")


class TimedConnector(FakeConnector):
    """A FakeConnector that notes when each request's connection was opened."""

    def __init__(self, exchanges: list[tuple[bytes, bytes | None]]) -> None:
        super().__init__(exchanges)
        self.opened: list[float] = []

    def open(self):  # type: ignore[no-untyped-def]
        """Note the time, then open as usual."""
        self.opened.append(time.monotonic())
        return super().open()


def test_trigger_waits_the_settling_time_after_running() -> None:
    """Between the GET_STATUS that shows RUNNING and TRIGGER lie at least trigger_settle_s; the
    stimulus onset the driver reports is the TRIGGER's time."""
    connector = TimedConnector(
        [
            *CONNECT,
            SELECTED,
            (req(2), resp(2, system=2, test=3)),
            (req(0), resp(0, system=2, test=1)),
            (req(4), resp(4, system=2, test=1)),
        ]
    )
    driver = make(connector, trigger_settle_s=0.3)
    driver.connect(LIMITS)
    assert driver.stimulus_onset_t is None
    called_t = now()
    driver.stimulate(STIM)
    connector.check()
    assert connector.opened[-1] - connector.opened[-2] >= 0.3
    assert driver.stimulus_onset_t is not None and driver.stimulus_onset_t - called_t >= 0.3  # at TRIGGER


def test_default_settling_time_is_pymedocs_one_second() -> None:
    """The driver's default wait between RUNNING and TRIGGER is 1.0 s (pymedoc's server_lag)."""
    assert MedocThermode(FakeConnector([])).trigger_settle_s == 1.0


@pytest.mark.parametrize(("refused", "code"), [("SELECT_TP", 1), ("START", 2), ("TRIGGER", 3)])
def test_a_refused_command_is_a_refused_stimulus_not_a_listener_fault(refused: str, code: int) -> None:
    """SELECT_TP, START or TRIGGER answered 1/2/3: StimulusRefusedError naming the command; no fault call."""
    script = [(req(1, 0b00011100), resp(1, system=1, result=code if refused == "SELECT_TP" else 0))]
    if refused != "SELECT_TP":
        script.append((req(2), resp(2, system=1 if refused == "START" else 2, test=3, result=2 * (refused == "START"))))
    if refused == "TRIGGER":
        script += [(req(0), resp(0, system=2, test=1)), (req(4), resp(4, system=2, test=1, result=code))]
    connector = FakeConnector([*CONNECT, *script])
    faults: list[str] = []
    driver = make(connector)
    driver.add_fault_listener(faults.append)
    driver.connect(LIMITS)
    with pytest.raises(StimulusRefusedError, match=f"refused {refused}") as caught:
        driver.stimulate(STIM)
    assert caught.value.command == refused and faults == []
    connector.check()


def test_a_program_dropped_back_to_listening_is_a_refused_stimulus() -> None:
    """After START the software is back in listening mode (system IDLE): refused, never a hang."""
    connector = FakeConnector([*CONNECT, SELECTED, (req(2), resp(2, system=2, test=3)), (req(0), resp(0))])
    driver = make(connector)
    driver.connect(LIMITS)
    with pytest.raises(StimulusRefusedError, match="listening mode"):
        driver.stimulate(STIM)
    connector.check()


def test_a_test_aborted_during_the_pretest_is_refused_at_once() -> None:
    """The test was seen in its pre-test, then the software is back at program selection (an
    ABORT from elsewhere, e.g. the session's emergency stop): refused now, not at the deadline."""
    connector = FakeConnector(
        [*CONNECT, SELECTED, (req(2), resp(2, system=2, test=3)), (req(0), resp(0, system=1, result=0x3000))]
    )
    driver = make(connector, pretest_timeout_s=30.0)
    driver.connect(LIMITS)
    started = time.monotonic()
    with pytest.raises(StimulusRefusedError, match="back to program selection"):
        driver.stimulate(STIM)
    assert time.monotonic() - started < 1.0
    connector.check()


def test_a_test_that_never_runs_is_aborted_and_refused_by_the_deadline() -> None:
    """Pre-test longer than pretest_timeout_s: ABORT is sent and the stimulus is refused."""
    pretest = (req(0), resp(0, system=2, test=3))
    connector = FakeConnector([*CONNECT, SELECTED, (req(2), resp(2, system=2, test=3)), *[pretest] * 3])
    connector._expected.append((req(6), resp(6)))
    driver = make(connector, pretest_timeout_s=0.05, pretest_poll_s=0.03)
    driver.connect(LIMITS)
    with pytest.raises(StimulusRefusedError, match="did not start running"):
        driver.stimulate(STIM)
