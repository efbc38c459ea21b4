"""The display process: one PsychoPy window, its own main thread and event loop, ZeroMQ to the engine.

Run as `cpmlab display [--connect ADDRESS] ...`. The loop, once per frame: read engine
messages, dispatch window events (stamped by InputCollector), advance the screens, draw,
flip (onsets are stamped in win.callOnFlip with pylsl.local_clock), send heartbeats.
F12 / Ctrl+Space go to the engine as an emergency stop; a silent engine gets the participant
the stopped notice (cpmlab.display.engine_watch). The window never grabs pointer or keyboard.
Exit codes: 0 quit by the engine, 3 window closed, 4 engine gone (its process died; after the
notice has been up for ORPHAN_LINGER_S).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cpmlab.display.messages as m
from cpmlab.core.clock import now
from cpmlab.display.clocksync import clock_id
from cpmlab.display.engine_watch import EngineWatch
from cpmlab.display.specs import WindowInfo
from cpmlab.display.window import DisplayOptions, configure_psychopy, never_grab, parent_alive, x_connection

__all__ = ["DisplayApp", "DisplayOptions", "run_display"]

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 0.1
FRAME_PERIOD_S = 1.0 / 60.0  # pacing when flip does not block (no vsync, e.g. Xvfb)
EXIT_QUIT, EXIT_CLOSED, EXIT_ORPHANED = 0, 3, 4


@dataclass(frozen=True)
class _Armed:
    """An await_key listener: which keys answer it, since when, and until when."""

    id: int
    keys: tuple[str, ...]
    onset_t: float
    deadline_t: float


class DisplayApp:
    """The window, the current screens and the engine link of one display process."""

    def __init__(self, options: DisplayOptions) -> None:
        import zmq

        configure_psychopy()
        from psychopy import core, visual

        from cpmlab.display.inputs import InputCollector
        from cpmlab.display.widgets import BG, Context

        self.options = options
        self.zmq_context = zmq.Context()
        self.sock = self.zmq_context.socket(zmq.DEALER)
        self.sock.linger = 0
        public, secret = zmq.curve_keypair()  # a throwaway client key: the session token proves who we are
        self.sock.curve_publickey, self.sock.curve_secretkey = public, secret
        self.sock.curve_serverkey = options.key.server_public
        self.sock.connect(options.connect)
        kwargs: dict[str, Any] = {}
        if options.pos is not None and not options.fullscreen:
            kwargs["pos"] = options.pos
        self.win = visual.Window(
            size=options.size,
            fullscr=options.fullscreen,
            screen=options.screen,
            units="height",
            color=BG,
            winType="pyglet",
            allowGUI=not options.fullscreen,
            checkTiming=False,
            waitBlanking=True,
            title="cpmlab participant display",
            **kwargs,
        )
        never_grab(self.win.winHandle)
        self.win.mouseVisible = True
        self.ctx = Context(self.win, options.font)
        self.inputs = InputCollector(self.win.winHandle, on_stop=self.emergency_key)
        self._x_display, self._x_fd = x_connection(self.win.winHandle)
        self.engine_watch = EngineWatch(options.language)
        # PsychoPy stamps flips on its own monotonic clock; keep its offset to local_clock for diagnostics.
        pairs = sorted((now() - core.monotonicClock.getTime(), i) for i in range(5))
        self.psychopy_to_local_s = pairs[2][0]
        self.background: Any = None  # held screen (countdown, withdrawal text)
        self.current: Any = None  # screen with a pending result
        self.feedback: Any = None  # brief follow-up (e.g. 'No answer')
        self.armed: _Armed | None = None  # await_key listener
        self.screenshots: list[m.Screenshot] = []
        self.pending_onsets: list[Any] = []
        self.frame = 0
        self.greeted = False
        self.exit_code: int | None = None
        self.last_engine_t = time.monotonic()

    # -- link ---------------------------------------------------------------------------------
    def send(self, msg: m.ToEngine) -> None:
        """Send one message to the engine."""
        import zmq

        try:
            self.sock.send(m.encode(msg), zmq.NOBLOCK)
        except zmq.Again:
            log.warning("engine link full; dropped a %s message", msg.TYPE)

    def emergency_key(self, key: str, t: float) -> None:
        """Forward an emergency-stop key pressed in this window to the engine at once."""
        log.warning("emergency-stop key %s pressed in the display window", key)
        self.send(m.EmergencyStop(key=key, t=t))

    def window_info(self) -> WindowInfo:
        """Return the window's position and size on the screen (pixels)."""
        handle = self.win.winHandle
        x, y = handle.get_location()
        width, height = handle.get_size()
        window_id = getattr(handle, "_window", None)
        return WindowInfo(
            x=int(x),
            y=int(y),
            width=int(width),
            height=int(height),
            fullscreen=self.options.fullscreen,
            screen=self.options.screen,
            x_window_id=int(window_id) if window_id else None,
        )

    def hello(self) -> None:
        """Introduce this display to the engine."""
        self.send(
            m.Hello(
                version=m.PROTOCOL_VERSION,
                token=self.options.key.token,
                pid=os.getpid(),
                clock_id=clock_id(),
                window=self.window_info(),
                t=now(),
            )
        )

    def poll_engine(self, timeout_s: float) -> None:
        """Handle every waiting engine message (waiting up to timeout_s for the first)."""
        import zmq

        if timeout_s > 0 and not self._input_pending():
            poller = zmq.Poller()
            poller.register(self.sock, zmq.POLLIN)
            if self._x_fd is not None:
                poller.register(self._x_fd, zmq.POLLIN)  # wake on input too: stamp it on arrival
            ready = dict(poller.poll(int(timeout_s * 1000)))
            if self.sock not in ready:
                return
        while True:
            try:
                frame = self.sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            self.last_engine_t = time.monotonic()
            self.greeted = True
            self.engine_watch.engine_back(self)
            try:
                self.on_message(m.decode(frame, m.TO_DISPLAY))
            except m.MessageError as exc:  # refused before anything changed
                log.error("refused an engine message: %s", exc)
                self.send(m.Error(message=str(exc)))
            except Exception as exc:  # a bad spec must not kill the participant's screen
                log.exception("bad engine message")
                self.send(m.Error(message=f"{type(exc).__name__}: {exc}"))

    def _input_pending(self) -> bool:
        if self._x_display is None:
            return False
        from pyglet.libs.x11 import xlib

        return bool(xlib.XPending(self._x_display))

    def on_message(self, msg: m.ToDisplay) -> None:
        """Act on one engine message."""
        from cpmlab.display.screens import make_screen

        t = now()
        if isinstance(msg, m.Ping):
            self.send(m.Pong(id=msg.id, t_engine=msg.t, t=t))
        elif isinstance(msg, m.Show):
            screen = make_screen(self.ctx, msg.screen, msg.id)
            self.end_current(t, "aborted")
            self.feedback = None
            if screen.hold:
                self.background = screen
            else:
                if not screen.overlay:
                    self.background = None
                self.current = screen
            self.pending_onsets.append(screen)
        elif isinstance(msg, m.Cancel):
            self.end_current(t, "aborted")
            self.background = self.feedback = None
            self.disarm(t)
        elif isinstance(msg, m.AwaitKey):
            self.disarm(t)
            self.armed = _Armed(msg.id, tuple(k.lower() for k in msg.keys), t, t + msg.timeout_s)
            if self.background is not None and hasattr(self.background, "set_hint"):
                self.background.set_hint(msg.hint)
            self.send(m.Onset(id=msg.id, t=t, kind="await_key"))
        elif isinstance(msg, m.Screenshot):
            self.screenshots.append(msg)
        elif isinstance(msg, m.Inject):
            self.inputs.dispatch_injected(msg.events)
        elif isinstance(msg, m.Quit):
            self.exit_code = EXIT_QUIT

    def end_current(self, t: float, ended_by: str) -> None:
        """End the current screen (if still running) and report it."""
        if self.current is not None and not self.current.done:
            self.current.finish(t, ended_by)
            self.report(self.current)
        self.current = None

    def disarm(self, t: float, key: str | None = None, key_t: float | None = None) -> None:
        """Answer and remove the await_key listener."""
        armed, self.armed = self.armed, None
        if armed is None:
            return
        ended_by = "key" if key is not None else "timeout"
        self.send(
            m.Result(
                id=armed.id,
                kind="await_key",
                onset_t=armed.onset_t,
                end_t=t,
                ended_by=ended_by,
                key=key,
                response_t=key_t,
            )
        )
        if self.background is not None and hasattr(self.background, "set_hint"):
            self.background.set_hint(None)

    def report(self, screen: Any) -> None:
        """Send a finished screen's result."""
        if screen.id is not None and screen.result is not None:
            self.send(screen.result)

    # -- frame --------------------------------------------------------------------------------
    def visible(self) -> Any:
        """Return the screen on top."""
        return self.current or self.feedback or self.background

    def step_screens(self) -> None:
        """Give input to the visible screen, advance time, collect results and samples."""
        t = now()
        events = self.inputs.drain()
        held = self.inputs.held
        if self.armed is not None:
            for event in events:
                if event.kind == "key" and event.key in self.armed.keys:
                    self.disarm(t, event.key, event.t)
                    break
            else:
                if t >= self.armed.deadline_t:
                    self.disarm(t)
        screen = self.visible()
        if screen is not None:
            for event in events:
                screen.handle(event, held)
            screen.update(t, held)
            for st, value in screen.samples_out:
                self.send(m.Sample(id=screen.id, t=st, value=value))
            screen.samples_out.clear()
        if self.current is not None and self.current.done:
            self.report(self.current)
            self.feedback = self.current.follow_up()
            if self.feedback is not None:
                self.pending_onsets.append(self.feedback)
            self.current = None
        if self.feedback is not None and self.feedback.done:
            self.feedback = None
        if self.background is not None:
            self.background.update(t, held)

    def _on_flip(self, screens: list[Any]) -> None:
        t = now()
        flip_t = self.win._frameTime + self.psychopy_to_local_s
        for screen in screens:
            screen.start(t)
            if screen.id is not None:
                window, geometry = self.window_info(), screen.geometry()
                self.send(m.Onset(id=screen.id, t=t, flip_t=flip_t, kind=screen.kind, window=window, geometry=geometry))

    def draw_frame(self) -> None:
        """Draw the visible screen, save requested screenshots, flip."""
        screen = self.visible()
        if screen is not None:
            screen.draw()
        if self.screenshots:
            image = self.win._getFrame(buffer="back")  # the front buffer is undefined after a swap
            for request in self.screenshots:
                Path(request.path).parent.mkdir(parents=True, exist_ok=True)
                image.save(request.path)
                geometry = screen.geometry() if screen is not None else {}
                kind = getattr(screen, "kind", None)
                window = self.window_info()
                self.send(
                    m.ScreenshotSaved(id=request.id, path=request.path, kind=kind, geometry=geometry, window=window)
                )
            self.screenshots.clear()
        if self.pending_onsets:
            self.win.callOnFlip(self._on_flip, list(self.pending_onsets))
            self.pending_onsets.clear()
        self.win.flip()
        self.frame += 1

    def run(self) -> int:
        """Run the event loop until quit, window close or orphaning; return the exit code."""
        self.hello()
        last_beat = last_hello = time.monotonic()
        last_flip = time.monotonic()
        while self.exit_code is None:
            self.poll_engine(max(FRAME_PERIOD_S - (time.monotonic() - last_flip), 0.0))
            if self.exit_code is not None:
                break
            self.win.winHandle.dispatch_events()
            if self.inputs.closed:
                self.send(m.Closed(reason="the display window was closed"))
                self.exit_code = EXIT_CLOSED
                break
            self.step_screens()
            self.draw_frame()
            last_flip = time.monotonic()
            if last_flip - last_beat >= HEARTBEAT_INTERVAL_S:
                self.send(m.Heartbeat(t=now(), frame=self.frame))
                last_beat = last_flip
            if not self.greeted and last_flip - last_hello > 1.0:
                self.hello()  # the engine may not have been listening yet
                last_hello = last_flip
            if self.frame % 30 == 0:
                parent = self.options.parent_pid
                if self.engine_watch.check(self, orphaned=parent is not None and not parent_alive(parent)):
                    self.exit_code = EXIT_ORPHANED
        return self.exit_code

    def close(self) -> None:
        """Close the window and the socket."""
        try:
            self.win.close()
        finally:
            self.sock.close(0)
            self.zmq_context.term()


def run_display(options: DisplayOptions) -> int:
    """Open the window, serve the engine until told to stop; return the exit code."""
    app = DisplayApp(options)
    try:
        return app.run()
    finally:
        app.close()
