"""Training events on a terminal: a progress bar with losses, and one line per notice."""

from __future__ import annotations

import math
import sys

import json
import os
import stat
import threading

from ..training.batches import epoch_number
from ..training.stats import diagnostics, losses
from ..training.events import (CheckpointSaved, Failed, Finished, Notice, ProgressUpdate, Scalars,
                               Started, event_to_dict)


class TerminalTrainView:
    def __init__(self, stream=None, note: str | None = None) -> None:
        self.stream = stream or sys.stderr
        self.note = note  # a line said as the training starts, before its own
        self.bar = None
        self.losses: dict[str, float] = {}
        self.tty = self.stream.isatty()
        self.total_epochs, self.iters_per_epoch = 0, 1  # of the run, once it has started

    def line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def __call__(self, event) -> None:
        if isinstance(event, Started):
            from tqdm import tqdm

            if self.note:
                self.line(self.note)
            self.line(started_line(event))
            self.iters_per_epoch = max(1, event.iters_per_epoch)
            self.total_epochs = math.ceil(event.total_iters / self.iters_per_epoch)
            self.bar = tqdm(total=event.total_iters, initial=event.start_iter, file=self.stream,
                            dynamic_ncols=True, unit="it", disable=not self.tty)
        elif isinstance(event, Notice):
            self.line(event.message)
        elif isinstance(event, Scalars):
            self.losses = losses(event.values)
            if not self.tty:
                shown = {**self.losses, **diagnostics(event.values)}
                self.line(f"iter {event.iteration} {self.epoch_of(event.iteration)} "
                          + " ".join(f"{k}={v:.3f}" for k, v in shown.items()))
        elif isinstance(event, ProgressUpdate) and self.bar is not None:
            self.bar.n = event.iteration
            eta = "?" if math.isnan(event.eta_s) else f"{event.eta_s / 60:.1f} min"
            speed = f"{event.img_per_s:.1f}" if event.img_per_s > 0 else "?"  # 0: not measured yet
            self.bar.set_postfix_str(f"epoch {event.epoch}/{event.total_epochs} "
                                     f"{speed} img/s eta {eta} "
                                     + " ".join(f"{k}={v:.2f}" for k, v in self.losses.items()),
                                     refresh=False)
            self.bar.refresh()
        elif isinstance(event, CheckpointSaved):
            self.line(f"saved state at iteration {event.iteration}")
        elif isinstance(event, Finished):
            self.close()
            self.line(f"model: {event.model_path}")
        elif isinstance(event, Failed):
            self.close()

    def epoch_of(self, iteration: int) -> str:
        """"epoch 2/5": the epoch the ``iteration``-th iteration (counted from 1) belongs to,
        so that a line logged at an epoch's last iteration names that epoch, not the next."""
        return f"epoch {epoch_number(iteration, self.iters_per_epoch, self.total_epochs)}/{self.total_epochs}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class JsonEventStream:
    """Events as JSON lines on a stream, for a parent process (the desktop app) to read."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.failed = False  # a Failed event was sent

    def __call__(self, event) -> None:
        self._send(event)

    def fail(self, message: str) -> None:
        """Send ``message`` (a :class:`~engine.errors.Message` with its advice) as the Failed
        event, unless one was sent: the training reports its own problems."""
        self._send(Failed.of(message), unless_failed=True)

    def _send(self, event, unless_failed: bool = False) -> None:
        """Write ``event`` as one line; whether a Failed event was sent is read and set with
        the writing, under the lock, so two threads failing at once send one."""
        line = json.dumps(event_to_dict(event), allow_nan=True)
        with self.lock:
            if unless_failed and self.failed:
                return
            self.failed = self.failed or isinstance(event, Failed)
            self.stream.write(line + "\n")
            self.stream.flush()

    def watch_stdin(self, stop) -> None:
        """A line ``stop`` on stdin asks for a graceful stop; so does the pipe closing (the
        parent app went away), but not the end of a file or /dev/null."""
        try:
            piped = stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode)
        except (OSError, ValueError, AttributeError):
            piped = False

        def watch() -> None:
            for line in sys.stdin:
                if line.strip() == "stop":
                    stop.handle()
                    return
            if piped:
                stop.handle()

        threading.Thread(target=watch, daemon=True, name="stdin-stop").start()

    def close(self) -> None:
        pass


def started_line(event: Started) -> str:
    """What a training about to run says: its device, length and run folder; a resume also
    where it starts, and one already as long as asked that it has nothing to train, since
    --iters and --epochs count from the run's first iteration, not from the resume."""
    where = f"({event.iters_per_epoch} per epoch) -> {event.run_dir}"
    start, total = event.start_iter, event.total_iters
    if start >= total:
        done = (f"all its {total} iterations trained" if start == total
                else f"at iteration {start}, past the {total} asked for")
        return (f"nothing to train: the run is already finished, {done}; --iters {start + total} trains "
                f"{total} more (--iters and --epochs count from the run's start)")
    if start:
        return f"training on {event.device}: iterations {start + 1} to {total} {where}"
    return f"training on {event.device}: {total} iteration{'s' * (total != 1)} {where}"
