"""Run blocking work (files, ports, plugins, engine controls) off the GUI thread."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PyQt6.QtCore import QObject, Qt, pyqtSignal

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class BackgroundTasks(QObject):
    """Run a function in a thread; its result or error is delivered on the GUI thread."""

    _done = pyqtSignal(object, object)  # callback, value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        # one ordered lane for engine controls (pause, resume, abort, note): they journal (fsync)
        self._controls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-control")

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: Callback | None = None,
        name: str = "task",
    ) -> threading.Thread:
        """Call fn() in a new thread; then on_done(result) or on_error(exception) on the GUI thread."""

        def body() -> None:
            try:
                result = fn()
            except BaseException as exc:
                log.debug("background task %s failed", name, exc_info=True)
                self._emit(on_error, exc)
            else:
                self._emit(on_done, result)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=body, name=f"console-{name}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def control(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue an engine control call on the ordered control lane."""
        future = self._controls.submit(fn, *args)
        future.add_done_callback(_log_failure)
        return future

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Join every running task (used at shutdown and in tests); return True if all ended."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)
        return not any(t.is_alive() for t in threads)

    def shutdown(self) -> None:
        """Let queued controls finish; stop accepting new ones."""
        self._controls.shutdown(wait=True)

    def _emit(self, callback: Callback | None, value: Any) -> None:
        if callback is None:
            return
        with contextlib.suppress(RuntimeError):  # the window is gone
            self._done.emit(callback, value)

    def _deliver(self, callback: Callback, value: Any) -> None:
        callback(value)


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("console control failed: %s", exc, exc_info=exc)
