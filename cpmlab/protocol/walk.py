"""The one walk over a protocol's steps: depth first, in file order, with YAML paths.

Every consumer that needs "each step" (validation, the timeline, the engine's id index,
the console's step list) goes through :func:`walk_steps`, so nesting rules live here only.
A step's children come from its own ``children()``; a step that runs its children several
times says so with ``repetitions()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cpmlab.protocol.model.base import StepBase

StepPath = tuple[str | int, ...]
ROOT_PATH: StepPath = ("steps",)
CHILDREN_FIELD = "steps"  # the YAML key that holds a step's children


@dataclass(frozen=True)
class Repetition:
    """One repetition of an enclosing repeated step (1-based ``rep`` of ``of``)."""

    step_path: StepPath
    rep: int
    of: int


@dataclass(frozen=True)
class StepVisit:
    """One step reached by the walk, with where it sits."""

    path: StepPath
    step: StepBase
    depth: int
    repetitions: tuple[Repetition, ...] = ()  # outermost first; only with expand_repetitions

    @property
    def rep(self) -> int | None:
        """The innermost repetition number, or None outside repeated steps."""
        return self.repetitions[-1].rep if self.repetitions else None

    @property
    def rep_of(self) -> int | None:
        """How many repetitions the innermost repeated step has, or None."""
        return self.repetitions[-1].of if self.repetitions else None


def child_path(path: StepPath, index: int) -> StepPath:
    """Return the path of child number index of the step at path."""
    return (*path, CHILDREN_FIELD, index)


def fmt_path(path: StepPath) -> str:
    """Format a step path like steps[3].steps[0]."""
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))


def walk_steps(
    steps: Sequence[StepBase], base: StepPath = ROOT_PATH, *, expand_repetitions: bool = False
) -> Iterator[StepVisit]:
    """Yield every step depth first; with expand_repetitions, children of a repeated step once per repetition."""
    yield from _walk(steps, base, 0, (), expand_repetitions)


def _walk(
    steps: Sequence[StepBase], base: StepPath, depth: int, reps: tuple[Repetition, ...], expand: bool
) -> Iterator[StepVisit]:
    for i, step in enumerate(steps):
        path = (*base, i)
        yield StepVisit(path, step, depth, reps)
        children = step.children()
        if not children:
            continue
        times = step.repetitions() if expand else 1
        for rep in range(1, times + 1):
            inner = (*reps, Repetition(path, rep, times)) if times > 1 else reps
            yield from _walk(children, (*path, CHILDREN_FIELD), depth + 1, inner, expand)
