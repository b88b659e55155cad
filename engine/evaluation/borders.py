"""How closely an image's edges follow its mask: a drawn look.

An expert's contour lies near, not on, the edges of a real echocardiogram: the endocardium
sits somewhere in a ramp of trabeculae, the mitral plane is a straight line the annotator
draws across leaflets that move. A generator that switches its style at the label border
draws an edge exactly there, and a reader sees a traced outline.

For each pair of touching regions (LV cavity / myocardium, myocardium / background, ...) and
each image, the **border edge ratio** is the mean gradient magnitude (after a sigma
:data:`SMOOTH` blur) within :data:`BAND` pixels of the border between them, over the mean
gradient magnitude in the same two regions :data:`AWAY` pixels from it: 1 when the border is
no edge at all, larger the more the image draws it. Real CAMUS valid images: about 1.1 (the
mitral plane 1.3).

Plain numpy and scipy on uint8 (H, W) images and label maps.
"""

from __future__ import annotations

import numpy as np

SMOOTH = 1.0  # pixels: Gaussian blur before the gradient, so single speckles do not count
BAND = 2  # pixels either side of the border that count as "at the border"
AWAY = (5, 10)  # distance band (pixels, [low, high)) that counts as "away from the border"
MIN_PIXELS = 20  # fewer pixels in either band: the image does not count for that border
BORDERS = (("lv/myo", 1, 2), ("myo/bg", 2, 0), ("la/bg", 3, 0), ("lv/la", 1, 3), ("myo/la", 2, 3))


def gradient_magnitude(image: np.ndarray, smooth: float = SMOOTH) -> np.ndarray:
    """Sobel gradient magnitude (grey levels per pixel) of a blurred float copy."""
    from scipy import ndimage

    picture = ndimage.gaussian_filter(np.asarray(image, np.float64), smooth)
    return np.hypot(ndimage.sobel(picture, 0), ndimage.sobel(picture, 1)) / 8.0


def border_edge_ratio(image: np.ndarray, labels: np.ndarray, first: int, second: int,
                      inside: np.ndarray | None = None, grad: np.ndarray | None = None) -> float:
    """The border edge ratio of one image between regions ``first`` and ``second`` (NaN
    when they hardly touch). ``inside``: where the image counts (the fan), all if None;
    ``grad``: the image's :func:`gradient_magnitude` when the caller has it."""
    from scipy import ndimage

    a, b = labels == first, labels == second
    if inside is not None:
        a, b = a & inside, b & inside
    if not a.any() or not b.any():
        return float("nan")
    to_a = ndimage.distance_transform_edt(~a)  # distance of every pixel to region first
    to_b = ndimage.distance_transform_edt(~b)
    at = (a & (to_b <= BAND)) | (b & (to_a <= BAND))
    away = (a & (to_b >= AWAY[0]) & (to_b < AWAY[1])) | (b & (to_a >= AWAY[0]) & (to_a < AWAY[1]))
    if at.sum() < MIN_PIXELS or away.sum() < MIN_PIXELS:
        return float("nan")
    grad = gradient_magnitude(image) if grad is None else grad
    return float(grad[at].mean() / max(grad[away].mean(), 1e-6))


def border_edges(images: np.ndarray, labels: np.ndarray, insides: np.ndarray | None = None) -> dict:
    """Median border edge ratio over (N, H, W) images per border (see :data:`BORDERS`), and
    how many images counted."""
    ratios: dict[str, list[float]] = {name: [] for name, _, _ in BORDERS}
    for i, (image, label) in enumerate(zip(images, labels)):
        grad = gradient_magnitude(image)  # once per image, shared by its borders
        inside = None if insides is None else insides[i]
        for name, first, second in BORDERS:
            ratio = border_edge_ratio(image, label, first, second, inside, grad)
            if np.isfinite(ratio):
                ratios[name].append(ratio)
    return {name: {"median": float(np.median(r)) if r else float("nan"), "images": len(r)}
            for name, r in ratios.items()}
