"""Progress reporting for long work: engine functions call back, never print.

The CLI renders these events as a terminal bar, the app as a progress panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of ``stage`` finished; ``message`` is an optional note."""

    stage: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]
StopCheck = Callable[[], bool]


def no_progress(_: Progress) -> None:
    """The default callback: ignore progress."""


def never_stop() -> bool:
    return False


class Cancelled(Exception):
    """Raised inside long engine work when its ``should_stop`` check returns True."""
