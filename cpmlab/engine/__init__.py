"""The session engine: runs a protocol's steps in real time against device interfaces."""

from cpmlab.engine.engine import EngineDevices, SessionEngine, SessionOutcome

__all__ = ["EngineDevices", "SessionEngine", "SessionOutcome"]
