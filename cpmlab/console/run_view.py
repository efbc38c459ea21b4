"""The run view: what is happening now, what comes next, the step list, live plots, ratings, log."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor, QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cpmlab.console import style
from cpmlab.console.countdown import Countdown, current_countdown
from cpmlab.console.empty_table import TableOrNote
from cpmlab.console.event_log import EventLog
from cpmlab.console.plots import LivePlots
from cpmlab.console.progress import Occurrence, SessionProgress, format_zones, row_text
from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.protocol.timeline import format_clock

ROW_COLOURS = {
    "running": ("#fff59d", "#000000"),
    "done": ("#ffffff", "#9e9e9e"),
    "pending": ("#ffffff", "#212121"),
}
STATE_MARK = {"running": "▶", "done": "✓", "pending": "", "aborted": "✗", "failed": "✗"}
RATING_COLUMNS = ("time", "rates", "phase", "scale", "rating", "RT (s)")


class RunView(QWidget):
    """Everything the operator watches during a session."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        head = QGridLayout()
        # fixed sizes: text changing every 200 ms must never re-lay out the window (and resize the plots)
        self.now_label = QLabel("Waiting for the session to start…")
        self.now_label.setObjectName("nowLabel")
        self.now_label.setFixedHeight(44)
        self.now_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.next_label = QLabel("")
        self.next_label.setObjectName("nextLabel")
        self.next_label.setFixedHeight(30)
        self.next_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.clock_label = QLabel("")
        self.clock_label.setObjectName("clockLabel")
        self.clock_label.setFixedSize(300, 78)
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.now_label, 0, 0)
        head.addWidget(self.clock_label, 0, 1, 2, 1)
        head.addWidget(self.next_label, 1, 0)
        head.setColumnStretch(0, 1)
        layout.addLayout(head)

        self.steps = QTableWidget(0, 4)
        self.steps.setHorizontalHeaderLabels(["", "at", "dur", "step"])
        self.steps.horizontalHeaderItem(1).setToolTip("actual start, or expected start after the delays so far")
        self.steps.verticalHeader().hide()
        self.steps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.steps.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.steps.setWordWrap(False)
        header = self.steps.horizontalHeader()
        for col in range(3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        self.plots = LivePlots()
        self.ratings = QTableWidget(0, len(RATING_COLUMNS))
        self.ratings.setHorizontalHeaderLabels(list(RATING_COLUMNS))
        self.ratings.verticalHeader().hide()
        self.ratings.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ratings.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.log = EventLog()

        bottom = QTabWidget()
        bottom.addTab(self.log, "Event log && notes")
        self.ratings_area = TableOrNote(self.ratings, "No ratings yet.")
        bottom.addTab(self.ratings_area, "Ratings")
        self.bottom_tabs = bottom

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        right.addWidget(bottom)
        right.setSizes([430, 260])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.steps)
        split.addWidget(right)
        split.setSizes([430, 650])
        layout.addWidget(split, 1)

        self.progress = SessionProgress([], 1.0)
        self.log.use_clock(self.progress.clock)
        self.countdown: Countdown | None = None  # what the 'now' line last showed
        self._now_colour = ""
        self._activity: dict[str, Any] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self.set_now("Waiting for the session to start…", "#37474f")

    # -- setup ---------------------------------------------------------------------------------
    def begin(self, occurrences: list[Occurrence], speed: float, variables: dict[str, Any]) -> None:
        """Show a new session's script; clear plots, ratings and log."""
        self.progress = SessionProgress(occurrences, speed, variables)
        self.log.use_clock(self.progress.clock)
        self.countdown = None
        self.speed = speed
        self._activity = {}
        self.steps.setRowCount(len(occurrences))
        for o in occurrences:
            rep = f"  [{o.rep}/{o.rep_of}]" if o.rep and o.rep_of else ""
            dur = ("≤" if o.upper_bound else "") + (f"{o.duration_s:g} s" if o.leaf else format_clock(o.duration_s))
            cells = ("", format_clock(o.start_s), dur, "    " * o.depth + row_text(o, variables) + rep)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(o.description + (f" [{o.step_id}]" if o.step_id else ""))
                if not o.leaf:
                    item.setFont(self._bold)
                self.steps.setItem(o.index, col, item)
            self._paint_row(o)
        self.ratings.setRowCount(0)
        self.log.reset()
        self.plots.reset(now(), speed)
        self.set_now("Session starting…", "#37474f")
        self.next_label.setText("")
        self.clock_label.setText("")

    def _paint_row(self, o: Occurrence) -> None:
        background, foreground = ROW_COLOURS.get(o.state, ("#ffcdd2", "#b71c1c"))
        if o.state == "running" and not o.leaf:
            background = "#fffde7"  # the block around the running step: paler than the step itself
        for col in range(4):
            item = self.steps.item(o.index, col)
            if item is None:
                continue
            item.setBackground(QBrush(QColor(background)))
            item.setForeground(QBrush(QColor(foreground)))
        mark = self.steps.item(o.index, 0)
        if mark is not None:
            mark.setText(STATE_MARK.get(o.state, "✗"))

    def set_now(self, text: str, colour: str) -> None:
        """Show the big 'now' line in a colour for its kind (heat, cold, rating)."""
        if text != self.now_label.text():
            self.now_label.setText(text)
        if colour != self._now_colour:  # re-styling is costly: only when the kind of activity changes
            self._now_colour = colour
            self.now_label.setStyleSheet(style.pill(colour, "white"))

    # -- events --------------------------------------------------------------------------------
    def on_event(self, event: ev.Event) -> None:
        """Update rows, plots, ratings and the log from one event (GUI thread)."""
        if event.kind == ev.SESSION_START:
            self.plots.reset(event.t, float(event.data.get("speed", 1.0) or 1.0))
            self.plots.set_span(self.progress.total_s)
        self.plots.on_event(event)
        changed = self.progress.on_event(event)  # feeds the clock first: the log stamps with it
        self.log.add_event(event)
        for index in changed:
            self._paint_row(self.progress.occurrences[index])
        if changed:
            self._update_times()
            current = self.progress.current_index()
            if current is not None:
                self.steps.scrollToItem(self.steps.item(current, 3), QAbstractItemView.ScrollHint.PositionAtCenter)
        self._track_activity(event)
        if event.kind == ev.RATING:
            self._add_rating(event)

    def _update_times(self) -> None:
        """Show actual starts of started rows and expected starts (after the delays so far) of the rest."""
        p = self.progress
        if p.t0 is None:
            return
        t = now()
        for o in p.occurrences:
            item = self.steps.item(o.index, 1)
            if item is not None:
                item.setText(format_clock(p.start_of(o, t)))

    def _track_activity(self, event: ev.Event) -> None:
        d, kind = event.data, event.kind
        if kind == ev.STIMULUS:
            if d.get("stage") == "end":
                self._activity.pop("heat", None)
            else:
                self._activity["heat"] = (d.get("stage"), d.get("target_c"), d.get("zones"))
        elif kind == ev.IMMERSION:
            if d.get("stage") == "immersion_start":
                self._activity["cold"] = (event.t, d.get("setpoint_c"))
            elif d.get("stage") == "immersion_end":
                self._activity.pop("cold", None)
        elif kind == ev.MARKER and d.get("name") == "bath_settling":
            self._activity["settling"] = d.get("setpoint_c")
        elif kind == ev.RATING_ONSET:
            self._activity["rating"] = d.get("scale", "")
        elif kind == ev.RATING:
            self._activity.pop("rating", None)
        elif kind == ev.STEP_END and d.get("step_type") == "immersion":
            self._activity.pop("settling", None)
        if kind == ev.IMMERSION and d.get("stage") == "immersion_start":
            self._activity.pop("settling", None)
        if kind == ev.SESSION_END:
            self._activity.clear()

    def _add_rating(self, event: ev.Event) -> None:
        d = event.data
        row = self.ratings.rowCount()
        self.ratings.insertRow(row)
        t = self.progress.protocol_clock_s(event.t)
        value = d.get("value")
        rt = d.get("rt_s")
        cells = (
            format_clock(t),
            str(d.get("rates") or d.get("step_id") or ""),
            str(d.get("phase") or ""),
            str(d.get("scale", "")).upper(),
            "no answer" if value is None else f"{value:g}",
            "" if rt is None else f"{rt:.2f}",
        )
        for col, text in enumerate(cells):
            self.ratings.setItem(row, col, QTableWidgetItem(text))
        self.ratings.scrollToBottom()

    # -- clocks (timer, ~5 Hz) -----------------------------------------------------------------
    def tick(self, paused: bool) -> None:
        """Refresh the protocol clock, the countdown, the 'now' line and the 'next' line."""
        p = self.progress
        if p.t0 is None:
            return
        t = now()
        clock = p.clock
        lines = [f"{format_clock(clock.shown_s(t))} / ~{format_clock(p.total_s)}"]
        if clock.paused:
            lines.append(f"PAUSED {format_clock(clock.paused_for_s(t))}")
        lines.append(f"remaining ~{format_clock(p.remaining_s(t))}")
        if p.speed != 1 and not clock.paused:
            lines.append(f"dry run ×{p.speed:g}")
        text = "\n".join(lines)
        if text != self.clock_label.text():
            self.clock_label.setText(text)
        if p.t_end is not None:
            self.countdown = None
            return
        upcoming = p.next_text(t)
        text = f"Next: {upcoming}" if upcoming else ""
        if text != self.next_label.text():
            self.next_label.setText(text)
        self.countdown = current_countdown(p, t)
        self._show_now(paused or clock.paused, t)

    def _show_now(self, paused: bool, t: float) -> None:
        a = self._activity
        prefix = f"PAUSED {format_clock(self.progress.clock.paused_for_s(t))} · " if paused else ""
        left = f" · {self.countdown.text}" if self.countdown is not None else ""
        if "heat" in a:
            stage, target, zones = a["heat"]
            what = {"ramp_start": "ramping to", "plateau_start": "plateau at", "return_start": "returning from"}
            where = f"zones {format_zones(zones)}"
            self.set_now(f"{prefix}HEAT: {what.get(stage, '')} {target:.1f} °C ({where}){left}", style.HEAT)
        elif "cold" in a:
            _, setpoint = a["cold"]
            self.set_now(f"{prefix}HAND IN WATER ({setpoint:g} °C){left}", style.COLD)
        elif "rating" in a:
            self.set_now(f"{prefix}Participant is rating ({a['rating'].upper()}){left}", style.RATING)
        elif "settling" in a:
            self.set_now(f"{prefix}Waiting for the bath to reach {a['settling']:g} °C", style.COLD)
        else:
            current = self.progress.current()
            text = current[-1].description if current else "between steps"
            self.set_now(prefix + text + left, style.AMBER if paused else "#37474f")

    def finish(self, outcome: str) -> None:
        """Show the end of the session in the 'now' line."""
        colour = style.GREEN if outcome == "completed" else style.RED
        self.set_now(f"Session {outcome.replace('_', ' ')}", colour)
        self.next_label.setText("")
