"""A serial device emulated on a real pseudo-terminal, with line timing and fault injection.

The client opens the printed /dev/pts/N path with pyserial exactly as it would open
/dev/ttyUSB0; with ``tcp=True`` (or where there are no pseudo-terminals) the device is served
on a loopback TCP port instead, printed as a pyserial ``socket://127.0.0.1:PORT`` URL.
Replies are paced at the configured baud rate (10 bits per byte on the
wire for both 8N1 and 7E1), and faults can be switched on while running:

- ``unplug``: the port vanishes (the pty is closed; client reads and writes fail).
- ``silence``: the device stops answering and stops streaming.
- ``garbage``: replies and stream output are replaced by random bytes.
- ``slow``: every reply is delayed by ``latency_s`` (default 0.3 s).
- ``split``: replies are written in small chunks with pauses, across several reads.
- ``alarm``: device specific (the emulator's ``on_alarm`` decides what it means).

The serial behaviour these reproduce is described in docs/hardware.md.

Emulators add faults of their own physics to ``faults`` (the thermode's ``overshoot``, the
baths' ``drift``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import socket
import threading
import time
from typing import Any

try:  # pseudo-terminals exist on Linux and macOS; elsewhere the emulators serve TCP
    import termios
    import tty
except ImportError:  # Windows
    termios = None  # type: ignore[assignment]
    tty = None  # type: ignore[assignment]

#: True where this platform has pseudo-terminals (else ``tcp=True`` is the only way).
HAS_PTY = termios is not None and hasattr(os, "openpty")

log = logging.getLogger(__name__)

SERIAL_FAULTS = ("unplug", "silence", "garbage", "slow", "split", "alarm")

_BAUD_CONSTANTS = {
    getattr(termios, f"B{b}"): b
    for b in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
    if termios is not None and hasattr(termios, f"B{b}")
}


class PtySerialDevice:
    """Base class: owns a pty pair and a reader thread; subclasses implement on_bytes()."""

    #: Wire settings of the real device; subclasses override.
    baudrate = 9600
    bytesize = 8
    parity = "N"
    #: Faults this emulator accepts; subclasses extend it with their own.
    faults: tuple[str, ...] = SERIAL_FAULTS

    def __init__(self, *, fault: str | None = None, seed: int | None = None, tcp: bool = False) -> None:
        self.tcp = tcp or not HAS_PTY
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        if self.tcp:
            # One client at a time on a loopback port, opened as a pyserial socket:// URL.
            self._listener = socket.create_server(("127.0.0.1", 0))
            self._listener.settimeout(0.05)
            self._master = self._slave = self._listener.fileno()
            self.port = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        else:
            self._master, self._slave = os.openpty()
            tty.setraw(self._slave)
            # A real UART drops bytes when nobody reads them; a blocking pty write would instead
            # hang the emulator (and close()) once a client stops draining its input.
            os.set_blocking(self._master, False)
            self.port = os.ttyname(self._slave)
        self._write_lock = threading.Lock()
        self._send_lock = threading.RLock()  # one reply at a time: chunks never interleave
        self._stop = threading.Event()
        self._rng = random.Random(seed)
        self.fault: str | None = None
        self.fault_params: dict[str, Any] = {}
        self.received = bytearray()  # everything the client ever sent, for tests
        self._reader = threading.Thread(target=self._read_loop, name=f"{type(self).__name__}-rx", daemon=True)
        self._reader.start()
        if fault:
            self.set_fault(fault)

    # -- faults ---------------------------------------------------------------------------
    def set_fault(self, fault: str | None, **params: Any) -> None:
        """Switch a fault on (one of ``faults``) or off (None)."""
        if fault is not None and fault not in self.faults:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(self.faults)}")
        self.fault, self.fault_params = fault, params
        if fault == "unplug":
            self._unplug()
        self.on_fault_changed(fault)

    def on_fault_changed(self, fault: str | None) -> None:
        """Hook for subclasses (e.g. to raise a device alarm)."""

    @property
    def unplugged(self) -> bool:
        """True once the port has vanished."""
        return self._master < 0

    def _unplug(self) -> None:
        with self._write_lock:
            if self.tcp:
                for sock in (self._conn, self._listener):
                    if sock is not None:
                        with contextlib.suppress(OSError):
                            sock.close()
                self._conn = self._listener = None
                self._master = self._slave = -1
                return
            for fd in (self._master, self._slave):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = -1

    # -- wire -----------------------------------------------------------------------------
    def client_settings(self) -> tuple[int | None, int | None, str | None]:
        """Return (baudrate, bytesize, parity) the client configured on its end, if readable.

        Over TCP the client's framing is its own declaration, never seen here: all None.
        """
        if self._slave < 0 or self.tcp:
            return None, None, None
        try:
            _, _, cflag, _, _, ospeed, _ = termios.tcgetattr(self._slave)
        except termios.error:
            return None, None, None
        size = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}[cflag & termios.CSIZE]
        parity = "N"
        if cflag & termios.PARENB:
            parity = "O" if cflag & termios.PARODD else "E"
        return _BAUD_CONSTANTS.get(ospeed), size, parity

    def framing_matches(self) -> bool:
        """True unless the client set a different baud rate or framing than the device uses."""
        baud, size, parity = self.client_settings()
        if baud is None:
            return True
        return (baud, size, parity) == (self.baudrate, self.bytesize, self.parity)

    def send(self, data: bytes) -> None:
        """Write data to the client, applying line timing and any active fault."""
        if not data or self.fault in ("silence", "unplug") or self._stop.is_set():
            return
        if self.fault == "garbage":
            data = bytes(self._rng.randrange(256) for _ in data)
        elif not self.framing_matches():
            # A receiver at the wrong baud rate or framing sees noise, as on a real line.
            data = bytes(self._rng.randrange(256) for _ in data)
        if self.bytesize == 7:
            data = bytes(b & 0x7F for b in data)
            if self.tcp:  # no UART on a TCP link: send each 7E1 frame as 7 data bits + even parity
                data = bytes(b | 0x80 if bin(b).count("1") % 2 else b for b in data)
        with self._send_lock:
            if self.fault == "slow":
                time.sleep(float(self.fault_params.get("latency_s", 0.3)))
            chunks = [data]
            if self.fault == "split":
                size = int(self.fault_params.get("chunk", 3))
                chunks = [data[i : i + size] for i in range(0, len(data), size)]
            # Bytes reach the client as they would leave a UART: about a millisecond's worth at a
            # time, each after its transmission time (10 bits per byte for 8N1 and 7E1 alike).
            per_ms = max(1, self.baudrate // 10_000)
            for i, chunk in enumerate(chunks):
                if i:
                    time.sleep(float(self.fault_params.get("gap_s", 0.005)))
                for start in range(0, len(chunk), per_ms):
                    piece = chunk[start : start + per_ms]
                    time.sleep(len(piece) * 10 / self.baudrate)
                    if not self._write_chunk(piece):
                        return

    def _write_chunk(self, chunk: bytes) -> bool:
        """Write chunk to the master side; drop what the client's full buffer cannot take."""
        deadline = time.monotonic() + 0.05
        while chunk:
            with self._write_lock:
                if self._master < 0:
                    return False
                if self.tcp:
                    return self._send_tcp(chunk)
                try:
                    written = os.write(self._master, chunk)
                except BlockingIOError:
                    written = 0
                except OSError:
                    return False
            chunk = chunk[written:]
            if chunk:
                if time.monotonic() > deadline:
                    return True  # input buffer overflow: the rest is lost, as on a real line
                time.sleep(0.001)
        return True

    def _send_tcp(self, chunk: bytes) -> bool:
        """Send chunk to the connected client (none connected: the bytes are lost, as on a line)."""
        if self._conn is not None:
            try:
                self._conn.sendall(chunk)
            except OSError:
                self._conn = None
        return True

    def _read_tcp(self) -> bytes | None:
        """Accept a client if none is connected; return its next bytes (None: nothing yet)."""
        listener = self._listener
        if listener is None:
            return None
        if self._conn is None:
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                return None
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        conn = self._conn
        ready, _, _ = select.select([conn], [], [], 0.05)
        if not ready:
            return None
        data = conn.recv(4096)
        if not data:  # the client closed: wait for the next one
            with contextlib.suppress(OSError):
                conn.close()
            self._conn = None
            return None
        return data

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            if self.tcp:
                try:
                    tcp_data = self._read_tcp()
                except OSError:
                    if self._master < 0 or self._stop.is_set():
                        return
                    self._conn = None
                    continue
                if tcp_data:
                    self._handle(tcp_data)
                elif self._master < 0:
                    return
                continue
            fd = self._master
            if fd < 0:
                return
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(fd, 4096)
            except OSError:
                if self._master < 0 or self._stop.is_set():
                    return
                time.sleep(0.01)  # no client has the port open yet
                continue
            if data:
                self._handle(data)

    def _handle(self, data: bytes) -> None:
        if self.tcp and self.bytesize == 7:
            # A 7E1 receiver checks each frame's parity bit; a wrong one is a framing error
            # (a client at 8N1 is not understood), delivered as NUL.
            data = bytes(b & 0x7F if bin(b).count("1") % 2 == 0 else 0 for b in data)
        self.received.extend(data)
        if self.fault in ("silence", "unplug"):
            return
        try:
            self.on_bytes(data)
        except Exception:  # an emulator bug must not kill the port
            log.exception("%s failed to handle %r", type(self).__name__, data)

    def on_bytes(self, data: bytes) -> None:
        """Handle bytes from the client (subclasses parse commands here)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the emulator and close the pty."""
        self._stop.set()
        self._unplug()
        if self._reader is not threading.current_thread():
            self._reader.join(timeout=1)

    def __enter__(self) -> PtySerialDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
