"""Counterbalancing: permuted blocks give each order once per block, depend only on the seed and position."""

from __future__ import annotations

from pathlib import Path

from study_helpers import STUDY

from cpmlab.study.counterbalance import all_orders, order_for
from cpmlab.study.loader import parse_study

ROOT = Path(__file__).resolve().parents[2]


def study(text: str = STUDY):
    return parse_study(text, str(ROOT / "studies" / "x.yaml")).study


def test_each_block_holds_every_order_once() -> None:
    """With two conditions every pair of consecutive enrolments gets both orders; with three, every six get all six."""
    s = study()
    for block in range(10):
        assert sorted(order_for(s, 2 * block + i) for i in range(2)) == sorted(all_orders(["active", "sham"]))
    three = s.model_copy(update={"conditions": ["a", "b", "c"]})
    for block in range(3):
        assert sorted(order_for(three, 6 * block + i) for i in range(6)) == sorted(all_orders(["a", "b", "c"]))


def test_the_assignment_is_fixed_by_the_seed() -> None:
    """The same seed gives the same sequence; over blocks, another seed gives another sequence."""
    s = study()
    first = [order_for(s, i) for i in range(20)]
    assert first == [order_for(study(), i) for i in range(20)]
    other = study(STUDY.replace("seed: 7", "seed: 8"))
    assert [order_for(other, i) for i in range(20)] != first
