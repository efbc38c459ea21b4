"""The countdown of what is running now, computed as the participant display computes its own (no Qt).

The display counts the immersion down from the flip of its 'hand in the water' screen, which is
the time of the engine's immersion_start event: remaining = duration_s - (t - onset) x speed,
shown rounded up. The console takes the same event and the same formula (and the display's own
formatter), so both show the same second. Other steps get the step's remaining time from their
step_start; a wait without participant text is the one the engine suspends while paused.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpmlab.console.progress import Occurrence, SessionProgress, pausable
from cpmlab.display.screen_base import format_clock as format_countdown

WHAT = {"immersion": "hand in the water", "wait": "wait", "rating": "answer", "instruction": "instruction"}


@dataclass(frozen=True)
class Countdown:
    """Time left of the running step, in protocol seconds."""

    what: str
    remaining_s: float
    total_s: float
    upper_bound: bool  # the step may end sooner (a key, an answer, a withdrawal)
    frozen: bool  # paused, and the engine holds this wait until the resume
    participant_sees: bool  # the participant display shows this same countdown

    @property
    def text(self) -> str:
        """Return e.g. '0:42 left', 'at most 0:12 left', '0:12 left (paused)'."""
        shown = f"{'at most ' if self.upper_bound else ''}{format_countdown(self.remaining_s)} left"
        return f"{shown} (paused)" if self.frozen else shown


def current_countdown(progress: SessionProgress, t: float) -> Countdown | None:
    """Return the countdown of the running step at shared-clock time t, or None if nothing counts down."""
    if progress.t0 is None or progress.t_end is not None:
        return None
    clock = progress.clock
    running = [o for o in progress.current() if o.started_t is not None]
    immersion = next((o for o in running if o.kind == "immersion"), None)
    if immersion is not None:
        if progress.immersion_t is None:
            return None  # the bath is settling, or the hand is out: nothing counts down
        duration = float(getattr(immersion.step, "duration_s", immersion.duration_s))
        remaining = max(duration - clock.since(progress.immersion_t, t), 0.0)
        return Countdown(WHAT["immersion"], remaining, duration, False, False, True)
    timed = [o for o in running if _length_s(o) > 0]
    if not timed:
        return None
    occ = timed[-1]
    duration = _length_s(occ)
    remaining = max(duration - progress.step_elapsed_s(occ, t), 0.0)
    frozen = clock.paused and pausable(occ)
    upper = occ.upper_bound and occ.actual_duration_s is None
    return Countdown(WHAT.get(occ.kind, occ.kind), remaining, duration, upper, frozen, False)


def _length_s(occ: Occurrence) -> float:
    return occ.actual_duration_s if occ.actual_duration_s is not None else occ.duration_s
