"""Generated patients for users: shape-model hearts, their masks, and what a manifest says of them.

Every heart the engine makes for a user (``phantom``, ``export --random``, ``export --like``,
the studio's New mask templates) is a draw of a :class:`ShapeModel` (the shipped one unless
another is given), rasterised in the fan it is drawn for (on past its sides as experts draw
hearts, :mod:`engine.anatomy.rasterize`):

- :func:`template_mask`: one ready-made label map of a seeded heart;
- :func:`ejection_fractions`: a heart's EF by area per view and, when both views are there,
  by Simpson's biplane method (percent, as :meth:`ShapeModel.ejection_fraction` gives them);
- :func:`shown_hearts`: the heart each view's masks show (a heart too extreme to draw at a
  size and fan is drawn nearer the mean heart);
- :func:`heart_record`: what a dataset's manifest records of a generated patient
  (``manifest["hearts"][patient]``): the ejection fractions of the hearts its masks show, and
  the heart itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def shown_hearts(model: ShapeModel, heart: Heart, size: int, fans: Mapping[str, Fan | None] | None = None,
                 views: Sequence[str] = VIEWS) -> dict[str, Heart]:
    """{view: the heart the masks of ``view`` show at ``size`` in ``fans[view]`` (default: the
    view's median fan)}: ``heart`` itself, or for a heart too extreme to draw there, the one
    nearer the mean heart that :meth:`ShapeModel.mask` draws (:meth:`ShapeModel.drawn_heart`)."""
    fans = fans or {}
    return {view: model.drawn_heart(heart, view, int(size), fans.get(view)) for view in views}


def ejection_fractions(model: ShapeModel, heart: Heart, views: Sequence[str] = VIEWS,
                       shown: Mapping[str, Heart] | None = None) -> dict[str, float]:
    """{view: EF by area, ..., "biplane": Simpson biplane EF (only when both views are in
    ``views``)}, percent, rounded to :data:`EF_DIGITS` decimals: of ``heart``, or in each
    view of the heart its masks show (``shown``, :func:`shown_hearts`)."""
    hearts = {view: (shown or {}).get(view, heart) for view in VIEWS}
    out = {view: round(model.ejection_fraction(hearts[view], view), EF_DIGITS) for view in VIEWS if view in views}
    if all(view in views for view in VIEWS):
        out["biplane"] = round(model.biplane_ejection_fraction(hearts["2CH"], hearts["4CH"]), EF_DIGITS)
    return out


def heart_record(model: ShapeModel, heart: Heart, views: Sequence[str] = VIEWS, size: int | None = None,
                 fans: Mapping[str, Fan | None] | None = None) -> dict:
    """A manifest's record of one generated patient: ``ejection_fraction`` (see
    :func:`ejection_fractions`) and ``heart`` (:meth:`Heart.to_dict`). Given the ``size``
    (and ``fans``) its masks were drawn at, the ejection fractions are those of the hearts
    the masks show, and ``shown`` holds {view: heart record} for each view whose masks show
    a heart nearer the mean than ``heart`` (one too extreme to draw there)."""
    shown = shown_hearts(model, heart, size, fans, views) if size is not None else {}
    record = {"ejection_fraction": ejection_fractions(model, heart, views, shown), "heart": heart.to_dict()}
    moved = {view: drawn.to_dict() for view, drawn in shown.items() if drawn != heart}
    if moved:
        record["shown"] = moved
    return record
