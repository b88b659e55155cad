"""Shape-model deformation of a training pair: its real heart moved along the shape model, the
image following (most of what ``--deform`` does; :func:`engine.data.deform.deform_pair`).

For a pair (image, labels, fan coverage):

1. the landmarks of the real mask (:func:`engine.anatomy.landmarks.find_landmarks`) and the
   shape-model heart nearest them (:func:`engine.anatomy.fitting.fit_landmarks`; a pair
   without a known view is fitted in both and keeps the closer), found once per pair and
   kept in a cache (:class:`FitCache`, shared with DataLoader workers, or a plain dict);
   the pair's fan (``sector``, a :class:`engine.fan.Fan`) places the model's hearts
   (:mod:`engine.anatomy.placement`): the landmarks are taken back to the view's median fan
   to be fitted, and the model's landmarks below are drawn in the pair's fan;
2. a random step along one of the model's directions (LV length, width, wall, atrium, EF,
   tilt, shape modes 1-3) of ``step`` SDs (0.3 to 1.5 by default, either sign): the model's
   landmarks of the fitted and of the moved heart differ by a smooth displacement, which
   moves the real landmarks (so the pair keeps its own details; in a tilted or shallow fan
   the displacement turns and scales with the heart);
3. a thin-plate spline (:class:`scipy.interpolate.RBFInterpolator`) from the moved landmarks
   (endocardium, epicardium, atrium; the picture's border held still) back to the real
   ones, evaluated on a coarse grid and bilinearly upsampled, says where each output pixel
   reads the input: the image and the fan coverage are resampled bilinearly, the labels by
   nearest neighbour, so the new mask is the warped real one and stays exactly paired with
   the image.

A step that would fold the picture (the map's Jacobian below :data:`MIN_JACOBIAN` somewhere)
is halved, up to :data:`HALVINGS` times; when the landmarks cannot be found or the map still
folds, :func:`shape_deform` returns None and the caller deforms elastically instead.
Everything is a pure function of the numpy Generator and the pair (the cache only saves time).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ..anatomy.curves import outward_normals
from ..anatomy.heart import Heart
from ..anatomy.landmarks import VECTOR_LENGTH, LandmarkError, Landmarks, find_landmarks
from ..anatomy.model_building import PHASES, VIEWS
from ..anatomy.placement import unplaced
from ..anatomy.shape_model import ShapeModel
from ..fan import Fan

STEP = (0.3, 1.5)  # SDs along one model direction
GRID = 24  # points per side of the coarse grid the spline is evaluated on
BORDER = 6  # still points per side of the picture's border
SMOOTHING = 1e-3  # keeps the spline's system regular when two landmarks nearly coincide
MIN_JACOBIAN = 0.3  # a map shrinking an area below this share (or folding it) is too strong
HALVINGS = 2
MISSING = object()  # a cache's "not fitted yet"


@dataclass(frozen=True)
class Fitted:
    """A pair's real landmarks, and the model heart nearest them (its latent vector)."""

    view: str
    phase: str
    marks: Landmarks
    latent: np.ndarray


def fit_pair(labels: np.ndarray, view: str | None = None, phase: str | None = None,
             model: ShapeModel | None = None, sector: Fan | None = None) -> Fitted | None:
    """The landmarks of ``labels`` and the heart of ``model`` nearest them (in ``view`` at
    ``phase`` when known; an unknown view is fitted as either and the closer is kept, an
    unknown phase is taken as ED), the mask drawn in the fan ``sector`` (None: the view's
    median fan); None when the landmarks cannot be found."""
    from ..anatomy.fitting import fit_landmarks

    model = ShapeModel.default() if model is None else model
    try:
        marks = find_landmarks(labels)
    except LandmarkError:
        return None
    phase = phase if phase in PHASES else "ED"
    best = None
    for v in ([view] if view in VIEWS else VIEWS):
        heart = fit_landmarks(model, {(v, phase): unplaced(marks, sector, v)})
        error = float(np.mean((model.landmarks(heart, v, phase, sector).endo - marks.endo) ** 2))
        if best is None or error < best[0]:
            best = (error, v, heart)
    return Fitted(best[1], phase, marks, best[2].latent)


