"""The console's emergency stop with the participant display full screen on the same X screen.

The display must not grab the pointer or the keyboard: pyglet's full-screen window grabs the
pointer by default, so a click on the console never arrived. Screenshots of the whole X
screen go to test-artifacts/display/ (display in front; console raised and stopped).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from console_helpers import fill_setup, start_and_wait_running

import cpmlab.display.messages as m
from cpmlab.console.main_window import MainWindow
from cpmlab.core.clock import now
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.specs import TextSpec
from cpmlab.storage.journal import read_journal

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "display"


def _screen_shot(win: MainWindow, name: str) -> Path:
    """Save the whole X screen (every window on it), as the operator sees it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    assert win.screen().grabWindow(0).save(str(path))
    return path


def test_console_stop_button_takes_a_click_with_the_display_full_screen(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """Full-screen display up: the console, raised, takes an X click (xdotool) on EMERGENCY STOP and stops."""
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    display = DisplayChannel(fullscreen=True)
    try:
        assert display.window.fullscreen and display.window.width >= window.width()
        text = "Participant display, full screen\n\n(the console is behind it)"
        display.send(m.Show(screen=TextSpec(text=text, keys=(), timeout_s=None, hold=True)))
        qtbot.wait(400)  # a few frames of the full-screen window
        _screen_shot(window, "fullscreen_display_over_console.png")
        console_id = int(window.winId())
        subprocess.run(["xdotool", "windowraise", str(console_id)], check=True, timeout=10)
        qtbot.wait(300)
        button = window.controls.estop_button
        centre = button.mapToGlobal(button.rect().center())
        _screen_shot(window, "console_raised_over_fullscreen_display.png")
        pressed_at = now()
        subprocess.run(
            ["xdotool", "mousemove", "--sync", str(centre.x()), str(centre.y()), "click", "1"], check=True, timeout=10
        )
        qtbot.waitUntil(lambda: window.state in ("stopping", "finished"), timeout=5000)
        qtbot.wait(300)
        _screen_shot(window, "console_stopped_with_fullscreen_display.png")
        qtbot.waitUntil(lambda: window.state == "finished", timeout=15_000)
    finally:
        display.close()
    report = window.last_report
    assert report is not None and report.outcome == "emergency_stopped"
    stops = [r for r in read_journal(report.journal) if r["kind"] == "control" and r["action"] == "emergency_stop"]
    assert stops and stops[0]["source"] == "console button" and stops[0]["t"] - pressed_at < 1.0
