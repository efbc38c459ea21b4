"""Forms for studies and single runs: a new participant, protocol variables checked as typed, session options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from cpmlab.console import style
from cpmlab.core.errors import CpmlabError
from cpmlab.core.labels import validate_label
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.overrides import parse_variable_text, variable_problems
from cpmlab.study.model import Study
from cpmlab.study.participants import MISSING, check_field

ADDRESS = re.compile(r"^tcp://[A-Za-z0-9.*\-\[\]:]+:\d{1,5}$")


def _error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {style.RED};")
    return label


class AddParticipantDialog(QDialog):
    """Ask for a new participant's label and the study's fields, each checked as typed."""

    def __init__(self, study: Study, taken: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Add a participant to {study.name}")
        self.study = study
        self.taken = taken
        form = QFormLayout(self)
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("e.g. 05 (letters and digits)")
        form.addRow("Participant", self.label_edit)
        self.inputs: dict[str, QLineEdit | QComboBox] = {}
        for f in study.participant_fields:
            widget: QLineEdit | QComboBox
            if f.type == "choice":
                widget = QComboBox()
                widget.addItem("n/a (not given)", MISSING)
                for code, meaning in f.levels.items():
                    widget.addItem(f"{code}: {meaning}", code)
                widget.currentIndexChanged.connect(self._check)
            else:
                widget = QLineEdit()
                hint = f"{f.min:g}-{f.max:g}" if f.min is not None and f.max is not None else f.type
                unit = f" {f.unit}" if f.unit else ""
                widget.setPlaceholderText(hint + unit + ("" if f.required else " (optional)"))
                widget.textChanged.connect(self._check)
            self.inputs[f.name] = widget
            form.addRow(f.description or f.name, widget)
        self.label_edit.textChanged.connect(self._check)
        self.error = _error_label()
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._check()

    def values(self) -> dict[str, str]:
        """Return the typed field values (choice codes, or text)."""
        out = {}
        for name, widget in self.inputs.items():
            out[name] = widget.currentData() if isinstance(widget, QComboBox) else widget.text()
        return out

    def problems(self) -> list[str]:
        """Return what is wrong with the label and fields (empty when OK may be pressed)."""
        out = []
        label = self.label_edit.text()
        try:
            validate_label("participant", label)
            if label in self.taken:
                out.append(f"sub-{label} is already in this data folder")
        except CpmlabError as exc:
            out.append(str(exc) if label else "type a participant label")
        for f in self.study.participant_fields:
            try:
                check_field(f, self.values()[f.name])
            except CpmlabError as exc:
                out.append(str(exc))
        return out

    def _check(self) -> None:
        problems = self.problems()
        self.error.setText("\n".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)


class VariablesEditor(QWidget):
    """One line per protocol variable; values parsed and checked against the limits as they are typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.edits: dict[str, QLineEdit] = {}
        self.protocol: Protocol | None = None
        self.limits: SafetyLimits | None = None
        self.reference: dict[str, Any] = {}
        self.error = _error_label()

    def clear(self) -> None:
        """Remove every line (no protocol, nothing to check)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.protocol, self.limits, self.reference, self.edits = None, None, {}, {}
        self.error = _error_label()

    def set_variables(
        self,
        protocol: Protocol,
        limits: SafetyLimits,
        values: Mapping[str, Any],
        notes: Mapping[str, str] | None = None,
    ) -> None:
        """Show one editable line per name in values (only names the protocol declares)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.protocol, self.limits, self.reference = protocol, limits, dict(values)
        self.edits = {}
        for name, value in values.items():
            edit = QLineEdit("" if value is None else f"{value:g}" if isinstance(value, float) else str(value))
            edit.setObjectName(f"var_{name}")
            edit.textChanged.connect(self.check)
            self.edits[name] = edit
            note = (notes or {}).get(name, "")
            self.form.addRow(f"{name}" + (f"\n{note}" if note else ""), edit)
        self.error = _error_label()
        self.form.addRow(self.error)
        self.check()

    def values(self) -> dict[str, Any]:
        """Return the typed values converted to the variables' types (unparseable text stays text)."""
        out: dict[str, Any] = {}
        assert self.protocol is not None
        for name, edit in self.edits.items():
            try:
                out[name] = parse_variable_text(self.protocol, name, edit.text())
            except ValueError:
                out[name] = edit.text()
        return out

    def changed(self) -> dict[str, tuple[Any, Any]]:
        """Return {name: (reference, typed)} for values that differ from the reference values."""
        return {n: (self.reference.get(n), v) for n, v in self.values().items() if v != self.reference.get(n)}

    def problems(self) -> list[str]:
        """Return unknown names, non-numbers and values that break a limit."""
        if self.protocol is None or self.limits is None:
            return []
        return variable_problems(self.protocol, self.values(), self.limits)

    def check(self) -> list[str]:
        """Re-check and show the problems; return them."""
        problems = self.problems()
        self.error.setText("\n".join(problems))
        return problems


