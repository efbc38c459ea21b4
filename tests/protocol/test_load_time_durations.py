"""total_s and continuous-rating windows are evaluated at load: a validated protocol cannot fail on them mid-session."""

from __future__ import annotations

import textwrap

import pytest

from cpmlab.protocol.loader import ProtocolError, parse_protocol

HEADER = """\
name: t
title: Test
task: cpmtest
limits: {max_thermode_c: 48, max_plateau_s: 60}
variables: {ts_c: 46, win_s: 30, tot_s: 20}
"""


def problems(body: str, overrides: dict[str, object] | None = None) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(HEADER + textwrap.dedent(body), "p.yaml", None, overrides)
    return [str(p) for p in info.value.problems]


def test_total_s_shorter_than_its_ramp_and_return_is_refused_with_file_and_line() -> None:
    """46 C from 32 C at 2 C/s up and down needs 14 s; total_s 10 is refused at load, naming file, line and field."""
    [message] = problems("steps:\n  - {type: thermal, id: ts, target_c: 46, total_s: 10}\n")
    assert message.startswith("p.yaml:7") and "total_s" in message and "shorter than the ramp and return" in message


def test_total_s_leaving_a_plateau_above_the_limit_is_refused() -> None:
    """total_s 100 leaves an 86 s plateau, above max_plateau_s 60: refused at load, not when the stimulus is sent."""
    [message] = problems("steps:\n  - {type: thermal, id: ts, target_c: 46, total_s: 100}\n")
    assert "total_s" in message and "plateau 86 s" in message


def test_total_s_from_a_variable_is_checked_with_set_values() -> None:
    """An expression total_s uses the declared value, or the --set one: both are checked at load."""
    body = 'steps:\n  - {type: thermal, id: ts, target_c: "${ts_c}", total_s: "${tot_s}"}\n'
    parse_protocol(HEADER + body, "p.yaml")  # 20 s: 14 s of ramps and a 6 s plateau
    assert any("total_s" in m for m in problems(body, {"tot_s": 12}))
    assert any("total_s" in m for m in problems(body, {"tot_s": 90}))


@pytest.mark.parametrize("window", ["0", "-5", "601", '"${win_s * 100}"'])
def test_continuous_rating_windows_outside_the_range_are_refused(window: str) -> None:
    """A window of 0, a negative one, or one longer than 600 s (directly or through a variable) is refused at load."""
    body = f"steps:\n  - {{type: thermal, id: ts, target_c: 46, plateau_s: 5}}\n  - {{type: continuous_rating, rates: ts, duration_s: {window}}}\n"
    [message] = problems(body)
    assert "p.yaml:8" in message and "continuous-rating window" in message


def test_a_continuous_window_set_out_of_range_is_refused() -> None:
    """--set win_s=0 makes a window of 0 s: refused at load."""
    body = 'steps:\n  - {type: thermal, id: ts, target_c: 46, plateau_s: 5}\n  - {type: continuous_rating, rates: ts, duration_s: "${win_s}"}\n'
    parse_protocol(HEADER + body, "p.yaml")
    assert any("continuous-rating window" in m for m in problems(body, {"win_s": 0}))
