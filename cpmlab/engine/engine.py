"""SessionEngine: runs a protocol, owns pause/resume/abort/emergency stop, publishes every event."""

from __future__ import annotations

import contextlib
import enum
import logging
import random
import threading
from collections.abc import Mapping
from typing import Any

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError, SessionAborted, StimulusRefusedError
from cpmlab.core.events import EventBus
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathReading, ColdPressor, ThermodeReading
from cpmlab.engine.context import EngineDevices, SessionContext
from cpmlab.engine.cooldown import wait_for_neutral
from cpmlab.engine.runner import StepRunner
from cpmlab.engine.steps.cold import force_withdrawal, prepare_bath
from cpmlab.engine.steps.table import STEP_HANDLERS, StepHandler
from cpmlab.engine.timer import SessionTimer
from cpmlab.engine.watchdog import Breach, TemperatureWatchdog
from cpmlab.participant.channel import ParticipantChannel
from cpmlab.protocol.model import Protocol, StepBase
from cpmlab.protocol.walk import ROOT_PATH

log = logging.getLogger(__name__)


class SessionOutcome(enum.StrEnum):
    """How a session ended."""

    COMPLETED = "completed"
    ABORTED = "aborted"
    EMERGENCY_STOPPED = "emergency_stopped"
    FAULT = "fault"  # a device fault or the temperature watchdog ended it
    FAILED = "failed"


