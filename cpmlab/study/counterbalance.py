"""Counterbalanced condition orders: every order dealt out in blocks, each block shuffled by a stated seed."""

from __future__ import annotations

import itertools
import random

from cpmlab.study.model import Study

ORDER_SEPARATOR = "-"


def all_orders(conditions: list[str]) -> list[tuple[str, ...]]:
    """Return every order of the conditions, in the order itertools.permutations gives them."""
    return list(itertools.permutations(conditions))


def order_for(study: Study, enrolment_index: int) -> tuple[str, ...]:
    """Return the condition order of the participant enrolled at this 0-based index (permuted blocks).

    Participants are dealt the orders in blocks holding each order once; block b's sequence is
    the list of all orders shuffled by random.Random(f"{seed}:{b}"), so the assignment depends only
    on the seed and the enrolment position and is the same on every computer and Python version.
    """
    if enrolment_index < 0:
        raise ValueError("enrolment index must be 0 or more")
    orders = all_orders(study.conditions)
    if not orders or orders == [()]:
        return ()
    block, position = divmod(enrolment_index, len(orders))
    shuffled = list(orders)
    random.Random(f"{study.counterbalance.seed}:{block}").shuffle(shuffled)
    return shuffled[position]


def order_label(order: tuple[str, ...]) -> str:
    """Return the participants.tsv level of an order, e.g. 'active-sham'."""
    return ORDER_SEPARATOR.join(order)


def order_levels(study: Study) -> dict[str, tuple[str, ...]]:
    """Return every order's participants.tsv level and the order it stands for."""
    return {order_label(o): o for o in all_orders(study.conditions)}
