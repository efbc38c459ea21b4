"""DisplayChannel: the engine's ParticipantChannel backed by the PsychoPy display process.

It starts and supervises `python -m cpmlab display` (cpmlab.display.process) or waits for a
display started on another machine, talks to it through a DisplayConnection (hello, heartbeat,
clock sync, requests), and turns the engine's requests into screens and their results back
(cpmlab.display.translate). If the display crashes, hangs or its window is closed, the channel
notices within a second and reports a fault through on_fault (the engine holds the session).
A screen that was lost, or asked for while no display is up, is never answered as the
participant's timeout: the call waits until a display is back and shows that screen again,
then reports on_restored (a key listener waits only until its own deadline). Stimulus safety
never depends on the display: the engine times and stops the devices itself. An emergency-stop
key pressed in the display window reaches on_emergency_stop.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

import cpmlab.display.messages as m
import cpmlab.display.translate as tr
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.display.connection import DisplayConnection, OnsetCallback
from cpmlab.display.process import DisplayProcess, WindowPlacement
from cpmlab.display.session_key import ENV_VAR, SessionKey
from cpmlab.display.specs import WindowInfo
from cpmlab.participant.channel import (
    ContinuousRequest,
    ContinuousResult,
    RatingRequest,
    RatingResult,
    SampleCallback,
    ScreenResult,
)

log = logging.getLogger(__name__)

FaultCallback = Callable[[str], None]
StopCallback = Callable[[str, float], None]
RESULT_GRACE_S = 2.0  # beyond a screen's own timeout before a silent display counts as missing
HOLD_ONSET_WAIT_S = 1.0


def _is_loopback(address: str) -> bool:
    return any(h in address for h in ("127.0.0.1", "localhost", "[::1]", "ipc://", "inproc://"))


class DisplayChannel:
    """Show the participant screens in a PsychoPy process and return flip-stamped results."""

    def __init__(
        self,
        *,
        language: str = "en",
        screen: int = 0,
        fullscreen: bool = False,
        size: tuple[int, int] = (1024, 768),
        position: tuple[int, int] | None = None,
        address: str | None = None,
        spawn: bool | None = None,
        time_scale: float = 1.0,
        on_fault: FaultCallback | None = None,
        on_restored: FaultCallback | None = None,
        on_emergency_stop: StopCallback | None = None,
        auto_restart: bool = False,
        heartbeat_timeout_s: float = 2.0,
        start_timeout_s: float = 30.0,
        feedback_s: float = 0.8,
        response_key: str = "space",
        key: SessionKey | None = None,
        start: bool = True,
    ) -> None:
        self.language = language
        self.key = key or SessionKey.new()
        self.address = address or m.DEFAULT_BIND
        self.spawn = _is_loopback(self.address) if spawn is None else spawn
        self.time_scale = time_scale
        self.on_fault, self.on_restored = on_fault, on_restored
        self.on_emergency_stop = on_emergency_stop
        self.auto_restart = auto_restart
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.start_timeout_s = start_timeout_s
        self.feedback_s = feedback_s
        self.response_key = response_key
        self.process = DisplayProcess(WindowPlacement(screen, fullscreen, size, position, language))
        self.connection: DisplayConnection | None = None
        self._restart_lock = threading.Lock()
        self._cancelled = threading.Event()
        self._closed = False
        self._immersed = False
        self._interrupted = threading.Event()  # a screen was lost and is not shown again yet
        if start:
            self.start()

    # -- lifecycle ----------------------------------------------------------------------------
    def _conn(self) -> DisplayConnection:
        if self.connection is None:
            self.connection = DisplayConnection(
                self.address,
                key=self.key,
                process=self.process if self.spawn else None,
                heartbeat_timeout_s=self.heartbeat_timeout_s,
                on_lost=self._after_fault,
                on_emergency_stop=self.on_emergency_stop,
            )
        return self.connection

    def start(self) -> None:
        """Bind the link, start the display (unless it runs elsewhere) and wait for its hello."""
        conn = self._conn()
        if self.spawn:
            self.process.start(conn.connect_address, self.key.for_display())
        elif not conn.connected.is_set():
            log.warning(
                "waiting for a display: on the display PC run %s=%s cpmlab display --connect %s",
                ENV_VAR,
                self.key.for_display(),
                conn.remote_address,
            )
        if not conn.wait_for_hello(self.start_timeout_s):
            detail = self.process.log_tail()
            code = self.process.exit_code()
            how = (
                f"exited with code {code}" if code is not None else f"did not answer within {self.start_timeout_s:g} s"
            )
            self.process.stop()
            raise CpmlabError(
                f"the participant display {how} (is there an X display? use xvfb-run on a headless machine){detail}"
            )

    @property
    def pid(self) -> int | None:
        """Process id of the display started by this channel (None if it runs elsewhere)."""
        return self.process.pid

    @property
    def available(self) -> bool:
        """Whether the display is connected and healthy."""
        return self.connection is not None and self.connection.connected.is_set()

    @property
    def window(self) -> WindowInfo:
        """Where the display window is (as it last reported)."""
        return self.connection.window if self.connection is not None else WindowInfo()

    @property
    def fault_message(self) -> str | None:
        """Why the display was lost (None while it is healthy)."""
        return self.connection.fault_message if self.connection is not None else None

    @property
    def faults(self) -> list[tuple[float, str]]:
        """Every loss of the display: (time, message)."""
        return self.connection.faults if self.connection is not None else []

    def restart(self, timeout_s: float | None = None) -> bool:
        """Bring the display back after a fault (start a new process, or wait for a remote one)."""
        with self._restart_lock:
            if self._closed:
                return False
            conn = self._conn()
            if conn.connected.is_set():
                return True
            if self.spawn:
                self.process.kill()
                self.process.stop(0.5)
                self.process.start(conn.connect_address, self.key.for_display())
            if not conn.wait_for_hello(self.start_timeout_s if timeout_s is None else timeout_s):
                log.error("the display did not come back%s", self.process.log_tail())
                return False
            log.warning("participant display restarted")
            if not self._interrupted.is_set():  # else: once the lost screen is shown again
                self._restored("participant display back (no screen was interrupted)")
            return True

    def _restored(self, message: str) -> None:
        if self.on_restored is not None:
            try:
                self.on_restored(message)
            except Exception:
                log.exception("display restored callback failed")

    def _after_fault(self, message: str) -> None:
        if self.on_fault is not None:
            try:
                self.on_fault(message)
            except Exception:
                log.exception("display fault callback failed")
        while self.auto_restart and not self._closed and not self.available:
            self.restart()

    def close(self) -> None:
        """Close the display window and the link; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.cancel()
        if self.connection is not None:
            self.connection.close()
        self.process.stop()
        if self.connection is not None:
            self.connection.shutdown()

    def send(self, msg: m.ToDisplay) -> None:
        """Send one message to the display if one is connected (dropped otherwise)."""
        if self.connection is not None:
            self.connection.send(msg)

    # -- the participant channel ----------------------------------------------------------------
    def _request(
        self,
        msg: m.Show | m.AwaitKey,
        wait_s: float | None,
        *,
        until: type = m.Result,
        on_onset: OnsetCallback | None = None,
        on_sample: SampleCallback | None = None,
        reshow: bool = True,
        deadline_t: float | None = None,
    ) -> tuple[m.Onset | None, m.Result | None, str]:
        """Send a request; on an outage (reshow) wait for a display and send it again, until deadline_t."""
        retried = False
        while True:
            if self.connection is None:
                return None, None, "outage"
            if deadline_t is not None and isinstance(msg, m.AwaitKey):
                msg = dataclasses.replace(msg, timeout_s=max(deadline_t - now(), 0.0))
                wait_s = msg.timeout_s + RESULT_GRACE_S
            onset_cb = self._reshown(on_onset) if retried else on_onset
            reply = self.connection.request(msg, wait_s=wait_s, until=until, on_onset=onset_cb, on_sample=on_sample)
            if reply.status != "outage" or not reshow:
                return reply.onset, reply.final, reply.status
            self._interrupted.set()
            back = self._await_display(deadline_t)
            if self._cancelled.is_set():
                return reply.onset, None, "cancelled"
            if not back:
                return reply.onset, None, "outage"
            retried = True
            log.warning("participant display back: showing the interrupted %s again", msg.TYPE)

    def _reshown(self, on_onset: OnsetCallback | None) -> OnsetCallback:
        def onset(msg: m.Onset) -> None:
            if on_onset is not None:
                on_onset(msg)
            if self._interrupted.is_set():
                self._interrupted.clear()
                self._restored("participant display back and showing the interrupted screen again")

        return onset

    def _await_display(self, deadline_t: float | None) -> bool:
        """Wait until a display is up (True), or the call is cancelled or deadline_t passes (False)."""
        while not self._cancelled.is_set() and not self._closed:
            if self.available:
                return True
            if deadline_t is not None and now() >= deadline_t:
                return False
            self._cancelled.wait(0.05)
        return False

    def _begin(self) -> float:
        self._cancelled.clear()
        return now()

    def _wait_out(self, until_t: float) -> bool:
        """Sleep until until_t unless cancelled; return True if the time passed."""
        return not self._cancelled.wait(max(until_t - now(), 0.0))

    def show_text(
        self, text: str, *, key: str | None, timeout_s: float | None, on_onset: OnsetCallback | None = None
    ) -> ScreenResult:
        """Show text until key is pressed (if key) or timeout_s passes (if given)."""
        start = self._begin()
        spec = tr.text_spec(self.language, text, key, timeout_s, overlay=self._immersed)
        wait_s = None if timeout_s is None else timeout_s + RESULT_GRACE_S
        onset, result, status = self._request(m.Show(screen=spec), wait_s, on_onset=on_onset)
        onset_t = onset.t if onset else start
        if status == "ok" and result is not None:
            return tr.screen_result(result)
        if status == "cancelled":
            return ScreenResult(onset_t, now(), "aborted")
        if key is None and timeout_s is not None:  # keep the protocol's timing through an outage
            passed = self._wait_out(onset_t + timeout_s)
            return ScreenResult(onset_t, now(), "timeout" if passed else "aborted")
        return ScreenResult(onset_t, now(), "timeout")

    def rate(self, request: RatingRequest, on_onset: OnsetCallback | None = None) -> RatingResult:
        """Show a rating screen and return the answer (value None on timeout or outage)."""
        start = self._begin()
        spec = tr.rating_spec(self.language, request, feedback_s=self.feedback_s, overlay=self._immersed)
        onset, result, status = self._request(
            m.Show(screen=spec), request.timeout_s + RESULT_GRACE_S, on_onset=on_onset
        )
        return tr.rating_result(result if status == "ok" else None, onset.t if onset else start)

    def rate_continuously(
        self, request: ContinuousRequest, on_sample: SampleCallback, on_onset: OnsetCallback | None = None
    ) -> ContinuousResult:
        """Run a continuous rating window, calling on_sample for every sample as it arrives."""
        start = self._begin()
        live: list[tuple[float, float | None]] = []

        def sample(t: float, value: float | None) -> None:
            live.append((t, value))
            on_sample(t, value)

        spec = tr.continuous_spec(self.language, request, overlay=self._immersed)
        onset, result, status = self._request(
            m.Show(screen=spec),
            request.duration_s + RESULT_GRACE_S,
            on_onset=on_onset,
            on_sample=sample,
            reshow=False,  # its window belongs to a device-timed stimulus that does not wait
        )
        onset_t = onset.t if onset else start
        if status == "ok" and result is not None:
            return tr.continuous_result(result, live)
        if status == "outage":
            self._wait_out(onset_t + request.duration_s)
        return ContinuousResult(onset_t, live)

    def prompt_immersion(self, text: str, duration_s: float, on_onset: OnsetCallback | None = None) -> float:
        """Ask for the hand in the water with a visible countdown; return the onset time."""
        start = self._begin()
        self._immersed = True
        spec = tr.countdown_spec(
            self.language, text, duration_s, time_scale=self.time_scale, response_key=self.response_key
        )
        onset, _, _ = self._request(m.Show(screen=spec), HOLD_ONSET_WAIT_S, until=m.Onset, on_onset=on_onset)
        return onset.t if onset else start

    def prompt_withdrawal(self, text: str) -> float:
        """Ask for the hand out of the water (held until the next screen); return the onset time."""
        start = now()
        self._immersed = False
        spec = tr.withdrawal_spec(self.language, text)
        onset, _, _ = self._request(m.Show(screen=spec), HOLD_ONSET_WAIT_S, until=m.Onset, reshow=False)
        return onset.t if onset else start

    def wait_for_response(
        self, timeout_s: float, what: str = "withdrawal", on_onset: OnsetCallback | None = None
    ) -> float | None:
        """Wait for the participant's response key (what: withdrawal, cold_detection, heat_threshold)."""
        start = self._begin()
        msg = tr.await_key(self.language, timeout_s, what, self.response_key)
        _, result, status = self._request(
            msg, timeout_s + RESULT_GRACE_S, on_onset=on_onset, deadline_t=start + timeout_s
        )
        if status != "ok" or result is None:
            return None
        return result.response_t

    def cancel(self) -> None:
        """End whatever screen is showing at once (abort / emergency stop)."""
        self._cancelled.set()
        if self.connection is not None:
            self.connection.send(m.Cancel())
            self.connection.cancel_pending()
