"""Training configuration: one table of presets, every field overridable.

The resolved configuration is a pure function of the preset name and the overrides; it is
written to the run folder as ``config.json`` and ``cardigan train --dry-run`` prints it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ..data.augment import GEOMETRIES
from ..errors import Advice, CardiganError
from ..nets import GeneratorConfig
from ..nets.config import LAYER_NORMS, MODULATIONS, PARAM_FREE_NORMS, UPSAMPLE_MODES, UPSAMPLING_LAYERS

DISCRIMINATORS = ("patch", "oasis")
# the preset to fall back on when a run does not fit its device, as the command line says it
LITE_PRESET = Advice("lite preset", "--preset lite")


def option(default, help: str, *, choices: tuple[str, ...] | None = None, arch: bool = False,
           minimum: float | None = None, maximum: float | None = None):
    """A ``TrainConfig`` field that describes itself: its help text, its allowed values,
    whether it shapes the networks (``arch``: a resumed run must agree on it). The CLI's
    flags, ``validate`` and the app's hyper-parameter table all read this description."""
    return field(default=default, metadata={"help": help, "choices": choices, "arch": arch,
                                            "minimum": minimum, "maximum": maximum})


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs besides the data and run folders.

    Attributes (network): ``ngf``/``ndf`` widths, ``image_size``, ``upsampling``,
    ``norm_g`` (parameter-free norm in G), ``modulation`` (spade|clade), ``spectral_g``,
    ``use_vae`` (style encoder + KL), ``z_dim``, ``noise_nc`` (channels of a 3D noise input,
    OASIS; 0 for none), ``discriminator`` (``patch``: NVlabs' multi-scale PatchGAN, ``num_d``
    discriminators of ``n_layers_d`` layers with norm ``norm_d``; ``oasis``: a segmentation
    discriminator of width ``ndf`` with LabelMix weighted ``lambda_labelmix``).
    Attributes (optimisation): ``batch_size``; length as ``iters`` or ``epochs`` (if both are
    None, ``niter + niter_decay`` epochs); learning rate ``lr`` decaying linearly to 0 over
    the last ``niter_decay / (niter + niter_decay)`` of the run; Adam ``beta1``/``beta2``
    used only with ``ttur=False`` (TTUR: betas (0, 0.9), G lr/2, D lr*2, as NVlabs SPADE);
    ``d_steps_per_g``; loss weights ``lambda_feat``, ``lambda_vgg`` (needs ``vgg_weights``,
    a local torchvision VGG19 state dict), ``lambda_kld``; ``augment`` (gain, compression and
    the geometry ``augment_geometry`` names: whole-pixel shifts by default) and ``deform`` (the share of pairs also deformed,
    most with the heart moved along the shape model's directions and the rest elastically, and
    given a moved, resized class shape, so the generator draws what is painted, wherever it is).
    Attributes (machinery): ``device``, ``amp`` (auto|bf16|fp16|off), ``channels_last``,
    ``compile``, ``one_d_pass``, ``workers``, ``seed``, ``augment``, logging/sample/checkpoint intervals in
    iterations, ``keep_checkpoints``, ``tensorboard``.
    """

    preset: str = "seed"
    # network (arch=True: a resumed run must agree on it)
    ngf: int = option(48, "generator width (channels of the last block; blocks run at up to 16x this)",
                      arch=True, minimum=2)
    ndf: int = option(48, "discriminator width", arch=True, minimum=1)
    image_size: int = option(256, "training image size in pixels (a multiple of 32)", arch=True, minimum=32)
    upsampling: str = option("normal", "doublings from the latent grid: normal 5, more 6, most 7",
                             arch=True, choices=tuple(UPSAMPLING_LAYERS))
    norm_g: str = option("syncbatch", "parameter-free norm inside the generator's modulation layers",
                         arch=True, choices=PARAM_FREE_NORMS)
    modulation: str = option("spade", "spade (convolutional, NVlabs) or clade (class-adaptive, faster)",
                             arch=True, choices=MODULATIONS)
    spectral_g: bool = option(True, "spectral normalisation in the generator's blocks", arch=True)
    use_vae: bool = option(False, "style encoder + KL loss: a style vector controls the look", arch=True)
    z_dim: int = option(256, "length of the style vector (with use_vae)", arch=True, minimum=1)
    noise_nc: int = option(0, "channels of the noise input: one mask gives many images (0: deterministic)",
                           arch=True, minimum=0)
    fan: bool = option(False, "the probe's fan as an input: the image is black outside it and its edge "
                       "follows the fan, not the mask (data without fans get the median CAMUS fan)", arch=True)
    upsample: str = option("nearest", "how the generator doubles its features: nearest (NVlabs) or bilinear "
                           "(no grid texture)", arch=True, choices=UPSAMPLE_MODES)
    texture: bool = option(False, "a direct path from per-pixel noise to the last convolution, its strength "
                           "learned per class (fine speckle; needs noise_nc >= 2)", arch=True)
    beam: float = option(0.0, "per-pixel noise drawn out along the beam's arcs, its nodes this many degrees "
                         "apart (speckle with a direction; 0: white noise; needs noise_nc >= 2)", arch=True,
                         minimum=0, maximum=30)
    grain: float = option(0.0, "pixel grain added to the generator's output, in grey levels (the finest "
                          "speckle; 0: none; needs noise_nc >= 1)", arch=True, minimum=0, maximum=20)
    discriminator: str = option("patch", "patch (NVlabs multi-scale PatchGAN) or oasis (segmentation "
                                "discriminator: every pixel's class or fake; no VGG needed)",
                                arch=True, choices=DISCRIMINATORS)
    num_d: int = option(2, "discriminators at different scales (patch)", arch=True, minimum=1)
    n_layers_d: int = option(4, "layers per discriminator (patch)", arch=True, minimum=1)
    norm_d: str = option("spectralinstance", "norm of the discriminator's layers (patch)", arch=True,
                         choices=LAYER_NORMS)
    pooled_d: int = option(0, "width of a pooled critic beside the patch discriminators (0: none): it sees the "
                           "image alone and averages its features over the whole image before it judges, "
                           "as the two-sample test does, so a texture that is off the same way everywhere "
                           "shows", arch=True, minimum=0, maximum=512)
    pooled_weight: float = option(1.0, "weight of the pooled critic's verdict in the hinge losses, each patch "
                                  "discriminator's being 1 (with pooled d)", minimum=0, maximum=100)
    renew_critic: int = option(0, "make the pooled critic new every N iterations and train it alone (the "
                               "generator held) for renew warmup iterations, so the generator answers a "
                               "fresh classifier, as the two-sample test is one (0: never; with pooled d)",
                               minimum=0)
    renew_warmup: int = option(200, "iterations a renewed pooled critic trains alone before the generator "
                               "trains again (with renew critic)", minimum=1)
    # optimisation
    batch_size: int = option(2, "images per step (and per process under torchrun)", minimum=1)
    iters: int | None = option(None, "train for this many iterations (empty: use epochs / niter)", minimum=1)
    epochs: int | None = option(None, "train for this many epochs (empty: niter + niter_decay)", minimum=1)
    niter: int = option(20, "epochs at the full learning rate (with --iters or --epochs: the full rate's "
                               "share of the run is niter / (niter + niter_decay))", minimum=0)
    niter_decay: int = option(10, "epochs over which the learning rate decays to 0 (with --iters or --epochs: "
                                  "its share of the run, as niter's)", minimum=0)
    lr: float = option(0.0002, "learning rate (TTUR: G lr/2, D 2*lr)")
    beta1: float = option(0.0, "Adam beta1 (without TTUR), at least 0 and below 1", minimum=0)
    beta2: float = option(0.999, "Adam beta2 (without TTUR), at least 0 and below 1", minimum=0)
    ttur: bool = option(True, "two time-scale update rule, as NVlabs SPADE")
    d_steps_per_g: int = option(1, "discriminator steps per generator step", minimum=1)
    lambda_feat: float = option(10.0, "weight of the feature-matching loss (patch)", minimum=0)
    lambda_vgg: float = option(10.0, "weight of the VGG perceptual loss (needs vgg_weights)", minimum=0)
    lambda_kld: float = option(0.05, "weight of the KL loss (with use_vae)", minimum=0)
    lambda_labelmix: float = option(10.0, "weight of OASIS's LabelMix consistency loss (oasis)", minimum=0)
    lambda_coarse: float = option(0.0, "weight of an L1 loss between coarse (4x4-pixel averaged) fake and real "
                                  "images: grey levels and structure follow the labels, speckle stays free",
                                  minimum=0)
    lambda_region: float = option(0.0, "weight of an L1 loss between the mean grey levels of fake and real in "
                                  "each label's region (brightness per region and seed held to the real "
                                  "image's; texture free)", minimum=0)
    region_bands: int = option(1, "depth bands each label's region is cut into for the region loss (1: the "
                               "whole region; 4: its brightness also held to real at each quarter of the depth)",
                               minimum=1)
    lambda_skew: float = option(0.0, "weight of an L1 loss between the skewness of fake and real speckle in "
                                "each label's region (real speckle leans bright)", minimum=0)
    lambda_acf: float = option(0.0, "weight of an L1 loss between the autocorrelation of fake and real speckle "
                               "at small lags in each depth third (speckle's size and direction by depth)",
                               minimum=0)
    lambda_streaks: float = option(0.0, "weight of an L1 loss between the autocorrelation of fake's and real's "
                                   "residual after a wider blur (sigma 8), 4-8 px down, across and diagonally, in "
                                   "each depth third (texture a few pixels long runs across the beam, not down it "
                                   "as spokes)", minimum=0)
    lambda_edge: float = option(0.0, "weight of an L1 loss between fake and real in the band 6 px inside the "
                                "fan's edge: grey level ring by ring and the speckle's autocorrelation (how the "
                                "image fades into the black; speckle across the fan's sides, not along them)",
                                minimum=0)
    lambda_border: float = option(0.0, "weight of an L1 loss between fake's and real's edge at the mask's "
                                  "borders over the edge a few pixels away (no traced outlines)", minimum=0)
    lambda_spectrum: float = option(0.0, "weight of a loss matching the log power spectrum of 64x64 windows "
                                    "inside the fan to the real images' (fine speckle, no grid)", minimum=0)
    init_from: str | None = option(None, "a model file whose generator weights start the run (fine-tuning); "
                                   "layers it lacks start fresh")
    init_disc_from: str | None = option(None, "a training run folder (or one of its state files) whose "
                                        "discriminator starts this run's: a fine-tune judged by a trained "
                                        "critic from its first step; tensors that do not fit start fresh")
    vgg_weights: str | None = option(None, "a local torchvision VGG19 state dict (empty: no perceptual loss)")
    augment: bool = option(True, "random intensity and geometry augmentation of the training pairs")
    augment_geometry: str = option("pixel", "how the augmentation moves the pairs: pixel (whole-pixel shifts, "
                                   "the image's pixels copied), resample (turns, scales and sub-pixel shifts "
                                   "about the probe, bilinear: it softens the speckle the generator learns, "
                                   "docs/realism.md) or none", choices=GEOMETRIES)
    deform: float = option(0.0, "share of pairs also deformed (most with the heart moved along the shape "
                           "model's directions, the rest elastically; a class shape moved and resized), "
                           "so painted shapes are drawn wherever they are (deformed images are resampled, "
                           "which softens their speckle)", minimum=0, maximum=1)
    # machinery
    device: str = option("auto", "auto, cpu, cuda, cuda:N or mps")
    amp: str = option("auto", "mixed precision: auto (bf16 on GPUs and CPUs with native bf16), bf16, "
                      "fp16 or off", choices=("auto", "bf16", "fp16", "off"))
    channels_last: bool = option(True, "channels-last memory layout (faster convolutions): both networks on GPUs, "
                                 "the generator on CPUs")
    one_d_pass: bool = option(False, "one discriminator pass per iteration serves the generator's and the "
                              "discriminator's step (about 4 per cent faster on a CPU; the generator's step then "
                              "sees the third spectral-norm estimate instead of the first and second: the "
                              "same once the power iteration has settled, not in a run's first iterations)")
    compile: bool = option(False, "torch.compile the networks (slow start, faster steps)")
    workers: int = option(0, "data loader processes (0: load in the training process)", minimum=0)
    seed: int = option(0, "random seed of the run")
    log_every: int = option(10, "log the losses every N iterations", minimum=1)
    sample_every: int = option(200, "write a sample preview every N iterations (and at least every two "
                                      "minutes of a slow run, so its progress shows)", minimum=1)
    checkpoint_every: int = option(500, "save the training state every N iterations", minimum=1)
    keep_checkpoints: int = option(2, "training states kept on disk", minimum=1)
    tensorboard: bool = option(False, "also write TensorBoard logs")

    def generator_config(self, output_nc: int = 1) -> GeneratorConfig:
        return GeneratorConfig(
            ngf=self.ngf, label_nc=4, output_nc=output_nc, upsampling=self.upsampling,
            norm=self.norm_g, modulation=self.modulation, spectral=self.spectral_g,
            use_vae=self.use_vae, z_dim=self.z_dim, noise_nc=self.noise_nc, fan=self.fan,
            upsample=self.upsample, texture=self.texture, beam=self.beam, grain=self.grain,
            image_size=self.image_size)

    @property
    def classes(self) -> int:
        """Channels of the one-hot network input: the labels, then "outside the fan"."""
        return 4 + int(self.fan)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """The config stored in a run folder; a run written before ``augment_geometry`` existed
        resampled its pairs, and a resume keeps doing so."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values.setdefault("augment_geometry", "resample")
        return cls(**values)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
