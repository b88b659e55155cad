"""Incremental synthesis: after an edit of the label map, recompute only what the edit reaches.

Every layer of a :class:`FastGenerator` without instance norm or style vector is local: a
3x3 or 1x1 convolution, a per-pixel modulation (eval-mode batch norm is folded into
per-channel constants) or a x2 upsampling. So an edit changes a layer's output only within a
region that grows layer by layer from where the edit changes that layer's inputs:

- the label map enters every resolution level by nearest sampling (every ``step``-th pixel),
  so a level sees an edit only where the edit covers its samples; CLADE's gamma and beta read
  one such pixel, SPADE's a (2k - 1)^2 window of them (two k x k convolutions);
- each 3x3 convolution grows the region by a pixel (a residual block: two), nearest
  upsampling doubles it, bilinear upsampling doubles it and adds a pixel each side.

:class:`IncrementalGenerator` keeps the output of every block for the last label map. For a
new map it follows the changed region down the network as a bounding box per block and
recomputes each block only on a crop: the box grown by the block's reach (2 pixels) and cut
to the picture, where zero padding is right only at the picture's own border, keeping the
exact centre. The result is the full pass's, to float rounding (tested: <= 1e-4).

It keeps one such cache per noise map (per seed, for models with a noise input), the most
recently used :data:`KEEP` within :data:`BUDGET_BYTES`: the studio draws each edit with its
seed and then with every variation's, and with a single cache each variation's pass would
evict the main seed's, so that the next edit's image was a full pass again (on the bundled
model a cache is 9.5 MB).

What this cannot do is make the reach small: the coarsest levels of a 256 x 256 picture are
8 x 8 and 16 x 16, and a change there reaches most of the picture, to the last pixel of its
value. On the bundled model a 15-pixel dab that covers a 16-pixel sample point changes
40-98 % of the output pixels at all (18-72 % by more than 1e-4). What a painter sees is
smaller: dabs of LV 13 pixels across painted into the wall, one per shape-model heart (12 hearts, the image as
8-bit grey), changed no pixel more than 24 px from the dab by over 6 grey levels in 7 hearts of
12, and at most 4.5 % of those pixels in the worst. Sampling the first layer's 8 x 8 input by area
instead of by nearest pixel (not done: the network was trained on nearest samples) halves
that worst case and spreads changes of 2-3 grey levels wider. Edits that change no label cost
nothing, and edits that miss the coarse samples reach a small part. A full pass runs
instead for a cold cache (the first map, another size, noise map or device), for models with
a global operation (instance norm, a style vector) and when the region to recompute is over
``full_above`` of the picture.

A call may be given a ``should_stop`` check, asked before every block (the studio's variations
give way to an edit's image so): a pass stopped half way raises :class:`engine.progress.Cancelled`
and forgets the cache it was updating, whose blocks then hold two maps' features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..nets.output_stage import finish_output
from ..progress import Cancelled, StopCheck
from .generator import CL, FastGenerator, stop_if_asked

Box = tuple[int, int, int, int]  # rows [y0, y1) x columns [x0, x1); None: nothing
KEEP = 8  # caches kept, one per noise map: the main seed's and the variations' (six by default)
BUDGET_BYTES = 256 * 2**20  # the most the caches hold together (the newest one is always kept)


def bounding_box(changed: torch.Tensor) -> Box | None:
    """The bounding box of the True pixels of a (H, W) boolean map, or None."""
    rows = changed.any(1).nonzero()
    if rows.numel() == 0:
        return None
    cols = changed.any(0).nonzero()
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def grow(box: Box | None, by: int, height: int, width: int) -> Box | None:
    if box is None:
        return None
    y0, y1, x0, x1 = box
    return max(0, y0 - by), min(height, y1 + by), max(0, x0 - by), min(width, x1 + by)


def union(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return a if b is None else b
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def doubled(box: Box | None, mode: str, height: int, width: int) -> Box | None:
    """The region of a x2 upsampled map (``height`` x ``width``) that ``box`` of the input reaches."""
    if box is None:
        return None
    y0, y1, x0, x1 = box
    box = (2 * y0, 2 * y1, 2 * x0, 2 * x1)
    # bilinear (align_corners=False): output 2i - 1 .. 2i + 2 read input i
    return grow(box, 1, height, width) if mode == "bilinear" else box


def area(box: Box | None) -> int:
    return 0 if box is None else (box[1] - box[0]) * (box[3] - box[2])


def crop(x: torch.Tensor, box: Box) -> torch.Tensor:
    return x[..., box[0]:box[1], box[2]:box[3]]


def inside(inner: Box, outer: Box) -> tuple[slice, slice]:
    """Slices of a tensor covering ``outer`` that select ``inner``."""
    return slice(inner[0] - outer[0], inner[1] - outer[0]), slice(inner[2] - outer[2], inner[3] - outer[2])


def upsampled_crop(x: torch.Tensor, box: Box, mode: str) -> torch.Tensor:
    """``upsample(x)`` on ``box`` of the doubled map, computed from a crop of ``x``: one
    low-resolution pixel of halo for bilinear (whose border pixels clamp), none for nearest."""
    height, width = x.shape[-2:]
    halo = 1 if mode == "bilinear" else 0
    source = (max(0, box[0] // 2 - halo), min(height, (box[1] + 1) // 2 + halo),
              max(0, box[2] // 2 - halo), min(width, (box[3] + 1) // 2 + halo))
    if mode == "bilinear":
        up = F.interpolate(crop(x, source), scale_factor=2.0, mode="bilinear", align_corners=False)
    else:
        up = F.interpolate(crop(x, source), scale_factor=2.0, mode="nearest")
    rows, cols = inside(box, tuple(2 * v for v in source))  # type: ignore[arg-type]
    return up[..., rows, cols]


@dataclass(eq=False)
class Cache:
    """What the last pass computed, for one map."""

    labels: torch.Tensor  # (1, H, W) class ids
    seg: torch.Tensor  # (1, classes, H, W) in the network's dtype
    noise: torch.Tensor | None  # (1, noise_nc, H, W) in the network's dtype, channels-last
    latent: torch.Tensor  # fc output
    blocks: list[torch.Tensor] = field(default_factory=list)  # every block's output
    output: torch.Tensor | None = None  # (1, C, H, W) float32

    def bytes(self) -> int:
        tensors = [self.labels, self.seg, self.noise, self.latent, self.output, *self.blocks]
        return sum(t.numel() * t.element_size() for t in tensors if t is not None)


class IncrementalGenerator:
    """A :class:`FastGenerator` that remembers its last map and recomputes what an edit reaches.

    Call it as the fast generator (``seg``, ``labels``, ``noise``) for one map at a time;
    ``last`` says what the last call did: ``mode`` (``unchanged``, ``incremental``,
    ``full``) and ``fraction``, the share of the output recomputed. A cache is kept per
    noise map (``keep`` of them within ``budget_bytes``, the least recently used dropped).
    """

    def __init__(self, fast: FastGenerator, full_above: float = 0.6, keep: int = KEEP,
                 budget_bytes: int = BUDGET_BYTES) -> None:
        self.fast = fast
        self.full_above = full_above
        self.keep = max(1, keep)
        self.budget_bytes = budget_bytes
        cfg = fast.config
        self.supported = not cfg.use_vae and cfg.norm != "instance"
        self.caches: list[Cache] = []  # the most recently used last
        self.last: dict = {}
        self.spade_reach = {level: 2 * (mod.kernel // 2) if mod.spade else 0
                            for level, mod in fast.levels.items()}

    @property
    def cache(self) -> Cache | None:
        """The cache of the last call (None: none kept)."""
        return self.caches[-1] if self.caches else None

    def clear(self) -> None:
        self.caches = []

    @torch.inference_mode()
    def __call__(self, seg: torch.Tensor, labels: torch.Tensor | None = None,
                 noise: torch.Tensor | None = None, should_stop: StopCheck | None = None) -> torch.Tensor:
        fast, cfg = self.fast, self.fast.config
        if not self.supported or seg.shape[0] != 1 or (cfg.noise_nc and noise is None):
            self.caches = []
            self.last = {"mode": "full", "fraction": 1.0}
            return fast(seg, labels=labels, noise=noise, should_stop=should_stop)
        assert seg.ndim == 4 and seg.shape[1] == cfg.classes, tuple(seg.shape)
        problem = fast.check_input_size(seg.shape[-2], seg.shape[-1])
        assert problem is None, problem
        lbl = seg.argmax(1) if labels is None else labels.long()
        seg = seg.to(fast.dtype)
        drawn = noise  # the grain reads the map as drawn; the cache holds the output before tone and grain
        if noise is not None:
            noise = fast.network_noise(noise)
        return finish_output(self._network_output(lbl, seg, noise, should_stop), drawn, cfg)

    def _network_output(self, lbl: torch.Tensor, seg: torch.Tensor, noise: torch.Tensor | None,
                        should_stop: StopCheck | None = None) -> torch.Tensor:
        cache = self._matching(lbl, noise)
        if cache is None:
            return self._full(lbl, seg, noise, should_stop=should_stop)
        self.caches = [c for c in self.caches if c is not cache] + [cache]  # the most recent
        changed = bounding_box((lbl != cache.labels)[0])
        if changed is None:
            self.last = {"mode": "unchanged", "fraction": 0.0}
            return cache.output.clone()
        plan = self._plan(lbl, cache.labels, seg.shape[-2:])
        height, width = seg.shape[-2:]
        fraction = area(plan["output"]) / (height * width)
        if fraction > self.full_above:
            return self._full(lbl, seg, noise, replacing=cache, should_stop=should_stop)
        cache.labels, cache.seg = lbl, seg
        try:
            self._update(cache, plan, should_stop=should_stop)
        except Cancelled:
            self.caches = [c for c in self.caches if c is not cache]  # half updated
            raise
        self.last = {"mode": "incremental", "fraction": fraction}
        return cache.output.clone()

    def _matching(self, lbl: torch.Tensor, noise: torch.Tensor | None) -> Cache | None:
        """The cache kept for a map of ``lbl``'s size and device drawn with ``noise``."""
        for cache in reversed(self.caches):
            if (cache.labels.shape == lbl.shape and cache.labels.device == lbl.device
                    and (noise is None) == (cache.noise is None)
                    and (noise is None or torch.equal(noise, cache.noise))):
                return cache
        return None

    def _keep(self, cache: Cache, replacing: Cache | None = None) -> None:
        """Keep ``cache`` as the most recent, in place of ``replacing``; drop the least recently
        used ones beyond :attr:`keep` or :attr:`budget_bytes`."""
        self.caches = [c for c in self.caches if c is not replacing] + [cache]
        total = sum(c.bytes() for c in self.caches)
        while len(self.caches) > 1 and (len(self.caches) > self.keep or total > self.budget_bytes):
            total -= self.caches.pop(0).bytes()

    # -- geometry -------------------------------------------------------------------------
    def level_shape(self, level: int, size) -> tuple[int, int]:
        """(height, width) of resolution ``level`` (the latent grid times 2**level) for a map of ``size``."""
        step = 2 ** self.fast.config.n_up
        return size[0] // step * 2 ** level, size[1] // step * 2 ** level

    def _plan(self, new: torch.Tensor, old: torch.Tensor, size) -> dict:
        """The output box of the latent convolution, of every block and of the picture."""
        fast, cfg = self.fast, self.fast.config
        differ = (new != old)[0]
        sh, _ = self.level_shape(0, size)
        step0 = size[0] // sh

        def sampled(level: int) -> Box | None:
            step = step0 // 2 ** level
            return bounding_box(differ[::step, ::step])

        latent = grow(sampled(0), 1, *self.level_shape(0, size))
        blocks: list[Box | None] = []
        region, level, modulation = latent, 0, {}
        for block in fast.blocks:
            if block.level > level:  # the schedule has a block at every level
                level += 1
                region = doubled(region, cfg.upsample, *self.level_shape(level, size))
            if level not in modulation:
                modulation[level] = grow(sampled(level), self.spade_reach[level], *self.level_shape(level, size))
            touched = union(region, modulation[level])
            region = grow(touched, 2, *self.level_shape(level, size))  # two 3x3 convolutions
            blocks.append(region)
        if fast.texture_w is not None:
            region = union(region, bounding_box(differ))
        output = grow(region, 1, *size)  # conv_img
        return {"latent": latent, "blocks": blocks, "output": output}

    # -- computing ------------------------------------------------------------------------
    def _full(self, lbl, seg, noise, replacing: Cache | None = None,
              should_stop: StopCheck | None = None) -> torch.Tensor:
        height, width = seg.shape[-2:]
        whole: dict = {"latent": (0, self.level_shape(0, (height, width))[0], 0,
                                  self.level_shape(0, (height, width))[1])}
        whole["blocks"] = [(0, h, 0, w) for h, w in
                           (self.level_shape(b.level, (height, width)) for b in self.fast.blocks)]
        whole["output"] = (0, height, 0, width)
        cache = Cache(lbl, seg, noise, latent=None)  # type: ignore[arg-type]
        self._update(cache, whole, fresh=True, should_stop=should_stop)
        self._keep(cache, replacing)
        self.last = {"mode": "full", "fraction": 1.0}
        return cache.output.clone()

    def _level_inputs(self, cache: Cache, level: int, box: Box):
        """(labels, one-hot, noise) of ``level`` on ``box`` (level coordinates)."""
        height = cache.seg.shape[-2]
        step = height // self.level_shape(level, cache.seg.shape[-2:])[0]
        rows, cols = slice(box[0] * step, box[1] * step, step), slice(box[2] * step, box[3] * step, step)
        noise = None if cache.noise is None else cache.noise[:, :, rows, cols]
        return cache.labels[:, rows, cols], cache.seg[:, :, rows, cols], noise

    def _update(self, cache: Cache, plan: dict, fresh: bool = False, should_stop: StopCheck | None = None) -> None:
        fast, cfg = self.fast, self.fast.config
        size = tuple(cache.seg.shape[-2:])
        # latent: a 3x3 convolution of the labels (and noise) sampled on the latent grid
        box = plan["latent"]
        if box is not None:
            shape = self.level_shape(0, size)
            area_box = grow(box, 1, *shape)
            _, onehot, noise = self._level_inputs(cache, 0, area_box)
            cond = onehot if noise is None else torch.cat([onehot, noise], 1)
            x = F.conv2d(cond, fast.fc_w, fast.fc_b, padding=1).contiguous(memory_format=CL)
            cache.latent = self._store(cache.latent, x, box, area_box, fresh)
        previous, level = cache.latent, 0
        maps_of: dict = {}
        for i, (block, box) in enumerate(zip(fast.blocks, plan["blocks"])):
            stop_if_asked(should_stop)
            shape = self.level_shape(block.level, size)
            if box is not None:
                area_box = grow(box, 2, *shape)
                if block.level > level:
                    x = upsampled_crop(previous, area_box, cfg.upsample)
                else:
                    x = crop(previous, area_box)
                if (block.level, area_box) not in maps_of:  # blocks of one level share them
                    maps_box = grow(area_box, self.spade_reach[block.level], *shape)
                    small, onehot, noise = self._level_inputs(cache, block.level, maps_box)
                    maps = fast.levels[block.level].maps(small, onehot, fast.mode, noise)
                    rows, cols = inside(area_box, maps_box)
                    maps_of[(block.level, area_box)] = [(g[..., rows, cols], b[..., rows, cols]) for g, b in maps]
                maps = maps_of[(block.level, area_box)]
                out = fast.block_forward(block, x.contiguous(memory_format=CL), maps)
                if fresh:
                    cache.blocks.append(out)
                else:
                    self._store(cache.blocks[i], out, box, area_box, False)
            previous, level = cache.blocks[i], block.level
        box = plan["output"]
        if box is not None:
            area_box = grow(box, 1, *size)
            x = crop(previous, area_box)
            _, onehot, noise = self._level_inputs(cache, fast.blocks[-1].level, area_box)
            out = fast.finish(x, onehot, noise)
            cache.output = self._store(cache.output, out, box, area_box, fresh)

    @staticmethod
    def _store(target: torch.Tensor | None, computed: torch.Tensor, box: Box, computed_box: Box,
               fresh: bool) -> torch.Tensor:
        """Write the exact centre ``box`` of ``computed`` (which covers ``computed_box``) into
        ``target`` (a new map when ``fresh``: ``computed`` covers it all)."""
        if fresh:
            return computed
        rows, cols = inside(box, computed_box)
        target[..., box[0]:box[1], box[2]:box[3]] = computed[..., rows, cols]
        return target
