"""Each step model knows its timeline text, duration, safety checks and what it is about."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import load_protocol, parse_protocol
from cpmlab.protocol.model import STEP_CLASSES, Calibration, HeatThreshold, Immersion, Protocol, StepBase, Thermal
from cpmlab.protocol.safety import check_protocol
from cpmlab.protocol.timeline import build_timeline

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = sorted((ROOT / "protocols").glob("*.yaml"))


def test_every_step_kind_describes_itself() -> None:
    """No step class falls back to the base class's bare type name for the timeline."""
    assert [c.__name__ for c in STEP_CLASSES if c.timeline_text is StepBase.timeline_text] == []


@pytest.mark.parametrize("path", PROTOCOLS, ids=lambda p: p.stem)
def test_each_models_text_and_duration_are_what_the_timeline_shows(path: Path) -> None:
    """For every step of every library protocol, the timeline entry is the step's own text and duration."""
    protocol = load_protocol(path)
    variables: dict[str, Any] = dict(protocol.variables)
    entries = build_timeline(protocol)
    visits = list(protocol.walk())
    assert len(entries) == len(visits)
    for visit, entry in zip(visits, entries, strict=True):
        step = visit.step
        assert entry.description == step.timeline_text(variables)
        assert (entry.kind, entry.step_id, entry.depth) == (step.type, step.id, visit.depth)
        duration = step.expected_duration(variables)
        assert entry.duration_s == pytest.approx(duration.duration_s)
        if not step.children():
            assert entry.upper_bound == duration.upper_bound
        step.estimate_into(variables)


def test_group_durations_follow_from_their_children() -> None:
    """A parallel step lasts as its longest child; a block as its children times its repetitions."""
    protocol = parse_protocol(
        textwrap.dedent(
            """\
            name: g
            title: G
            task: g
            steps:
              - type: parallel
                steps:
                  - {type: wait, duration_s: 10}
                  - type: block
                    repeat: 3
                    steps:
                      - {type: wait, duration_s: 2}
                      - {type: wait, duration_s: 1}
            """
        ),
        "g.yaml",
    )
    parallel = protocol.steps[0]
    block = parallel.children()[1]
    assert block.expected_duration({}).duration_s == 9.0
    assert parallel.expected_duration({}).duration_s == 10.0
    starts = [(e.kind, e.start_s, e.duration_s) for e in build_timeline(protocol)]
    assert starts == [("parallel", 0, 10), ("wait", 0, 10), ("block", 0, 9), ("wait", 0, 2), ("wait", 2, 1)]


def test_thermal_checks_its_values_and_expression_defaults_against_the_limits() -> None:
    """Fields outside the limits are named; an expression is checked with its default value."""
    step = Thermal(type="thermal", target_c="${t + 1}", plateau_s=5, ramp_c_per_s=20)
    limits = SafetyLimits(max_thermode_c=45.0)
    problems = step.safety_problems(limits, {"t": 45.0})
    assert [field for field, _ in problems] == ["target_c", "ramp_c_per_s"]
    assert "46" in problems[0][1]
    assert step.safety_problems(limits, {}) == [("ramp_c_per_s", problems[1][1])]  # no default: checked at run time


def test_immersion_calibration_and_threshold_check_their_own_fields() -> None:
    """Each procedure and the immersion report their own out-of-limit fields."""
    limits = SafetyLimits(max_thermode_c=45.0, max_immersion_s=60.0, min_bath_c=8.0, max_ramp_c_per_s=5.0)
    cold = Immersion(type="immersion", setpoint_c=4, duration_s=60, max_s=90)
    assert [(f, m.endswith("(limits.max_immersion_s)")) for f, m in cold.safety_problems(limits, {})] == [
        ("setpoint_c", False),
        ("max_s", True),
    ]
    cal = Calibration(type="calibration", method="staircase", variable="v", target_rating=50, fallback_c=47)
    assert [f for f, _ in cal.safety_problems(limits, {})] == ["ceiling_c", "fallback_c"]
    hpt = HeatThreshold(type="heat_threshold", ceiling_c=50, ramp_c_per_s=8)
    assert [f for f, _ in hpt.safety_problems(limits, {})] == ["ceiling_c", "ramp_c_per_s"]


def test_check_protocol_places_each_steps_problems_at_its_path() -> None:
    """A nested step's field problem is reported at the step's YAML path."""
    text = textwrap.dedent(
        """\
        name: p
        title: P
        task: p
        steps:
          - type: block
            steps:
              - {type: thermal, id: hot, target_c: 49, plateau_s: 5}
              - {type: rating, rates: hot}
              - {type: rating, rates: nothing}
        """
    )
    protocol = Protocol.model_validate(yaml.safe_load(text))  # parse_protocol would refuse it
    problems = check_protocol(protocol, SafetyLimits(max_thermode_c=45.0))
    assert problems == [
        (("steps", 0, "steps", 0, "target_c"), "target_c 49 C is outside the allowed range 5-45 C"),
        (("steps", 0, "steps", 2, "rates"), "refers to 'nothing', which is not the id of a thermal or immersion step"),
    ]


def test_what_a_rating_is_about_comes_from_the_rated_step() -> None:
    """Heat steps are rated as heat, immersions as cold; other steps are not stimuli."""
    assert {c.__name__: c.stimulus for c in STEP_CLASSES if c.stimulus} == {"Thermal": "heat", "Immersion": "cold"}
