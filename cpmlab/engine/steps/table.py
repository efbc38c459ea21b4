"""The dispatch table: which code runs each step model class."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cpmlab.engine.context import SessionContext
from cpmlab.engine.steps import calibration, cold, flow, heat, heat_threshold, screens
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
    SetVariable,
    StepBase,
    Thermal,
    Wait,
)
from cpmlab.protocol.walk import StepPath

# handler(ctx, step, path, rep) -> a step_end status ("done" when it returns None)
StepHandler = Callable[[SessionContext, Any, StepPath, "int | None"], "str | None"]

STEP_HANDLERS: Mapping[type[StepBase], StepHandler] = {
    Instruction: screens.run_instruction,
    Wait: screens.run_wait,
    Rating: screens.run_rating,
    ContinuousRating: screens.run_continuous_rating,
    Thermal: heat.run_thermal,
    HeatThreshold: heat_threshold.run_heat_threshold,
    Immersion: cold.run_immersion,
    Calibration: calibration.run_calibration,
    Marker: flow.run_marker,
    SetVariable: flow.run_set,
    Parallel: flow.run_parallel,
    Block: flow.run_block,
}
