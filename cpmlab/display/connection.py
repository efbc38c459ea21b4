"""The engine's request/reply conversation with one display: hello, heartbeat, clock sync, requests.

It runs on the link's I/O thread: it accepts the display that says hello (and, for a display
started here, only the process it started), pings it every 0.25 s and maps its clock to the
engine's, routes each reply to the request waiting for it, and declares the display lost when
it closes, exits, drops the connection or stops answering. Losing it answers every waiting
request at once with an outage.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import cpmlab.display.messages as m
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.display.clocksync import ClockSync, clock_id
from cpmlab.display.link import EngineLink
from cpmlab.display.session_key import SessionKey
from cpmlab.display.specs import WindowInfo
from cpmlab.participant.channel import SampleCallback

log = logging.getLogger(__name__)

PING_INTERVAL_S = 0.25
OnsetCallback = Callable[[m.Onset], None]
Request = m.Show | m.AwaitKey | m.Ping | m.Screenshot
Status = Literal["ok", "outage", "cancelled", "timeout"]
_ROUTED = (m.Onset, m.Sample, m.Result, m.Pong, m.ScreenshotSaved, m.Error)


class _Signal(enum.Enum):
    OUTAGE = "outage"
    CANCELLED = "cancelled"


class ProcessWatch(Protocol):
    """What the connection needs to know of a display process started on this machine."""

    @property
    def pid(self) -> int | None:
        """Process id of the current display process."""
        ...

    def exit_code(self) -> int | None:
        """Exit code once the process has ended, else None."""
        ...


@dataclass(frozen=True)
class Reply:
    """How a request ended: its onset, its final message (until type) and a status."""

    onset: m.Onset | None
    final: Any
    status: Status


class DisplayConnection:
    """Bind the link, accept a display's hello, keep it alive and answer requests from other threads."""

    def __init__(
        self,
        address: str,
        *,
        key: SessionKey,
        process: ProcessWatch | None,
        heartbeat_timeout_s: float,
        on_lost: Callable[[str], None],
        on_emergency_stop: Callable[[str, float], None] | None = None,
    ) -> None:
        self.key = key
        self.refused_hellos = 0
        self.process = process
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.on_lost = on_lost
        self.on_emergency_stop = on_emergency_stop
        self.connected = threading.Event()
        self.window = WindowInfo()
        self.fault_message: str | None = None
        self.faults: list[tuple[float, str]] = []
        self.closing = False
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._pending: dict[int, queue.SimpleQueue[Any]] = {}
        self._last_seen = 0.0
        self._last_ping = 0.0
        self._clock = ClockSync(same_clock=True)
        self.link = EngineLink(
            address, self._on_message, self._on_tick, self._on_disconnect, curve_secret_key=key.server_secret
        )

    @property
    def endpoint(self) -> str:
        """The address the link is bound to."""
        return self.link.endpoint

    @property
    def remote_address(self) -> str:
        """The address a display on another computer connects to."""
        return self.link.remote_address

    @property
    def connect_address(self) -> str:
        """The address a display on this machine connects to."""
        return self.link.connect_address

    def wait_for_hello(self, timeout_s: float) -> bool:
        """Wait for a display's hello; give up early if the local display process has exited."""
        deadline = now() + timeout_s
        while not self.connected.wait(0.1):
            exited = self.process is not None and self.process.exit_code() is not None
            if now() > deadline or exited:
                return self.connected.is_set()
        return True

    def send(self, msg: m.ToDisplay) -> None:
        """Send a message to the connected display (dropped when none is connected)."""
        if self.connected.is_set():
            self.link.send(msg)

    # -- I/O thread ---------------------------------------------------------------------------
    def _on_message(self, msg: m.ToEngine, identity: bytes) -> None:
        t = now()
        if isinstance(msg, m.Hello):
            self._on_hello(msg, identity, t)
            return
        if identity != self.link.peer:
            return
        self._last_seen = t
        if isinstance(msg, m.Pong) and msg.t_engine is not None:
            self._clock.add(msg.t_engine, msg.t, t)
        elif isinstance(msg, m.EmergencyStop):
            self._emergency_stop(msg)
        elif isinstance(msg, m.Closed):
            self._fault(msg.reason)
        elif isinstance(msg, m.Error):
            log.error("display error: %s", msg.message)
        if isinstance(msg, m.Onset | m.ScreenshotSaved) and msg.window is not None:
            self.window = msg.window
        if isinstance(msg, _ROUTED) and msg.id is not None:
            target = self._pending.get(msg.id)
            if target is not None:
                target.put(self._to_engine_clock(msg))

    def _emergency_stop(self, msg: m.EmergencyStop) -> None:
        log.warning("emergency-stop key %s pressed in the participant display", msg.key)
        if self.on_emergency_stop is None:
            log.error("no one to stop: the display's emergency-stop key has no effect in this channel")
            return
        t = self._to_engine_clock(msg).t
        threading.Thread(
            target=self.on_emergency_stop, args=(msg.key, t), name="display-estop", daemon=True
        ).start()  # never block the link: the stop joins the device aborts

    def _on_hello(self, msg: m.Hello, identity: bytes, t: float) -> None:
        if not self.key.proves(msg.token):
            self.refused_hellos += 1
            if self.refused_hellos in (1, 10, 100, 1000):
                log.warning("refused %d hello(s) from a display without this session's key", self.refused_hellos)
            return  # it gets no answer and nothing it sends counts
        if msg.version != m.PROTOCOL_VERSION:
            log.error("display speaks protocol %s, engine %s", msg.version, m.PROTOCOL_VERSION)
            return
        expected_pid = self.process.pid if self.process is not None else None
        if expected_pid is not None and msg.pid != expected_pid:
            return  # a stale display from before a restart
        with self._lock:
            self.link.peer = identity
            self._clock = ClockSync(same_clock=msg.clock_id == clock_id())
            self.window = msg.window
            self._last_seen = t
            self.fault_message = None
            self.connected.set()
        self.link.send(m.Ping(t=now()))

    def _to_engine_clock(self, msg: Any) -> Any:
        if self._clock.same_clock:
            return msg
        to_engine = self._clock.to_engine
        changes = {name: to_engine(getattr(msg, name)) for name in getattr(msg, "TIME_FIELDS", ())}
        if isinstance(msg, m.Result) and msg.samples:
            changes["samples"] = tuple((to_engine(st), v) for st, v in msg.samples)
        return dataclasses.replace(msg, **changes)

    def _on_disconnect(self) -> None:
        # Some client's connection ended; any client may connect, so ask whether it was the display's.
        if self.process is None:
            if not self.link.peer_reachable(m.Ping(t=now())):
                self._fault("the connection to the display dropped")
        elif (code := self.process.exit_code()) is not None:
            self._fault(f"the display process exited (code {code})")
        # a local display still running reconnects by itself (ZeroMQ); the heartbeat judges it

    def _on_tick(self) -> None:
        if not self.connected.is_set():
            return
        t = now()
        code = self.process.exit_code() if self.process is not None else None
        if code is not None:
            self._fault(f"the display process exited (code {code})")
        elif t - self._last_seen > self.heartbeat_timeout_s:
            self._fault(f"the display stopped responding (no heartbeat for {t - self._last_seen:.1f} s)")
        elif t - self._last_ping >= PING_INTERVAL_S:
            self._last_ping = t
            self.link.send(m.Ping(t=t))

    def _fault(self, reason: str) -> None:
        with self._lock:
            if not self.connected.is_set() or self.closing:
                return
            self.connected.clear()
            self.link.peer = None
            message = f"participant display lost: {reason}; ratings are missing until it is restarted"
            self.fault_message = message
            self.faults.append((now(), message))
            for target in list(self._pending.values()):
                target.put(_Signal.OUTAGE)
        log.error("%s", message)
        if not self.closing:
            threading.Thread(target=self.on_lost, args=(message,), name="display-fault", daemon=True).start()

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        msg: Request,
        *,
        wait_s: float | None,
        until: type[Any] = m.Result,
        on_onset: OnsetCallback | None = None,
        on_sample: SampleCallback | None = None,
    ) -> Reply:
        """Send msg with a fresh id and wait for its onset and its final message of type until.

        Status: ok, outage (no display), cancelled, timeout (wait_s passed; None: no limit).
        An Error answer raises CpmlabError: the display refused the request.
        """
        if not self.connected.is_set():
            return Reply(None, None, "outage")
        request_id = next(self._ids)
        inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending[request_id] = inbox
        try:
            self.link.send(dataclasses.replace(msg, id=request_id))
            deadline = None if wait_s is None else now() + wait_s
            onset: m.Onset | None = None
            while True:
                remaining = 0.25 if deadline is None else deadline - now()
                if remaining <= 0:
                    return Reply(onset, None, "timeout")
                try:
                    reply = inbox.get(timeout=min(remaining, 0.25))
                except queue.Empty:
                    continue
                if reply is _Signal.OUTAGE:
                    return Reply(onset, None, "outage")
                if reply is _Signal.CANCELLED:
                    return Reply(onset, None, "cancelled")
                if isinstance(reply, m.Onset):
                    onset = reply
                    if on_onset is not None:
                        on_onset(reply)
                    if until is m.Onset:
                        return Reply(onset, reply, "ok")
                elif isinstance(reply, m.Sample):
                    if on_sample is not None:
                        on_sample(reply.t, reply.value)
                elif isinstance(reply, until):
                    return Reply(onset, reply, "ok")
                elif isinstance(reply, m.Error):
                    raise CpmlabError(f"the display rejected a screen: {reply.message}")
        finally:
            self._pending.pop(request_id, None)

    def cancel_pending(self) -> None:
        """Answer every waiting request with 'cancelled' at once."""
        for target in list(self._pending.values()):
            target.put(_Signal.CANCELLED)

    def close(self) -> None:
        """Tell the display to quit (if connected) and stop the link; faults from here on are ignored."""
        self.closing = True
        if self.connected.is_set():
            self.link.send(m.Quit())

    def shutdown(self) -> None:
        """Stop the link's I/O thread and close the socket."""
        self.link.close()
