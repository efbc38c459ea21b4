"""A table that shows a plain line instead of an empty grid while it has no rows."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QStackedWidget, QTableWidget, QWidget


class TableOrNote(QStackedWidget):
    """Show table when it has rows, else a centred note (e.g. 'No ratings yet')."""

    def __init__(self, table: QTableWidget, note: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.note = QLabel(note)
        self.note.setObjectName("emptyTableNote")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("color: #757575;")
        self.addWidget(self.note)
        self.addWidget(table)
        model = table.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(lambda *_: self.follow())
        self.follow()

    @property
    def showing_note(self) -> bool:
        """True while the note stands in for the empty table."""
        return self.currentWidget() is self.note

    def follow(self) -> None:
        """Show the note while the table has no rows, the table otherwise."""
        try:
            has_rows = self.table.rowCount() > 0
        except RuntimeError:  # the model signals while the window is being torn down
            return
        self.setCurrentWidget(self.table if has_rows else self.note)
