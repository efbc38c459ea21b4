"""A simulated participant with known parameters, who perceives what the devices report.

Heat ratings follow the peak probe temperature read back from the thermode stream
(a linear rating-vs-temperature line above a threshold), shifted by a CPM effect while
a cold-pressor immersion runs or decaying after it ends; cold-water ratings follow the
bath temperature. The CPM effect needs a painful conditioning stimulus: it is whole in water
10 C or more below 20 C (or 4 C or more above 42.5 C), scales down towards those bounds, and
is absent in neutral water (a sham bath at 32 C). Noise is seeded, so a run is reproducible.
``ParticipantModel.from_population`` draws a participant's parameters from the seeded population (``population.py``).
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.core.scales import SCALES
from cpmlab.participant import population
from cpmlab.participant.channel import (
    ContinuousRequest,
    ContinuousResult,
    RatingRequest,
    RatingResult,
    SampleCallback,
    ScreenResult,
)

VAS_MAX = SCALES["vas"].maximum()  # the model thinks in VAS units
NRS_MAX = SCALES["nrs"].maximum()  # cold-water pain in NRS units


def _water_pain_c(bath_c: float) -> float:
    """Return how far the water is into the painful range, in degC (below 20 C, or 2.5x above 42.5 C)."""
    return max(20.0 - bath_c, 0.0) + 2.5 * max(bath_c - 42.5, 0.0)


@dataclass(frozen=True)
class ParticipantModel:
    """Known parameters of a simulated participant (VAS units are 0-100)."""

    pain_threshold_c: float = 43.0
    slope_vas_per_c: float = 12.0
    cpm_effect_vas: float = -15.0  # negative = inhibition
    cpm_decay_s: float = 300.0  # after the conditioning stimulus ends
    noise_sd_vas: float = 4.0
    rt_mean_s: float = 1.5
    instruction_read_s: float = 1.0
    cold_tolerance_s: float = 60.0
    cold_detection_s: float = 12.0
    threshold_sd_c: float = 0.4  # trial-to-trial spread of the heat pain threshold
    threshold_rt_s: float = 0.4  # reaction time to press once the heat is felt as painful
    cold_pain_per_c: float = 0.5  # NRS points per C below 20 C (per 0.4 C above 42.5 C: hot water)
    answers: bool = True  # False: never answers (timeouts)
    fixed_rating: float | None = None  # e.g. always 0 or always 100 (adversarial)
    detects_cold_pain: bool = True  # False: never reports cold pain (no detection press)
    withdraws: bool = True  # False: keeps the hand in the water until told to take it out
    profile: str = "default"  # population profile the parameters were drawn from

    @classmethod
    def from_population(cls, label: str, profile: str = "typical") -> ParticipantModel:
        """Draw participant label from the seeded population's named profile."""
        return cls(**population.draw_parameters(label, profile))

    @property
    def pain60_c(self) -> float:
        """True temperature rated 60/100 (without CPM and noise)."""
        return self.temperature_for_vas(60.0)

    def true_parameters(self) -> dict[str, Any]:
        """Return every parameter plus the true Pain-60, for session metadata and accuracy checks."""
        return {**asdict(self), "pain60_c": round(self.pain60_c, 3)}

    def heat_vas(self, temp_c: float) -> float:
        """Noise-free VAS of a heat stimulus at temp_c, before any CPM effect."""
        return max(
            0.0, self.slope_vas_per_c * (temp_c - self.pain_threshold_c) + 10.0 * (temp_c > self.pain_threshold_c)
        )

    def temperature_for_vas(self, vas: float) -> float:
        """Temperature whose noise-free VAS (without CPM) equals vas (for recovery checks)."""
        return self.pain_threshold_c + max(vas - 10.0, 0.0) / self.slope_vas_per_c


