"""The widgets of the session setup form, laid out in boxes; SetupView wires their reactions."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtGui import QFont, QGuiApplication
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from cpmlab.console.environment import ALL_ROLES, label_problem, role_title, run_problem


class LabelField:
    """A line edit with an inline error under it."""

    def __init__(self, placeholder: str, check: Callable[[str], str | None]) -> None:
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.error = QLabel("")
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.check = check
        self.problem: str | None = None

    def validate(self) -> str | None:
        """Check the text, mark the edit invalid and show the problem (or hide it); return it."""
        self.problem = self.check(self.edit.text())
        self.edit.setProperty("invalid", "true" if self.problem else "false")
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)
        self.error.setText(self.problem or "")
        self.error.setVisible(bool(self.problem))
        return self.problem


class SetupForm(QWidget):
    """The setup form's widgets: labels, devices, participant, data, protocol with its limits."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        grid = QGridLayout(body)
        grid.addWidget(self._labels_box(), 0, 0, 2, 1)
        grid.addWidget(self._devices_box(), 0, 1)
        grid.addWidget(self._participant_box(), 1, 1)
        grid.addWidget(self._data_box(), 2, 0, 1, 2)
        grid.addWidget(self._protocol_box(), 3, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(3, 1)

    def _labels_box(self) -> QGroupBox:
        box = QGroupBox("Participant and session")
        form = QFormLayout(box)
        self.participant = LabelField("e.g. 01", lambda t: label_problem("participant", t))
        self.session = LabelField("e.g. 1", lambda t: label_problem("session", t))
        self.run = LabelField("1", run_problem)
        self.run.edit.setText("1")
        for name, f in (("Participant", self.participant), ("Session", self.session), ("Run", self.run)):
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(f.edit)
            column.addWidget(f.error)
            form.addRow(name, cell)
        self.operator = QLineEdit()
        self.operator.setPlaceholderText("optional: your name or initials")
        form.addRow("Operator", self.operator)
        self.stem = QLabel("")
        self.stem.setObjectName("stemLabel")
        self.stem.setWordWrap(True)
        form.addRow("Files", self.stem)
        self.existing_label = QLabel("")
        self.existing_label.setObjectName("fieldError")
        self.existing_label.setWordWrap(True)
        self.existing_label.hide()
        form.addRow("", self.existing_label)
        return box

    def _protocol_box(self) -> QGroupBox:
        box = QGroupBox("Protocol")
        v = QVBoxLayout(box)
        row = QHBoxLayout()
        self.protocol_combo = QComboBox()
        self.protocol_combo.setMinimumContentsLength(30)
        self.browse_protocol = QPushButton("Browse…")
        row.addWidget(self.protocol_combo, 1)
        row.addWidget(self.browse_protocol)
        v.addLayout(row)
        self.protocol_status = QLabel("Loading protocols…")
        self.protocol_status.setWordWrap(True)
        v.addWidget(self.protocol_status)
        self.timeline = QPlainTextEdit()
        self.timeline.setReadOnly(True)
        self.timeline.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(9)
        self.timeline.setFont(mono)
        self.timeline.setMinimumHeight(260)
        row = QHBoxLayout()
        row.addWidget(self.timeline, 2)
        row.addWidget(self._limits_box(), 1)
        v.addLayout(row, 1)
        return box

    def _devices_box(self) -> QGroupBox:
        box = QGroupBox("Devices")
        form = QFormLayout(box)
        self.driver_combos: dict[str, QComboBox] = {}
        self.port_combos: dict[str, QComboBox] = {}
        for role in ALL_ROLES:
            driver = QComboBox()
            driver.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            port = QComboBox()
            port.setEditable(True)
            port.setMinimumContentsLength(16)
            port.setToolTip("a serial port (/dev/ttyUSB0, COM3), a pyserial URL, host:port for TCP, or 'emulated'")
            row = QHBoxLayout()
            row.addWidget(driver)
            row.addWidget(port, 1)
            form.addRow(role_title(role), row)
            self.driver_combos[role] = driver
            self.port_combos[role] = port
        self.devices_note = QLabel("")
        self.devices_note.setWordWrap(True)
        self.devices_note.setStyleSheet("color: #455a64;")
        form.addRow(self.devices_note)
        return box

    def _participant_box(self) -> QGroupBox:
        box = QGroupBox("Participant")
        v = QVBoxLayout(box)
        self.display_radio = QRadioButton("Participant display (PsychoPy) on screen:")
        self.simulate_radio = QRadioButton("Simulated participant (dry run, no one is stimulated)")
        self.display_radio.setChecked(True)
        row = QHBoxLayout()
        self.screen_combo = QComboBox()
        for i, screen in enumerate(QGuiApplication.screens()):
            size = screen.geometry()
            self.screen_combo.addItem(f"{i + 1}: {screen.name()} ({size.width()}×{size.height()})", i)
        self.fullscreen = QCheckBox("full screen")
        self.fullscreen.setChecked(True)
        row.addWidget(self.display_radio)
        row.addWidget(self.screen_combo, 1)
        row.addWidget(self.fullscreen)
        v.addLayout(row)
        v.addWidget(self.simulate_radio)
        return box

    def _data_box(self) -> QGroupBox:
        box = QGroupBox("Data and recording")
        form = QFormLayout(box)
        row = QHBoxLayout()
        self.data_edit = QLineEdit()
        self.browse_data = QPushButton("Browse…")
        row.addWidget(self.data_edit, 1)
        row.addWidget(self.browse_data)
        form.addRow("Data folder", row)
        self.lsl_check = QCheckBox("Publish markers and signals on Lab Streaming Layer")
        self.record_check = QCheckBox("Record the LSL streams to XDF (sourcedata)")
        self.lsl_check.toggled.connect(lambda on: self.record_check.setEnabled(on))
        form.addRow(self.lsl_check)
        form.addRow(self.record_check)
        self.speed_spin = QDoubleSpinBox()
        self.speed_spin.setRange(1.0, 200.0)
        self.speed_spin.setDecimals(0)
        self.speed_spin.setSuffix("×")
        self.speed_spin.setMaximumWidth(120)
        self.speed_label = QLabel("Speed (dry runs only)")
        form.addRow(self.speed_label, self.speed_spin)
        return box

    def _limits_box(self) -> QGroupBox:
        self.limits_box = QGroupBox("Safety limits (the stricter of protocol and lab config is in force)")
        v = QVBoxLayout(self.limits_box)
        self.lab_label = QLabel("")
        self.lab_label.setWordWrap(True)
        v.addWidget(self.lab_label)
        self.limits_table = QTableWidget(0, 5)
        self.limits_table.setHorizontalHeaderLabels(["limit", "protocol", "lab", "in force", "stricter"])
        self.limits_table.verticalHeader().hide()
        self.limits_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.limits_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.limits_table.horizontalHeader().setStretchLastSection(True)
        self.limits_table.setMinimumHeight(200)
        v.addWidget(self.limits_table)
        return self.limits_box
