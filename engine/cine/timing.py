"""When in the heart cycle each frame falls: a physiological phase curve, not a linear ramp.

A frame's *phase* runs from 0 (end-diastole, the largest ventricle) to 1 (end-systole, the
smallest). One full cycle of ``60 / bpm`` seconds, as fractions of the cycle:

- ejection, ED -> ES, the first ``EJECTION`` (about a third): a smooth (cosine) fall;
- rapid filling, the next ``RAPID_FILLING``: three quarters of the way back, fast first;
- diastasis, the next ``DIASTASIS``: slow filling, a further tenth;
- atrial contraction, the rest: the last push back to ED.

Frames sit at t = k / fps (k = 0 .. N-1, N = fps * 60 / bpm rounded) so the loop plays
seamlessly: the frame after the last is the first. ``half`` is the part CAMUS stores, ED to
ES inclusive. A loop of a given number of frames spreads them over the cycle (or its
ejection) evenly; it plays at :attr:`Timing.playback_fps`, the rate that keeps the heart
rate, whatever ``fps`` says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import CardiganError

EJECTION = 1 / 3
RAPID_FILLING = 0.15
DIASTASIS = 0.32
FILLED_AFTER_RAPID = 0.25  # phase left after rapid filling (0 = ED)
FILLED_AFTER_DIASTASIS = 0.15
CYCLES = ("full", "half")
MAX_FRAMES = 2000
MIN_BPM, MAX_BPM = 20, 250


@dataclass(frozen=True)
class Timing:
    """How a loop is sampled: heart rate, frame rate and which part of the cycle."""

    bpm: float = 65.0
    fps: float = 40.0
    cycle: str = "full"
    frames: int | None = None  # None: as many as fps and bpm give

    def checked(self) -> "Timing":
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise CardiganError(f"the frame rate must be a positive number, got {self.fps}")
        if not (math.isfinite(self.bpm) and MIN_BPM <= self.bpm <= MAX_BPM):
            raise CardiganError(f"the heart rate must be between {MIN_BPM} and {MAX_BPM} bpm, got {self.bpm}")
        if self.cycle not in CYCLES:
            raise CardiganError(f"the cycle must be one of {', '.join(CYCLES)}, got {self.cycle!r}")
        if self.frames is not None and not 2 <= self.frames <= MAX_FRAMES:
            raise CardiganError(f"a loop needs between 2 and {MAX_FRAMES} frames, got {self.frames}")
        if self.frames is None and not 2 <= self.frame_count() <= MAX_FRAMES:
            raise CardiganError(f"{self.fps:g} fps at {self.bpm:g} bpm gives {self.frame_count()} frames; "
                                f"a loop needs between 2 and {MAX_FRAMES}")
        return self

    @property
    def period_s(self) -> float:
        return 60.0 / self.bpm

    @property
    def playback_fps(self) -> float:
        """The frame rate a file of this loop is written with: ``fps``, or for a given number
        of frames the rate at which they fill the cycle (a half cycle: the ejection, its
        frames at both ends) in ``60 / bpm`` seconds."""
        if self.frames is None:
            return float(self.fps)
        if self.cycle == "half":
            return (self.frame_count() - 1) / (EJECTION * self.period_s)
        return self.frame_count() / self.period_s

    def frame_count(self) -> int:
        if self.frames is not None:
            return int(self.frames)
        if self.cycle == "half":
            return max(2, round(self.fps * self.period_s * EJECTION) + 1)
        return max(2, round(self.fps * self.period_s))

    def times(self) -> np.ndarray:
        """Each frame's time as a fraction of the cycle."""
        n = self.frame_count()
        if self.cycle == "half":
            return np.linspace(0.0, EJECTION, n)
        return np.arange(n) / n

    def phases(self) -> np.ndarray:
        """Each frame's phase, 0 = ED, 1 = ES."""
        return np.array([phase_at(t) for t in self.times()])


def _smooth(x: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(max(x, 0.0), 1.0))


def phase_at(t: float) -> float:
    """The phase at time ``t`` (fraction of the cycle, taken modulo 1)."""
    t = t % 1.0
    if t <= EJECTION:
        return _smooth(t / EJECTION)
    t -= EJECTION
    if t <= RAPID_FILLING:
        x = t / RAPID_FILLING
        return 1.0 - (1.0 - FILLED_AFTER_RAPID) * (1.0 - (1.0 - x) ** 2)
    t -= RAPID_FILLING
    if t <= DIASTASIS:
        x = t / DIASTASIS
        return FILLED_AFTER_RAPID + (FILLED_AFTER_DIASTASIS - FILLED_AFTER_RAPID) * x
    t -= DIASTASIS
    x = t / (1.0 - EJECTION - RAPID_FILLING - DIASTASIS)
    return FILLED_AFTER_DIASTASIS * (1.0 - _smooth(x))
