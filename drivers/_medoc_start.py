"""Starting one Medoc test program: select, start (or let the software start it), settle, trigger.

The Medoc software has an "Automatic Start" option. With it off (``start_mode="command"``,
what the driver expects by default) a selected program waits on its test screen for START;
with it on (``start_mode="automatic"``) the test starts as soon as the program is selected
and no START is needed. The sequence recognises the other configuration from the states the
software reports and copes with it, journaling a warning that names the setting:

- expecting ``command``: the SELECT_TP answer already shows the test in progress, or START
  is refused while the test is in progress -> the software started it; START is skipped.
- expecting ``automatic``: the program stays selected with no test (answer "waiting for
  manual operation", or no test for ``autostart_grace_s``) -> START is sent.

After START the software runs a pre-test phase in which a TRIGGER is lost; the sequence
polls GET_STATUS until RUNNING, then waits ``trigger_settle_s`` (a TRIGGER right after the
change can still be lost) before TRIGGER. Every wait has a deadline; a command the software
refuses, or a test that never runs, is a StimulusRefusedError (the caller ends the session).
The facts and their public sources: docs/hardware.md.
"""

from __future__ import annotations

import contextlib
import time
from typing import Protocol

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError, StimulusRefusedError
from cpmlab.drivers._medoc_protocol import MedocResponse, MedocState, ResultKind

START_MODES = ("command", "automatic")
#: Wait between RUNNING and TRIGGER, in s: pymedoc's ``poll_for_change`` default ``server_lag``.
TRIGGER_SETTLE_S = 1.0
#: How long a selected program may wait for the software to start it in automatic mode, in s.
AUTOSTART_GRACE_S = 2.0

_TEST_STATES = {MedocState.PRETEST, MedocState.RUNNING, MedocState.PAUSED, MedocState.TEST_IDLE}


class MedocRequests(Protocol):
    """What the sequence needs from the driver."""

    start_mode: str
    stimulus_onset_t: float | None
    pretest_timeout_s: float
    pretest_poll_s: float
    trigger_settle_s: float
    autostart_grace_s: float

    def request(self, command: str, parameter: int | None = None) -> MedocResponse:
        """Send one command and return its response."""
        ...

    def expect_accepted(self, response: MedocResponse, what: str) -> None:
        """Raise unless the software carried out the command."""
        ...

    def warn(self, response: MedocResponse, message: str) -> None:
        """Journal a warning about a response."""
        ...


def run_program(driver: MedocRequests, code: int) -> None:
    """Select program code, get its test running and trigger it (see the module docstring)."""
    selected = driver.request("SELECT_TP", code)
    driver.expect_accepted(selected, f"SELECT_TP {code:#010b}")
    seen_test = selected.state in _TEST_STATES
    start_sent = False
    if driver.start_mode == "command":
        if seen_test:
            driver.warn(selected, _AUTOMATIC_ON)
        else:
            start_sent, seen_test = True, _start(driver)
    _wait_for_running(driver, start_sent, seen_test, time.monotonic())
    time.sleep(driver.trigger_settle_s)
    onset_t = now()
    driver.expect_accepted(driver.request("TRIGGER"), "TRIGGER")
    driver.stimulus_onset_t = onset_t


def _start(driver: MedocRequests) -> bool:
    """Send START; return True if its answer shows the test in progress (perhaps started already)."""
    response = driver.request("START")
    if response.result_kind is ResultKind.REFUSED and response.state in _TEST_STATES:
        driver.warn(response, _AUTOMATIC_ON)
        return True
    driver.expect_accepted(response, "START")
    return response.state in _TEST_STATES


def _wait_for_running(driver: MedocRequests, start_sent: bool, seen_test: bool, selected_at: float) -> None:
    """Poll GET_STATUS until the test is RUNNING; start it if the software waits for START.

    A test seen in progress that is back at program selection, or a return to listening
    mode, means it ended before it ran (an ABORT, STOP or the operator): refused at once.
    """
    deadline = selected_at + driver.pretest_timeout_s
    while True:
        status = driver.request("GET_STATUS")
        driver.expect_accepted(status, "GET_STATUS")  # safety and device errors end the stimulus
        if status.state is MedocState.RUNNING:
            return
        if status.state in _TEST_STATES:
            seen_test = True
        elif status.state is MedocState.LISTENING or seen_test:
            where = "listening mode (system IDLE)" if status.state is MedocState.LISTENING else "program selection"
            raise StimulusRefusedError(
                f"Medoc went back to {where} before the test ran: it was aborted, stopped or dropped",
                command="START",
            )
        waiting_s = time.monotonic() - selected_at
        waits_for_start = status.state is MedocState.PROGRAM_SELECTED and (
            status.waiting_manual or waiting_s > driver.autostart_grace_s
        )
        if not start_sent and driver.start_mode == "automatic" and waits_for_start:
            driver.warn(status, _AUTOMATIC_OFF)
            start_sent, seen_test = True, _start(driver)
            continue
        if time.monotonic() > deadline:
            with contextlib.suppress(DeviceError):
                driver.request("ABORT")
            raise StimulusRefusedError(
                f"Medoc test did not start running within {driver.pretest_timeout_s:g} s of the "
                f"program selection (state {status.state}, {status.result_text}); aborted",
                command="START",
            )
        time.sleep(driver.pretest_poll_s)


_AUTOMATIC_ON = (
    "the Medoc software started the test on program selection: its 'Automatic Start' option is on, "
    "but the driver expects start_mode='command'; START skipped (set start_mode='automatic')"
)
_AUTOMATIC_OFF = (
    "the Medoc software waits for START after program selection: its 'Automatic Start' option is off, "
    "but the driver expects start_mode='automatic'; START sent (set start_mode='command')"
)
