"""The one step walker: depth-first order, YAML paths, depths and expanded repetitions."""

from __future__ import annotations

import textwrap

from cpmlab.protocol.loader import parse_protocol
from cpmlab.protocol.walk import child_path, fmt_path, walk_steps

NESTED = textwrap.dedent(
    """\
    name: nested
    title: Nested
    task: nested
    steps:
      - {type: marker, name: a}
      - type: parallel
        id: together
        steps:
          - {type: marker, name: b}
          - type: block
            id: inner
            repeat: 2
            steps:
              - {type: marker, name: c}
              - type: block
                repeat: 3
                steps:
                  - {type: marker, name: d}
      - {type: marker, name: e}
    """
)


def _name(step: object) -> str:
    return getattr(step, "name", None) or getattr(step, "id", None) or getattr(step, "type", "?")


def test_walk_visits_nested_parallel_and_block_steps_depth_first_in_file_order() -> None:
    """Each step once, parents before children, with the YAML path and the nesting depth."""
    protocol = parse_protocol(NESTED, "nested.yaml")
    visits = list(protocol.walk())
    assert [(_name(v.step), fmt_path(v.path), v.depth) for v in visits] == [
        ("a", "steps[0]", 0),
        ("together", "steps[1]", 0),
        ("b", "steps[1].steps[0]", 1),
        ("inner", "steps[1].steps[1]", 1),
        ("c", "steps[1].steps[1].steps[0]", 2),
        ("block", "steps[1].steps[1].steps[1]", 2),
        ("d", "steps[1].steps[1].steps[1].steps[0]", 3),
        ("e", "steps[2]", 0),
    ]
    assert all(v.repetitions == () and v.rep is None for v in visits)
    assert [v.path for v in visits] == [v.path for v in walk_steps(protocol.steps)]


def test_expanded_walk_repeats_children_once_per_repetition_with_the_innermost_rep() -> None:
    """Block x2 around block x3: d is visited 6 times; rep/rep_of name the innermost repeated block."""
    protocol = parse_protocol(NESTED, "nested.yaml")
    visits = [v for v in protocol.walk(expand_repetitions=True) if _name(v.step) in ("c", "d")]
    assert [(_name(v.step), v.rep, v.rep_of) for v in visits] == [
        ("c", 1, 2),
        ("d", 1, 3),
        ("d", 2, 3),
        ("d", 3, 3),
        ("c", 2, 2),
        ("d", 1, 3),
        ("d", 2, 3),
        ("d", 3, 3),
    ]
    last = visits[-1]
    assert [(fmt_path(r.step_path), r.rep, r.of) for r in last.repetitions] == [
        ("steps[1].steps[1]", 2, 2),
        ("steps[1].steps[1].steps[1]", 3, 3),
    ]


def test_child_paths_and_their_text() -> None:
    """child_path appends the children's YAML key and index; fmt_path writes it as in error messages."""
    assert child_path(("steps", 3), 0) == ("steps", 3, "steps", 0)
    assert fmt_path(child_path(("steps", 3), 0)) == "steps[3].steps[0]"
    assert fmt_path(("limits", "max_thermode_c")) == "limits.max_thermode_c"
