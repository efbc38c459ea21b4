"""An answer outside its scale (a broken or hostile display) is a fault, never data."""

from __future__ import annotations

import pytest
from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.engine import SessionOutcome
from cpmlab.participant.channel import RatingRequest, RatingResult

RATING_ONLY = """\
steps:
  - {type: rating, id: r, scale: vas, question: How painful?, timeout_s: 5}
"""


@pytest.mark.parametrize("value", [1000.0, -1.0, float("nan"), float("inf")])
def test_off_scale_answer_is_journaled_as_a_fault_and_not_recorded(value: float) -> None:
    """1000 on a 0-100 VAS stops the session with a display fault; no rating event carries it."""
    run = make_run(RATING_ONLY, speed=20)

    def broken_rate(request: RatingRequest, on_onset: object = None) -> RatingResult:
        return RatingResult(value=value, onset_t=0.0, response_t=0.1, input_device="keyboard")

    run.participant.rate = broken_rate  # type: ignore[method-assign]
    outcome = run.engine.run()
    assert outcome in (SessionOutcome.FAILED, SessionOutcome.FAULT)
    faults = [e for e in run.events if e.kind == ev.FAULT and e.data.get("device") == "display"]
    assert faults and "outside the vas range 0-100" in faults[0].data["message"]
    assert not [e for e in run.events if e.kind == ev.RATING]
