"""The console's main window: wires setup, devices, run and summary views to a session worker."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from cpmlab.app.session import SessionSpec
from cpmlab.console import style
from cpmlab.console.bridge import EventBridge
from cpmlab.console.controls import ControlBar
from cpmlab.console.devices_panel import DevicesPanel
from cpmlab.console.environment import ALL_ROLES, Environment, describe_assignment, scan_environment, test_device
from cpmlab.console.placement import place_beside
from cpmlab.console.results import ResultActions
from cpmlab.console.run_view import RunView
from cpmlab.console.settings import ConsoleSettings, load_settings, save_settings
from cpmlab.console.setup_spec import remember, session_spec
from cpmlab.console.setup_view import DryRunOptions, SetupView
from cpmlab.console.stall import StallMonitor
from cpmlab.console.study_hook import StudyHook  # study hook
from cpmlab.console.summary_view import SummaryView
from cpmlab.console.tasks import BackgroundTasks
from cpmlab.console.worker import Prepared, SessionReport, SessionWorker
from cpmlab.core import events as ev
from cpmlab.devices.error_text import plain_error

log = logging.getLogger(__name__)

ESTOP_KEYS = ("F12", "Ctrl+Space")
PLOT_REFRESH_MS = 100  # plots redraw at most 10 times a second
CLOCK_REFRESH_MS = 200


class MainWindow(QMainWindow):
    """The experimenter console."""

    def __init__(
        self,
        options: DryRunOptions | None = None,
        settings_path: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("cpmlab console")
        self.setStyleSheet(style.APP_STYLE)
        self.options = options or DryRunOptions()
        self.settings_path = settings_path
        self.settings = ConsoleSettings()  # replaced by the saved settings once the background scan has read them
        self.env: Environment | None = None
        self.tasks = BackgroundTasks(self)
        self.stall_monitor = StallMonitor(10, self)
        self.bridge = EventBridge(self)
        self.bridge.events_ready.connect(self._on_events, Qt.ConnectionType.QueuedConnection)
        self.worker: SessionWorker | None = None
        self.prepared: Prepared | None = None
        self.last_report: SessionReport | None = None
        self.state = "setup"
        self._close_when_done = False
        self.last_estop_call_ms: float | None = None  # how long the last emergency stop held the GUI thread

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        self.controls = ControlBar()
        layout.addWidget(self.controls)
        self.devices_panel = DevicesPanel(ALL_ROLES)
        self.devices_panel.setMinimumWidth(250)
        self.devices_panel.setMaximumWidth(340)
        self.setup_view = SetupView(self.tasks, self.options)
        self.run_view = RunView()
        self.summary_view = SummaryView()
        self.stack = QStackedWidget()
        for view in (self.setup_view, self.run_view, self.summary_view):
            self.stack.addWidget(view)
        split = QSplitter()
        split.addWidget(self.devices_panel)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([270, 1000])
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

        self.controls.start_clicked.connect(self.start_session)
        self.controls.pause_clicked.connect(self.pause)
        self.controls.resume_clicked.connect(self.resume)
        self.controls.abort_clicked.connect(self.abort)
        self.controls.new_session_clicked.connect(self.new_session)
        # the emergency stop acts on press, directly on this thread: never queued behind other work
        self.controls.estop_button.pressed.connect(lambda: self.emergency_stop("console button"))
        self.estop_shortcuts = []
        for key in ESTOP_KEYS:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(lambda: self.emergency_stop("console shortcut"))
            self.estop_shortcuts.append(shortcut)
        quit_shortcut = QShortcut(QKeySequence("Ctrl+Q"), self)
        quit_shortcut.activated.connect(self.close)
        self.setup_view.changed.connect(self._update_start)
        self.devices_panel.test_requested.connect(self.test_device)
        self.devices_panel.faults_changed.connect(self._update_start)
        self.run_view.log.note_submitted.connect(self.add_note)
        self.results = ResultActions(self.summary_view, self.tasks, lambda: self.last_report)

        self.plot_timer = QTimer(self)
        self.plot_timer.setInterval(PLOT_REFRESH_MS)
        self.plot_timer.timeout.connect(self._refresh_plots)
        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(CLOCK_REFRESH_MS)
        self.clock_timer.timeout.connect(self._tick)
        self.stale_timer = QTimer(self)
        self.stale_timer.setInterval(1000)
        self.stale_timer.timeout.connect(lambda: self.devices_panel.check_stale(ALL_ROLES))

        self.study = StudyHook(self)  # study hook: study view, run variables, session options
        self._set_state("setup")
        self.controls.set_start_allowed(False, "loading the lab config, drivers and ports…")
        self.tasks.run(
            lambda: (scan_environment(), load_settings(settings_path)),
            lambda found: self._environment_ready(*found),
            self._environment_failed,
            name="scan",
        )
        self.resize(1280, 900)

    # -- setup -----------------------------------------------------------------------------------
    def _environment_ready(self, env: Environment, settings: ConsoleSettings) -> None:
        self.env = env
        self.settings = settings
        self.setup_view.set_environment(env, self.settings)
        self._show_assignments()
        self._update_start()

    def _environment_failed(self, exc: BaseException) -> None:
        self.controls.set_hint(f"Could not scan the lab set-up: {exc}", style.RED)

    def _show_assignments(self) -> None:
        if not self.setup_view.ready:
            return
        for role, (driver, port) in self.setup_view.values().devices.items():
            self.devices_panel.set_assignment(role, describe_assignment(driver or "?", port))

    def _update_start(self) -> None:
        if self.state != "setup":
            return
        problems = self.setup_view.problems() + self.devices_panel.start_blockers()
        self.controls.set_start_allowed(not problems, "; ".join(problems))
        self._show_assignments()

    def test_device(self, role: str) -> None:
        """Open one device in the background, identify it, close it; show the outcome."""
        if self.env is None or self.state not in ("setup", "finished"):
            return
        driver, port = self.setup_view.values().devices[role]
        if not driver:
            return
        self.devices_panel.set_testing(role)
        lab = self.env.lab
        self.tasks.run(
            lambda: test_device(role, driver, port, lab),
            on_done=lambda identity: self.devices_panel.set_test_result(role, identity, None),
            on_error=lambda exc: self.devices_panel.set_test_result(role, None, plain_error(exc, role, port)),
            name=f"test-{role}",
        )

    def build_spec(self) -> SessionSpec:
        """Return the SessionSpec for the current setup."""
        assert self.env is not None
        spec = self.study.extend_spec(session_spec(self.setup_view.values(), self.env.lab))
        spec.resume_after_display = False  # the operator resumes after a lost display is back
        if not spec.fullscreen:
            place_beside(spec, self)
        return spec

    def _remember(self) -> ConsoleSettings:
        return remember(self.setup_view.values(), self.settings)

    def save_settings_in_background(self) -> None:
        """Write the settings file off the GUI thread."""
        settings = dataclasses.replace(self._remember())
        path = self.settings_path
        self.tasks.run(lambda: save_settings(settings, path), name="save-settings")

    # -- session ---------------------------------------------------------------------------------
    def start_session(self) -> None:
        """Start the session in a worker thread (devices open there)."""
        if self.state != "setup" or self.setup_view.problems():
            return
        spec = self.build_spec()
        self.save_settings_in_background()
        self.prepared = None
        self.last_report = None
        self.bridge.drain()  # nothing of an earlier session may leak into this one
        if self.worker is not None:
            self.worker.deleteLater()  # its thread has ended (state was 'setup')
        self.worker = SessionWorker(spec, [self.bridge], self)
        self.worker.connect_to(self._on_prepared, self._on_failed, self._on_finished)
        self.devices_panel.set_session_active(True)
        self.stall_monitor.start()
        self.run_view.begin([], spec.speed, {})
        self.stack.setCurrentWidget(self.run_view)
        self._set_state("preparing")
        self.worker.start()

    def _on_prepared(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.run_view.begin(prepared.occurrences, prepared.session.spec.speed, prepared.variables)
        if self.state == "preparing":
            self._set_state("running")
        self.plot_timer.start()
        self.clock_timer.start()
        self.stale_timer.start()

    def _on_failed(self, report: SessionReport) -> None:
        self._finish(report)

    def _on_finished(self, report: SessionReport) -> None:
        self._on_events()  # everything the bus sent before the end
        self._finish(report)

    def _finish(self, report: SessionReport) -> None:
        self.last_report = report
        self.plot_timer.stop()
        self.clock_timer.stop()
        self.stale_timer.stop()
        self.stall_monitor.stop()
        self._refresh_plots()
        self.run_view.tick(paused=False)
        self.run_view.finish(report.outcome)
        self.devices_panel.set_session_active(False)
        self.devices_panel.set_closed()
        self.summary_view.show_report(report, bool(self.env and self.env.scoring_available))
        self.stack.setCurrentWidget(self.summary_view)
        self._set_state("finished", report.outcome.replace("_", " "))
        log.info("longest event-loop stall during the session: %.1f ms", self.stall_monitor.max_stall_ms)
        if self._close_when_done:
            self.close()

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.controls.set_state(state, detail)
        self.run_view.log.set_note_enabled(state in ("running", "paused"))
        if state == "finished":
            self.controls.set_hint("Review the summary; 'New session' returns to the setup.")
        elif state == "preparing":
            self.controls.set_hint("Opening the journal and the devices…")
        elif state in ("running", "paused"):
            self.controls.set_hint("Emergency stop: the red button, F12 or Ctrl+Space (no confirmation).")

    def new_session(self) -> None:
        """Return to the setup for the next session (the run number is kept; change labels as needed)."""
        if self.state != "finished":
            return
        self.stack.setCurrentWidget(self.setup_view)
        self._set_state("setup")
        self.setup_view._labels_changed()  # re-check that the run is not recorded yet
        self._update_start()

    # -- controls --------------------------------------------------------------------------------
    def _engine(self) -> Any:
        return self.prepared.session.engine if self.prepared is not None else None

    def emergency_stop(self, source: str = "console button") -> None:
        """Abort every device at once (GUI thread, direct call; no confirmation)."""
        if not self.session_active():
            return
        started = time.perf_counter()
        self.worker.emergency_stop(source)
        self.last_estop_call_ms = (time.perf_counter() - started) * 1000.0
        log.warning("emergency stop (%s): devices aborted in %.0f ms", source, self.last_estop_call_ms)
        if self.state != "finished":
            self._set_state("stopping", "EMERGENCY STOP, devices aborted, writing the data")
        self.run_view.set_now("EMERGENCY STOP: devices aborted", style.RED)

    def pause(self) -> None:
        """Pause at the next pausable point (device-timed stimuli finish)."""
        engine = self._engine()
        if engine is None or self.state != "running":
            return
        self.controls.pause_button.setEnabled(False)
        self.tasks.control(engine.pause, "console")

    def resume(self) -> None:
        """Resume a paused session."""
        engine = self._engine()
        if engine is None or self.state != "paused":
            return
        if engine.timer.holds:  # the engine refuses too; keep the button for when the display is back
            self.controls.set_hint("The participant display is not back yet: Resume once it shows the screen.")
            return
        self.controls.resume_button.setEnabled(False)
        self.tasks.control(engine.resume, "console")

    def abort(self) -> None:
        """Ask, then end the session (devices aborted, data written)."""
        if self.state not in ("preparing", "running", "paused"):
            return
        if not self.confirm(
            "Abort the session?", "End the session now? Devices are aborted and the data so far are written."
        ):
            return
        self._abort("operator abort (console)")

    def _abort(self, reason: str) -> None:
        if self.worker is None:
            return
        session = self.worker.request_abort(reason)
        if session is not None:
            self.tasks.control(session.engine.abort, reason, "console")
        self._set_state("stopping", "aborting")

    def add_note(self, text: str) -> None:
        """Add a timestamped operator note to the journal and the streams (in the background)."""
        engine = self._engine()
        if engine is None:
            return
        self.tasks.control(engine.note, text, "console")

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question; No is the default."""
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- events from the session ------------------------------------------------------------------
    def _on_events(self) -> None:
        for event in self.bridge.drain():
            self.devices_panel.on_event(event)
            self.run_view.on_event(event)
            if event.kind == ev.CONTROL:
                action = event.data.get("action")
                if action in ("pause", "hold") and self.state == "running":
                    self._set_state("paused", "participant display lost: held" if action == "hold" else "")
                elif action == "release" and self.state == "paused":
                    self.controls.set_hint("The participant display is back and shows the screen again: Resume.")
                elif action == "resume" and self.state == "paused":
                    self._set_state("running")
                elif action in ("abort", "emergency_stop") and self.state in ("running", "paused", "preparing"):
                    self._set_state("stopping", str(action).replace("_", " "))
            elif event.kind == ev.SESSION_END and self.state in ("running", "paused"):
                self._set_state("stopping", "writing the data files")

    def _refresh_plots(self) -> None:
        from cpmlab.core.clock import now

        self.run_view.plots.refresh(now())

    def _tick(self) -> None:
        self.run_view.tick(paused=self.state == "paused")

    # -- closing ----------------------------------------------------------------------------------
    def shutdown(self, source: str) -> None:
        """Quit without asking (SIGTERM, Ctrl-C in the terminal): emergency stop first, close once data are written."""
        if self.session_active():
            self._close_when_done = True
            self.emergency_stop(source)
        else:
            self.close()

    def session_active(self) -> bool:
        """True from Start until the session's data are written."""
        return self.worker is not None and self.worker.is_alive() and self.state != "finished"

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        """Confirm closing mid-session; then stop the session safely and close once the data are written."""
        if self.session_active():
            if not self._close_when_done:
                if not self.confirm(
                    "Quit during a session?",
                    "A session is running. Stop it (devices are aborted, data written) and quit?",
                ):
                    event.ignore()
                    return
                self._close_when_done = True
                self._abort("console closed")
            event.ignore()  # closes from _finish once the worker has written the data
            return
        try:
            if self.setup_view.ready:  # the app is quitting and no session runs: a small file, written once
                save_settings(self._remember(), self.settings_path)
        except OSError as exc:
            log.warning("could not save console settings: %s", exc)
        self.tasks.shutdown()
        super().closeEvent(event)
