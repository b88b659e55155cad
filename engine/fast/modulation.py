"""Modulation maps (``1 + gamma`` and ``beta``) for every SPADE/CLADE layer at one resolution.

SPADE's gamma and beta come from two stacked k x k convolutions over the one-hot label map.
Wherever the (2k-1) x (2k-1) window around a pixel holds a single class (and lies inside the
image, away from the zero padding), both are a per-class constant that depends only on the
weights. So the convolutions only need evaluating near class boundaries and the image
border, typically 8-30 % of the pixels of a cardiac label map; the rest is a table lookup.
The result equals the dense computation up to float rounding. Finding those pixels needs a
host synchronisation and gives shapes that change with the map, so GPUs (where launches,
not arithmetic, dominate; see ``optimize_for_inference``) run ``dense`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..nets.norms import CLADE, SPADE

DENSE_ABOVE = 0.35  # evaluate densely when more than this fraction of pixels is near a boundary


@dataclass
class SpadeTensors:
    """One SPADE layer's inference tensors."""

    shared_w: torch.Tensor  # (hidden, L, k, k)
    shared_b: torch.Tensor  # (hidden,)
    gb_w: torch.Tensor  # (2C, hidden, k, k): gamma rows then beta rows
    gb_b: torch.Tensor  # (2C,), gamma part + 1
    offset_w: torch.Tensor  # (hidden, k*k * 2C): W_o^T for every kernel offset o
    offset_const: torch.Tensor  # (L + 1, k*k * 2C): W_o @ actv of a single-class window; 0 outside
    const_gb: torch.Tensor  # (L, 2C): [1 + gamma, beta] inside a single-class window

    @property
    def channels(self) -> int:
        return self.gb_w.shape[0] // 2

    @classmethod
    def from_module(cls, spade: SPADE) -> "SpadeTensors":
        conv_s, conv_g, conv_b = spade.mlp_shared[0], spade.mlp_gamma, spade.mlp_beta
        gb_w = torch.cat([conv_g.weight.detach(), conv_b.weight.detach()], 0)
        gb_b = torch.cat([conv_g.bias.detach() + 1.0, conv_b.bias.detach()], 0)
        return cls.build(conv_s.weight.detach(), conv_s.bias.detach(), gb_w, gb_b)

    @classmethod
    def build(cls, shared_w: torch.Tensor, shared_b: torch.Tensor, gb_w: torch.Tensor,
              gb_b: torch.Tensor) -> "SpadeTensors":
        hidden, k = gb_w.shape[1], gb_w.shape[-1]
        per_offset = gb_w.permute(2, 3, 1, 0).reshape(k * k, hidden, -1)  # (k*k, hidden, 2C)
        offset_w = per_offset.permute(1, 0, 2).reshape(hidden, -1).contiguous()
        const_actv = F.relu(shared_w.sum(dim=(2, 3)).t() + shared_b)  # (L, hidden)
        offset_const = torch.einsum("lh,ohc->loc", const_actv, per_offset).reshape(len(const_actv), -1)
        offset_const = torch.cat([offset_const, torch.zeros_like(offset_const[:1])], 0)
        const_gb = const_actv @ gb_w.sum(dim=(2, 3)).t() + gb_b
        cl = torch.channels_last  # the layout the activations use: no conversion per call
        return cls(shared_w.contiguous(memory_format=cl), shared_b, gb_w.contiguous(memory_format=cl),
                   gb_b, offset_w, offset_const.contiguous(), const_gb)

    def fold_norm(self, scale: torch.Tensor, shift: torch.Tensor) -> None:
        """Absorb a preceding ``x * scale + shift`` into gamma and beta, which are linear in the
        activation: (x s + t)(1 + g) + b = x [s (1 + g)] + [t (1 + g) + b]."""
        c = self.channels
        g_w, b_w, g_b, b_b = self.gb_w[:c], self.gb_w[c:], self.gb_b[:c], self.gb_b[c:]
        s, t = scale[:, None, None, None], shift[:, None, None, None]
        gb_w = torch.cat([g_w * s, b_w + g_w * t], 0)
        gb_b = torch.cat([g_b * scale, b_b + g_b * shift], 0)
        vars(self).update(vars(self.build(self.shared_w, self.shared_b, gb_w, gb_b)))


