"""Calibration: run an adaptive procedure (cpmlab.engine.adaptive) with real stimuli and ratings."""

from __future__ import annotations

from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.engine.calibration_methods import make_procedure
from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps.common import measure, set_variable
from cpmlab.engine.steps.heat import deliver_heat
from cpmlab.engine.steps.screens import rate
from cpmlab.protocol.model import Calibration, RatingScale
from cpmlab.protocol.walk import StepPath, fmt_path


def run_calibration(ctx: SessionContext, step: Calibration, path: StepPath, rep: int | None) -> None:
    """Deliver and rate the procedure's temperatures; store the found temperature as a variable."""
    limits, timer = ctx.limits, ctx.timer
    scale = RatingScale(scale=step.scale, question=step.question, anchors=step.anchors, timeout_s=step.rating_timeout_s)
    procedure = make_procedure(step, limits.max_thermode_c, scale.range[1], ctx.rng)
    info = {"step_id": step.id, "step_type": step.type, "role": "calibration", "phase": "none"}
    trial = 0
    while (temp_c := procedure.next_temperature()) is not None:
        trial += 1
        stim = ThermalStimulus(
            step.baseline_c, temp_c, step.ramp_c_per_s, step.return_c_per_s, step.plateau_s, tuple(step.zones)
        )
        deliver_heat(ctx, stim, {**info, "trial": trial}, step.id)
        result = rate(ctx, scale, step.id, step.id, "heat", info, rep, timer.to_real(step.rating_timeout_s))
        measure(
            ctx,
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
            measure(ctx, "calibration_estimate", value_c, step_id=step.id, trial=trial, unit="degC", **estimate)
        if procedure.next_temperature() is not None:
            timer.sleep(step.isi_s)
    outcome = procedure.result()
    value, fallback = outcome.value_c, False
    if value is None:
        if step.fallback_c is None:
            measure(ctx, "calibration_result", None, step_id=step.id, variable=step.variable, **outcome.details())
            raise CpmlabError(
                f"calibration {step.id or step.variable} found no temperature ({outcome.stopped_by}) and has "
                f"no fallback_c; later steps cannot use ${{{step.variable}}}"
            )
        value, fallback = step.fallback_c, True
    value = round(min(value, limits.max_thermode_c), 1)
    measure(
        ctx,
        "calibration_result",
        value,
        step_id=step.id,
        variable=step.variable,
        unit="degC",
        target_rating=step.target_rating,
        fallback=fallback,
        **outcome.details(),
    )
    set_variable(ctx, step.variable, value, source=step.id or fmt_path(path), method=step.method, fallback=fallback)