class FitCache:
    """:class:`Fitted` pairs by dataset index, in shared memory: what one DataLoader worker
    fits is there for the other workers and for the next epoch's (``get`` / ``[i] =``, as a
    dict; values are Fitted or None for a pair without landmarks)."""

    def __init__(self, count: int, model: ShapeModel | None = None) -> None:
        model = ShapeModel.default() if model is None else model
        self.latent_size = model.shapes + len(model.pose_mean)
        # per row: state (0 not fitted, 1 fitted, -1 no landmarks), view, phase, landmarks, latent
        self.table = torch.zeros((max(int(count), 1), 3 + VECTOR_LENGTH + self.latent_size),
                                 dtype=torch.float64).share_memory_()

    def get(self, index: int, default=None):
        row = self.table[int(index)].numpy()
        if row[0] == 0:
            return default
        if row[0] < 0:
            return None
        return Fitted(VIEWS[int(row[1])], PHASES[int(row[2])],
                      Landmarks.from_vector(row[3:3 + VECTOR_LENGTH].copy()), row[3 + VECTOR_LENGTH:].copy())

    def __setitem__(self, index: int, fitted: Fitted | None) -> None:
        row = self.table[int(index)].numpy()
        if fitted is not None:
            if len(fitted.latent) != self.latent_size:
                return  # fitted with another model: not kept
            row[1:3] = VIEWS.index(fitted.view), PHASES.index(fitted.phase)
            row[3:3 + VECTOR_LENGTH] = fitted.marks.vector()
            row[3 + VECTOR_LENGTH:] = fitted.latent
        row[0] = 1 if fitted is not None else -1  # written last: a row is whole once marked


def cached_fit(labels: np.ndarray, view: str | None, phase: str | None, model: ShapeModel,
               cache=None, key=None, sector: Fan | None = None) -> Fitted | None:
    """:func:`fit_pair`, looked up in / stored into ``cache`` under ``key`` (default: a hash
    of the labels, the view, the phase and the fan)."""
    if cache is None:
        return fit_pair(labels, view, phase, model, sector)
    if key is None:
        digest = hashlib.blake2b(np.ascontiguousarray(labels).tobytes(), digest_size=16).hexdigest()
        key = (digest, labels.shape, view, phase, sector)
    fitted = cache.get(key, MISSING)
    if fitted is MISSING:
        fitted = fit_pair(labels, view, phase, model, sector)
        cache[key] = fitted
    return fitted


def control_points(marks: Landmarks, height: int, width: int) -> np.ndarray:
    """(K + K + M, 2) pixel points of a heart: endocardium, epicardium (along the outward
    normals by the wall's thickness), atrium."""
    endo = marks.endo * np.array([width, height], np.float64)
    normals = outward_normals(endo, endo.mean(0))
    epi = endo + normals * (marks.thickness * math.sqrt(height * width))[:, None]
    return np.concatenate([endo, epi, marks.atrium * np.array([width, height], np.float64)])


def border_points(height: int, width: int, count: int = BORDER) -> np.ndarray:
    """Points along the picture's border (corners included), held still by the warp."""
    t = np.linspace(0.0, 1.0, count)[:-1]
    top = np.stack([t * width, np.zeros_like(t)], 1)
    right = np.stack([np.full_like(t, width), t * height], 1)
    bottom = np.stack([(1 - t) * width, np.full_like(t, height)], 1)
    left = np.stack([np.zeros_like(t), (1 - t) * height], 1)
    return np.concatenate([top, right, bottom, left])