@dataclass
class CladeTensors:
    const_gb: torch.Tensor  # (L, 2C): [1 + gamma, beta] per class
    noise_w: torch.Tensor | None = None  # (2C, noise_nc, 1, 1): noise projections [G; B]

    @property
    def channels(self) -> int:
        return self.const_gb.shape[1] // 2

    @classmethod
    def from_module(cls, clade: CLADE) -> "CladeTensors":
        noise_w = None
        if hasattr(clade, "noise_gamma"):
            noise_w = torch.cat([clade.noise_gamma.weight.detach(), clade.noise_beta.weight.detach()], 0)
        return cls(torch.cat([clade.class_gamma.detach() + 1.0, clade.class_beta.detach()], 1), noise_w)

    def fold_norm(self, scale: torch.Tensor, shift: torch.Tensor) -> None:
        """Absorb a preceding ``x * scale + shift``: (x s + t)(1 + g) + b = x A + B. The noise
        terms fold the same way: gamma's G z is scaled by s and adds t G z to beta."""
        c = self.channels
        g1, beta = self.const_gb[:, :c], self.const_gb[:, c:]
        self.const_gb = torch.cat([g1 * scale, beta + g1 * shift], 1)
        if self.noise_w is not None:
            g, b = self.noise_w[:c], self.noise_w[c:]
            s, t = scale[:, None, None, None], shift[:, None, None, None]
            self.noise_w = torch.cat([g * s, b + g * t], 0)


