"""The fault matrix: every driver x every emulator fault, struck mid-session, run end to end.

Each cell runs a real session (journal, drivers, emulators, engine, BIDS writer) at a
dry-run speed with the driver under test and a healthy partner device, strikes one
emulator fault a moment into the session, and reads back from the journal what happened:
the first fault (or, for a transient fault the driver recovers from, warning) event of the
device and its delay after the strike, how the session ended, whether the engine aborted
every device, and what was written. ``run_matrix`` runs all cells; ``format_table`` prints
them. Used by ``tests/app/test_fault_matrix.py`` and ``benchmarks/bench_fault_matrix.py``.

The thermodes have one more cell, ``refuse``: the emulator refuses the stimulus of a thermal
step that is followed by its rating. It passes when the session ends as a fault with one
thermode fault of cause ``stimulus_refused`` within 1 s of the step's start, every device
aborted, no rating recorded for the refused trial, and the data written.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cpmlab.app.devices import DeviceAssignment
from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.core import clock
from cpmlab.labconfig import LabConfig
from cpmlab.storage.journal import read_journal

FAULTS = ("unplug", "silence", "garbage", "slow", "split", "alarm")
#: Driver under test -> (its role, the healthy partner driver of the other role).
DRIVERS: dict[str, tuple[str, str]] = {
    "tcs2": ("thermode", "lauda"),
    "medoc": ("thermode", "lauda"),
    "julabo": ("cold_pressor", "tcs2"),
    "lauda": ("cold_pressor", "tcs2"),
}
#: Faults a driver may ride out: the rule under which each becomes a fault (docs/hardware.md).
TRANSIENT_RULES = {
    "slow": "a reply slower than half its timeout is a journaled warning; none within the timeout is a fault",
    "split": "a reply in pieces is reassembled; one still incomplete at the timeout is a fault",
}
DETECT_WITHIN_S = 1.0
#: Thermode drivers whose emulators can refuse a stimulus, and the options each needs for it.
REFUSAL_DRIVERS: dict[str, dict[str, object]] = {
    "tcs2": {},
    "medoc": {"program_for": {44.0: 0b00000001}},  # a program of the emulator's default set
}

PROTOCOL = """\
cpmlab_protocol: 1
name: fault_matrix
title: Fault matrix cell
task: faults
limits: {max_thermode_c: 50, max_plateau_s: 60, max_immersion_s: 120, min_bath_c: 4}
devices: [thermode, cold_pressor]
steps:
  - {type: wait, duration_s: %(wait_s)s}
"""
REFUSAL_STEPS = """\
  - {type: thermal, id: ts, target_c: 44, baseline_c: 32, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 5}
  - {type: rating, id: r, rates: ts, timeout_s: 10}
