"""Exception types shared by all layers."""


class CpmlabError(Exception):
    """Base class for errors cpmlab reports to the user."""


class LimitError(CpmlabError):
    """A value would exceed a safety limit; nothing was sent."""


class LabelError(CpmlabError, ValueError):
    """A participant, session, run or task label is not valid BIDS."""


class SessionExistsError(CpmlabError):
    """A session with the same labels already exists; it is never overwritten."""


class DeviceError(CpmlabError):
    """A device did not answer, answered garbage, reported an alarm or vanished."""


class SessionAborted(CpmlabError):  # noqa: N818 - a control-flow signal, not an error
    """The session was aborted or emergency-stopped."""
