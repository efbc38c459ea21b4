"""A display started by hand (as on another PC) joins the session with its key, and only with it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cpmlab.core.errors import CpmlabError
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.session_key import SessionKey
from cpmlab.participant.channel import RatingRequest
from cpmlab.testing.display import round_trip_s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _display(address: str, key_file: Path) -> subprocess.Popen[bytes]:
    """Start `cpmlab display` the way an operator does on the display PC."""
    cmd = [sys.executable, "-m", "cpmlab", "display", "--connect", address, "--key-file", str(key_file)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_remote_display_joins_with_the_key_file_and_not_with_another(tmp_path: Path) -> None:
    """With another session's key the engine never accepts the display; with this session's key it serves screens."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    channel = DisplayChannel(address=address, spawn=False, start=False, start_timeout_s=8.0)
    wrong, right = tmp_path / "other.key", tmp_path / "display.key"
    wrong.write_text(SessionKey.new().for_display())
    right.write_text(channel.key.for_display())
    impostor = _display(address, wrong)
    display = None
    try:
        with pytest.raises(CpmlabError, match="did not answer"):
            channel.start()
        assert not channel.available and impostor.poll() is None  # it runs, but it is not this session's display
        impostor.kill()
        display = _display(address, right)
        channel.start_timeout_s = 30.0
        channel.start()
        assert channel.available and channel.pid is None  # not started by the engine
        assert round_trip_s(channel) is not None
        result = channel.rate(RatingRequest("vas", "How painful?", ("no pain", "worst"), timeout_s=0.3))
        assert result.value is None and result.onset_t > 0  # the screen was shown and timed out
    finally:
        channel.close()
        impostor.kill()
        if display is not None:
            assert display.wait(10.0) == 0  # quit by the engine
