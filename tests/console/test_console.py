"""The experimenter console driven through its widgets: full session, emergency stops, faults, labels."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from console_helpers import fill_setup, start_and_wait_running
from PyQt6.QtCore import Qt

from cpmlab.console.main_window import MainWindow
from cpmlab.console.settings import load_settings
from cpmlab.storage.journal import read_journal

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "console"


def shot(win: MainWindow, name: str) -> Path:
    """Save a screenshot of the whole window (not counted as an event-loop stall: the test does it)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    measuring = win.stall_monitor.running
    win.stall_monitor.suspend()
    assert win.grab().save(str(path))
    if measuring:
        win.stall_monitor.resume()
    return path


def test_invalid_labels_keep_start_disabled(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Labels are checked as typed; the problem shows inline and Start stays disabled until fixed."""
    fill_setup(qtbot, window, tmp_path / "data")
    view = window.setup_view
    for bad, expected in (("sub-01", "leave out 'sub-'"), ("01 a", "space"), ("0_1", "'_'"), ("", "required")):
        view.participant.edit.setText(bad)
        assert not window.controls.start_button.isEnabled(), bad
        assert view.participant.error.isVisible() and expected in view.participant.error.text(), bad
        assert "participant" in window.controls.hint.text()
    view.participant.edit.setText("01")
    view.run.edit.setText("0")
    assert not window.controls.start_button.isEnabled()
    assert "positive whole number" in view.run.error.text()
    view.run.edit.setText("1")
    qtbot.waitUntil(window.controls.start_button.isEnabled, timeout=5000)
    assert not view.participant.error.isVisible()
    assert "sub-01_ses-1_task-cpmsequential_run-1" in view.stem.text()
    shot(window, "setup.png")


def test_full_session_through_the_gui(qtbot, window: MainWindow, tmp_path: Path, console_settings: Path) -> None:
    """Fill the setup, start, pause and resume, wait for the summary; check it and the written files."""
    data = tmp_path / "data"
    fill_setup(qtbot, window, data)
    start_and_wait_running(qtbot, window)
    assert window.stall_monitor.running
    qtbot.waitUntil(lambda: window.run_view.plots.n_thermode_samples > 20, timeout=10_000)
    assert "Next:" in window.run_view.next_label.text()
    assert window.controls.estop_button.isEnabled() and window.controls.estop_button.isVisible()
    shot(window, "running.png")

    window.run_view.log.note_edit.setText("participant moved the arm")
    qtbot.keyClick(window.run_view.log.note_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(window.controls.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    qtbot.wait(600)  # the paused state holds (a device-timed stimulus under way still finishes)
    assert window.controls.resume_button.isEnabled() and not window.controls.pause_button.isEnabled()
    shot(window, "paused.png")
    qtbot.mouseClick(window.controls.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state == "running", timeout=5000)

    qtbot.waitUntil(lambda: window.state == "finished", timeout=90_000)
    report = window.last_report
    assert report is not None and report.outcome == "completed", report
    assert "CPM effect (after - before)" in report.summary_text
    assert window.summary_view.summary.toPlainText() == report.summary_text
    assert window.summary_view.ratings.rowCount() == 6
    assert window.summary_view.faults.item(0).text() == "none"
    assert window.summary_view.folder_button.isEnabled()
    plots = window.run_view.plots
    assert plots.stimulus_windows == 4 and plots.rating_marks == 6 and plots.n_bath_samples > 0
    assert window.run_view.ratings.rowCount() == 6
    shot(window, "summary.png")

    beh = data / "sub-01" / "ses-1" / "beh"
    ratings = pd.read_csv(beh / "sub-01_ses-1_task-cpmsequential_run-1_beh.tsv", sep="\t")
    assert list(ratings["phase"]) == ["before", "before", "none", "none", "after", "after"]
    assert ratings["rating"].notna().all()
    assert (beh / "sub-01_ses-1_task-cpmsequential_run-1_events.tsv").is_file()
    journal = list(read_journal(report.journal))
    notes = [r for r in journal if r["kind"] == "note"]
    assert [n["text"] for n in notes] == ["participant moved the arm"]
    actions = [r["action"] for r in journal if r["kind"] == "control"]
    assert actions == ["pause", "resume"]
    assert [r["outcome"] for r in journal if r["kind"] == "session_end"] == ["completed"]

    qtbot.mouseClick(window.controls.new_button, Qt.MouseButton.LeftButton)
    assert window.state == "setup"
    qtbot.waitUntil(lambda: "already exists" in window.controls.hint.text(), timeout=5000)
    assert not window.controls.start_button.isEnabled()  # the same run again is refused before anything opens

    saved = load_settings(console_settings)
    assert saved.protocol and saved.protocol.endswith("cpm_sequential.yaml")
    assert saved.data_folder == str(data) and saved.devices["thermode"]["driver"] == "tcs2"
    print(
        f"\nlongest event-loop stall during the session: {window.stall_monitor.max_stall_ms:.1f} ms "
        f"(99th percentile tick gap {window.stall_monitor.percentile_ms(99):.1f} ms, "
        f"{len(window.stall_monitor.gaps_ms)} ticks)"
    )


def _check_emergency_stop(window: MainWindow, source: str, pressed_at: float) -> None:
    report = window.last_report
    assert report is not None and report.outcome == "emergency_stopped"
    journal = list(read_journal(report.journal))
    stops = [r for r in journal if r["kind"] == "control" and r["action"] == "emergency_stop"]
    assert stops and stops[0]["source"] == source
    end = next(r for r in journal if r["kind"] == "session_end")
    assert end["outcome"] == "emergency_stopped"
    aborts = [
        r
        for r in journal
        if r["kind"] == "command" and r["device"] == "thermode" and r["command"] == "A" and r["seq"] < end["seq"]
    ]
    assert aborts and aborts[0]["t"] >= stops[0]["t"] - 0.01, "the thermode was not sent its abort"
    assert aborts[0]["t"] - pressed_at < 1.0
    assert window.summary_view.outcome.text().startswith("EMERGENCY STOPPED")
    print(f"\nemergency stop ({source}) held the GUI thread {window.last_estop_call_ms:.0f} ms")


def test_emergency_stop_button(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """The red button ends the session as emergency_stopped within a second, the thermode aborted at once."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    from cpmlab.core.clock import now

    pressed_at = now()
    qtbot.mouseClick(window.controls.estop_button, Qt.MouseButton.LeftButton)
    assert window.state == "stopping"
    qtbot.waitUntil(lambda: window.state == "finished", timeout=10_000)
    _check_emergency_stop(window, "console button", pressed_at)


def test_emergency_stop_shortcut(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """F12 stops the session from anywhere in the window, even with the note field focused."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    from cpmlab.core.clock import now

    keys = {s.key().toString(): s.context() for s in window.estop_shortcuts}
    assert keys == {"F12": Qt.ShortcutContext.ApplicationShortcut, "Ctrl+Space": Qt.ShortcutContext.ApplicationShortcut}
    with qtbot.waitActive(window):
        window.activateWindow()
    window.run_view.log.note_edit.setFocus()
    pressed_at = now()
    qtbot.keyClick(window.run_view.log.note_edit, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: window.state == "finished", timeout=10_000)
    _check_emergency_stop(window, "console shortcut", pressed_at)


def test_unplugged_device_is_shown(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Unplugging the thermode mid-session turns its panel red within a second; the session ends as a fault."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    assert window.devices_panel.state("thermode") == "connected"
    emulator = window.prepared.session.devices.emulators["thermode"]
    emulator.set_fault("unplug")
    started = time.monotonic()
    qtbot.waitUntil(lambda: window.devices_panel.state("thermode") == "fault", timeout=1000)
    print(f"\nunplugged thermode shown after {time.monotonic() - started:.2f} s")
    assert window.devices_panel.fault_text("thermode")
    qtbot.waitUntil(lambda: window.state == "finished", timeout=15_000)
    report = window.last_report
    assert report is not None and report.outcome == "fault"
    assert any(f.split("  ", 1)[-1].startswith("thermode:") for f in report.faults), report.faults  # "m:ss  device: …"
    assert window.devices_panel.state("thermode") == "fault"


def test_invalid_protocol_shows_its_errors_and_blocks_start(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """A protocol above the limits is refused with file:line: field: message; Start stays disabled."""
    fill_setup(qtbot, window, tmp_path / "data")
    text = (ROOT / "protocols" / "cpm_sequential.yaml").read_text().replace("ts_target_c: 46.0", "ts_target_c: 58.0")
    bad = tmp_path / "too_hot.yaml"
    bad.write_text(text)
    window.setup_view.select_protocol(bad)
    qtbot.waitUntil(lambda: "Invalid protocol" in window.setup_view.protocol_status.text(), timeout=5000)
    assert not window.controls.start_button.isEnabled()
    shown = window.setup_view.timeline.toPlainText()
    assert "too_hot.yaml:" in shown and "58" in shown, shown
    assert "protocol is invalid" in window.controls.hint.text()


def test_connect_and_test_identifies_a_device(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Connect & test opens the (emulated) thermode off the GUI thread, shows its identity, and closes it."""
    fill_setup(qtbot, window, tmp_path / "data")
    panel = window.devices_panel
    qtbot.mouseClick(panel.rows["thermode"].test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.state("thermode") in ("ok", "fault"), timeout=10_000)
    assert panel.state("thermode") == "ok", panel.fault_text("thermode")
    assert "TCS" in panel.rows["thermode"].identity.text()


def test_closing_mid_session_stops_safely_and_writes_the_data(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Closing asks (confirmed here), aborts the devices, waits for the data files, then closes."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    window.close()
    assert window.isVisible() and window.state == "stopping"  # stays open until the data are written
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    report = window.last_report
    assert report is not None and report.outcome == "aborted"
    journal = list(read_journal(report.journal))
    aborts = [r for r in journal if r["kind"] == "control" and r["action"] == "abort"]
    assert aborts and aborts[0]["reason"] == "console closed"
    assert any(r["kind"] == "command" and r["device"] == "thermode" and r["command"] == "A" for r in journal)
    assert (report.data_root / "sub-01" / "ses-1" / "beh" / "sub-01_ses-1_task-cpmsequential_run-1_beh.tsv").is_file()


def test_emergency_stop_while_devices_are_still_opening(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Pressed right after Start, the stop is applied the moment the devices are open: nothing runs."""
    fill_setup(qtbot, window, tmp_path / "data")
    qtbot.mouseClick(window.controls.start_button, Qt.MouseButton.LeftButton)
    assert window.state == "preparing" and window.controls.estop_button.isEnabled()
    qtbot.mouseClick(window.controls.estop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state == "finished", timeout=15_000)
    report = window.last_report
    assert report is not None and report.outcome == "emergency_stopped"
    journal = list(read_journal(report.journal))
    assert not [r for r in journal if r["kind"] == "stimulus"]


def test_signal_shutdown_stops_at_once_and_closes_after_writing(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """SIGTERM / Ctrl-C in the terminal (window.shutdown): emergency stop without a dialog, close when written."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    window.shutdown("signal")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15_000)
    assert window.last_report is not None and window.last_report.outcome == "emergency_stopped"
