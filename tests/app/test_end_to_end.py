"""Simulated participant -> engine (drivers + emulators) -> journal -> BIDS -> `cpmlab score`.

The simulated participant is built with a known CPM effect (-15 VAS while the hand is in
the water and, with no decay, after it). The score must recover it from the files alone.

Tolerance: each heat rating carries Gaussian noise of sd NOISE_SD VAS; an effect is the
difference of two phase means of N ratings each, so its sd is NOISE_SD * sqrt(2 / N)
(= 1.15 VAS here). 4 VAS is about 3.5 sd: a correct pipeline fails this less than once in
2000 seeds, while a lost sign, a lost phase or an effect read from the wrong rows (0 or
-30) is far outside it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from bids_validator import validate

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.cli.main import main
from cpmlab.core import vocabulary as voc
from cpmlab.participant.simulated import ParticipantModel
from cpmlab.scoring.derivatives import derivative_root

EFFECT_VAS = -15.0
NOISE_SD = 2.0
N = 6
TOLERANCE_VAS = 4.0
assert 3.0 * NOISE_SD * math.sqrt(2 / N) <= TOLERANCE_VAS

_TS = "{{type: thermal, id: ts_{p}, role: test_stimulus, phase: {p}, target_c: 46, ramp_c_per_s: 10, return_c_per_s: 10, plateau_s: 5}}"
_RATE = "{{type: rating, id: ts_{p}_rating, rates: ts_{p}, scale: vas, timeout_s: 10}}"


def _block(phase: str, indent: str) -> str:
    steps = f"\n{indent}    - ".join([_TS.format(p=phase), _RATE.format(p=phase), "{type: wait, duration_s: 3}"])
    return f"{indent}- type: block\n{indent}  id: {phase}_block\n{indent}  repeat: {N}\n{indent}  steps:\n{indent}    - {steps}\n"


PROTOCOL = f"""\
cpmlab_protocol: 1
name: e2e
title: End-to-end parallel and sequential CPM
task: e2e
limits: {{max_thermode_c: 50, max_plateau_s: 60, max_immersion_s: 120, min_bath_c: 6}}
devices: [thermode, cold_pressor]
steps:
{_block("before", "  ")}  - type: parallel
    id: conditioning
    steps:
      - {{type: immersion, id: cs, role: conditioning, setpoint_c: 10, duration_s: 95, max_s: 110, ratings_at_s: []}}
      - type: block
        id: during_wrap
        steps:
          - {{type: wait, duration_s: 3}}
{_block("during", "          ")}  - {{type: wait, duration_s: 3}}
{_block("after", "  ")}"""


def test_simulated_cpm_effect_comes_back_from_the_scored_bids_files(tmp_path: Path, capsys) -> None:
    """Early and late CPM scored from the written dataset equal the simulated -15 VAS within 4 VAS."""
    protocol = tmp_path / "e2e.yaml"
    protocol.write_text(PROTOCOL)
    data = tmp_path / "data"
    model = ParticipantModel(cpm_effect_vas=EFFECT_VAS, cpm_decay_s=1e9, noise_sd_vas=NOISE_SD)
    spec = SessionSpec(
        protocol, "01", "1", data, speed=40.0, simulate=True, emulate=True, seed=3, participant_model=model, lsl=False
    )
    # The bath starts at its setpoint: the parallel block does not wait for the hand to go in.
    spec.emulator_options = {"cold_pressor": {"start_c": 10.0, "setpoint_c": 10.0}}
    result = PreparedSession(spec).run()
    assert str(result.outcome) == "completed"

    assert main(["score", str(data)]) == 0
    capsys.readouterr()
    scores = pd.read_csv(
        derivative_root(data.resolve()) / "sub-01/ses-1/beh/sub-01_ses-1_task-e2e_run-1_desc-cpm_beh.tsv",
        sep="\t",
        na_values="n/a",
    ).iloc[0]
    assert (scores["ts_before_n"], scores["ts_during_n"], scores["ts_after_n"]) == (N, N, N)
    assert abs(scores["cpm_early"] - EFFECT_VAS) <= TOLERANCE_VAS, scores["cpm_early"]
    assert abs(scores["cpm_late"] - EFFECT_VAS) <= TOLERANCE_VAS, scores["cpm_late"]

    beh = data / "sub-01/ses-1/beh"
    events = pd.read_csv(beh / "sub-01_ses-1_task-e2e_run-1_events.tsv", sep="\t", na_values="n/a")
    sidecar = json.loads((beh / "sub-01_ses-1_task-e2e_run-1_events.json").read_text())
    assert set(events.columns) <= set(sidecar)
    assert set(voc.EVENT_COLUMNS) <= set(events.columns)
    immersion = events[events["trial_type"] == "cold_immersion"].iloc[0]
    during = events[(events["trial_type"] == "heat_plateau") & (events["phase"] == "during")]
    assert (during["onset"] > immersion["onset"]).all()
    assert (during["onset"] + during["duration"] < immersion["onset"] + immersion["duration"]).all()
    assert immersion["ended_by"] == "time" and not immersion["censored"]
    errors, _ = validate(data)
    assert errors == [], errors
