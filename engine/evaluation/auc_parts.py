"""Where the two-sample classifier finds its cue: the test rerun on parts of the images.

The two-sample AUC (:func:`~engine.evaluation.realism.two_sample_auc`) says whether a
classifier tells synthetic images from real ones, not what gives them away. Here the same
classifier, with the same patients held out, is trained and scored again on views of both
sets that keep one part of each image and flatten the rest:

- ``near field``: the top :data:`NEAR` of the fan's depth, around the probe (where a real
  image holds the probe's clutter and reverberation);
- ``fan edge``: the band within :data:`EDGE` pixels (at the evaluation size) inside the fan's
  sides and arc, below the near field;
- ``background``: the rest of the background inside the fan (where a real image shows the
  right heart, the valves and the pericardium that the labels do not name);
- ``heart``: the three labelled regions, outside the near field and the edge band;
- ``coarse``: the whole image averaged over :data:`COARSE` x :data:`COARSE` blocks and
  brought back to its size (layout and grey levels, no texture).

A flattened pixel takes its zone's mean grey level in that image (the near field, the edge
band, and each label in the rest: each on its own), and everything outside the fan is 0, so
a view keeps the anatomy's layout and brightness but no texture outside its part. An AUC
near 0.5 says a part passes; the part with the highest AUC is the one to fix first.
Each image is cut by the labels it was drawn from (the jittered ones for synthetic images
drawn from jittered masks) and the fan it was given.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..fan import edge_distance, pixel_depth

EDGE = 5  # pixels: the fan-edge band, at the evaluation size
NEAR = 0.2  # the near field: this share of the fan's depth from the apex
COARSE = 4  # block size of the coarse view
PARTS = ("near field", "fan edge", "background", "heart", "coarse")


def fan_zones(fan, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(inside, near, to_edge, to_arc) of one fan in an (height, width) picture: bool masks of
    the fan and of its near field (the top :data:`NEAR` of its depth), the signed distance to
    its outline (:func:`~engine.fan.edge_distance`) and the distance to its arc along the beam,
    both in pixels."""
    to_edge = edge_distance(fan, height, width)
    depth = pixel_depth(fan, height, width)
    inside = to_edge >= 0.0
    return inside, inside & (depth < NEAR * fan.depth * height), to_edge, fan.depth * height - depth


def part_regions(labels: np.ndarray, fans: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inside, near, edge): (N, H, W) bool masks of each image's fan, of its near field (the
    top :data:`NEAR` of its depth) and of the band within :data:`EDGE` pixels inside its
    edge below the near field."""
    n, height, width = labels.shape
    inside = np.empty((n, height, width), dtype=bool)
    near = np.empty_like(inside)
    edge = np.empty_like(inside)
    for i, fan in enumerate(fans):
        inside[i], near[i], to_edge, _ = fan_zones(fan, height, width)
        edge[i] = inside[i] & ~near[i] & (to_edge < EDGE)
    return inside, near, edge


def flatten_except(images: np.ndarray, labels: np.ndarray, inside: np.ndarray, near: np.ndarray,
                   edge: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8: ``images`` where ``keep``; elsewhere inside the fan, the mean grey
    level of the pixel's zone (the near field, the edge band, or its label in the rest) in
    that image; 0 outside."""
    out = np.zeros_like(images)
    for i in range(len(images)):
        image = images[i].astype(np.float32)
        flat = np.zeros_like(image)
        rest = inside[i] & ~near[i] & ~edge[i]
        for zone in [near[i], edge[i]] + [rest & (labels[i] == value) for value in range(4)]:
            if zone.any():
                flat[zone] = image[zone].mean()
        picked = np.where(keep[i], image, flat)
        out[i] = np.where(inside[i], np.clip(np.rint(picked), 0, 255), 0).astype(np.uint8)
    return out


def coarse_view(images: np.ndarray, block: int = COARSE) -> np.ndarray:
    """(N, H, W) uint8: each ``block`` x ``block`` square replaced by its mean (H and W are
    cut to a multiple of ``block``, then padded back with the last block)."""
    n, height, width = images.shape
    h, w = height // block * block, width // block * block
    means = images[:, :h, :w].astype(np.float32).reshape(n, h // block, block, w // block, block).mean(axis=(2, 4))
    grown = np.repeat(np.repeat(means, block, axis=1), block, axis=2)
    grown = np.pad(grown, ((0, 0), (0, height - h), (0, width - w)), mode="edge")
    return np.clip(np.rint(grown), 0, 255).astype(np.uint8)


def part_views(images: np.ndarray, labels: np.ndarray, fans: Sequence) -> dict[str, np.ndarray]:
    """Each part's view of (N, H, W) uint8 ``images`` drawn from ``labels`` in ``fans``."""
    inside, near, edge = part_regions(labels, fans)
    rest = inside & ~near & ~edge

    def view(keep):
        return flatten_except(images, labels, inside, near, edge, keep)

    return {
        "near field": view(near),
        "fan edge": view(edge),
        "background": view(rest & (labels == 0)),
        "heart": view(rest & (labels > 0)),
        "coarse": coarse_view(images),
    }


def auc_by_part(real: np.ndarray, real_labels: np.ndarray, synthetic: np.ndarray,
                synthetic_labels: np.ndarray, fans: Sequence, groups: Sequence[str], auc) -> dict[str, float]:
    """The two-sample AUC on each part's view (:data:`PARTS`). Image i of each set is of
    patient ``groups[i]`` and lies in ``fans[i]``; ``auc(first, second, first_groups,
    second_groups, stage)`` runs the test (the caller's classifier, budget and seed)."""
    real_views = part_views(real, real_labels, fans)
    synthetic_views = part_views(synthetic, synthetic_labels, fans)
    return {part: float(auc(real_views[part], synthetic_views[part], groups, groups,
                            f"two-sample test: {part} only"))
            for part in PARTS}
