"""Which identity queries are still unanswered: the sequencing that matches replies to questions.

After a reply is lost or late, a driver asks the device's identity and discards every line
before the answer. Serial devices answer in order, so once the answer to the *last* identity
query still owed has been read, no earlier reply is on its way. Identity replies look alike,
so this ledger counts them: a resynchronisation is complete only when every identity query
sent has been answered. A query unanswered for ``lost_after_s`` counts as lost (the device
dropped it, e.g. while silent or sending garbage); a reply later than that is treated as
lost, which is the one assumption this sequencing makes (docs/hardware.md).
"""

from __future__ import annotations

import time
from collections import deque

#: An identity query unanswered for this many reply timeouts counts as lost.
LOST_AFTER_TIMEOUTS = 5.0


class IdentityLedger:
    """The identity queries sent and not yet answered, oldest first."""

    def __init__(self, reply_timeout_s: float) -> None:
        self.lost_after_s = LOST_AFTER_TIMEOUTS * reply_timeout_s
        self._sent: deque[float] = deque()

    def sent(self) -> None:
        """Note that an identity query went out now."""
        self._sent.append(time.monotonic())

    def answered(self) -> bool:
        """Note one identity reply; return True if no identity query is owed any more."""
        self._expire()
        if self._sent:
            self._sent.popleft()
        return not self._sent

    def forget_oldest(self) -> None:
        """Drop the oldest query: the device is known to ignore it (the first after connect)."""
        if self._sent:
            self._sent.popleft()

    def owed(self) -> int:
        """Return how many identity queries are still unanswered (lost ones dropped)."""
        self._expire()
        return len(self._sent)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.lost_after_s
        # Keep the newest: it is the one whose answer ends the resynchronisation.
        while len(self._sent) > 1 and self._sent[0] < cutoff:
            self._sent.popleft()
