"""DisplayChannel: the engine's ParticipantChannel backed by the PsychoPy display process.

It starts and supervises `python -m cpmlab display` (or waits for a display started on another
machine), sends screen specs, and returns results stamped at the flip. If the display crashes,
hangs or its window is closed, the channel notices within a second, reports a fault through
on_fault, and answers every call at once with a missing result until restart() brings the
display back. Stimulus safety never depends on the display: the engine times and stops the
devices itself.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.display import messages as m
from cpmlab.display.i18n import UI_STRINGS, key_label, translate_engine_text, ui_text
from cpmlab.display.link import EngineLink
from cpmlab.participant.channel import (
    ContinuousRequest,
    ContinuousResult,
    RatingRequest,
    RatingResult,
    SampleCallback,
    ScreenResult,
)

log = logging.getLogger(__name__)

OnsetCallback = Callable[[dict[str, Any]], None]
FaultCallback = Callable[[str], None]
RESULT_GRACE_S = 2.0  # beyond a screen's own timeout before a silent display counts as missing
HOLD_ONSET_WAIT_S = 1.0
PING_INTERVAL_S = 0.25
_OUTAGE, _CANCELLED = "_outage", "_cancelled"
_TIME_FIELDS = ("t", "onset_t", "end_t", "response_t", "flip_t")


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
        auto_restart: bool = False,
        heartbeat_timeout_s: float = 2.0,
        start_timeout_s: float = 30.0,
        feedback_s: float = 0.8,
        response_key: str = "space",
        start: bool = True,
    ) -> None:
        self.language = language
        self.screen, self.fullscreen, self.size, self.position = screen, fullscreen, size, position
        self.address = address or m.DEFAULT_BIND
        self.spawn = _is_loopback(self.address) if spawn is None else spawn
        self.time_scale = time_scale
        self.on_fault, self.on_restored = on_fault, on_restored
        self.auto_restart = auto_restart
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.start_timeout_s = start_timeout_s
        self.feedback_s = feedback_s
        self.response_key = response_key
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.window: dict[str, Any] = {}
        self.fault_message: str | None = None
        self.faults: list[tuple[float, str]] = []
        self.connected = threading.Event()
        self._lock = threading.RLock()
        self._restart_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, queue.SimpleQueue[dict[str, Any]]] = {}
        self._cancelled = threading.Event()
        self._closed = False
        self._immersed = False
        self._last_seen = 0.0
        self._last_ping = 0.0
        self._clock = m.ClockSync(same_clock=True)
        self.link: EngineLink | None = None
        if start:
            self.start()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Bind the link, start the display (unless it runs elsewhere) and wait for its hello."""
        if self.link is None:
            self.link = EngineLink(self.address, self._on_message, self._on_tick, self._on_disconnect)
        if self.spawn:
            self._spawn()
        elif not self.connected.is_set():
            log.warning(
                "waiting for a display: run 'cpmlab display --connect %s' on the display PC", self.link.endpoint
            )
        if not self._wait_for_hello(self.start_timeout_s):
            detail = self._log_tail()
            proc = self.process
            how = (
                f"exited with code {proc.returncode}"
                if proc is not None and proc.poll() is not None
                else f"did not answer within {self.start_timeout_s:g} s"
            )
            self._stop_process()
            raise CpmlabError(
                f"the participant display {how} (is there an X display? use xvfb-run on a headless machine){detail}"
            )

    def _wait_for_hello(self, timeout_s: float) -> bool:
        """Wait for the display's hello; give up early if the process it runs in has exited."""
        deadline = now() + timeout_s
        while not self.connected.wait(0.1):
            proc = self.process
            if now() > deadline or (proc is not None and proc.poll() is not None):
                return self.connected.is_set()
        return True

    def _spawn(self) -> None:
        assert self.link is not None
        width, height = self.size
        cmd = [
            sys.executable,
            "-m",
            "cpmlab",
            "display",
            "--connect",
            self.link.connect_address,
            "--screen",
            str(self.screen),
            "--fullscreen" if self.fullscreen else "--windowed",
            "--size",
            f"{width}x{height}",
            "--parent-pid",
            str(os.getpid()),
        ]
        if self.position is not None:
            cmd += ["--pos", f"{self.position[0]},{self.position[1]}"]
        fd, name = tempfile.mkstemp(prefix="cpmlab-display-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "wb") as log_file:
            self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file)
        log.info("display process %d started: %s", self.process.pid, " ".join(cmd))

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()[-8:]
        return ("; display output:\n  " + "\n  ".join(lines)) if lines else ""

    def _stop_process(self, grace_s: float = 2.0) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(2.0)

    @property
    def pid(self) -> int | None:
        """Process id of the display started by this channel (None if it runs elsewhere)."""
        return self.process.pid if self.process is not None else None

    @property
    def available(self) -> bool:
        """Whether the display is connected and healthy."""
        return self.connected.is_set()

    def restart(self, timeout_s: float | None = None) -> bool:
        """Bring the display back after a fault (start a new process, or wait for a remote one)."""
        with self._restart_lock:
            if self._closed:
                return False
            if self.connected.is_set():
                return True
            if self.spawn:
                if self.process is not None and self.process.poll() is None:
                    self.process.kill()
                self._stop_process(0.5)
                self._spawn()
            ok = self._wait_for_hello(self.start_timeout_s if timeout_s is None else timeout_s)
            if not ok:
                log.error("the display did not come back%s", self._log_tail())
                return False
            log.warning("participant display restarted")
            if self.on_restored is not None:
                self.on_restored("participant display restarted")
            return True

    def close(self) -> None:
        """Close the display window and the link; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.cancel()
        if self.link is not None and self.connected.is_set():
            self.link.send({"type": m.QUIT})
        self._stop_process()
        if self.link is not None:
            self.link.close()

    # -- I/O thread ---------------------------------------------------------------------------
    def _on_message(self, msg: dict[str, Any], identity: bytes) -> None:
        assert self.link is not None
        kind = msg["type"]
        t = now()
        if kind == m.HELLO:
            if msg.get("version") != m.PROTOCOL_VERSION:
                log.error("display speaks protocol %s, engine %s", msg.get("version"), m.PROTOCOL_VERSION)
                return
            if self.spawn and self.process is not None and msg.get("pid") != self.process.pid:
                return  # a stale display from before a restart
            with self._lock:
                self.link.peer = identity
                self._clock = m.ClockSync(same_clock=msg.get("clock_id") == m.clock_id())
                self.window = dict(msg.get("window") or {})
                self._last_seen = t
                self.fault_message = None
                self.connected.set()
            self.link.send({"type": m.PING, "t": now()})
            return
        if identity != self.link.peer:
            return
        self._last_seen = t
        if kind == m.PONG:
            if msg.get("t_engine") is not None:
                self._clock.add(float(msg["t_engine"]), float(msg["t"]), t)
        elif kind == m.CLOSED:
            self._fault(str(msg.get("reason", "the display window was closed")))
        elif kind == m.ERROR:
            log.error("display error: %s", msg.get("message"))
        if "window" in msg:
            self.window = dict(msg["window"])
        request_id = msg.get("id")
        if request_id is not None and kind != m.HEARTBEAT:
            target = self._pending.get(int(request_id))
            if target is not None:
                target.put(self._to_engine_clock(msg))

    def _to_engine_clock(self, msg: dict[str, Any]) -> dict[str, Any]:
        if self._clock.same_clock:
            return msg
        out = dict(msg)
        for name in _TIME_FIELDS:
            if out.get(name) is not None:
                out[name] = self._clock.to_engine(float(out[name]))
        if out.get("samples"):
            out["samples"] = [[self._clock.to_engine(st), v] for st, v in out["samples"]]
        return out

    def _on_disconnect(self) -> None:
        proc = self.process
        if proc is None:
            self._fault("the connection to the display dropped")
        elif proc.poll() is not None:
            self._fault(f"the display process exited (code {proc.returncode})")
        # a local display still running reconnects by itself (ZeroMQ); the heartbeat judges it

    def _on_tick(self) -> None:
        if not self.connected.is_set() or self.link is None:
            return
        t = now()
        proc = self.process
        if proc is not None and proc.poll() is not None:
            self._fault(f"the display process exited (code {proc.returncode})")
        elif t - self._last_seen > self.heartbeat_timeout_s:
            self._fault(f"the display stopped responding (no heartbeat for {t - self._last_seen:.1f} s)")
        elif t - self._last_ping >= PING_INTERVAL_S:
            self._last_ping = t
            self.link.send({"type": m.PING, "t": t})

    def _fault(self, reason: str) -> None:
        with self._lock:
            if not self.connected.is_set() or self._closed:
                return
            self.connected.clear()
            if self.link is not None:
                self.link.peer = None
            message = f"participant display lost: {reason}; ratings are missing until it is restarted"
            self.fault_message = message
            self.faults.append((now(), message))
            for target in list(self._pending.values()):
                target.put({"type": _OUTAGE})
        log.error("%s", message)
        if self._closed:
            return
        threading.Thread(target=self._after_fault, args=(message,), name="display-fault", daemon=True).start()

    def _after_fault(self, message: str) -> None:
        if self.on_fault is not None:
            try:
                self.on_fault(message)
            except Exception:
                log.exception("display fault callback failed")
        if self.auto_restart:
            self.restart()

    # -- requests -----------------------------------------------------------------------------
    def request(
        self,
        msg: dict[str, Any],
        *,
        wait_s: float | None,
        until: str = m.RESULT,
        on_onset: OnsetCallback | None = None,
        on_sample: SampleCallback | None = None,
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str]:
        """Send msg (with a fresh id) and wait for its onset and result.

        Return (onset, result-or-final message, status) with status "ok", "outage", "cancelled"
        or "timeout". wait_s bounds the whole wait (None: until the display answers).
        """
        if not self.connected.is_set() or self.link is None:
            return None, None, "outage"
        request_id = next(self._ids)
        inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._pending[request_id] = inbox
        try:
            self.link.send({**msg, "id": request_id})
            deadline = None if wait_s is None else now() + wait_s
            onset: dict[str, Any] | None = None
            while True:
                remaining = 0.25 if deadline is None else deadline - now()
                if remaining <= 0:
                    return onset, None, "timeout"
                try:
                    reply = inbox.get(timeout=min(remaining, 0.25))
                except queue.Empty:
                    continue
                kind = reply["type"]
                if kind == _OUTAGE:
                    return onset, None, "outage"
                if kind == _CANCELLED:
                    return onset, None, "cancelled"
                if kind == m.ONSET:
                    onset = reply
                    if on_onset is not None:
                        on_onset(reply)
                    if until == m.ONSET:
                        return onset, reply, "ok"
                elif kind == m.SAMPLE and on_sample is not None:
                    on_sample(float(reply["t"]), reply.get("value"))
                elif kind == until:
                    return onset, reply, "ok"
                elif kind == m.ERROR:
                    raise CpmlabError(f"the display rejected a screen: {reply.get('message')}")
        finally:
            self._pending.pop(request_id, None)

    def _begin(self) -> float:
        self._cancelled.clear()
        return now()

    def _wait_out(self, until_t: float) -> bool:
        """Sleep until until_t unless cancelled; return True if the time passed."""
        return not self._cancelled.wait(max(until_t - now(), 0.0))

    def _common(self) -> dict[str, Any]:
        return {"overlay": self._immersed}

    def show_screen(
        self, screen: dict[str, Any], *, wait_s: float | None = None, on_onset: OnsetCallback | None = None
    ) -> dict[str, Any] | None:
        """Show any screen spec (see docs/display.md) and return its result (None if missing)."""
        until = m.ONSET if screen.get("hold") else m.RESULT
        _, result, _ = self.request({"type": m.SHOW, "screen": screen}, wait_s=wait_s, until=until, on_onset=on_onset)
        return result

    def show_text(
        self, text: str, *, key: str | None, timeout_s: float | None, on_onset: OnsetCallback | None = None
    ) -> ScreenResult:
        """Show text until key is pressed (if key) or timeout_s passes (if given)."""
        start = self._begin()
        text = translate_engine_text(self.language, text)
        spec: dict[str, Any] = {
            "kind": "text",
            "text": text,
            "keys": [key] if key else [],
            "timeout_s": timeout_s,
            **self._common(),
        }
        if key:
            label = key_label(self.language, key)
            if label.lower() not in text.lower():
                spec["footer"] = ui_text(self.language, "continue", key=label)
        wait_s = None if timeout_s is None else timeout_s + RESULT_GRACE_S
        onset, result, status = self.request({"type": m.SHOW, "screen": spec}, wait_s=wait_s, on_onset=on_onset)
        onset_t = float(onset["t"]) if onset else start
        if status == "ok" and result is not None:
            ended_by = result.get("ended_by", "timeout")
            return ScreenResult(
                float(result["onset_t"]),
                float(result["end_t"]),
                ended_by if ended_by in ("key", "timeout", "aborted") else "aborted",
                result.get("key"),
            )
        if status == "cancelled":
            return ScreenResult(onset_t, now(), "aborted")
        if key is None and timeout_s is not None:  # keep the protocol's timing through an outage
            passed = self._wait_out(onset_t + timeout_s)
            return ScreenResult(onset_t, now(), "timeout" if passed else "aborted")
        return ScreenResult(onset_t, now(), "timeout")

    def rating_spec(self, request: RatingRequest) -> dict[str, Any]:
        """Return the screen spec of a rating request, with the UI strings in the protocol's language."""
        hint = "categorical_hint" if request.scale == "categorical" else "rating_hint"
        return {
            "kind": "rating",
            "scale": request.scale,
            "question": request.question,
            "anchors": list(request.anchors),
            "categories": list(request.categories),
            "timeout_s": request.timeout_s,
            "confirm": ui_text(self.language, "confirm"),
            "hint": ui_text(self.language, hint),
            "no_answer": ui_text(self.language, "no_answer"),
            "feedback_s": self.feedback_s,
            **self._common(),
        }

    def rate(self, request: RatingRequest, on_onset: OnsetCallback | None = None) -> RatingResult:
        """Show a rating screen and return the answer (value None on timeout or outage)."""
        start = self._begin()
        onset, result, status = self.request(
            {"type": m.SHOW, "screen": self.rating_spec(request)},
            wait_s=request.timeout_s + RESULT_GRACE_S,
            on_onset=on_onset,
        )
        onset_t = float(onset["t"]) if onset else start
        if status != "ok" or result is None or result.get("ended_by") != "response":
            return RatingResult(None, float(result["onset_t"]) if result else onset_t, None, "none")
        value = result.get("value")
        return RatingResult(
            None if value is None else float(value),
            float(result["onset_t"]),
            float(result["response_t"]),
            str(result.get("input_device") or "none"),
            result.get("category"),
        )

    def rate_continuously(
        self, request: ContinuousRequest, on_sample: SampleCallback, on_onset: OnsetCallback | None = None
    ) -> ContinuousResult:
        """Run a continuous rating window, calling on_sample for every sample as it arrives."""
        start = self._begin()
        live: list[tuple[float, float | None]] = []

        def sample(t: float, value: float | None) -> None:
            live.append((t, value))
            on_sample(t, value)

        spec = {
            "kind": "continuous",
            "scale": request.scale,
            "question": request.question,
            "anchors": list(request.anchors),
            "duration_s": request.duration_s,
            "rate_hz": request.rate_hz,
            "hint": ui_text(self.language, "continuous_hint"),
            **self._common(),
        }
        onset, result, status = self.request(
            {"type": m.SHOW, "screen": spec},
            wait_s=request.duration_s + RESULT_GRACE_S,
            on_onset=on_onset,
            on_sample=sample,
        )
        onset_t = float(onset["t"]) if onset else start
        if status == "ok" and result is not None:
            samples = [(float(t), None if v is None else float(v)) for t, v in result.get("samples") or []]
            return ContinuousResult(float(result["onset_t"]), samples or live)
        if status == "outage":
            self._wait_out(onset_t + request.duration_s)
        return ContinuousResult(onset_t, live)

    def prompt_immersion(self, text: str, duration_s: float, on_onset: OnsetCallback | None = None) -> float:
        """Ask for the hand in the water with a visible countdown; return the onset time."""
        start = self._begin()
        self._immersed = True
        spec = {
            "kind": "countdown",
            "text": translate_engine_text(self.language, text),
            "duration_s": duration_s,
            "time_scale": self.time_scale,
            "label": ui_text(self.language, "time_remaining"),
            "response_hint": ui_text(
                self.language, "response_hint_withdrawal", key=key_label(self.language, self.response_key)
            ),
            "hold": True,
        }
        onset, _, _ = self.request(
            {"type": m.SHOW, "screen": spec}, wait_s=HOLD_ONSET_WAIT_S, until=m.ONSET, on_onset=on_onset
        )
        return float(onset["t"]) if onset else start

    def prompt_withdrawal(self, text: str) -> float:
        """Ask for the hand out of the water (held until the next screen); return the onset time."""
        start = now()
        self._immersed = False
        spec = {"kind": "text", "text": translate_engine_text(self.language, text), "hold": True}
        onset, _, _ = self.request({"type": m.SHOW, "screen": spec}, wait_s=HOLD_ONSET_WAIT_S, until=m.ONSET)
        return float(onset["t"]) if onset else start

    def wait_for_response(
        self, timeout_s: float, what: str = "withdrawal", on_onset: OnsetCallback | None = None
    ) -> float | None:
        """Wait for the participant's response key (what: withdrawal, cold_detection, heat_threshold)."""
        self._begin()
        name = f"response_hint_{what}" if f"response_hint_{what}" in UI_STRINGS["en"] else "response_hint_other"
        hint = ui_text(self.language, name, key=key_label(self.language, self.response_key))
        _, result, status = self.request(
            {"type": m.AWAIT_KEY, "keys": [self.response_key], "timeout_s": timeout_s, "what": what, "hint": hint},
            wait_s=timeout_s + RESULT_GRACE_S,
            on_onset=on_onset,
        )
        if status != "ok" or result is None or result.get("t") is None:
            return None
        return float(result["t"])

    def cancel(self) -> None:
        """End whatever screen is showing at once (abort / emergency stop)."""
        self._cancelled.set()
        if self.link is not None and self.connected.is_set():
            self.link.send({"type": m.CANCEL})
        for target in list(self._pending.values()):
            target.put({"type": _CANCELLED})

    # -- tools for tests and benchmarks -------------------------------------------------------------
    def screenshot(self, path: str | Path, timeout_s: float = 5.0) -> dict[str, Any] | None:
        """Save the next frame as PNG at path; return the display's answer (geometry, window)."""
        _, saved, status = self.request(
            {"type": m.SCREENSHOT, "path": str(Path(path).resolve())}, wait_s=timeout_s, until=m.SCREENSHOT_SAVED
        )
        return saved if status == "ok" else None

    def round_trip_s(self, timeout_s: float = 2.0) -> float | None:
        """Time one ping -> pong exchange with the display (engine clock, seconds)."""
        t0 = now()
        _, reply, status = self.request({"type": m.PING, "t": t0}, wait_s=timeout_s, until=m.PONG)
        return now() - t0 if status == "ok" and reply is not None else None

    def inject(self, events: list[dict[str, Any]]) -> None:
        """Make the display window dispatch key/mouse events itself (no X server involved)."""
        if self.link is not None and self.connected.is_set():
            self.link.send({"type": m.INJECT, "events": events})
