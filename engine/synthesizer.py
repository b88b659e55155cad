"""Label map -> image, with any model: load once, synthesize one map or a batch."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .devices import keep_freed_memory, resolve_device
from .fast import FastGenerator, optimize_for_inference
from .fast.incremental import IncrementalGenerator
from .fast.graphs import GraphedGenerator
from .errors import MaskError, ModelFileError
from .fan import Fan, apply_fan, black_at_the_apex, default_fan, fan_alpha_near_outline, fan_class_ids
from .nets.depth_gain import apply_depth_gain
from .nets.refiner import cut_change, refine_images
from .nets.fine_filter import apply_fine_filter
from .nets.shading import apply_shading
from .nets.tip_gain import apply_tip_gain
from .nets.pool_detail import apply_pool_detail
from .nets.ring_down import apply_ring_down
from .nets.border_soften import apply_border_soften
from .nets.speckle_shape import apply_speckle_shape
from .labels import NUM_CLASSES, one_hot, validate_label_map
from .soft_labels import SoftLabels, area_part
from .models import GeneratorModel, open_model
from .nets.config import style_scale_problem
from .nets.noise import inference_noise, resample_region
from .progress import StopCheck
from .fast.generator import stop_if_asked


class Synthesizer:
    """Holds one model on one device and turns label maps into images.

    Args:
        model: a loaded model, or anything :func:`engine.models.open_model` accepts
            (``demo``, ``simulator``, a ``.safetensors`` file, an NVlabs ``*_net_G.pth``).
        device: ``auto`` (cuda, then mps, then cpu) or an explicit device. The simulator
            always runs on the CPU.
        fast: run the inference-optimised network (:mod:`engine.fast`; same output to float
            rounding) instead of the plain one. On CUDA it is also captured as CUDA graphs.
        precision: ``auto`` (bfloat16 for the fast network on CUDA, float32 elsewhere),
            ``fp32`` or ``bf16`` (fast network only).
            bfloat16 output stays within about 1e-2 (mean) of float32: one or two grey levels.
        incremental: remember the last single map and, for the next, recompute only what its
            edit reaches (:mod:`engine.fast.incremental`; the same image to float rounding).
            For live painting; CPU fast path only, ignored elsewhere.
        style_scale: the spread of a noise model's style channels, in (0, 1]; None keeps the
            model's own (:class:`~engine.nets.GeneratorConfig`): 1 gives the most variety
            (datasets for segmenters), lower values steadier brightness.
        refiner: apply the model's texture refiner (:mod:`engine.nets.refiner`) when it has
            one; False gives the images as its generator leaves them (what the refiner is
            trained on).

    One synthesizer may be shared by threads (the app's worker and its cine thread): calls
    of :meth:`synthesize` run one at a time.
    """

    PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}

    def __init__(self, model, device: str | torch.device = "auto", fast: bool = True,
                 precision: str = "auto", incremental: bool = False,
                 style_scale: float | None = None, refiner: bool = True) -> None:
        if precision not in ("auto", *self.PRECISIONS):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {precision!r}")
        if style_scale is not None and style_scale_problem(style_scale):
            raise ValueError(f"the style scale {style_scale_problem(style_scale)}")
        self.model = open_model(model) if isinstance(model, (str, Path)) else model
        self.chosen_style_scale = style_scale
        self.use_refiner = refiner  # False draws a refined model's images as its generator leaves them
        self._device_refiner = None
        self.incremental: IncrementalGenerator | None = None
        self._busy = threading.Lock()
        if isinstance(self.model, GeneratorModel):
            if self.model.config.label_nc != NUM_CLASSES:  # another label set (Cityscapes, ADE20K ...)
                raise ModelFileError(f"{self.model.name}: the model takes {self.model.config.label_nc} "
                                     f"label channels; cardiac label maps have {NUM_CLASSES} (for SPADE: "
                                     "--label_nc 3 --contain_dontcare_label --no_instance)")
            self.device = resolve_device(device)
            generator = self.model.generator.to(self.device).eval()
            precision = chosen_precision(precision, self.device, fast)
            self.precision = precision
            if fast:
                self.network = optimize_for_inference(generator, self.device,
                                                      dtype=self.PRECISIONS[precision])
                if self.device.type == "cuda":
                    self.network = GraphedGenerator(self.network)
                elif incremental:
                    self.incremental = IncrementalGenerator(self.network)
            else:
                if precision != "fp32":
                    raise ValueError("the plain network runs in fp32 only")
                self.network = generator
            if self.device.type == "cpu":
                keep_freed_memory()  # no page faults for every image's new activations
        else:
            resolve_device(device)  # still refuse a device that does not exist
            self.device = torch.device("cpu")
            self.network = None
            self.precision = "fp32"

    # -- properties ---------------------------------------------------------------------
    @property
    def native_size(self) -> tuple[int, int] | None:
        """(H, W) the model draws at (maps of other sizes are resampled to it and the image
        back), None for one that draws at any size (the simulator)."""
        return None if self.network is None else tuple(self.model.image_size)

    @property
    def stochastic(self) -> bool:
        return self.model.stochastic

    @property
    def uses_fan(self) -> bool:
        """Whether the model takes the probe's fan (and draws nothing outside it): fan
        models and the simulator."""
        if self.network is None:
            return True
        return bool(self.model.config.fan)

    @property
    def style_scale(self) -> float:
        """The style channels' spread this synthesizer draws with (1 for models without noise)."""
        if self.chosen_style_scale is not None:
            return float(self.chosen_style_scale)
        return float(getattr(getattr(self.model, "config", None), "style_scale", 1.0))

    @property
    def takes_style_scale(self) -> bool:
        """Whether a style scale changes this model's images: noise models' style channels (not
        the simulator, deterministic models or VAE models)."""
        return self.network is not None and self.model.config.noise_nc > 0

    @property
    def takes_region(self) -> bool:
        """Whether resampling a region (``region`` with ``region_seed``) changes anything: the
        simulator and noise models do; deterministic and VAE models (one style vector for
        the whole image) do not."""
        return self.network is None or self.model.config.noise_nc > 0

    @property
    def output_channels(self) -> int:
        return self.model.config.output_nc if self.network is not None else 1

    # -- synthesis ----------------------------------------------------------------------
    def synthesize(self, labels: np.ndarray, seed: int = 0, source: str = "label map",
                   region: np.ndarray | None = None, region_seed: int | None = None,
                   fan: "Fan | list[Fan] | None" = None, noise: np.ndarray | None = None,
                   one_seed: bool = False, should_stop: StopCheck | None = None,
                   soft_labels: SoftLabels | None = None) -> np.ndarray:
        """Synthesize from a (H, W) map -> (C, H, W), or a (N, H, W) batch -> (N, C, H, W).

        Values are float32 in [-1, 1]. Batch item ``i`` uses seed ``seed + i``, so a batch
        gives the same images as one call per map (to float rounding); ``one_seed`` gives
        every item ``seed`` itself (the frames of one cine loop: one scan, so one shading and
        one ring-down). A network model draws
        at the size it was trained at: a map of another size is resampled to it (nearest)
        and the image back to the map's size, so every size works.

        ``region`` (a boolean map the size of ``labels``) with ``region_seed`` resamples one
        region: inside it the randomness comes from ``region_seed``, elsewhere from ``seed``.
        Noise-input models redraw their noise map there and blend the result in over a few
        pixels around the region; the simulator renders twice and takes the region from the
        second image; models without noise ignore it.

        ``fan`` (one :class:`engine.fan.Fan`, or one per map) is the probe's sector for models
        that take it (:attr:`uses_fan`); None gives the median CAMUS fan (the simulator: its
        own 64-degree sector). Their images are black outside it, with anti-aliased edges
        for networks. Other models ignore it.

        ``noise`` (N, noise_nc, H, W) float, for noise-input models, is the noise map to use in
        place of the seeds' (a cine loop's, carried with the tissue). It is at the model's
        native size (``model.image_size``), not the map's: the network reads it after the map
        is resampled; another shape is refused.

        ``should_stop`` is asked before the network and between its blocks (a native network's,
        not a CUDA graph's); when it says True, :class:`engine.progress.Cancelled` is raised.

        ``soft_labels`` (:mod:`engine.soft_labels`, a cine loop's in-between frames) lets the
        network's coarse levels read each class's share of a cell; None (stills) samples it at
        one pixel. The simulator ignores it. On CUDA such a batch runs the fast network
        without its CUDA graph (which records the one-hot input only).
        """
        with self._busy:  # one call at a time: the incremental cache, CUDA graphs' buffers
            return self._synthesize(labels, seed, source, region, region_seed, fan, noise, one_seed,
                                    soft_labels, should_stop)

    def _synthesize(self, labels, seed, source, region, region_seed, fan, noise, one_seed,
                    soft_labels, should_stop) -> np.ndarray:
        labels = validate_label_map(labels, source)
        single = labels.ndim == 2
        batch = labels[None] if single else labels
        if soft_labels is not None:
            soft_labels = soft_labels.checked(len(batch), batch.shape[-2:])
        seeds = [seed if one_seed else seed + i for i in range(batch.shape[0])]
        regions = None
        if region is not None and region_seed is not None:
            regions = np.array(np.broadcast_to(np.asarray(region, dtype=bool), batch.shape))
        if self.network is None:
            problem = self.model.check_input_size(*batch.shape[-2:])
            if problem:
                raise MaskError(f"{source}: {problem}")
            fans = self._fans(fan, len(batch)) if fan is not None else [None] * len(batch)
            out = self._render(batch, seeds, fans)
            if regions is not None:  # no noise map to edit: take the region from a second render
                other = self._render(batch, [region_seed + i for i in range(len(seeds))], fans)
                out = np.where(regions[:, None], other, out)
        else:
            shape = tuple(batch.shape[-2:])
            native = tuple(self.model.image_size)
            fans = self._fans(fan, len(batch))
            if shape != native:  # a model draws at its own size: resample there and back
                small = None if regions is None else resize_label_maps(regions, native)
                if soft_labels is not None:
                    soft_labels = SoftLabels(resize_label_maps(soft_labels.keys, native), soft_labels.weights)
                out = self._run_network(resize_label_maps(batch, native), seeds, small, region_seed, fans, noise,
                                        soft_labels, should_stop)
                out = resize_images(out, shape)
                if fans is not None:  # a crisp edge at the map's own size
                    out = black_at_the_apex(apply_fan(out, coverage(fans, shape)), fans)
            else:
                out = self._run_network(batch, seeds, regions, region_seed, fans, noise, soft_labels, should_stop)
        require_finite(out, self.model)
        return out[0] if single else out

    def _fans(self, fan, count: int) -> list[Fan] | None:
        if not self.uses_fan:
            return None
        if fan is None:
            return [default_fan()] * count
        if isinstance(fan, Fan):
            return [fan.checked()] * count
        fans = [f.checked() if f is not None else default_fan() for f in fan]
        if len(fans) != count:
            raise ValueError(f"{len(fans)} fans for {count} label maps")
        return fans

    def _render(self, batch: np.ndarray, seeds: list[int], fans: list) -> np.ndarray:
        return np.stack([self.model.render(item, s, f)[None] for item, s, f in zip(batch, seeds, fans)])

    @torch.inference_mode()
    def _run_network(self, batch: np.ndarray, seeds: list[int], regions: np.ndarray | None = None,
                     region_seed: int | None = None, fans: list[Fan] | None = None,
                     given_noise: np.ndarray | None = None,
                     soft_labels: SoftLabels | None = None, should_stop: StopCheck | None = None) -> np.ndarray:
        config = self.model.config
        ids = torch.from_numpy(np.array(batch, dtype=np.uint8))
        alpha = None
        if fans is not None:
            alpha = coverage(fans, tuple(batch.shape[-2:]))
            ids = fan_class_ids(ids.long(), torch.from_numpy(alpha), config.label_nc).to(torch.uint8)
        seg = one_hot(ids, config.classes)
        area = None
        if soft_labels is not None:
            keys = torch.from_numpy(np.array(soft_labels.keys, dtype=np.uint8))
            key_ids = [keys[k].expand_as(ids) for k in range(len(keys))]
            if alpha is not None:
                key_ids = [fan_class_ids(k.long(), torch.from_numpy(alpha), config.label_nc) for k in key_ids]
            key_segs = torch.stack([one_hot(k, config.classes) for k in key_ids])
            area = area_part(seg, key_segs, torch.from_numpy(soft_labels.weights))
        z = noise = None
        if config.use_vae:
            z = torch.stack([torch.randn(config.z_dim, generator=torch.Generator().manual_seed(s & (2**63 - 1)))
                             for s in seeds])
            z = z.to(self.device)
        if config.noise_nc:
            if given_noise is not None:
                noise = torch.as_tensor(np.asarray(given_noise, dtype=np.float32))
                if noise.ndim == 3 and len(seeds) == 1:  # one map's noise without its batch axis
                    noise = noise[None]
                expected = (len(seeds), config.noise_nc, *batch.shape[-2:])
                if tuple(noise.shape) != expected:
                    raise ValueError(f"noise of shape {tuple(noise.shape)} for maps needing {expected}")
            else:
                noise = inference_noise(config.noise_nc, batch.shape[-2:], seeds, self.style_scale)
            if regions is not None:
                # Draw the image with the region's noise redrawn (coherent across the border),
                # then keep it only in and just around the region: the convolutions would
                # otherwise carry a little of the change across the whole image.
                fresh = inference_noise(config.noise_nc, batch.shape[-2:],
                                        [region_seed + i for i in range(len(seeds))], self.style_scale)
                edited = resample_region(noise, torch.from_numpy(regions), fresh)
                both = self._forward(torch.cat([ids, ids]), torch.cat([seg, seg]),
                                     None if z is None else torch.cat([z, z]), torch.cat([noise, edited]),
                                     None if area is None else torch.cat([area, area]), should_stop)
                weight = feathered(regions, FEATHER_PIXELS)
                n = len(seeds)
                out = both[:n] * (1 - weight) + both[n:] * weight
                return self._finish(out, fans, alpha, seeds, batch)
        return self._finish(self._forward(ids, seg, z, noise, area, should_stop), fans, alpha, seeds, batch)

    def _finish(self, out: np.ndarray, fans: list[Fan] | None, alpha: np.ndarray | None,
                seeds: list[int], labels: np.ndarray) -> np.ndarray:
        """The network's images with the model's depth gain, tip gain, speckle shape, fine filter,
        pool detail and border softening (from the label maps ``labels``), ring-down, shading and texture refiner (the shading
        and the refiner's noise from ``seeds``), cut to their fans, black at the fans' tips
        (:func:`engine.fan.black_at_the_apex`)."""
        if alpha is None:
            return out
        config = self.model.config
        out = apply_depth_gain(out, fans, config.depth_gain)
        out = apply_tip_gain(out, fans, getattr(config, "tip_gain", ()))
        out = apply_speckle_shape(out, fans, getattr(config, "speckle_shape", ()))
        out = apply_fine_filter(out, fans, getattr(config, "fine_filter", ()))
        out = apply_pool_detail(out, np.asarray(labels), fans, getattr(config, "pool_detail", ()))
        out = apply_ring_down(out, fans, getattr(config, "ring_down", ()), seeds)
        out = apply_border_soften(out, np.asarray(labels), fans, getattr(config, "border_soften", ()), seeds)
        out = apply_fan(apply_shading(out, fans, getattr(config, "shading", ()), seeds), alpha)
        refiner = getattr(self.model, "refiner", None)
        if refiner is not None and self.use_refiner:
            out = cut_change(out, refine_images(self._refiner_on_device(refiner), out, fans, seeds), alpha)
        return black_at_the_apex(out, fans)

    def _refiner_on_device(self, refiner):
        if self._device_refiner is None:
            self._device_refiner = copy.deepcopy(refiner).to(self.device, memory_format=torch.channels_last).eval()
        return self._device_refiner

    def _forward(self, ids: torch.Tensor, seg: torch.Tensor, z: torch.Tensor | None,
                 noise: torch.Tensor | None, area: torch.Tensor | None = None,
                 should_stop: StopCheck | None = None) -> np.ndarray:
        stop_if_asked(should_stop)
        if noise is not None:
            noise = noise.to(self.device)
        if area is not None:  # soft labels: neither the CUDA graph nor the incremental cache
            network = self.network.fast if isinstance(self.network, GraphedGenerator) else self.network
            if isinstance(network, FastGenerator):
                out = network(seg.to(self.device), z, labels=ids.to(self.device), noise=noise,
                              should_stop=should_stop, area=area.to(self.device))
            else:
                out = network(seg.to(self.device), z, noise, area=area.to(self.device))
        elif isinstance(self.network, GraphedGenerator):
            out = self.network(ids.to(self.device), z, noise)
        elif self.incremental is not None and z is None and len(ids) == 1:
            out = self.incremental(seg.to(self.device), labels=ids.to(self.device), noise=noise,
                                   should_stop=should_stop)
        elif isinstance(self.network, FastGenerator):
            out = self.network(seg.to(self.device), z, labels=ids.to(self.device), noise=noise,
                               should_stop=should_stop)
        else:
            out = self.network(seg.to(self.device), z, noise)
        return out.float().cpu().numpy()

    def preview(self, labels: np.ndarray, seed: int = 0) -> np.ndarray:
        """A (H, W) uint8 greyscale image for one label map."""
        return to_uint8(self.synthesize(labels, seed))


def chosen_precision(precision: str, device: torch.device, fast: bool) -> str:
    """``precision`` with ``auto`` decided: bfloat16 for the fast network on CUDA, float32
    elsewhere and always for the plain network (which runs in float32 only)."""
    if precision != "auto":
        return precision
    return "bf16" if fast and device.type == "cuda" else "fp32"


def require_finite(images: np.ndarray, model) -> None:
    """Refuse output holding NaN or infinite values (weights that overflow), so nothing
    non-finite is ever written, shown or scored."""
    if not np.isfinite(images).all():
        where = getattr(model, "path", None) or model.name
        raise ModelFileError(f"model {where}: its output holds NaN or infinite values (its weights "
                             "overflow); the model is unusable, train or export it again")


def coverage(fans: list[Fan], shape: tuple[int, int]) -> np.ndarray:
    """(N, 1, H, W) float32 coverage of each map's fan (:func:`engine.fan.fan_alpha`, drawn
    pixel by pixel only near the outline: the same to the bit, about five times faster at 256)."""
    return np.stack([fan_alpha_near_outline(fan, *shape) for fan in fans])[:, None]


FEATHER_PIXELS = 4  # width of the blend between a resampled region and the rest


def feathered(regions: np.ndarray, radius: int) -> np.ndarray:
    """(N, 1, H, W) float weights: 1 in the (N, H, W) boolean regions, falling to 0 within
    ``radius`` pixels outside them."""
    mask = torch.from_numpy(np.ascontiguousarray(regions, dtype=np.float32))[:, None]
    grown = F.max_pool2d(mask, 2 * radius + 1, stride=1, padding=radius)
    soft = F.avg_pool2d(grown, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)
    return torch.maximum(soft, mask).numpy()


def resize_label_maps(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of (N, H, W) label maps to ``shape`` (pixel centres)."""
    height, width = labels.shape[-2:]
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * height / shape[0]).astype(np.int64), height - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * width / shape[1]).astype(np.int64), width - 1)
    return np.ascontiguousarray(labels[:, rows[:, None], cols[None, :]])


def resize_images(images: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (N, C, H, W) float images to ``shape`` (antialiased when shrinking)."""
    tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    shrink = shape[0] < images.shape[-2] or shape[1] < images.shape[-1]
    out = torch.nn.functional.interpolate(tensor, size=shape, mode="bilinear", align_corners=False,
                                          antialias=shrink)
    return out.clamp_(-1.0, 1.0).numpy()


def to_uint8(output: np.ndarray) -> np.ndarray:
    """(C, H, W) float output in [-1, 1] -> (H, W) uint8 (channels averaged)."""
    assert output.ndim == 3, output.shape
    grey = output.mean(axis=0)
    return np.clip(np.round((grey + 1.0) * 127.5), 0, 255).astype(np.uint8)
