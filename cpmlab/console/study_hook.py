"""Connects studies, run variables, session options and operator buttons to the console window (hook lines there)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtGui import QAction, QKeySequence

from cpmlab.console.operator_events import OperatorEventBar
from cpmlab.console.study_forms import SessionOptions, SessionOptionsDialog, VariablesDialog
from cpmlab.console.study_view import StudyView
from cpmlab.protocol.loader import effective_limits
from cpmlab.study.plan import NextVisit

if TYPE_CHECKING:
    from cpmlab.app.session import SessionSpec
    from cpmlab.console.window_parts import ConsoleWindow

log = logging.getLogger(__name__)
TRANSIENT = ("the protocol is being checked", "loading the lab config and devices")


@dataclass
class ArmedVisit:
    """A study visit chosen in the study view, waiting for the setup to be ready."""

    visit: NextVisit
    study_name: str
    root: Path
    variables: dict[str, Any]
    overrides: list[dict[str, Any]] = field(default_factory=list)

    def matches(self, spec: SessionSpec) -> bool:
        """True when the spec is this visit's run (same protocol, labels and data folder)."""
        nv = self.visit
        return (
            Path(spec.protocol_path).resolve() == nv.protocol_path.resolve()
            and (spec.participant, spec.session, spec.run) == (nv.participant.label, nv.visit.session, nv.run)
            and Path(spec.data_root).expanduser().resolve() == self.root
        )


class StudyHook:
    """The study view page, the Study menu, and what they add to the window's SessionSpec."""

    def __init__(self, window: ConsoleWindow) -> None:
        self.window = window
        self.view = StudyView(window.tasks)
        window.stack.addWidget(self.view)
        self.armed: ArmedVisit | None = None
        self.run_variables: dict[str, Any] = {}  # a single run's variables, for run_variables_protocol
        self.run_variables_protocol: Path | None = None
        self.options = SessionOptions()
        self.view.back_clicked.connect(self.show_setup)
        self.view.start_visit.connect(self.arm)
        window.setup_view.changed.connect(self._setup_changed)
        self.operator_bar = OperatorEventBar(window)
        window.addToolBar(self.operator_bar)
        menu = window.menuBar().addMenu("&Study")
        self.open_action = self._action(menu, "Study view…", self.show_study, "Ctrl+Shift+S")
        self.variables_action = self._action(menu, "Protocol variables for this run…", self.edit_run_variables)
        self.options_action = self._action(menu, "Session options (remote display, language, LSL)…", self.edit_options)

    def _action(self, menu: Any, text: str, slot: Any, key: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if key:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # -- study view ------------------------------------------------------------------------------
    def show_study(self) -> None:
        """Show the study view (only between sessions) and re-read the data folder."""
        if self.window.state not in ("setup", "finished"):
            return
        env = self.window.env
        self.view.lab_limits = env.lab.safety_limits() if env is not None else None
        if not self.view.data_edit.text() and self.window.setup_view.ready:
            folder = self.window.setup_view.values().data_folder
            self.view.data_edit.setText(str(folder or ""))
        self.window.stack.setCurrentWidget(self.view)
        self.view.reload()

    def show_setup(self) -> None:
        """Return to the setup (or the summary after a session)."""
        w = self.window
        w.stack.setCurrentWidget(w.summary_view if w.state == "finished" else w.setup_view)

    def arm(self, visit: NextVisit, variables: dict[str, Any], overrides: list[dict[str, Any]]) -> None:
        """Fill the setup with the visit's protocol and labels; start as soon as the setup is valid."""
        snap = self.view.snapshot
        if snap is None:
            return
        w = self.window
        if w.state == "finished":
            w.new_session()
            w.stack.setCurrentWidget(self.view)
        if w.state != "setup":
            return
        self.armed = ArmedVisit(visit, snap.loaded.study.name, snap.root, dict(variables), list(overrides))
        setup = w.setup_view
        setup.data_edit.setText(str(snap.root))
        for edit, text in (
            (setup.participant.edit, visit.participant.label),
            (setup.session.edit, visit.visit.session),
            (setup.run.edit, str(visit.run)),
        ):
            edit.setText(text)
        setup.select_protocol(str(visit.protocol_path))
        self.view.visit_problem.setText("Preparing the setup for this visit…")
        self._setup_changed()

    def _setup_changed(self) -> None:
        armed, w = self.armed, self.window
        if armed is None or w.state != "setup" or w.stack.currentWidget() is not self.view:
            return
        setup = w.setup_view
        preview = setup.preview
        if (
            preview is None
            or preview.protocol is None
            or Path(str(setup.protocol_combo.currentData())) != armed.visit.protocol_path
        ):
            return
        problems = setup.problems()
        if any(p in TRANSIENT for p in problems):
            return
        if problems:
            self.view.visit_problem.setText("The setup is not ready: " + "; ".join(problems) + " (Back to setup)")
            return
        w.start_session()

    # -- single runs and options -----------------------------------------------------------------
    def edit_run_variables(self) -> None:
        """Set the selected protocol's variables for the next single run (checked against the limits)."""
        setup, env = self.window.setup_view, self.window.env
        if setup.preview is None or setup.preview.protocol is None or env is None:
            return
        protocol = setup.preview.protocol
        path = Path(str(setup.protocol_combo.currentData()))
        current = self.run_variables if self.run_variables_protocol == path else {}
        dialog = VariablesDialog(protocol, effective_limits(protocol, env.lab.safety_limits()), current, self.window)
        if dialog.exec() == VariablesDialog.DialogCode.Accepted:
            self.run_variables, self.run_variables_protocol = dialog.values(), path

    def edit_options(self) -> None:
        """Choose the remote display address, the participant language and extra LSL streams."""
        from cpmlab.display.i18n import UI_STRINGS

        dialog = SessionOptionsDialog(self.options, sorted(UI_STRINGS), self.window)
        if dialog.exec() == SessionOptionsDialog.DialogCode.Accepted:
            self.options = dialog.options()

    def _run_variables_apply(self, spec: SessionSpec) -> bool:
        chosen = self.run_variables_protocol
        return (
            bool(self.run_variables) and chosen is not None and Path(spec.protocol_path).resolve() == chosen.resolve()
        )

    # -- the spec --------------------------------------------------------------------------------
    def extend_spec(self, spec: SessionSpec) -> SessionSpec:
        """Add the armed visit's variables and study facts, a single run's variables, and the session options."""
        armed, self.armed = self.armed, None
        if armed is not None and armed.matches(spec):
            spec.variables = {**spec.variables, **armed.variables}
            spec.metadata = {**spec.metadata, **armed.visit.metadata(armed.study_name, armed.overrides)}
        elif self._run_variables_apply(spec):
            spec.variables = {**spec.variables, **self.run_variables}
            spec.metadata = {**spec.metadata, "operator_variables": dict(self.run_variables)}
        if armed is not None and not armed.matches(spec):
            log.warning("the setup no longer matches the study visit; running it as a single run")
        spec.operator_responses = True  # the operator's immersion buttons answer for the participant
        o = self.options
        spec.display_address = o.display_address or spec.display_address
        spec.language = o.language or spec.language
        if o.language:
            spec.metadata = {**spec.metadata, "participant_language": o.language}
        if o.record_streams and spec.lsl:
            spec.record = True
            spec.record_streams = [*spec.record_streams, *o.record_streams]
        return spec