"""


@dataclass
class Cell:
    """What one driver did when one fault struck mid-session."""

    driver: str
    fault: str
    outcome: str = ""
    event: str = ""  # "fault", "warning" or "" (nothing journaled for the device)
    delay_s: float | None = None  # strike -> first fault/warning event in the journal
    faulted: bool = False  # a fault event for the device was journaled (perhaps after a warning)
    aborted: bool = False  # the engine sent every device its abort
    written: bool = False  # BIDS files written and the journal closed with session_end
    error: str = ""
    refused: bool = False  # refuse cells: one thermode fault of cause stimulus_refused
    rated: bool = False  # refuse cells: a rating of the refused stimulus was recorded

    @property
    def passed(self) -> bool:
        """Detected within 1 s and ended as a fault, or ridden out as a stated transient."""
        if not self.written or self.error:
            return False
        if self.fault == "refuse":
            on_time = self.delay_s is not None and self.delay_s <= DETECT_WITHIN_S
            return on_time and self.refused and not self.rated and self.aborted and self.outcome == "fault"
        if self.event == "fault":
            on_time = self.delay_s is not None and self.delay_s <= DETECT_WITHIN_S
            return on_time and self.aborted and self.outcome == "fault"
        if self.fault in TRANSIENT_RULES:
            on_time = self.delay_s is None or self.delay_s <= DETECT_WITHIN_S
            if self.outcome == "completed":
                return on_time and (self.event == "warning" or self.fault == "split")
            # Past the rule's limit (e.g. a reply beyond its timeout on a loaded machine) the
            # warning became a fault: then the session must have ended as one.
            return on_time and self.faulted and self.aborted and self.outcome == "fault"
        return False


def run_cell(
    driver: str,
    fault: str,
    data_root: Path,
    *,
    speed: float = 20.0,
    strike_after_s: float = 1.0,
    wait_s: float = 60.0,
    run: int = 1,
) -> Cell:
    """Run one session with driver's emulator faulted strike_after_s (real time) into it.

    fault "refuse" (thermodes only) is struck during a short wait before a thermal step.
    """
    role, partner = DRIVERS[driver]
    other = "cold_pressor" if role == "thermode" else "thermode"
    protocol = data_root.parent / "fault_matrix.yaml"  # outside the BIDS dataset
    refusing = fault == "refuse"
    if refusing:
        strike_after_s, wait_s = min(strike_after_s, 0.2), 10.0  # the stimulus comes 0.5 s in at 20x
    protocol.write_text(PROTOCOL % {"wait_s": wait_s} + (REFUSAL_STEPS if refusing else ""))
    lab = LabConfig(driver_options={role: dict(REFUSAL_DRIVERS[driver])} if refusing else {})
    cell = Cell(driver, fault)
    spec = SessionSpec(
        protocol,
        f"{driver}{fault}",
        "1",
        data_root,
        run=run,
        speed=speed,
        simulate=True,
        emulate=True,
        seed=1,
        lsl=False,
        devices=[DeviceAssignment(role, driver), DeviceAssignment(other, partner)],
        lab=lab,
    )
    try:
        session = PreparedSession(spec)
    except Exception as exc:  # the session could not start: no fault was struck yet
        cell.error = f"start failed: {type(exc).__name__}: {exc}"
        return cell
    struck: list[float] = []

    def strike() -> None:
        time.sleep(strike_after_s)
        struck.append(clock.now())
        session.devices.emulators[role].set_fault(fault)

    striker = threading.Thread(target=strike, name="fault-strike", daemon=True)
    striker.start()
    try:
        result = session.run()
    except Exception as exc:  # a cell that crashes is a failed cell, not a crashed matrix
        cell.error = f"{type(exc).__name__}: {exc}"
        return cell
    striker.join(timeout=strike_after_s + 1)
    cell.outcome = str(result.outcome)
    records = list(read_journal(result.paths.journal))
    cell.written = result.written is not None and any(r.get("kind") == "session_end" for r in records)
    after = [r for r in records if struck and float(r.get("t", 0.0)) >= struck[0]]
    for record in after:
        if record.get("device") != role:
            continue
        warning = (record.get("fields") or {}).get("warning")
        cell.faulted = cell.faulted or record.get("kind") == "fault"
        if (record.get("kind") == "fault" or warning) and not cell.event:
            cell.event = "fault" if record.get("kind") == "fault" else "warning"
            cell.delay_s = float(record["t"]) - struck[0]
    cell.aborted = any(r.get("kind") == "control" and r.get("action") == "abort" for r in after)
    if refusing:
        _read_refusal(cell, records, role)
    return cell


def _read_refusal(cell: Cell, records: list[dict], role: str) -> None:
    """Fill a refuse cell from the journal: the refusal fault, its delay after the step start, ratings."""
    step = [r for r in records if r.get("kind") == "step_start" and r.get("step_id") == "ts"]
    faults = [r for r in records if r.get("kind") == "fault"]
    refusals = [r for r in faults if r.get("device") == role and r.get("cause") == "stimulus_refused"]
    cell.refused = len(refusals) == 1 and len(faults) == 1
    cell.delay_s = float(refusals[0]["t"]) - float(step[0]["t"]) if refusals and step else None
    cell.event = "fault" if refusals else cell.event
    cell.rated = any(r.get("kind") == "rating" and r.get("rates") == "ts" for r in records)


def run_matrix(data_root: Path, **options: float) -> list[Cell]:
    """Run every driver x fault cell into data_root; return the cells in table order.

    A cell whose session could not even start (before any fault was struck, e.g. a reply
    timeout at connect on an overloaded machine) is run once more under a new run number.
    """
    cells = []
    for driver in DRIVERS:
        for fault in FAULTS:
            cell = run_cell(driver, fault, data_root, **options)
            if cell.error.startswith("start failed"):
                cell = run_cell(driver, fault, data_root, run=2, **options)
            cells.append(cell)
    for driver in REFUSAL_DRIVERS:
        cell = run_cell(driver, "refuse", data_root, **options)
        if cell.error.startswith("start failed"):
            cell = run_cell(driver, "refuse", data_root, run=2, **options)
        cells.append(cell)
    return cells


def format_table(cells: list[Cell]) -> str:
    """Return the matrix as a text table: per cell the event, its delay and the outcome."""

    def show(cell: Cell) -> str:
        if cell.error:
            return "ERROR"
        delay = f"{cell.delay_s * 1000:.0f} ms" if cell.delay_s is not None else "-"
        mark = "ok" if cell.passed else "FAIL"
        then = "+fault " if cell.event == "warning" and cell.faulted else ""
        return f"{cell.event or 'none'} {delay} {then}{cell.outcome} {mark}"

    width = 28
    lines = ["driver  | " + " | ".join(f"{f:{width}s}" for f in FAULTS)]
    lines.append("-" * len(lines[0]))
    for driver in DRIVERS:
        row = [c for c in cells if c.driver == driver and c.fault in FAULTS]
        lines.append(f"{driver:7s} | " + " | ".join(f"{show(c):{width}s}" for c in row))
    matrix = [c for c in cells if c.fault in FAULTS]
    passed = sum(c.passed for c in matrix)
    lines.append(
        f"{passed} of {len(matrix)} cells: detected within {DETECT_WITHIN_S:g} s (or ridden out by rule), "
        "devices aborted, data written"
    )
    refusals = [c for c in cells if c.fault == "refuse"]
    for cell in refusals:
        rated = "a rating recorded" if cell.rated else "no rating"
        lines.append(f"refused stimulus, {cell.driver:5s} | {show(cell)} ({rated})")
    if refusals:
        lines.append(
            f"{sum(c.passed for c in refusals)} of {len(refusals)} refused stimuli: one stimulus_refused fault within "
            f"{DETECT_WITHIN_S:g} s of the step, devices aborted, no rating of the refused trial, data written"
        )
    for fault, rule in TRANSIENT_RULES.items():
        lines.append(f"  rule for {fault}: {rule}")
    return "\n".join(lines)
