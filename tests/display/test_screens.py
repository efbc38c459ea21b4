"""Every screen kind renders in the real PsychoPy window; input and timing round-trip through it.

Screenshots land in test-artifacts/display/<name>.png and are checked for their elements.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
from display_helpers import Running, background, ink, inside, load, orange

from cpmlab.core.clock import now
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.inject import MessageInjector, XTestInjector
from cpmlab.display.simulated import SimulatedDisplayParticipant
from cpmlab.display.specs import FixationSpec, TextSpec
from cpmlab.display.translate import rating_spec
from cpmlab.participant.channel import ContinuousRequest, RatingRequest
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant
from cpmlab.testing.display import screenshot, show_screen

ANCHORS = ("no pain", "worst pain imaginable")
W, H = 1024, 768


def shoot(channel: DisplayChannel, shots: Path, name: str) -> tuple[np.ndarray, dict]:
    saved = screenshot(channel, shots / f"{name}.png")
    assert saved is not None, f"no screenshot {name}"
    img = load(shots / f"{name}.png")
    assert img.shape == (H, W, 3)
    return img, saved.geometry


def test_instruction_text_ends_on_the_key(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """Instruction text is drawn with a 'Press SPACE to continue' footer and ends on SPACE, stamped."""
    text = "In this session you will feel warm and hot stimuli on your forearm.\nRate each one when asked."
    run = Running(channel.show_text, text, key="space", timeout_s=None)
    img, geometry = shoot(channel, shots, "instruction")
    assert ink(img, geometry["text"]) > 0.04
    assert ink(img, geometry["footer"]) > 0.02  # the footer names the key
    assert inside(geometry["text"], W, H) and inside(geometry["footer"], W, H)
    pressed = now()
    xinput.key("space")
    result = run.join()
    assert result.ended_by == "key" and result.key == "space"
    assert result.onset_t == run.onset.t and result.onset_t < pressed <= result.end_t < pressed + 0.1


def test_text_naming_its_key_has_no_extra_footer_and_times_out(channel: DisplayChannel, shots: Path) -> None:
    """A timed text screen ends by itself after timeout_s measured from its flip."""
    run = Running(channel.show_text, "Thank you. This part of the session is complete.", key=None, timeout_s=0.4)
    img, geometry = shoot(channel, shots, "thanks_text")
    assert "footer" not in geometry and ink(img, geometry["text"]) > 0.04
    result = run.join()
    assert result.ended_by == "timeout"
    assert abs((result.end_t - result.onset_t) - 0.4) < 0.05


def test_fixation_cross(channel: DisplayChannel, shots: Path) -> None:
    """The fixation cross is white at the centre and nothing else is drawn."""
    run = Running(show_screen, channel, FixationSpec(timeout_s=0.5))
    img, _geometry = shoot(channel, shots, "fixation")
    assert img[H // 2, W // 2].min() > 230  # the cross centre
    assert img[H // 2, W // 2 + 25].min() > 230 and img[H // 2 + 25, W // 2].min() > 230  # its arms
    assert (np.abs(img[: H // 3] - background(img)).sum(axis=2) > 60).mean() == 0  # nothing else
    run.join()


def test_immersion_countdown_shows_a_running_timer(channel: DisplayChannel, shots: Path) -> None:
    """'Put your hand in the water' is held with a countdown clock and a bar that shrinks."""
    onset = channel.prompt_immersion("Put your hand in the water now, up to the wrist.", 30.0)
    assert abs(now() - onset) < 0.5
    img, geometry = shoot(channel, shots, "countdown")
    assert ink(img, geometry["text"]) > 0.04 and ink(img, geometry["clock"]) > 0.1
    bar = geometry["bar"]
    row = orange(img)[int(bar["y"] + bar["h"] / 2)]
    assert row[int(bar["x"]) + 5 : int(bar["x"] + bar["w"]) - 5].mean() > 0.9  # full at the start
    time.sleep(1.2)
    later, _ = shoot(channel, shots, "countdown_later")
    clock = geometry["clock"]
    y0, y1, x0, x1 = int(clock["y"]), int(clock["y"] + clock["h"]), int(clock["x"]), int(clock["x"] + clock["w"])
    assert (img[y0:y1, x0:x1] != later[y0:y1, x0:x1]).any(), "the clock did not tick"
    assert orange(later)[int(bar["y"] + bar["h"] / 2)][int(bar["x"] + bar["w"]) - 10] == 0  # the bar shrank
    channel.prompt_withdrawal("Take your hand out of the water.")


def test_response_key_during_immersion(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """wait_for_response keeps the countdown up, shows which key to press, and stamps the press."""
    channel.prompt_immersion("Put your hand in the water now, up to the wrist.", 30.0)
    run = Running(channel.wait_for_response, 5.0, "cold_detection")
    time.sleep(0.1)
    img, g = shoot(channel, shots, "countdown_response")
    assert ink(img, g["clock"]) > 0.1
    hint = img[int(H / 2 + 0.28 * H) : int(H / 2 + 0.36 * H), W // 4 : 3 * W // 4]
    assert (np.abs(hint - background(img)).sum(axis=2) > 60).mean() > 0.01  # "Press SPACE as soon as ..."
    pressed = now()
    xinput.key("space")
    t = run.join()
    assert t is not None and pressed <= t < pressed + 0.1
    assert channel.wait_for_response(0.2) is None  # no key: None after the timeout
    channel.prompt_withdrawal("Take your hand out of the water.")


def test_simulated_participant_presses_the_response_key(channel: DisplayChannel) -> None:
    """The simulated participant's tolerance decides when the key is pressed; it goes in as real input."""
    sim = SimulatedParticipant(ParticipantModel(cold_tolerance_s=3.0), seed=2, speed=10.0)
    participant = SimulatedDisplayParticipant(channel, sim, injector=XTestInjector())
    expected_s = max(1.0, random.Random(2).gauss(3.0, 5.0)) / 10.0  # the model's own draw, same seed
    started = now()
    t = participant.wait_for_response(5.0)
    assert t is not None and abs((t - started) - expected_s) < 0.15  # loose: CPU load


