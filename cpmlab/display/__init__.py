"""The participant display: PsychoPy screens in their own process, and the engine's channel to them.

The engine side (DisplayChannel, SimulatedDisplayParticipant) never imports PsychoPy; the
display process (cpmlab.display.app, `cpmlab display`) does. See docs/display.md.
"""

from __future__ import annotations

from cpmlab.display.channel import DisplayChannel
from cpmlab.display.simulated import SimulatedDisplayParticipant

__all__ = ["DisplayChannel", "SimulatedDisplayParticipant"]
