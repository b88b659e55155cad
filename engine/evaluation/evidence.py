"""Where the two-sample classifier's evidence lies, by place in the fan.

:func:`~engine.evaluation.realism.two_sample_test` returns the classifier's logit taken apart
over its last feature map: per cell, how much more the synthetic images than the real ones
pushed it towards "synthetic" (the cells add up to the mean logit gap). Here each cell's
share is spread over its pixels inside the fan (the black around it shows nothing; a cell
with no fan spreads evenly) and summed over the places of the fan the images were drawn in:

- ``near field``: the top :data:`~engine.evaluation.auc_parts.NEAR` of the fan's depth, around
  the probe;
- ``sides`` and ``arc``: the bands within :data:`~engine.evaluation.auc_parts.EDGE` pixels
  inside the fan's straight sides and its bottom arc, below the near field;
- ``background`` and ``heart``: the rest of the fan, unlabelled and labelled;
- ``outside``: the black around the fan (evidence lands there only from cells the fan never
  reaches).

Each place gets its ``share`` of the evidence (the shares add up to 1; a negative share is a
place where the real images looked the more synthetic) and its ``area``, the share of the
image it covers, averaged over the images; a place whose share is well above its area is
where the synthetic images give themselves away. The cells are coarse (16 pixels at the
test's 128x128) and each reads about 60 pixels around it, so a place's share is smeared into
its neighbours: it points, it does not outline. With no gap to take apart (the classifier
found nothing) the shares are not given.

:func:`with_real_in` asks the converse: it puts the real image's pixels into chosen places of
our image of the same mask, so the test can be rerun to see how far the AUC would fall were
those places right (``benchmarks/where_it_tells.py --real-in``). A place with a large share
may still be only one of several tells that each suffice alone.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .auc_parts import EDGE, fan_zones
from .realism import TwoSampleResult

PLACES = ("near field", "sides", "arc", "background", "heart", "outside")


def image_places(labels: np.ndarray, fan) -> dict[str, np.ndarray]:
    """Each of :data:`PLACES` as an (H, W) bool mask of one (H, W) label map drawn in ``fan``;
    the places do not overlap and cover every pixel."""
    inside, near, to_edge, to_arc = fan_zones(fan, *labels.shape)
    below = inside & ~near
    arc = below & (to_arc < EDGE)
    sides = below & ~arc & (to_edge < EDGE)
    rest = below & ~arc & ~sides
    return {"near field": near, "sides": sides, "arc": arc, "background": rest & (labels == 0),
            "heart": rest & (labels > 0), "outside": ~inside}


def place_masks(labels: np.ndarray, fans: Sequence) -> dict[str, np.ndarray]:
    """:func:`image_places` of (N, H, W) ``labels`` in ``fans``, as (N, H, W) masks."""
    per_image = [image_places(label, fan) for label, fan in zip(labels, fans)]
    return {name: np.stack([places[name] for places in per_image]) for name in PLACES}


def place_occupancy(labels: np.ndarray, fans: Sequence) -> dict[str, np.ndarray]:
    """Per place, the (H, W) share of the images in which each pixel lies there."""
    total = {name: np.zeros(labels.shape[1:]) for name in PLACES}
    for label, fan in zip(labels, fans):
        for name, mask in image_places(label, fan).items():
            total[name] += mask
    return {name: value / max(len(labels), 1) for name, value in total.items()}


def evidence_pixels(result: TwoSampleResult, weights: np.ndarray) -> np.ndarray:
    """(H, W): each evidence cell's value spread over its pixels in proportion to ``weights``
    (H, W, e.g. how often a pixel lies inside the fan: black around the fan shows nothing,
    so a cell's evidence belongs to its part of the fan), evenly where a cell's weights are
    all 0; the sum is kept. Rows and columns past the last whole cell belong to the last."""
    height, width = weights.shape
    cell = result.cell
    rows, cols = result.evidence.shape
    row_of = np.minimum(np.arange(height) // cell, rows - 1)
    col_of = np.minimum(np.arange(width) // cell, cols - 1)
    cell_id = row_of[:, None] * cols + col_of[None, :]
    count = np.bincount(cell_id.ravel(), minlength=rows * cols).astype(np.float64)
    total = np.bincount(cell_id.ravel(), weights=weights.ravel(), minlength=rows * cols)
    per_pixel = np.where(total[cell_id] > 0, weights / np.where(total > 0, total, 1.0)[cell_id],
                         1.0 / count[cell_id])
    return result.evidence.ravel()[cell_id] * per_pixel


def evidence_by_place(result: TwoSampleResult, labels: np.ndarray, fans: Sequence) -> dict | None:
    """``{place: {"share", "area"}}`` for :data:`PLACES` (module docstring), with the test run on
    images of ``labels`` (N, H, W, at the test's size) in ``fans``; None when the classifier's
    gap is not positive (nothing to take apart) or the test had no result."""
    if result.evidence.size == 0 or not np.isfinite(result.evidence).all():
        return None
    occupancy = place_occupancy(labels, fans)
    pixels = evidence_pixels(result, 1.0 - occupancy["outside"])
    gap = float(pixels.sum())
    if gap <= 0.0:
        return None
    return {name: {"share": float((pixels * share).sum() / gap), "area": float(share.mean())}
            for name, share in occupancy.items()}


def with_real_in(synthetic: np.ndarray, real: np.ndarray, labels: np.ndarray, fans: Sequence,
                 places: Sequence[str]) -> np.ndarray:
    """``synthetic`` (N, H, W) with the pixels of the named :data:`PLACES` taken from ``real``,
    the image of the same mask: an oracle, asking how far the two-sample test's AUC would fall
    were those places as real as real. Images, ``labels`` and ``fans`` pair up one to one;
    the places are read from the labels, as :func:`evidence_by_place` reads them."""
    unknown = sorted(set(places) - set(PLACES))
    if unknown:
        raise ValueError(f"unknown place {', '.join(map(repr, unknown))} (the places: {', '.join(PLACES)})")
    if not (synthetic.shape == real.shape == labels.shape and len(fans) == len(labels)):
        raise ValueError("the synthetic images, the real ones, their labels and their fans must pair up")
    out = synthetic.copy()
    for i, (label, fan) in enumerate(zip(labels, fans)):
        chosen = image_places(label, fan)
        take = np.zeros(label.shape, dtype=bool)
        for place in places:
            take |= chosen[place]
        out[i][take] = real[i][take]
    return out
