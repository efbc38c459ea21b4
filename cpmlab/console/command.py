"""The 'cpmlab console' subcommand."""

from __future__ import annotations

import argparse
import signal
import sys


def cmd_console(args: argparse.Namespace) -> int:
    """Open the experimenter console and run its event loop until it is closed."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from cpmlab.console.main_window import MainWindow
    from cpmlab.console.setup_view import DryRunOptions
    from cpmlab.core.errors import CpmlabError

    if args.speed != 1.0 and not (args.emulate and args.simulate):
        raise CpmlabError("--speed other than 1 is only for dry runs with --emulate and --simulate")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("cpmlab console")
    window = MainWindow(DryRunOptions(emulate=args.emulate, simulate=args.simulate, speed=args.speed))
    window.show()
    # SIGTERM / Ctrl-C in the terminal: emergency stop, write the data, quit (as 'cpmlab run' does)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: window.shutdown("signal"))
    wake = QTimer()
    wake.timeout.connect(lambda: None)  # let Python run its signal handlers while Qt waits
    wake.start(200)
    return int(app.exec())


def add_console_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the 'console' subcommand to the cpmlab parser (the command is imported when run)."""
    p = sub.add_parser(
        "console",
        help="open the experimenter console (PyQt6)",
        description="Set up, run and watch a session in a window; emergency stop on F12 / Ctrl+Space.",
    )
    p.add_argument("--emulate", action="store_true", help="preselect emulated devices")
    p.add_argument("--simulate", action="store_true", help="preselect a simulated participant")
    p.add_argument("--speed", type=float, default=1.0, help="time scale for dry runs (needs --emulate --simulate)")
    p.set_defaults(func=cmd_console)
