"""What the setup view offers: lab config, driver plugins, serial ports, shipped protocols.

Everything here touches files, entry points or the OS, so it runs in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpmlab.app.devices import ROLE_KIND, ROLES
from cpmlab.core.errors import CpmlabError, LabelError
from cpmlab.core.limits import SafetyLimits
from cpmlab.labconfig import LabConfig, config_path, load_lab_config
from cpmlab.protocol.loader import ProtocolError, effective_limits, load_protocol
from cpmlab.protocol.model import Protocol
from cpmlab.protocol.timeline import build_timeline, format_timeline, total_duration_s
from cpmlab.protocol.values import resolve
from cpmlab.storage.paths import SessionPaths

ROLE_TITLES = {"thermode": "Thermode", "cold_pressor": "Cold pressor (bath)"}
LIMIT_LABELS = {
    "max_thermode_c": ("max thermode", "°C", "min"),
    "min_thermode_c": ("min thermode", "°C", "max"),
    "max_plateau_s": ("max plateau", "s", "min"),
    "max_immersion_s": ("max immersion", "s", "min"),
    "min_bath_c": ("min bath", "°C", "max"),
    "max_bath_c": ("max bath", "°C", "min"),
    "max_ramp_c_per_s": ("max ramp", "°C/s", "min"),
}


@dataclass(frozen=True)
class DriverChoice:
    """A driver plugin the operator can pick for a role."""

    name: str
    kind: str
    model: str
    transport: str
    default_port: str | None


@dataclass
class Environment:
    """The lab config, drivers, ports and protocols found at startup."""

    lab: LabConfig = field(default_factory=LabConfig)
    lab_path: Path | None = None
    lab_error: str | None = None
    drivers: list[DriverChoice] = field(default_factory=list)
    driver_failures: list[str] = field(default_factory=list)
    ports: list[tuple[str, str]] = field(default_factory=list)  # (device, description)
    protocols: list[Path] = field(default_factory=list)
    scoring_available: bool = False

    def drivers_for(self, role: str) -> list[DriverChoice]:
        """Return the drivers that can serve role."""
        return [d for d in self.drivers if d.kind == ROLE_KIND[role]]


def scan_environment() -> Environment:
    """Load the lab config, driver plugins, serial ports and the shipped protocols (worker thread)."""
    from serial.tools import list_ports

    from cpmlab.devices.plugins import load_drivers
    from cpmlab.protocols import PROTOCOL_DIR

    env = Environment(lab_path=config_path())
    try:
        env.lab = load_lab_config()
    except CpmlabError as exc:
        env.lab_error = str(exc)
    registry = load_drivers()
    env.drivers = sorted(
        (
            DriverChoice(s.name, s.kind, s.model, s.transport, s.default_port)
            for s in registry.specs.values()
            if s.kind in ROLE_KIND.values()
        ),
        key=lambda d: d.name,
    )
    env.driver_failures = [f"{f.name}: {f.error}" for f in registry.failures]
    try:
        env.ports = [(p.device, p.description or "") for p in list_ports.comports()]
    except Exception as exc:  # a broken udev must not stop the console
        env.driver_failures.append(f"serial ports: {exc}")
    env.protocols = sorted(PROTOCOL_DIR.glob("*.yaml"))
    env.scoring_available = _scoring_available()
    return env


def _scoring_available() -> bool:
    """True if the scoring package (and its plotting dependencies) can be imported."""
    try:
        import cpmlab.scoring.pipeline
        import cpmlab.scoring.report  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class LimitRow:
    """One safety limit: protocol, lab, effective, and which side is stricter."""

    name: str
    label: str
    unit: str
    protocol: float
    lab: float
    effective: float
    stricter: str  # "protocol", "lab" or "same"


@dataclass
class ProtocolPreview:
    """A protocol checked against the lab limits: its timeline, or every problem found."""

    path: Path
    protocol: Protocol | None = None
    timeline_text: str = ""
    total_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    limits: list[LimitRow] = field(default_factory=list)
    first_setpoint_c: float | None = None

    @property
    def ok(self) -> bool:
        """True when the protocol is valid."""
        return self.protocol is not None and not self.errors


def preview_protocol(path: Path, lab: LabConfig) -> ProtocolPreview:
    """Load and validate a protocol with the lab limits; return its timeline or its problems (worker thread)."""
    preview = ProtocolPreview(path=Path(path))
    try:
        lab_limits = lab.safety_limits()
        protocol = load_protocol(path, lab_limits)
    except ProtocolError as exc:
        preview.errors = [str(p) for p in exc.problems]
        return preview
    except (CpmlabError, OSError) as exc:
        preview.errors = [f"{path}: {exc}"]
        return preview
    entries = build_timeline(protocol)
    preview.protocol = protocol
    preview.timeline_text = format_timeline(protocol, entries)
    preview.total_s = total_duration_s(entries)
    preview.limits = limit_rows(protocol.limits.to_limits(), lab_limits, effective_limits(protocol, lab_limits))
    first_setpoint = protocol.first_bath_setpoint()
    if first_setpoint is not None:
        try:
            preview.first_setpoint_c = float(resolve(first_setpoint, protocol.variables))
        except Exception:
            preview.first_setpoint_c = None
    return preview


def limit_rows(protocol: SafetyLimits, lab: SafetyLimits, effective: SafetyLimits) -> list[LimitRow]:
    """Return a row per limit saying which side (protocol or lab config) is stricter."""
    rows = []
    for name, (label, unit, _) in LIMIT_LABELS.items():
        p, lab_value, e = getattr(protocol, name), getattr(lab, name), getattr(effective, name)
        stricter = "same" if p == lab_value else ("protocol" if e == p else "lab")
        rows.append(LimitRow(name, label, unit, p, lab_value, e, stricter))
    return rows


def existing_session_files(root: Path, participant: str, session: str, task: str, run: int) -> list[Path]:
    """Return files that show this participant/session/run was already recorded (worker thread)."""
    try:
        return SessionPaths.create(root, participant, session, task, run).existing()
    except (LabelError, OSError):
        return []


def label_problem(kind: str, text: str) -> str | None:
    """Return why text is not a valid BIDS label (letters and digits only), or None if it is."""
    if not text:
        return f"{kind} label is required"
    for prefix in ("sub-", "ses-", "run-"):
        if text.lower().startswith(prefix):
            return f"leave out '{prefix}': type only the label, e.g. '{text[len(prefix) :] or '01'}'"
    bad = sorted({c for c in text if not (c.isascii() and c.isalnum())})
    if bad:
        shown = " ".join("space" if c == " " else repr(c) for c in bad)
        return f"letters and digits only (remove {shown})"
    return None


def run_problem(text: str) -> str | None:
    """Return why text is not a run number (a positive whole number), or None."""
    if not text:
        return "run number is required"
    if not text.isdigit() or int(text) < 1:
        return "run is a positive whole number, e.g. 1"
    return None


def role_title(role: str) -> str:
    """Return the operator-facing name of a device role."""
    return ROLE_TITLES.get(role, role)


ALL_ROLES: tuple[str, ...] = ROLES


def describe_assignment(driver: str, port: str | None) -> str:
    """Return 'tcs2 on /dev/ttyUSB0' or 'tcs2 (emulated)'."""
    return f"{driver} (emulated)" if not port else f"{driver} on {port}"


def jsonable(value: Any) -> Any:
    """Return value if it is JSON-like, else its string."""
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def test_device(role: str, driver: str, port: str | None, lab: LabConfig) -> str:
    """Open one device (its emulator if no port), identify it and close it; return its identity (worker thread)."""
    from cpmlab.app.devices import DeviceAssignment, open_devices

    opened = open_devices(
        [role],
        [DeviceAssignment(role, driver, port or None)],
        emulate=not port,
        event_sink=None,
        driver_options=lab.driver_options,
    )
    try:
        info = opened.devices[role].connect(lab.safety_limits())
        where = port or "emulated"
        return f"{info.model}: {info.identity} ({where})"
    finally:
        opened.close()
