"""The typed engine <-> display messages and the session key, without an X display.

Every message type survives encode/decode; anything malformed is refused with an error naming
the problem, and a malformed frame reaching the engine's link changes nothing (no display
accepted, no request answered). A client without the session's key gets nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import pytest
import zmq

import cpmlab.display.messages as m
from cpmlab.core.errors import CpmlabError
from cpmlab.display.clocksync import clock_id
from cpmlab.display.connection import DisplayConnection
from cpmlab.display.session_key import ENV_VAR, SessionKey, display_key_from
from cpmlab.display.specs import (
    BlankSpec,
    ContinuousSpec,
    CountdownSpec,
    FixationSpec,
    InjectedInput,
    RatingSpec,
    TextSpec,
    WindowInfo,
)

NEEDS_X = False
KEY = SessionKey.new()
TOKEN = KEY.token
WINDOW = WindowInfo(x=10, y=20, width=1024, height=768, fullscreen=False, screen=0, x_window_id=4194311)
SPECS = [
    TextSpec(text="Schmerz größer", keys=("space",), footer="Press SPACE to continue", overlay=True),
    TextSpec(kind="break", title="Break", text="Relax.", timeout_s=60.0, show_timer=True, time_scale=20.0),
    TextSpec(kind="thanks", text="Thank you", hold=True),
    FixationSpec(timeout_s=0.5),
    CountdownSpec(text="Hand in", duration_s=60.0, label="Time remaining", response_hint="Press SPACE", time_scale=2.0),
    RatingSpec(scale="nrs", question="How painful?", anchors=("no pain", "worst"), timeout_s=15.0, feedback_s=0.8),
    RatingSpec(scale="categorical", categories=("none", "mild", "severe"), confirm="Bestätigen", hint=None),
    ContinuousSpec(scale="nrs", question="Rate", anchors=("a", "b"), duration_s=30.0, rate_hz=60.0, hint="Move"),
    BlankSpec(),
]
MESSAGES = [
    *(m.Show(screen=spec, id=i + 1) for i, spec in enumerate(SPECS)),
    m.Cancel(),
    m.AwaitKey(keys=("space",), timeout_s=30.0, what="cold_detection", hint="Press SPACE", id=7),
    m.Ping(t=12.5),
    m.Ping(t=12.5, id=9),
    m.Screenshot(path="/tmp/x.png", id=3),
    m.Inject(events=(InjectedInput(kind="key", key="return"), InjectedInput(kind="click", x_px=5.5, y_px=7.0))),
    m.Quit(),
    m.Hello(version=m.PROTOCOL_VERSION, token=TOKEN, pid=1234, clock_id="host/boot", window=WINDOW, t=1.0),
    m.Heartbeat(t=2.0, frame=120),
    m.Pong(t=3.0, t_engine=2.9, id=None),
    m.Onset(id=4, t=5.0, kind="rating", flip_t=4.9999, window=WINDOW, geometry={"x0": 1.0, "boxes": [{"x": 1}]}),
    m.Onset(id=4, t=5.0, kind="await_key"),
    m.Sample(id=4, t=5.1, value=None),
    m.Sample(id=4, t=5.2, value=33.5),
    m.Result(id=4, kind="rating", onset_t=5.0, end_t=6.0, ended_by="response", value=61.0, response_t=6.0),
    m.Result(id=5, kind="continuous", onset_t=5.0, end_t=6.0, ended_by="time", samples=((5.0, None), (5.1, 2.5))),
    m.Result(id=None, kind="text", onset_t=5.0, end_t=6.0, ended_by="timeout"),
    m.ScreenshotSaved(id=3, path="/tmp/x.png", kind="text", geometry={"text": {"x": 1}}, window=WINDOW),
    m.Closed(reason="the display window was closed"),
    m.EmergencyStop(key="F12", t=7.0),
    m.Error(message="bad", id=2),
]


def test_every_message_type_is_covered_here() -> None:
    """The round-trip list below holds at least one message of every declared type, and every screen kind."""
    assert {type(msg).TYPE for msg in MESSAGES} == set(m.TO_DISPLAY) | set(m.TO_ENGINE)
    kinds = {spec.kind for spec in SPECS}
    assert kinds == {"text", "break", "thanks", "fixation", "countdown", "rating", "continuous", "blank"}


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda msg: type(msg).TYPE)
def test_round_trip(msg: m.Message) -> None:
    """encode then decode gives back an equal message, of the same class, with every field."""
    frame = m.encode(msg)
    back = m.decode(frame)
    assert back == msg and type(back) is type(msg)
    assert json.loads(frame)["type"] == msg.TYPE
    assert set(json.loads(frame)) == {"type"} | {f.name for f in fields(msg)}


def test_each_side_accepts_only_its_own_direction() -> None:
    """The engine refuses engine->display messages from a display, and the display the reverse."""
    with pytest.raises(m.MessageError, match="unknown display message type 'show'"):
        m.decode(m.encode(m.Show(screen=BlankSpec(), id=1)), m.TO_ENGINE)
    with pytest.raises(m.MessageError, match="unknown display message type 'hello'"):
        m.decode(m.encode(MESSAGES[len(SPECS) + 7]), m.TO_DISPLAY)


BAD_FRAMES = {
    "not JSON": (b"\xff\xfe", "not UTF-8 JSON"),
    "JSON list": (b"[1, 2]", "no type"),
    "no type": (b'{"id": 1}', "no type"),
    "unknown type": (b'{"type": "format_disk"}', "unknown display message type 'format_disk'"),
    "missing field": (b'{"type": "sample", "id": 1, "t": 2.0}', "missing field value"),
    "unknown field": (b'{"type": "quit", "now": true}', "unknown field"),
    "wrong type": (b'{"type": "sample", "id": "1", "t": 2.0, "value": 3}', "sample.id must be a whole number"),
    "bool as number": (b'{"type": "heartbeat", "t": true, "frame": 1}', "heartbeat.t must be a finite number"),
    "NaN": (b'{"type": "sample", "id": 1, "t": NaN, "value": 1}', "NaN is not a number"),
    "huge integer": (b'{"type": "heartbeat", "t": 1, "frame": ' + b"9" * 5000 + b"}", "not UTF-8 JSON"),
    "Infinity": (b'{"type": "sample", "id": 1, "t": 1, "value": Infinity}', "Infinity is not a number"),
    "bad ended_by": (
        b'{"type": "result", "id": 1, "kind": "rating", "onset_t": 1, "end_t": 2, "ended_by": "boom"}',
        "result.ended_by must be one of",
    ),
    "unknown screen kind": (b'{"type": "show", "id": 1, "screen": {"kind": "video"}}', "unknown kind 'video'"),
    "bad screen field": (
        b'{"type": "show", "id": 1, "screen": {"kind": "rating", "timeout_s": "soon"}}',
        "show.screen.timeout_s must be a finite number",
    ),
    "anchors not a pair": (
        b'{"type": "show", "id": 1, "screen": {"kind": "rating", "anchors": ["a"]}}',
        "show.screen.anchors must have 2 items",
    ),
    "bad inject kind": (b'{"type": "inject", "events": [{"kind": "shell"}]}', "inject.events[0].kind must be one of"),
}


@pytest.mark.parametrize("name", BAD_FRAMES)
def test_malformed_messages_are_refused_with_a_clear_error(name: str) -> None:
    """Every malformed frame raises MessageError naming what is wrong (never a KeyError or a half message)."""
    frame, expected = BAD_FRAMES[name]
    with pytest.raises(m.MessageError, match=expected.replace("(", r"\(").replace("[", r"\[")):
        m.decode(frame)


def test_oversized_frames_and_non_finite_numbers_are_refused() -> None:
    """A frame over the size limit is refused unread; a message with NaN cannot even be encoded."""
    with pytest.raises(m.MessageError, match="over the"):
        m.decode(b" " * (m.MAX_FRAME_BYTES + 1))
    with pytest.raises(m.MessageError, match="nested too deeply"):
        m.decode(b'{"type": "error", "message": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    with pytest.raises(ValueError):
        m.encode(m.Sample(id=1, t=float("nan"), value=None))


def _hello(token: str = TOKEN, **changes: object) -> bytes:
    body = json.loads(
        m.encode(m.Hello(version=m.PROTOCOL_VERSION, token=token, pid=1, clock_id=clock_id(), window=WINDOW, t=1))
    )
    return json.dumps({**body, **changes}).encode()


@contextmanager
def engine_end() -> Iterator[DisplayConnection]:
    """A DisplayConnection with a fresh session key and no display process."""
    # a long heartbeat timeout: these clients send no heartbeats, and the machine may be busy
    conn = DisplayConnection(m.DEFAULT_BIND, key=KEY, process=None, heartbeat_timeout_s=60.0, on_lost=LOST.append)
    try:
        yield conn
    finally:
        conn.close()
        conn.shutdown()


@contextmanager
def client(address: str, server_public: bytes | None) -> Iterator[zmq.Socket]:
    """A DEALER like a display's: CURVE with the engine's public key if given, else plain."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    if server_public is not None:
        sock.curve_publickey, sock.curve_secretkey = zmq.curve_keypair()
        sock.curve_serverkey = server_public
    sock.connect(address)
    try:
        yield sock
    finally:
        sock.close(0)
        ctx.term()


