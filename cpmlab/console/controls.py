"""The control bar: session state, Start / Pause / Resume / Abort, and the emergency stop."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from cpmlab.console import style

STATE_TEXT = {
    "setup": "READY: set up the session",
    "preparing": "OPENING DEVICES…",
    "running": "RUNNING",
    "paused": "PAUSED",
    "stopping": "STOPPING",
    "finished": "SESSION ENDED",
}


class ControlBar(QFrame):
    """Top bar, always visible: what state the session is in and every control."""

    start_clicked = pyqtSignal()
    pause_clicked = pyqtSignal()
    resume_clicked = pyqtSignal()
    abort_clicked = pyqtSignal()
    new_session_clicked = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)

        left = QVBoxLayout()
        self.banner = QLabel()
        self.banner.setObjectName("stateBanner")
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # never widens the window
        self.banner.setMinimumWidth(260)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setFixedHeight(40)  # changing hints must not re-lay out the window
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.banner.setFixedHeight(40)
        left.addWidget(self.banner)
        left.addWidget(self.hint)
        row.addLayout(left, 1)

        self.start_button = QPushButton("Start session")
        self.start_button.setObjectName("startButton")
        self.start_button.setMinimumHeight(56)
        self.start_button.clicked.connect(self.start_clicked)
        self.pause_button = self._control("Pause", self.pause_clicked)
        self.resume_button = self._control("Resume", self.resume_clicked)
        self.abort_button = self._control("Abort…", self.abort_clicked)
        self.abort_button.setToolTip("End the session (asks for confirmation); devices are aborted")
        self.new_button = self._control("New session", self.new_session_clicked)
        for button in (self.start_button, self.pause_button, self.resume_button, self.abort_button, self.new_button):
            row.addWidget(button)
        row.addSpacing(24)

        self.estop_button = QPushButton("EMERGENCY STOP\nF12  ·  Ctrl+Space")
        self.estop_button.setObjectName("estop")
        self.estop_button.setMinimumSize(300, 84)
        self.estop_button.setToolTip("Abort every device at once and end the session (no confirmation)")
        self.estop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space in a text field must not press it
        row.addWidget(self.estop_button)
        self.set_state("setup")

    def _control(self, text: str, signal: pyqtSignal) -> QPushButton:
        button = QPushButton(text)
        button.setProperty("role", "control")
        button.setMinimumHeight(56)
        button.clicked.connect(signal)
        return button

    def set_state(self, state: str, detail: str = "") -> None:
        """Show the session state and enable exactly the controls that make sense in it."""
        self.state = state
        background, foreground = style.STATE_COLOURS[state]
        self.banner.setStyleSheet(style.pill(background, foreground))
        self.banner.setText(STATE_TEXT[state] + (f": {detail}" if detail else ""))
        active = state in ("preparing", "running", "paused", "stopping")
        self.start_button.setVisible(state == "setup")
        self.new_button.setVisible(state == "finished")
        for button in (self.pause_button, self.resume_button, self.abort_button):
            button.setVisible(state != "setup" and state != "finished")
        self.pause_button.setEnabled(state == "running")
        self.resume_button.setEnabled(state == "paused")
        self.abort_button.setEnabled(state in ("preparing", "running", "paused"))
        self.estop_button.setEnabled(active)

    def set_start_allowed(self, allowed: bool, why: str = "") -> None:
        """Enable Start only when the setup is valid; say what is missing otherwise."""
        self.start_button.setEnabled(allowed and self.state == "setup")
        if self.state == "setup":
            self.hint.setText("Ready to start." if allowed else f"Cannot start yet: {why}")
            self.hint.setStyleSheet("" if allowed else f"color: {style.RED};")

    def set_hint(self, text: str, colour: str = "") -> None:
        """Show a line under the state banner."""
        self.hint.setText(text)
        self.hint.setStyleSheet(f"color: {colour};" if colour else "")
