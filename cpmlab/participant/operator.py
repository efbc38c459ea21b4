"""The operator answers for the participant: a console press of "pain detected" or "hand out" counts as their key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cpmlab.participant.channel import (
    ContinuousRequest,
    ContinuousResult,
    ParticipantChannel,
    RatingRequest,
    RatingResult,
    SampleCallback,
    ScreenResult,
)

# what the engine waits for -> the operator presses that answer it
RELAYED = {"withdrawal", "cold_detection"}
PressCallback = Callable[[str, str, float, bool], None]  # event, what, t, accepted


class OperatorResponses:
    """A participant channel that also takes the operator's response presses during immersions.

    The engine's wait for the participant's key (pain detected, hand withdrawn) ends at whichever
    comes first, the participant's key or the operator's press; the press time is returned exactly
    like the key's, so it is scored the same. Every press is reported to on_press for the journal.
    """

    def __init__(self, inner: ParticipantChannel, on_press: PressCallback) -> None:
        self.inner = inner
        self.on_press = on_press
        self._lock = threading.Lock()
        self._waiting: str | None = None
        self._pressed: list[float] = []
        self._wake = threading.Event()

    def press(self, event: str, what: str, t: float) -> bool:
        """Record an operator press at shared-clock time t; return True if it answered a pending wait."""
        with self._lock:
            accepted = self._waiting == what
            if accepted:
                self._pressed.append(t)
                self._wake.set()
        self.on_press(event, what, t, accepted)
        return accepted

    def wait_for_response(self, timeout_s: float, what: str = "withdrawal") -> float | None:
        """Wait for the participant's key or the operator's press, whichever comes first."""
        if what not in RELAYED:
            return self.inner.wait_for_response(timeout_s, what)
        box: list[float | None] = []
        with self._lock:
            self._waiting, self._pressed = what, []
            self._wake.clear()
        thread = threading.Thread(
            target=lambda: box.append(self.inner.wait_for_response(timeout_s, what)), name="response", daemon=True
        )
        thread.start()
        try:
            while thread.is_alive() and not self._wake.wait(0.02):
                pass
            with self._lock:
                pressed = self._pressed[0] if self._pressed else None
                self._waiting = None
            if pressed is not None:
                while thread.is_alive():  # end the participant's wait before the engine's next screen
                    self.inner.cancel()
                    thread.join(0.05)
                participant = box[0] if box else None
                return min(pressed, participant) if participant is not None else pressed
            thread.join()
            return box[0] if box else None
        finally:
            with self._lock:
                self._waiting = None

    def cancel(self) -> None:
        """End whatever is showing (and any pending wait) at once."""
        self._wake.set()
        self.inner.cancel()

    # -- everything else goes straight to the participant's channel -----------------------------------
    def show_text(self, text: str, *, key: str | None, timeout_s: float | None) -> ScreenResult:
        """Show text on the participant's channel."""
        return self.inner.show_text(text, key=key, timeout_s=timeout_s)

    def rate(self, request: RatingRequest) -> RatingResult:
        """Ask the participant for a rating."""
        return self.inner.rate(request)

    def rate_continuously(self, request: ContinuousRequest, on_sample: SampleCallback) -> ContinuousResult:
        """Run a continuous rating on the participant's channel."""
        return self.inner.rate_continuously(request, on_sample)

    def prompt_immersion(self, text: str, duration_s: float) -> float:
        """Ask for the hand in the water."""
        return self.inner.prompt_immersion(text, duration_s)

    def prompt_withdrawal(self, text: str) -> float:
        """Ask for the hand out of the water."""
        return self.inner.prompt_withdrawal(text)

    def close(self) -> None:
        """Close the participant's channel."""
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # e.g. observe(), screenshot() of the wrapped channel
