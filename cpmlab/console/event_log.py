"""The session's event log, and the operator's timestamped notes."""

from __future__ import annotations

import html

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from cpmlab.console import style
from cpmlab.console.progress import format_zones
from cpmlab.console.protocol_clock import ProtocolClock
from cpmlab.core import events as ev

QUIET_KINDS = frozenset({ev.READING, ev.CONTINUOUS_SAMPLE, ev.DISPLAY, ev.RATING_ONSET})
QUIET_MARKERS = frozenset({"lsl_streams", "block_repetition", "wait"})


def describe_event(event: ev.Event) -> tuple[str, str] | None:
    """Return (text, colour) for an event worth showing to the operator, or None."""
    d = event.data
    kind = event.kind
    if kind in QUIET_KINDS:
        return None
    if kind == ev.SESSION_START:
        return f"session started: {d.get('protocol')} (speed ×{d.get('speed', 1):g})", style.GREEN
    if kind == ev.SESSION_END:
        colour = style.GREEN if d.get("outcome") == "completed" else style.RED
        return f"session ended: {d.get('outcome')}", colour
    if kind == ev.STEP_START:
        what = d.get("label") or d.get("step_id") or ""
        rep = f" (rep {d['rep']})" if d.get("rep") else ""
        return f"▶ {d.get('step_type')} {what}{rep}", ""
    if kind == ev.STEP_END:
        status = d.get("status", "done")
        if status == "done":
            return None
        return f"■ {d.get('step_type')} {d.get('step_id') or ''} ended: {status}", style.AMBER
    if kind == ev.STIMULUS:
        stage = d.get("stage")
        if stage == "ramp_start":
            return f"heat {d.get('target_c', 0):.1f} °C starts (zones {format_zones(d.get('zones'))})", style.HEAT
        if stage == "end":
            return "heat stimulus over", style.HEAT
        return None
    if kind == ev.IMMERSION:
        if d.get("stage") == "immersion_start":
            return f"hand in the water ({d.get('setpoint_c')} °C)", style.COLD
        if d.get("stage") == "immersion_end":
            return f"hand out of the water ({d.get('reason', '')})", style.COLD
        return None
    if kind == ev.RATING:
        value = d.get("value")
        shown = "no answer" if value is None else f"{value:g}"
        return f"rating {d.get('scale', '').upper()} of {d.get('rates') or d.get('about')}: {shown}", style.RATING
    if kind == ev.CONTROL:
        extra = f": {d['reason']}" if d.get("reason") else ""
        action = str(d.get("action", "")).upper().replace("_", " ")
        return f"{action} by {d.get('source', '?')}{extra}", style.RED if "STOP" in action else style.AMBER
    if kind == ev.FAULT:
        return f"FAULT {d.get('device', '')}: {d.get('message', '')}", style.RED
    if kind == ev.NOTE:
        return f"NOTE: {d.get('text', '')}", style.BLUE
    if kind == ev.MARKER:
        if d.get("name") in QUIET_MARKERS:
            return None
        if d.get("name") == "bath_settling":
            return f"waiting for the bath: {d.get('bath_c', 0):.1f} → {d.get('setpoint_c')} °C", style.COLD
        return f"marker {d.get('name')}", style.GREY
    if kind == ev.MEASURE and d.get("measure") == "calibration_estimate":
        level = round(100 * float(d.get("ci_level", 0.95)))
        return (
            f"calibration estimate after trial {d.get('trial')}: {d.get('value', 0):.2f} °C "
            f"({level}% CI {d.get('ci_low_c', 0):.2f}–{d.get('ci_high_c', 0):.2f})",
            style.HEAT,
        )
    if kind == ev.VARIABLE:
        return f"{d.get('name')} = {d.get('value')}", style.GREY
    return None


class EventLog(QWidget):
    """Readable log of what happened, with a note entry (Enter adds a timestamped note)."""

    note_submitted = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(5000)
        layout.addWidget(self.view)
        row = QHBoxLayout()
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Note for the journal (Enter to add), e.g. 'participant moved arm'")
        self.note_edit.returnPressed.connect(self._submit)
        self.note_button = QPushButton("Add note")
        self.note_button.clicked.connect(self._submit)
        row.addWidget(self.note_edit, 1)
        row.addWidget(self.note_button)
        layout.addLayout(row)
        self.clock = ProtocolClock()  # the run view's clock once shared (use_clock)
        self.lines: list[str] = []
        self.set_note_enabled(False)

    def reset(self) -> None:
        """Clear the log for a new session."""
        self.view.clear()
        self.lines = []

    def use_clock(self, clock: ProtocolClock) -> None:
        """Stamp rows with this clock (fed with the session's events by its owner)."""
        self.clock = clock

    def set_note_enabled(self, enabled: bool) -> None:
        """Allow notes only while a session is running."""
        self.note_edit.setEnabled(enabled)
        self.note_button.setEnabled(enabled)

    def add_event(self, event: ev.Event) -> None:
        """Append an event's line, stamped with its protocol time, if it is worth showing."""
        shown = describe_event(event)
        if shown is None:
            return
        text, colour = shown
        self.add_line(text, colour, event.t)

    def add_line(self, text: str, colour: str = "", t: float | None = None) -> None:
        """Append one line stamped with the protocol time of shared-clock time t (blank without one)."""
        stamp = self.clock.stamp(t) if t is not None and self.clock.started else ""
        stamp = stamp.rjust(7)
        self.lines.append(f"{stamp}  {text}")
        body = html.escape(text)
        if colour:
            body = f'<span style="color:{colour}; font-weight:600">{body}</span>'
        stamp_html = f'<span style="color:#607d8b; font-family:monospace; white-space:pre">{stamp}</span>'
        self.view.appendHtml(f"{stamp_html}&nbsp;&nbsp;{body}")

    def _submit(self) -> None:
        text = self.note_edit.text().strip()
        if not text:
            return
        self.note_edit.clear()
        self.note_submitted.emit(text)
