"""Cold-pressor step code: pre-cooling the bath before the session when the setpoint is known."""

from __future__ import annotations

from helpers import make_run

from cpmlab.engine import SessionOutcome


def test_a_setpoint_set_by_an_earlier_step_is_not_precooled_and_the_session_runs() -> None:
    """The first immersion's setpoint comes from a set step: no pre-cooling, the immersion still runs at 10 C."""
    run = make_run(
        """\
        variables: {base: 12}
        steps:
          - {type: set, variable: sp, value: "${base - 2}"}
          - {type: immersion, id: cs, setpoint_c: "${sp}", duration_s: 2, max_s: 5}
        """,
        speed=50.0,
    )
    assert run.engine.run() == SessionOutcome.COMPLETED
    assert run.of("fault") == []
    assert [e.data["setpoint_c"] for e in run.of("immersion", stage="immersion_start")] == [10.0]


def test_a_known_first_setpoint_is_sent_before_the_first_step() -> None:
    """With the setpoint in the header, the bath gets it (and circulates) before any step starts."""
    run = make_run(
        """\
        steps:
          - {type: wait, duration_s: 1}
          - {type: immersion, setpoint_c: 8, duration_s: 2, max_s: 5}
        """,
        speed=50.0,
    )
    seen: list[float | None] = []
    run.engine.bus.subscribe(lambda e: seen.append(run.engine.context.setpoint_c) if e.kind == "step_start" else None)
    assert run.engine.run() == SessionOutcome.COMPLETED
    assert seen[0] == 8.0
