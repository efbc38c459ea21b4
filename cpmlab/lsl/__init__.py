"""Lab Streaming Layer: session events and signals on the network, and XDF recording."""

from cpmlab.lsl.bridge import LslBridge
from cpmlab.lsl.recorder import XdfRecorder
from cpmlab.lsl.vocabulary import event_marker, format_marker, parse_marker

__all__ = ["LslBridge", "XdfRecorder", "event_marker", "format_marker", "parse_marker"]
