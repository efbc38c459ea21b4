"""Run one session end to end: journal first, devices, engine, BIDS files."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpmlab import __version__
from cpmlab.app import lsl_session
from cpmlab.app.devices import DeviceAssignment, OpenDevices, open_devices
from cpmlab.core import events as ev
from cpmlab.core.clock import wall_time_iso
from cpmlab.core.errors import CpmlabError
from cpmlab.core.events import EventBus, Subscriber
from cpmlab.core.filemode import create_new
from cpmlab.engine import EngineDevices, SessionEngine, SessionOutcome
from cpmlab.labconfig import LabConfig
from cpmlab.participant.channel import ParticipantChannel
from cpmlab.participant.operator import OperatorResponses
from cpmlab.participant.population import population_seed
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant
from cpmlab.protocol.loader import effective_limits, load_protocol
from cpmlab.protocol.model import Protocol
from cpmlab.storage.bids import WrittenSession, write_bids
from cpmlab.storage.journal import Journal
from cpmlab.storage.paths import SessionPaths

log = logging.getLogger(__name__)

BATH_POLL_S = 0.5  # protocol seconds between bath readings (checked by the watchdog, recorded)
MIN_BATH_POLL_REAL_S = 0.25  # a dry run at high speed polls no faster than this (real seconds)


@dataclass
class SessionSpec:
    """Everything needed to run one session."""

    protocol_path: Path
    participant: str
    session: str
    data_root: Path
    run: int = 1
    speed: float = 1.0
    simulate: bool = False
    emulate: bool = False
    devices: list[DeviceAssignment] = field(default_factory=list)
    seed: int = 0
    operator: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    participant_model: ParticipantModel | None = None  # None with simulate: drawn from the population
    simulate_profile: str = "typical"  # population profile the simulated participant is drawn from
    lab: LabConfig = field(default_factory=LabConfig)
    emulator_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    lsl: bool = True  # markers and signals on Lab Streaming Layer
    record: bool = False  # record the LSL streams into sourcedata/.../<stem>_lsl.xdf
    record_streams: list[str] = field(default_factory=list)  # other LSL streams to record (name or type)
    display: bool = False  # participant screens in the PsychoPy display process
    display_screen: int = 0  # monitor of the participant display
    fullscreen: bool = False
    display_position: tuple[int, int] | None = None  # top-left pixel of a windowed display (keep it off the console)
    display_size: tuple[int, int] = (1024, 768)  # of a windowed display, pixels
    display_address: str | None = None  # engine listens here for a display started elsewhere
    metadata: dict[str, Any] = field(default_factory=dict)  # extra session facts journaled (e.g. a study visit)
    language: str | None = None  # participant display's own texts; None: the protocol's language
    operator_responses: bool = False  # the console's "pain detected" / "hand out" presses answer for the participant
    resume_after_display: bool = True  # resume once a lost display shows its screen again (console: False)


@dataclass
class SessionResult:
    """How a session ended and what it wrote."""

    outcome: SessionOutcome
    paths: SessionPaths
    written: WrittenSession | None


ParticipantFactory = Callable[["PreparedSession"], ParticipantChannel]


class PreparedSession:
    """A session whose journal is open and devices connected, ready to run."""

    def __init__(
        self,
        spec: SessionSpec,
        participant_factory: ParticipantFactory | None = None,
        subscribers: list[Subscriber] | None = None,
    ) -> None:
        self.spec = spec
        lab_limits = spec.lab.safety_limits()
        self.protocol: Protocol = load_protocol(spec.protocol_path, lab_limits, spec.variables)
        self.limits = effective_limits(self.protocol, lab_limits)
        if spec.speed != 1.0 and not (spec.simulate and spec.emulate):
            raise CpmlabError(
                "--speed other than 1 is only for dry runs with --simulate and --emulate: real devices and "
                "real participants always run at speed 1"
            )
        self.paths = SessionPaths.create(spec.data_root, spec.participant, spec.session, self.protocol.task, spec.run)
        self.participant_model = simulated_model(spec) if spec.simulate else None  # a bad profile stops us here
        self.paths.check_root()
        self.paths.refuse_existing()
        self.bus = EventBus()
        protocol_bytes = Path(spec.protocol_path).read_bytes()
        self.journal = Journal(self.paths.journal)  # from here on, everything is journaled
        self.bus.subscribe(self.journal, critical=True)
        self.lsl: Any = None
        self.recorder: lsl_session.XdfRecorder | None = None
        self.devices = OpenDevices()
        self.participant: ParticipantChannel | None = None
        self.responses: OperatorResponses | None = None
        try:
            self._start(protocol_bytes, participant_factory, subscribers)
        except BaseException as exc:
            self.close_devices()
            if self.lsl is not None:
                self.lsl.close()
            self._set_aside_failed_start(exc)
            raise

    def _start(
        self,
        protocol_bytes: bytes,
        participant_factory: ParticipantFactory | None,
        subscribers: list[Subscriber] | None,
    ) -> None:
        """Copy the protocol, open LSL, devices and the participant channel, and build the engine."""
        spec = self.spec
        with os.fdopen(create_new(self.paths.protocol_copy), "wb") as copy:  # new only, mode as the journal's
            copy.write(protocol_bytes)
        self.lsl = lsl_session.make_bridge(self.protocol, spec.lab.lab, self.bus) if spec.lsl else None
        if self.lsl is not None:
            self.bus.subscribe(self.lsl)
        for sub in subscribers or []:
            self.bus.subscribe(sub)
        self._open(participant_factory)
        simulated = spec.simulate and participant_factory is None  # a factory brings its own participant
        self.metadata = {
            "participant": spec.participant,
            "session": spec.session,
            "run": spec.run,
            "protocol_title": self.protocol.title,
            "protocol_file": Path(spec.protocol_path).name,
            "protocol_sha256": hashlib.sha256(protocol_bytes).hexdigest(),
            "protocol_copy": str(self.paths.protocol_copy.relative_to(self.paths.root)),
            "software_version": __version__,
            "operator": spec.operator or _operator(),
            "lab": spec.lab.lab,
            "started": wall_time_iso(),
            "devices": self.devices.describe(),
            "device_info": self.device_info,
            "simulated_participant": spec.simulate,
            **({"simulated_parameters": self._simulated_parameters(self.participant_model)} if simulated else {}),
            "lab_limits": spec.lab.safety_limits().as_dict(),
            "protocol_limits": self.protocol.limits.model_dump(),
            **spec.metadata,
        }
        if self.lsl is not None:
            self.metadata["lsl"] = lsl_session.open_bridge(self.lsl, self.protocol, self.metadata)
        self.engine = SessionEngine(
            self.protocol,
            EngineDevices(**self.devices.devices),
            self.participant,
            self.bus,
            self.limits,
            speed=spec.speed,
            variables={"participant": spec.participant, "session": spec.session, "run": spec.run, **spec.variables},
            seed=spec.seed,
            bath_poll_interval_s=bath_poll_interval_s(spec.speed),
        )

    def _simulated_parameters(self, model: ParticipantModel | None) -> dict[str, Any]:
        """Return the simulated participant's true parameters and seeds, for the session metadata."""
        if model is None:
            return {}
        spec = self.spec
        drawn = spec.participant_model is None
        return {
            **model.true_parameters(),
            "drawn_from_population": drawn,
            "population_seed": population_seed(spec.participant, spec.simulate_profile) if drawn else None,
            "noise_seed": spec.seed,
        }

    def _set_aside_failed_start(self, exc: BaseException) -> None:
        """Journal why the start failed, then move its files out of the way so the labels stay free."""
        try:
            self.bus.emit(ev.SESSION_END, outcome="not_started", reason=str(exc) or type(exc).__name__)
        finally:
            self.journal.close()
        stamp = wall_time_iso().replace(":", "").replace("-", "")[:15]
        target = self.paths.failed_starts_dir
        target.mkdir(parents=True, exist_ok=True)
        for path in (self.paths.journal, self.paths.protocol_copy):
            if path.exists():
                _move_without_overwriting(path, target, f"{path.name.removesuffix(path.suffix)}_{stamp}", path.suffix)
        with contextlib.suppress(OSError):
            self.paths.source_dir.rmdir()  # only if empty
            self.paths.source_dir.parent.rmdir()
        log.warning("the start failed; its journal is kept in %s", target)

    def _open(self, participant_factory: ParticipantFactory | None) -> None:
        spec = self.spec
        assignments = list(spec.devices)
        assigned = {a.role for a in assignments}
        for role, text in spec.lab.devices.items():
            a = DeviceAssignment.parse(f"{role}={text}")
            if a.role not in assigned:
                assignments.append(DeviceAssignment(a.role, a.driver, None if spec.emulate else a.port))
        self.devices = open_devices(
            list(self.protocol.devices),
            assignments,
            emulate=spec.emulate,
            event_sink=self.bus.emit,
            time_scale=spec.speed,
            emulator_options=spec.emulator_options,
            driver_options=spec.lab.driver_options,
        )
        self.device_info: dict[str, Any] = {}
        for role, device in self.devices.devices.items():
            info = device.connect(self.limits)
            self.device_info[role] = {"model": info.model, "identity": info.identity, **info.details}
        if participant_factory is not None:
            self.participant = participant_factory(self)
        elif spec.simulate:
            bath_emulator = self.devices.emulators.get("cold_pressor")
            sim = SimulatedParticipant(
                self.participant_model,
                seed=spec.seed,
                speed=spec.speed,
                on_hand_immersed=getattr(bath_emulator, "set_hand_immersed", None),
            )
            self.bus.subscribe(sim.observe)
            self.participant = self._open_display(sim) if spec.display else sim
        elif spec.display:
            self.participant = self._open_display(None)
        else:
            raise CpmlabError("no participant display: use --simulate, or run with the display (cpmlab display)")
        if spec.operator_responses and self.participant is not None:
            self.responses = OperatorResponses(self.participant, self._journal_operator_press)
            self.participant = self.responses

    def _journal_operator_press(self, event: str, what: str, t: float, accepted: bool) -> None:
        from cpmlab.core import events as ev

        self.bus.emit(
            ev.MARKER, t=t, name="operator_response", event=event, what=what, accepted=accepted, source="operator"
        )

    def _open_display(self, sim: SimulatedParticipant | None) -> ParticipantChannel:
        """Start the PsychoPy display; a simulated participant answers through it with real input."""
        from cpmlab.display import DisplayChannel, SimulatedDisplayParticipant

        spec = self.spec
        channel = DisplayChannel(
            language=spec.language or self.protocol.language,
            screen=spec.display_screen,
            fullscreen=spec.fullscreen,
            position=spec.display_position,
            size=spec.display_size,
            address=spec.display_address,
            time_scale=spec.speed,
            auto_restart=True,
            on_fault=self._display_lost,
            on_restored=self._display_back,
            on_emergency_stop=self._display_stop_key,
        )
        return channel if sim is None else SimulatedDisplayParticipant(channel, sim, seed=spec.seed)

    def _display_lost(self, message: str) -> None:
        """Journal the lost display and hold the session until it is back (nothing new starts)."""
        from cpmlab.core import events as ev

        self.bus.emit(ev.FAULT, device="display", message=message)
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.hold(message, source="display")

    def _display_back(self, message: str) -> None:
        """Lift the display hold; the command line resumes at once, the console's operator resumes."""
        engine = getattr(self, "engine", None)
        if engine is None:
            return
        resume = self.spec.resume_after_display
        engine.release(f"{message}; {'resuming' if resume else 'the operator resumes'}", "display", resume=resume)

    def _display_stop_key(self, key: str, t: float) -> None:
        """An emergency-stop key pressed in the participant display: stop the session."""
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.emergency_stop(f"display key {key}", key=key)
        else:
            log.error("emergency-stop key %s in the display before the session was built: closing", key)

    def run(self) -> SessionResult:
        """Run the session, then close devices and write the BIDS files from the journal."""
        try:
            if self.spec.record:
                self.recorder = lsl_session.start_recording(
                    self.paths, self.lsl, self.spec.record_streams, self.metadata
                )
            outcome = self.engine.run(self.metadata)
        finally:
            self.close_devices()
            lsl_session.stop_recording(self.recorder)
            self.journal.close()
            if self.lsl is not None:
                self.lsl.close()
        written = write_bids(self.paths)
        return SessionResult(outcome, self.paths, written)

    def run_in_thread(self) -> tuple[threading.Thread, list[SessionResult]]:
        """Start run() in a worker thread; the list receives the result."""
        box: list[SessionResult] = []
        thread = threading.Thread(target=lambda: box.append(self.run()), name="session", daemon=True)
        thread.start()
        return thread, box

    def close_devices(self) -> None:
        """Close participant channel, devices and emulators; never raises."""
        if self.participant is not None:
            try:
                self.participant.close()
            except Exception:
                log.exception("closing the participant channel failed")
        self.devices.close()


def bath_poll_interval_s(speed: float) -> float:
    """Return the real seconds between bath readings: BATH_POLL_S of protocol time, at most 4 a second."""
    return max(BATH_POLL_S / speed, MIN_BATH_POLL_REAL_S)


def simulated_model(spec: SessionSpec) -> ParticipantModel:
    """Return the spec's participant model, or draw the participant from the population by label and profile."""
    if spec.participant_model is not None:
        return spec.participant_model
    return ParticipantModel.from_population(spec.participant, spec.simulate_profile)


def _move_without_overwriting(path: Path, folder: Path, stem: str, suffix: str) -> Path:
    """Move path into folder as stem+suffix, adding -2, -3, ... if that name is taken; return the new path."""
    for n in range(1, 1000):
        target = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(path, target)  # fails if target exists: never overwrites
        except FileExistsError:
            continue
        path.unlink()
        return target
    raise CpmlabError(f"cannot set aside {path}: too many failed starts with the same name")


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
