"""Echo-appropriate augmentation, identical geometry for image and label map.

Geometry turns and scales about the transducer (the fan's apex at the top centre), as a
slightly different probe angle or depth setting would; the label map is resampled with
nearest neighbour so no new label values appear. Intensity changes mimic gain (a factor)
and compression (a gamma); black stays black, so the fan outline is kept. No left-right
flip unless asked: it would swap the septum and the lateral wall (and the right heart).

Done with PIL and numpy (single-threaded C): data loading must not compete with the
training step for torch's thread pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class AugmentConfig:
    max_rotation: float = 8.0  # degrees
    scale: tuple[float, float] = (0.92, 1.08)
    max_shift: float = 0.03  # fraction of the image size
    gain: tuple[float, float] = (0.8, 1.25)
    gamma: tuple[float, float] = (0.8, 1.25)
    hflip: bool = False


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
    return AugmentParams(
        angle=float(rng.uniform(-config.max_rotation, config.max_rotation)),
        scale=float(np.exp(rng.uniform(math.log(config.scale[0]), math.log(config.scale[1])))),
        shift_x=float(rng.uniform(-config.max_shift, config.max_shift)),
        shift_y=float(rng.uniform(-config.max_shift, config.max_shift)),
        gain=float(np.exp(rng.uniform(math.log(config.gain[0]), math.log(config.gain[1])))),
        gamma=float(np.exp(rng.uniform(math.log(config.gamma[0]), math.log(config.gamma[1])))),
        flip=bool(config.hflip and rng.random() < 0.5),
    )


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


def augment_pair(image: np.ndarray, labels: np.ndarray, params: AugmentParams,
                 fan: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Apply ``params`` to ``image`` (H, W) float32 in [0, 1], ``labels`` (H, W) uint8 and,
    when given, the fan's coverage (H, W) float32, which moves with the picture."""
    height, width = labels.shape
    data = affine_coefficients(params, height, width)

    def warp(array: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(np.asarray(array, dtype=np.float32)).transform(
            (width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR, fillcolor=0.0))

    warped = warp(image)
    warped_labels = np.asarray(Image.fromarray(np.asarray(labels, dtype=np.uint8)).transform(
        (width, height), Image.Transform.AFFINE, data, resample=Image.Resampling.NEAREST, fillcolor=0))
    warped = np.clip(params.gain * np.power(np.clip(warped, 0.0, 1.0), params.gamma), 0.0, 1.0)
    warped_fan = None if fan is None else np.clip(warp(fan), 0.0, 1.0).astype(np.float32)
    return warped.astype(np.float32), warped_labels, warped_fan
