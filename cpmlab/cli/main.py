"""The cpmlab command line: run, validate, recover, demo, devices, mock, score, report, console, study."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from cpmlab import __version__
from cpmlab.core.errors import CpmlabError
from cpmlab.participant.population import PROFILES

Command = Callable[[argparse.Namespace], int]


def _add_run_options(p: argparse.ArgumentParser, labels: bool = True) -> None:
    if labels:  # a study visit decides session and run itself
        p.add_argument("--participant", "-p", required=True, help="participant label (letters and digits)")
        p.add_argument("--session", "-s", required=True, help="session label (letters and digits)")
        p.add_argument("--run", type=int, default=1, help="run number (default 1)")
    p.add_argument("--data", help="BIDS dataset folder (default: lab config 'data', else ./cpmlab-data)")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="time scale for dry runs (needs --simulate and --emulate); participants: always 1",
    )
    p.add_argument("--simulate", action="store_true", help="a simulated participant answers every screen")
    _add_profile_option(p)
    p.add_argument("--emulate", action="store_true", help="start byte-level device emulators instead of hardware")
    p.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="ROLE=DRIVER:PORT",
        help="e.g. thermode=tcs2:/dev/ttyUSB0 or bath=julabo:/dev/ttyUSB1 (repeatable)",
    )
    if labels:
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="set a protocol variable, e.g. ts_target_c=46.5",
        )
    p.add_argument("--seed", type=int, default=0, help="random seed (randomised blocks, simulated participant)")
    p.add_argument("--operator", help="operator name recorded in the session metadata")
    p.add_argument("--config", help="lab config file (default: the user's config dir, or $CPMLAB_CONFIG)")
    p.add_argument(
        "--display",
        action="store_true",
        help="show the participant screens in a PsychoPy window (with --simulate: the simulated "
        "participant answers through them with injected keyboard/mouse input)",
    )
    p.add_argument("--screen", type=int, default=0, metavar="N", help="monitor of the participant display")
    p.add_argument("--fullscreen", action="store_true", help="participant display full screen")
    p.add_argument(
        "--display-address",
        metavar="ADDRESS",
        help="where the engine listens for a display started elsewhere (cpmlab display --connect), "
        "e.g. tcp://0.0.0.0:5557; default: a display started here on loopback",
    )
    p.add_argument(
        "--no-lsl", dest="lsl", action="store_false", help="do not publish markers and signals on Lab Streaming Layer"
    )
    p.add_argument(
        "--record", action="store_true", help="record the session's LSL streams into sourcedata/.../<stem>_lsl.xdf"
    )
    p.add_argument(
        "--record-stream",
        action="append",
        default=[],
        metavar="NAME_OR_TYPE",
        help="also record this LSL stream (name or type, e.g. EEG) with --record (repeatable)",
    )


def _add_profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--simulate-profile",
        choices=PROFILES,
        default=None,
        metavar="NAME",
        help="population profile the simulated participant is drawn from, seeded by the participant label "
        f"(with --simulate; default typical): {', '.join(PROFILES)}",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="cpmlab", description="Conditioned pain modulation lab software.")
    parser.add_argument("--version", action="version", version=f"cpmlab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run a protocol for one participant", description="Run a protocol file.")
    p.add_argument("protocol", help="protocol YAML file (or the name of a shipped protocol)")
    _add_run_options(p)
    p.set_defaults(func=_cmd("run"))

    p = sub.add_parser(
        "validate",
        help="check protocol files and print their timelines",
        description="Check protocol files; print each step's start and the total duration.",
    )
    p.add_argument("files", nargs="+", help="protocol YAML files or names of shipped protocols")
    p.add_argument("--config", help="lab config whose limits apply too")
    p.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="check with this variable value, as run would"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    p.set_defaults(func=_cmd("validate"))

    p = sub.add_parser(
        "recover",
        help="rebuild BIDS files from the journal of a session that crashed",
        description="Rebuild a crashed session's BIDS files from its journal.",
    )
    p.add_argument("journal", help="the session's *_journal.jsonl (under DATA/sourcedata/cpmlab/...)")
    p.set_defaults(func=_cmd("recover"))

    p = sub.add_parser(
        "demo",
        help="run the sequential CPM protocol with emulated devices and participant",
        description="Run protocols/cpm_sequential.yaml end to end at high speed against device "
        "emulators and a simulated participant, and print the CPM summary.",
    )
    p.add_argument("--data", help="dataset folder to create (default: ./cpmlab-demo-<time>)")
    p.add_argument("--speed", type=float, default=20.0, help="time scale (default 20)")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--protocol", default="cpm_sequential", help="shipped protocol name or file")
    _add_profile_option(p)
    p.add_argument(
        "--tcp",
        action="store_true",
        help="serve the serial emulators on loopback TCP, as where there are no pseudo-terminals (Windows)",
    )
    p.add_argument(
        "--display",
        action="store_true",
        help="collect every rating through the PsychoPy participant screens (needs an X display)",
    )
    p.set_defaults(func=_cmd("demo"))

    p = sub.add_parser(
        "display",
        help="run the participant display (PsychoPy window) for an engine",
        description="Open the participant display window and serve the engine at ADDRESS; "
        "the engine normally starts this itself (cpmlab run --display).",
    )
    p.add_argument(
        "--connect",
        default="tcp://127.0.0.1:5557",
        metavar="ADDRESS",
        help="engine address (default tcp://127.0.0.1:5557)",
    )
    p.add_argument("--screen", type=int, default=0, metavar="N", help="monitor to open the window on")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fullscreen", dest="fullscreen", action="store_true", help="full screen (participants)")
    mode.add_argument("--windowed", dest="fullscreen", action="store_false", help="a window (default)")
    p.add_argument("--size", default="1024x768", metavar="WxH", help="window size in pixels (default 1024x768)")
    p.add_argument("--pos", metavar="X,Y", help="window position in pixels")
    p.add_argument(
        "--key-file",
        metavar="FILE",
        help="file holding the session's display key (default: the CPMLAB_DISPLAY_KEY environment variable)",
    )
    p.add_argument(
        "--language", default="en", metavar="LANG", help="language of the notice shown if the engine stops (en, de)"
    )
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd("display"), fullscreen=False)

    p = sub.add_parser(
        "devices",
        help="list installed drivers and serial ports, or probe a port",
        description="List driver plugins and serial ports; --probe PORT asks what answers there.",
    )
    p.add_argument("--probe", metavar="PORT", help="serial port or URL to identify")
    p.set_defaults(func=_cmd("devices"))

    p = sub.add_parser(
        "mock",
        help="start a device emulator and print its port",
        description="Start a byte-level device emulator; prints the port (or host:port) as the "
        "first line and runs until interrupted.",
    )
    p.add_argument("name", help="emulator name (tcs2, medoc, julabo, lauda)")
    p.add_argument(
        "--fault",
        help="start with a fault on (unplug, silence, garbage, slow, split, alarm; thermodes: overshoot, refuse; "
        "baths: drift)",
    )
    p.add_argument("--speed", type=float, default=1.0, help="device time scale")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set one of the emulator's options, e.g. --set automatic_start=true (medoc); "
        "an unknown key lists the settable ones",
    )
    p.add_argument(
        "--tcp",
        action="store_true",
        help="serve a serial device on a loopback TCP port (prints a socket://127.0.0.1:PORT URL that "
        "pyserial and --device ROLE=DRIVER:URL accept; the default where there are no pseudo-terminals)",
    )
    p.set_defaults(func=_cmd("mock"))

    p = sub.add_parser(
        "score",
        help="score CPM effects, thresholds, group and retest tables into derivatives",
        description="Score every run of a BIDS dataset from its files and write the per-run scores "
        "to DATASET/derivatives/cpmlab (a BIDS derivative) and the tables of the whole dataset to "
        "DATASET/derivatives/cpmlab-group (replacing an earlier scoring run).",
    )
    p.add_argument("dataset", help="BIDS dataset folder")
    _add_score_options(p)
    p.set_defaults(func=_score_cmd("score"))

    p = sub.add_parser(
        "report",
        help="score the dataset and write a self-contained HTML report",
        description="Score the dataset afresh (options of the last `cpmlab score` unless given) "
        "and write the report derivatives/cpmlab-group/report/report.html, its figures as PNG and SVG "
        "in report/figures/ and the tables beside it; prints the report's path.",
    )
    p.add_argument("dataset", help="BIDS dataset folder")
    _add_score_options(p)
    p.set_defaults(func=_score_cmd("report"))

    from cpmlab.console.command import add_console_parser  # argparse only; Qt is imported when it runs

    add_console_parser(sub)
    from cpmlab.cli.study_parser import add_study_parser  # study hook: cpmlab study status|next|add|check

    add_study_parser(sub, _add_run_options)
    return parser


def _cmd(name: str) -> Command:
    def run(args: argparse.Namespace) -> int:
        from cpmlab.cli import commands

        return getattr(commands, f"cmd_{name}")(args)

    return run


def _add_score_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sign",
        choices=["inhibition-negative", "inhibition-positive"],
        default=None,
        help="sign of the CPM effects (default inhibition-negative: less pain = negative)",
    )
    p.add_argument(
        "--normalise-nrs",
        action="store_true",
        help="multiply NRS (0-10) ratings by 10 so they combine with VAS (0-100)",
    )
    p.add_argument(
        "--retest-sessions",
        metavar="A,B",
        default=None,
        help="the two sessions compared for test-retest, e.g. 1,2 or ses-2,ses-3 (default: each "
        "participant's first two sessions in natural order: ses-2 before ses-10)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="processes that read and score runs (default 1; more pays on large datasets with idle cores)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="score every run from its files (default: reuse the per-run scores cached in "
        "derivatives/.cpmlab-cache for runs whose files and options are unchanged)",
    )


_done_with_files = False  # set when a score or report command has finished writing everything


def _score_cmd(name: str) -> Command:
    def run(args: argparse.Namespace) -> int:
        global _done_with_files
        from cpmlab.cli import score_commands

        code: int = getattr(score_commands, f"cmd_{name}")(args)
        _done_with_files = True
        return code

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the cpmlab command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except CpmlabError as exc:
        print(f"cpmlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cpmlab: interrupted", file=sys.stderr)
        return 130


def console(argv: Sequence[str] | None = None) -> None:
    """Run the cpmlab command and exit with its status (the installed `cpmlab` script)."""
    code = main(argv)
    if _done_with_files:
        # score and report have written and closed every file and their background processes are
        # done: exit without tearing down their tables (0.1-0.2 s on a large dataset)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console()