LOST: list[str] = []


def test_malformed_frames_at_the_engine_link_change_nothing() -> None:
    """Garbage, unknown types and mistyped hellos sent to the engine's link accept no display and answer nothing."""
    with engine_end() as conn, client(conn.connect_address, KEY.server_public) as sock:
        for frame in (
            b"\xff",
            b'{"type": "format_disk"}',
            _hello(pid="1"),
            _hello(window=None),
            _hello(extra=1),
            m.encode(m.Show(screen=BlankSpec(), id=1)),  # wrong direction
            b"[" * 100_000 + b"]" * 100_000,  # nested too deeply for the parser
            b'{"type": "heartbeat", "t": 1, "frame": ' + b"9" * 5000 + b"}",  # an integer too long to read
        ):
            sock.send(frame)
        time.sleep(0.3)
        assert not conn.connected.is_set() and conn.link.peer is None and conn.window == WindowInfo()
        assert conn.request(m.Show(screen=BlankSpec()), wait_s=0.2).status == "outage"
        assert sock.poll(100) == 0  # nothing was sent to it
        sock.send(_hello())
        assert conn.wait_for_hello(10.0) and conn.window == WINDOW  # the same socket, well formed: accepted
        assert sock.poll(10_000) and isinstance(m.decode(sock.recv(), m.TO_DISPLAY), m.Ping)  # now it is spoken to
        assert LOST == [] and conn.connected.is_set()
    LOST.clear()


