"""The command line says what a lost display did to the session: hold, release, resume by itself."""

from __future__ import annotations

import io
from pathlib import Path

from cpmlab.cli.progress import ProgressPrinter
from cpmlab.core import events as ev
from cpmlab.protocol.loader import load_protocol

PROTOCOL = Path(__file__).resolve().parents[1] / "display" / "ratings_only.yaml"


def test_hold_release_and_resume_are_printed_with_source_and_reason() -> None:
    """Each control line names the action, who caused it and why."""
    out = io.StringIO()
    printer = ProgressPrinter(load_protocol(PROTOCOL), 1.0, stream=out)
    bus = ev.EventBus()
    bus.subscribe(printer)
    bus.emit(ev.CONTROL, action="hold", source="display", reason="participant display lost: window closed")
    bus.emit(ev.CONTROL, action="release", source="display", reason="display back; resuming")
    bus.emit(ev.CONTROL, action="resume", source="display back")
    lines = out.getvalue().splitlines()
    assert lines == [
        "  ! control: hold (display): participant display lost: window closed",
        "  ! control: release (display): display back; resuming",
        "  ! control: resume (display back)",
    ]
