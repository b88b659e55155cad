"""Rendering engine progress events: tqdm bars on a terminal, one per stage; plain lines
elsewhere (a log file, a pipe, a cluster job's output), at most one every
``LOG_INTERVAL_S`` seconds, so long work shows it is moving without filling the log."""

from __future__ import annotations

import sys
import time

from ..progress import Progress

LOG_INTERVAL_S = 30.0


class TerminalProgress:
    """A progress callback that draws a tqdm bar per stage on a terminal and, elsewhere, writes
    a line ``stage: done/total`` once ``LOG_INTERVAL_S`` seconds have passed since the last
    line (or the start), and one when a stage that had a line finishes; work shorter than the
    interval writes nothing."""

    def __init__(self, stream=None, enabled: bool | None = None, clock=time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.bars: dict[str, object] = {}
        self.clock = clock
        self.last_line = clock()
        self.logged: set[str] = set()  # stages with a line written and no line of their end yet

    def __call__(self, event: Progress) -> None:
        if not self.enabled:
            self.log_line(event)
            return
        from tqdm import tqdm

        bar = self.bars.get(event.stage)
        if bar is None:
            bar = tqdm(total=event.total or None, desc=event.stage, file=self.stream,
                       dynamic_ncols=True, leave=True)
            self.bars[event.stage] = bar
        if event.total and bar.total != event.total:
            bar.total = event.total
        bar.n = event.done
        if event.message:
            bar.set_postfix_str(event.message, refresh=False)
        bar.refresh()
        if event.total and event.done >= event.total:
            bar.close()
            del self.bars[event.stage]

    def log_line(self, event: Progress) -> None:
        finished = bool(event.total) and event.done >= event.total
        if not (self.clock() - self.last_line >= LOG_INTERVAL_S or (finished and event.stage in self.logged)):
            return
        count = f"{event.done}/{event.total}" if event.total else f"{event.done}"
        line = f"{event.stage}: {count}" + (f" ({event.message})" if event.message else "")
        print(line, file=self.stream, flush=True)
        self.last_line = self.clock()
        (self.logged.discard if finished else self.logged.add)(event.stage)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def note(message: str) -> None:
    """A one-line status message on stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)