def test_other_clients_coming_and_going_do_not_cost_the_display() -> None:
    """A stranger connecting and leaving (plain or with the public key) leaves the display connected; its own drop is a fault."""
    LOST.clear()
    with engine_end() as conn:
        with client(conn.connect_address, KEY.server_public) as display:
            display.send(_hello())
            assert conn.wait_for_hello(10.0)
            for server_public in (None, KEY.server_public):
                with client(conn.connect_address, server_public) as stranger:
                    stranger.send(_hello("0" * 64))
                    time.sleep(0.2)
            time.sleep(0.5)
            assert conn.connected.is_set() and LOST == []
        deadline = time.monotonic() + 10.0
        while not LOST and time.monotonic() < deadline:
            time.sleep(0.01)
        assert LOST and "dropped" in LOST[0] and not conn.connected.is_set()
    LOST.clear()


def test_a_client_without_the_session_key_gets_nothing() -> None:
    """A plain client cannot connect at all; one with the public key but not the token is refused and never answered."""
    with engine_end() as conn:
        with client(conn.connect_address, None) as plain:  # no CURVE: the handshake fails
            plain.send(_hello())
            assert plain.poll(500) == 0
        with client(conn.connect_address, SessionKey.new().server_public) as wrong_server:  # another session's key
            wrong_server.send(_hello())
            assert wrong_server.poll(500) == 0
        assert conn.refused_hellos == 0 and not conn.connected.is_set()  # neither reached the engine's code
        with client(conn.connect_address, KEY.server_public) as guesser:  # the public key leaked, the token did not
            for token in ("", "0" * 64, TOKEN[:-1], TOKEN.upper() + "0", TOKEN + "0"):
                guesser.send(_hello(token))
            deadline = time.monotonic() + 10.0
            while conn.refused_hellos < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert conn.refused_hellos == 5  # they arrived, and each was refused
            assert guesser.poll(300) == 0 and not conn.connected.is_set() and conn.link.peer is None


def test_session_key_text_round_trip_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The display key text parses back to the same public key and token; anything else is refused clearly."""
    back = SessionKey.parse(KEY.for_display())
    assert back.server_public == KEY.server_public and back.token == KEY.token and back.server_secret is None
    assert back.proves(KEY.token) and not back.proves(KEY.token[:-1] + "x") and not back.proves("")
    assert KEY.token not in repr(KEY) and KEY.for_display() not in repr(KEY)
    for bad in ("", "zz" * 64, KEY.for_display()[:-1], KEY.for_display() + "0"):
        with pytest.raises(CpmlabError, match="not a cpmlab display key"):
            SessionKey.parse(bad)
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(CpmlabError, match="no display key"):
        display_key_from(None)
    monkeypatch.setenv(ENV_VAR, KEY.for_display())
    assert display_key_from(None).token == KEY.token
    file = tmp_path / "display.key"
    file.write_text(KEY.for_display() + "\n")
    assert display_key_from(str(file)).token == KEY.token
    with pytest.raises(CpmlabError, match="not a small regular file"):
        display_key_from(str(tmp_path))


def test_emergency_stop_counts_only_from_the_session_display() -> None:
    """An emergency_stop message reaches on_emergency_stop from the accepted display, never from a stranger."""
    import threading

    stops: list[tuple[str, float]] = []
    got = threading.Event()

    def on_stop(key: str, t: float) -> None:
        stops.append((key, t))
        got.set()

    conn = DisplayConnection(
        m.DEFAULT_BIND, key=KEY, process=None, heartbeat_timeout_s=60.0, on_lost=LOST.append, on_emergency_stop=on_stop
    )
    try:
        conn._on_message(m.EmergencyStop(key="F12", t=1.0), b"stranger")
        assert not got.wait(0.3) and stops == []
        conn.link.peer = b"display"
        conn._on_message(m.EmergencyStop(key="Ctrl+Space", t=2.0), b"display")
        assert got.wait(2.0) and stops == [("Ctrl+Space", 2.0)]
    finally:
        conn.close()
        conn.shutdown()
