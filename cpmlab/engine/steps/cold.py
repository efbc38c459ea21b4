"""Cold: the bath setpoint, the immersion step with its hard maximum, and ending an immersion early."""

from __future__ import annotations

import threading
from typing import Any

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps.common import measure, step_fields
from cpmlab.engine.steps.screens import rate
from cpmlab.protocol.model import Immersion
from cpmlab.protocol.values import ExpressionError
from cpmlab.protocol.walk import StepPath, fmt_path

BATH_SETTLE_TIMEOUT_S = 1800.0
LimitTimer = threading.Timer  # the hard maximum's timer (a name tests can replace to order the race)


def prepare_bath(ctx: SessionContext) -> None:
    """Pre-cool the bath to the first immersion's setpoint so it is ready in time."""
    bath = ctx.devices.cold_pressor
    first_setpoint = ctx.protocol.first_bath_setpoint()
    if bath is None or first_setpoint is None:
        return
    try:
        setpoint = ctx.num(first_setpoint)
    except (CpmlabError, ExpressionError):
        return  # computed later in the session
    set_bath(ctx, setpoint)
    bath.start_circulation()


def set_bath(ctx: SessionContext, setpoint_c: float) -> None:
    """Check a bath setpoint against the limits and send it if it changed."""
    bath = ctx.devices.cold_pressor
    assert bath is not None
    ctx.limits.check_bath_c(setpoint_c)
    if ctx.setpoint_c != setpoint_c:
        bath.set_setpoint(setpoint_c)
        ctx.setpoint_c = setpoint_c


