"""A thermode that starts its stimulus later than stimulate() is called (the Medoc, at TRIGGER
after its pre-test) reports stimulus_onset_t, and the stimulus stages are timed from it."""

from __future__ import annotations

import time

from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.devices.interfaces import ThermalStimulus
from cpmlab.testing.fake_devices import FakeThermode

BODY = """
steps:
  - {type: thermal, id: ts, target_c: 44, baseline_c: 32, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 5}
"""


class LateStartThermode(FakeThermode):
    """Takes 0.3 s (a pre-test) before it starts the stimulus, and says when it did."""

    stimulus_onset_t: float | None = None

    def stimulate(self, stimulus: ThermalStimulus) -> None:
        """Wait out the pre-test, note the onset, then start."""
        time.sleep(0.3)
        self.stimulus_onset_t = now()
        super().stimulate(stimulus)


def test_stages_are_timed_from_the_reported_onset() -> None:
    """ramp_start is the reported onset (0.3 s after the call), not the time of the call."""
    run = make_run(BODY, speed=50.0)
    late = LateStartThermode(50.0)
    late.connect(run.engine.limits)
    run.engine.devices.thermode = late
    run.engine.context.devices.thermode = late
    before = now()
    try:
        run.engine.run()
    finally:
        late.close()
        run.thermode.close()
    ramp = run.of(ev.STIMULUS, stage="ramp_start")[0]
    assert late.stimulus_onset_t is not None and ramp.t == late.stimulus_onset_t
    assert ramp.t - before >= 0.3


def test_without_a_reported_onset_the_call_time_is_used() -> None:
    """A driver that reports nothing (the TCS II starts at once): ramp_start is the call time."""
    run = make_run(BODY, speed=50.0)
    before = now()
    try:
        run.engine.run()
    finally:
        run.thermode.close()
    ramp = run.of(ev.STIMULUS, stage="ramp_start")[0]
    assert 0.0 <= ramp.t - before < 0.2
