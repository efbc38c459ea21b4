"""Bayesian adaptive search for the temperature rated at a target (e.g. Pain-60), on a grid.

Model of one rating y of a stimulus at temperature T (0-100 scale):
``y = target + slope * (T - pain_x) + noise``, noise ~ Normal(0, sd). The unknowns are the
Pain-X temperature ``pain_x`` (where the line crosses the target), the ``slope`` (rating
points per degC) and the rating noise ``sd``. Ratings at or below LOW_VAS are taken as
"at most LOW_VAS" and ratings of 100 as "at least 100" (censored), because below the pain
threshold ratings stay near 0 instead of following the line, and the scale ends at 100.
A small share (LAPSE) of ratings is taken to be unrelated to the stimulus, so one slip
cannot pull the estimate far.

The posterior lives on a fixed grid over (pain_x, slope, sd) and is updated with every
answered rating (its full value, not only above or below the target). The next temperature
is the one, on a 0.1 degC grid between the floor and the ceiling, that minimises the expected
posterior variance of pain_x over the possible ratings, among those whose predicted chance of
a rating at or above the stop rating is at most ``max_stop_risk``. The series ends when the
credible interval of pain_x is at most ``ci_width_c`` wide, when it lies wholly above the
ceiling or below the floor, when no temperature is safe enough, or after ``max_trials``
(and, as for every method, at a stop rating or after ``max_missing`` unanswered ratings).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from cpmlab.engine.adaptive import CalibrationResult, Procedure
from cpmlab.protocol.model import Calibration

LOW_VAS = 10.0  # ratings at or below this are censored (near or below the pain threshold)
GRID_STEP_C = 0.1
CANDIDATE_STEP_C = 0.1
SLOPES_VAS_PER_C = np.geomspace(4.0, 40.0, 14)
SLOPE_PRIOR_MEDIAN = 12.0
SLOPE_PRIOR_SD_LOG = 0.5
NOISE_SDS_VAS = np.array([3.0, 5.0, 8.0, 12.0, 18.0, 27.0])
NOISE_PRIOR_MEDIAN = 6.0
NOISE_PRIOR_SD_LOG = 0.7
OUTCOME_EDGES_VAS = np.array([LOW_VAS, *np.arange(15.0, 100.0, 5.0)])  # bins of the predicted rating
COARSE_EVERY = 3  # the first pass looks at every third candidate
CHUNK = 8  # candidate temperatures evaluated at once
LAPSE = 0.03  # share of ratings unrelated to the stimulus (slips, misunderstanding), uniform over 0-100
BIN_SHARES = np.diff(np.concatenate([[0.0], OUTCOME_EDGES_VAS, [100.0]])) / 100.0
NEGLIGIBLE = 1e-4  # grid points with less posterior weight than this (relative) are skipped in look-ahead


class BayesianSearch(Procedure):
    """Grid posterior over (Pain-X temperature, slope, noise); most informative safe next temperature."""

    def __init__(self, step: Calibration, ceiling_c: float, scale_max: float) -> None:
        super().__init__(step, ceiling_c, scale_max)
        lo, hi = min(self.floor_c, step.prior_mean_c) - 4.0, max(self.ceiling_c, step.prior_mean_c) + 4.0
        pain_x = np.arange(lo, hi + GRID_STEP_C / 2, GRID_STEP_C)
        self.pain_x, self.slope, self.sd = (
            a.ravel() for a in np.meshgrid(pain_x, SLOPES_VAS_PER_C, NOISE_SDS_VAS, indexing="ij")
        )
        log_prior = -0.5 * ((self.pain_x - step.prior_mean_c) / step.prior_sd_c) ** 2
        log_prior += -0.5 * (np.log(self.slope / SLOPE_PRIOR_MEDIAN) / SLOPE_PRIOR_SD_LOG) ** 2
        log_prior += -0.5 * (np.log(self.sd / NOISE_PRIOR_MEDIAN) / NOISE_PRIOR_SD_LOG) ** 2
        self.log_post = log_prior
        top = np.floor(self.ceiling_c / CANDIDATE_STEP_C + 1e-9) * CANDIDATE_STEP_C
        self.candidates = np.round(np.arange(self.floor_c, top + 1e-9, CANDIDATE_STEP_C), 1)
        self._choice: tuple[int, float | None] | None = None

    # -- posterior ------------------------------------------------------------------------------
    def weights(self) -> np.ndarray:
        """Return the normalised posterior weights of the grid points."""
        w = np.exp(self.log_post - self.log_post.max())
        return w / w.sum()

    def _mean_vas(self, temp_c: float | np.ndarray) -> np.ndarray:
        return self.step.target_rating + self.slope * (np.asarray(temp_c)[..., None] - self.pain_x)

    def update(self, temp_c: float, vas: float) -> None:
        mu, sd = self._mean_vas(temp_c), self.sd
        if vas <= LOW_VAS:
            like = ndtr((LOW_VAS - mu) / sd)
            lapse = LOW_VAS / 100.0
        elif vas >= 100.0:
            like = ndtr((mu - 100.0) / sd)
            lapse = 0.01
        else:
            like = np.exp(-0.5 * ((vas - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
            lapse = 0.01  # density of a rating drawn uniformly from 0-100
        like = (1.0 - LAPSE) * like + LAPSE * lapse
        self.log_post = self.log_post + np.log(np.maximum(like, 1e-300))
        self._check_done()

    def interval(self) -> tuple[float, float, float]:
        """Return the posterior mean of pain_x and its ci_level credible interval (degC)."""
        w = self.weights()
        order = np.argsort(self.pain_x, kind="stable")
        cdf = np.cumsum(w[order])
        xs = self.pain_x[order]
        tail = (1.0 - self.step.ci_level) / 2
        low = float(xs[min(np.searchsorted(cdf, tail), len(xs) - 1)])
        high = float(xs[min(np.searchsorted(cdf, 1.0 - tail), len(xs) - 1)])
        return float(w @ self.pain_x), low, high

    def stop_risk(self, temps_c: np.ndarray) -> np.ndarray:
        """Return the predicted chance of a rating at or above the stop rating at each temperature."""
        w = self.weights()
        return ndtr((self._mean_vas(temps_c) - self.step.stop_rating) / self.sd) @ w

    def _check_done(self) -> None:
        if self.stopped_by is not None:
            return
        _, low, high = self.interval()
        if high - low <= self.step.ci_width_c + 1e-9:
            self.stopped_by = "precision reached"
        elif low > self.ceiling_c:
            self.stopped_by = "above the ceiling"
        elif high < self.floor_c:
            self.stopped_by = "below the floor"

    # -- design -----------------------------------------------------------------------------------
    def _expected_variance(self, temps_c: np.ndarray) -> np.ndarray:
        """Return the expected posterior variance of pain_x after a rating at each temperature."""
        w = self.weights()
        keep = w > NEGLIGIBLE * w.max()
        w, x, slope, sd = w[keep], self.pain_x[keep], self.slope[keep], self.sd[keep]
        out = np.empty(len(temps_c))
        for start in range(0, len(temps_c), CHUNK):  # bounded memory: (chunk, bins, grid)
            temps = temps_c[start : start + CHUNK]
            mu = self.step.target_rating + slope * (temps[:, None] - x)
            cdf = ndtr((OUTCOME_EDGES_VAS[None, :, None] - mu[:, None, :]) / sd)
            ones = np.ones((len(temps), 1, len(x)))
            p = np.diff(np.concatenate([0 * ones, cdf, ones], axis=1), axis=1)
            p = (1.0 - LAPSE) * p + LAPSE * BIN_SHARES[None, :, None]
            m0, m1, m2 = p @ w, p @ (w * x), p @ (w * x * x)
            out[start : start + CHUNK] = np.sum(m2 - m1 * m1 / np.maximum(m0, 1e-300), axis=1)
        return out

    def _safe_count(self) -> int:
        """Return how many candidates (from the coolest) have at most max_stop_risk.

        The risk rises with temperature at every grid point (slopes are positive), so the safe
        candidates are a prefix, found by bisection.
        """
        low, high = 0, len(self.candidates)
        while low < high:
            mid = (low + high) // 2
            if self.stop_risk(self.candidates[mid : mid + 1])[0] <= self.step.max_stop_risk:
                low = mid + 1
            else:
                high = mid
        return low

    def next_temperature(self) -> float | None:
        if self.stopped_by:
            return None
        if self._choice is not None and self._choice[0] == len(self.trials):
            return self._choice[1]
        allowed = self.candidates[: self._safe_count()]
        if len(allowed) == 0:
            self.stopped_by = "no safe temperature"
            choice = None
        else:
            coarse = allowed[::COARSE_EVERY]  # coarse pass, then the 0.1 degC neighbours of its best
            best = float(coarse[int(np.argmin(self._expected_variance(coarse)))])
            near = allowed[np.abs(allowed - best) <= (COARSE_EVERY - 1) * CANDIDATE_STEP_C + 1e-9]
            choice = float(self.clamp(float(near[int(np.argmin(self._expected_variance(near)))])))
        self._choice = (len(self.trials), choice)
        return choice

    # -- reporting --------------------------------------------------------------------------------
    def progress(self) -> dict[str, float] | None:
        """Return the estimate, its credible interval, and the posterior slope and noise."""
        if not self.vas_trials():
            return None
        w = self.weights()
        estimate, low, high = self.interval()
        return {
            "estimate_c": round(estimate, 2),
            "ci_low_c": round(low, 2),
            "ci_high_c": round(high, 2),
            "ci_level": self.step.ci_level,
            "slope_vas_per_c": round(float(w @ self.slope), 2),
            "noise_sd_vas": round(float(w @ self.sd), 2),
        }

    def result(self) -> CalibrationResult:
        answered = self.vas_trials()
        stopped_by = self.stopped_by or "ended"
        if not answered or self.stopped_by in ("no answers", "no safe temperature"):
            return CalibrationResult("bayesian", None, stopped_by, self.trials)
        w = self.weights()
        estimate, low, high = self.interval()
        value = min(max(estimate, self.floor_c), self.ceiling_c)
        capped = self.below_stop(round(value, 2))
        return CalibrationResult(
            "bayesian",
            capped,
            stopped_by,
            self.trials,
            slope_per_c=round(float(w @ self.slope), 2),
            censored=value != estimate,
            ci_low_c=round(low, 2),
            ci_high_c=round(high, 2),
        )
