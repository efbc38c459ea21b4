"""Device errors read as sentences: OS errors, pyserial's open errors, the project's own errors, anything else."""

from __future__ import annotations

import errno

import pytest
import serial

from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.devices.error_text import plain_error, plain_fault

NO_JARGON = ("Error", "Errno", "Exception", "Traceback")


def _words_only(text: str) -> bool:
    return not any(j in text for j in NO_JARGON) and text[0].isupper() and text.endswith((".", ")"))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file or directory"), "does not exist"),
        (PermissionError(errno.EACCES, "Permission denied"), "dialout"),
        (
            serial.SerialException(
                errno.EBUSY, "could not open port /dev/ttyUSB0: [Errno 16] Device or resource busy: '/dev/ttyUSB0'"
            ),
            "in use by another program",
        ),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "Nothing answers"),
        (TimeoutError(), "did not answer in time"),
        (DeviceError("no valid reply from the TCS II to 'H' within 1 s"), "reported a problem"),
        (LimitError("target temperature 58 C is outside the allowed range 5-50 C"), "safety limit"),
        (KeyError("surprise"), "failed unexpectedly"),
    ],
)
def test_errors_become_sentences_without_exception_names(exc: BaseException, expected: str) -> None:
    """Each kind of error gives a sentence that says what to do, never a type name or errno."""
    text = plain_error(exc, "thermode", "/dev/ttyUSB0")
    assert expected in text and _words_only(text), text


def test_a_wrapped_os_error_is_found_through_the_cause_chain() -> None:
    """A project error raised from an OSError reads as the OS error's sentence."""
    try:
        try:
            raise PermissionError(errno.EACCES, "Permission denied")
        except OSError as inner:
            raise DeviceError("could not open the port") from inner
    except DeviceError as exc:
        text = plain_error(exc, "cold_pressor", "/dev/ttyUSB1")
    assert "No permission to open /dev/ttyUSB1" in text and _words_only(text)


def test_fault_messages_with_os_error_text_are_rewritten() -> None:
    """A streamed fault carrying '[Errno 5] Input/output error' becomes 'the connection was lost'."""
    text = plain_fault("write to the TCS II failed (port vanished?): [Errno 5] Input/output error", "thermode")
    assert "connection to the thermode was lost" in text and _words_only(text)
    assert (
        plain_fault("zone 3 read 54.0 C, above the maximum of 50 C") == "Zone 3 read 54.0 C, above the maximum of 50 C."
    )
