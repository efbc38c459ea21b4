"""Prepare and run a session in a worker thread; report back through queued Qt signals."""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from PyQt6.QtCore import QObject, Qt, pyqtSignal

from cpmlab.app.session import PreparedSession, SessionResult, SessionSpec
from cpmlab.console.progress import Occurrence, build_occurrences
from cpmlab.console.protocol_clock import ProtocolClock
from cpmlab.core import events as ev
from cpmlab.core.errors import CpmlabError
from cpmlab.core.events import Subscriber
from cpmlab.protocol.timeline import format_clock

log = logging.getLogger(__name__)


@dataclass
class SessionReport:
    """How a session ended, for the summary view (computed in the worker thread)."""

    outcome: str
    data_root: Path | None = None
    result: SessionResult | None = None
    summary_text: str = ""
    ratings: pd.DataFrame | None = None
    faults: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    report_html: list[Path] = field(default_factory=list)
    error: str | None = None
    journal: Path | None = None
    clock_text: str = ""  # where on the protocol clock the session stopped and ended, paused time


@dataclass
class Prepared:
    """A session whose devices are open, and its expanded timeline."""

    session: PreparedSession
    occurrences: list[Occurrence]
    variables: dict[str, Any]


def find_reports(root: Path) -> list[Path]:
    """Return the HTML reports under DATASET/derivatives/cpmlab-group and cpmlab (newest first)."""
    found = [
        p
        for name in ("cpmlab-group", "cpmlab")
        if (Path(root) / "derivatives" / name).is_dir()
        for p in (Path(root) / "derivatives" / name).rglob("*.html")
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


class SessionWorker(QObject):
    """Build a PreparedSession and run it off the GUI thread; emergency stop works at any moment."""

    prepared = pyqtSignal(object)  # Prepared
    failed = pyqtSignal(object)  # SessionReport (could not start)
    finished = pyqtSignal(object)  # SessionReport

    def __init__(self, spec: SessionSpec, subscribers: list[Subscriber], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.subscribers = subscribers
        self.session: PreparedSession | None = None
        self._lock = threading.Lock()
        self._stop_request: tuple[str, str] | None = None  # ("emergency" | "abort", source/reason)
        self._thread: threading.Thread | None = None

    def connect_to(self, receiver_prepared: Any, receiver_failed: Any, receiver_finished: Any) -> None:
        """Connect the worker's signals to GUI-thread slots with queued connections."""
        queued = Qt.ConnectionType.QueuedConnection
        self.prepared.connect(receiver_prepared, queued)
        self.failed.connect(receiver_failed, queued)
        self.finished.connect(receiver_finished, queued)

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._body, name="console-session", daemon=True)
        self._thread.start()

    def is_alive(self) -> bool:
        """True while preparing, running or writing files."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Join the worker thread; return True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.is_alive()

    # -- controls (GUI thread) ---------------------------------------------------------------
    def emergency_stop(self, source: str) -> None:
        """Abort every device now; if devices are still opening, stop as soon as they are open."""
        with self._lock:
            self._stop_request = ("emergency", source)
            session = self.session
        if session is not None:
            session.engine.emergency_stop(source)

    def request_abort(self, reason: str) -> PreparedSession | None:
        """Remember an abort for a session still opening; return the session if it already runs."""
        with self._lock:
            if self._stop_request is None:
                self._stop_request = ("abort", reason)
            return self.session

    # -- worker thread ------------------------------------------------------------------------
    def _body(self) -> None:
        try:
            session = PreparedSession(self.spec, subscribers=self.subscribers)
        except Exception as exc:
            message = str(exc) if isinstance(exc, CpmlabError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, CpmlabError):
                log.error("could not prepare the session\n%s", traceback.format_exc())
            self._emit(self.failed, SessionReport(outcome="not started", error=message))
            return
        with self._lock:
            self.session = session
            request = self._stop_request
        try:
            variables = {**session.protocol.variables, **session.engine.variables}
            occurrences = build_occurrences(session.protocol, variables)
        except Exception:
            log.exception("timeline for the console failed")
            occurrences, variables = [], {}
        self._emit(self.prepared, Prepared(session, occurrences, variables))
        if request is not None:
            kind, text = request
            if kind == "emergency":
                session.engine.emergency_stop(text)
            else:
                session.engine.abort(text, "console")
        try:
            result = session.run()
        except Exception as exc:
            log.error("session run failed\n%s", traceback.format_exc())
            report = SessionReport(
                outcome="failed",
                data_root=session.paths.root,
                error=f"{type(exc).__name__}: {exc} (the journal is kept: cpmlab recover {session.paths.journal})",
                journal=session.paths.journal,
            )
            report.faults, _, report.clock_text = journal_times(session.paths.journal)
            self._emit(self.finished, report)
            return
        self._emit(self.finished, build_report(result))

    def _emit(self, signal: Any, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the console is gone; the data are written regardless
            signal.emit(value)


def build_report(result: SessionResult) -> SessionReport:
    """Summarise a finished session: CPM summary, ratings, faults, files (worker thread)."""
    report = SessionReport(outcome=str(result.outcome), data_root=result.paths.root, result=result)
    report.journal = result.paths.journal
    written = result.written
    if written is not None:
        report.ratings = written.ratings
        report.files = list(written.files)
        try:
            from cpmlab.scoring.results import format_run_summary
            from cpmlab.storage.journal import read_journal

            report.summary_text = format_run_summary(written.ratings, read_journal(result.paths.journal))
        except Exception as exc:  # the scoring behind the summary must not hide the session's end
            log.exception("CPM summary failed")
            report.summary_text = f"CPM summary unavailable: {type(exc).__name__}: {exc}"
    report.faults, report.controls, report.clock_text = journal_times(result.paths.journal)
    report.report_html = find_reports(result.paths.root)
    return report


def journal_times(journal: Path) -> tuple[list[str], list[str], str]:
    """Return the journal's faults and operator controls at protocol time, and the session's clock line."""
    from cpmlab.storage.journal import read_journal

    faults: list[str] = []
    controls: list[str] = []
    try:
        records = list(read_journal(journal))
    except OSError:
        return faults, controls, ""
    clock = ProtocolClock()  # the run view's clock, replayed: the same times as the event log and BIDS onsets
    stopped: str | None = None  # the first abort or emergency stop
    first_fault: str | None = None
    end_t: float | None = None
    outcome = ""
    for r in records:
        try:
            event = ev.Event.from_json(r)
        except (KeyError, TypeError, ValueError):
            continue
        clock.on_event(event)
        at = f"{format_clock(clock.at(event.t))}  " if clock.started else ""
        if event.kind == ev.FAULT:
            faults.append(f"{at}{r.get('device', '?')}: {r.get('message', '')}")
            if first_fault is None and clock.started:
                first_fault = format_clock(clock.at(event.t))
        elif event.kind == ev.CONTROL:
            detail = r.get("reason") or ""
            controls.append(f"{at}{r.get('action')} by {r.get('source', '?')}" + (f": {detail}" if detail else ""))
            if r.get("action") in ("abort", "emergency_stop") and stopped is None and clock.started:
                stopped = format_clock(clock.at(event.t))
        elif event.kind == ev.SESSION_END:
            end_t, outcome = event.t, str(r.get("outcome", ""))
    if stopped is None and outcome == "fault":
        stopped = first_fault  # a fault ended it: the first one is where it stopped
    return faults, controls, _clock_line(clock, end_t, stopped)


def _clock_line(clock: ProtocolClock, end_t: float | None, stopped: str | None) -> str:
    """Return e.g. 'Protocol time: stopped at 3:21, ended at 3:24 (paused 0:40 in all)'."""
    if not clock.started or end_t is None:
        return ""
    parts = [f"stopped at {stopped}"] if stopped else []
    parts.append(f"ended at {format_clock(clock.at(end_t))}")
    paused = clock.paused_total_s(end_t)
    pause_text = f" (paused {format_clock(paused)} in all)" if paused > 0 else ""
    speed = f"; dry run ×{clock.speed:g}" if clock.speed != 1 else ""
    return f"Protocol time: {', '.join(parts)}{pause_text}{speed}"
