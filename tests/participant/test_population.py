"""The seeded simulated population: reproducible by label, profiles that behave as named, true values on record."""

from __future__ import annotations

import json
import statistics

import pytest

from cpmlab.core.errors import CpmlabError
from cpmlab.participant.population import PAIN60_RANGES_C, PROFILES, draw_parameters
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant

LABELS = [f"{i:02d}" for i in range(1, 31)]


def test_the_named_profiles_exist() -> None:
    """At least the profiles a lab asks for are offered."""
    assert {"typical", "no-cpm", "facilitator", "never-detects", "never-withdraws", "insensitive"} <= set(PROFILES)


def test_same_label_reproduces_and_different_labels_differ() -> None:
    """A label always gives the same participant; thirty labels give thirty different ones."""
    assert ParticipantModel.from_population("07") == ParticipantModel.from_population("07")
    assert len({ParticipantModel.from_population(label) for label in LABELS}) == len(LABELS)


def test_the_profile_changes_the_person() -> None:
    """The same label in another profile is another draw, with that profile's properties."""
    assert draw_parameters("01", "typical") != draw_parameters("01", "no-cpm")


@pytest.mark.parametrize("profile", ["typical", "near-ceiling", "sensitive", "insensitive"])
def test_pain60_lies_in_the_profile_range(profile: str) -> None:
    """The true Pain-60 (from threshold and slope) lies in the profile's stated range."""
    low, high = PAIN60_RANGES_C[profile]
    for label in LABELS:
        pain60 = ParticipantModel.from_population(label, profile).pain60_c
        assert low - 0.01 <= pain60 <= high + 0.01  # parameters are stored rounded


def test_insensitive_participants_have_pain60_above_the_thermode_limit() -> None:
    """Insensitive: Pain-60 above 50 C, the default thermode limit."""
    assert min(ParticipantModel.from_population(label, "insensitive").pain60_c for label in LABELS) > 50.0


def test_cpm_effects_follow_the_profile() -> None:
    """Typical participants inhibit, facilitators facilitate, no-cpm participants stay near zero."""
    effects = {
        profile: [ParticipantModel.from_population(label, profile).cpm_effect_vas for label in LABELS]
        for profile in ("typical", "no-cpm", "facilitator")
    }
    assert max(effects["typical"]) < 0 < min(effects["facilitator"])
    assert abs(statistics.mean(effects["no-cpm"])) < 2.0 and max(map(abs, effects["no-cpm"])) < 8.0


@pytest.mark.parametrize(("profile", "what"), [("never-detects", "cold_detection"), ("never-withdraws", "withdrawal")])
def test_never_profiles_never_press(profile: str, what: str) -> None:
    """never-detects never reports cold pain; never-withdraws never takes the hand out by itself."""
    sim = SimulatedParticipant(ParticipantModel.from_population("01", profile), speed=1000.0)
    sim.prompt_immersion("", 180.0)
    assert sim.wait_for_response(0.2, what=what) is None
    typical = SimulatedParticipant(ParticipantModel.from_population("01", "typical"), speed=1000.0)
    typical.prompt_immersion("", 180.0)
    assert typical.wait_for_response(0.5, what=what) is not None


def test_true_parameters_are_recorded_as_json() -> None:
    """true_parameters() holds every field plus the true Pain-60 and survives JSON."""
    model = ParticipantModel.from_population("03", "facilitator")
    record = json.loads(json.dumps(model.true_parameters()))
    assert record["profile"] == "facilitator" and record["pain60_c"] == pytest.approx(model.pain60_c, abs=1e-3)
    assert record["cpm_effect_vas"] == model.cpm_effect_vas


def test_heat_rating_follows_the_model_without_noise() -> None:
    """With zero noise the rating is the model's VAS at that temperature, 60 at the true Pain-60."""
    model = ParticipantModel(pain_threshold_c=43.0, slope_vas_per_c=10.0, noise_sd_vas=0.0)
    sim = SimulatedParticipant(model)
    assert sim.heat_rating(model.pain60_c) == pytest.approx(60.0)
    assert sim.heat_rating(42.0) == 0.0 and sim.heat_rating(60.0) == 100.0
    assert sim.heat_rating(model.pain60_c, maximum=10.0, scale="nrs") == 6.0


@pytest.mark.parametrize(("label", "profile"), [("", "typical"), ("01", "stoic")])
def test_bad_label_or_profile_is_refused(label: str, profile: str) -> None:
    """An empty label or an unknown profile gives a clear error."""
    with pytest.raises(CpmlabError, match=r"label|profile"):
        ParticipantModel.from_population(label, profile)


@pytest.mark.parametrize(("bath_c", "share"), [(10.0, 1.0), (4.0, 1.0), (15.0, 0.5), (32.0, 0.0), (46.5, 1.0)])
def test_the_cpm_effect_needs_painful_water(bath_c: float, share: float) -> None:
    """Cold (or hot) conditioning water gives the CPM effect, neutral sham water at 32 C gives none."""
    from cpmlab.core import events as ev

    model = ParticipantModel(pain_threshold_c=43.0, slope_vas_per_c=10.0, noise_sd_vas=0.0, cpm_effect_vas=-20.0)
    sim = SimulatedParticipant(model)
    sim.observe(ev.Event(ev.READING, 1.0, {"device": "cold_pressor", "bath_c": bath_c}))
    sim.observe(ev.Event(ev.IMMERSION, 2.0, {"stage": "immersion_start"}))
    assert sim.perceived_heat_vas(model.pain60_c, 3.0) == pytest.approx(60.0 - 20.0 * share)
