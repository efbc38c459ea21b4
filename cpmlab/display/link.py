"""The engine end of the display link: a ZeroMQ ROUTER served by one I/O thread.

ZeroMQ sockets are not thread-safe, so only the I/O thread touches the socket: other threads
queue outgoing messages and wake it through a pipe. Incoming messages and a periodic tick
are handed to callbacks on the I/O thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable

import zmq

import cpmlab.display.messages as m

log = logging.getLogger(__name__)

TICK_S = 0.05
CLOSE_LINGER_MS = 500  # at close, how long queued messages may take to leave


class EngineLink:
    """Bind a ROUTER at address (CURVE-encrypted if given a secret key); send to the peer; deliver what arrives."""

    def __init__(
        self,
        address: str,
        on_message: Callable[[m.ToEngine, bytes], None],
        on_tick: Callable[[], None],
        on_disconnect: Callable[[], None] | None = None,
        *,
        curve_secret_key: bytes | None = None,
    ) -> None:
        self._on_message, self._on_tick, self._on_disconnect = on_message, on_tick, on_disconnect
        self._context = zmq.Context()
        self._sock = self._context.socket(zmq.ROUTER)
        self._sock.linger = 0
        if curve_secret_key is not None:  # only clients that know the engine's public key can connect
            self._sock.curve_secretkey = curve_secret_key
            self._sock.curve_publickey = zmq.curve_public(curve_secret_key)
            self._sock.curve_server = True
        self._sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._sock.setsockopt(zmq.MAXMSGSIZE, m.MAX_FRAME_BYTES)  # a bigger frame drops that peer
        self._sock.bind(address)
        self.endpoint: str = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        # A dropped TCP connection (display crashed, possibly on another machine) shows at once here.
        self._monitor = self._sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.peer: bytes | None = None
        self._out: queue.SimpleQueue[tuple[bytes | None, m.ToDisplay]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="display-link", daemon=True)
        self._thread.start()

    @property
    def connect_address(self) -> str:
        """Return the address a display on this machine connects to."""
        return self.endpoint.replace("0.0.0.0", "127.0.0.1").replace("tcp://*", "tcp://127.0.0.1")

    @property
    def remote_address(self) -> str:
        """Return the address a display on another computer connects to (never 0.0.0.0 or *)."""
        host = lan_address()
        return self.endpoint.replace("0.0.0.0", host).replace("tcp://*", f"tcp://{host}")

    def send(self, msg: m.ToDisplay, peer: bytes | None = None) -> None:
        """Queue a message for the current display (or a given peer); never blocks."""
        self._out.put((peer, msg))
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _loop(self) -> None:
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        poller.register(self._monitor, zmq.POLLIN)
        while not self._stop.is_set():
            try:
                ready = dict(poller.poll(int(TICK_S * 1000)))
            except zmq.ZMQError:
                break
            if self._wake_r in ready:
                try:
                    while os.read(self._wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
            self._flush()
            if self._sock in ready:
                self._receive()
            if self._monitor in ready:
                self._disconnects()
            try:
                self._on_tick()
            except Exception:
                log.exception("display link tick failed")
        self._flush()  # a last quit sent just before close() still goes out
        self._sock.disable_monitor()
        self._monitor.close(0)
        self._sock.close(CLOSE_LINGER_MS)
        self._context.term()

    def _flush(self) -> None:
        while True:
            try:
                peer, msg = self._out.get_nowait()
            except queue.Empty:
                return
            target = peer or self.peer
            if target is None:
                continue  # no display connected: the channel already treats this as an outage
            try:
                self._sock.send_multipart([target, m.encode(msg)], zmq.NOBLOCK)
            except zmq.ZMQError as exc:  # peer gone (EHOSTUNREACH) or queue full
                log.debug("could not send %s to the display: %s", msg.TYPE, exc)

    def _receive(self) -> None:
        while True:
            try:
                identity, frame = self._sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except ValueError:
                continue  # not [identity, frame]
            try:
                msg = m.decode(frame, m.TO_ENGINE)
            except m.MessageError as exc:
                log.warning("ignored a malformed display message: %s", exc)
                continue
            except Exception:  # the I/O thread must outlive any frame
                log.exception("ignored a display message that could not be read")
                continue
            try:
                self._on_message(msg, identity)
            except Exception:
                log.exception("handling a display message failed")

    def peer_reachable(self, probe: m.ToDisplay) -> bool:
        """Send probe to the current peer and say whether it is still connected (I/O thread only)."""
        if self.peer is None:
            return False
        try:
            self._sock.send_multipart([self.peer, m.encode(probe)], zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            return exc.errno != zmq.EHOSTUNREACH  # a full queue is still a connected peer
        return True

    def _disconnects(self) -> None:
        from zmq.utils.monitor import recv_monitor_message

        while True:
            try:
                event = recv_monitor_message(self._monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            if event["event"] == zmq.EVENT_DISCONNECTED and self._on_disconnect is not None:
                self._on_disconnect()

    def close(self) -> None:
        """Stop the I/O thread and close the socket; safe twice."""
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=2.0)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


def lan_address() -> str:
    """Return this computer's address on its outgoing network (the host name's, or loopback if none)."""
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address = str(probe.getsockname()[0])
        if address and not address.startswith("0."):
            return address
    except OSError:
        pass
    finally:
        probe.close()
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"
