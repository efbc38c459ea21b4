"""Flow steps: markers, session variables, steps that run together and repeated blocks."""

from __future__ import annotations

import threading
import time

from cpmlab.core import events as ev
from cpmlab.core.errors import CpmlabError, SessionAborted
from cpmlab.engine.context import RunStep, SessionContext
from cpmlab.engine.steps.cold import settle_bath
from cpmlab.engine.steps.common import set_variable
from cpmlab.protocol.model import Block, Immersion, Marker, Parallel, SetVariable, StepBase
from cpmlab.protocol.walk import StepPath, child_path, fmt_path


def run_marker(ctx: SessionContext, step: Marker, path: StepPath, rep: int | None) -> None:
    """Emit the step's named marker."""
    ctx.bus.emit(ev.MARKER, name=step.name, step_id=step.id, fields=dict(step.fields))


def run_set(ctx: SessionContext, step: SetVariable, path: StepPath, rep: int | None) -> None:
    """Compute the value and store it as a session variable."""
    set_variable(ctx, step.variable, ctx.num(step.value), source=step.id or fmt_path(path))


def run_parallel(ctx: SessionContext, step: Parallel, path: StepPath, rep: int | None) -> None:
    """Run every child in its own thread; a failing branch ends the others; re-raise the first failure."""
    run_step = _runner(ctx)
    errors: list[BaseException] = []

    def branch(child: StepBase, i: int) -> None:
        try:
            run_step(child, child_path(path, i), rep)
        except BaseException as exc:
            errors.append(exc)
            if not isinstance(exc, SessionAborted):
                ctx.timer.abort(f"parallel branch failed: {exc}")

    threads = [threading.Thread(target=branch, args=(c, i), daemon=True) for i, c in enumerate(step.steps)]
    immersing = [t for t, c in zip(threads, step.steps, strict=True) if isinstance(c, Immersion)]
    if immersing:
        # Branches beside an immersion are timed from the hand going in (a test stimulus "during" the
        # conditioning stimulus): settle the bath first, start the immersion, then the others.
        for child in step.steps:
            if isinstance(child, Immersion):
                settle_bath(ctx, child)
        for thread in immersing:
            thread.start()
        while ctx.immersion.running is None and any(t.is_alive() for t in immersing):
            time.sleep(0.002)
    for thread in threads:
        if thread not in immersing:
            thread.start()
    for thread in threads:
        thread.join()
    real = [e for e in errors if not isinstance(e, SessionAborted)]
    if real:
        raise real[0]
    if errors:
        raise errors[0]


def run_block(ctx: SessionContext, step: Block, path: StepPath, rep: int | None) -> None:
    """Run the children once per repetition, shuffled per repetition if the block says so."""
    run_step = _runner(ctx)
    for repetition in range(1, step.repeat + 1):
        order = list(range(len(step.steps)))
        if step.randomize:
            ctx.rng.shuffle(order)
        ctx.bus.emit(ev.MARKER, name="block_repetition", step_id=step.id, rep=repetition, order=order)
        for i in order:
            run_step(step.steps[i], child_path(path, i), repetition if step.repeat > 1 else rep)


def _runner(ctx: SessionContext) -> RunStep:
    if ctx.run_step is None:
        raise CpmlabError("the session context has no step runner; build it through SessionEngine")
    return ctx.run_step
