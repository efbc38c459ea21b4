"""After the session: outcome, CPM summary, ratings, faults, and the way to the data and report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cpmlab.console import style
from cpmlab.console.empty_table import TableOrNote
from cpmlab.console.worker import SessionReport

RATING_COLUMNS = {
    "trial": "trial",
    "onset": "onset (s)",
    "rates": "rates",
    "phase": "phase",
    "rep": "rep",
    "scale": "scale",
    "rating": "rating",
    "stimulus_c": "stimulus (°C)",
    "response_time": "RT (s)",
}
OUTCOME_TEXT = {
    "completed": "Session completed",
    "aborted": "Session aborted",
    "emergency_stopped": "EMERGENCY STOPPED: devices were aborted",
    "fault": "FAULT: a device fault ended the session; devices were aborted",
    "failed": "Session failed",
    "not started": "Session could not start",
}


class SummaryView(QWidget):
    """Show a finished session and offer the data folder, the report, and scoring."""

    open_folder_clicked = pyqtSignal()
    open_report_clicked = pyqtSignal()
    score_clicked = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.outcome = QLabel()
        self.outcome.setObjectName("outcomeBanner")
        self.outcome.setWordWrap(True)
        layout.addWidget(self.outcome)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long paths never widen
        layout.addWidget(self.where)

        buttons = QHBoxLayout()
        self.folder_button = QPushButton("Open data folder")
        self.folder_button.clicked.connect(self.open_folder_clicked)
        self.report_button = QPushButton("Open report")
        self.report_button.clicked.connect(self.open_report_clicked)
        self.score_button = QPushButton("Score and report")
        self.score_button.setToolTip("Run 'cpmlab score' and 'cpmlab report' on the dataset (in the background)")
        self.score_button.clicked.connect(self.score_clicked)
        self.score_status = QLabel("")
        self.score_status.setWordWrap(True)
        for b in (self.folder_button, self.report_button, self.score_button):
            b.setMinimumHeight(40)
            buttons.addWidget(b)
        buttons.addWidget(self.score_status, 1)
        layout.addLayout(buttons)

        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(11)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setFont(mono)
        self.summary.setMaximumHeight(170)
        cpm_box = QGroupBox("Results: calibration, thresholds, cold-pressor times, CPM effect")
        QVBoxLayout(cpm_box).addWidget(self.summary)
        layout.addWidget(cpm_box)

        self.ratings = QTableWidget(0, len(RATING_COLUMNS))
        self.ratings.setHorizontalHeaderLabels(list(RATING_COLUMNS.values()))
        self.ratings.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ratings.verticalHeader().hide()
        self.ratings.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.ratings.horizontalHeader().setStretchLastSection(True)
        ratings_box = QGroupBox("Ratings")
        self.ratings_area = TableOrNote(self.ratings, "No ratings in this session.")
        QVBoxLayout(ratings_box).addWidget(self.ratings_area)

        self.faults = QListWidget()
        self.controls = QListWidget()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        faults_box = QGroupBox("Faults")
        QVBoxLayout(faults_box).addWidget(self.faults)
        controls_box = QGroupBox("Operator controls")
        QVBoxLayout(controls_box).addWidget(self.controls)
        side_layout.addWidget(faults_box)
        side_layout.addWidget(controls_box)
        split = QSplitter()
        split.addWidget(ratings_box)
        split.addWidget(side)
        split.setSizes([650, 350])
        layout.addWidget(split, 1)
        self.report: SessionReport | None = None

    def show_report(self, report: SessionReport, scoring_available: bool) -> None:
        """Fill the view from a finished (or failed) session."""
        self.report = report
        background, foreground = style.OUTCOME_COLOURS.get(report.outcome, (style.GREY, "white"))
        self.outcome.setStyleSheet(style.pill(background, foreground))
        text = OUTCOME_TEXT.get(report.outcome, report.outcome)
        if report.error:
            text += f"\n{report.error}"
        self.outcome.setText(text)
        clock = f"{report.clock_text}\n" if report.clock_text else ""
        if report.data_root is not None:
            n_files = len(report.files)
            journal = f"\nJournal: {report.journal}" if report.journal else ""
            self.where.setText(f"{clock}Data: {report.data_root}  ({n_files} BIDS files written){journal}")
        else:
            self.where.setText(f"{clock}Nothing was written.")
        self.summary.setPlainText(report.summary_text or "No results or ratings to summarise.")
        self._fill_ratings(report.ratings)
        self.faults.clear()
        self.faults.addItems(report.faults or ["none"])
        self.controls.clear()
        self.controls.addItems(report.controls or ["none"])
        has_data = report.data_root is not None
        self.folder_button.setEnabled(has_data)
        self.set_reports(report.report_html)
        self.score_button.setVisible(scoring_available and has_data)
        self.score_button.setEnabled(True)
        self.score_status.setText("")

    def set_reports(self, reports: list[Path]) -> None:
        """Enable 'Open report' when an HTML report exists."""
        if self.report is not None:
            self.report.report_html = reports
        self.report_button.setEnabled(bool(reports))
        self.report_button.setToolTip(str(reports[0]) if reports else "No report yet: use 'Score and report'")

    def set_scoring(self, busy: bool, message: str = "", colour: str = "") -> None:
        """Show scoring progress or its outcome."""
        self.score_button.setEnabled(not busy)
        self.score_status.setText(message)
        self.score_status.setStyleSheet(f"color: {colour};" if colour else "")

    def _fill_ratings(self, ratings: pd.DataFrame | None) -> None:
        if ratings is None or ratings.empty:
            self.ratings.setRowCount(0)
            self.ratings.setColumnCount(len(RATING_COLUMNS))
            self.ratings.setHorizontalHeaderLabels(list(RATING_COLUMNS.values()))
            return
        columns = [c for c in RATING_COLUMNS if c in ratings.columns] or list(ratings.columns)
        self.ratings.setColumnCount(len(columns))
        self.ratings.setHorizontalHeaderLabels([RATING_COLUMNS.get(c, c) for c in columns])
        self.ratings.setRowCount(len(ratings))
        for r, (_, row) in enumerate(ratings.iterrows()):
            for c, name in enumerate(columns):
                value = row[name]
                if pd.isna(value):
                    text = "n/a"
                elif isinstance(value, float):
                    text = f"{value:.2f}" if name in ("onset", "response_time") else f"{value:g}"
                else:
                    text = str(value).upper() if name == "scale" else str(value)
                self.ratings.setItem(r, c, QTableWidgetItem(text))
