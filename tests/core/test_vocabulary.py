"""The event vocabulary: every kind is declared once, the bus refuses undeclared fields and wrong types."""

from __future__ import annotations

import numpy as np
import pytest

from cpmlab.core import events as ev
from cpmlab.core import scales
from cpmlab.core import vocabulary as voc


def test_the_bus_refuses_a_misspelt_field_and_delivers_nothing() -> None:
    """A typo (stimulus_C) raises EventFieldError naming it; no subscriber sees the event."""
    bus = ev.EventBus()
    seen: list[ev.Event] = []
    bus.subscribe(seen.append, critical=True)
    with pytest.raises(voc.EventFieldError, match="stimulus_C"):
        bus.emit(ev.RATING, value=50.0, stimulus_C=46.0)
    assert seen == []


def test_the_bus_refuses_an_undeclared_kind_and_a_wrong_type() -> None:
    """An unknown kind and a text where a number is declared are both refused."""
    bus = ev.EventBus()
    with pytest.raises(voc.EventFieldError, match="unknown event kind"):
        bus.emit("ratng", value=1.0)
    with pytest.raises(voc.EventFieldError, match="target_c"):
        bus.emit(ev.STIMULUS, stage="ramp_start", target_c="46")
    with pytest.raises(voc.EventFieldError, match="censored"):
        bus.emit(ev.MEASURE, measure="threshold_trial", censored="yes")


def test_declared_fields_pass_and_numpy_scalars_become_plain_values() -> None:
    """A well-formed event is delivered; numpy bools/floats are stored as Python values (JSON-true)."""
    bus = ev.EventBus()
    seen: list[ev.Event] = []
    bus.subscribe(seen.append, critical=True)
    bus.emit(ev.MEASURE, measure="calibration_result", value=np.float64(45.5), censored=np.False_, unit="degC")
    assert seen[0].data["censored"] is False and type(seen[0].data["value"]) is float


def test_every_kind_the_engine_emits_is_declared_with_typed_fields() -> None:
    """Each kind has fields with a type and a description; fields naming a column name a declared column."""
    for kind in voc.KINDS.values():
        assert kind.fields and kind.description
        for f in kind.fields:
            assert f.types and f.description, (kind.name, f.name)
            assert f.column is None or f.column in voc.EVENT_COLUMNS, (kind.name, f.name)
    emitted = {getattr(ev, n) for n in dir(ev) if n.isupper() and isinstance(getattr(ev, n), str)}
    assert emitted <= set(voc.KINDS)


def test_driver_specific_fields_are_nested_not_dropped() -> None:
    """Reply fields a driver parsed travel in 'fields'; a kind without 'fields' refuses extras."""
    nested = voc.nest_undeclared("reply", {"device": "thermode", "raw": "41", "firmware": "1.2"})
    assert nested == {"device": "thermode", "raw": "41", "fields": {"firmware": "1.2"}}
    voc.check_event("reply", nested)
    with pytest.raises(voc.EventFieldError):
        voc.nest_undeclared("rating", {"valeu": 3})
    bus = ev.EventBus()
    seen: list[ev.Event] = []
    bus.subscribe(seen.append, critical=True)
    voc.driver_sink(bus.emit)("reply", device="cold_pressor", raw="3130", value=10.0)
    assert seen[0].data == {"device": "cold_pressor", "raw": "3130", "fields": {"value": 10.0}}


def test_rating_scales_are_defined_once() -> None:
    """VAS 0-100 step 0.1, NRS 0-10 whole numbers, categorical 0..n-1; unknown names are refused."""
    assert scales.SCALES["vas"].range() == (0.0, 100.0)
    assert scales.SCALES["nrs"].values() == [float(i) for i in range(11)]
    assert scales.SCALES["categorical"].range(4) == (0.0, 3.0)
    assert scales.NUMERIC_SCALES == ("vas", "nrs")
    with pytest.raises(ValueError, match="unknown rating scale"):
        scales.scale("likert")