ARCHITECTURE_FIELDS = tuple(name for name, f in FIELDS.items() if f.metadata.get("arch"))

PRESETS: dict[str, dict] = {
    # The seed project's run: NVlabs SPADE defaults with its options.
    "seed": dict(ngf=48, ndf=48, batch_size=2, niter=20, niter_decay=10, beta1=0.0, beta2=0.999,
                 norm_g="syncbatch", modulation="spade", spectral_g=True, num_d=2, n_layers_d=4,
                 image_size=256, lr=0.0002),
    # Live painting on a CPU: narrow, class-adaptive modulation (CLADE) instead of SPADE's MLP.
    # Noise input (one mask, many images) and deformed pairs (drawn wherever painted); the
    # PatchGAN beat OASIS's segmentation discriminator on real CAMUS (downstream Dice 0.72
    # against 0.62 at 1,500 iterations; 0.844 at 7,500 against 0.767 at 5,600 with a coarse L1
    # added; docs/evaluation.md). The bundled model: this preset without the fan, bilinear
    # upsampling and spectral loss for 7,500 iterations, then with them for 4,000 and 6,000,
    # then with --texture --beam 2 --lambda-region 10 for 4,000 (scripts/build_camus_model.sh;
    # the build's earlier stages rely on this preset leaving those three off).
    "lite": dict(ngf=10, ndf=32, batch_size=4, niter=20, niter_decay=10, modulation="clade",
                 norm_g="syncbatch", spectral_g=True, num_d=2, n_layers_d=3, image_size=256,
                 lr=0.0002, noise_nc=8, deform=0.3,
                 # what the eye sees (docs/evaluation.md): the probe's fan as an input,
                 # bilinear upsampling (no grid), a spectral loss (fine speckle) and feature
                 # matching eased so the speckle is not averaged away
                 fan=True, upsample="bilinear", lambda_spectrum=3.0, lambda_feat=3.0),
    # What we recommend on one GPU: full SPADE width, larger batches, longer schedule.
    "quality": dict(ngf=64, ndf=64, batch_size=16, niter=50, niter_decay=50,
                    norm_g="syncbatch", modulation="spade", spectral_g=True, num_d=2,
                    n_layers_d=4, image_size=256, lr=0.0002, amp="auto", noise_nc=16, deform=0.3),
}


