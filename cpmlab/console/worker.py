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
from cpmlab.core.errors import CpmlabError
from cpmlab.core.events import Subscriber

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
            report.faults = _journal_lines(session.paths.journal)[0]
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
    report.faults, report.controls = _journal_lines(result.paths.journal)
    report.report_html = find_reports(result.paths.root)
    return report


def _journal_lines(journal: Path) -> tuple[list[str], list[str]]:
    from cpmlab.storage.journal import read_journal

    faults: list[str] = []
    controls: list[str] = []
    try:
        records = list(read_journal(journal))
    except OSError:
        return faults, controls
    start = next((r for r in records if r.get("kind") == "session_start"), None)
    t0 = None if start is None else start["t"]
    speed = float(start.get("speed") or 1.0) if start is not None else 1.0
    for r in records:
        # protocol seconds, as the event log, the run view's protocol clock and the BIDS onsets count them
        at = "" if t0 is None else f"+{max(r['t'] - t0, 0.0) * speed:.1f} s  "
        if r.get("kind") == "fault":
            faults.append(f"{at}{r.get('device', '?')}: {r.get('message', '')}")
        elif r.get("kind") == "control":
            detail = r.get("reason") or ""
            controls.append(f"{at}{r.get('action')} by {r.get('source', '?')}" + (f": {detail}" if detail else ""))
    return faults, controls
