"""How long synthesis takes, in the words of the status bar (no Qt here).

The first image a model makes after it is loaded carries its warm-up (lazy set-up, the first
full pass of the incremental synthesizer, kernels picked on a GPU) and can take many times as
long as the images after it. It is reported apart, as the warm-up; after it the status shows
the median of the recent images, which one slow or fast image does not swing, and the
tooltip gives the last one, the range and the warm-up. Which image paid the warm-up is what
the synthesis side says (``SynthesisResult.first``), not the first one shown: that one was
dropped when it came for a mask or seed no longer current, and the image shown next is a
warm one.
"""

from __future__ import annotations

import statistics
from collections import deque

RECENT = 9  # images the median is taken over


def format_duration(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


class LatencyLog:
    """The times of the images shown, per model: its first (the warm-up) and its recent ones."""

    def __init__(self, recent: int = RECENT) -> None:
        self.model_id: int | None = None
        self.warm_up_s: float | None = None
        self.recent: deque[float] = deque(maxlen=recent)

    def record(self, model_id: int, elapsed_s: float, first: bool) -> None:
        """An image of model ``model_id`` shown, made in ``elapsed_s``; ``first``: the first
        image the model made, its warm-up included (a model's first image shown may be a
        warm one, when the first one made was not shown)."""
        if model_id != self.model_id:
            self.model_id, self.warm_up_s = model_id, None
            self.recent.clear()
        if first:
            self.warm_up_s = elapsed_s
        else:
            self.recent.append(elapsed_s)

    def median_s(self) -> float | None:
        return statistics.median(self.recent) if self.recent else None

    def status(self) -> str:
        if self.recent:
            return f"Synthesis {format_duration(self.median_s())}"
        if self.warm_up_s is not None:
            return f"Synthesis {format_duration(self.warm_up_s)} (warm-up)"
        return ""

    def tooltip(self) -> str:
        if self.warm_up_s is None and not self.recent:
            return "How long synthesis takes"
        warm_up = ("The model's warm-up went into an image not shown here" if self.warm_up_s is None else
                   f"The first image after the model loaded took {format_duration(self.warm_up_s)}, "
                   "its warm-up included")
        if not self.recent:
            return f"{warm_up}; the next images are usually much faster"
        times = list(self.recent)
        spread = f", {format_duration(min(times))}\u2013{format_duration(max(times))}" if len(times) > 1 else ""
        return (f"Median of the last {len(times)} image{'s' if len(times) > 1 else ''}: "
                f"{format_duration(self.median_s())} (last {format_duration(times[-1])}{spread}).\n{warm_up}.")
