"""The console's study view: participants and their visits, adding a participant, and the next visit to start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cpmlab.console import style
from cpmlab.console.study_forms import AddParticipantDialog, VariablesEditor
from cpmlab.console.tasks import BackgroundTasks
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import effective_limits
from cpmlab.study.loader import LoadedStudy, load_study
from cpmlab.study.participants import enrol, participants
from cpmlab.study.plan import NextVisit, StudyStateError, next_visit
from cpmlab.study.status import status_rows


@dataclass
class StudySnapshot:
    """A study and its state in one data folder, read in the background."""

    loaded: LoadedStudy
    root: Path
    header: list[str]
    rows: list[list[str]]
    next: dict[str, NextVisit | str | None] = field(default_factory=dict)  # label -> visit, reason, or all done
    taken: set[str] = field(default_factory=set)


def read_snapshot(study_path: Path, root: Path, lab_limits: SafetyLimits | None) -> StudySnapshot:
    """Load the study and read every enrolled participant's state and next visit (worker thread)."""
    loaded = load_study(study_path, lab_limits)
    header, rows = status_rows(loaded, root)
    snap = StudySnapshot(loaded, root, header, rows)
    for p in participants(loaded.study, root):
        snap.taken.add(p.label)
        if p.order is None:
            continue
        try:
            snap.next[p.label] = next_visit(loaded, root, p.label, lab_limits)
        except StudyStateError as exc:
            snap.next[p.label] = str(exc)
    return snap


