"""Long engine work (preparing, exporting, checking folders) on a background thread.

A :class:`BackgroundTask` runs ``function(progress, should_stop)`` on a daemon thread and
reports through typed signals, which reach the GUI thread queued. Progress is forwarded
only when the rounded percentage, the stage or the message changes, so a fast loop does not
flood the event queue. Cancelling sets a flag the engine's ``should_stop`` check reads; the
engine then raises :class:`~engine.progress.Cancelled` and cleans up after itself. A
failure is one line, its advice in the studio's words or the ``words`` the task was given
(a dialog's, naming its own options).

Tasks still running when the interpreter exits (the studio quit while a folder was checked or a
network's memory was measured) are asked to stop and waited for (:func:`stop_running_tasks`,
run at exit): torch work left running on a thread while the interpreter shuts down aborts the
process.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.errors import Words, one_line
from engine.progress import Cancelled, Progress

from .wording import STUDIO_WORDS

TaskFunction = Callable[[Callable[[Progress], None], Callable[[], bool]], Any]

# every task's thread while it runs, with the flag that asks it to stop
_RUNNING: dict[threading.Thread, threading.Event] = {}
EXIT_WAIT_S = 15.0  # how long the interpreter's exit waits for running tasks, in all


def stop_running_tasks(timeout: float = EXIT_WAIT_S) -> int:
    """Ask every running task to stop and wait for them to end, ``timeout`` seconds in all;
    how many were still running after it."""
    for stop in list(_RUNNING.values()):
        stop.set()
    end = time.monotonic() + timeout
    for thread in list(_RUNNING):
        thread.join(max(0.0, end - time.monotonic()))
    return sum(thread.is_alive() for thread in list(_RUNNING))


atexit.register(stop_running_tasks)


class BackgroundTask(QObject):
    progressed = Signal(object)  # engine.progress.Progress
    succeeded = Signal(object)  # the function's return value
    failed = Signal(str)  # a one-line message
    cancelled = Signal()
    finished = Signal()  # after succeeded, failed or cancelled

    def __init__(self, function: TaskFunction, name: str = "task", parent: QObject | None = None,
                 words: Words = STUDIO_WORDS) -> None:
        super().__init__(parent)
        self._function = function
        self._name = name
        self._words = words
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[str, int, str] | None = None
        self.running = False

    def start(self) -> None:
        if self.running:
            raise RuntimeError("task already running")
        self.running = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        _RUNNING[self._thread] = self._stop
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop; ``cancelled`` follows once it has cleaned up."""
        self._stop.set()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (tests and shutdown); True when it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _progress(self, progress: Progress) -> None:
        key = (progress.stage, int(progress.fraction * 100), progress.message)
        if key != self._last or progress.done == progress.total:
            self._last = key
            self._emit(self.progressed, progress)

    def _run(self) -> None:
        try:
            self._work()
        finally:
            _RUNNING.pop(threading.current_thread(), None)

    def _work(self) -> None:
        try:
            result = self._function(self._progress, self._stop.is_set)
        except Cancelled:
            self._finish(self.cancelled)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            self._finish(self.failed, one_line(exc, f"the {self._name}", self._words))
        else:
            self._finish(self.succeeded, result)

    def _finish(self, signal, *args) -> None:
        self.running = False
        self._emit(signal, *args)
        self._emit(self.finished)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiver was deleted while the work ran
            pass
