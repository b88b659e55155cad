"""Smooth random deformations of label maps (and their images): new anatomies from real ones.

A deformation is an affine map (turn, scale, stretch, shift; about the image centre) composed
with an elastic displacement field: random vectors on a coarse grid, smoothed by bicubic
interpolation to every pixel. Small, smooth displacements keep the topology of the heart
(the cavity stays inside its wall, the atrium below the mitral plane); the mask-only source
(:func:`deform_mask`) checks that and draws again when a deformation broke it.

For training (:func:`deform_pair`) a pair's heart is by default moved along the shape model
of real hearts, its image following (:mod:`engine.data.shape_deform`; ``DeformConfig.kind``
"shape", or "mixed": with probability ``shape_chance``, 0.7), else deformed elastically as
above (kind "elastic", the rest of "mixed", and masks whose landmarks cannot be found). A
second kind of change then makes the generator draw what is painted wherever it is painted:
a class's shape, with its own image texture, is copied, moved and resized, and pasted over
the pair ("class shape transplant", probability ``transplant``).

Everything is a pure function of a numpy ``Generator``, so a training run is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


DEFORM_KINDS = ("mixed", "shape", "elastic")


@dataclass(frozen=True)
class DeformConfig:
    kind: str = "mixed"  # deform_pair: "shape" (shape model), "elastic", or "mixed" (shape_chance)
    shape_chance: float = 0.7  # with kind "mixed": the share of shape-model deformations
    shape_step: tuple[float, float] = (0.3, 1.5)  # SDs along one shape-model direction
    max_rotation: float = 10.0  # degrees
    scale: tuple[float, float] = (0.88, 1.12)
    stretch: tuple[float, float] = (0.9, 1.1)  # width / height factor
    max_shift: float = 0.05  # fraction of the image size
    elastic: float = 0.03  # displacement standard deviation, fraction of the image size
    grid: int = 5  # control points per side of the elastic field
    transplant: float = 0.5  # chance of a class shape transplant (pairs only)
    transplant_shift: float = 0.15
    transplant_scale: tuple[float, float] = (0.6, 1.3)

    def __post_init__(self) -> None:
        if self.kind not in DEFORM_KINDS:
            raise ValueError(f"deformation kind must be one of {', '.join(DEFORM_KINDS)}, got {self.kind!r}")


def random_grid(rng: np.random.Generator, height: int, width: int,
                   config: DeformConfig) -> torch.Tensor:
    """(1, H, W, 2) grid_sample coordinates in [-1, 1] for one random deformation."""
    angle = math.radians(rng.uniform(-config.max_rotation, config.max_rotation))
    scale = math.exp(rng.uniform(*np.log(config.scale)))
    stretch = math.exp(rng.uniform(*np.log(config.stretch)))
    shift = rng.uniform(-config.max_shift, config.max_shift, size=2) * 2.0
    # output -> input: inverse of (stretch, scale, turn) then shift
    sx, sy = 1.0 / (scale * math.sqrt(stretch)), math.sqrt(stretch) / scale
    cos, sin = math.cos(angle), math.sin(angle)
    theta = torch.tensor([[cos * sx, -sin * sx, -shift[0]],
                          [sin * sy, cos * sy, -shift[1]]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], [1, 1, height, width], align_corners=False)
    if config.elastic > 0:
        coarse = torch.from_numpy(rng.normal(0.0, config.elastic * 2.0, size=(1, 2, config.grid, config.grid))
                                  .astype(np.float32))
        field = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
        grid = grid + field.permute(0, 2, 3, 1)
    return grid


GENTLE = DeformConfig(max_rotation=6.0, scale=(0.9, 1.1), stretch=(0.92, 1.08), max_shift=0.04,
                      elastic=0.02, grid=4, transplant=0.0)  # new anatomies that keep the topology


def _warp(array: np.ndarray, grid: torch.Tensor, nearest: bool) -> np.ndarray:
    tensor = torch.from_numpy(np.array(array, dtype=np.float32))[None, None]
    out = F.grid_sample(tensor, grid, mode="nearest" if nearest else "bilinear",
                        padding_mode="zeros", align_corners=False)
    return out[0, 0].numpy()


def warp_labels(labels: np.ndarray, rng: np.random.Generator,
                config: DeformConfig = DeformConfig()) -> np.ndarray:
    """One random smooth deformation of a (H, W) label map (no topology check)."""
    return apply_grid(labels, random_grid(rng, *labels.shape, config))


def apply_grid(labels: np.ndarray, grid: torch.Tensor) -> np.ndarray:
    """A (H, W) label map resampled (nearest) through a :func:`random_grid` deformation."""
    return _warp(labels, grid, nearest=True).astype(np.uint8)


def deform_mask(labels: np.ndarray, rng: np.random.Generator, config: DeformConfig = GENTLE,
                tries: int = 8) -> np.ndarray | None:
    """A smooth deformation of one label map that keeps a plausible topology
    (:func:`engine.anatomy.topology.topology_problems`), or None when ``tries`` draws all broke it."""
    return deform_masks([labels], rng, config, tries)[0]


def deform_masks(masks: list[np.ndarray], rng: np.random.Generator, config: DeformConfig = GENTLE,
                 tries: int = 8) -> list[np.ndarray] | list[None]:
    """One deformation applied to several maps of the same size (one patient's views and
    phases move together); redrawn until every map keeps a plausible topology, or Nones
    after ``tries`` draws."""
    from ..anatomy.topology import topology_problems

    for _ in range(tries):
        grid = random_grid(rng, *masks[0].shape, config)
        out = [apply_grid(m, grid) for m in masks]
        if not any(topology_problems(m) for m in out):
            return out
    return [None] * len(masks)


def deform_pair(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                config: DeformConfig = DeformConfig(), fan: np.ndarray | None = None, *,
                view: str | None = None, phase: str | None = None, cache=None, key=None,
                sector=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Deform an (image float32 (H, W) in [0, 1], labels uint8 (H, W)) pair the same way
    (by the shape model or elastically, as ``config.kind`` says), then, with probability
    ``config.transplant``, paste a moved and resized class shape. The fan's coverage (H, W),
    when given, is deformed with the picture (its edge stays the image's edge) but takes no
    transplant: a pasted shape is tissue, cut by the fan's edge where the network input and
    the image are masked by it.

    ``view`` and ``phase`` (2CH/4CH, ED/ES), when known, say where the mask sits in the shape
    model, and ``sector`` (an :class:`engine.fan.Fan`; None: the view's median) the fan the
    pair was recorded in, which places the model's hearts; ``cache`` (a :class:`engine.data.shape_deform.FitCache` or a dict) keeps each pair's
    fitted landmarks under ``key`` (default: a hash of the labels), so only a pair's first
    shape-model deformation pays for finding them. The result is a pure function of ``rng``
    and the pair, cached or not."""
    shaped = None
    if config.kind == "shape" or (config.kind == "mixed" and rng.random() < config.shape_chance):
        from .shape_deform import shape_deform

        shaped = shape_deform(image, labels, rng, fan, view=view, phase=phase, cache=cache, key=key,
                              step=config.shape_step, sector=sector)
    if shaped is not None:
        image, labels, fan = shaped
    else:
        grid = random_grid(rng, *labels.shape, config)
        image = _warp(image, grid, nearest=False)
        labels = _warp(labels, grid, nearest=True).astype(np.uint8)
        if fan is not None:
            fan = np.clip(_warp(fan, grid, nearest=False), 0.0, 1.0).astype(np.float32)
    if rng.random() < config.transplant:
        image, labels = transplant_class(image, labels, rng, config)
    return image.astype(np.float32), labels, fan


