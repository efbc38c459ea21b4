"""The typed engine <-> display messages: every type survives encode/decode; anything malformed is refused.

No X display needed: these check the codec both processes use, and that a malformed frame
reaching the engine's link changes nothing (no display accepted, no request answered).
"""

from __future__ import annotations

import json
import time
from dataclasses import fields

import pytest
import zmq

import cpmlab.display.messages as m
from cpmlab.display.clocksync import clock_id
from cpmlab.display.connection import DisplayConnection
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
    m.Hello(version=m.PROTOCOL_VERSION, pid=1234, clock_id="host/boot", window=WINDOW, t=1.0),
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
    with pytest.raises(ValueError):
        m.encode(m.Sample(id=1, t=float("nan"), value=None))


def test_malformed_frames_at_the_engine_link_change_nothing() -> None:
    """Garbage, unknown types and mistyped hellos sent to the engine's link accept no display and answer nothing."""
    lost: list[str] = []
    conn = DisplayConnection(m.DEFAULT_BIND, process=None, heartbeat_timeout_s=2.0, on_lost=lost.append)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    try:
        sock.connect(conn.connect_address)
        hello = json.loads(
            m.encode(m.Hello(version=m.PROTOCOL_VERSION, pid=1, clock_id=clock_id(), window=WINDOW, t=1))
        )
        for frame in (
            b"\xff",
            b'{"type": "format_disk"}',
            json.dumps({**hello, "pid": "1"}).encode(),
            json.dumps({**hello, "window": None}).encode(),
            json.dumps({**hello, "extra": 1}).encode(),
            m.encode(m.Show(screen=BlankSpec(), id=1)),  # wrong direction
        ):
            sock.send(frame)
        time.sleep(0.3)
        assert not conn.connected.is_set() and conn.link.peer is None and conn.window == WindowInfo()
        assert conn.request(m.Show(screen=BlankSpec()), wait_s=0.2).status == "outage"
        sock.send(m.encode(m.Hello(version=m.PROTOCOL_VERSION, pid=1, clock_id=clock_id(), window=WINDOW, t=1)))
        assert conn.wait_for_hello(2.0) and conn.window == WINDOW  # the same socket, well formed: accepted
        assert lost == []
    finally:
        sock.close(0)
        ctx.term()
        conn.close()
        conn.shutdown()
