"""Loops of shape-model hearts drawn from one seed: what ``cine --random`` and
``export --cine --random`` make.

One seed gives the same patients to both commands. Patient ``i`` (0-based) is the heart
``seed * SEED_STRIDE + i``; each of its views gets a fan of its own, drawn about that view's
median (:func:`engine.fan.random_fan`); loop ``k`` (0-based, in patient then view order) is
synthesized with the look ``seed * SEED_STRIDE + k + 1``. Two seeds never share a heart or a
look among their first ``SEED_STRIDE`` loops, so seed 5's second loop is not seed 6's first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .loop import CineLoop, loop_from_heart
from .timing import Timing

SEED_STRIDE = 1_000_003  # a prime: the hearts and looks of neighbouring seeds stay apart
FAN_STREAM = 0xC1E  # keeps the fans' random stream apart from other uses of the seed


@dataclass(frozen=True)
class RandomLoop:
    """One view of one generated patient, ready to be made into a loop."""

    index: int  # the patient, 0-based
    view: str
    heart: Any  # the shape model's heart (:meth:`engine.anatomy.ShapeModel.draw`)
    fan: Any  # :class:`engine.fan.Fan`
    look: int  # the synthesis seed of this loop

    def make(self, model, size: int, timing: Timing) -> CineLoop:
        """The loop's masks and motion at ``size`` (the heart beating along its own motion)."""
        return loop_from_heart(model, self.heart, self.view, size, timing, self.fan)


def random_loops(count: int, views, seed: int):
    """(shape model, [:class:`RandomLoop`]) for ``count`` patients, each in every view of ``views``."""
    from ..anatomy import VIEWS, ShapeModel
    from ..fan import random_fan

    model = ShapeModel.default()
    loops = []
    for index in range(count):
        heart = model.draw(seed * SEED_STRIDE + index)
        for view in views:
            rng = np.random.default_rng([int(seed) & (2**63 - 1), FAN_STREAM, index, VIEWS.index(view)])
            loops.append(RandomLoop(index, view, heart, random_fan(rng, view), seed * SEED_STRIDE + len(loops) + 1))
    return model, loops
