"""The software over-temperature watchdog: what counts as a breach, and what the engine does about one."""

from __future__ import annotations

from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathReading, ThermodeReading
from cpmlab.engine import SessionOutcome
from cpmlab.engine.watchdog import BATH_TOLERANCE_C, THERMODE_TOLERANCE_C, Breach, TemperatureWatchdog

SPEED_FAST = 10.0
LIMITS = SafetyLimits(max_thermode_c=50.0, min_thermode_c=5.0, min_bath_c=4.0, max_bath_c=48.0)


def _watchdog(hand_in_water: bool = True) -> tuple[TemperatureWatchdog, list[Breach]]:
    breaches: list[Breach] = []
    return TemperatureWatchdog(LIMITS, breaches.append, lambda: hand_in_water), breaches


def _zones(*zones_c: float) -> ThermodeReading:
    return ThermodeReading(1.0, 32.0, zones_c)


def test_thermode_readings_inside_the_tolerance_pass_and_beyond_it_trip() -> None:
    """A zone up to max + tolerance (or down to min - tolerance) is fine; one step past it trips, naming the zone."""
    dog, breaches = _watchdog()
    assert dog.check_thermode(_zones(50.0 + THERMODE_TOLERANCE_C, 32, 32, 32, 32)) is None
    assert dog.check_thermode(_zones(32, 5.0 - THERMODE_TOLERANCE_C, 32, 32, 32)) is None
    assert not breaches
    breach = dog.check_thermode(_zones(32, 32, 51.2, 32, 32))
    assert breach is not None and breaches == [breach]
    assert (breach.device, breach.zone, breach.bound, breach.limit_c, breach.reading_c) == (
        "thermode",
        3,
        "max",
        50.0,
        51.2,
    )


def test_a_probe_below_the_minimum_trips() -> None:
    """A zone colder than min_thermode_c - tolerance is a breach of the minimum."""
    dog, breaches = _watchdog()
    dog.check_thermode(_zones(32, 32, 32, 32, 3.5))
    assert [(b.bound, b.zone, b.limit_c) for b in breaches] == [("min", 5, 5.0)]


def test_the_watchdog_trips_once() -> None:
    """Readings after the first breach still report it but call the engine only once."""
    dog, breaches = _watchdog()
    for _ in range(3):
        assert dog.check_thermode(_zones(55, 55, 55, 55, 55)) is not None
    assert len(breaches) == 1 and dog.tripped is breaches[0]


def test_the_bath_is_watched_only_while_a_hand_is_in_the_water() -> None:
    """A bath out of range with no hand in it is not a breach; with a hand in, past the tolerance, it is."""
    dry, dry_breaches = _watchdog(hand_in_water=False)
    assert dry.check_bath(BathReading(1.0, 1.0)) is None and not dry_breaches
    wet, breaches = _watchdog(hand_in_water=True)
    assert wet.check_bath(BathReading(1.0, 4.0 - BATH_TOLERANCE_C)) is None
    assert wet.check_bath(BathReading(1.0, 48.0 + BATH_TOLERANCE_C)) is None
    assert wet.check_bath(BathReading(1.0, 3.2)) is not None
    assert [(b.device, b.bound, b.limit_c, b.zone) for b in breaches] == [("cold_pressor", "min", 4.0, None)]


def test_breach_fields_are_typed_not_words() -> None:
    """The journal gets the reading, the limit, the bound and the device as fields."""
    fields = Breach("thermode", 2.0, 53.456, 50.0, "max", 1.0, 2).fields()
    assert fields["reading_c"] == 53.456 and fields["limit_c"] == 50.0 and fields["bound"] == "max"
    assert fields["device"] == "thermode" and fields["zone"] == 2 and fields["cause"] == "watchdog"


def test_an_overshooting_probe_aborts_every_device_and_ends_the_session_as_a_fault() -> None:
    """A probe that passes its command beyond max + tolerance: abort to thermode and bath, fault journaled, outcome fault."""
    run = make_run(
        """
        steps:
          - {type: thermal, id: ts, target_c: 46, plateau_s: 20}
          - {type: marker, id: after, name: x}
    """,
        speed=SPEED_FAST,
        rate_hz=100,
    )
    run.thermode.physics.set_overshoot(8.0)
    assert run.engine.run() == SessionOutcome.FAULT
    fault = run.of(ev.FAULT)[0]
    assert fault.data["device"] == "thermode" and fault.data["bound"] == "max" and fault.data["limit_c"] == 50
    assert fault.data["reading_c"] > 50 + THERMODE_TOLERANCE_C
    assert [c for c in run.thermode.calls if c[0] == "abort"] and [c for c in run.bath.calls if c[0] == "abort"]
    first_abort_t = min(c[1] for c in run.thermode.calls if c[0] == "abort")
    assert 0 <= first_abort_t - fault.data["reading_t"] < 0.25  # sent from the reading's own callback
    assert run.of(ev.CONTROL, action="abort", source="watchdog")
    assert not run.of(ev.STEP_START, step_id="after")
    assert run.of(ev.SESSION_END)[0].data["outcome"] == "fault"


def test_a_bath_drifting_out_of_range_during_immersion_ends_the_session() -> None:
    """With a hand in the water, a bath colder than min_bath_c - tolerance aborts every device and withdraws the hand."""
    run = make_run(
        """
        steps:
          - {type: immersion, id: cs, setpoint_c: 10, duration_s: 100, max_s: 100}
    """,
        speed=SPEED_FAST,
    )
    run.engine.bath_poll_interval_s = 0.05
    thread = run.start()
    run.wait_for(ev.IMMERSION, stage="immersion_start")
    run.bath.physics.set_drift(-2.0)
    thread.join(15)
    assert run.engine.outcome == SessionOutcome.FAULT
    fault = run.of(ev.FAULT, device="cold_pressor")[0]
    assert fault.data["bound"] == "min" and fault.data["reading_c"] < 5 - BATH_TOLERANCE_C
    assert run.of(ev.IMMERSION, stage="immersion_end")[0].data["reason"] == "fault"
    assert [c for c in run.thermode.calls if c[0] == "abort"]


def test_an_out_of_range_bath_with_no_hand_in_is_not_a_fault() -> None:
    """Before the immersion starts the bath may be anywhere; the session is not ended by the watchdog."""
    run = make_run(
        """
        steps:
          - {type: wait, id: w, duration_s: 20}
    """,
        speed=SPEED_FAST,
    )
    run.engine.bath_poll_interval_s = 0.05
    run.bath.physics.set_drift(-5.0)
    assert run.engine.run() == SessionOutcome.COMPLETED
    assert not run.of(ev.FAULT)