class StudyView(QWidget):
    """Participant list with visits done and next; the next visit with its carried variables."""

    start_visit = pyqtSignal(object, object, object)  # NextVisit, variables dict, overrides list
    back_clicked = pyqtSignal()

    def __init__(self, tasks: BackgroundTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.lab_limits: SafetyLimits | None = None
        self.snapshot: StudySnapshot | None = None
        self.selected: str | None = None
        self._generation = 0
        layout = QVBoxLayout(self)

        files = QGroupBox("Study")
        grid = QGridLayout(files)
        self.study_edit = QLineEdit()
        self.study_edit.setPlaceholderText("study YAML file, or a shipped study name (e.g. cpm_active_sham)")
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("the study's BIDS dataset folder")
        browse_study = QPushButton("Browse…")
        browse_study.clicked.connect(self._browse_study)
        browse_data = QPushButton("Browse…")
        browse_data.clicked.connect(self._browse_data)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self.reload)
        grid.addWidget(QLabel("Study file"), 0, 0)
        grid.addWidget(self.study_edit, 0, 1)
        grid.addWidget(browse_study, 0, 2)
        grid.addWidget(QLabel("Data folder"), 1, 0)
        grid.addWidget(self.data_edit, 1, 1)
        grid.addWidget(browse_data, 1, 2)
        grid.addWidget(self.open_button, 0, 3, 2, 1)
        self.title = QLabel("No study open.")
        self.title.setWordWrap(True)
        grid.addWidget(self.title, 2, 0, 1, 4)
        layout.addWidget(files)

        people = QGroupBox("Participants and visits")
        column = QVBoxLayout(people)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        column.addWidget(self.table)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add participant…")
        self.add_button.clicked.connect(self.add_participant)
        self.add_button.setEnabled(False)
        back = QPushButton("Back to setup")
        back.clicked.connect(self.back_clicked)
        row.addWidget(self.add_button)
        row.addStretch(1)
        row.addWidget(back)
        column.addLayout(row)
        layout.addWidget(people, 1)

        self.visit_box = QGroupBox("Next visit")
        visit = QVBoxLayout(self.visit_box)
        self.visit_text = QLabel("Select a participant.")
        self.visit_text.setWordWrap(True)
        visit.addWidget(self.visit_text)
        self.carried = VariablesEditor()
        visit.addWidget(self.carried)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("reason for changing a carried value (journaled with the session)")
        self.reason.textChanged.connect(self._check_visit)
        visit.addWidget(self.reason)
        self.visit_problem = QLabel("")
        self.visit_problem.setWordWrap(True)
        self.visit_problem.setStyleSheet(f"color: {style.RED};")
        visit.addWidget(self.visit_problem)
        self.start_button = QPushButton("Start this visit")
        self.start_button.setMinimumHeight(40)
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self._start)
        visit.addWidget(self.start_button)
        layout.addWidget(self.visit_box)

    # -- loading ---------------------------------------------------------------------------------
    def open_study(self, study: str | Path, data: str | Path) -> None:
        """Open a study file on a data folder and read its state in the background."""
        self.study_edit.setText(str(study))
        self.data_edit.setText(str(data))
        self.reload()

    def reload(self) -> None:
        """Re-read the study file and the data folder (background)."""
        study, data = self.study_edit.text().strip(), self.data_edit.text().strip()
        if not study or not data:
            self.title.setText("Choose a study file and a data folder.")
            return
        self._generation += 1
        generation = self._generation
        limits = self.lab_limits
        self.title.setText("Reading the study and the data folder…")
        self.tasks.run(
            lambda: read_snapshot(Path(study), Path(data).expanduser().resolve(), limits),
            lambda snap: self._show(generation, snap),
            lambda exc: self._failed(generation, exc),
            name="study",
        )

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.snapshot = None
            self.add_button.setEnabled(False)
            self.title.setText(f"<span style='color:{style.RED}'>Cannot open the study:</span> {exc}")

    def _show(self, generation: int, snap: StudySnapshot) -> None:
        if generation != self._generation:
            return
        self.snapshot = snap
        study = snap.loaded.study
        cb = study.counterbalance
        scheme = f"; conditions {', '.join(study.conditions)} by {cb.scheme} (seed {cb.seed})"
        self.title.setText(
            f"<b>{study.title}</b> ({study.name}){scheme if study.conditions else ''}<br>data: {snap.root}"
        )
        self.add_button.setEnabled(True)
        self.table.setColumnCount(len(snap.header))
        self.table.setHorizontalHeaderLabels(snap.header)
        self.table.setRowCount(len(snap.rows))
        for r, cells in enumerate(snap.rows):
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        labels = [cells[0].removeprefix("sub-") for cells in snap.rows]
        if self.selected in labels:
            self.table.selectRow(labels.index(self.selected))
        self._show_visit()

    # -- participants ----------------------------------------------------------------------------
    def add_participant(self) -> None:
        """Ask for the new participant's fields and enrol them (background), then reload."""
        if self.snapshot is None:
            return
        dialog = AddParticipantDialog(self.snapshot.loaded.study, self.snapshot.taken, self)
        if dialog.exec() != AddParticipantDialog.DialogCode.Accepted:
            return
        self.enrol(dialog.label_edit.text(), dialog.values())

    def enrol(self, label: str, values: dict[str, str]) -> None:
        """Enrol a participant in the background and select them."""
        snap = self.snapshot
        if snap is None:
            return
        self.selected = label
        self.tasks.run(
            lambda: enrol(snap.loaded.study, snap.root, label, values),
            lambda _: self.reload(),
            lambda exc: self.title.setText(f"<span style='color:{style.RED}'>Not enrolled:</span> {exc}"),
            name="enrol",
        )

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.snapshot is not None:
            self.selected = self.snapshot.rows[rows[0].row()][0].removeprefix("sub-")
        self._show_visit()

    # -- the next visit --------------------------------------------------------------------------
    def current_visit(self) -> NextVisit | None:
        """The selected participant's next visit, if they have one that can start."""
        if self.snapshot is None or self.selected is None:
            return None
        nv = self.snapshot.next.get(self.selected)
        return nv if isinstance(nv, NextVisit) else None

    def _show_visit(self) -> None:
        snap, label = self.snapshot, self.selected
        nv = self.current_visit()
        self.reason.clear()
        if snap is None or label is None or label not in snap.next:
            self.visit_box.setTitle("Next visit")
            self.visit_text.setText("Select a participant.")
            self.carried.clear()
            self.start_button.setEnabled(False)
            self._check_visit()
            return
        self.visit_box.setTitle(f"Next visit of sub-{label}")
        if nv is None:
            entry = snap.next[label]
            self.visit_text.setText("Every visit is done." if entry is None else str(entry))
            self.carried.clear()
            self.start_button.setEnabled(False)
            self._check_visit()
            return
        order = " then ".join(nv.participant.order or ())
        lines = [
            f"<b>Visit {nv.visit.id}</b> (session {nv.visit.session}){': ' + nv.visit.title if nv.visit.title else ''}",
            f"Condition: <b>{nv.condition or 'none'}</b>" + (f" (order: {order})" if order else ""),
            f"Protocol: <b>{nv.protocol.name}</b> ({nv.protocol_path.name}), run {nv.run}",
        ]
        if nv.repeats:
            lines.append(f"Run(s) {', '.join(map(str, nv.repeats))} of this visit ended early; this is a new run.")
        lines.append("Carried variables:" if nv.carried else "No carried variables.")
        self.visit_text.setText("<br>".join(lines))
        notes = {c.name: f"from visit {c.from_visit} run {c.from_run}: {c.value}" for c in nv.carried}
        limits = effective_limits(nv.protocol, self.lab_limits)
        self.carried.set_variables(nv.protocol, limits, nv.variables, notes)
        for edit in self.carried.edits.values():
            edit.textChanged.connect(self._check_visit)
        self.reason.setVisible(bool(nv.carried))
        self._check_visit()

    def visit_problems(self) -> list[str]:
        """Return what stops the visit from starting: limits, and a changed value without a reason."""
        if self.current_visit() is None:
            return []
        problems = self.carried.check()
        if self.carried.changed() and not self.reason.text().strip():
            problems.append("a carried value was changed: give the reason (it is journaled)")
        return problems

    def _check_visit(self) -> None:
        problems = self.visit_problems()
        self.visit_problem.setText("\n".join(problems))
        self.start_button.setEnabled(self.current_visit() is not None and not problems)

    def overrides(self) -> list[dict[str, Any]]:
        """Return the operator's changes to carried values with the reason, for the journal."""
        reason = self.reason.text().strip()
        return [
            {"name": n, "carried": old, "value": new, "reason": reason}
            for n, (old, new) in self.carried.changed().items()
        ]

    def _start(self) -> None:
        nv = self.current_visit()
        if nv is None or self.visit_problems():
            return
        self.start_visit.emit(nv, self.carried.values(), self.overrides())

    # -- files -----------------------------------------------------------------------------------
    def _browse_study(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a study", self.study_edit.text(), "Studies (*.yaml *.yml)")
        if path:
            self.study_edit.setText(path)

    def _browse_data(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the study's data folder", self.data_edit.text())
        if path:
            self.data_edit.setText(path)
