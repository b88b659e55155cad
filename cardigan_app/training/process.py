"""Training in a child process: ``python -m engine train --events-jsonl`` under QProcess.

The child prints one JSON event per line on stdout (turned back into typed events with
``engine.training.events.event_from_dict``) and writes human-readable notes and errors on
stderr. A line ``stop`` on its stdin makes it stop after the current iteration and save its
state. A crash or an out-of-memory kill ends only the child: the app reports how it ended
(:class:`TrainingExit`) and the run can be resumed from the last saved state.

The child's Failed event carries its message's advice, which the app says in its own words
(:data:`TRAINING_WORDS`: the wizard's choices and page names, the panel's Resume); its stderr
is the command's own transcript, in the command line's words. It is kept whole for the
report of how the child ended (:attr:`TrainingExit.stderr_tail`), but its refusal line
(``cardigan: error: ...``, naming the command's options) is not streamed to the log: a Failed
event says it in the app's words, and without one the panel shows the transcript's last lines.
"""

from __future__ import annotations

import json
import os
import signal
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

import engine
from engine.cli.main import ERROR_PREFIX
from engine.cli.train import TIME_LIMIT_EXIT
from engine.errors import Words, option
from engine.training.config import FIELDS, LITE_PRESET
from engine.training.events import Failed, Finished, ProgressUpdate, Scalars, Started, event_from_dict
from engine.training.run_folder import REPLACE_RUN, RESUME_LATER, RESUME_RUN

from ..wording import studio_words
from .command import TrainCommand

STDERR_TAIL = 40
SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}
# the engine's advice as the studio offers it: a hyper-parameter by its row in the wizard's
# table, the batch size of its device page, its choices for a folder that holds a run
TRAINING_WORDS: Words = studio_words({
    **{option(name): name for name in FIELDS},
    option("batch_size"): "batch size",
    LITE_PRESET: "the lite preset",
    RESUME_RUN: "resume it (Resume)",
    REPLACE_RUN: 'replace it (New training run\u2026, "Replace the run in this folder")',
    RESUME_LATER: "the run can be resumed",
})


@dataclass(frozen=True)
class TrainingExit:
    """How a training process ended."""

    code: int
    crashed: bool  # killed by a signal or crashed (no normal exit)
    finished: bool  # it reported Finished
    stopped_early: bool  # ... after a stop request, with its state saved
    iteration: int  # the last iteration it reported
    failure: str = ""  # the message of its Failed event, in the app's words
    stderr_tail: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """It ended as it should: finished, stopped when asked, or stopped at its time limit."""
        return self.finished and not self.crashed and (self.code == 0 or self.timed_out)

    @property
    def timed_out(self) -> bool:
        """It stopped at its ``--time-limit``, its state saved."""
        return self.finished and self.stopped_early and not self.crashed and self.code == TIME_LIMIT_EXIT

    def describe(self) -> str:
        """One or two sentences for the panel."""
        if self.timed_out:
            return (f"Stopped at iteration {self.iteration}, within its time limit; its state was saved, "
                    "Resume continues from there.")
        if self.ok and self.stopped_early:
            return f"Stopped at iteration {self.iteration}; its state was saved, Resume continues from there."
        if self.ok:
            return f"Finished after {self.iteration} iterations."
        if self.failure:
            return f"Training failed: {self.failure.rstrip('.')}."
        last = next((line for line in reversed(self.stderr_tail) if line.strip()), "")
        if self.crashed:
            name = SIGNAL_NAMES.get(self.code, "")
            how = f"was killed ({name or 'signal'} {self.code})" if self.code else "crashed"
            text = f"The training process {how} at iteration {self.iteration}"
            if self.code == int(signal.SIGKILL):
                text += " \u2014 out of memory, or killed from outside"
        else:
            text = f"The training process exited with code {self.code} at iteration {self.iteration}"
        return text + (f". Last message: {last}" if last else ".")


