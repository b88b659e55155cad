"""Soft labels: the coarse levels of the generator read each class's share of a cell.

The generator reads the label map at its coarse levels (8, 16, 32 cells a side at 256) at one
pixel per cell, so an outline crossing that pixel between two frames of a cine loop changes a
whole cell's input at once, and the image a patch tens of pixels wide. With soft labels those
levels read the one-hot map averaged over each cell instead (:func:`engine.nets.norms.soft_resize`):
an outline that moves a pixel changes the input a little.

A loop's key frames must stay the still images of their masks, which the coarse levels read
at one pixel per cell. :class:`SoftLabels` therefore gives, per frame, weights ``w_k`` of the
loop's key masks ``m_k`` (ED, ES): the coarse levels read ``area(m) + sum_k w_k (nearest(m_k) -
area(m_k))``, the frame's own soft labels plus the key frames' difference between sampling and
averaging. With weights ``(1 - phase, phase)`` that is exactly the nearest sampling on both key
frames and changes only as smoothly as the outline between them. Weights all 0 give plain soft
labels. Every class share still sums to 1 in each cell, as long as a frame's weights sum to
the same in every pixel (they are one number per frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SoftLabels:
    """``keys`` (K, H, W) label maps the size of the maps being drawn (a loop's key masks);
    ``weights`` (N, K), per map of the batch, each key map's weight (see the module text)."""

    keys: np.ndarray
    weights: np.ndarray

    def checked(self, count: int, shape: tuple[int, int]) -> "SoftLabels":
        keys, weights = np.asarray(self.keys), np.asarray(self.weights, np.float32)
        if keys.ndim != 3 or tuple(keys.shape[1:]) != tuple(shape):
            raise ValueError(f"soft labels' key maps have shape {keys.shape}, not (K, {shape[0]}, {shape[1]})")
        if weights.shape != (count, len(keys)):
            raise ValueError(f"soft labels' weights have shape {weights.shape}, not ({count}, {len(keys)})")
        return SoftLabels(keys, weights)

    def for_batch(self, start: int, stop: int) -> "SoftLabels":
        """The weights of maps ``start`` .. ``stop - 1`` only."""
        return SoftLabels(self.keys, np.asarray(self.weights)[start:stop])


def area_part(seg, key_segs, weights):
    """The part of the one-hot ``seg`` (N, C, H, W) that the coarse levels average over each
    cell: ``seg - sum_k weights[:, k] * key_segs[k]`` (``key_segs`` (K, N, C, H, W) one-hot,
    ``weights`` (N, K) a tensor)."""
    near = (weights.t()[:, :, None, None, None].to(seg.dtype) * key_segs.to(seg.dtype)).sum(0)
    return seg - near
