"""Driving the console's setup and start through its widgets (shared by the console tests)."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt

from cpmlab.console.main_window import MainWindow

SPEED = 40.0


def fill_setup(qtbot, win: MainWindow, data: Path, participant: str = "01", session: str = "1") -> None:
    """Type the labels, pick cpm_sequential, emulated devices, simulated participant, no LSL."""
    view = win.setup_view
    view.participant.edit.clear()
    qtbot.keyClicks(view.participant.edit, participant)
    view.session.edit.clear()
    qtbot.keyClicks(view.session.edit, session)
    view.select_protocol("cpm_sequential")
    for combo in view.port_combos.values():
        combo.setCurrentText("emulated")
    view.simulate_radio.setChecked(True)
    view.lsl_check.setChecked(False)  # LSL has its own tests; keep these independent of the network
    view.data_edit.setText(str(data))
    view.speed_spin.setValue(SPEED)
    qtbot.waitUntil(lambda: win.controls.start_button.isEnabled(), timeout=10_000)


def start_and_wait_running(qtbot, win: MainWindow) -> None:
    """Press Start and wait until the first heat stimulus is on."""
    qtbot.mouseClick(win.controls.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.state in ("running", "finished"), timeout=15_000)
    assert win.state == "running", win.last_report
    qtbot.waitUntil(lambda: "heat" in win.run_view._activity or win.state != "running", timeout=15_000)
    assert win.state == "running", win.last_report
