"""How a loop moves: flicker where nothing should change, and speckle that follows tissue.

- **Flicker**: the mean absolute grey-level change from one frame to the next, over pixels
  whose label is the same in both frames and away from label edges (3 pixels). Reported
  beside the same measure for the worst case, every frame drawn with its own seed.
  A still frame repeated gives 0.
- **Speckle tracking**: for patches (15 x 15) on the moving wall, the correlation of a
  frame's patch with the next frame's patch at the position the displacement field moves
  it to, against the correlation with the patch left in place. Speckle carried with the
  tissue correlates better displaced; the share of patches where it does is reported.
- **Far-field flicker**: the brightness of the tissue well away from the heart (its σ 4 blur),
  compared from one frame to the next: the median and the largest mean absolute change over
  the frame pairs. The speckle there may move with the tissue; its local brightness should
  hardly change, and a still frame repeated gives 0.
- **Brightness jumps by region**: the mean grey level of each region (3 px inside it) in every
  frame, and how far it moves from one frame to the next: the median and the largest step.
  A chamber that flashes brighter for a frame shows as a large step.
- **Frame-to-frame detail correlation by region**: the correlation of the speckle (the image
  minus its σ 2 blur) between consecutive frames, over pixels 3 px inside one region in both
  frames, per region (the median over frame pairs). Tissue that moves a little keeps its
  pattern (high); flowing blood does not (low: :mod:`.blood`).
"""

from __future__ import annotations

import numpy as np

from ..labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM

EDGE_MARGIN = 3
PATCH = 15


def distance_from_heart(mask: np.ndarray) -> np.ndarray:
    """(H, W) float: each pixel's distance in pixels to the nearest label other than
    background; infinite everywhere when the mask holds no heart."""
    from scipy import ndimage

    free = mask == BACKGROUND
    if free.all():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(free)


def distance_inside(region: np.ndarray) -> np.ndarray:
    """(H, W) float: each pixel's distance in pixels to the nearest pixel outside ``region``,
    the picture's border counting as outside (a region that fills the picture is 1 on its
    first and last rows and columns)."""
    from scipy import ndimage

    return ndimage.distance_transform_edt(np.pad(np.asarray(region, bool), 1))[1:-1, 1:-1]


def flicker(images: np.ndarray, masks: np.ndarray, margin: int = EDGE_MARGIN) -> float:
    """Mean |frame k+1 - frame k| (grey levels) where the label does not change, the loop
    closed (the last frame is compared with the first)."""
    from scipy import ndimage

    images = images.astype(np.float32)
    total, count = 0.0, 0
    frames = len(images)
    for k in range(frames):
        nxt = (k + 1) % frames
        same = masks[k] == masks[nxt]
        edges = np.zeros_like(same)
        for m in (masks[k], masks[nxt]):
            edges |= ndimage.morphological_gradient(m, size=3) > 0
        steady = same & ~ndimage.binary_dilation(edges, iterations=margin) & (images[k] > 0)
        total += float(np.abs(images[nxt] - images[k])[steady].sum())
        count += int(steady.sum())
    return total / count if count else float("nan")


FAR_SIGMA = 4.0  # pixels at 256: the blur whose changes count as brightness, not speckle
FAR_CLEARANCE = 12  # pixels at 256 from any heart label, in both frames of a pair


