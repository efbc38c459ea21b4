"""Heat: delivering one device-timed thermode stimulus, and the thermal step."""

from __future__ import annotations

from typing import Any

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError, StimulusRefusedError
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps.common import step_fields
from cpmlab.protocol.model import Thermal
from cpmlab.protocol.walk import StepPath


def run_thermal(ctx: SessionContext, step: Thermal, path: StepPath, rep: int | None) -> None:
    """Deliver the step's stimulus (plateau from plateau_s, or from total_s minus ramp and return)."""
    stim = ThermalStimulus(
        baseline_c=ctx.num(step.baseline_c),
        target_c=ctx.num(step.target_c),
        ramp_c_per_s=ctx.num(step.ramp_c_per_s),
        return_c_per_s=ctx.num(step.return_c_per_s),
        plateau_s=0.0,
        zones=tuple(step.zones),
    )
    ramp_return_s = stim.ramp_s + stim.return_s
    if step.total_s is not None:  # a total_s computed during the session: the load-time check, now
        step.check_total_s(ctx.limits, ctx.variables, ctx.num(step.total_s))
    plateau = ctx.num(step.plateau_s) if step.plateau_s is not None else ctx.num(step.total_s) - ramp_return_s
    stim = ThermalStimulus(**{**_fields(stim), "plateau_s": max(plateau, 0.0)})
    info = step_fields(ctx, step)
    if rep is not None:
        info["rep"] = rep
    deliver_heat(ctx, stim, info, step.id)


def deliver_heat(
    ctx: SessionContext,
    stim: ThermalStimulus,
    info: dict[str, Any],
    step_id: str | None,
    *,
    wait_to_end: bool = True,
) -> float:
    """Check, start and follow one device-timed heat stimulus; return its start time."""
    thermode = ctx.devices.thermode
    if thermode is None:
        raise CpmlabError(f"step {step_id or info.get('step_type')} needs a thermode, and none is connected")
    stim.check(ctx.limits)  # the driver checks again before any byte
    if ctx.baseline_c != stim.baseline_c:
        thermode.set_baseline(stim.baseline_c)
        ctx.baseline_c = stim.baseline_c
    info = {
        **info,
        "target_c": stim.target_c,
        "baseline_c": stim.baseline_c,
        "plateau_s": stim.plateau_s,
        "ramp_c_per_s": stim.ramp_c_per_s,
        "return_c_per_s": stim.return_c_per_s,
        "zones": list(stim.zones),
    }
    called_t = now()
    try:
        thermode.stimulate(stim)
    except StimulusRefusedError as exc:  # no stimulus event: the trial was never delivered
        exc.step_id = step_id
        raise
    t0 = _onset_t(thermode, called_t)
    ctx.bus.emit(ev.STIMULUS, t=t0, stage="ramp_start", **info)
    if step_id:
        ctx.stimuli[step_id] = {**info, "onset_t": t0}
    if not wait_to_end:
        return t0
    timer = ctx.timer
    # The device times the stimulus itself; these waits only mark its stages.
    timer.sleep_until(t0 + timer.to_real(stim.ramp_s))
    ctx.bus.emit(ev.STIMULUS, t=t0 + timer.to_real(stim.ramp_s), stage="plateau_start", **info)
    timer.sleep_until(t0 + timer.to_real(stim.device_duration_s))
    ctx.bus.emit(ev.STIMULUS, t=t0 + timer.to_real(stim.device_duration_s), stage="return_start", **info)
    timer.sleep_until(t0 + timer.to_real(stim.total_s))
    ctx.bus.emit(ev.STIMULUS, t=t0 + timer.to_real(stim.total_s), stage="end", **info)
    return t0


def _onset_t(thermode: object, called_t: float) -> float:
    """The time the device was told to start: the driver's stimulus_onset_t if set by this call."""
    onset_t = getattr(thermode, "stimulus_onset_t", None)
    return onset_t if isinstance(onset_t, float) and onset_t >= called_t else called_t


def _fields(stim: ThermalStimulus) -> dict[str, Any]:
    return {name: getattr(stim, name) for name in ThermalStimulus.__slots__}  # type: ignore[attr-defined]
