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


class StimulusRefusedError(DeviceError):
    """The device did not accept a stimulus (an error answer, or it never started it).

    Raised by a driver's ``stimulate`` to its caller, not reported through fault listeners:
    the engine journals it once (cause ``stimulus_refused``) and ends the session as a fault.
    """

    def __init__(self, message: str, *, command: str = "") -> None:
        super().__init__(message)
        self.command = command  # the request the device refused, e.g. SELECT_TP
        self.step_id: str | None = None  # set by the engine step that delivered the stimulus