def child_environment() -> QProcessEnvironment:
    """This process's environment, with unbuffered output and the engine importable even
    when the app runs from a source checkout that is not installed."""
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")
    root = str(Path(engine.__file__).resolve().parent.parent)
    existing = env.value("PYTHONPATH", "")
    env.insert("PYTHONPATH", root + (os.pathsep + existing if existing else ""))
    return env


class TrainingProcess(QObject):
    event = Signal(object)  # a TrainEvent (Started, ProgressUpdate, Scalars, ...)
    logLine = Signal(str)  # a stderr line, or a stdout line that is not an event
    started = Signal(int)  # pid
    exited = Signal(object)  # TrainingExit
    startFailed = Signal(str)

    def __init__(self, parent: QObject | None = None, words: Words = TRAINING_WORDS) -> None:
        super().__init__(parent)
        self.words = words  # the app's words for the advice of a Failed event
        self.process: QProcess | None = None
        self.command: TrainCommand | None = None
        self.stop_requested = False
        self._reset()

    def _reset(self) -> None:
        self.iteration = 0
        self.finished_event: Finished | None = None
        self.failure = ""
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL)
        self._stderr_partial = b""

    # -- control -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    @property
    def pid(self) -> int:
        return int(self.process.processId()) if self.process is not None else 0

    def start(self, command: TrainCommand) -> None:
        if self.running:
            raise RuntimeError("a training process is already running")
        self._reset()
        self.command = command
        self.stop_requested = False
        process = QProcess(self)
        process.setProgram(command.program())
        process.setArguments(command.arguments())
        process.setProcessEnvironment(child_environment())
        process.setWorkingDirectory(str(Path(command.run).parent if Path(command.run).parent.is_dir() else Path.home()))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        process.started.connect(lambda: self.started.emit(self.pid))
        self.process = process
        process.start()

    def stop(self) -> bool:
        """Ask for a graceful stop (the child saves its state); False when not running."""
        if not self.running or self.process is None:
            return False
        self.stop_requested = True
        self.process.write(b"stop\n")
        return True

    def kill(self) -> None:
        if self.running and self.process is not None:
            self.process.kill()

    def wait_for_exit(self, msecs: int) -> bool:
        """Block until the child exits (shutdown and tests); True when it has."""
        if self.process is None or not self.running:
            return True
        return self.process.waitForFinished(msecs)

    # -- output --------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        process = self.process
        if process is None:
            return
        while process.canReadLine():
            self._handle_stdout(bytes(process.readLine().data()))

    def _handle_stdout(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            return
        try:
            event = event_from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            self.logLine.emit(line)  # a stray print
            return
        if isinstance(event, (ProgressUpdate, Scalars, Finished)):
            self.iteration = max(self.iteration, event.iteration)
        elif isinstance(event, Started):
            self.iteration = event.start_iter
        if isinstance(event, Finished):
            self.finished_event = event
        elif isinstance(event, Failed):
            self.failure = event.said(self.words)
        self.event.emit(event)

    def _read_stderr(self) -> None:
        if self.process is None:
            return
        data = self._stderr_partial + bytes(self.process.readAllStandardError().data())
        *lines, self._stderr_partial = data.replace(b"\r", b"\n").split(b"\n")
        for raw in lines:
            self._stderr_line(raw)

    def _stderr_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip()
        if not line.strip():
            return
        self.stderr_tail.append(line)
        if not line.startswith(ERROR_PREFIX):
            self.logLine.emit(line)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        process = self.process
        if process is not None:
            rest = bytes(process.readAllStandardOutput().data())
            for raw in rest.split(b"\n"):
                self._handle_stdout(raw)
        self._read_stderr()
        if self._stderr_partial:
            self._stderr_line(self._stderr_partial)
            self._stderr_partial = b""
        crashed = status == QProcess.ExitStatus.CrashExit
        finished = self.finished_event
        result = TrainingExit(int(code), crashed, finished is not None,
                              bool(finished and finished.stopped_early), self.iteration, self.failure,
                              tuple(self.stderr_tail))
        self.exited.emit(result)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            self.startFailed.emit(f"cannot start the training process ({self.process.errorString()})")
