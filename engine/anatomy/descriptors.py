"""Shape descriptors of apical label maps: the numbers that tell one heart from another.

Every length is a fraction of the image size and every area a fraction of the image area,
so masks of any resolution compare; :func:`lv_size_mm` gives the LV's length and area in
millimetres and cm\u00b2 for a map whose pixel spacing is known. ``describe`` measures one map; ``coverage`` says how
well a set of generated maps spans a set of real ones: the share of real values that fall
inside the generated 5-95 % range (0.9 when the two distributions are the same).

Jointly, on the nine :data:`JOINT` descriptors standardised by the real set's mean and SD:
``precision_recall`` is the k-NN precision and recall of Kynkaanniemi et al. (2019, k = 3),
``share_in_range`` the share of generated maps with all nine inside the real 5-95 % ranges.
"""

from __future__ import annotations

import math

import numpy as np

from ..labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from ..mask_tools import keep_largest

DESCRIPTORS = {
    "lv_center_y": "LV cavity centre height (fraction of the image height)",
    "lv_center_x": "LV cavity centre across (fraction of the width)",
    "lv_area": "LV cavity area (fraction of the image)",
    "lv_length": "LV cavity extent along its long axis (fraction of the size)",
    "lv_elongation": "LV cavity long / short axis (from second moments)",
    "lv_tilt": "LV long axis angle from vertical, degrees (positive: base to the right)",
    "myo_lv_area": "myocardium area / LV cavity area",
    "wall_thickness": "mean myocardial thickness (fraction of the size)",
    "la_lv_area": "left atrium area / LV cavity area",
    "la_bottom": "lowest atrium row (fraction of the height)",
    "la_center_y": "atrium centre height (fraction of the height)",
}


