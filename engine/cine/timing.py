"""When in the heart cycle each frame falls: a physiological phase curve, not a linear ramp.

A frame's *phase* runs from 0 (end-diastole, the largest ventricle) to 1 (end-systole, the
smallest). One full cycle of ``60 / bpm`` seconds, as fractions of the cycle:

- ejection, ED -> ES, the first ``EJECTION`` (about a third): a smooth (cosine) fall;
- rapid filling, the next ``RAPID_FILLING``: three quarters of the way back, fast first;
- diastasis, the next ``DIASTASIS``: slow filling, a further tenth;
- atrial contraction, the rest: the last push back to ED.

A full cycle holds N = fps * 60 / bpm frames, rounded (halves up), at t = k / N of the cycle
(k = 0 .. N-1), so the loop plays seamlessly: the frame after the last is the first. ``half``
is the part CAMUS stores, ED to ES inclusive: its frames spread over the ejection evenly, both
ends included. A loop of a given number of frames (``frames``) spreads them the same way.

The heart rate is kept exactly, the frame rate as near as whole frames allow: every loop plays
at :attr:`Timing.playback_fps`, the rate at which its frames fill the cycle (or its ejection)
in ``60 / bpm`` seconds (40 fps at 65 bpm: 37 frames played at 40.08 fps). A file's recorded
bpm is therefore the rate it plays at. A loop needs at least two frames a cycle, so a frame
rate below :func:`lowest_fps` (``bpm / 40``: 6.25 fps at 250 bpm) is refused, naming the
lowest that works, rather than raised to two frames (which would play at another heart rate).
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
        if self.frames is None and self.frame_count() < 2:
            raise CardiganError(f"{self.fps:g} fps is too slow for {self.bpm:g} bpm: a loop needs 2 frames a "
                                f"heart cycle, so at least {lowest_fps(self.bpm):g} fps")
        if self.frames is None and self.frame_count() > MAX_FRAMES:
            raise CardiganError(f"{self.fps:g} fps at {self.bpm:g} bpm gives {self.frame_count()} frames; "
                                f"a loop needs between 2 and {MAX_FRAMES}")
        return self

    @property
    def period_s(self) -> float:
        return 60.0 / self.bpm

    @property
    def playback_fps(self) -> float:
        """The frame rate the loop plays at (and a file of it is written with): the rate at
        which its frames fill the cycle (a half cycle: the ejection, its frames at both ends)
        in ``60 / bpm`` seconds, so the heart beats at ``bpm``; ``fps`` as near as whole
        frames allow."""
        if self.cycle == "half":
            return (self.frame_count() - 1) / (EJECTION * self.period_s)
        return self.frame_count() / self.period_s

    def frame_count(self) -> int:
        """The loop's frames: ``frames``, or as many as ``fps`` gives over the cycle (a half
        cycle: over the ejection, plus one), rounded halves up; below :func:`lowest_fps`
        fewer than 2, which :meth:`checked` refuses."""
        if self.frames is not None:
            return int(self.frames)
        beats = self.fps * 60.0 / self.bpm  # frames in one cycle at fps
        if self.cycle == "half":
            return _round_half_up(beats * EJECTION) + 1
        return _round_half_up(beats)

    def times(self) -> np.ndarray:
        """Each frame's time as a fraction of the cycle."""
        n = self.frame_count()
        if self.cycle == "half":
            return np.linspace(0.0, EJECTION, n)
        return np.arange(n) / n

    def phases(self) -> np.ndarray:
        """Each frame's phase, 0 = ED, 1 = ES."""
        return np.array([phase_at(t) for t in self.times()])


def lowest_fps(bpm: float) -> float:
    """The lowest frame rate that gives a loop at ``bpm`` its 2 frames (either cycle): 1.5
    frames a cycle, which rounds up to 2."""
    return 1.5 * bpm / 60.0


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5 + 1e-9)  # 1e-9: a product such as 1.5 / 3 is a half, not just under


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
