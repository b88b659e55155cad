"""Echo-appropriate augmentation, identical geometry for image and label map.

Intensity changes mimic gain (a factor) and compression (a gamma); black stays black, so the
fan outline is kept. The geometry comes in three kinds (:data:`GEOMETRIES`):

- ``pixel`` (the default): shifts by whole pixels. The image's pixels are copied, never
  interpolated, so the speckle the generator learns from is the scanner's own.
- ``resample``: turns and scales about the transducer (the fan's apex at the top centre), as
  a slightly different probe angle or depth setting would, and sub-pixel shifts, with the
  image resampled bilinearly. Resampling softens the speckle: a two-sample classifier (the
  one ``cardigan evaluate`` runs) tells real CAMUS frames from the same frames shifted by
  less than half a pixel at AUC 0.80–0.87, and a generator trained on resampled frames learns
  that softer texture (``docs/realism.md`` › "The training pairs").
- ``none``: the pairs keep their geometry.

The label map is moved with nearest neighbour so no new label values appear. No left-right
flip unless asked: it would swap the septum and the lateral wall (and the right heart).

Done with PIL and numpy (single-threaded C): data loading must not compete with the
training step for torch's thread pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image


GEOMETRIES = ("pixel", "resample", "none")


@dataclass(frozen=True)
class AugmentConfig:
    geometry: str = "pixel"  # one of GEOMETRIES
    max_rotation: float = 8.0  # degrees (resample)
    scale: tuple[float, float] = (0.92, 1.08)  # resample
    max_shift: float = 0.03  # fraction of the image size (pixel: rounded to whole pixels)
    gain: tuple[float, float] = (0.8, 1.25)
    gamma: tuple[float, float] = (0.8, 1.25)
    hflip: bool = False

    def __post_init__(self) -> None:
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"unknown augmentation geometry {self.geometry!r} (use {', '.join(GEOMETRIES)})")


@dataclass(frozen=True)
class AugmentParams:
    angle: float  # degrees, positive turns the picture clockwise on screen
    scale: float  # > 1 enlarges
    shift_x: float  # fraction of the width, positive moves the picture right
    shift_y: float  # fraction of the height, positive moves it down
    gain: float
    gamma: float
    flip: bool


def draw_params(rng: np.random.Generator, config: AugmentConfig = AugmentConfig()) -> AugmentParams:
    """One random augmentation; with ``pixel`` geometry, ``augment_pair`` rounds its shifts to
    whole pixels of the image it is given, with ``none`` there are none. Every kind draws the
    same random numbers, so a seed picks the same gains whatever the geometry."""
    angle = float(rng.uniform(-config.max_rotation, config.max_rotation))
    scale = float(np.exp(rng.uniform(math.log(config.scale[0]), math.log(config.scale[1]))))
    shift_x = float(rng.uniform(-config.max_shift, config.max_shift))
    shift_y = float(rng.uniform(-config.max_shift, config.max_shift))
    if config.geometry != "resample":
        angle, scale = 0.0, 1.0
    if config.geometry == "none":
        shift_x = shift_y = 0.0
    return AugmentParams(
        angle=angle, scale=scale, shift_x=shift_x, shift_y=shift_y,
        gain=float(np.exp(rng.uniform(math.log(config.gain[0]), math.log(config.gain[1])))),
        gamma=float(np.exp(rng.uniform(math.log(config.gamma[0]), math.log(config.gamma[1])))),
        flip=bool(config.hflip and rng.random() < 0.5),
    )


def is_translation(params: AugmentParams) -> bool:
    """Whether ``params`` only shift the picture (no turn, no scale)."""
    return params.angle == 0.0 and params.scale == 1.0


def shift_whole_pixels(array: np.ndarray, dx: int, dy: int, flip: bool = False) -> np.ndarray:
    """``array`` (H, W) mirrored left-right when ``flip``, then moved ``dx`` pixels right and
    ``dy`` down, its pixels copied exactly; what comes in at the borders is 0."""
    source = array[:, ::-1] if flip else array
    height, width = array.shape
    out = np.zeros_like(array)
    if abs(dx) < width and abs(dy) < height:
        out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
            source[max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
    return out


def affine_coefficients(params: AugmentParams, height: int, width: int) -> tuple[float, ...]:
    """PIL ``AFFINE`` data (a, b, c, d, e, f): output point (x, y) reads the input at
    (a x + b y + c, d x + e y + f), pixel centres at +0.5 in both.

    q = apex + R(-angle) (p' - apex) / scale - shift, with the apex at the top centre and
    p' = p, or p mirrored left-right when flipping.
    """
    rad = math.radians(params.angle)
    m00, m01 = math.cos(rad) / params.scale, math.sin(rad) / params.scale
    m10, m11 = -m01, m00
    sigma, tau = (-1.0, float(width)) if params.flip else (1.0, 0.0)
    ax, ay = width / 2.0, 0.0
    sx, sy = params.shift_x * width, params.shift_y * height
    return (m00 * sigma, m01, ax + m00 * (tau - ax) - m01 * ay - sx,
            m10 * sigma, m11, ay + m10 * (tau - ax) - m11 * ay - sy)


def affine_warp(array: np.ndarray, params: AugmentParams, labels: bool = False) -> np.ndarray:
    """``array`` (H, W) moved by ``params`` through PIL's affine transform, whatever they are
    (a pure shift too, by its exact fraction of a pixel): bilinear for a picture (float32),
    nearest neighbour for a label map (``labels``, uint8); 0 comes in at the borders."""
    height, width = array.shape
    data = affine_coefficients(params, height, width)
    if labels:
        return np.asarray(Image.fromarray(np.asarray(array, dtype=np.uint8)).transform(
            (width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.NEAREST, fillcolor=0))
    return np.asarray(Image.fromarray(np.asarray(array, dtype=np.float32)).transform(
        (width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR, fillcolor=0.0))


def augment_pair(image: np.ndarray, labels: np.ndarray, params: AugmentParams,
                 fan: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Apply ``params`` to ``image`` (H, W) float32 in [0, 1], ``labels`` (H, W) uint8 and,
    when given, the fan's coverage (H, W) float32, which moves with the picture. A pure shift
    (:func:`is_translation`) is rounded to whole pixels and copies the pixels; anything else
    resamples the image bilinearly."""
    height, width = labels.shape
    if is_translation(params):
        dx, dy = round(params.shift_x * width), round(params.shift_y * height)

        def warp(array: np.ndarray) -> np.ndarray:
            return shift_whole_pixels(np.asarray(array, dtype=np.float32), dx, dy, params.flip)

        warped_labels = shift_whole_pixels(np.asarray(labels, dtype=np.uint8), dx, dy, params.flip)
    else:
        def warp(array: np.ndarray) -> np.ndarray:
            return affine_warp(array, params)

        warped_labels = affine_warp(labels, params, labels=True)
    warped = warp(image)
    warped = np.clip(params.gain * np.power(np.clip(warped, 0.0, 1.0), params.gamma), 0.0, 1.0)
    warped_fan = None if fan is None else np.clip(warp(fan), 0.0, 1.0).astype(np.float32)
    return warped.astype(np.float32), warped_labels, warped_fan