def _perimeter(region: np.ndarray) -> int:
    """Pixels of ``region`` with a 4-neighbour outside it."""
    padded = np.pad(region, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return int(region.sum() - inner.sum())


def describe(labels: np.ndarray) -> dict[str, float]:
    """The descriptors of one (H, W) label map (NaN where a structure is missing), measured
    on the largest piece of each class: stray pixels that resampling leaves along borders
    would otherwise stretch extents."""
    labels = keep_largest(np.asarray(labels))
    height, width = labels.shape
    size = math.sqrt(height * width)
    cavity, myo, atrium = labels == LV_CAVITY, labels == MYOCARDIUM, labels == LEFT_ATRIUM
    out = dict.fromkeys(DESCRIPTORS, float("nan"))
    lv_pixels = int(cavity.sum())
    if lv_pixels >= 5:
        ys, xs = np.nonzero(cavity)
        (cx, cy), major, length, evals = _long_axis((xs + 0.5) / width, (ys + 0.5) / height)
        out.update(
            lv_center_y=float(cy), lv_center_x=float(cx), lv_area=lv_pixels / (height * width),
            lv_length=length,
            lv_elongation=float(math.sqrt(evals[1] / max(evals[0], 1e-12))),
            lv_tilt=float(math.degrees(math.atan2(major[0], major[1]))),
            myo_lv_area=float(myo.sum() / lv_pixels),
            la_lv_area=float(atrium.sum() / lv_pixels),
        )
        epi = cavity | myo
        if myo.any():
            out["wall_thickness"] = float(myo.sum() / (0.5 * (_perimeter(cavity) + _perimeter(epi))) / size)
    if atrium.any():
        rows = np.nonzero(atrium.any(axis=1))[0]
        out["la_bottom"] = float((rows.max() + 1) / height)
        out["la_center_y"] = float((np.nonzero(atrium)[0].mean() + 0.5) / height)
    return out


def _long_axis(xs: np.ndarray, ys: np.ndarray) -> tuple[tuple[float, float], np.ndarray, float, np.ndarray]:
    """Of the points (``xs``, ``ys``): their centre, the unit long axis (x, y) from their second
    moments, pointed from the apex (top) down toward the base, their extent along it, and the
    moments' eigenvalues (short axis first)."""
    cx, cy = xs.mean(), ys.mean()
    evals, evecs = np.linalg.eigh(np.cov(np.stack([xs - cx, ys - cy])))
    major = evecs[:, 1]
    if major[1] < 0:
        major = -major
    along = (xs - cx) * major[0] + (ys - cy) * major[1]
    return (float(cx), float(cy)), major, float(along.max() - along.min()), evals


def lv_size_mm(labels: np.ndarray, spacing: tuple[float, float]) -> tuple[float, float] | None:
    """The LV cavity's length along its long axis (mm) and its area (cm\u00b2) in a label map
    whose pixels lie ``spacing`` (across, down) mm apart, measured as :func:`describe` measures
    ``lv_length`` and ``lv_area`` (on its largest piece), in millimetres rather than fractions,
    so pixels taller than wide measure right; None for a cavity of under 5 pixels."""
    across, down = (float(v) for v in spacing)
    if not (across > 0 and down > 0 and np.isfinite(across) and np.isfinite(down)):
        raise ValueError(f"pixel spacing {spacing!r} is not two positive millimetre values")
    cavity = keep_largest(np.asarray(labels)) == LV_CAVITY
    if cavity.sum() < 5:
        return None
    ys, xs = np.nonzero(cavity)
    _, _, length, _ = _long_axis((xs + 0.5) * across, (ys + 0.5) * down)
    return length, float(cavity.sum()) * across * down / 100.0


def describe_all(masks) -> dict[str, np.ndarray]:
    """Descriptors of many maps, as one array per descriptor."""
    rows = [describe(m) for m in masks]
    return {name: np.array([r[name] for r in rows], dtype=np.float64) for name in DESCRIPTORS}


def coverage(real: np.ndarray, generated: np.ndarray, low: float = 5.0, high: float = 95.0) -> float:
    """Share of ``real`` values inside the ``low``-``high`` percentile range of ``generated``."""
    real, generated = real[np.isfinite(real)], generated[np.isfinite(generated)]
    if real.size == 0 or generated.size == 0:
        return float("nan")
    lo, hi = np.percentile(generated, [low, high])
    return float(((real >= lo) & (real <= hi)).mean())


# -- joint realism: k-NN precision and recall (Kynkaanniemi et al., NeurIPS 2019) -----------
JOINT = ("lv_area", "lv_center_x", "lv_center_y", "lv_elongation", "lv_tilt", "myo_lv_area",
         "wall_thickness", "la_lv_area", "la_bottom")


def joint_descriptors(masks) -> np.ndarray:
    """(N, 9) array of the :data:`JOINT` descriptors of many maps (NaN where missing)."""
    values = describe_all(masks)
    return np.stack([values[name] for name in JOINT], axis=1)


def _kth_distances(points: np.ndarray, k: int) -> np.ndarray:
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return np.sort(d, axis=1)[:, k]  # column 0 is the point itself


def _inside_manifold(queries: np.ndarray, support: np.ndarray, k: int) -> np.ndarray:
    """Whether each query lies within the k-NN ball of some support point."""
    radii = _kth_distances(support, k)
    d = np.sqrt(((queries[:, None, :] - support[None, :, :]) ** 2).sum(-1))
    return (d <= radii[None, :]).any(axis=1)


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 3) -> tuple[float, float]:
    """k-NN precision (share of generated rows inside the real set's manifold) and recall
    (share of real rows inside the generated set's manifold), each manifold being the union of
    balls reaching every point's k-th nearest neighbour, on descriptors standardised by the
    real set's mean and SD. Rows with a missing value count as outside (generated) or are
    dropped (real)."""
    real = real[np.isfinite(real).all(axis=1)]
    mean, sd = real.mean(0), real.std(0)
    sd[sd == 0] = 1.0
    r, g = (real - mean) / sd, (generated - mean) / sd
    finite = np.isfinite(g).all(axis=1)
    precision = float(_inside_manifold(g[finite], r, k).sum() / len(g)) if len(g) else float("nan")
    recall = float(_inside_manifold(r, g[finite], k).mean()) if finite.sum() > k else 0.0
    return precision, recall


def share_in_range(real: np.ndarray, generated: np.ndarray, low: float = 5.0, high: float = 95.0) -> float:
    """Share of generated rows whose every descriptor lies inside the real ``low``-``high``
    percentile range of that descriptor."""
    real = real[np.isfinite(real).all(axis=1)]
    lo, hi = np.percentile(real, [low, high], axis=0)
    inside = ((generated >= lo) & (generated <= hi)).all(axis=1)
    return float(inside.mean()) if len(generated) else float("nan")
