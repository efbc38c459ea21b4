"""Implementations of the cpmlab subcommands (imported lazily by cpmlab.cli.main)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from cpmlab.app.devices import DeviceAssignment
from cpmlab.app.session import PreparedSession, SessionResult, SessionSpec
from cpmlab.cli.progress import ProgressPrinter
from cpmlab.core.errors import CpmlabError
from cpmlab.engine import SessionOutcome
from cpmlab.labconfig import load_lab_config
from cpmlab.protocol.loader import ProtocolError, load_protocol
from cpmlab.protocol.timeline import build_timeline, format_timeline
from cpmlab.protocols import protocol_path
from cpmlab.scoring.results import format_run_summary
from cpmlab.scoring.summary import format_summary
from cpmlab.storage.bids import write_bids
from cpmlab.storage.journal import read_journal
from cpmlab.storage.paths import SessionPaths

EXIT_CODES = {
    SessionOutcome.COMPLETED: 0,
    SessionOutcome.ABORTED: 3,
    SessionOutcome.EMERGENCY_STOPPED: 3,
    SessionOutcome.FAULT: 4,
    SessionOutcome.FAILED: 1,
}


def resolve_protocol(name: str) -> Path:
    """Return a protocol file path from a path or the name of a shipped protocol."""
    path = Path(name)
    if path.exists() or (path.suffix in (".yaml", ".yml") and "/" in name):
        return path
    try:
        return protocol_path(name)
    except FileNotFoundError as exc:
        if path.suffix in (".yaml", ".yml"):
            return path  # let the loader report the missing file with its name
        raise CpmlabError(str(exc)) from None


def _parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CpmlabError(f"--set {item!r}: expected NAME=VALUE")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value  # not a YAML scalar: keep the text; the loader says what it expected
        out[name.strip()] = parsed
    return out


def run_session(spec: SessionSpec, *, quiet: bool = False) -> SessionResult:
    """Prepare and run a session in a worker thread; Ctrl-C or SIGTERM is an emergency stop."""
    prepared = PreparedSession(spec)
    if not quiet:
        prepared.bus.subscribe(ProgressPrinter(prepared.protocol, spec.speed))
    thread, box = prepared.run_in_thread()
    stopping = threading.Event()

    def stop(*_: object) -> None:
        if not stopping.is_set():
            stopping.set()
            print("\ncpmlab: emergency stop: aborting every device", file=sys.stderr, flush=True)
            prepared.engine.emergency_stop("keyboard interrupt")

    previous = signal.signal(signal.SIGTERM, stop) if threading.current_thread() is threading.main_thread() else None
    try:
        while thread.is_alive():
            try:
                thread.join(0.2)
            except KeyboardInterrupt:
                stop()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if not box:
        raise CpmlabError("the session ended without a result; the journal is kept: run 'cpmlab recover'")
    return box[0]


def _report(result: SessionResult) -> None:
    print(f"\nsession {result.outcome}: data in {result.paths.root}")
    if result.written is not None:
        print(format_run_summary(result.written.ratings, read_journal(result.paths.journal)))
        for path in result.written.files:
            if path.parent == result.paths.beh_dir:
                print(f"  {path.relative_to(result.paths.root)}")


def spec_from_args(args: argparse.Namespace, **fixed: Any) -> SessionSpec:
    """Build a SessionSpec from the run options; fixed gives fields the caller decides (e.g. a study visit)."""
    profile = getattr(args, "simulate_profile", None)
    if profile is not None and not args.simulate:
        raise CpmlabError("--simulate-profile chooses the simulated participant: it needs --simulate")
    lab = load_lab_config(args.config)
    data = Path(args.data or lab.data or "cpmlab-data").expanduser()
    options: dict[str, Any] = {
        "data_root": data,
        "speed": args.speed,
        "simulate": args.simulate,
        "simulate_profile": profile or "typical",
        "emulate": args.emulate,
        "devices": [DeviceAssignment.parse(d) for d in args.device],
        "seed": args.seed,
        "operator": args.operator,
        "lab": lab,
        "lsl": args.lsl,
        "record": args.record or bool(args.record_stream),
        "record_streams": args.record_stream,
        "display": args.display,
        "display_screen": args.screen,
        "fullscreen": args.fullscreen,
        "display_address": args.display_address,
    }
    return SessionSpec(**{**options, **fixed})


def cmd_run(args: argparse.Namespace) -> int:
    """Run a protocol for one participant."""
    spec = spec_from_args(
        args,
        protocol_path=resolve_protocol(args.protocol),
        participant=args.participant,
        session=args.session,
        run=args.run,
        variables=_parse_sets(args.set),
    )
    result = run_session(spec)
    _report(result)
    return EXIT_CODES[result.outcome]


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate protocol files and print their timelines."""
    lab_limits = load_lab_config(args.config).safety_limits() if args.config else None
    overrides = _parse_sets(args.set)
    failed = 0
    for name in args.files:
        try:
            protocol = load_protocol(resolve_protocol(name), lab_limits, overrides)
        except ProtocolError as exc:
            failed += 1
            print(f"INVALID {name}", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        print(f"OK {name}")
        if not args.quiet:
            print(format_timeline(protocol, build_timeline(protocol)))
    if failed:
        print(f"{failed} of {len(args.files)} protocol file(s) invalid; nothing was run", file=sys.stderr)
    return 1 if failed else 0


def paths_from_journal(journal: Path) -> SessionPaths:
    """Find the dataset root and labels of a journal from its location and its first record."""
    journal = journal.resolve()
    start = next((r for r in read_journal(journal) if r["kind"] == "session_start"), None)
    if start is None:
        raise CpmlabError(
            f"{journal} has no session_start record: the session died before it began; there is nothing to rebuild"
        )
    root = next((p.parent for p in journal.parents if p.name == "sourcedata"), None)
    if root is None:
        raise CpmlabError(f"{journal} is not inside a dataset's sourcedata/ folder")
    return SessionPaths.create(
        root, str(start["participant"]), str(start["session"]), str(start["task"]), start.get("run", 1)
    )


def _failed_start_reason(journal: Path) -> str | None:
    """Return why the start failed if the journal records a start that never began, else None."""
    reason = None
    for record in read_journal(journal):
        if record.get("kind") == "session_start":
            return None
        if record.get("kind") == "session_end" and record.get("outcome") == "not_started":
            reason = str(record.get("reason") or "no reason recorded")
    return reason


def cmd_recover(args: argparse.Namespace) -> int:
    """Rebuild the BIDS files of a crashed session from its journal."""
    journal = Path(args.journal)
    if not journal.is_file():
        raise CpmlabError(f"no journal at {journal}")
    not_started = _failed_start_reason(journal)
    if not_started is not None:
        print(
            f"{journal} records a start that failed before the session began ({not_started}); no stimulus was "
            "given and there is nothing to recover. It is kept for the record; the labels are free to use."
        )
        return 0
    paths = paths_from_journal(journal)
    written = write_bids(paths, journal, recovered=True)
    print(
        f"recovered sub-{paths.participant} ses-{paths.session} run-{paths.run} "
        f"(session {written.outcome}) into {paths.root}"
    )
    for path in written.files:
        print(f"  {path.relative_to(paths.root)}")
    print(format_summary(written.ratings))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the standard sequential CPM protocol against emulators and a simulated participant."""
    data = Path(args.data or f"cpmlab-demo-{time.strftime('%Y%m%d-%H%M%S')}")
    spec = SessionSpec(
        protocol_path=resolve_protocol(args.protocol),
        participant="demo",
        session="01",
        data_root=data,
        speed=args.speed,
        simulate=True,
        simulate_profile=args.simulate_profile or "typical",
        emulate=True,
        seed=args.seed,
        operator="demo",
        emulator_options={"cold_pressor": {"start_c": 10.0}},
        display=args.display,
    )
    if getattr(args, "tcp", False):  # the default drivers (tcs2, julabo) are both serial
        spec.emulator_options = {"thermode": {"tcp": True}, "cold_pressor": {"start_c": 10.0, "tcp": True}}
    answering = "through the PsychoPy screens" if args.display else "in process"
    print(
        f"cpmlab demo: {spec.protocol_path.name} at speed {spec.speed:g}, emulated devices, "
        f"simulated participant ({spec.simulate_profile}) answering {answering} -> {data}"
    )
    started = time.monotonic()
    result = run_session(spec)
    _report(result)
    print(f"demo wall time: {time.monotonic() - started:.1f} s; dataset: {result.paths.root}")
    return EXIT_CODES[result.outcome]


def cmd_display(args: argparse.Namespace) -> int:
    """Run the participant display window until the engine quits or the window is closed."""
    from cpmlab.display.app import DisplayOptions, run_display
    from cpmlab.display.session_key import display_key_from

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        pos = tuple(int(v) for v in args.pos.split(",")) if args.pos else None
    except ValueError:
        raise CpmlabError(f"--size WxH and --pos X,Y take integers (got {args.size!r}, {args.pos!r})") from None
    options = DisplayOptions(
        connect=args.connect,
        key=display_key_from(args.key_file),
        screen=args.screen,
        fullscreen=args.fullscreen,
        size=(width, height),
        pos=pos,
        parent_pid=args.parent_pid,
        language=args.language,
    )  # type: ignore[arg-type]
    return run_display(options)


def cmd_devices(args: argparse.Namespace) -> int:
    """List driver plugins and serial ports, or probe one port."""
    from serial.tools import list_ports

    from cpmlab.app.transport import open_serial
    from cpmlab.devices.plugins import load_drivers, load_emulators

    drivers = load_drivers()
    if args.probe:
        found = 0
        for spec in drivers.specs.values():
            if spec.transport != "serial" or spec.probe is None:
                continue
            try:
                port = open_serial(args.probe, spec.serial_settings, timeout_s=0.5)
            except CpmlabError as exc:
                print(f"cannot open {args.probe}: {exc}", file=sys.stderr)
                return 1
            try:
                identity = spec.probe(port)
            except Exception:
                identity = None
            finally:
                port.close()
            if identity:
                found += 1
                print(f"{args.probe}: {spec.name} ({spec.model}) answers: {identity}")
        if not found:
            print(f"{args.probe}: no installed driver recognised the device")
        return 0 if found else 1
    print("drivers:")
    for spec in sorted(drivers.specs.values(), key=lambda s: s.name):
        settings = ", ".join(f"{k}={v}" for k, v in spec.serial_settings.items()) or spec.default_port or ""
        print(f"  {spec.name:8} {spec.kind:13} {spec.transport:6} {spec.model}  [{settings}]")
    for failure in drivers.failures:
        print(f"  {failure.name:8} FAILED TO LOAD ({failure.value}): {failure.error}")
    emulators = load_emulators()
    print("emulators: " + (", ".join(sorted(emulators.specs)) or "none"))
    for failure in emulators.failures:
        print(f"  {failure.name:8} FAILED TO LOAD ({failure.value}): {failure.error}")
    ports = list(list_ports.comports())
    print("serial ports:" + ("" if ports else " none found"))
    for port in ports:
        print(f"  {port.device}  {port.description}  {port.hwid}")
    return 0


def _serves_serial(emulator_name: str) -> bool:
    """True if the driver of this emulator speaks serial (so the emulator can serve TCP instead of a pty)."""
    from cpmlab.devices.plugins import load_drivers

    return any(d.emulator == emulator_name and d.transport == "serial" for d in load_drivers().specs.values())


def cmd_mock(args: argparse.Namespace) -> int:
    """Start an emulator, print its port first, and run until interrupted."""
    from cpmlab.cli.mock_settings import parse_settings
    from cpmlab.devices.plugins import load_emulators

    try:
        spec = load_emulators().get(args.name)
    except KeyError as exc:
        raise CpmlabError(str(exc).strip('"')) from None
    settings = parse_settings(args.name, spec.start, getattr(args, "set", None) or [])
    options = {"tcp": True} if getattr(args, "tcp", False) and _serves_serial(args.name) else {}
    try:
        emulator = spec.start(time_scale=args.speed, fault=args.fault, **options, **settings)
    except (ValueError, OverflowError, OSError) as exc:  # a fault or setting the emulator refuses
        raise CpmlabError(f"the {args.name} emulator did not start: {exc}") from None
    print(emulator.port, flush=True)
    set_text = "".join(f"; {key}={value}" for key, value in settings.items())
    print(
        f"{spec.model} emulator running (faults: {', '.join(spec.faults)}{set_text}); Ctrl-C to stop", file=sys.stderr
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.close()
    return 0
