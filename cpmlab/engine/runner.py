"""Run steps through the dispatch table, between step_start and step_end events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cpmlab.core import events as ev
from cpmlab.core.errors import CpmlabError, SessionAborted, StimulusRefusedError
from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps.common import step_fields
from cpmlab.engine.steps.table import STEP_HANDLERS, StepHandler
from cpmlab.protocol.model import STEP_CLASSES, StepBase
from cpmlab.protocol.walk import StepPath, fmt_path


def missing_handlers(handlers: Mapping[type[StepBase], StepHandler]) -> list[str]:
    """Return the names of the step model classes the table has no code for."""
    return [cls.__name__ for cls in STEP_CLASSES if cls not in handlers]


class StepRunner:
    """Run steps for one session; every step model class must have an entry in the table."""

    def __init__(self, ctx: SessionContext, handlers: Mapping[type[StepBase], StepHandler] = STEP_HANDLERS) -> None:
        missing = missing_handlers(handlers)
        if missing:
            raise CpmlabError(f"the engine has no code for step kind(s) {', '.join(missing)}; add them to the table")
        self.ctx = ctx
        self.handlers = dict(handlers)
        ctx.run_step = self.run_step

    def run_sequence(self, steps: Sequence[StepBase], base: StepPath, rep: int | None = None) -> None:
        """Run steps one after another."""
        for i, step in enumerate(steps):
            self.run_step(step, (*base, i), rep)

    def run_step(self, step: StepBase, path: StepPath, rep: int | None = None) -> None:
        """Run one step between step_start and step_end events."""
        self.ctx.timer.wait_if_paused()
        fields = step_fields(self.ctx, step)
        if rep is not None:
            fields["rep"] = rep
        self.ctx.bus.emit(ev.STEP_START, path=fmt_path(path), **fields)
        status = "done"
        try:
            handler = self.handlers.get(type(step))
            if handler is None:
                raise CpmlabError(f"no executor for step type {step.type!r}")
            status = handler(self.ctx, step, path, rep) or "done"
        except SessionAborted:
            status = "aborted"
            raise
        except StimulusRefusedError:
            status = "failed"  # the engine journals it once, as the thermode's fault
            raise
        except Exception as exc:
            status = "failed"
            self.ctx.bus.emit(ev.FAULT, device="engine", step_id=step.id, message=str(exc))
            raise
        finally:
            self.ctx.bus.emit(ev.STEP_END, path=fmt_path(path), status=status, **fields)
