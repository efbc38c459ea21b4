"""A seeded population of simulated participants, with named profiles.

Each participant's parameters are drawn from the profile's distributions with a random
generator seeded by the participant label (and the profile), so every participant differs
and a re-run with the same label reproduces the same person. Heat ratings follow
``ParticipantModel.heat_vas``: 0 below the pain threshold, 10 at it, then ``slope`` rating
points per degC; the draws fix the Pain-60 temperature and the slope, and the threshold
follows from them, so each participant's true Pain-60 is known exactly.
"""

from __future__ import annotations

import math
import random
from typing import Any

from cpmlab.core.errors import CpmlabError

# Pain-60 ranges (degC) relative to the shipped calibration settings (floor 40 C, ceiling 49 C)
PAIN60_RANGES_C: dict[str, tuple[float, float]] = {
    "typical": (44.0, 48.3),
    "near-ceiling": (48.3, 49.0),
    "sensitive": (41.5, 43.0),
    "insensitive": (50.5, 54.0),  # above every thermode limit cpmlab allows by default
}
PROFILES: tuple[str, ...] = (
    "typical",
    "no-cpm",
    "facilitator",
    "never-detects",
    "never-withdraws",
    "insensitive",
    "near-ceiling",
    "sensitive",
)


def population_seed(label: str, profile: str) -> str:
    """Return the text that seeds participant label's draw from profile (recorded with the session)."""
    return f"cpmlab-population:{profile}:{label}"


def check_profile(profile: str) -> str:
    """Return profile if it is a known population profile, else raise a CpmlabError naming them."""
    if profile not in PROFILES:
        raise CpmlabError(f"unknown simulated participant profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def draw_parameters(label: str, profile: str = "typical") -> dict[str, Any]:
    """Return the ParticipantModel fields of participant label drawn from the named profile."""
    check_profile(profile)
    if not label:
        raise CpmlabError("a simulated participant needs a non-empty label to seed its parameters")
    rng = random.Random(population_seed(label, profile))  # str seeds hash the same in every process
    low_c, high_c = PAIN60_RANGES_C.get(profile, PAIN60_RANGES_C["typical"])
    if profile in ("typical", "no-cpm", "facilitator", "never-detects", "never-withdraws"):
        pain60_c = min(max(rng.gauss(46.2, 1.0), low_c), high_c)
    else:
        pain60_c = rng.uniform(low_c, high_c)
    slope = rng.uniform(5.0, 9.0) if profile == "insensitive" else rng.uniform(8.0, 18.0)
    if profile == "no-cpm":
        cpm_effect = rng.gauss(0.0, 2.0)
    elif profile == "facilitator":
        cpm_effect = rng.uniform(5.0, 15.0)
    else:
        cpm_effect = min(rng.gauss(-14.0, 5.0), -3.0)
    tolerance_s = min(max(math.exp(rng.gauss(math.log(60.0), 0.5)), 15.0), 170.0)
    return {
        "profile": profile,
        "pain_threshold_c": round(pain60_c - 50.0 / slope, 3),
        "slope_vas_per_c": round(slope, 3),
        "cpm_effect_vas": round(cpm_effect, 2),
        "cpm_decay_s": round(rng.uniform(180.0, 420.0), 1),
        "noise_sd_vas": round(rng.uniform(3.0, 7.0), 2),
        "rt_mean_s": round(rng.uniform(1.0, 2.0), 2),
        "cold_tolerance_s": round(tolerance_s, 1),
        "cold_detection_s": round(rng.uniform(0.1, 0.35) * tolerance_s, 1),
        "threshold_sd_c": round(rng.uniform(0.25, 0.6), 2),
        "cold_pain_per_c": round(rng.uniform(0.35, 0.6), 3),
        "detects_cold_pain": profile != "never-detects",
        "withdraws": profile != "never-withdraws",
    }
