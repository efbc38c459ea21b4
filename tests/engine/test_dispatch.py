"""The engine's step dispatch: one table entry per step model class, checked when the engine is built."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from helpers import make_run

from cpmlab.core.errors import CpmlabError
from cpmlab.engine import SessionContext, SessionEngine
from cpmlab.engine.runner import StepRunner, missing_handlers
from cpmlab.engine.steps.table import STEP_HANDLERS
from cpmlab.protocol.model import STEP_CLASSES, Immersion, Marker

ENGINE = Path(__file__).resolve().parents[2] / "cpmlab" / "engine"


def test_every_step_model_class_has_exactly_one_dispatch_entry() -> None:
    """The table covers every class of the step union, and nothing else."""
    assert missing_handlers(STEP_HANDLERS) == []
    assert set(STEP_HANDLERS) == set(STEP_CLASSES)
    assert len(STEP_CLASSES) == 12


def test_a_table_without_a_step_kind_is_refused_when_the_engine_is_built() -> None:
    """A missing entry is a clear error naming the step kind before the session starts, not mid-session."""
    run = make_run("steps:\n  - {type: marker, name: m}\n")
    partial = {cls: handler for cls, handler in STEP_HANDLERS.items() if cls is not Immersion}
    e = run.engine
    with pytest.raises(CpmlabError, match="no code for step kind\\(s\\) Immersion"):
        SessionEngine(e.protocol, e.devices, e.participant, e.bus, e.limits, step_handlers=partial)
    with pytest.raises(CpmlabError, match="Immersion"):
        StepRunner(e.context, partial)
    assert run.events == []  # nothing was started or journaled


def test_steps_are_dispatched_by_their_model_class_through_the_table() -> None:
    """A handler registered for Marker is called with the session context and the step, at its path."""
    calls: list[tuple[Any, ...]] = []

    def record(ctx: SessionContext, step: Marker, path: Any, rep: int | None) -> str:
        calls.append((ctx, step.name, path, rep))
        return "recorded"

    run = make_run(
        """\
        steps:
          - {type: marker, name: first}
          - type: block
            repeat: 2
            steps:
              - {type: marker, name: inner}
        """
    )
    e = run.engine
    engine = SessionEngine(
        e.protocol,
        e.devices,
        e.participant,
        e.bus,
        e.limits,
        speed=20.0,
        step_handlers={**STEP_HANDLERS, Marker: record},
    )
    engine.run()
    assert [(c[1], c[2], c[3]) for c in calls] == [
        ("first", ("steps", 0), None),
        ("inner", ("steps", 1, "steps", 0), 1),
        ("inner", ("steps", 1, "steps", 0), 2),
    ]
    assert all(c[0] is engine.context for c in calls)
    ends = [ev.data["status"] for ev in run.of("step_end", step_type="marker")]
    assert ends == ["recorded"] * 3


def test_the_context_shares_the_engines_session_state() -> None:
    """Variables, timer and random generator the steps use are the engine's own objects."""
    run = make_run("variables: {x: 1}\nsteps:\n  - {type: set, id: s, variable: y, value: '${x + 1}'}\n")
    ctx, engine = run.engine.context, run.engine
    assert ctx.variables is engine.variables and ctx.timer is engine.timer and ctx.rng is engine.rng
    assert ctx.by_id["s"].type == "set"
    engine.run()
    assert engine.variables["y"] == 2.0


def test_step_code_never_imports_the_engine_module() -> None:
    """Modules under cpmlab/engine/steps, the context and the runner do not import cpmlab.engine.engine."""
    offenders = []
    for path in [*sorted((ENGINE / "steps").glob("*.py")), ENGINE / "context.py", ENGINE / "runner.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "cpmlab.engine.engine" or n == "cpmlab.engine" for n in names):
                offenders.append(path.name)
    assert offenders == []