def test_vas_marker_hidden_until_touched_then_keyboard_answer(
    channel: DisplayChannel, xinput: XTestInjector, shots: Path
) -> None:
    """VAS: line, end ticks, anchors and question drawn; no marker until the first key; arrows move it."""
    request = RatingRequest("vas", "How painful was the heat at its strongest?", ANCHORS, timeout_s=20.0)
    run = Running(channel.rate, request)
    img, g = shoot(channel, shots, "vas_untouched")
    y = round(g["y"])
    line = np.abs(img[y, int(g["x0"]) + 3 : int(g["x1"]) - 3] - background(img)).sum(axis=1) > 300
    assert line.mean() > 0.98, "the scale line is not drawn end to end"
    assert not orange(img).any(), "the marker shows before the participant touched the scale"
    assert g["marker_x"] is None
    for anchor in g["anchors"]:
        assert inside(anchor, W, H), f"anchor clipped: {anchor}"
        assert ink(img, anchor) > 0.05
    assert ink(img, g["question"]) > 0.05
    assert ink(img, g["confirm"]) == 0  # no confirm button before an answer exists
    xinput.key("right")  # the first touch: marker at the middle
    time.sleep(0.1)
    img, g = shoot(channel, shots, "vas_touched")
    cols = np.nonzero(orange(img).any(axis=0))[0]
    assert cols.size and abs((cols.min() + cols.max()) / 2 - (g["x0"] + g["x1"]) / 2) < 3
    assert ink(img, g["confirm"]) > 0.3
    for _ in range(12):
        xinput.key("right")
    xinput.key("left")
    xinput.key("return")
    result = run.join()
    assert result.value == 61.0 and result.input_device == "keyboard"
    assert result.onset_t == run.onset.t and 0 < result.rt_s < 5


