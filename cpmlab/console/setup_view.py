"""Session setup: labels (validated as typed), protocol and its timeline, limits, devices, display, data.

The widgets are built by SetupForm (setup_form.py); this module reacts to them and reads them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QFileDialog,
    QTableWidgetItem,
    QWidget,
)

from cpmlab.app.devices import DEFAULT_DRIVERS
from cpmlab.console import style
from cpmlab.console.environment import (
    ALL_ROLES,
    Environment,
    ProtocolPreview,
    existing_session_files,
    preview_protocol,
    role_title,
)
from cpmlab.console.settings import ConsoleSettings
from cpmlab.console.setup_form import SetupForm
from cpmlab.console.tasks import BackgroundTasks

EMULATED = "emulated"


@dataclass
class SetupValues:
    """Everything the operator chose, ready to build a SessionSpec."""

    participant: str
    session: str
    run: int
    operator: str
    protocol_path: Path | None
    devices: dict[str, tuple[str, str | None]]  # role -> (driver, port or None = emulated)
    simulate: bool
    display_screen: int
    fullscreen: bool
    lsl: bool
    record: bool
    data_folder: Path | None
    speed: float
    first_setpoint_c: float | None = None
    roles: list[str] = field(default_factory=list)


@dataclass
class DryRunOptions:
    """Command-line defaults: emulated devices, simulated participant, time scale."""

    emulate: bool = False
    simulate: bool = False
    speed: float = 1.0


class SetupView(SetupForm):
    """The form filled in before a session; emits changed whenever validity may have changed."""

    changed = pyqtSignal()

    def __init__(self, tasks: BackgroundTasks, options: DryRunOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.options = options
        self.env: Environment | None = None
        self.preview: ProtocolPreview | None = None
        self._preview_generation = 0
        self._existing_generation = 0
        self.existing: list[Path] = []
        self.ready = False  # environment scanned
        for f in (self.participant, self.session, self.run):
            f.edit.textChanged.connect(self._labels_changed)
        self.protocol_combo.currentIndexChanged.connect(self._protocol_changed)
        self.browse_protocol.clicked.connect(self._browse_protocol)
        for role in ALL_ROLES:
            self.driver_combos[role].currentIndexChanged.connect(self.changed)
            self.port_combos[role].currentTextChanged.connect(self._devices_changed)
        self.simulate_radio.toggled.connect(self._devices_changed)
        self.data_edit.textChanged.connect(self._labels_changed)
        self.browse_data.clicked.connect(self._browse_data)

        self._existing_timer = QTimer(self)
        self._existing_timer.setSingleShot(True)
        self._existing_timer.setInterval(300)
        self._existing_timer.timeout.connect(self._check_existing)

    # -- environment and settings ----------------------------------------------------------
    def set_environment(self, env: Environment, settings: ConsoleSettings) -> None:
        """Fill the pickers from the scanned environment and the remembered settings."""
        self.env = env
        lab = env.lab
        where = str(env.lab_path) if env.lab_path else "defaults"
        text = f"Lab: <b>{lab.lab}</b><br>config: {where}"
        if env.lab_error:
            text += f"<br><span style='color:{style.RED}'>Lab config problem: {env.lab_error}</span>"
        self.lab_label.setText(text)
        # devices
        for role in ALL_ROLES:
            drivers = env.drivers_for(role)
            combo = self.driver_combos[role]
            combo.blockSignals(True)
            combo.clear()
            for d in drivers:
                combo.addItem(f"{d.name} ({d.model})", d.name)
            saved = settings.devices.get(role, {})
            lab_driver, _, lab_port = (
                lab.devices.get(role) or lab.devices.get("bath" if role == "cold_pressor" else role) or ""
            ).partition(":")
            wanted = saved.get("driver") or lab_driver or DEFAULT_DRIVERS.get(role)
            index = combo.findData(wanted) if wanted else -1
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
            ports = self.port_combos[role]
            ports.blockSignals(True)
            ports.clear()
            ports.addItem(EMULATED)
            for device, description in env.ports:
                ports.addItem(device)
                ports.setItemData(ports.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
            port = EMULATED if self.options.emulate else (saved.get("port") or lab_port or EMULATED)
            if ports.findText(port) < 0:
                ports.addItem(port)
            ports.setCurrentText(port)
            ports.blockSignals(False)
        failures = "; ".join(env.driver_failures)
        found = f"{len(env.ports)} serial port(s) found" if env.ports else "no serial ports found"
        self.devices_note.setText(found + (f". Plugins that failed to load: {failures}" if failures else ""))
        # participant, data
        self.simulate_radio.setChecked(self.options.simulate or settings.simulate)
        self.display_radio.setChecked(not self.simulate_radio.isChecked())
        screen = settings.display_screen if 0 <= settings.display_screen < self.screen_combo.count() else 0
        self.screen_combo.setCurrentIndex(screen)
        self.fullscreen.setChecked(settings.fullscreen)
        self.lsl_check.setChecked(settings.lsl)
        self.record_check.setChecked(settings.record)
        self.record_check.setEnabled(settings.lsl)
        self.data_edit.setText(settings.data_folder or lab.data or str(Path.home() / "cpm-data"))
        self.operator.setText(settings.operator or lab.operator or "")
        self.speed_spin.setValue(self.options.speed)
        # protocols
        combo = self.protocol_combo
        combo.blockSignals(True)
        combo.clear()
        for path in env.protocols:
            combo.addItem(path.stem, str(path))
        if settings.protocol and combo.findData(settings.protocol) < 0:
            combo.addItem(f"{Path(settings.protocol).name} ({Path(settings.protocol).parent})", settings.protocol)
        index = combo.findData(settings.protocol) if settings.protocol else 0
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)
        self.ready = True
        self._devices_changed()
        self._labels_changed()
        self._protocol_changed()

    def select_protocol(self, path: str | Path) -> None:
        """Pick a protocol by file path or shipped name, adding it to the list if needed."""
        combo = self.protocol_combo
        for i in range(combo.count()):
            if combo.itemData(i) == str(path) or combo.itemText(i) == str(path):
                combo.setCurrentIndex(i)
                return
        p = Path(path)
        combo.addItem(f"{p.name} ({p.parent})", str(p))
        combo.setCurrentIndex(combo.count() - 1)

    # -- reactions -----------------------------------------------------------------------------
    def _labels_changed(self) -> None:
        for f in (self.participant, self.session, self.run):
            f.validate()
        task = self.preview.protocol.task if self.preview and self.preview.protocol else "TASK"
        if not (self.participant.problem or self.session.problem or self.run.problem):
            p, s, r = self.participant.edit.text(), self.session.edit.text(), int(self.run.edit.text())
            self.stem.setText(f"sub-{p}/ses-{s}/beh/sub-{p}_ses-{s}_task-{task}_run-{r}_…")
        else:
            self.stem.setText("")
        self.existing = []
        self.existing_label.hide()
        self._existing_timer.start()
        self.changed.emit()

    def _devices_changed(self) -> None:
        all_emulated = all(self._port(role) is None for role in ALL_ROLES)
        dry = all_emulated and self.simulate_radio.isChecked()
        self.speed_spin.setEnabled(dry)
        self.speed_label.setEnabled(dry)
        self.speed_spin.setToolTip("" if dry else "real devices and real participants always run at speed 1")
        self.changed.emit()

    def _protocol_changed(self) -> None:
        path = self.protocol_combo.currentData()
        if not path or self.env is None:
            return
        self._preview_generation += 1
        generation = self._preview_generation
        self.preview = None
        self.protocol_status.setText("Checking the protocol…")
        self.protocol_status.setStyleSheet("")
        lab = self.env.lab
        self.tasks.run(
            lambda: preview_protocol(Path(path), lab),
            on_done=lambda preview: self._set_preview(generation, preview),
            name="protocol-preview",
        )
        self.changed.emit()

    def _set_preview(self, generation: int, preview: ProtocolPreview) -> None:
        if generation != self._preview_generation:
            return  # the operator picked another protocol meanwhile
        self.preview = preview
        if preview.ok and preview.protocol is not None:
            p = preview.protocol
            self.protocol_status.setText(f"<b>{p.title}</b><br>task-{p.task}; valid with the lab's limits")
            self.protocol_status.setStyleSheet(f"color: {style.GREEN};")
            self.timeline.setPlainText(preview.timeline_text)
        else:
            n = len(preview.errors)
            self.protocol_status.setText(f"<b>Invalid protocol</b>: {n} problem(s); nothing can run")
            self.protocol_status.setStyleSheet(f"color: {style.RED};")
            self.timeline.setPlainText("\n".join(preview.errors))
        self._fill_limits(preview)
        self._labels_changed()

    def _fill_limits(self, preview: ProtocolPreview) -> None:
        table = self.limits_table
        table.setRowCount(len(preview.limits))
        for r, row in enumerate(preview.limits):
            cells = (
                row.label,
                f"{row.protocol:g} {row.unit}",
                f"{row.lab:g} {row.unit}",
                f"{row.effective:g} {row.unit}",
                {"same": "same", "protocol": "protocol", "lab": "lab config"}[row.stricter],
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 3:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(r, c, item)

    def _check_existing(self) -> None:
        values = self.values()
        if self.problems() or values.data_folder is None or self.preview is None or self.preview.protocol is None:
            return
        self._existing_generation += 1
        generation = self._existing_generation
        task = self.preview.protocol.task
        self.tasks.run(
            lambda: existing_session_files(
                values.data_folder,  # type: ignore[arg-type]
                values.participant,
                values.session,
                task,
                values.run,
            ),
            on_done=lambda files: self._set_existing(generation, files),
            name="existing-check",
        )

    def _set_existing(self, generation: int, files: list[Path]) -> None:
        if generation != self._existing_generation:
            return
        self.existing = files
        if files:
            self.existing_label.setText(
                "This participant/session/run is already recorded in this folder; data are never "
                "overwritten: choose another run number."
            )
            self.existing_label.show()
        self.changed.emit()

    def _browse_protocol(self) -> None:
        start = str(Path(self.protocol_combo.currentData() or Path.home()).parent)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a protocol", start, "Protocols (*.yaml *.yml)")
        if path:
            self.select_protocol(path)

    def _browse_data(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the BIDS dataset folder", self.data_edit.text())
        if path:
            self.data_edit.setText(path)

    # -- results -------------------------------------------------------------------------------
    def _port(self, role: str) -> str | None:
        text = self.port_combos[role].currentText().strip()
        return None if text in ("", EMULATED) else text

    def problems(self) -> list[str]:
        """Return what stops the session from starting (empty when Start may be pressed)."""
        out = []
        if not self.ready:
            return ["loading the lab config and devices"]
        for name, f in (("participant", self.participant), ("session", self.session), ("run", self.run)):
            if f.problem:
                out.append(f"{name}: {f.problem}")
        if self.preview is None:
            out.append("the protocol is being checked")
        elif not self.preview.ok:
            out.append("the protocol is invalid")
        if not self.data_edit.text().strip():
            out.append("choose a data folder")
        if self.existing:
            out.append("this run already exists: choose another run number")
        for role in ALL_ROLES:
            if self.driver_combos[role].currentData() is None:
                out.append(f"no driver for the {role_title(role).lower()}")
        return out

    def values(self) -> SetupValues:
        """Return the current choices."""
        run_text = self.run.edit.text()
        dry = self.speed_spin.isEnabled()
        data = self.data_edit.text().strip()
        return SetupValues(
            participant=self.participant.edit.text(),
            session=self.session.edit.text(),
            run=int(run_text) if run_text.isdigit() and int(run_text) > 0 else 1,
            operator=self.operator.text().strip(),
            protocol_path=Path(self.protocol_combo.currentData()) if self.protocol_combo.currentData() else None,
            devices={role: (self.driver_combos[role].currentData(), self._port(role)) for role in ALL_ROLES},
            simulate=self.simulate_radio.isChecked(),
            display_screen=int(self.screen_combo.currentData() or 0),
            fullscreen=self.fullscreen.isChecked(),
            lsl=self.lsl_check.isChecked(),
            record=self.record_check.isChecked() and self.lsl_check.isChecked(),
            data_folder=Path(data).expanduser() if data else None,
            speed=float(self.speed_spin.value()) if dry else 1.0,
            first_setpoint_c=self.preview.first_setpoint_c if self.preview else None,
            roles=list(self.preview.protocol.devices) if self.preview and self.preview.protocol else [],
        )