def run_immersion(ctx: SessionContext, step: Immersion, path: StepPath, rep: int | None) -> str:
    """Run one immersion: bath check, prompt, ratings or responses, hard maximum, withdrawal."""
    bath = ctx.devices.cold_pressor
    if bath is None:
        raise CpmlabError(f"step {fmt_path(path)} needs a cold pressor, and none is connected")
    limits, timer = ctx.limits, ctx.timer
    limits.check_immersion_s(step.max_s)
    setpoint = ctx.num(step.setpoint_c)
    settle_bath(ctx, step)
    info = {**step_fields(ctx, step), "setpoint_c": setpoint, "limb": step.limb}
    with ctx.screen_lock:
        onset = ctx.participant.prompt_immersion(step.prompt_text, timer.to_real(step.duration_s))
    ctx.immersion.start(step.id or fmt_path(path))
    ctx.bus.emit(ev.IMMERSION, t=onset, stage="immersion_start", **info)
    hard_end = onset + timer.to_real(step.max_s)
    # The one record of an end at the limit, whichever path reaches it first (the timer below or
    # the step's own wait, which both end at hard_end): censored when the step waits for a
    # withdrawal, stamped at the limit, lasting max_s.
    at_limit = {**info, "reason": "hard maximum", "duration_s": step.max_s, "censored": step.until_withdrawal}
    # Holds before the withdrawal wait began (None until it begins): a hold during that wait means
    # the display was lost, so whichever path ends the immersion at the limit must not call it censored.
    withdrawal_wait_holds: list[int] = []

    def end_at_limit() -> None:
        lost_now = bool(withdrawal_wait_holds) and timer.hold_count != withdrawal_wait_holds[0]
        end_immersion(ctx, step.withdraw_text, hard_end, {**at_limit, "censored": False} if lost_now else at_limit)

    # The hard maximum holds whatever the step thread is doing (e.g. waiting on a rating).
    watchdog = LimitTimer(max(hard_end - now(), 0.0), end_at_limit)
    watchdog.daemon = True
    watchdog.start()
    try:
        withdrawal_t: float | None = None
        lost = False  # the participant display was lost while a response was awaited: its time is unknown
        if step.detect_pain:
            holds = timer.hold_count
            detect_t = _before(
                ctx.participant.wait_for_response(max(hard_end - now(), 0.0), what="cold_detection"), hard_end
            )
            timer.check()
            lost = detect_t is None and timer.hold_count != holds
            measure(
                ctx,
                "cold_pain_detection",
                None if detect_t is None else (detect_t - onset) * timer.speed,
                detect_t or now(),
                step_id=step.id,
                censored=detect_t is None and not lost,
                limit_s=step.max_s,
                unit="s",
                **({"display_lost": True} if lost else {}),
            )
        if step.until_withdrawal:
            holds = timer.hold_count
            withdrawal_wait_holds.append(holds)
            withdrawal_t = _before(
                ctx.participant.wait_for_response(max(hard_end - now(), 0.0), what="withdrawal"), hard_end
            )
            timer.check()
            lost = withdrawal_t is None and timer.hold_count != holds
            measure(
                ctx,
                "cold_pain_tolerance",
                None if lost else step.max_s if withdrawal_t is None else (withdrawal_t - onset) * timer.speed,
                withdrawal_t or min(now(), hard_end),
                step_id=step.id,
                censored=withdrawal_t is None and not lost,
                limit_s=step.max_s,
                unit="s",
                **({"display_lost": True} if lost else {}),
            )
        else:
            for at_s in step.ratings_at_s:
                timer.sleep_until(onset + timer.to_real(at_s))
                rate(
                    ctx,
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
    planned_at_limit = step.until_withdrawal or step.duration_s >= step.max_s
    if withdrawal_t is not None:
        ended = end_immersion(
            ctx,
            step.withdraw_text,
            withdrawal_t,
            {**info, "reason": "withdrawal", "duration_s": (withdrawal_t - onset) * timer.speed, "censored": False},
        )
    elif planned_at_limit:
        ended = end_immersion(ctx, step.withdraw_text, hard_end, {**at_limit, "censored": False} if lost else at_limit)
    else:
        end_t = now()
        ended = end_immersion(
            ctx,
            step.withdraw_text,
            end_t,
            {**info, "reason": "time", "duration_s": (end_t - onset) * timer.speed, "censored": False},
        )
    if ended or (planned_at_limit and withdrawal_t is None):
        return "done"
    return "ended at hard maximum"  # the limit cut the step short (e.g. a rating still open)


def _before(response_t: float | None, limit_t: float) -> float | None:
    """Return a response time stamped before the limit, or None (a later one is censored at the limit)."""
    return response_t if response_t is not None and response_t < limit_t else None


def settle_bath(ctx: SessionContext, step: Immersion) -> None:
    """Set the bath to the immersion's setpoint and wait until it is there."""
    if ctx.devices.cold_pressor is None:
        raise CpmlabError(f"immersion {step.id or ''} needs a cold pressor, and none is connected")
    setpoint = ctx.num(step.setpoint_c)
    set_bath(ctx, setpoint)
    wait_for_bath(ctx, step, setpoint)


def wait_for_bath(ctx: SessionContext, step: Immersion, setpoint: float) -> None:
    """Wait until the bath is within the step's tolerance of its setpoint (fail after a long timeout)."""
    bath = ctx.devices.cold_pressor
    assert bath is not None
    deadline = now() + ctx.timer.to_real(BATH_SETTLE_TIMEOUT_S)
    announced = False
    while True:
        bath_c = bath.read_temperature().bath_c
        if abs(bath_c - setpoint) <= step.settle_tolerance_c:
            return
        if not announced:
            ctx.bus.emit(ev.MARKER, name="bath_settling", step_id=step.id, bath_c=bath_c, setpoint_c=setpoint)
            announced = True
        if now() > deadline:
            raise CpmlabError(
                f"bath did not reach {setpoint:g} +/- {step.settle_tolerance_c:g} C within "
                f"{BATH_SETTLE_TIMEOUT_S:g} s (now {bath_c:.2f} C)"
            )
        ctx.timer.sleep(2.0, pausable=False)


def end_immersion(ctx: SessionContext, text: str, t: float, fields: dict[str, Any]) -> bool:
    """Tell the participant to withdraw and journal the end, unless the immersion already ended."""
    if not ctx.immersion.finish():
        return False
    ctx.participant.prompt_withdrawal(text)
    ctx.bus.emit(ev.IMMERSION, t=t, stage="immersion_end", **fields)
    return True


def force_withdrawal(ctx: SessionContext, reason: str) -> None:
    """End a running immersion now (abort, emergency stop, fault, session end)."""
    step_id = ctx.immersion.running
    if step_id is not None:
        end_immersion(ctx, "Take your hand out of the water now.", now(), {"step_id": step_id, "reason": reason})
        ctx.participant.cancel()
