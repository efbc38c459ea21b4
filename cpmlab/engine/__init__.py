"""The session engine: runs a protocol's steps in real time against device interfaces."""

from cpmlab.engine.context import EngineDevices, SessionContext
from cpmlab.engine.engine import SessionEngine, SessionOutcome

__all__ = ["EngineDevices", "SessionContext", "SessionEngine", "SessionOutcome"]