class SimulatedParticipant:
    """Answers screens like a person with ParticipantModel's parameters (subscribe it to the bus)."""

    def __init__(
        self,
        model: ParticipantModel | None = None,
        *,
        seed: int = 0,
        speed: float = 1.0,
        on_hand_immersed: Callable[[bool], None] | None = None,
    ) -> None:
        self.model = model or ParticipantModel()
        self.speed = speed
        self.rng = random.Random(seed)
        self.on_hand_immersed = on_hand_immersed
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._stim_peak_c: float | None = None
        self._current_c: float | None = None
        self._current_t: float | None = None
        self._bath_c: float | None = None
        self._immersion_start_t: float | None = None
        self._immersion_end_t: float | None = None
        self._immersed = False
        self._conditioning = 1.0  # share of the CPM effect the water gives (0 in neutral water)

    # -- perception ------------------------------------------------------------------------
    def observe(self, event: ev.Event) -> None:
        """Update what the participant feels from a bus event."""
        with self._lock:
            if event.kind == ev.READING and event.data.get("device") == "thermode":
                hottest = max(event.data["zones_c"])
                self._current_c, self._current_t = hottest, event.t
                if self._stim_peak_c is not None:
                    self._stim_peak_c = max(self._stim_peak_c, hottest)
            elif event.kind == ev.READING and event.data.get("device") == "cold_pressor":
                self._bath_c = float(event.data["bath_c"])
            elif event.kind == ev.STIMULUS and event.data.get("stage") == "ramp_start":
                self._stim_peak_c = self._current_c if self._current_c is not None else 0.0
            elif event.kind == ev.IMMERSION and event.data.get("stage") == "immersion_start":
                self._immersion_start_t, self._immersion_end_t = event.t, None
                self._conditioning = 1.0 if self._bath_c is None else min(_water_pain_c(self._bath_c) / 10.0, 1.0)
            elif event.kind == ev.IMMERSION and event.data.get("stage") == "immersion_end":
                self._immersion_end_t = event.t

    def _cpm_shift(self, t: float) -> float:
        if self._immersion_start_t is None:
            return 0.0
        effect = self.model.cpm_effect_vas * self._conditioning
        if self._immersion_end_t is None:
            return effect
        since_s = (t - self._immersion_end_t) * self.speed
        return effect * math.exp(-since_s / self.model.cpm_decay_s)

    def perceived_heat_vas(self, temp_c: float, t: float) -> float:
        """Noisy VAS for a heat stimulus at temp_c felt at time t."""
        vas = self.model.heat_vas(temp_c)
        if vas > 0:
            vas += self._cpm_shift(t)
        return vas + self.rng.gauss(0.0, self.model.noise_sd_vas)

    def _cold_nrs(self, t: float) -> float:
        bath = self._bath_c if self._bath_c is not None else 10.0
        elapsed = 0.0 if self._immersion_start_t is None else (t - self._immersion_start_t) * self.speed
        nrs = self.model.cold_pain_per_c * _water_pain_c(bath) + 0.03 * elapsed
        return nrs + self.rng.gauss(0.0, 0.4)

    # -- channel ---------------------------------------------------------------------------
    def _sleep(self, protocol_s: float) -> bool:
        """Sleep protocol_s (scaled); return False if cancelled."""
        return not self._cancel.wait(max(protocol_s, 0.0) / self.speed)

    def show_text(self, text: str, *, key: str | None, timeout_s: float | None) -> ScreenResult:
        """Read the text and press the key after a moment (or let it time out)."""
        self._cancel.clear()
        onset = now()
        if key is None or not self.model.answers:
            wait_real = timeout_s if timeout_s is not None else 0.0
            ended = not self._cancel.wait(wait_real)
            return ScreenResult(onset, now(), "timeout" if ended else "aborted")
        read_real = self.model.instruction_read_s / self.speed
        if timeout_s is not None and read_real > timeout_s:
            self._cancel.wait(timeout_s)
            return ScreenResult(onset, now(), "timeout")
        if not self._sleep(self.model.instruction_read_s):
            return ScreenResult(onset, now(), "aborted")
        return ScreenResult(onset, now(), "key", key)

    def decide_rating(self, request: RatingRequest, onset_t: float | None = None) -> tuple[float | None, float]:
        """Return (value or None for no answer, reaction time in protocol s) for a rating screen."""
        onset = now() if onset_t is None else onset_t
        rt_s = max(0.3, self.rng.gauss(self.model.rt_mean_s, 0.3))
        if not self.model.answers or rt_s / self.speed > request.timeout_s:
            return None, rt_s
        with self._lock:
            if request.about == "cold":
                raw = self._cold_nrs(onset) * request.maximum / NRS_MAX
            else:
                felt = self._stim_peak_c if self._stim_peak_c is not None else (self._current_c or 32.0)
                raw = self.perceived_heat_vas(felt, onset) * request.maximum / VAS_MAX
        return self._on_scale(raw, request.maximum, request.scale), rt_s

    def _on_scale(self, raw: float, maximum: float, scale: str) -> float:
        if self.model.fixed_rating is not None:
            raw = self.model.fixed_rating * maximum / VAS_MAX
        step = SCALES[scale].step
        return round(round(min(max(raw, 0.0), maximum) / step) * step, 1)

    def heat_rating(self, temp_c: float, maximum: float = VAS_MAX, scale: str = "vas") -> float:
        """Return the answer to a heat stimulus peaking at temp_c, outside any conditioning (benchmarks)."""
        return self._on_scale(self.perceived_heat_vas(temp_c, now()) * maximum / VAS_MAX, maximum, scale)

    def continuous_value(self, maximum: float, t: float | None = None) -> float:
        """Return the slider position the participant aims for now (0..maximum)."""
        t = now() if t is None else t
        with self._lock:
            felt = self._current_c if self._current_c is not None else 32.0
            target = self.perceived_heat_vas(felt, t) * maximum / VAS_MAX
        return min(max(target, 0.0), maximum)

    def rate(self, request: RatingRequest) -> RatingResult:
        """Answer a rating screen from what was felt."""
        self._cancel.clear()
        onset = now()
        value, rt_s = self.decide_rating(request, onset)
        if value is None:
            self._cancel.wait(request.timeout_s)
            return RatingResult(None, onset, None)
        if not self._sleep(rt_s):
            return RatingResult(None, onset, None)
        return RatingResult(value, onset, now(), "simulated")

    def rate_continuously(self, request: ContinuousRequest, on_sample: SampleCallback) -> ContinuousResult:
        """Move the slider with the felt temperature; sampled at rate_hz per protocol second at any speed.

        Each sample is stamped at its slot of the sampling clock (a simulated sampler does not
        jitter): when the machine is busy, the samples due are taken at once with their own times.
        """
        self._cancel.clear()
        result = ContinuousResult(onset_t=now(), rate_hz=request.rate_hz * self.speed)
        period_real = 1.0 / result.rate_hz
        end = result.onset_t + request.duration_s
        touched_at = result.onset_t + 0.5 / self.speed
        maximum = request.maximum
        smoothed: float | None = None
        while True:
            t = result.onset_t + len(result.samples) * period_real
            if t >= end or self._cancel.wait(max(0.0, t - now())):
                break
            value: float | None = None
            if self.model.answers and t >= touched_at:
                target = self.continuous_value(maximum, t)
                smoothed = target if smoothed is None else smoothed + 0.3 * (target - smoothed)
                value = round(min(max(smoothed, 0.0), maximum), 1)
            result.samples.append((t, value))
            on_sample(t, value)
        return result

    def prompt_immersion(self, text: str, duration_s: float) -> float:
        """Put the hand in the water."""
        self._cancel.clear()
        onset = now()
        self._immersed = True
        if self.on_hand_immersed:
            self.on_hand_immersed(True)
        return onset

    def prompt_withdrawal(self, text: str) -> float:
        """Take the hand out of the water."""
        onset = now()
        if self._immersed and self.on_hand_immersed:
            self.on_hand_immersed(False)
        self._immersed = False
        return onset

    def wait_for_response(self, timeout_s: float, what: str = "withdrawal") -> float | None:
        """Press the response key when the model says so (or never, if it does not within timeout_s)."""
        self._cancel.clear()
        deadline = now() + timeout_s
        if not self.model.answers:
            self._cancel.wait(timeout_s)
            return None
        if what == "heat_threshold":
            return self._press_at_heat_threshold(deadline)
        base = self._immersion_start_t if self._immersion_start_t is not None else now()
        if what == "cold_detection":
            after_s = max(0.5, self.rng.gauss(self.model.cold_detection_s, 2.0))
        else:
            after_s = max(1.0, self.rng.gauss(self.model.cold_tolerance_s, 5.0))
        press_t = max(base + after_s / self.speed, now())
        never = not (self.model.detects_cold_pain if what == "cold_detection" else self.model.withdraws)
        if never or press_t >= deadline:
            self._cancel.wait(max(deadline - now(), 0.0))
            return None
        if self._cancel.wait(press_t - now()):
            return None
        return now()

    def _press_at_heat_threshold(self, deadline: float) -> float | None:
        """Press a reaction time after the felt temperature passes this trial's threshold.

        Times come from the readings' own stamps, so a busy machine delays the answer's
        delivery but not the moment the simulated person pressed.
        """
        threshold_c = self.rng.gauss(self.model.pain_threshold_c, self.model.threshold_sd_c)
        rt_s = max(0.2, self.rng.gauss(self.model.threshold_rt_s, 0.05))
        while now() < deadline:
            with self._lock:
                felt, felt_t = self._current_c, self._current_t
            if felt is not None and felt_t is not None and felt >= threshold_c:
                press_t = felt_t + rt_s / self.speed
                if press_t >= deadline or self._cancel.wait(max(press_t - now(), 0.0)):
                    return None
                return press_t
            if self._cancel.wait(0.002):
                return None
        return None

    def cancel(self) -> None:
        """Stop waiting on any screen."""
        self._cancel.set()

    def close(self) -> None:
        """Take the hand out if it is still in; safe twice."""
        self.cancel()
        if self._immersed:
            self.prompt_withdrawal("")