class SessionEngine:
    """Run one protocol in real time (or faster, for dry runs) and publish every event."""

    def __init__(
        self,
        protocol: Protocol,
        devices: EngineDevices,
        participant: ParticipantChannel,
        bus: EventBus,
        limits: SafetyLimits,
        *,
        speed: float = 1.0,
        variables: dict[str, Any] | None = None,
        seed: int = 0,
        bath_poll_interval_s: float = 0.5,
        step_handlers: Mapping[type[StepBase], StepHandler] = STEP_HANDLERS,
    ) -> None:
        self.protocol = protocol
        self.devices = devices
        self.participant = participant
        self.bus = bus
        self.limits = limits
        self.timer = SessionTimer(speed)
        self.seed = seed
        self.rng = random.Random(seed)
        self.variables: dict[str, Any] = {**protocol.variables, **(variables or {}), "speed": speed}
        self.outcome: SessionOutcome | None = None
        self.state = "idle"  # idle, running, paused, finished
        self.bath_poll_interval_s = bath_poll_interval_s
        self._estop = threading.Event()
        self._stopping = threading.Event()  # an abort, emergency stop or fault is ending the session
        self._faulted = threading.Event()
        self._stop_polling = threading.Event()
        self._streaming = False  # device readings are journaled only while the session runs
        self._lock = threading.Lock()
        self.context = SessionContext(protocol, devices, participant, bus, limits, self.timer, self.rng, self.variables)
        self.steps = StepRunner(self.context, step_handlers)  # refuses a table without every step kind
        self.watchdog = TemperatureWatchdog(limits, self._on_breach, lambda: self.context.immersion.running is not None)

    @property
    def speed(self) -> float:
        """Time scale: protocol seconds per real second."""
        return self.timer.speed

    # -- controls (any thread) -------------------------------------------------------------
    def pause(self, source: str = "operator") -> None:
        """Pause at the next pausable point (device-timed stimuli always finish)."""
        if self.state != "running":
            return
        self.bus.emit(ev.CONTROL, action="pause", source=source)
        self.state = "paused"
        self.timer.pause()

    def resume(self, source: str = "operator") -> None:
        """Resume a paused session (not while it is held, e.g. with no participant display)."""
        if self.state != "paused":
            return
        if self.timer.holds:
            held = ", ".join(sorted(self.timer.holds))
            self.bus.emit(ev.NOTE, text=f"resume refused: the session is held ({held} not back)", source=source)
            return
        self.bus.emit(ev.CONTROL, action="resume", source=source)
        self.state = "running"
        self.timer.resume()

    def hold(self, reason: str, source: str = "display") -> None:
        """Hold the session at once until release(source): no new step, stimulus or immersion starts.

        A running device-timed stimulus finishes as the device times it. The session also stays
        paused after the release until resume() (the operator, or resume_after_release).
        """
        with self._lock:
            if self.state not in ("running", "paused") or self.timer.aborted or source in self.timer.holds:
                return
            self.timer.hold(source)
            self.timer.pause()
            self.state = "paused"
        self.bus.emit(ev.CONTROL, action="hold", source=source, reason=reason)

    def release(self, reason: str, source: str = "display", *, resume: bool = False) -> None:
        """Lift the hold of source (journaled); resume at once if asked and nothing else holds."""
        if self.state != "paused" or not self.timer.release(source):
            return
        self.bus.emit(ev.CONTROL, action="release", source=source, reason=reason)
        if resume:
            self.resume(source=f"{source} back")

    def abort(self, reason: str = "operator abort", source: str = "operator") -> None:
        """End the session: abort every device and stop the participant screens."""
        if self.state == "finished" or self.timer.aborted:
            return
        self._stopping.set()
        self.bus.emit(ev.CONTROL, action="abort", source=source, reason=reason)
        threads = self._abort_devices(wait=False)  # a device slow to answer must not delay the end
        self.participant.cancel()
        self.timer.abort(reason)
        for thread in threads:
            thread.join(timeout=2.0)

    def emergency_stop(self, source: str = "operator", key: str | None = None) -> None:
        """Abort every device at once, in parallel, then end the session; never raises.

        key: the key that asked for it (e.g. F12 in the participant display), journaled with the source.
        """
        t = now()
        self._estop.set()
        self._stopping.set()
        threads = self._abort_devices(wait=False)
        try:
            fields = {"key": key} if key is not None else {}
            self.bus.emit(ev.CONTROL, t=t, action="emergency_stop", source=source, **fields)
        except Exception:
            log.exception("could not journal the emergency stop")
        self.participant.cancel()
        force_withdrawal(self.context, "emergency stop")
        self.timer.abort("emergency stop")
        for thread in threads:
            thread.join(timeout=2.0)

    def note(self, text: str, source: str = "operator") -> None:
        """Add a timestamped operator note to the journal and streams."""
        self.bus.emit(ev.NOTE, text=text, source=source)

    def _abort_devices(self, wait: bool = True, inline: str | None = None) -> list[threading.Thread]:
        """Abort every device in parallel; the device named by inline is aborted on the calling thread."""

        def abort_one(role: str, device: Any) -> None:
            try:
                device.abort()
            except Exception as exc:  # the other devices must still be aborted
                log.exception("abort of %s failed", role)
                with contextlib.suppress(Exception):
                    self.bus.emit(ev.FAULT, device=role, message=f"abort failed: {exc}")

        threads = [
            threading.Thread(target=abort_one, args=(role, dev), name=f"abort-{role}", daemon=True)
            for role, dev in self.devices.items()
            if role != inline
        ]
        for thread in threads:
            thread.start()
        for role, dev in self.devices.items():
            if role == inline:
                abort_one(role, dev)  # no thread start between the reading and its device's abort
        if wait:
            for thread in threads:
                thread.join(timeout=2.0)
        return threads

    # -- device streams ------------------------------------------------------------------------
    def _on_thermode_reading(self, reading: ThermodeReading) -> None:
        if self._streaming:
            self.watchdog.check_thermode(reading)  # first: an abort must not wait for the journal
        self.context.readings.append(reading)
        if not self._streaming:
            return
        self.bus.emit(
            ev.READING,
            t=reading.t,
            device="thermode",
            neutral_c=round(reading.neutral_c, 2),
            zones_c=[round(z, 2) for z in reading.zones_c],
        )

    def _on_bath_reading(self, reading: BathReading) -> None:
        if not self._streaming:
            return
        self.watchdog.check_bath(reading)
        self.bus.emit(ev.READING, t=reading.t, device="cold_pressor", bath_c=round(reading.bath_c, 3))

    def _on_breach(self, breach: Breach) -> None:
        """Abort every device at once (from the reading's thread), then journal and end the session."""
        self._faulted.set()
        self._stopping.set()
        self._abort_devices(wait=False, inline=breach.device)
        fields = breach.fields()
        try:
            self.bus.emit(ev.FAULT, **fields)
        finally:
            if self.state in ("running", "paused"):
                threading.Thread(target=self._end_for_fault, args=(fields["message"],), daemon=True).start()

    def _end_for_fault(self, reason: str) -> None:
        force_withdrawal(self.context, "fault")  # the hand comes out first
        if self.state == "finished" or self.timer.aborted:
            return
        self._stopping.set()
        self.bus.emit(ev.CONTROL, action="abort", source="watchdog", reason=reason)
        self._abort_devices()  # once more, waiting this time: a lost first abort is retried
        self.participant.cancel()
        self.timer.abort(reason)

    def _stopped_outcome(self) -> SessionOutcome:
        """The outcome of a session that was stopped: emergency stop, fault or abort."""
        if self._estop.is_set():
            return SessionOutcome.EMERGENCY_STOPPED
        return SessionOutcome.FAULT if self._faulted.is_set() else SessionOutcome.ABORTED

    def _end_for_refused_stimulus(self, exc: StimulusRefusedError) -> None:
        """A stimulus the thermode did not accept: every device to safe state, one fault, outcome fault."""
        self._faulted.set()
        threads = self._abort_devices(wait=False)
        fields = {"step_id": exc.step_id} if exc.step_id else {}
        self.bus.emit(ev.FAULT, device="thermode", message=str(exc), cause="stimulus_refused", **fields)
        self.bus.emit(ev.CONTROL, action="abort", source="device", reason=f"thermode refused a stimulus: {exc}")
        self.participant.cancel()
        self.timer.abort("stimulus refused")
        for thread in threads:
            thread.join(timeout=2.0)
        self.outcome = SessionOutcome.FAULT

    def _on_fault(self, role: str, message: str) -> None:
        if not self._streaming:
            return
        self._faulted.set()
        self._stopping.set()
        self.bus.emit(ev.FAULT, device=role, message=message)
        if self.state in ("running", "paused"):
            threading.Thread(target=self.abort, args=(f"{role} fault: {message}", "device"), daemon=True).start()

    def _poll_bath(self, bath: ColdPressor) -> None:
        while not self._stop_polling.wait(self.bath_poll_interval_s):
            try:
                self._on_bath_reading(bath.read_temperature())
            except CpmlabError as exc:
                self._on_fault("cold_pressor", str(exc))
                return
            except Exception as exc:
                self._on_fault("cold_pressor", f"{type(exc).__name__}: {exc}")
                return

    def _attach_devices(self) -> list[threading.Thread]:
        threads: list[threading.Thread] = []
        if self.devices.thermode is not None:
            self.devices.thermode.add_reading_listener(self._on_thermode_reading)
            self.devices.thermode.add_fault_listener(lambda m: self._on_fault("thermode", m))
        if self.devices.cold_pressor is not None:
            bath = self.devices.cold_pressor
            bath.add_fault_listener(lambda m: self._on_fault("cold_pressor", m))
            poller = threading.Thread(target=self._poll_bath, args=(bath,), name="bath-poll", daemon=True)
            poller.start()
            threads.append(poller)
        return threads

    def thermode_at(self, t: float) -> ThermodeReading | None:
        """Return the last thermode reading taken at or before shared-clock time t."""
        return self.context.thermode_at(t)

    # -- run ----------------------------------------------------------------------------------
    def run(self, metadata: dict[str, Any] | None = None) -> SessionOutcome:
        """Run every step; return how the session ended (devices are left safe either way)."""
        self.state = "running"
        self.bus.emit(
            ev.SESSION_START,
            protocol=self.protocol.name,
            task=self.protocol.task,
            speed=self.speed,
            condition=self.protocol.condition,
            seed=self.seed,
            limits=self.limits.as_dict(),
            **(metadata or {}),
        )
        self._streaming = True
        pollers = self._attach_devices()
        try:
            prepare_bath(self.context)
            self.steps.run_sequence(self.protocol.steps, ROOT_PATH)
            self.outcome = SessionOutcome.COMPLETED
        except SessionAborted as exc:
            self.outcome = self._stopped_outcome()
            log.info("session ended early: %s", exc)
        except StimulusRefusedError as exc:
            if self._stopping.is_set():  # the stop's own abort ended the stimulus
                self.outcome = self._stopped_outcome()
                log.info("stimulus ended by the stop: %s", exc)
            else:
                self._end_for_refused_stimulus(exc)
        except Exception as exc:
            log.exception("session failed")
            self.bus.emit(ev.FAULT, device="engine", message=f"{type(exc).__name__}: {exc}")
            self.outcome = SessionOutcome.FAULT if self._faulted.is_set() else SessionOutcome.FAILED
            self._abort_devices()
        finally:
            force_withdrawal(self.context, "session end")
            if self.outcome != SessionOutcome.COMPLETED:
                wait_for_neutral(self.context)  # readings stay live (and journaled) meanwhile
            self._stop_polling.set()
            self._streaming = False
            for poller in pollers:
                poller.join(timeout=2.0)
            self.state = "finished"
        self.bus.emit(ev.SESSION_END, outcome=str(self.outcome), variables=_jsonable(self.variables))
        return self.outcome


def _jsonable(variables: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in variables.items() if isinstance(v, str | int | float | bool) or v is None}
