"""Participant screens: instruction, wait, rating and continuous rating steps."""

from __future__ import annotations

import math
from typing import Any

from cpmlab.core import events as ev
from cpmlab.core.errors import CpmlabError
from cpmlab.core.scales import SCALES
from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps.common import step_fields
from cpmlab.participant.channel import ContinuousRequest, RatingRequest, RatingResult, ScreenResult
from cpmlab.protocol.model import ContinuousRating, Instruction, Rating, Wait
from cpmlab.protocol.model.screens import check_continuous_window
from cpmlab.protocol.values import render_text
from cpmlab.protocol.walk import StepPath


def show_text(
    ctx: SessionContext, text: str, step_id: str | None, screen: str, *, key: str | None, timeout_s: float | None
) -> ScreenResult:
    """Show participant text (protocol seconds), journal its flip-stamped onset and end."""
    timeout_real = ctx.timer.to_real(timeout_s) if timeout_s else None
    with ctx.screen_lock:
        result = ctx.participant.show_text(render_text(text, ctx.variables), key=key, timeout_s=timeout_real)
    ctx.bus.emit(
        ev.DISPLAY,
        t=result.onset_t,
        stage="screen_onset",
        step_id=step_id,
        screen=screen,
        end_t=result.end_t,
        ended_by=result.ended_by,
    )
    ctx.timer.check()
    return result


def run_instruction(ctx: SessionContext, step: Instruction, path: StepPath, rep: int | None) -> str:
    """Show an instruction screen until its key or timeout."""
    key = step.key if step.end == "key" else None
    result = show_text(ctx, step.text, step.id, "instruction", key=key, timeout_s=step.timeout_s)
    return "done" if result.ended_by != "timeout" or step.end == "timeout" else "timeout"


def run_wait(ctx: SessionContext, step: Wait, path: StepPath, rep: int | None) -> None:
    """Wait a fixed or random time, showing the step's text if it has one."""
    if step.duration_s is not None:
        duration = ctx.num(step.duration_s)
    else:
        assert step.min_s is not None and step.max_s is not None
        duration = ctx.rng.uniform(step.min_s, step.max_s)
    ctx.bus.emit(ev.MARKER, name="wait", step_id=step.id, duration_s=round(duration, 3))
    if step.text:
        show_text(ctx, step.text, step.id, "wait", key=None, timeout_s=duration)
    else:
        ctx.timer.sleep(duration)


def rate(
    ctx: SessionContext,
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
        question=render_text(scale.question, ctx.variables),
        anchors=scale.anchors,
        timeout_s=timeout_real,
        categories=scale.categories,
        step_id=step_id,
        rates=rates,
        about=about,  # type: ignore[arg-type]
    )
    with ctx.screen_lock:
        result = ctx.participant.rate(request)
    _refuse_off_scale(ctx, result, scale.scale, len(scale.categories), step_id)
    fields = {k: v for k, v in info.items() if k in ("role", "phase", "step_id", "rates", "rep")}
    fields.update(step_id=step_id, rates=rates, scale=scale.scale, about=about)
    if rep is not None:
        fields["rep"] = rep
    stim = ctx.stimuli.get(rates or "")
    if stim and about == "heat":
        fields["stimulus_c"] = stim["target_c"]
    ctx.bus.emit(ev.RATING_ONSET, t=result.onset_t, **fields)
    t = result.response_t if result.response_t is not None else result.onset_t + timeout_real
    ctx.bus.emit(
        ev.RATING,
        t=t,
        value=result.value,
        onset_t=result.onset_t,
        rt_s=result.rt_s,
        input=result.input_device,
        category=result.category,
        **fields,
    )
    ctx.timer.check()
    return result


def run_rating(ctx: SessionContext, step: Rating, path: StepPath, rep: int | None) -> None:
    """Ask one rating of the stimulus step it names (heat, cold or other)."""
    ref = ctx.by_id.get(step.rates or "")
    about = (ref.stimulus if ref is not None else None) or "other"
    rate(
        ctx,
        step.as_scale(),
        step.id,
        step.rates,
        about,
        step_fields(ctx, step),
        rep,
        ctx.timer.to_real(step.timeout_s),
    )


def run_continuous_rating(ctx: SessionContext, step: ContinuousRating, path: StepPath, rep: int | None) -> None:
    """Sample a continuous rating slider over the step's window, journaling every sample."""
    duration = ctx.num(step.duration_s)
    check_continuous_window(duration)  # at load too; again here for a window computed during the session
    request = ContinuousRequest(
        scale=step.scale,
        question=step.question,
        anchors=step.anchors,
        duration_s=ctx.timer.to_real(duration),
        rate_hz=step.rate_hz,
        step_id=step.id,
        rates=step.rates,
    )
    fields = {"step_id": step.id, "rates": step.rates, "scale": step.scale}

    def on_sample(t: float, value: float | None) -> None:
        ctx.bus.emit(ev.CONTINUOUS_SAMPLE, t=t, value=value, **fields)

    with ctx.screen_lock:
        result = ctx.participant.rate_continuously(request, on_sample)
    end_t = result.samples[-1][0] if result.samples else result.onset_t
    ctx.bus.emit(
        ev.DISPLAY,
        t=result.onset_t,
        stage="screen_onset",
        step_id=step.id,
        screen="continuous",
        end_t=end_t,
        ended_by="time",
        rate_hz=(result.rate_hz or request.rate_hz) * ctx.timer.to_real(1.0),  # per protocol second
    )
    ctx.timer.check()


def _refuse_off_scale(
    ctx: SessionContext, result: RatingResult, scale: str, n_categories: int, step_id: str | None
) -> None:
    """Journal a fault and stop if an answer lies outside its scale: it is never written as data."""
    if result.value is None:
        return
    low, high = SCALES[scale].range(n_categories)
    value = result.value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and low <= value <= high:
        return
    message = f"the participant screen sent the answer {value!r}, outside the {scale} range {low:g}-{high:g}"
    ctx.bus.emit(ev.FAULT, device="display", step_id=step_id, message=message)
    raise CpmlabError(message)
