"""Typed protocol model: a header, safety limits, variables and a list of steps.

Each step kind is a pydantic model that knows its own timeline text, expected duration,
safety checks and children, so the timeline, validation and the operator's views ask the
step instead of testing its class. Modules: ``base`` (shared pieces and the step
interface), ``screens``, ``stimuli``, ``procedures``, ``flow`` (and the step union),
``protocol`` (the whole file).
"""

from cpmlab.protocol.model.base import (
    STEP_ID_PATTERN,
    LimitsModel,
    Phase,
    RatingScale,
    Role,
    Scale,
    StepBase,
    StepDuration,
)
from cpmlab.protocol.model.flow import STEP_CLASSES, Block, Marker, Parallel, SetVariable, Step
from cpmlab.protocol.model.procedures import Calibration, HeatThreshold
from cpmlab.protocol.model.protocol import Protocol
from cpmlab.protocol.model.screens import ContinuousRating, Instruction, Rating, Wait
from cpmlab.protocol.model.stimuli import Immersion, Thermal

__all__ = [
    "STEP_CLASSES",
    "STEP_ID_PATTERN",
    "Block",
    "Calibration",
    "ContinuousRating",
    "HeatThreshold",
    "Immersion",
    "Instruction",
    "LimitsModel",
    "Marker",
    "Parallel",
    "Phase",
    "Protocol",
    "Rating",
    "RatingScale",
    "Role",
    "Scale",
    "SetVariable",
    "Step",
    "StepBase",
    "StepDuration",
    "Thermal",
    "Wait",
]
