"""The participant screens by spec: text, fixation, countdown, rating (VAS/NRS/categorical), continuous."""

from __future__ import annotations

from cpmlab.display.rating_screens import ContinuousScreen, RatingScreen
from cpmlab.display.screen_base import Screen
from cpmlab.display.specs import (
    BlankSpec,
    ContinuousSpec,
    CountdownSpec,
    FixationSpec,
    RatingSpec,
    ScreenSpec,
    TextSpec,
)
from cpmlab.display.text_screens import CountdownScreen, FixationScreen, TextScreen
from cpmlab.display.widgets import Context

SCREENS: dict[type, type[Screen]] = {
    TextSpec: TextScreen,
    FixationSpec: FixationScreen,
    CountdownSpec: CountdownScreen,
    RatingSpec: RatingScreen,
    ContinuousSpec: ContinuousScreen,
    BlankSpec: Screen,
}


def make_screen(ctx: Context, spec: ScreenSpec, request_id: int | None) -> Screen:
    """Build the screen a spec describes (ValueError for a spec of no known screen)."""
    screen = SCREENS.get(type(spec))
    if screen is None:
        raise ValueError(f"no screen shows a {type(spec).__name__}")
    return screen(ctx, spec, request_id)