def spline_field(new: np.ndarray, old: np.ndarray, height: int, width: int,
                 grid: int = GRID) -> tuple[np.ndarray, float]:
    """(displacement (grid, grid, 2) on the coarse grid of pixel centres, the smallest
    Jacobian of the map there): a thin-plate spline through the border (still) and
    ``new`` -> ``old`` (each output point reads the input at point + displacement)."""
    from scipy.interpolate import RBFInterpolator

    still = border_points(height, width)
    centres = np.concatenate([new, still])
    moves = np.concatenate([old - new, np.zeros_like(still)])
    spline = RBFInterpolator(centres, moves, kernel="thin_plate_spline", smoothing=SMOOTHING)
    xs = np.linspace(0.5, width - 0.5, grid)
    ys = np.linspace(0.5, height - 0.5, grid)
    gx, gy = np.meshgrid(xs, ys)
    field = spline(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(grid, grid, 2)
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    ux = np.gradient(field[..., 0], dy, dx)  # d(dx)/dy, d(dx)/dx
    uy = np.gradient(field[..., 1], dy, dx)
    jacobian = (1 + ux[1]) * (1 + uy[0]) - ux[0] * uy[1]
    return field, float(jacobian.min())


@lru_cache(maxsize=16)
def _upsampling(size: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """(lower neighbour, weight of the upper) of linear interpolation from ``grid`` points
    spanning the first to the last of ``size`` pixel centres (align_corners=True)."""
    at = np.linspace(0.0, grid - 1.0, size)
    low = np.minimum(np.floor(at).astype(np.intp), grid - 2)
    weight = (at - low).astype(np.float32)
    low.setflags(write=False)
    weight.setflags(write=False)
    return low, weight


def _upsample(coarse: np.ndarray, height: int, width: int) -> np.ndarray:
    """A (G, G) array bilinearly upsampled to (H, W), element-wise (no BLAS or torch thread
    pool for a data-loading worker to wait on)."""
    low, w = _upsampling(height, coarse.shape[0])
    rows = coarse[low] * (1 - w)[:, None] + coarse[low + 1] * w[:, None]
    low, w = _upsampling(width, coarse.shape[1])
    return rows[:, low] * (1 - w)[None, :] + rows[:, low + 1] * w[None, :]


def sampling_grid(field: np.ndarray, height: int, width: int) -> torch.Tensor:
    """(1, H, W, 2) grid_sample coordinates (align_corners=False) of a coarse displacement
    field, bilinearly upsampled to every pixel centre."""
    field = field.astype(np.float32)
    out = np.empty((height, width, 2), np.float32)
    out[..., 0] = (_upsample(field[..., 0], height, width) + (np.arange(width, dtype=np.float32) + 0.5)[None, :]) \
        * np.float32(2.0 / width) - 1
    out[..., 1] = (_upsample(field[..., 1], height, width) + (np.arange(height, dtype=np.float32) + 0.5)[:, None]) \
        * np.float32(2.0 / height) - 1
    return torch.from_numpy(out)[None]


def model_motion(model: ShapeModel, fitted: Fitted, direction: str, sds: float, height: int, width: int,
                 sector: Fan | None = None) -> np.ndarray:
    """How the control points (:func:`control_points`, pixels) of ``fitted``'s model heart,
    drawn in the fan ``sector``, move when the heart moves ``sds`` SDs along ``direction``."""
    heart = Heart.from_latent(fitted.latent, model.shapes, model.fingerprint)
    before, after = (control_points(model.landmarks(h, fitted.view, fitted.phase, sector), height, width)
                     for h in (heart, model.move(heart, direction, sds)))
    return after - before


def shape_warp(labels: np.ndarray, rng: np.random.Generator, view: str | None = None,
               phase: str | None = None, model: ShapeModel | None = None, cache=None, key=None,
               step: tuple[float, float] = STEP, sector: Fan | None = None) -> torch.Tensor | None:
    """The (1, H, W, 2) grid_sample grid of one random shape-model move of the heart in
    ``labels``, drawn in the fan ``sector`` (None: the view's median fan; see the module
    docstring), or None when it has no usable landmarks or every step folds the picture.
    Draws from ``rng`` only when the landmarks are found."""
    model = ShapeModel.default() if model is None else model
    fitted = cached_fit(labels, view, phase, model, cache, key, sector)
    if fitted is None:
        return None
    names = list(model.directions)
    direction = names[int(rng.integers(len(names)))]
    sds = float(rng.uniform(*step)) * (1.0 if rng.random() < 0.5 else -1.0)
    height, width = labels.shape
    old = control_points(fitted.marks, height, width)
    for _ in range(HALVINGS + 1):
        motion = model_motion(model, fitted, direction, sds, height, width, sector)
        try:
            field, jacobian = spline_field(old + motion, old, height, width)
        except np.linalg.LinAlgError:
            return None
        if jacobian >= MIN_JACOBIAN and np.isfinite(field).all():
            return sampling_grid(field, height, width)
        sds *= 0.5
    return None


def shape_deform(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                 fan: np.ndarray | None = None, view: str | None = None, phase: str | None = None,
                 model: ShapeModel | None = None, cache=None, key=None, step: tuple[float, float] = STEP,
                 sector: Fan | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """(image, labels, fan) of the pair with its heart moved along the shape model (image
    float32 (H, W) in [0, 1], labels uint8 (H, W), fan coverage (H, W) or None; ``sector``:
    the fan the pair was recorded in, None for the view's median), or None when the mask's
    landmarks cannot be found (see :func:`shape_warp`)."""
    grid = shape_warp(labels, rng, view, phase, model, cache, key, step, sector)
    if grid is None:
        return None
    planes = [np.asarray(image, np.float32)] + ([np.asarray(fan, np.float32)] if fan is not None else [])
    smooth = F.grid_sample(torch.from_numpy(np.stack(planes))[None], grid, mode="bilinear",
                           padding_mode="zeros", align_corners=False)[0].numpy()
    ids = F.grid_sample(torch.from_numpy(np.asarray(labels, np.float32))[None, None], grid, mode="nearest",
                        padding_mode="zeros", align_corners=False)[0, 0].numpy()
    warped_fan = np.clip(smooth[1], 0.0, 1.0).astype(np.float32) if fan is not None else None
    return smooth[0].astype(np.float32), ids.astype(np.uint8), warped_fan
