"""Executing each kind of protocol step."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError, SessionAborted
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.engine.adaptive import make_procedure
from cpmlab.participant.channel import ContinuousRequest, RatingRequest, RatingResult, ScreenResult
from cpmlab.protocol.model import (
    Block,
    Calibration,
    ContinuousRating,
    HeatThreshold,
    Immersion,
    Instruction,
    Marker,
    Parallel,
    Rating,
    RatingScale,
    SetVariable,
    Thermal,
    Wait,
)
from cpmlab.protocol.safety import iter_steps
from cpmlab.protocol.values import render_text, resolve

if TYPE_CHECKING:
    from cpmlab.engine.engine import SessionEngine

Path_ = tuple[str | int, ...]
BATH_SETTLE_TIMEOUT_S = 1800.0


def fmt_path(path: Path_) -> str:
    """Format a step path like steps[3].steps[0]."""
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))


class StepRunner:
    """Runs steps for one engine; one method per step type."""

    def __init__(self, engine: SessionEngine) -> None:
        self.engine = engine
        self.by_id = {s.id: s for _, s in iter_steps(engine.protocol.steps) if s.id}
        self.screen_lock = threading.RLock()  # one participant screen at a time
        self.stimuli: dict[str, dict[str, Any]] = {}
        self._immersed_lock = threading.Lock()
        self._immersed: str | None = None  # step id of the running immersion
        self._baseline_c: float | None = None
        self._setpoint_c: float | None = None

    # -- helpers -----------------------------------------------------------------------------
    @property
    def bus(self) -> ev.EventBus:
        return self.engine.bus

    def _num(self, value: Any) -> float:
        return resolve(value, self.engine.variables)

    def _step_fields(self, step: Any) -> dict[str, Any]:
        fields = {"step_id": step.id, "step_type": step.type}
        for name in ("role", "phase", "rates", "label"):
            value = getattr(step, name, None)
            if value is not None:
                fields[name] = value
        if getattr(step, "rates", None) and step.rates in self.by_id:
            ref = self.by_id[step.rates]
            fields.setdefault("role", ref.role)
            fields.setdefault("phase", ref.phase)
        return fields

    # -- orchestration ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Pre-cool the bath to the first immersion's setpoint so it is ready in time."""
        bath = self.engine.devices.cold_pressor
        first = next((s for _, s in iter_steps(self.engine.protocol.steps) if isinstance(s, Immersion)), None)
        if bath is None or first is None:
            return
        try:
            setpoint = self._num(first.setpoint_c)
        except CpmlabError:
            return  # computed later in the session
        self._set_bath(setpoint)
        bath.start_circulation()

    def run_sequence(self, steps: list[Any], base: Path_, rep: int | None = None) -> None:
        """Run steps one after another."""
        for i, step in enumerate(steps):
            self.run_step(step, (*base, i), rep)

    def run_step(self, step: Any, path: Path_, rep: int | None = None) -> None:
        """Run one step between step_start and step_end events."""
        self.engine.timer.wait_if_paused()
        fields = self._step_fields(step)
        if rep is not None:
            fields["rep"] = rep
        self.bus.emit(ev.STEP_START, path=fmt_path(path), **fields)
        status = "done"
        try:
            handler = getattr(self, f"_run_{step.type}", None)
            if handler is None:
                handler = getattr(step, "execute", None)
                if handler is None:
                    raise CpmlabError(f"no executor for step type {step.type!r}")
                handler(self, path, rep)
            else:
                status = handler(step, path, rep) or "done"
        except SessionAborted:
            status = "aborted"
            raise
        except Exception as exc:
            status = "failed"
            self.bus.emit(ev.FAULT, device="engine", step_id=step.id, message=str(exc))
            raise
        finally:
            self.bus.emit(ev.STEP_END, path=fmt_path(path), status=status, **fields)

    # -- step kinds -------------------------------------------------------------------------------
    def show_text(
        self, text: str, step_id: str | None, screen: str, *, key: str | None, timeout_s: float | None
    ) -> ScreenResult:
        """Show participant text (protocol seconds), journal its flip-stamped onset and end."""
        timeout_real = self.engine.timer.to_real(timeout_s) if timeout_s else None
        with self.screen_lock:
            result = self.engine.participant.show_text(
                render_text(text, self.engine.variables), key=key, timeout_s=timeout_real
            )
        self.bus.emit(
            ev.DISPLAY,
            t=result.onset_t,
            stage="screen_onset",
            step_id=step_id,
            screen=screen,
            end_t=result.end_t,
            ended_by=result.ended_by,
        )
        self.engine.timer.check()
        return result

    def _run_instruction(self, step: Instruction, path: Path_, rep: int | None) -> str:
        key = step.key if step.end == "key" else None
        result = self.show_text(step.text, step.id, "instruction", key=key, timeout_s=step.timeout_s)
        return "done" if result.ended_by != "timeout" or step.end == "timeout" else "timeout"

    def _run_wait(self, step: Wait, path: Path_, rep: int | None) -> None:
        if step.duration_s is not None:
            duration = self._num(step.duration_s)
        else:
            assert step.min_s is not None and step.max_s is not None
            duration = self.engine.rng.uniform(step.min_s, step.max_s)
        self.bus.emit(ev.MARKER, name="wait", step_id=step.id, duration_s=round(duration, 3))
        if step.text:
            self.show_text(step.text, step.id, "wait", key=None, timeout_s=duration)
        else:
            self.engine.timer.sleep(duration)

    def _run_thermal(self, step: Thermal, path: Path_, rep: int | None) -> None:
        stim = ThermalStimulus(
            baseline_c=self._num(step.baseline_c),
            target_c=self._num(step.target_c),
            ramp_c_per_s=self._num(step.ramp_c_per_s),
            return_c_per_s=self._num(step.return_c_per_s),
            plateau_s=0.0,
            zones=tuple(step.zones),
        )
        ramp_return_s = stim.ramp_s + stim.return_s
        plateau = self._num(step.plateau_s) if step.plateau_s is not None else self._num(step.total_s) - ramp_return_s
        stim = ThermalStimulus(**{**_fields(stim), "plateau_s": max(plateau, 0.0)})
        info = self._step_fields(step)
        if rep is not None:
            info["rep"] = rep
        self.deliver_heat(stim, info, step.id)

    def deliver_heat(
        self, stim: ThermalStimulus, info: dict[str, Any], step_id: str | None, *, wait_to_end: bool = True
    ) -> float:
        """Check, start and follow one device-timed heat stimulus; return its start time."""
        thermode = self.engine.devices.thermode
        if thermode is None:
            raise CpmlabError(f"step {step_id or info.get('step_type')} needs a thermode, and none is connected")
        stim.check(self.engine.limits)  # the driver checks again before any byte
        if self._baseline_c != stim.baseline_c:
            thermode.set_baseline(stim.baseline_c)
            self._baseline_c = stim.baseline_c
        info = {
            **info,
            "target_c": stim.target_c,
            "baseline_c": stim.baseline_c,
            "plateau_s": stim.plateau_s,
            "ramp_c_per_s": stim.ramp_c_per_s,
            "return_c_per_s": stim.return_c_per_s,
            "zones": list(stim.zones),
        }
        t0 = now()
        thermode.stimulate(stim)
        self.bus.emit(ev.STIMULUS, t=t0, stage="ramp_start", **info)
        if step_id:
            self.stimuli[step_id] = {**info, "onset_t": t0}
        if not wait_to_end:
            return t0
        timer = self.engine.timer
        # The device times the stimulus itself; these waits only mark its stages.
        timer.sleep_until(t0 + timer.to_real(stim.ramp_s))
        self.bus.emit(ev.STIMULUS, t=t0 + timer.to_real(stim.ramp_s), stage="plateau_start", **info)
        timer.sleep_until(t0 + timer.to_real(stim.device_duration_s))
        self.bus.emit(ev.STIMULUS, t=t0 + timer.to_real(stim.device_duration_s), stage="return_start", **info)
        timer.sleep_until(t0 + timer.to_real(stim.total_s))
        self.bus.emit(ev.STIMULUS, t=t0 + timer.to_real(stim.total_s), stage="end", **info)
        return t0

    def _set_bath(self, setpoint_c: float) -> None:
        bath = self.engine.devices.cold_pressor
        assert bath is not None
        self.engine.limits.check_bath_c(setpoint_c)
        if self._setpoint_c != setpoint_c:
            bath.set_setpoint(setpoint_c)
            self._setpoint_c = setpoint_c

    def _run_immersion(self, step: Immersion, path: Path_, rep: int | None) -> str:
        bath = self.engine.devices.cold_pressor
        if bath is None:
            raise CpmlabError(f"step {fmt_path(path)} needs a cold pressor, and none is connected")
        limits, timer = self.engine.limits, self.engine.timer
        limits.check_immersion_s(step.max_s)
        setpoint = self._num(step.setpoint_c)
        self._set_bath(setpoint)
        self._wait_for_bath(step, setpoint)
        info = {**self._step_fields(step), "setpoint_c": setpoint, "limb": step.limb}
        with self.screen_lock:
            onset = self.engine.participant.prompt_immersion(step.prompt_text, timer.to_real(step.duration_s))
        with self._immersed_lock:
            self._immersed = step.id or fmt_path(path)
        self.bus.emit(ev.IMMERSION, t=onset, stage="immersion_start", **info)
        hard_end = onset + timer.to_real(step.max_s)
        # The hard maximum holds whatever the step thread is doing (e.g. waiting on a rating).
        watchdog = threading.Timer(max(hard_end - now(), 0.0), self.force_withdrawal, args=("hard maximum",))
        watchdog.daemon = True
        watchdog.start()
        try:
            withdrawal_t: float | None = None
            if step.detect_pain:
                detect_t = self.engine.participant.wait_for_response(max(hard_end - now(), 0.0), what="cold_detection")
                timer.check()
                self.measure(
                    "cold_pain_detection",
                    None if detect_t is None else (detect_t - onset) * timer.speed,
                    detect_t or now(),
                    step_id=step.id,
                    censored=detect_t is None,
                    limit_s=step.max_s,
                    unit="s",
                )
            if step.until_withdrawal:
                withdrawal_t = self.engine.participant.wait_for_response(max(hard_end - now(), 0.0), what="withdrawal")
                timer.check()
                self.measure(
                    "cold_pain_tolerance",
                    step.max_s if withdrawal_t is None else (withdrawal_t - onset) * timer.speed,
                    withdrawal_t or now(),
                    step_id=step.id,
                    censored=withdrawal_t is None,
                    limit_s=step.max_s,
                    unit="s",
                )
            else:
                for at_s in step.ratings_at_s:
                    timer.sleep_until(onset + timer.to_real(at_s))
                    self._rate(
                        step.rating,
                        step.id,
                        step.id,
                        "cold",
                        info,
                        rep,
                        timeout_real=min(timer.to_real(step.rating.timeout_s), max(hard_end - now(), 0.0)),
                    )
                timer.sleep_until(min(onset + timer.to_real(step.duration_s), hard_end))
        finally:
            watchdog.cancel()
        censored = step.until_withdrawal and withdrawal_t is None
        end_t = withdrawal_t if withdrawal_t is not None else now()
        if self._end_immersion(
            step.withdraw_text,
            end_t,
            info,
            reason="withdrawal" if withdrawal_t is not None else "time",
            duration_s=(end_t - onset) * timer.speed,
            censored=censored,
        ):
            return "done"
        return "ended at hard maximum"

    def _wait_for_bath(self, step: Immersion, setpoint: float) -> None:
        bath = self.engine.devices.cold_pressor
        assert bath is not None
        deadline = now() + self.engine.timer.to_real(BATH_SETTLE_TIMEOUT_S)
        announced = False
        while True:
            bath_c = bath.read_temperature().bath_c
            if abs(bath_c - setpoint) <= step.settle_tolerance_c:
                return
            if not announced:
                self.bus.emit(ev.MARKER, name="bath_settling", step_id=step.id, bath_c=bath_c, setpoint_c=setpoint)
                announced = True
            if now() > deadline:
                raise CpmlabError(
                    f"bath did not reach {setpoint:g} +/- {step.settle_tolerance_c:g} C within "
                    f"{BATH_SETTLE_TIMEOUT_S:g} s (now {bath_c:.2f} C)"
                )
            self.engine.timer.sleep(2.0, pausable=False)

    def _end_immersion(self, text: str, t: float, info: dict[str, Any], **extra: Any) -> bool:
        with self._immersed_lock:
            if self._immersed is None:
                return False
            self._immersed = None
        self.engine.participant.prompt_withdrawal(text)
        self.bus.emit(ev.IMMERSION, t=t, stage="immersion_end", **info, **extra)
        return True

    def force_withdrawal(self, reason: str) -> None:
        """End a running immersion now (hard maximum, abort, emergency stop)."""
        with self._immersed_lock:
            step_id = self._immersed
        if step_id is not None:
            self._end_immersion("Take your hand out of the water now.", now(), {"step_id": step_id}, reason=reason)
            if reason != "hard maximum":
                self.engine.participant.cancel()

    def _rate(
        self,
        scale: Any,
        step_id: str | None,
        rates: str | None,
        about: str,
        info: dict[str, Any],
        rep: int | None,
        timeout_real: float,
    ) -> RatingResult:
        """Show one rating screen, journal its onset and answer, and return the answer."""
        request = RatingRequest(
            scale=scale.scale,
            question=render_text(scale.question, self.engine.variables),
            anchors=scale.anchors,
            timeout_s=timeout_real,
            categories=scale.categories,
            step_id=step_id,
            rates=rates,
            about=about,  # type: ignore[arg-type]
        )
        with self.screen_lock:
            result = self.engine.participant.rate(request)
        fields = {k: v for k, v in info.items() if k in ("role", "phase", "step_id", "rates", "rep")}
        fields.update(step_id=step_id, rates=rates, scale=scale.scale, about=about)
        if rep is not None:
            fields["rep"] = rep
        stim = self.stimuli.get(rates or "")
        if stim and about == "heat":
            fields["stimulus_c"] = stim["target_c"]
        self.bus.emit(ev.RATING_ONSET, t=result.onset_t, **fields)
        t = result.response_t if result.response_t is not None else result.onset_t + timeout_real
        self.bus.emit(
            ev.RATING,
            t=t,
            value=result.value,
            onset_t=result.onset_t,
            rt_s=result.rt_s,
            input=result.input_device,
            category=result.category,
            **fields,
        )
        self.engine.timer.check()
        return result

    def _run_rating(self, step: Rating, path: Path_, rep: int | None) -> None:
        ref = self.by_id.get(step.rates or "")
        about = "heat" if isinstance(ref, Thermal) else "cold" if isinstance(ref, Immersion) else "other"
        self._rate(
            step.as_scale(),
            step.id,
            step.rates,
            about,
            self._step_fields(step),
            rep,
            self.engine.timer.to_real(step.timeout_s),
        )

    def measure(self, name: str, value: float | None, t: float | None = None, **details: Any) -> None:
        """Journal a procedure's measurement (calibration, threshold, PDT/PTT)."""
        self.bus.emit(ev.MEASURE, t=t, measure=name, value=value, **details)

    def _run_calibration(self, step: Calibration, path: Path_, rep: int | None) -> None:
        limits, timer = self.engine.limits, self.engine.timer
        scale = RatingScale(
            scale=step.scale, question=step.question, anchors=step.anchors, timeout_s=step.rating_timeout_s
        )
        procedure = make_procedure(step, limits.max_thermode_c, scale.range[1], self.engine.rng)
        info = {"step_id": step.id, "step_type": step.type, "role": "calibration", "phase": "none"}
        trial = 0
        while (temp_c := procedure.next_temperature()) is not None:
            trial += 1
            stim = ThermalStimulus(
                step.baseline_c, temp_c, step.ramp_c_per_s, step.return_c_per_s, step.plateau_s, tuple(step.zones)
            )
            self.deliver_heat(stim, {**info, "trial": trial}, step.id)
            result = self._rate(scale, step.id, step.id, "heat", info, rep, timer.to_real(step.rating_timeout_s))
            self.measure(
                "calibration_trial",
                temp_c,
                result.response_t or now(),
                step_id=step.id,
                method=step.method,
                trial=trial,
                rating=result.value,
                unit="degC",
            )
            procedure.record(temp_c, result.value)
            if (estimate := procedure.progress()) is not None:  # running estimate (bayesian)
                value_c = estimate.pop("estimate_c")
                self.measure("calibration_estimate", value_c, step_id=step.id, trial=trial, unit="degC", **estimate)
            if procedure.next_temperature() is not None:
                timer.sleep(step.isi_s)
        outcome = procedure.result()
        value, fallback = outcome.value_c, False
        if value is None:
            if step.fallback_c is None:
                self.measure("calibration_result", None, step_id=step.id, variable=step.variable, **outcome.details())
                raise CpmlabError(
                    f"calibration {step.id or step.variable} found no temperature ({outcome.stopped_by}) and has "
                    f"no fallback_c; later steps cannot use ${{{step.variable}}}"
                )
            value, fallback = step.fallback_c, True
        value = round(min(value, limits.max_thermode_c), 1)
        self.measure(
            "calibration_result",
            value,
            step_id=step.id,
            variable=step.variable,
            unit="degC",
            target_rating=step.target_rating,
            fallback=fallback,
            **outcome.details(),
        )
        self.set_variable(step.variable, value, source=step.id or fmt_path(path), method=step.method, fallback=fallback)

    def _run_heat_threshold(self, step: HeatThreshold, path: Path_, rep: int | None) -> None:
        thermode = self.engine.devices.thermode
        if thermode is None:
            raise CpmlabError(f"step {fmt_path(path)} needs a thermode, and none is connected")
        timer = self.engine.timer
        ceiling_c = min(step.ceiling_c, self.engine.limits.max_thermode_c)
        info = {"step_id": step.id, "step_type": step.type, "role": "threshold", "phase": "none"}
        temps: list[tuple[float, bool]] = []
        self.show_text(step.instruction, step.id, "instruction", key=None, timeout_s=2.0)
        for trial in range(1, step.trials + 1):
            # a ramp to the cut-off with no plateau: the device returns by itself if nobody responds
            stim = ThermalStimulus(
                step.baseline_c, ceiling_c, step.ramp_c_per_s, step.return_c_per_s, 0.0, tuple(step.zones)
            )
            t0 = self.deliver_heat(stim, {**info, "trial": trial}, step.id, wait_to_end=False)
            responded_t = self._wait_for_threshold_response(step, t0 + timer.to_real(stim.ramp_s))
            if responded_t is not None:
                thermode.abort()
                reading = self.engine.thermode_at(responded_t)
                temp_c = reading.max_c if reading is not None else thermode.read_temperatures().max_c
                censored = False
            else:
                temp_c, censored = ceiling_c, True
            temp_c = round(temp_c, 2)
            self.measure(
                "threshold_trial",
                temp_c,
                responded_t or now(),
                step_id=step.id,
                trial=trial,
                censored=censored,
                discarded=step.discard_first and trial == 1 and step.trials > 1,
                unit="degC",
            )
            temps.append((temp_c, censored))
            return_t = responded_t if responded_t is not None else t0 + timer.to_real(stim.ramp_s)
            back_s = max(temp_c - step.baseline_c, 0.0) / step.return_c_per_s
            stage = {**info, "trial": trial, "target_c": ceiling_c}
            self.bus.emit(ev.STIMULUS, t=return_t, stage="return_start", **stage)
            timer.sleep_until(return_t + timer.to_real(back_s))
            self.bus.emit(ev.STIMULUS, t=return_t + timer.to_real(back_s), stage="end", **stage)
            if trial < step.trials:
                timer.sleep(step.isi_s)
        used = temps[1:] if step.discard_first and len(temps) > 1 else temps
        valid = [t for t, censored in used if not censored]
        value = round(sum(valid) / len(valid), 2) if valid else ceiling_c
        self.measure(
            "threshold_result",
            value,
            step_id=step.id,
            n_valid=len(valid),
            n_trials=len(temps),
            censored=not valid,
            unit="degC",
        )
        self.set_variable(step.variable, value, source=step.id or fmt_path(path), method="method of limits")

    def _wait_for_threshold_response(self, step: HeatThreshold, ramp_end_t: float) -> float | None:
        """Wait for the key (display) or the thermode's response button until the ramp ends."""
        thermode = self.engine.devices.thermode
        participant = self.engine.participant
        pressed: list[float] = []
        done = threading.Event()

        def poll_button() -> None:
            while not done.wait(0.01):
                try:
                    if thermode is not None and thermode.response_button_pressed():
                        pressed.append(now())
                        participant.cancel()
                        return
                except CpmlabError:
                    return

        poller = None
        if step.response in ("button", "either"):
            poller = threading.Thread(target=poll_button, daemon=True)
            poller.start()
        try:
            if step.response in ("key", "either"):
                key_t = participant.wait_for_response(max(ramp_end_t - now(), 0.0), what="heat_threshold")
            else:
                key_t = None
                self.engine.timer.sleep_until(ramp_end_t)
        finally:
            done.set()
            if poller is not None:
                poller.join(1.0)
        self.engine.timer.check()
        times = [t for t in (key_t, *pressed) if t is not None]
        return min(times) if times else None

    def _run_continuous_rating(self, step: ContinuousRating, path: Path_, rep: int | None) -> None:
        duration = self._num(step.duration_s)
        request = ContinuousRequest(
            scale=step.scale,
            question=step.question,
            anchors=step.anchors,
            duration_s=self.engine.timer.to_real(duration),
            rate_hz=step.rate_hz,
            step_id=step.id,
            rates=step.rates,
        )
        fields = {"step_id": step.id, "rates": step.rates, "scale": step.scale}

        def on_sample(t: float, value: float | None) -> None:
            self.bus.emit(ev.CONTINUOUS_SAMPLE, t=t, value=value, **fields)

        with self.screen_lock:
            result = self.engine.participant.rate_continuously(request, on_sample)
        end_t = result.samples[-1][0] if result.samples else result.onset_t
        self.bus.emit(
            ev.DISPLAY,
            t=result.onset_t,
            stage="screen_onset",
            step_id=step.id,
            screen="continuous",
            end_t=end_t,
            ended_by="time",
        )
        self.engine.timer.check()

    def _run_marker(self, step: Marker, path: Path_, rep: int | None) -> None:
        self.bus.emit(ev.MARKER, name=step.name, step_id=step.id, **step.fields)

    def _run_set(self, step: SetVariable, path: Path_, rep: int | None) -> None:
        self.set_variable(step.variable, self._num(step.value), source=step.id or fmt_path(path))

    def set_variable(self, name: str, value: Any, source: str, **details: Any) -> None:
        """Store a session variable for later steps and journal it."""
        self.engine.variables[name] = value
        self.bus.emit(ev.VARIABLE, name=name, value=value, source=source, **details)

    def _run_parallel(self, step: Parallel, path: Path_, rep: int | None) -> None:
        errors: list[BaseException] = []

        def branch(child: Any, i: int) -> None:
            try:
                self.run_step(child, (*path, "steps", i), rep)
            except BaseException as exc:
                errors.append(exc)
                if not isinstance(exc, SessionAborted):
                    self.engine.timer.abort(f"parallel branch failed: {exc}")

        threads = [threading.Thread(target=branch, args=(c, i), daemon=True) for i, c in enumerate(step.steps)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        real = [e for e in errors if not isinstance(e, SessionAborted)]
        if real:
            raise real[0]
        if errors:
            raise errors[0]

    def _run_block(self, step: Block, path: Path_, rep: int | None) -> None:
        for repetition in range(1, step.repeat + 1):
            order = list(range(len(step.steps)))
            if step.randomize:
                self.engine.rng.shuffle(order)
            self.bus.emit(ev.MARKER, name="block_repetition", step_id=step.id, rep=repetition, order=order)
            for i in order:
                self.run_step(step.steps[i], (*path, "steps", i), repetition if step.repeat > 1 else rep)


def _fields(stim: ThermalStimulus) -> dict[str, Any]:
    return {name: getattr(stim, name) for name in ThermalStimulus.__slots__}  # type: ignore[attr-defined]
