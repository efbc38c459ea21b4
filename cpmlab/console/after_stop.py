"""After a stop: say whether the thermode probe is back at neutral, with its live temperature meanwhile."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel, QWidget

from cpmlab.console import style
from cpmlab.core import events as ev
from cpmlab.engine.cooldown import PROBE_AT_NEUTRAL, PROBE_NOT_AT_NEUTRAL

STOP_ACTIONS = ("abort", "emergency_stop")
WAITING = "#8d5a00"  # dark amber: readable on the light panel


class AfterStopBanner(QLabel):
    """Hidden while a session runs normally; after a stop or fault it follows the probe back to neutral."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("afterStop")
        self.setWordWrap(True)
        self.stopped = False
        self.at_neutral: bool | None = None  # None until the session says
        self.stop_t = 0.0
        self.speed = 1.0  # the session's: durations shown in protocol seconds, as every console time
        self.hide()

    def _show(self, text: str, colour: str) -> None:
        self.setMinimumHeight(self.fontMetrics().lineSpacing() * 4 + 12)  # room for every line, no re-layout
        self.setText(text)
        self.setStyleSheet(f"color: {colour}; font-weight: 700; padding: 4px; border: 2px solid {colour};")
        self.show()

    def on_event(self, event: ev.Event) -> None:
        """Follow the session's events (GUI thread)."""
        data = event.data
        if event.kind == ev.SESSION_START:
            self.stopped, self.at_neutral = False, None
            self.speed = float(data.get("speed") or 1.0)
            self.hide()
        elif (event.kind == ev.CONTROL and data.get("action") in STOP_ACTIONS) or event.kind == ev.FAULT:
            if not self.stopped:
                self.stopped, self.stop_t = True, event.t
                self._show("Stopped: waiting for the probe\nto return to neutral…", WAITING)
        elif event.kind == ev.READING and self.stopped and self.at_neutral is None:
            zones = data.get("zones_c") or []
            neutral = data.get("neutral_c")
            if zones and neutral is not None:
                hottest = max(zones, key=lambda z: abs(z - neutral))
                self._show(
                    f"Stopped: probe returning to neutral\n{hottest:.1f} °C now, neutral {neutral:.1f} °C\n"
                    "Leave the probe in place until it is back.",
                    WAITING,
                )
        elif event.kind == ev.MARKER and data.get("name") == PROBE_AT_NEUTRAL:
            self.at_neutral = True
            self._show(
                f"Probe back at neutral ({data.get('neutral_c', 0):.1f} °C),\n"
                f"{max(event.t - self.stop_t, 0.0) * self.speed:.1f} s after the stop.",
                style.GREEN,
            )
        elif event.kind == ev.MARKER and data.get("name") == PROBE_NOT_AT_NEUTRAL:
            self.at_neutral = False
            why = "it sent no readings" if data.get("reason") == "no readings" else "it did not get there in time"
            self._show(
                f"Probe NOT confirmed at neutral\n({why}).\nCheck the thermode and the skin now.",
                style.RED,
            )
