"""Steps beside an immersion in a parallel step are timed from the hand going in."""

from __future__ import annotations

from helpers import make_run

from cpmlab.core import events as ev

PARALLEL_WITH_COLD_BATH = """\
steps:
  - type: parallel
    steps:
      - {type: immersion, id: cs, setpoint_c: 7, duration_s: 4, max_s: 6, settle_tolerance_c: 0.2}
      - type: block
        steps:
          - {type: wait, duration_s: 1}
          - {type: marker, name: during_probe}
"""


def test_branch_beside_an_immersion_starts_when_the_hand_goes_in() -> None:
    """The bath settles first (10 -> 7 C); the other branch's wait counts from immersion onset, not before it."""
    run = make_run(PARALLEL_WITH_COLD_BATH, speed=20)
    run.engine.run()
    onset = next(e.t for e in run.events if e.kind == ev.IMMERSION and e.data.get("stage") == "immersion_start")
    probe = next(e.t for e in run.events if e.kind == ev.MARKER and e.data.get("name") == "during_probe")
    settling = [e for e in run.events if e.kind == ev.MARKER and e.data.get("name") == "bath_settling"]
    assert settling, "the bath started away from its setpoint, so the engine waited for it"
    assert probe > onset
    assert abs((probe - onset) * 20 - 1.0) < 0.5  # the 1 s wait, in protocol seconds, from the onset