# one line per preset, for the command line's help and the wizard
PRESET_SUMMARIES = {
    "seed": "the seed project's run: NVlabs SPADE, ngf 48, 256 px",
    "lite": "fast CPU model for live painting: CLADE, ngf 10, noise input, the fan as input",
    "quality": "one GPU: full-width SPADE, batch 16, long schedule",
}


def preset_default(name: str) -> str:
    """Field ``name``'s default in words, for a help, from the presets: "default 500" when
    every preset has the same value, else "default by preset: seed 2, lite 4, quality 16"
    (a switch's values said as on and off)."""
    values = {preset: spoken_value(values.get(name, FIELDS[name].default)) for preset, values in PRESETS.items()}
    if len(set(values.values())) == 1:
        return f"default {next(iter(values.values()))}"
    return "default by preset: " + ", ".join(f"{preset} {value}" for preset, value in values.items())


def spoken_value(value) -> str:
    """A field's value as a help says it: a switch on or off, a number as short as it reads."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def resolve_config(preset: str = "seed", **overrides) -> TrainConfig:
    """The preset's values with ``overrides`` (None values are ignored) on top."""
    if preset not in PRESETS:
        raise CardiganError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = [k for k in overrides if k not in names]
    if unknown:
        raise CardiganError(f"unknown training option(s): {', '.join(unknown)}")
    values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
    config = TrainConfig(preset=preset, **values)
    validate(config)
    return config


