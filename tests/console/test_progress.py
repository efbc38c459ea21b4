"""The console's timeline tracking (no Qt): rows per repetition, matching step events, what comes next."""

from __future__ import annotations

from pathlib import Path

from cpmlab.console.environment import label_problem, limit_rows, preview_protocol, run_problem
from cpmlab.console.progress import SessionProgress, build_occurrences, format_zones
from cpmlab.core.events import Event
from cpmlab.core.limits import SafetyLimits
from cpmlab.labconfig import LabConfig
from cpmlab.protocol.loader import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "cpm_sequential.yaml"


def test_block_repetitions_get_their_own_rows_with_shifted_starts() -> None:
    """cpm_sequential: 2 x (heat, rating, wait) before and after; the second repetition starts one block later."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    heats = [o for o in occ if o.kind == "thermal"]
    assert [(o.path, o.rep, o.step.phase) for o in heats] == [
        ("steps[1].steps[0]", 1, "before"),
        ("steps[1].steps[0]", 2, "before"),
        ("steps[5].steps[0]", 1, "after"),
        ("steps[5].steps[0]", 2, "after"),
    ]
    assert heats[1].start_s - heats[0].start_s == 72.0  # one repetition: 27 + 15 + 30 s
    assert [o.kind for o in occ if not o.leaf] == ["block", "block"]


def test_step_events_move_the_session_along_and_tell_what_comes_next() -> None:
    """After the welcome screen the next notable step is the first heat stimulus, then the hand into the water."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    p = SessionProgress(occ, speed=10.0, variables={"ts_target_c": 46.0})
    p.on_event(Event("session_start", 100.0))
    p.on_event(Event("step_start", 100.0, {"path": "steps[0]"}))
    assert "Heat stimulus 46.0 °C (before)" in p.next_text(100.5) and "when this step ends" in p.next_text(100.5)
    p.on_event(Event("step_end", 101.0, {"path": "steps[0]", "status": "done"}))
    cs = next(o for o in occ if o.kind == "immersion")
    instruction = next(o for o in occ if o.step_id == "cs_instruction")
    for o in occ:
        if o.leaf and o.index < instruction.index and o.state == "pending":
            p.on_event(Event("step_start", 102.0, {"path": o.path, "rep": o.rep}))
            p.on_event(Event("step_end", 102.0, {"path": o.path, "rep": o.rep, "status": "done"}))
    p.on_event(Event("step_start", 103.0, {"path": instruction.path}))
    up = p.next_up(103.0)
    assert up is not None and up[0] is cs
    assert p.next_text(103.0) == "Hand into the water (10 °C, 60 s) in 0:30"  # protocol seconds, as every clock
    assert p.remaining_s(103.0) == p.total_s - instruction.start_s
    p.on_event(Event("control", 103.5, {"action": "pause"}))
    assert p.protocol_clock_s(110.0) == 100.0  # the data's clock: (t - start) x speed, pauses included
    assert p.clock.shown_s(110.0) == p.clock.shown_s(103.5) == 35.0  # the header's clock stops at the pause
    p.on_event(Event("session_end", 111.0, {"outcome": "aborted"}))
    assert instruction.state == "aborted" and p.next_text(111.0) == ""


def test_labels_and_limits_are_explained() -> None:
    """Inline label problems name the fix; the limits table says which side is stricter."""
    assert label_problem("participant", "sub-01") == "leave out 'sub-': type only the label, e.g. '01'"
    assert label_problem("session", "a b_c") == "letters and digits only (remove space '_')"
    assert label_problem("participant", "P01") is None
    assert run_problem("0") and run_problem("x") and run_problem("2") is None
    protocol, lab = SafetyLimits(max_plateau_s=60), SafetyLimits(min_bath_c=6)
    rows = {r.name: r for r in limit_rows(protocol, lab, protocol.stricter(lab))}
    assert rows["max_plateau_s"].stricter == "protocol" and rows["min_bath_c"].stricter == "lab"
    preview = preview_protocol(PROTOCOL, LabConfig())
    assert preview.ok and preview.first_setpoint_c == 10.0 and "total:" in preview.timeline_text
    assert format_zones([1, 2, 3, 4, 5]) == "1-5" and format_zones([1, 3]) == "1,3"
