"""Benchmark the console: the longest GUI event-loop stall during a full emulated session.

Run: xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/bench_console.py [--speed 40]

Drives the real MainWindow: fills the setup (cpm_sequential, emulated devices, simulated
participant), presses Start and runs the Qt event loop until the summary shows. A 10 ms
precise timer on the GUI thread records every gap between its ticks; a long gap is a
frozen console. Prints the longest gap, the 99th percentile and the session's wall time,
then the same figures for the idle console over as long again (what the machine's load
alone costs: other processes competing for the CPU delay every timer too).
Without a display it re-runs itself under xvfb-run (or Qt's offscreen platform).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _ensure_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if shutil.which("xvfb-run") and not os.environ.get("CPMLAB_BENCH_REEXEC"):
        env = {**os.environ, "CPMLAB_BENCH_REEXEC": "1"}
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable, *sys.argv]
        sys.exit(subprocess.call(cmd, env=env))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"


def main() -> int:
    """Run one session through the console and print the event-loop figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=40.0, help="time scale of the dry run (default 40)")
    parser.add_argument("--lsl", action="store_true", help="publish on LSL too (off by default)")
    parser.add_argument("--timeout-s", type=float, default=300.0)
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="skip the idle-loop comparison afterwards"
    )
    args = parser.parse_args()
    _ensure_display()

    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from cpmlab.console.main_window import MainWindow
    from cpmlab.console.setup_view import DryRunOptions
    from cpmlab.console.stall import StallMonitor

    tmp = Path(tempfile.mkdtemp(prefix="cpmlab-bench-console-"))
    os.environ["CPMLAB_CONSOLE_SETTINGS"] = str(tmp / "console.json")
    os.environ.setdefault("CPMLAB_CONFIG", str(tmp / "lab.yaml"))
    app = QApplication(sys.argv[:1])
    window = MainWindow(DryRunOptions(emulate=True, simulate=True, speed=args.speed))
    window.show()
    started: list[float] = []
    deadline = time.monotonic() + args.timeout_s

    def step() -> None:
        view = window.setup_view
        if time.monotonic() > deadline:
            print("bench_console: timed out", file=sys.stderr)
            app.exit(1)
            return
        if not started:
            if not view.ready:
                return
            if not view.participant.edit.text():
                view.participant.edit.setText("bench")
                view.session.edit.setText("1")
                view.select_protocol("cpm_sequential")
                for combo in view.port_combos.values():
                    combo.setCurrentText("emulated")
                view.simulate_radio.setChecked(True)
                view.lsl_check.setChecked(args.lsl)
                view.data_edit.setText(str(tmp / "data"))
                view.speed_spin.setValue(args.speed)
                return
            if window.controls.start_button.isEnabled():
                started.append(time.monotonic())
                window.start_session()
            return
        if window.state == "finished":
            app.exit(0)

    poll = QTimer()
    poll.timeout.connect(step)
    poll.start(50)
    code = app.exec()
    poll.stop()
    report = window.last_report
    monitor = window.stall_monitor
    wall = time.monotonic() - started[0] if started else float("nan")
    print(f"session outcome: {report.outcome if report else 'none'} (speed {args.speed:g}, wall {wall:.1f} s)")
    print(f"event-loop ticks: {len(monitor.gaps_ms)} at a {monitor.interval_ms} ms interval")
    print(f"longest event-loop stall: {monitor.max_stall_ms:.1f} ms")
    print(f"99th percentile tick gap: {monitor.percentile_ms(99):.1f} ms (median {monitor.percentile_ms(50):.1f} ms)")
    if args.baseline and wall == wall:
        # the same timer in the same (now idle) console for as long: what the machine alone costs
        idle = StallMonitor(10)
        idle.start()
        QTimer.singleShot(int(wall * 1000), app.quit)
        app.exec()
        idle.stop()
        print(
            f"idle console, same machine, next {wall:.0f} s: longest gap {idle.max_stall_ms:.1f} ms, "
            f"99th percentile {idle.percentile_ms(99):.1f} ms"
        )
    window.tasks.wait_idle(5)
    shutil.rmtree(tmp, ignore_errors=True)
    return code if report is not None and report.outcome == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
