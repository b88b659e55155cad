"""Training configuration: one table of presets, every field overridable.

The resolved configuration is a pure function of the preset name and the overrides; it is
written to the run folder as ``config.json`` and ``cardigan train --dry-run`` prints it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import CardiganError
from ..nets import GeneratorConfig


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
    a local torchvision VGG19 state dict), ``lambda_kld``; ``augment`` (small turns, scales,
    gain) and ``deform`` (the share of pairs also given an elastic deformation and a moved,
    resized class shape, so the generator draws what is painted, wherever it is).
    Attributes (machinery): ``device``, ``amp`` (auto|bf16|fp16|off), ``channels_last``,
    ``compile``, ``workers``, ``seed``, ``augment``, logging/sample/checkpoint intervals in
    iterations, ``keep_checkpoints``, ``tensorboard``.
    """

    preset: str = "seed"
    # network
    ngf: int = 48
    ndf: int = 48
    image_size: int = 256
    upsampling: str = "normal"
    norm_g: str = "syncbatch"
    modulation: str = "spade"
    spectral_g: bool = True
    use_vae: bool = False
    z_dim: int = 256
    noise_nc: int = 0
    discriminator: str = "patch"
    num_d: int = 2
    n_layers_d: int = 4
    norm_d: str = "spectralinstance"
    # optimisation
    batch_size: int = 2
    iters: int | None = None
    epochs: int | None = None
    niter: int = 20
    niter_decay: int = 10
    lr: float = 0.0002
    beta1: float = 0.0
    beta2: float = 0.999
    ttur: bool = True
    d_steps_per_g: int = 1
    lambda_feat: float = 10.0
    lambda_vgg: float = 10.0
    lambda_kld: float = 0.05
    lambda_labelmix: float = 10.0
    vgg_weights: str | None = None
    augment: bool = True
    deform: float = 0.0
    # machinery
    device: str = "auto"
    amp: str = "auto"
    channels_last: bool = True
    compile: bool = False
    workers: int = 0
    seed: int = 0
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    tensorboard: bool = False
    extra: dict = field(default_factory=dict)

    def generator_config(self, output_nc: int = 1) -> GeneratorConfig:
        return GeneratorConfig(
            ngf=self.ngf, label_nc=4, output_nc=output_nc, upsampling=self.upsampling,
            norm=self.norm_g, modulation=self.modulation, spectral=self.spectral_g,
            use_vae=self.use_vae, z_dim=self.z_dim, noise_nc=self.noise_nc,
            image_size=self.image_size)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


DISCRIMINATORS = ("patch", "oasis")

PRESETS: dict[str, dict] = {
    # The seed project's run: NVlabs SPADE defaults with its options.
    "seed": dict(ngf=48, ndf=48, batch_size=2, niter=20, niter_decay=10, beta1=0.0, beta2=0.999,
                 norm_g="syncbatch", modulation="spade", spectral_g=True, num_d=2, n_layers_d=4,
                 image_size=256, lr=0.0002),
    # Live painting on a CPU: narrow, class-adaptive modulation (CLADE) instead of SPADE's MLP.
    "lite": dict(ngf=10, ndf=32, batch_size=4, niter=20, niter_decay=10, modulation="clade",
                 norm_g="syncbatch", spectral_g=True, num_d=2, n_layers_d=3, image_size=256,
                 lr=0.0002),
    # What we recommend on one GPU: full SPADE width, larger batches, longer schedule.
    "quality": dict(ngf=64, ndf=64, batch_size=16, niter=50, niter_decay=50,
                    norm_g="syncbatch", modulation="spade", spectral_g=True, num_d=2,
                    n_layers_d=4, image_size=256, lr=0.0002, amp="auto"),
}


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
    problems = []
    if config.batch_size < 1:
        problems.append("batch size must be at least 1")
    if config.iters is not None and config.iters < 1:
        problems.append("iterations must be at least 1")
    if config.epochs is not None and config.epochs < 1:
        problems.append("epochs must be at least 1")
    if config.iters is not None and config.epochs is not None:
        problems.append("give iterations or epochs, not both")
    if config.lr <= 0:
        problems.append("learning rate must be positive")
    if config.amp not in ("auto", "bf16", "fp16", "off"):
        problems.append("amp must be auto, bf16, fp16 or off")
    if config.niter < 0 or config.niter_decay < 0 or config.niter + config.niter_decay == 0:
        problems.append("niter + niter_decay must be positive")
    if config.image_size % 32:
        problems.append("image size must be a multiple of 32")
    if config.discriminator not in DISCRIMINATORS:
        problems.append(f"discriminator must be one of {', '.join(DISCRIMINATORS)}")
    if config.noise_nc < 0:
        problems.append("noise_nc must be 0 or more")
    if not 0.0 <= config.deform <= 1.0:
        problems.append("deform is a share of the training pairs, between 0 and 1")
    for name in ("log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "d_steps_per_g"):
        if getattr(config, name) < 1:
            problems.append(f"{name.replace('_', ' ')} must be at least 1")
    if problems:
        raise CardiganError("invalid training configuration: " + "; ".join(problems))
    try:
        config.generator_config()
    except CardiganError as exc:
        raise CardiganError(f"invalid training configuration: {exc}") from None
