"""The probe's fan of a real image: what ``prepare`` writes with each pair and what tracing
an image of one's own (:mod:`.trace_image`) starts from.

A fan is fitted to the image's support (:func:`engine.fan.fit_fan`) at most
:data:`FIT_SIZE` on a side; a fit below :data:`POOR_FIT` IoU is not trusted, and the view's
median CAMUS fan stands in. The frames of one acquisition share one fan fitted to all of
them (:func:`fit_frames_fan`).
"""

from __future__ import annotations

import numpy as np

from ..fan import Fan, default_fan, fit_fan, fit_shared_fan
from .imaging import resize_image

FIT_SIZE = 256  # fans are fitted at most at this size (they are size-free)
POOR_FIT = 0.9  # a fit below this IoU is not trusted: the view's median fan is used instead


def fit_image_fan(image: np.ndarray, view: str | None) -> tuple[Fan, float]:
    """The fan of a real image (uint8, any size) and the IoU of the fit; the view's median
    fan, with IoU 0, when the image's support is not a sector (blank, or badly cut)."""
    fan, fit = fit_fan(fitting_picture(image))
    if fit < POOR_FIT:
        return default_fan(view), 0.0
    return fan, fit


def fit_frames_fan(images: list[np.ndarray], view: str | None) -> list[tuple[Fan, float]]:
    """One fan for frames of one acquisition (uint8, one size), from all of them together,
    with each frame's IoU; when the shared fan does not fit every frame well (one frame
    blank or badly cut), each frame gets its own fit (:func:`fit_image_fan`) instead."""
    if len(images) == 1:
        return [fit_image_fan(images[0], view)]
    fan, fits = fit_shared_fan([fitting_picture(image) for image in images])
    if min(fits) < POOR_FIT:
        return [fit_image_fan(image, view) for image in images]
    return [(fan, fit) for fit in fits]


def fitting_picture(image: np.ndarray) -> np.ndarray:
    """``image`` as fans are fitted to it: at most :data:`FIT_SIZE` on a side."""
    return image if max(image.shape) <= FIT_SIZE else resize_image(image, FIT_SIZE)