def far_field_flicker(images: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """``{"median", "worst"}``: the mean absolute change of the σ :data:`FAR_SIGMA` blur
    (grey levels, read only inside the image's support) from frame k to k + 1, over
    background pixels at least :data:`FAR_CLEARANCE` pixels (at 256; in proportion) from
    the heart in both frames, the loop closed; NaN where no pixel qualifies."""
    from ..fan import blur_within

    frames, width = images.shape[0], images.shape[2]
    scale = width / 256.0
    sigma, clearance = FAR_SIGMA * scale, max(1, round(FAR_CLEARANCE * scale))
    support = images > 0
    blurred = [blur_within(image, inside, sigma) for image, inside in zip(images.astype(np.float64), support)]
    far = [distance_from_heart(mask) >= clearance for mask in masks]
    changes = []
    for k in range(frames):
        nxt = (k + 1) % frames
        where = far[k] & far[nxt] & support[k] & support[nxt]
        if where.any():
            changes.append(float(np.abs(blurred[nxt] - blurred[k])[where].mean()))
    if not changes:
        return {"median": float("nan"), "worst": float("nan")}
    return {"median": float(np.median(changes)), "worst": float(np.max(changes))}


JUMP_REGIONS = {"lv_cavity": LV_CAVITY, "myocardium": MYOCARDIUM, "left_atrium": LEFT_ATRIUM}


def brightness_jumps(images: np.ndarray, masks: np.ndarray, margin: int = EDGE_MARGIN,
                     closed: bool = True) -> dict[str, dict[str, float]]:
    """``{region: {"median", "worst"}}``: the absolute change of the region's mean grey level
    (over its pixels ``margin`` inside it) between consecutive frames, the last frame compared
    with the first when ``closed``; NaN for a region absent from the loop."""
    from scipy import ndimage

    result = {}
    for name, value in JUMP_REGIONS.items():
        means = []
        for image, mask in zip(images.astype(np.float64), masks):
            core = ndimage.binary_erosion(mask == value, iterations=margin)
            means.append(float(image[core].mean()) if core.any() else np.nan)
        series = np.asarray(means + means[:1] if closed else means)
        steps = np.abs(np.diff(series))
        steps = steps[np.isfinite(steps)]
        result[name] = ({"median": float(np.median(steps)), "worst": float(steps.max())} if len(steps)
                        else {"median": float("nan"), "worst": float("nan")})
    return result


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def speckle_tracking(images: np.ndarray, masks: np.ndarray, field: np.ndarray, phases: np.ndarray,
                     min_motion: float = 0.75, stride: int = 8) -> dict:
    """Share of wall patches whose speckle correlates better with the next frame displaced
    by the tissue's motion than left in place (frames k -> k+1 where the wall moves at least
    ``min_motion`` pixels), with the two mean correlations."""
    half = PATCH // 2
    height, width = images.shape[-2:]
    better, displaced_all, still_all = 0, [], []
    for k in range(len(images) - 1):
        step = phases[k + 1] - phases[k]
        # pixel x of frame k+1 shows the tissue at x + (p_{k+1} - p_k) * field(x) of frame k
        # (to first order): the patch at c in frame k moves to about c - step * field(c)
        for y in range(half, height - half, stride):
            for x in range(half, width - half, stride):
                if masks[k, y, x] != MYOCARDIUM:
                    continue
                dx, dy = -step * field[y, x, 0], -step * field[y, x, 1]
                if np.hypot(dx, dy) < min_motion:
                    continue
                ny, nx = int(round(y + dy)), int(round(x + dx))
                if not (half <= ny < height - half and half <= nx < width - half):
                    continue
                patch = images[k, y - half:y + half + 1, x - half:x + half + 1].astype(np.float64)
                moved = images[k + 1, ny - half:ny + half + 1, nx - half:nx + half + 1].astype(np.float64)
                still = images[k + 1, y - half:y + half + 1, x - half:x + half + 1].astype(np.float64)
                c_moved, c_still = _correlation(patch, moved), _correlation(patch, still)
                displaced_all.append(c_moved)
                still_all.append(c_still)
                better += c_moved > c_still
    n = len(displaced_all)
    return {"patches": n, "share_better_displaced": better / n if n else float("nan"),
            "displaced_correlation": float(np.mean(displaced_all)) if n else float("nan"),
            "still_correlation": float(np.mean(still_all)) if n else float("nan")}


REGIONS = {"lv_cavity": LV_CAVITY, "myocardium": MYOCARDIUM, "left_atrium": LEFT_ATRIUM,
           "background": BACKGROUND}
DETAIL_SIGMA = 2.0
MIN_PIXELS = 50


def detail_correlation(images: np.ndarray, masks: np.ndarray, margin: int = EDGE_MARGIN) -> dict[str, float]:
    """``{region: median correlation}`` of the detail finer than σ 2 between frames k and k+1,
    over pixels ``margin`` inside the region in both frames (the background: inside the image's
    support); NaN for a region too small in every pair."""
    from scipy import ndimage

    details = [image - ndimage.gaussian_filter(image, DETAIL_SIGMA) for image in images.astype(np.float32)]
    result = {}
    for name, value in REGIONS.items():
        values = []
        for k in range(len(images) - 1):
            inside = ndimage.binary_erosion((masks[k] == value) & (masks[k + 1] == value), iterations=margin)
            if value == BACKGROUND:
                inside &= (images[k] > 0) & (images[k + 1] > 0)
            if inside.sum() >= MIN_PIXELS:
                values.append(_correlation(details[k][inside], details[k + 1][inside]))
        result[name] = float(np.median(values)) if values else float("nan")
    return result
