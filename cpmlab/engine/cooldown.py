"""After a stop: keep the device streams on until the thermode probe is back at neutral, and say so.

An emergency stop, an abort or a fault sends every device its abort; the probe then returns
to neutral at its return rate. The session keeps publishing readings meanwhile (the console
shows them), and ends with a marker that says whether the probe reached neutral.
"""

from __future__ import annotations

import threading

from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.engine.context import SessionContext

# A zone within this of the neutral temperature counts as back (a probe settles onto neutral
# from a stimulus within a few tenths of a degree; 1 C keeps a slow last approach from
# holding the session open for long).
NEUTRAL_TOLERANCE_C = 1.0
# The longest the session waits for the probe, in real seconds (a 30 C return at the slowest
# usual 1 C/s takes 30 s).
COOLDOWN_TIMEOUT_S = 60.0
# No reading for this long: the probe's temperature is unknown and waiting is pointless.
NO_READING_S = 2.0
PROBE_AT_NEUTRAL = "probe_at_neutral"
PROBE_NOT_AT_NEUTRAL = "probe_not_at_neutral"


def wait_for_neutral(
    ctx: SessionContext,
    stop: threading.Event | None = None,
    timeout_s: float = COOLDOWN_TIMEOUT_S,
    poll_s: float = 0.05,
) -> bool:
    """Wait until every zone is within NEUTRAL_TOLERANCE_C of neutral; journal the result; True if it got there."""
    if ctx.devices.thermode is None:
        return True
    started = now()
    stop = stop or threading.Event()
    while True:
        t = now()
        reading = ctx.thermode_at(t)
        waited_s = round(t - started, 3)
        if reading is None or t - reading.t > NO_READING_S:
            if t - started > NO_READING_S:
                ctx.bus.emit(ev.MARKER, name=PROBE_NOT_AT_NEUTRAL, reason="no readings", waited_s=waited_s)
                return False
        else:
            off_c = max(abs(z - reading.neutral_c) for z in reading.zones_c)
            if off_c <= NEUTRAL_TOLERANCE_C:
                ctx.bus.emit(
                    ev.MARKER,
                    name=PROBE_AT_NEUTRAL,
                    neutral_c=round(reading.neutral_c, 2),
                    max_off_c=round(off_c, 2),
                    waited_s=waited_s,
                )
                return True
            if t - started > timeout_s:
                ctx.bus.emit(
                    ev.MARKER,
                    name=PROBE_NOT_AT_NEUTRAL,
                    reason="timeout",
                    neutral_c=round(reading.neutral_c, 2),
                    max_off_c=round(off_c, 2),
                    waited_s=waited_s,
                )
                return False
        if stop.wait(poll_s):
            return False
