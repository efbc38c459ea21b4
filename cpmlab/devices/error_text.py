"""Device errors as sentences for people: the one place that turns exceptions into plain text.

The console (and any other front end) shows these instead of ``TypeName: [Errno 13] ...``.
"""

from __future__ import annotations

import errno
import re

from cpmlab.core.errors import CpmlabError, DeviceError, LimitError

_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")

# errno -> sentence; {device} and {port} are filled in.
_OS_SENTENCES: dict[int, str] = {
    errno.ENOENT: "The port {port} does not exist: check that the {device} is plugged in and the port name is right.",
    errno.EACCES: (
        "No permission to open {port}: add your user to the 'dialout' group (then log out and in again), "
        "or ask the lab's administrator."
    ),
    errno.EPERM: "No permission to open {port}: ask the lab's administrator for access to the port.",
    errno.EBUSY: "The port {port} is in use by another program: close that program and test again.",
    errno.EIO: "The connection to the {device} was lost (cable pulled, adapter unplugged or device switched off).",
    errno.ENXIO: "The {device} is not there any more (adapter unplugged?): plug it in and test again.",
    errno.ENODEV: "The {device} is not there any more (adapter unplugged?): plug it in and test again.",
    errno.ECONNREFUSED: (
        "Nothing answers at {port}: start the device's software (for a Medoc: external control) and check the address."
    ),
    errno.EHOSTUNREACH: "The computer at {port} cannot be reached: check the network cable and the address.",
    errno.ENETUNREACH: "The network to {port} cannot be reached: check the network connection.",
    errno.ETIMEDOUT: "The {device} did not answer in time: check that it is switched on and connected.",
}


def _errno_of(exc: BaseException) -> int | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "errno", None)
        if isinstance(code, int) and code in _OS_SENTENCES:
            return code
        match = _ERRNO_IN_TEXT.search(str(current))
        if match and int(match.group(1)) in _OS_SENTENCES:
            return int(match.group(1))
        current = current.__cause__ or current.__context__
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def plain_error(exc: BaseException, device: str = "device", port: str | None = None) -> str:
    """Return what went wrong with a device (a role such as cold_pressor) as a sentence for the operator."""
    device = device.replace("_", " ")
    where = port or "its port"
    code = _errno_of(exc)
    if code is not None:
        return _OS_SENTENCES[code].format(device=device, port=where)
    if isinstance(exc, TimeoutError):
        return f"The {device} did not answer in time: check that it is switched on and connected."
    if isinstance(exc, LimitError):
        return _sentence(f"A safety limit stopped it: {exc}")
    if isinstance(exc, DeviceError):
        return _sentence(f"The {device} reported a problem: {exc}")
    if isinstance(exc, CpmlabError):
        return _sentence(str(exc))
    if isinstance(exc, OSError):
        return f"The {device} could not be reached ({exc.strerror or 'system error'}): check the cable and the port."
    return f"The {device} test failed unexpectedly; the log has the details."


def plain_fault(message: str, device: str = "device") -> str:
    """Return a fault message with any operating-system error text replaced by a sentence."""
    match = _ERRNO_IN_TEXT.search(message)
    if match and int(match.group(1)) in _OS_SENTENCES:
        return _OS_SENTENCES[int(match.group(1))].format(device=device, port="its port")
    return _sentence(message)
