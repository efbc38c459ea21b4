"""The emergency stop from the participant display: F12 and Ctrl+Space in a full-screen window, no grabs."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpmlab.display.channel import DisplayChannel
from cpmlab.display.engine_watch import stopped_text
from cpmlab.display.link import lan_address


@pytest.fixture
def fullscreen() -> Iterator[tuple[DisplayChannel, list[str]]]:
    keys: list[str] = []
    got = threading.Event()

    def on_stop(key: str, t: float) -> None:
        keys.append(key)
        got.set()

    channel = DisplayChannel(fullscreen=True, on_emergency_stop=on_stop)
    channel.got = got  # type: ignore[attr-defined]
    try:
        yield channel, keys
    finally:
        channel.close()


def _press(window_id: int, keys: str) -> None:
    subprocess.run(["xdotool", "windowfocus", "--sync", str(window_id), "key", keys], check=True, timeout=10)


def test_f12_and_ctrl_space_in_the_fullscreen_display_reach_the_engine(
    fullscreen: tuple[DisplayChannel, list[str]],
) -> None:
    """xdotool F12, then Ctrl+Space, into the focused full-screen display: each reaches on_emergency_stop."""
    channel, keys = fullscreen
    window = channel.window
    assert window.fullscreen and window.x_window_id is not None
    for press, name in (("F12", "F12"), ("ctrl+space", "Ctrl+Space")):
        channel.got.clear()  # type: ignore[attr-defined]
        _press(window.x_window_id, press)
        assert channel.got.wait(2.0), f"{press} in the display never reached the engine"  # type: ignore[attr-defined]
        assert keys[-1] == name


def test_the_fullscreen_display_grabs_neither_keyboard_nor_pointer(
    fullscreen: tuple[DisplayChannel, list[str]],
) -> None:
    """Another client (the console) can still get the keyboard and the pointer while the display is full screen."""
    from Xlib import X, display

    channel, _ = fullscreen
    assert channel.window.fullscreen
    time.sleep(0.3)
    d = display.Display()
    try:
        root = d.screen().root
        assert root.grab_keyboard(False, X.GrabModeAsync, X.GrabModeAsync, X.CurrentTime) == X.GrabSuccess
        d.ungrab_keyboard(X.CurrentTime)
        mask = X.ButtonPressMask | X.ButtonReleaseMask
        status = root.grab_pointer(False, mask, X.GrabModeAsync, X.GrabModeAsync, X.NONE, X.NONE, X.CurrentTime)
        assert status == X.GrabSuccess
        d.ungrab_pointer(X.CurrentTime)
        d.sync()
    finally:
        d.close()


def test_engine_silence_puts_up_the_stopped_notice(shots: Path) -> None:
    """When the engine's pings stop mid-immersion, the display tells the participant the session has stopped
    and to take the hand out of the water (screenshot: engine_gone_notice.png)."""
    import os

    from PIL import ImageGrab

    channel = DisplayChannel(size=(800, 600), position=(0, 0))
    try:
        assert channel.connection is not None and channel.process.log_path is not None
        assert channel.prompt_immersion("Put your hand in the water.", 60.0) > 0
        channel.connection.link.close()  # the engine falls silent without saying quit
        deadline = time.monotonic() + 5.0
        text = ""
        while time.monotonic() < deadline and "telling the participant" not in text:
            time.sleep(0.1)
            text = channel.process.log_path.read_text(errors="replace")
        assert "the engine stopped answering: telling the participant the session has stopped" in text
        assert channel.process.exit_code() is None, "the notice stays up"
        time.sleep(0.5)
        ImageGrab.grab(xdisplay=os.environ["DISPLAY"]).crop((0, 0, 800, 600)).save(shots / "engine_gone_notice.png")
    finally:
        channel._closed = True
        channel.process.kill()
        channel.process.stop(1.0)


def test_stopped_notice_asks_for_the_hand_out_during_an_immersion() -> None:
    """The notice says the session stopped, and during an immersion asks for the hand out of the water."""
    assert "stopped" in stopped_text("en", immersed=False) and "water" not in stopped_text("en", immersed=False)
    assert "hand out of the water" in stopped_text("en", immersed=True)
    assert "Wasser" in stopped_text("de", immersed=True)


def test_remote_hint_never_names_0_0_0_0() -> None:
    """The address a display on another computer is told to connect to is a real one."""
    channel = DisplayChannel(address="tcp://0.0.0.0:*", start=False)
    try:
        conn = channel._conn()
        assert "0.0.0.0" in conn.endpoint
        assert "0.0.0.0" not in conn.remote_address and lan_address() in conn.remote_address
    finally:
        channel.close()
