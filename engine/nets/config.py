"""The generator architecture: one frozen dataclass, stored verbatim in model files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import ModelFileError
from .depth_gain import gains_problem
from .fine_filter import as_kernel, filter_problem
from .tip_gain import tip_problem
from .pool_detail import pool_problem
from .ring_down import ring_problem
from .border_soften import soften_problem
from .shading import as_rows, shading_problem
from .speckle_shape import shape_problem
from .grain import MAX_GRAIN
from .tone import MAX_TONE, MIN_TONE

# output settings for fan models only: (field, its JSON value as the tuple the field holds,
# why a value cannot be one or None), checked in this order
FAN_OUTPUT_SETTINGS = (
    ("depth_gain", tuple, gains_problem),
    ("speckle_shape", lambda value: tuple(tuple(p) if isinstance(p, list) else p for p in value), shape_problem),
    ("tip_gain", tuple, tip_problem),
    ("fine_filter", lambda value: value if filter_problem(value) else as_kernel(value), filter_problem),
    ("shading", as_rows, shading_problem),
    ("pool_detail", tuple, pool_problem),
    ("ring_down", as_rows, ring_problem),
    ("border_soften", tuple, soften_problem),
)
UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}
PARAM_FREE_NORMS = ("batch", "syncbatch", "instance")
# norms of a plain conv layer (the discriminator's, the style encoder's): see layers.normed_conv
LAYER_NORMS = ("spectralinstance", "spectralbatch", "spectralsyncbatch", "spectralnone", "instance", "batch",
               "none")
MODULATIONS = ("spade", "clade")
UPSAMPLE_MODES = ("nearest", "bilinear")


def style_scale_problem(value) -> str | None:
    """Why ``value`` cannot be a style scale (above 0 and at most 1), or None when it can.

    The one check behind the model file, the :class:`~engine.synthesizer.Synthesizer`,
    ``export`` and the command line's ``--style-scale``; NaN and text are refused too."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{str(value)[:40]!r} is not a number"
    if not 0.0 < number <= 1.0:  # NaN fails too
        return f"must be above 0 and at most 1, not {str(value)[:40]}"
    return None


