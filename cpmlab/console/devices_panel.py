"""Devices panel: each device's connection, temperatures, alarms and faults; connect/test."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cpmlab.console import style
from cpmlab.console.after_stop import AfterStopBanner
from cpmlab.console.environment import role_title
from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.devices.error_text import plain_fault

STALE_AFTER_S = 3.0  # real seconds without a reading while a session runs
STATE_TEXT = {
    "idle": "not connected",
    "testing": "testing…",
    "ok": "test passed",
    "connected": "connected",
    "stale": "NO DATA",
    "fault": "FAULT",
    "closed": "closed",
}


@dataclass
class _Row:
    box: QGroupBox
    state: QLabel
    assignment: QLabel
    identity: QLabel
    temp: QLabel
    zones: QLabel
    fault: QLabel
    test: QPushButton
    last_reading_t: float | None = None
    current: str = "idle"


class DevicesPanel(QWidget):
    """One box per device role; red at once when a device faults or vanishes."""

    test_requested = pyqtSignal(str)  # role
    faults_changed = pyqtSignal()  # a device turned to or from fault: Start may change

    def __init__(self, roles: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        title = QLabel("<b>Devices</b>")
        layout.addWidget(title)
        self.after_stop = AfterStopBanner()
        layout.addWidget(self.after_stop)
        self.rows: dict[str, _Row] = {}
        for role in roles:
            self.rows[role] = self._make_row(role)
            layout.addWidget(self.rows[role].box)
        layout.addStretch(1)
        self.session_active = False

    def _make_row(self, role: str) -> _Row:
        box = QGroupBox(role_title(role))
        v = QVBoxLayout(box)
        top = QHBoxLayout()
        state = QLabel()
        state.setObjectName("deviceState")
        temp = QLabel("–")
        temp.setObjectName("deviceTemp")
        temp.setFixedWidth(120)
        temp.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(state)
        top.addStretch(1)
        top.addWidget(temp)
        v.addLayout(top)
        zones = QLabel("")
        zones.setStyleSheet("font-family: monospace; color: #455a64;")
        zones.setFixedHeight(36)  # two lines; readings at 10 Hz must not re-lay out the window
        assignment = QLabel("")
        assignment.setWordWrap(True)
        identity = QLabel("")
        identity.setWordWrap(True)
        identity.setStyleSheet("color: #455a64;")
        fault = QLabel("")
        fault.setWordWrap(True)
        fault.setStyleSheet(f"color: {style.RED}; font-weight: 700;")
        fault.hide()
        test = QPushButton("Connect && test")
        test.setToolTip("Open the device in the background, identify it, close it")
        test.clicked.connect(lambda: self.test_requested.emit(role))
        for w in (zones, assignment, identity, fault):
            v.addWidget(w)
        sep = QFrame()
        sep.setFrameShape(QFrame.Shape.HLine)
        v.addWidget(sep)
        v.addWidget(test)
        zones.setVisible(role == "thermode")
        row = _Row(box, state, assignment, identity, temp, zones, fault, test)
        self._paint(row, "idle")
        return row

    # -- state -------------------------------------------------------------------------------
    def state(self, role: str) -> str:
        """Return a role's state: idle, testing, ok, connected, stale, fault or closed."""
        return self.rows[role].current

    def fault_text(self, role: str) -> str:
        """Return the fault shown for a role ('' when none)."""
        return self.rows[role].fault.text()

    def start_blockers(self) -> list[str]:
        """Return why Start must wait: every device showing a fault must be tested again first."""
        return [
            f"the {role_title(role).lower()} shows a fault: test it again (Connect & test)"
            for role, row in self.rows.items()
            if row.current == "fault"
        ]

    def _paint(self, row: _Row, state: str, detail: str = "") -> None:
        faulted = row.current == "fault"
        row.current = state
        background, foreground = style.DEVICE_STATE_COLOURS[state]
        row.state.setStyleSheet(style.pill(background, foreground))
        row.state.setText(STATE_TEXT[state] + (f" {detail}" if detail else ""))
        row.box.setStyleSheet(f"QGroupBox {{ border: 3px solid {style.RED}; }}" if state == "fault" else "")
        if faulted != (state == "fault"):
            self.faults_changed.emit()

    def set_assignment(self, role: str, text: str) -> None:
        """Show which driver and port serve a role."""
        self.rows[role].assignment.setText(text)

    def set_testing(self, role: str) -> None:
        """Show that a connect/test is under way."""
        row = self.rows[role]
        row.test.setEnabled(False)
        row.fault.hide()
        self._paint(row, "testing")

    def set_test_result(self, role: str, identity: str | None, error: str | None) -> None:
        """Show the outcome of a connect/test."""
        row = self.rows[role]
        row.test.setEnabled(not self.session_active)
        if error:
            self._paint(row, "fault")
            row.fault.setText(error)
            row.fault.show()
        else:
            self._paint(row, "ok")
            row.identity.setText(identity or "")
            row.fault.hide()

    def set_session_active(self, active: bool) -> None:
        """Disable connect/test while a session owns the devices; reset state at start."""
        self.session_active = active
        for row in self.rows.values():
            row.test.setEnabled(not active)
            if active:
                row.last_reading_t = None
                row.fault.hide()
                row.fault.setText("")
                row.temp.setText("–")
                row.zones.setText("")
                self._paint(row, "idle")

    def set_closed(self) -> None:
        """Show the devices as closed after a session (a fault stays visible)."""
        for row in self.rows.values():
            if row.current != "fault":
                self._paint(row, "closed")

    def mark_fault(self, role: str, message: str) -> None:
        """Turn a device red with its fault message."""
        row = self.rows.get(role)
        if row is None:
            return
        self._paint(row, "fault")
        old = row.fault.text()
        message = plain_fault(message, role_title(role).lower())
        row.fault.setText(message if not old else f"{old}\n{message}")
        row.fault.show()

    # -- events --------------------------------------------------------------------------------
    def on_event(self, event: ev.Event) -> None:
        """Update from a session event (GUI thread)."""
        self.after_stop.on_event(event)
        data = event.data
        if event.kind == ev.SESSION_START:
            info = data.get("device_info") or {}
            described = data.get("devices") or {}
            for role, row in self.rows.items():
                if role in described or role in info:
                    d = described.get(role, {})
                    where = "emulated" if d.get("emulated") else d.get("port", "")
                    row.assignment.setText(f"{d.get('driver', '')} ({where})")
                    i = info.get(role, {})
                    row.identity.setText(f"{i.get('model', '')}: {i.get('identity', '')}".strip(": "))
                    if row.current != "fault":
                        self._paint(row, "connected")
        elif event.kind == ev.READING:
            role = data.get("device")
            row = self.rows.get(role or "")
            if row is None:
                return
            row.last_reading_t = event.t
            if role == "thermode":
                zones = data.get("zones_c") or []
                hottest = max(zones) if zones else data.get("neutral_c")
                row.temp.setText(f"{hottest:.1f} °C" if hottest is not None else "–")
                row.zones.setText(
                    "zones " + " ".join(f"{z:.1f}" for z in zones) + f"\nneutral {data.get('neutral_c', 0):.1f} °C"
                )
            else:
                bath = data.get("bath_c")
                row.temp.setText(f"{bath:.2f} °C" if bath is not None else "–")
            if row.current in ("stale", "idle"):
                self._paint(row, "connected")
        elif event.kind == ev.FAULT:
            role = data.get("device")
            if role in self.rows:
                self.mark_fault(role, str(data.get("message", "fault")))

    def check_stale(self, streaming_roles: tuple[str, ...] = ("thermode",)) -> None:
        """Flag a streaming device that has sent nothing for a while (called about once a second)."""
        if not self.session_active:
            return
        t = now()
        for role in streaming_roles:
            row = self.rows.get(role)
            if row is None or row.last_reading_t is None or row.current == "fault":
                continue
            silent = t - row.last_reading_t
            if silent > STALE_AFTER_S:
                self._paint(row, "stale", f"for {silent:.0f} s")
