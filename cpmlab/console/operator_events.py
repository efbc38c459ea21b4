"""The operator's own immersion buttons: pain detected, hand withdrawn early, tolerance reached (with keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QLabel, QToolBar

from cpmlab.core.clock import now

if TYPE_CHECKING:
    from cpmlab.console.window_parts import ConsoleWindow

# (event journaled, what it answers, button text, key)
BUTTONS = (
    ("pain_detected", "cold_detection", "Pain detected", "F5"),
    ("hand_withdrawn_early", "withdrawal", "Hand withdrawn early", "F6"),
    ("tolerance_reached", "withdrawal", "Tolerance reached", "F7"),
)


class OperatorEventBar(QToolBar):
    """Buttons the operator presses when the participant says so; enabled while a session runs."""

    def __init__(self, window: ConsoleWindow) -> None:
        super().__init__("Participant says…", window)
        self.window = window
        self.setObjectName("operatorEvents")
        self.addWidget(QLabel(" Participant says: "))
        self.actions_by_event: dict[str, QAction] = {}
        for event, what, text, key in BUTTONS:
            action = QAction(f"{text} ({key})", self)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(f"Journal '{text.lower()}' now; during an immersion it counts as the participant's key")
            action.triggered.connect(lambda _=False, e=event, w=what: self.press(e, w))
            self.addAction(action)
            self.actions_by_event[event] = action
        self.last = QLabel("")
        self.addWidget(self.last)
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self._update)
        self.timer.start()
        self._update()

    def _responses(self):  # type: ignore[no-untyped-def]
        w = self.window
        if w.state not in ("running", "paused") or w.prepared is None:
            return None
        return getattr(w.prepared.session, "responses", None)

    def press(self, event: str, what: str) -> None:
        """Stamp the press now and hand it to the session off the GUI thread (it is journaled there)."""
        responses = self._responses()
        if responses is None:
            return
        t = now()
        self.window.tasks.control(responses.press, event, what, t)
        self.last.setText(f"  sent: {event.replace('_', ' ')}")

    def _update(self) -> None:
        active = self._responses() is not None
        for action in self.actions_by_event.values():
            action.setEnabled(active)
        if not active:
            self.last.setText("")