@dataclass(frozen=True)
class GeneratorConfig:
    """Every argument that shapes a SPADE generator.

    Attributes:
        ngf: base width; blocks run at 16, 8, 4, 2, 1 (and 1/2 with ``most``) times it.
        label_nc: channels of the one-hot label input (4 for cardiac maps).
        output_nc: image channels produced (1 for native models, 3 for imported NVlabs ones).
        upsampling: ``normal`` | ``more`` | ``most`` (5, 6 or 7 doublings from the latent grid).
        norm: parameter-free norm inside each modulation layer: ``batch`` | ``syncbatch`` |
            ``instance``. ``syncbatch`` is ``batch`` that is synchronised across processes
            when training with several GPUs; at inference the two are identical.
        modulation: ``spade`` (convolutional MLP over the label map, NVlabs) or ``clade``
            (class-adaptive: one learned gamma/beta vector per class, Tan et al. 2021).
        spectral: spectral normalisation on the residual blocks' convolutions.
        kernel_size: kernel of the SPADE MLP convolutions (3 in the ``spade...3x3`` norms).
        hidden: width of SPADE's shared MLP layer (128 in NVlabs SPADE).
        use_vae: the latent comes from a style vector z through a linear layer (needs a
            fixed image size) instead of from the downsampled label map.
        z_dim: length of the style vector with ``use_vae``.
        noise_nc: channels of a 3D noise input (OASIS, Schönfeld et al. 2021); 0 for none.
            A noise map the size of the label map is concatenated to it wherever the labels
            enter the network (the first convolution and every modulation layer), so one mask
            gives many images; resampling the noise inside a region changes that region.
            See :func:`engine.nets.noise.sample_noise` for how it is drawn.
        beam: per-pixel noise drawn out along the beam's arcs, nodes this many degrees apart
            (0: white noise as drawn; see :mod:`engine.nets.beam`): speckle with a direction.
        grain: pixel grain added to the output, in grey levels (0: none; see
            :mod:`engine.nets.grain`): the finest speckle, which the network paints over.
        tone: a gamma curve on the output's grey levels (1: none; see :mod:`engine.nets.tone`),
            fitted to real images' grey levels; applied before the grain.
        depth_gain: at inference, grey-level gains at evenly spaced depths of the fan (empty:
            none; fan models only; see :mod:`engine.nets.depth_gain`), fitted to real
            images' fall-off with depth.
        speckle_shape: at inference, the speckle's width along and across the beam and its
            contrast at evenly spaced depths of the fan, as (axial sigma, lateral sigma, gain)
            triples (empty: none; fan models only; see :mod:`engine.nets.speckle_shape`),
            fitted to real images' speckle.
        tip_gain: at inference, grey-level gains at whole pixels of depth from the apex
            (empty: none; fan models only; see :mod:`engine.nets.tip_gain`), fitted to the
            brightness of real images' first rows below the probe.
        fine_filter: at inference, a small square kernel the detail inside the fan is
            filtered with (empty: none; fan models only; see :mod:`engine.nets.fine_filter`),
            fitted so the finest speckle's spectrum matches real images'.
        shading: at inference, the image's large-scale brightness layout drawn per seed, as
            rows of log-gains over a depth x direction grid of the fan (the mean, then
            directions scaled by their spread; empty: none; fan models only; see
            :mod:`engine.nets.shading`), fitted to how real images differ from the model's.
        pool_detail: at inference, gains on the speckle inside the blood pools at evenly
            spaced depths of the fan (empty: none; fan models only; see
            :mod:`engine.nets.pool_detail`), fitted to real pools' grain by depth.
        ring_down: at inference, bands along the arcs of the near field drawn per seed, as
            rows of grey-level offsets by depth (directions scaled by their spread; empty:
            none; fan models only; see :mod:`engine.nets.ring_down`), fitted to the bands
            real images have beyond the model's.
        border_soften: at inference, a strength per border of the mask (LV/myo, myo/bg, LA/bg,
            LV/LA, myo/LA) with which the edges the network draws there fade, in patches
            drawn per seed (empty: none; fan models only; see :mod:`engine.nets.border_soften`),
            fitted so each border is drawn as strongly as real images draw it.
        style_scale: at inference, the spread of the noise map's style channels (the
            truncation trick of StyleGAN): below 1 a seed's overall brightness and contrast
            stay nearer the typical image, at the cost of some variety. Training draws at 1.
        image_size: width of the images the model was trained on.
        aspect_ratio: width / height of those images.
    """

    ngf: int = 64
    label_nc: int = 4
    output_nc: int = 1
    upsampling: str = "normal"
    norm: str = "syncbatch"
    modulation: str = "spade"
    spectral: bool = True
    kernel_size: int = 3
    hidden: int = 128
    use_vae: bool = False
    z_dim: int = 256
    noise_nc: int = 0
    fan: bool = False
    upsample: str = "nearest"
    texture: bool = False
    beam: float = 0.0
    grain: float = 0.0
    tone: float = 1.0
    style_scale: float = 1.0
    depth_gain: tuple = ()
    tip_gain: tuple = ()
    speckle_shape: tuple = ()
    fine_filter: tuple = ()
    shading: tuple = ()
    pool_detail: tuple = ()
    ring_down: tuple = ()
    border_soften: tuple = ()
    image_size: int = 256
    aspect_ratio: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        if self.upsampling not in UPSAMPLING_LAYERS:
            problems.append(f"upsampling must be one of {', '.join(UPSAMPLING_LAYERS)}")
        if self.norm not in PARAM_FREE_NORMS:
            problems.append(f"norm must be one of {', '.join(PARAM_FREE_NORMS)}")
        if self.upsample not in UPSAMPLE_MODES:
            problems.append(f"upsample must be one of {', '.join(UPSAMPLE_MODES)}")
        if self.modulation not in MODULATIONS:
            problems.append(f"modulation must be one of {', '.join(MODULATIONS)}")
        if self.ngf < 2 or self.label_nc < 1 or self.output_nc < 1 or self.kernel_size % 2 == 0:
            problems.append("ngf >= 2, label_nc >= 1, output_nc >= 1 and an odd kernel_size")
        if self.noise_nc < 0:
            problems.append("noise_nc must be 0 or more")
        if style_scale_problem(self.style_scale):
            problems.append(f"style_scale {style_scale_problem(self.style_scale)}")
        if not (isinstance(self.beam, (int, float)) and 0.0 <= self.beam <= 30.0):
            problems.append("beam must be between 0 and 30 degrees")
        elif self.beam and self.noise_nc < 2:
            problems.append("beam needs a noise input of at least 2 channels")
        if not (isinstance(self.grain, (int, float)) and 0.0 <= self.grain <= MAX_GRAIN):
            problems.append(f"grain must be between 0 and {MAX_GRAIN:g} grey levels")
        elif self.grain and self.noise_nc < 1:
            problems.append("grain needs a noise input")
        if not (isinstance(self.tone, (int, float)) and MIN_TONE <= self.tone <= MAX_TONE):
            problems.append(f"tone must be between {MIN_TONE:g} and {MAX_TONE:g}")
        for name, normalise, problem_of in FAN_OUTPUT_SETTINGS:
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):  # a model file's JSON gives lists (of lists)
                value = normalise(value)
                object.__setattr__(self, name, value)
            problem = problem_of(value)
            if problem:
                problems.append(f"{name} {problem}")
            elif value and not self.fan:
                problems.append(f"{name} needs a fan model")
        if self.texture and self.noise_nc < 2:
            problems.append("texture needs a noise input of at least 2 channels")
        if self.image_size % (2 ** self.n_up) or self.image_size <= 0:
            problems.append(f"image_size {self.image_size} must be a multiple of {2 ** self.n_up}")
        elif isinstance(self.aspect_ratio, (int, float)) and self.aspect_ratio > 0 and self.latent_size[0] < 1:
            problems.append(f"aspect_ratio {self.aspect_ratio:g} leaves no rows in the latent grid of a "
                            f"{self.image_size}-pixel-wide image")
        if problems:
            raise ModelFileError("invalid generator architecture: " + "; ".join(problems))

    @property
    def n_up(self) -> int:
        return UPSAMPLING_LAYERS.get(self.upsampling, 5)

    @property
    def classes(self) -> int:
        """Channels of the one-hot input: the labels, then "outside the fan" for fan models."""
        return self.label_nc + int(bool(self.fan))

    @property
    def detail_nc(self) -> int:
        """Noise channels drawn fresh at every pixel (the second half of the noise input)."""
        return self.noise_nc - self.noise_nc // 2

    @property
    def final_nc(self) -> int:
        """Channels of the last block's output (what the final convolution reads)."""
        return self.ngf // 2 if self.upsampling == "most" else self.ngf

    @property
    def cond_nc(self) -> int:
        """Channels of what the modulation layers see: one-hot classes, then noise."""
        return self.classes + self.noise_nc

    @property
    def image_height(self) -> int:
        """Height of the images the network draws: its latent grid's rows, upsampled (as
        NVlabs SPADE computes it), so always a multiple of 2**n_up; ``image_size /
        aspect_ratio`` rounded to that multiple."""
        return self.latent_size[0] * 2 ** self.n_up

    @property
    def latent_size(self) -> tuple[int, int]:
        """(height, width) of the latent grid for the trained image size."""
        sw = self.image_size // 2 ** self.n_up
        return round(sw / self.aspect_ratio), sw

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GeneratorConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ModelFileError(f"unknown architecture fields: {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ModelFileError(f"invalid generator architecture: {exc}") from None
