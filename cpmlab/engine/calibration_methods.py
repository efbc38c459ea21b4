"""The calibration procedure for each method name (staircase, ascending, fit, bayesian)."""

from __future__ import annotations

import random

from cpmlab.engine.adaptive import Ascending, FitSeries, Procedure, Staircase
from cpmlab.engine.bayes import BayesianSearch
from cpmlab.protocol.model import Calibration


def make_procedure(step: Calibration, ceiling_c: float, scale_max: float, rng: random.Random) -> Procedure:
    """Return the procedure for step.method."""
    if step.method == "bayesian":
        return BayesianSearch(step, ceiling_c, scale_max)
    if step.method == "staircase":
        return Staircase(step, ceiling_c, scale_max)
    if step.method == "ascending":
        return Ascending(step, ceiling_c, scale_max)
    return FitSeries(step, ceiling_c, scale_max, rng)