def window_uniform(lbl_padded: torch.Tensor, kernel: int, sentinel: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(is the kernel x kernel window single-class and inside the image, its class)."""
    x = lbl_padded[:, None].float()
    hi = F.max_pool2d(x, kernel, 1)[:, 0]
    lo = -F.max_pool2d(-x, kernel, 1)[:, 0]
    return (hi == lo) & (hi < sentinel), hi.long()


class LevelModulation:
    """All modulation layers that run at one feature resolution, computed together."""

    def __init__(self, layers: list[SpadeTensors | CladeTensors], num_classes: int) -> None:
        self.layers = layers
        self.classes = num_classes
        self.spade = [i for i, layer in enumerate(layers) if isinstance(layer, SpadeTensors)]
        if self.spade:
            spade = [layers[i] for i in self.spade]
            self.kernel = spade[0].gb_w.shape[-1]
            self.hidden = [s.shared_w.shape[0] for s in spade]
            self.shared_w = torch.cat([s.shared_w for s in spade], 0)
            self.shared_b = torch.cat([s.shared_b for s in spade], 0)
            k = self.kernel
            # lookup[o, c] = shared weights of offset o for class c; class L (outside) -> 0
            table = self.shared_w[:, :num_classes].permute(2, 3, 1, 0).reshape(k * k, num_classes, -1)
            self.lookup = torch.cat([table, torch.zeros_like(table[:, :1])], 1)

    def to(self, device: torch.device, dtype: torch.dtype | None = None) -> "LevelModulation":
        def move(value: torch.Tensor) -> torch.Tensor:
            return value.to(device, dtype if dtype is not None and value.is_floating_point() else None)

        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, move(value))
        for layer in self.layers:
            for name, value in list(vars(layer).items()):
                if isinstance(value, torch.Tensor):
                    setattr(layer, name, move(value))
        return self

    def maps(self, lbl: torch.Tensor, onehot: torch.Tensor, mode: str = "sparse",
             noise: torch.Tensor | None = None, soft: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, ``(1 + gamma, beta)`` as (N, C, H, W) tensors for labels ``lbl``;
        ``mode`` ``sparse`` or ``dense`` (see the module's docstring); ``noise`` the noise
        map at this resolution for noise-input models (their SPADE layers run dense).
        ``soft``: ``onehot`` holds each class's share of the pixel (soft labels), not ``lbl``'s
        one-hot: CLADE blends the class tables by it, SPADE runs dense."""
        results: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(self.layers)
        for i, layer in enumerate(self.layers):
            if isinstance(layer, CladeTensors):
                if soft:  # (N, H, W, 2C), dense in the channels-last layout the others use
                    table = torch.einsum("nlhw,lc->nhwc", onehot, layer.const_gb).contiguous()
                else:
                    table = F.embedding(lbl, layer.const_gb)  # (N, H, W, 2C)
                if layer.noise_w is not None:
                    projected = F.conv2d(noise, layer.noise_w)  # channels-last: an NHWC view
                    table += projected.permute(0, 2, 3, 1)
                results[i] = split(table)
        if self.spade:
            spade_maps = self.sparse(lbl) if mode == "sparse" and noise is None and not soft else None
            if spade_maps is None:
                spade_maps = self.dense(onehot if noise is None else torch.cat([onehot, noise], 1))
            for i, pair in zip(self.spade, spade_maps):
                results[i] = pair
        return results  # type: ignore[return-value]

    # -- dense: plain convolutions ------------------------------------------------------------
    def dense(self, cond: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        # One shared convolution per layer (not one for all, then sliced): a channel slice of
        # a channels-last tensor is contiguous in no layout, and cuDNN would convert it
        # (measured on an H200: layout conversions took 17 % of the GPU time).
        pad = self.kernel // 2
        cond = cond.contiguous(memory_format=torch.channels_last)
        out = []
        for i in self.spade:
            layer = self.layers[i]
            actv = F.relu(F.conv2d(cond, layer.shared_w, layer.shared_b, padding=pad))
            gb = F.conv2d(actv, layer.gb_w, layer.gb_b, padding=pad)
            c = layer.channels
            out.append((gb[:, :c], gb[:, c:]))
        return out

    # -- sparse: evaluate only near boundaries ------------------------------------------------
    def sparse(self, lbl: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
        n, h, w = lbl.shape
        k, r, sentinel = self.kernel, self.kernel // 2, self.classes
        padded = F.pad(lbl, (2 * r,) * 4, value=sentinel)  # (N, H+4r, W+4r)
        hp, wp = h + 4 * r, w + 4 * r
        # pixels whose gamma/beta window (radius 2r) is not one class inside the image
        uniform_b, _ = window_uniform(padded, 4 * r + 1, sentinel)
        boundary = (~uniform_b).reshape(-1).nonzero().squeeze(1)
        if boundary.numel() > DENSE_ABOVE * lbl.numel():
            return None
        # the shared-MLP activation grid covers image positions -r .. H-1+r
        hg, wg = h + 2 * r, w + 2 * r
        uniform_a, cls = window_uniform(padded, 2 * r + 1, sentinel)
        rows = torch.arange(hg, device=lbl.device)
        cols = torch.arange(wg, device=lbl.device)
        outside = ((rows < r) | (rows >= h + r))[:, None] | ((cols < r) | (cols >= w + r))[None, :]
        codes = torch.where(uniform_a, cls, torch.full_like(cls, -1))
        codes = torch.where(outside[None], torch.full_like(cls, sentinel), codes)
        codes = codes.reshape(-1)
        todo = (codes < 0).nonzero().squeeze(1)
        codes[todo] = sentinel + 1 + torch.arange(todo.numel(), device=lbl.device)
        # activations at those positions: sum of looked-up weights over the k x k window
        flat = padded.reshape(-1)
        img, rem = todo // (hg * wg), todo % (hg * wg)
        base = img * (hp * wp) + (rem // wg) * wp + rem % wg
        actv = self.shared_b.expand(todo.numel(), -1).clone()
        for o in range(k * k):
            actv += self.lookup[o][flat[base + (o // k) * wp + o % k]]
        actv.relu_()
        # gamma/beta at boundary pixels: sum over the k x k window of W_o @ actv(p + o). For
        # single-class activation positions W_o @ actv is a per-class constant (table), so the
        # matrix product is only needed for the |J| computed activations.
        img, rem = boundary // (h * w), boundary % (h * w)
        base = img * (hg * wg) + (rem // w) * wg + rem % w
        offsets = torch.tensor([(o // k) * wg + o % k for o in range(k * k)], device=lbl.device)
        window = codes[base[:, None] + offsets[None, :]]  # (|B|, k*k) codes
        # table rows: L + 1 constant codes, then the |J| computed activations; each row holds
        # W_o @ actv for every offset o, so code c at offset o is row c * k*k + o of a (-1, 2C) view
        rows = sentinel + 1 + todo.numel()
        index = window * (k * k) + torch.arange(k * k, device=lbl.device)[None, :]
        out, start = [], 0
        for i, hidden in zip(self.spade, self.hidden):
            layer = self.layers[i]
            two_c = layer.gb_b.shape[0]
            table = torch.empty(rows, k * k * two_c, dtype=actv.dtype, device=actv.device)
            table[:sentinel + 1] = layer.offset_const
            torch.mm(actv[:, start:start + hidden], layer.offset_w, out=table[sentinel + 1:])
            start += hidden
            values = F.embedding_bag(index, table.view(-1, two_c), mode="sum")  # (|B|, 2C)
            values += layer.gb_b
            full = F.embedding(lbl, layer.const_gb)  # (N, H, W, 2C)
            full.view(-1, two_c)[boundary] = values
            out.append(split(full))
        return out


def split(maps_nhwc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, H, W, 2C) -> ((N, C, H, W), (N, C, H, W)) channels-last views."""
    c = maps_nhwc.shape[-1] // 2
    nchw = maps_nhwc.permute(0, 3, 1, 2)
    return nchw[:, :c], nchw[:, c:]
