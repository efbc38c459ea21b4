"""The display's side of a lost engine: when its pings stop, tell the participant the session has stopped.

The engine pings every 0.25 s from its I/O thread, whatever the session does. If nothing comes
for ENGINE_SILENT_S (or the process that started the display is gone), the display replaces
whatever is on screen with a held notice in the session's language, and during an immersion
asks for the hand out of the water. If the engine speaks again (a network glitch), its next
screen replaces the notice.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from cpmlab.display.i18n import ui_text
from cpmlab.display.specs import TextSpec

log = logging.getLogger(__name__)

ENGINE_SILENT_S = 2.0
ORPHAN_LINGER_S = 600.0  # how long the notice stays up after the engine process died, unless closed


def stopped_text(language: str, immersed: bool) -> str:
    """Return the participant's notice that the session has stopped (hand out of the water if immersed)."""
    text = ui_text(language, "session_stopped")
    return f"{text}\n\n{ui_text(language, 'hand_out')}" if immersed else text


class EngineWatch:
    """Notice the engine falling silent or dying, and put up the stopped notice once."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.shown: Any = None  # the notice screen while it is up
        self.orphaned_at: float | None = None

    def check(self, app: Any, *, orphaned: bool) -> bool:
        """Show the notice if the engine is gone; return True once the process should exit."""
        t = time.monotonic()
        if orphaned and self.orphaned_at is None:
            self.orphaned_at = t
        silent = app.greeted and t - app.last_engine_t > ENGINE_SILENT_S
        if self.shown is None and (silent or self.orphaned_at is not None):
            self.show(app, "the engine process ended" if orphaned else "the engine stopped answering")
        return self.orphaned_at is not None and t - self.orphaned_at > ORPHAN_LINGER_S

    def show(self, app: Any, why: str) -> None:
        """Replace the screens with the stopped notice."""
        from cpmlab.display.screens import make_screen

        immersed = getattr(app.background, "kind", None) == "countdown"
        log.error("%s: telling the participant the session has stopped", why)
        spec = TextSpec(text=stopped_text(self.language, immersed), keys=(), timeout_s=None, hold=True)
        screen = make_screen(app.ctx, spec, None)
        app.current = app.feedback = None
        app.armed = None
        app.background = screen
        app.pending_onsets.append(screen)
        app.greeted = False  # say hello again each second: an engine that is only cut off can take us back
        self.shown = screen

    def engine_back(self, app: Any) -> None:
        """The engine spoke again: drop the notice (its next screen takes over)."""
        if self.shown is not None and self.orphaned_at is None:
            if app.background is self.shown:
                app.background = None
            self.shown = None
