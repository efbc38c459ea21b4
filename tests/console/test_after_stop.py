"""After a stop the console tells the truth: live temperatures until the probe is at neutral, faults block Start."""

from __future__ import annotations

from pathlib import Path

from console_helpers import fill_setup, start_and_wait_running
from PyQt6.QtCore import Qt
from test_console import shot

from cpmlab.console.main_window import MainWindow
from cpmlab.storage.journal import read_journal


def test_after_an_emergency_stop_the_probe_is_followed_back_to_neutral(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """Stopped mid-stimulus: readings go on after the stop until the probe is at neutral, and the panel says so."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    banner = window.devices_panel.after_stop
    assert banner.isHidden()
    temp = window.devices_panel.rows["thermode"].temp
    qtbot.waitUntil(lambda: temp.text() != "–" and float(temp.text().split()[0]) > 40.0, timeout=15_000)
    qtbot.mouseClick(window.controls.estop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "returning" in banner.text() or window.state == "finished", timeout=15_000)
    if "returning" in banner.text():
        shot(window, "after_stop_returning.png")
    qtbot.waitUntil(lambda: window.state == "finished", timeout=15_000)
    assert banner.isVisible() and banner.at_neutral is True
    assert banner.text().startswith("Probe back at neutral"), banner.text()
    temp_text = window.devices_panel.rows["thermode"].temp.text()
    assert abs(float(temp_text.split()[0]) - 32.0) <= 1.0, temp_text  # the last reading shown is the neutral one
    path = shot(window, "after_stop.png")
    print(f"\nscreenshot: {path}")
    journal = list(read_journal(window.last_report.journal))
    stop_t = next(r["t"] for r in journal if r["kind"] == "control" and r["action"] == "emergency_stop")
    marker = next(r for r in journal if r["kind"] == "marker" and r["name"] == "probe_at_neutral")
    end_t = next(r["t"] for r in journal if r["kind"] == "session_end")
    readings_after = [r for r in journal if r["kind"] == "reading" and r["device"] == "thermode" and r["t"] > stop_t]
    assert readings_after and stop_t < marker["t"] <= end_t
    assert marker["max_off_c"] <= 1.0


def test_a_device_showing_a_fault_blocks_start_until_it_is_tested_again(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """A fault on the thermode's panel disables Start and says why; a passing Connect & test enables it again."""
    fill_setup(qtbot, window, tmp_path / "data")
    assert window.controls.start_button.isEnabled()
    window.devices_panel.mark_fault(
        "thermode", "write to the TCS II failed (port vanished?): [Errno 5] Input/output error"
    )
    assert not window.controls.start_button.isEnabled()
    assert "thermode shows a fault" in window.controls.hint.text()
    assert "Errno" not in window.devices_panel.fault_text("thermode")
    qtbot.mouseClick(window.devices_panel.rows["thermode"].test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.devices_panel.state("thermode") in ("ok", "fault"), timeout=10_000)
    qtbot.waitUntil(lambda: window.devices_panel.state("thermode") != "testing", timeout=10_000)
    assert window.devices_panel.state("thermode") == "ok"
    assert window.controls.start_button.isEnabled()


def test_a_failed_device_test_reads_as_a_sentence(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Testing a thermode on a port that does not exist says so in words, with no exception names."""
    fill_setup(qtbot, window, tmp_path / "data")
    missing = str(tmp_path / "ttyUSB-missing")
    window.setup_view.port_combos["thermode"].setCurrentText(missing)
    qtbot.mouseClick(window.devices_panel.rows["thermode"].test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.devices_panel.state("thermode") in ("ok", "fault"), timeout=10_000)
    text = window.devices_panel.fault_text("thermode")
    assert window.devices_panel.state("thermode") == "fault"
    assert "does not exist" in text and missing in text, text
    assert "Error" not in text and "Errno" not in text and "Exception" not in text, text
    assert not window.controls.start_button.isEnabled()


def test_time_back_at_neutral_is_in_protocol_seconds(qtbot) -> None:
    """At speed 10, a probe back 0.5 real seconds after the stop reads '5.0 s after the stop', as the plots count."""
    from cpmlab.console.after_stop import AfterStopBanner
    from cpmlab.core import events as ev

    banner = AfterStopBanner()
    qtbot.addWidget(banner)
    banner.on_event(ev.Event(ev.SESSION_START, 0.0, {"speed": 10}))
    banner.on_event(ev.Event(ev.CONTROL, 1.0, {"action": "emergency_stop", "source": "test"}))
    banner.on_event(ev.Event(ev.MARKER, 1.5, {"name": "probe_at_neutral", "neutral_c": 32.0}))
    assert banner.text().endswith("5.0 s after the stop."), banner.text()
