"""Heat pain threshold by the method of limits: ramps until the participant responds."""

from __future__ import annotations

import threading

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps.common import measure, set_variable
from cpmlab.engine.steps.heat import deliver_heat
from cpmlab.engine.steps.screens import show_text
from cpmlab.protocol.model import HeatThreshold
from cpmlab.protocol.walk import StepPath, fmt_path


def run_heat_threshold(ctx: SessionContext, step: HeatThreshold, path: StepPath, rep: int | None) -> None:
    """Run the ramps, measure each response temperature and store the threshold as a variable."""
    thermode = ctx.devices.thermode
    if thermode is None:
        raise CpmlabError(f"step {fmt_path(path)} needs a thermode, and none is connected")
    timer = ctx.timer
    ceiling_c = min(step.ceiling_c, ctx.limits.max_thermode_c)
    info = {"step_id": step.id, "step_type": step.type, "role": "threshold", "phase": "none"}
    temps: list[tuple[float, bool]] = []
    show_text(ctx, step.instruction, step.id, "instruction", key=None, timeout_s=2.0)
    for trial in range(1, step.trials + 1):
        # a ramp to the cut-off with no plateau: the device returns by itself if nobody responds
        stim = ThermalStimulus(
            step.baseline_c, ceiling_c, step.ramp_c_per_s, step.return_c_per_s, 0.0, tuple(step.zones)
        )
        t0 = deliver_heat(ctx, stim, {**info, "trial": trial}, step.id, wait_to_end=False)
        responded_t = wait_for_threshold_response(ctx, step, t0 + timer.to_real(stim.ramp_s))
        if responded_t is not None:
            thermode.abort()
            reading = ctx.thermode_at(responded_t)
            temp_c = reading.max_c if reading is not None else thermode.read_temperatures().max_c
            censored = False
        else:
            temp_c, censored = ceiling_c, True
        temp_c = round(temp_c, 2)
        measure(
            ctx,
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
        ctx.bus.emit(ev.STIMULUS, t=return_t, stage="return_start", **stage)
        timer.sleep_until(return_t + timer.to_real(back_s))
        ctx.bus.emit(ev.STIMULUS, t=return_t + timer.to_real(back_s), stage="end", **stage)
        if trial < step.trials:
            timer.sleep(step.isi_s)
    used = temps[1:] if step.discard_first and len(temps) > 1 else temps
    valid = [t for t, censored in used if not censored]
    value = round(sum(valid) / len(valid), 2) if valid else ceiling_c
    measure(
        ctx,
        "threshold_result",
        value,
        step_id=step.id,
        n_valid=len(valid),
        n_trials=len(temps),
        censored=not valid,
        unit="degC",
    )
    set_variable(ctx, step.variable, value, source=step.id or fmt_path(path), method="method of limits")


def wait_for_threshold_response(ctx: SessionContext, step: HeatThreshold, ramp_end_t: float) -> float | None:
    """Wait for the key (display) or the thermode's response button until the ramp ends."""
    thermode = ctx.devices.thermode
    participant = ctx.participant
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
            ctx.timer.sleep_until(ramp_end_t)
    finally:
        done.set()
        if poller is not None:
            poller.join(1.0)
    ctx.timer.check()
    times = [t for t in (key_t, *pressed) if t is not None]
    return min(times) if times else None