class VariablesDialog(QDialog):
    """Set a single run's protocol variables: only the protocol's own names, values checked against the limits."""

    def __init__(
        self, protocol: Protocol, limits: SafetyLimits, current: Mapping[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Protocol variables: {protocol.name}")
        layout = QVBoxLayout(self)
        info = QLabel(f"Variables of <b>{protocol.name}</b> for this run (defaults from the protocol file).")
        info.setWordWrap(True)
        layout.addWidget(info)
        self.editor = VariablesEditor()
        notes = {n: f"default {d}" for n, d in protocol.variables.items()}
        self.editor.set_variables(protocol, limits, {**protocol.variables, **current}, notes)
        self.editor.reference = dict(protocol.variables)
        layout.addWidget(self.editor)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for edit in self.editor.edits.values():
            edit.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not self.editor.problems())

    def values(self) -> dict[str, Any]:
        """Return the values that differ from the protocol's defaults."""
        return {n: new for n, (_, new) in self.editor.changed().items()}


@dataclass
class SessionOptions:
    """Console options a SessionSpec takes beyond the setup form."""

    display_address: str | None = None
    language: str | None = None
    record_streams: list[str] = field(default_factory=list)


def options_problems(address: str, streams: str) -> list[str]:
    """Return what is wrong with a display address and a list of extra LSL streams."""
    out = []
    if address.strip() and not ADDRESS.match(address.strip()):
        out.append("display address: expected tcp://HOST:PORT, e.g. tcp://0.0.0.0:5557")
    for name in [s.strip() for s in streams.split(",") if s.strip()]:
        if not re.fullmatch(r"[A-Za-z0-9_.\- ]+", name):
            out.append(f"LSL stream {name!r}: letters, digits, spaces, '_', '.', '-' only")
    return out


class SessionOptionsDialog(QDialog):
    """Remote display address, participant language and extra LSL streams to record."""

    def __init__(self, current: SessionOptions, languages: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Session options")
        form = QFormLayout(self)
        self.address = QLineEdit(current.display_address or "")
        self.address.setPlaceholderText("empty: display started on this computer; e.g. tcp://0.0.0.0:5557")
        form.addRow("Remote display address", self.address)
        self.language = QComboBox()
        self.language.addItem("the protocol's language", None)
        for code in languages:
            self.language.addItem(code, code)
        if current.language in languages:
            self.language.setCurrentIndex(languages.index(current.language) + 1)
        form.addRow("Participant language", self.language)
        self.streams = QLineEdit(", ".join(current.record_streams))
        self.streams.setPlaceholderText("names or types, comma separated, e.g. EEG, BioSemi")
        form.addRow("Extra LSL streams to record", self.streams)
        self.error = _error_label()
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.address.textChanged.connect(self._check)
        self.streams.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        problems = options_problems(self.address.text(), self.streams.text())
        self.error.setText("\n".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)

    def options(self) -> SessionOptions:
        """Return the chosen options."""
        return SessionOptions(
            self.address.text().strip() or None,
            self.language.currentData(),
            [s.strip() for s in self.streams.text().split(",") if s.strip()],
        )