def validate(config: TrainConfig) -> None:
    """Check every field against its description (choices, range), then the rules that tie
    fields together; one CardiganError lists every problem."""
    problems = []
    for name, f in FIELDS.items():
        meta, value = f.metadata, getattr(config, name)
        if not meta or value is None:
            continue
        words = name.replace("_", " ")
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{words} must be a finite number, not {value}")
        elif meta["choices"] and value not in meta["choices"]:
            problems.append(f"{words} must be one of {', '.join(meta['choices'])}")
        elif meta["minimum"] is not None and value < meta["minimum"]:
            problems.append(f"{words} must be at least {meta['minimum']:g}")
        elif meta["maximum"] is not None and value > meta["maximum"]:
            problems.append(f"{words} must be at most {meta['maximum']:g}")
    if config.iters is not None and config.epochs is not None:
        problems.append("give iterations or epochs, not both")
    if config.lr <= 0:
        problems.append("learning rate must be positive")
    problems += [f"{name} must be below 1 (Adam's betas lie in [0, 1))"
                 for name in ("beta1", "beta2") if getattr(config, name) >= 1]
    if config.niter + config.niter_decay == 0:
        problems.append("niter + niter_decay must be positive")
    if config.pooled_d and config.discriminator != "patch":
        problems.append("a pooled critic (pooled d) goes with the patch discriminator")
    if config.pooled_weight != 1.0 and not config.pooled_d:
        problems.append("pooled weight needs a pooled critic (pooled d)")
    if config.renew_critic and not config.pooled_d:
        problems.append("renew critic needs a pooled critic (pooled d)")
    if config.renew_critic and config.renew_warmup >= config.renew_critic:
        problems.append("renew warmup must be shorter than renew critic's period")
    if config.lambda_edge > 0 and not config.fan:
        problems.append("the edge-band loss (lambda edge) needs the fan as an input (fan)")
    if config.image_size % 32:
        problems.append("image size must be a multiple of 32")
    if problems:
        raise CardiganError("invalid training configuration: " + "; ".join(problems))
    try:
        config.generator_config()
    except CardiganError as exc:
        raise CardiganError(f"invalid training configuration: {exc}") from None
