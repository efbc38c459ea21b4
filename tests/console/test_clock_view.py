"""One clock on the console, driven through its widgets against the emulators and a simulated participant.

The header shows protocol time (as the journal and BIDS onsets count it), the countdown of a
running wait or immersion equals the step's remaining time (the immersion's as the participant
display computes it from the same onset), Pause freezes both and says PAUSED with its duration,
and every event-log row and summary time is protocol time.
"""

from __future__ import annotations

import re
from pathlib import Path

from console_helpers import fill_setup
from PyQt6.QtCore import Qt

from cpmlab.console.main_window import MainWindow
from cpmlab.console.progress import pausable
from cpmlab.core.clock import now
from cpmlab.protocol.timeline import format_clock
from cpmlab.storage.journal import read_journal

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "console"
SPEED = 10.0  # slow enough that a 20-30 s wait lasts 2-3 real seconds: time to pause inside it


def shot(win: MainWindow, name: str) -> Path:
    """Save a screenshot of the window (the stall monitor does not count it)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    win.stall_monitor.suspend()
    assert win.grab().save(str(path))
    win.stall_monitor.resume()
    return path


def clock_s(text: str) -> float:
    """Read 'm:ss' (or 'h:mm:ss') back to seconds."""
    parts = [int(p) for p in text.split(":")]
    return float(sum(v * 60**i for i, v in enumerate(reversed(parts))))


def header_clock_s(win: MainWindow) -> float:
    """The protocol time the header shows (its first line: 'm:ss / ~m:ss')."""
    first = win.run_view.clock_label.text().splitlines()[0]
    match = re.match(r"(\d+(?::\d\d)+) / ~", first)
    assert match, first
    return clock_s(match.group(1))


def records(win: MainWindow) -> list[dict]:
    """The session's journal so far."""
    return list(read_journal(win.prepared.session.paths.journal))


def running_wait(win: MainWindow):  # type: ignore[no-untyped-def]
    """The running text-less wait (the one a pause freezes), or None."""
    current = win.run_view.progress.current()
    return next((o for o in current if pausable(o) and o.actual_duration_s is not None), None)


def test_header_countdown_pause_and_log_follow_one_clock(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Header = protocol time; countdowns = remaining time; pause freezes both with PAUSED; rows carry protocol time."""
    fill_setup(qtbot, window, tmp_path / "data")
    window.setup_view.speed_spin.setValue(SPEED)
    qtbot.mouseClick(window.controls.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state == "running" and window.run_view.progress.t0 is not None, timeout=15_000)
    view = window.run_view

    # header time equals protocol time
    start_t = next(r["t"] for r in records(window) if r["kind"] == "session_start")
    qtbot.wait(700)
    before = now()
    window._tick()
    after = now()
    shown = header_clock_s(window)
    assert (before - start_t) * SPEED - 1.0 <= shown <= (after - start_t) * SPEED + 1.0, shown

    # a text-less wait: its countdown is its drawn length minus its time so far; Pause freezes it
    qtbot.waitUntil(lambda: running_wait(window) is not None or window.state != "running", timeout=20_000)
    qtbot.waitUntil(lambda: view.countdown is not None and view.countdown.what == "wait", timeout=2000)
    qtbot.mouseClick(window.controls.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    qtbot.wait(300)
    window._tick()
    frozen = view.countdown
    header_paused = header_clock_s(window)
    assert frozen is not None and frozen.what == "wait" and frozen.frozen and "(paused)" in frozen.text
    assert "PAUSED" in view.clock_label.text() and view.now_label.text().startswith("PAUSED")
    paused_for_1 = view.progress.clock.paused_for_s(now())
    qtbot.wait(800)
    window._tick()
    assert view.countdown is not None and abs(view.countdown.remaining_s - frozen.remaining_s) < 1e-6
    assert header_clock_s(window) == header_paused  # the clock stands at the pause
    assert view.progress.clock.paused_for_s(now()) >= paused_for_1 + 0.7 * SPEED
    paused_line = next(line for line in view.clock_label.text().splitlines() if line.startswith("PAUSED"))
    assert clock_s(paused_line.removeprefix("PAUSED ")) >= 0.7 * SPEED
    journal = records(window)
    step = next(r for r in reversed(journal) if r["kind"] == "step_start" and r.get("step_type") == "wait")
    marker = next(r for r in reversed(journal) if r["kind"] == "marker" and r.get("name") == "wait")
    pause = next(r for r in reversed(journal) if r["kind"] == "control" and r["action"] == "pause")
    expected = marker["duration_s"] - (pause["t"] - step["t"]) * SPEED
    assert abs(frozen.remaining_s - expected) < 0.05, (frozen.remaining_s, expected)
    assert header_paused == round((pause["t"] - start_t) * SPEED)
    shot(window, "clock-paused.png")
    qtbot.mouseClick(window.controls.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state == "running", timeout=5000)
    qtbot.waitUntil(lambda: view.countdown is None or not view.countdown.frozen, timeout=2000)
    assert "PAUSED" not in view.clock_label.text()

    # the immersion: the console's countdown is the participant's (same onset, same formula)
    window.run_view.log.note_edit.setText("participant asked for water")
    qtbot.keyClick(window.run_view.log.note_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.progress.immersion_t is not None or window.state != "running", timeout=60_000)
    qtbot.wait(1200)
    onset = next(r["t"] for r in records(window) if r["kind"] == "immersion" and r["stage"] == "immersion_start")
    before = now()
    window._tick()
    after = now()
    down = view.countdown
    assert down is not None and down.participant_sees and down.what == "hand in the water"
    assert 60.0 - (after - onset) * SPEED - 1e-6 <= down.remaining_s <= 60.0 - (before - onset) * SPEED + 1e-6
    assert down.text in view.now_label.text() and "HAND IN WATER" in view.now_label.text()
    shot(window, "clock-running-countdown.png")

    # abort: the summary says where on the same clock the session stopped
    window._abort("clock test")
    qtbot.waitUntil(lambda: window.state == "finished", timeout=20_000)
    report = window.last_report
    assert report is not None and report.outcome == "aborted"
    journal = list(read_journal(report.journal))
    stop = next(r for r in journal if r["kind"] == "control" and r["action"] == "abort")
    stop_at = format_clock((stop["t"] - start_t) * SPEED)
    assert f"stopped at {stop_at}" in report.clock_text and "paused" in report.clock_text
    assert report.clock_text in window.summary_view.where.text()
    assert f"{stop_at}  abort by console: clock test" in report.controls
    shot(window, "clock-summary.png")

    # every event-log row carries protocol time: the note and the immersion at their journal times
    note = next(r for r in journal if r["kind"] == "note")
    immersion = next(r for r in journal if r["kind"] == "immersion" and r["stage"] == "immersion_start")
    for record, text in ((note, "NOTE: participant asked for water"), (immersion, "hand in the water")):
        line = next(line for line in view.log.lines if text in line)
        assert line.split()[0] == format_clock((record["t"] - start_t) * SPEED), line
    assert all(re.match(r"\s*\d+:\d\d(:\d\d)?  ", line) for line in view.log.lines), view.log.lines[:5]
