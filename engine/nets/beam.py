"""Per-pixel noise drawn out along the beam's arcs: speckle with a direction.

Real B-mode speckle is fine along the beam (axially) and drawn out across it, along the arcs
of equal depth around the probe (the beam is wider than a pulse is long). A generator fed
white noise makes grain with no direction. With ``beam`` (degrees) in its
:class:`~engine.nets.GeneratorConfig`, the per-pixel half of the noise map is replaced, where it
enters the network, by noise that keeps its values along each arc and changes at every pixel
of depth:

- every pixel gets its depth ``r`` (distance from the apex, rounded to whole pixels) and its
  angle ``a`` around the apex, both in the elliptic coordinates of the median CAMUS fan
  (:func:`engine.fan.default_fan`: the apex at the top centre, arcs squashed as CAMUS frames
  are);
- on each ring of depth ``r`` sit nodes every ``beam`` degrees (wider near the apex, so
  neighbouring nodes are at least :data:`MIN_NODE_PIXELS` apart); a node takes the noise of
  the pixel under it;
- each ring's nodes are turned by :data:`RING_PHASE` of a step against the ring above it, so
  no two neighbouring rings have their nodes on the same rays (pixels beside a node and pixels
  between two have slightly different local statistics; on common rays that would draw faint
  spokes);
- a pixel takes the linear blend of the two nodes on its ring either side of it, divided by
  the blend's spread, ``sqrt(t^2 + (1 - t)^2)``: the two nodes are independent, so every pixel
  is again exactly N(0, 1), correlated with its neighbours along the arc and not across it.

The map is a fixed function of the drawn noise, so a seed still gives one image, a region's
redrawn noise still changes only that region (and its arcs' neighbourhood), and a cine loop
that carries the noise with the tissue carries this too. The style half of the map is left
as it is.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

MIN_NODE_PIXELS = 1.5  # nodes of one ring at least this far apart (near the apex)
RING_PHASE = 0.6180339887  # each ring's nodes turned by this share of a step more than the last's


@lru_cache(maxsize=8)
def _arc_nodes(height: int, width: int, beam: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(first node's flat index, second node's flat index, first weight, second weight), each
    (H * W,), for the pixels of an (height, width) map."""
    from ..fan import default_fan, pixel_centres

    fan = default_fan()
    stretch = fan.arc_stretch(height, width)
    ys, xs = pixel_centres(height, width)
    depth, angle = fan.beam_coordinates(ys, xs, height, width)
    ring = np.maximum(np.rint(depth), 1.0)
    step = np.maximum(math.radians(beam), MIN_NODE_PIXELS / (ring * min(stretch, 1.0)))
    offset = (ring * RING_PHASE) % 1.0
    position = angle / step + offset
    first = np.floor(position)
    t = position - first

    def node_index(k: np.ndarray) -> np.ndarray:
        y, x = fan.beam_point(ring, (k - offset) * step, height, width)
        return (np.clip(np.floor(y), 0, height - 1) * width + np.clip(np.floor(x), 0, width - 1)).astype(np.int64)

    spread = np.sqrt(t ** 2 + (1 - t) ** 2)
    tensors = (node_index(first), node_index(first + 1), (1 - t) / spread, t / spread)
    return tuple(torch.from_numpy(np.ascontiguousarray(v.ravel())) for v in tensors)  # type: ignore[return-value]


@lru_cache(maxsize=8)
def _arc_nodes_on(height: int, width: int, beam: float, device: str) -> tuple[torch.Tensor, ...]:
    """:func:`_arc_nodes` on ``device``, copied there once (a captured CUDA graph may not copy)."""
    return tuple(v.to(device) for v in _arc_nodes(height, width, beam))


def beam_detail(detail: torch.Tensor, beam: float) -> torch.Tensor:
    """(N, C, H, W) per-pixel noise -> the same noise drawn out along the arcs (see the module)."""
    n, c, height, width = detail.shape
    first, second, w_first, w_second = _arc_nodes_on(height, width, float(beam), str(detail.device))
    flat = detail.reshape(n, c, height * width)
    out = flat[:, :, first] * w_first.to(detail.dtype) + flat[:, :, second] * w_second.to(detail.dtype)
    return out.view(n, c, height, width)


def beam_noise(noise: torch.Tensor, beam: float) -> torch.Tensor:
    """A noise map (N, noise_nc, H, W) with its per-pixel half (:mod:`.noise`) drawn out along
    the arcs; unchanged when ``beam`` is 0."""
    if not beam:
        return noise
    n_style = noise.shape[1] // 2
    detail = beam_detail(noise[:, n_style:].contiguous(), beam)
    return torch.cat([noise[:, :n_style], detail], 1)  # callers set the memory layout they need