def transplant_class(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                     config: DeformConfig = DeformConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Copy one present foreground class (its shape and its image texture), move and resize
    it about its centre, and paste it over the pair."""
    present = [c for c in (1, 2, 3) if (labels == c).any()]
    if not present:
        return image, labels
    cls = int(rng.choice(present))
    height, width = labels.shape
    rows, cols = np.nonzero(labels == cls)
    cy, cx = rows.mean() / height * 2 - 1, cols.mean() / width * 2 - 1  # centre in [-1, 1]
    scale = math.exp(rng.uniform(*np.log(config.transplant_scale)))
    dx, dy = rng.uniform(-config.transplant_shift, config.transplant_shift, size=2) * 2.0
    # output point p reads the source at c + (p - c - d) / scale
    theta = torch.tensor([[1 / scale, 0.0, cx - (cx + dx) / scale],
                          [0.0, 1 / scale, cy - (cy + dy) / scale]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], [1, 1, height, width], align_corners=False)
    shape = _warp((labels == cls).astype(np.float32), grid, nearest=True) > 0.5
    texture = _warp(image, grid, nearest=False)
    image = np.where(shape, texture, image)
    labels = np.where(shape, np.uint8(cls), labels).astype(np.uint8)
    return image, labels


def deformed_masks(labels: np.ndarray, seed: int, config: DeformConfig = DeformConfig()) -> np.ndarray:
    """(N, H, W) label maps, each smoothly deformed and given a transplanted class shape
    (with probability ``config.transplant``): masks away from the usual anatomy, to check
    that a model draws what is painted. Item i depends only on (seed, i)."""
    out = []
    for i, mask in enumerate(labels):
        rng = np.random.default_rng([int(seed) & (2**63 - 1), 0xDEF0, i])
        warped = warp_labels(mask, rng, config)
        if rng.random() < config.transplant:
            _, warped = transplant_class(np.zeros(warped.shape, np.float32), warped, rng, config)
        out.append(warped)
    return np.stack(out)
