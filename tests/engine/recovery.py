"""Run calibration and threshold procedures against simulated participants with known parameters."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.participant.simulated import ParticipantModel

TARGET = 60.0
CALIBRATION = {
    "staircase": "{type: calibration, id: cal, method: staircase, variable: ts_c, target_rating: 60, start_c: 44,"
    " step_c: 1.0, min_step_c: 0.2, reversals: 6, max_trials: 20, floor_c: 38, ceiling_c: 49, plateau_s: 3,"
    " ramp_c_per_s: 8, return_c_per_s: 8, isi_s: 2, stop_rating: 95, rating_timeout_s: 10}",
    "ascending": "{type: calibration, id: cal, method: ascending, variable: ts_c, target_rating: 60, start_c: 41,"
    " step_c: 0.5, max_trials: 20, floor_c: 38, ceiling_c: 49, plateau_s: 3, ramp_c_per_s: 8, return_c_per_s: 8,"
    " isi_s: 2, stop_rating: 95, rating_timeout_s: 10}",
    "bayesian": "{type: calibration, id: cal, method: bayesian, variable: ts_c, target_rating: 60, prior_mean_c: 46,"
    " prior_sd_c: 2.5, ci_width_c: 1.0, max_trials: 12, floor_c: 38, ceiling_c: 49, plateau_s: 3, ramp_c_per_s: 8,"
    " return_c_per_s: 8, isi_s: 2, stop_rating: 95, rating_timeout_s: 10}",
    "fit": "{type: calibration, id: cal, method: fit, variable: ts_c, target_rating: 60, temperatures: [43, 44, 45,"
    " 46, 47, 48], repeats: 2, floor_c: 38, ceiling_c: 49, plateau_s: 3, ramp_c_per_s: 8, return_c_per_s: 8,"
    " isi_s: 2, stop_rating: 100, rating_timeout_s: 10}",
}
THRESHOLD = (
    "{type: heat_threshold, id: hpt, variable: hpt_c, trials: 4, discard_first: true, ramp_c_per_s: 1.0,"
    " return_c_per_s: 8, ceiling_c: 49, isi_s: 2, response: key}"
)


@dataclass(frozen=True)
class Recovery:
    """Known and recovered value of one simulated participant."""

    seed: int
    true_c: float
    recovered_c: float | None

    @property
    def error_c(self) -> float | None:
        return None if self.recovered_c is None else self.recovered_c - self.true_c


def participant(seed: int) -> ParticipantModel:
    """A participant with seeded threshold and slope, whose Pain-60 lies within the tested range (44.6-48.5 C)."""
    rng = random.Random(1000 + seed)
    return ParticipantModel(
        pain_threshold_c=rng.uniform(41.5, 44.0),
        slope_vas_per_c=rng.uniform(11.0, 16.0),
        noise_sd_vas=4.0,
        cpm_effect_vas=0.0,
    )


def recover_calibration(method: str, seed: int, speed: float = 10.0) -> Recovery:
    """Run one calibration through the engine (fake devices) and compare with the model's Pain-60.

    The simulated participant rates the peak it read from the thermode stream. At 40 times real
    time a plateau lasts 75 ms, and on a busy machine (a whole suite) a late stream made one
    seed's fit miss by 1.04 C in 2 of 4 suite runs; at 10 times it lasts 300 ms.
    """
    model = participant(seed)
    run = make_run(f"steps:\n  - {CALIBRATION[method]}\n", speed=speed, model=model, seed=seed, rate_hz=400)
    run.engine.run()
    run.thermode.close()
    results = run.of(ev.MEASURE, measure="calibration_result")
    value = results[0].data["value"] if results else None
    return Recovery(seed, model.temperature_for_vas(TARGET), value)


def recover_threshold(seed: int, speed: float = 10.0) -> Recovery:
    """Run the method of limits through the engine and compare with the model's pain threshold."""
    model = participant(seed)
    run = make_run(f"steps:\n  - {THRESHOLD}\n", speed=speed, model=model, seed=seed, rate_hz=400)
    run.engine.run()
    run.thermode.close()
    results = run.of(ev.MEASURE, measure="threshold_result")
    return Recovery(seed, model.pain_threshold_c, results[0].data["value"] if results else None)


def across_seeds(fn, seeds: range, **kwargs) -> list[Recovery]:
    """Run fn(seed) for every seed, several at a time (each session mostly waits)."""
    with ThreadPoolExecutor(max_workers=5) as pool:
        return list(pool.map(lambda s: fn(seed=s, **kwargs), seeds))
