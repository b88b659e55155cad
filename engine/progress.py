"""Progress reporting for long work: engine functions call back, never print.

The CLI renders these events as a terminal bar, the app as a progress panel.
"""

from __future__ import annotations

import time
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


# the longest a step loop goes without telling its progress, however slow its steps are
REPORT_INTERVAL_S = 2.0


def current_time() -> float:
    """Seconds on a clock that only moves forward (what :class:`StepReports` reads)."""
    return time.monotonic()


class StepReports:
    """When a loop of many steps reports: every ``every`` steps, at its last step, and at any
    step once ``REPORT_INTERVAL_S`` seconds have passed since its last report, so a slow
    machine (or cores other work shares) still sees it move."""

    def __init__(self, total: int, every: int, clock: Callable[[], float] | None = None) -> None:
        self.total, self.every, self.clock = total, every, clock or current_time
        self.last = self.clock()

    def due(self, done: int) -> bool:
        """Whether to report after step ``done`` (1-based); a True restarts the interval."""
        now = self.clock()
        if done % self.every == 0 or done >= self.total or now - self.last >= REPORT_INTERVAL_S:
            self.last = now
            return True
        return False


class Cancelled(Exception):
    """Raised inside long engine work when its ``should_stop`` check returns True."""
