"""Rendering engine progress events on a terminal (tqdm bars, one per stage)."""

from __future__ import annotations

import sys

from ..progress import Progress


class TerminalProgress:
    """A progress callback that draws a tqdm bar per stage; silent when not on a terminal."""

    def __init__(self, stream=None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.bars: dict[str, object] = {}

    def __call__(self, event: Progress) -> None:
        if not self.enabled:
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
