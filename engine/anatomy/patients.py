"""Generated patients for users: shape-model hearts, their masks, and what a manifest says of them.

Every heart the engine makes for a user (``phantom``, ``export --random``, ``export --like``,
the studio's New mask templates) is a draw of a :class:`ShapeModel` (the shipped one unless
another is given), rasterised inside the fan it is drawn for:

- :func:`template_mask`: one ready-made label map of a seeded heart;
- :func:`ejection_fractions`: a heart's EF by area per view and, when both views are there,
  by Simpson's biplane method (percent, as :meth:`ShapeModel.ejection_fraction` gives them);
- :func:`heart_record`: what a dataset's manifest records of a generated patient
  (``manifest["hearts"][patient]``): those ejection fractions and the heart itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..fan import Fan
from .heart import Heart
from .model_building import PHASES, VIEWS
from .shape_model import ShapeModel

EF_DIGITS = 2  # manifest EFs are rounded to this many decimals (percent)


def template_mask(view: str = "4CH", phase="ED", seed: int = 0, size: int = 256,
                  fan: Fan | None = None, model: ShapeModel | None = None) -> np.ndarray:
    """The (size, size) uint8 label map of the heart ``model.draw(seed)`` (default: the
    shipped shape model) in ``view`` at ``phase`` (ED, ES or a fraction between), inside
    ``fan`` (default: the view's median CAMUS fan)."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if isinstance(phase, str) and phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES} or a number in [0, 1], got {phase!r}")
    model = ShapeModel.default() if model is None else model
    return model.mask(model.draw(int(seed)), view, phase, int(size), fan=fan)


def ejection_fractions(model: ShapeModel, heart: Heart, views: Sequence[str] = VIEWS) -> dict[str, float]:
    """{view: EF by area, ..., "biplane": Simpson biplane EF (only when both views are in
    ``views``)}, percent, rounded to :data:`EF_DIGITS` decimals."""
    out = {view: round(model.ejection_fraction(heart, view), EF_DIGITS) for view in VIEWS if view in views}
    if all(view in views for view in VIEWS):
        out["biplane"] = round(model.ejection_fraction(heart, None), EF_DIGITS)
    return out


def heart_record(model: ShapeModel, heart: Heart, views: Sequence[str] = VIEWS) -> dict:
    """A manifest's record of one generated patient: ``ejection_fraction`` (see
    :func:`ejection_fractions`) and ``heart`` (:meth:`Heart.to_dict`)."""
    return {"ejection_fraction": ejection_fractions(model, heart, views), "heart": heart.to_dict()}
