"""The probe's fan of a real image: what ``prepare`` writes with each pair and what tracing
an image of one's own (:mod:`.trace_image`) starts from.

A fan is fitted to the image's support (:func:`engine.fan.fit_fan`) at most
:data:`FIT_SIZE` on a side; a fit below :data:`POOR_FIT` IoU is not trusted, and the view's
median CAMUS fan stands in. The frames of one acquisition share one fan fitted to all of
them (:func:`fit_frames_fan`); a frame that fan does not fit is either a bad frame (blank,
badly cut: its own fit is not trusted either), which is left out of the fit and carries the
shared fan with IoU 0, or a frame of another sector (its own fit is trusted), which keeps it.
"""

from __future__ import annotations

import numpy as np

from ..fan import Fan, default_fan, fan_overlaps, fit_fan, fit_shared_fan
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
    """One fan for frames of one acquisition (uint8, one size), fitted to the frames it fits
    well, with each frame's IoU (:func:`frames_with_fan` for the frames it does not fit).

    The frames the fan fitted to all of them fits well are fitted again without the others
    (a badly cut frame drags a shared fit); when no frame is fitted well, or the refit no
    longer fits those frames, the frames disagree and each gets its own fit."""
    if len(images) == 1:
        return [fit_image_fan(images[0], view)]
    pictures = [fitting_picture(image) for image in images]
    fan, fits = fit_shared_fan(pictures)
    trusted = [i for i, fit in enumerate(fits) if fit >= POOR_FIT]
    if 0 < len(trusted) < len(pictures):
        fan, _ = fit_shared_fan([pictures[i] for i in trusted])
        fits = fan_overlaps(fan, pictures)
    if not trusted or any(fits[i] < POOR_FIT for i in trusted):
        return [fit_image_fan(picture, view) for picture in pictures]
    return frames_with_fan(fan, pictures, fits, view)


def frames_with_fan(fan: Fan, pictures: list[np.ndarray], fits: list[float],
                    view: str | None) -> list[tuple[Fan, float]]:
    """Each of an acquisition's frames (uint8, fitting size) with its fan, given ``fan``, the
    acquisition's, and ``fits``, each frame's IoU with it: a frame it fits well carries it
    with that IoU; a frame it does not fit keeps its own fit when that is trusted (a sector
    of its own), else it is a bad frame (blank, badly cut) and carries ``fan`` with IoU 0,
    as a frame whose fan was not fitted to it."""
    fitted = []
    for picture, fit in zip(pictures, fits):
        own = None if fit >= POOR_FIT else fit_image_fan(picture, view)
        fitted.append((fan, fit) if own is None else own if own[1] > 0 else (fan, 0.0))
    return fitted


def fitting_picture(image: np.ndarray) -> np.ndarray:
    """``image`` as fans are fitted to it: at most :data:`FIT_SIZE` on a side."""
    return image if max(image.shape) <= FIT_SIZE else resize_image(image, FIT_SIZE)
