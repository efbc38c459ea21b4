"""A client that connects to the engine's display port without the session's key gets nothing and injects nothing.

Runs against a real display process holding a rating screen: the hostile client tries to
answer the rating, to report the window closed and to take the display's place.
"""

from __future__ import annotations

import contextlib
import time

import zmq
from display_helpers import Running

import cpmlab.display.messages as m
from cpmlab.core.clock import now
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.clocksync import clock_id
from cpmlab.display.inject import XTestInjector
from cpmlab.display.specs import WindowInfo
from cpmlab.participant.channel import RatingRequest

REQUEST = RatingRequest("nrs", "How painful is it?", ("no pain", "worst pain imaginable"), timeout_s=10.0)


def _send(sock: zmq.Socket, message: bytes) -> None:
    """Send without waiting: a client whose handshake the engine refused has nowhere to send, and would block."""
    with contextlib.suppress(zmq.Again):
        sock.send(message, zmq.NOBLOCK)


def _attack(sock: zmq.Socket, pid: int) -> None:
    """Claim to be the display, answer every plausible request with 10, then say the window closed."""
    fake = m.Hello(
        version=m.PROTOCOL_VERSION, token="0" * 64, pid=pid, clock_id=clock_id(), window=WindowInfo(), t=now()
    )
    _send(sock, m.encode(fake))
    for request_id in range(1, 300):
        t = now()
        answer = m.Result(
            id=request_id,
            kind="rating",
            onset_t=t - 1.0,
            end_t=t,
            ended_by="response",
            value=10.0,
            response_t=t,
            input_device="keyboard",
        )
        _send(sock, m.encode(answer))
    _send(sock, m.encode(m.Closed(reason="hostile client")))


def test_hostile_clients_get_nothing_and_inject_nothing(channel: DisplayChannel, xinput: XTestInjector) -> None:
    """Plain and key-holding hostile clients: no fake answer counts, no fault, no message reaches them."""
    assert channel.connection is not None and channel.pid is not None
    run = Running(channel.rate, REQUEST)
    ctx = zmq.Context()
    plain = ctx.socket(zmq.DEALER)
    leaked = ctx.socket(zmq.DEALER)  # worst case: it has the engine's public key, but not the token
    leaked.curve_publickey, leaked.curve_secretkey = zmq.curve_keypair()
    leaked.curve_serverkey = channel.key.server_public
    try:
        for sock in (plain, leaked):
            sock.linger = 0
            sock.connect(channel.connection.connect_address)
            _attack(sock, channel.pid)
        deadline = time.monotonic() + 10.0
        while channel.connection.refused_hellos < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert channel.connection.refused_hellos == 1  # the key holder's hello arrived and was refused
        time.sleep(0.3)
        assert run.thread.is_alive(), "a fake answer ended the rating"
        assert channel.available and channel.faults == []  # the fake 'closed' changed nothing
        assert run.onset is not None and run.onset.window is not None
        xinput.set_window(run.onset.window)
        xinput.key("3")
        xinput.key("return")
        result = run.join()
        assert result.value == 3.0 and result.input_device == "keyboard"  # the real participant's answer
        assert plain.poll(200) == 0 and leaked.poll(200) == 0  # neither was ever sent a ping or a screen
    finally:
        plain.close(0)
        leaked.close(0)
        ctx.term()