def test_vas_mouse_answer_with_confirm_button(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """Clicking on the line places the marker there; clicking Confirm answers (value to 0.1)."""
    request = RatingRequest("vas", "How painful was the heat at its strongest?", ANCHORS, timeout_s=20.0)
    run = Running(channel.rate, request)
    g = run.geometry
    xinput.click(g["x0"] + (g["x1"] - g["x0"]) * 0.273, g["y"])
    time.sleep(0.1)
    _img, g = shoot(channel, shots, "vas_mouse")
    assert g["marker_x"] is not None and abs(g["marker_x"] - (g["x0"] + (g["x1"] - g["x0"]) * 0.273)) < 1.5
    confirm = g["confirm"]
    clicked = now()
    xinput.click(confirm["x"] + confirm["w"] / 2, confirm["y"] + confirm["h"] / 2)
    result = run.join()
    assert abs(result.value - 27.3) <= 0.15 and result.input_device == "mouse"
    assert clicked <= result.response_t < clicked + 0.1


def test_nrs_boxes_and_digit_keys(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """NRS 0-10: eleven numbered boxes, none selected until a key; digit keys select directly."""
    request = RatingRequest("nrs", "How painful is the cold water right now?", ANCHORS, timeout_s=20.0)
    run = Running(channel.rate, request)
    img, g = shoot(channel, shots, "nrs")
    assert len(g["boxes"]) == 11 and g["selected"] is None and not orange(img).any()
    for box in g["boxes"]:
        assert inside(box, W, H) and ink(img, box) > 0.2
    for anchor in g["anchors"]:
        assert inside(anchor, W, H) and ink(img, anchor) > 0.05
    xinput.key("7")
    time.sleep(0.1)
    img, g = shoot(channel, shots, "nrs_selected")
    box = g["boxes"][7]
    centre = orange(img)[
        int(box["y"]) + 3 : int(box["y"] + box["h"]) - 3, int(box["x"]) + 3 : int(box["x"] + box["w"]) - 3
    ]
    assert centre.mean() > 0.6 and orange(img).sum() < centre.size * 1.6  # only box 7 is highlighted
    xinput.key("right")
    xinput.key("return")
    result = run.join()
    assert result.value == 8.0 and result.input_device == "keyboard"


def test_categorical_click(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """Categorical scale: one labelled box per category; a click and Confirm give index and label."""
    categories = ("none", "mild", "moderate", "severe")
    request = RatingRequest("categorical", "How would you describe the heat?", ANCHORS, 20.0, categories=categories)
    run = Running(channel.rate, request)
    img, g = shoot(channel, shots, "categorical")
    assert len(g["boxes"]) == 4 and all(inside(b, W, H) and ink(b_img := img, b) > 0.2 for b in g["boxes"])  # noqa: F841
    box = g["boxes"][2]
    xinput.click(box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
    time.sleep(0.1)
    img, g = shoot(channel, shots, "categorical_selected")
    assert g["selected"] == 2 and orange(img).any()
    confirm = g["confirm"]
    xinput.click(confirm["x"] + confirm["w"] / 2, confirm["y"] + confirm["h"] / 2)
    result = run.join()
    assert result.value == 2.0 and result.category == "moderate" and result.input_device == "mouse"


def test_timeout_is_missing_never_zero(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """No answer in time: value None (n/a), even if the marker was moved but not confirmed; 'No answer' shows."""
    request = RatingRequest("vas", "How painful was the heat at its strongest?", ANCHORS, timeout_s=0.5)
    run = Running(channel.rate, request)
    xinput.key("left")  # touched, never confirmed
    result = run.join()
    assert result.value is None and result.response_t is None and result.input_device == "none"
    assert result.onset_t == run.onset.t
    img, g = shoot(channel, shots, "no_answer")
    assert ink(img, g["text"]) > 0.05 and not orange(img).any()  # 'No answer', the scale gone


def test_continuous_rating_streams_samples_live(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """Continuous VAS: sampled at >= 30 Hz, None before the first touch, samples arrive while it runs."""
    request = ContinuousRequest("vas", "Rate your pain continuously.", ANCHORS, duration_s=1.5, rate_hz=30.0)
    live: list[tuple[float, float | None, float]] = []
    run = Running(channel.rate_continuously, request, lambda t, v: live.append((t, v, now())))
    g = run.geometry
    time.sleep(0.4)
    xinput.move(g["x0"] + (g["x1"] - g["x0"]) * 0.3, g["y"] - 20)
    time.sleep(0.3)
    img, g2 = shoot(channel, shots, "continuous")
    assert orange(img).any() and g2["marker_x"] is not None
    result = run.join()
    samples = result.samples
    assert len(samples) >= 0.9 * 1.5 * 30
    gaps = np.diff([t for t, _ in samples])
    assert np.median(gaps) < 1 / 30 + 0.002
    assert samples[0][1] is None  # untouched at the start
    assert abs(samples[-1][1] - 30.0) < 1.0
    assert len(live) == len(samples)
    assert max(arrived - t for t, _, arrived in live) < 0.1  # streamed as they were taken


def test_break_and_thank_you_screens(channel: DisplayChannel, shots: Path) -> None:
    """Break (title + remaining time) and thank-you screens render their texts."""
    run = Running(
        show_screen,
        channel,
        TextSpec(kind="break", title="Break", text="Relax for a moment.", timeout_s=0.6, show_timer=True),
    )
    img, g = shoot(channel, shots, "break")
    assert ink(img, g["text"]) > 0.04 and ink(img, {"x": 300, "y": 130, "w": 424, "h": 80}) > 0.02  # title
    run.join()
    run = Running(
        show_screen,
        channel,
        TextSpec(kind="thanks", title="Thank you!", text="The session is complete.", timeout_s=0.3),
    )
    img, g = shoot(channel, shots, "thanks")
    assert ink(img, g["text"]) > 0.04
    run.join()


def test_german_ui_strings(channel: DisplayChannel, xinput: XTestInjector, shots: Path) -> None:
    """With language de the display's own strings are German (hint, confirm, no answer)."""
    channel.language = "de"
    try:
        spec = rating_spec(
            channel.language,
            RatingRequest(
                "vas", "Wie schmerzhaft war die Hitze?", ("kein Schmerz", "stärkster vorstellbarer Schmerz"), 20.0
            ),
            feedback_s=channel.feedback_s,
            overlay=False,
        )
        assert spec.confirm == "Bestätigen" and spec.no_answer == "Keine Antwort"
        run = Running(
            channel.rate,
            RatingRequest(
                "vas", "Wie schmerzhaft war die Hitze?", ("kein Schmerz", "stärkster vorstellbarer Schmerz"), 20.0
            ),
        )
        xinput.key("right")
        time.sleep(0.1)
        img, g = shoot(channel, shots, "vas_de")
        for anchor in g["anchors"]:
            assert inside(anchor, W, H) and ink(img, anchor) > 0.05
        xinput.key("return")
        assert run.join().value == 50.0
    finally:
        channel.language = "en"


def test_onset_is_stamped_at_the_flip(channel: DisplayChannel) -> None:
    """The onset time is taken right after the flip (within 2 ms of PsychoPy's own flip time)."""
    spreads = []
    for _ in range(5):
        run = Running(show_screen, channel, FixationSpec(timeout_s=0.05))
        assert run.onset is not None and run.onset.flip_t is not None
        spreads.append(run.onset.t - run.onset.flip_t)
        run.join()
    assert all(-0.0005 < s < 0.002 for s in spreads), spreads


def test_message_injected_input_answers_a_rating(channel: DisplayChannel) -> None:
    """Input sent as typed inject messages (a display the engine's X cannot reach) is dispatched by the window."""
    injector = MessageInjector(channel)
    request = RatingRequest("nrs", "How painful is it?", ANCHORS, timeout_s=10.0)
    run = Running(channel.rate, request)
    injector.key("4")
    injector.key("return")
    assert run.join().value == 4.0
    run = Running(channel.rate, request)
    box, confirm = run.geometry["boxes"][6], run.geometry["confirm"]
    injector.click(box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
    time.sleep(0.1)
    injector.click(confirm["x"] + confirm["w"] / 2, confirm["y"] + confirm["h"] / 2)
    result = run.join()
    assert result.value == 6.0 and result.input_device == "mouse"
