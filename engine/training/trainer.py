"""One SPADE training iteration: the generator step and the discriminator step.

Follows NVlabs SPADE's ``Pix2PixTrainer``: the G step uses the adversarial objective
(:mod:`.objectives`: PatchGAN hinge + feature matching, or OASIS's segmentation loss),
optional VGG19 and KL; the D step the objective's discriminator losses on a detached fake.
TTUR: Adam betas (0, 0.9), G lr/2, D lr*2. :meth:`Trainer.step` reuses the G step's fake
for the D step (NVlabs draws a second one), which saves a generator pass per iteration.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils.spectral_norm import SpectralNorm

from ..fan import apply_fan, fan_classes
from .config import TrainConfig
from .distributed import DistContext
from ..devices import cpu_has_bf16, keep_freed_memory
from .losses import (VGGLoss, border_edge_l1, coarse_l1, region_mean_l1, region_skew_l1, spectrum_loss,
                     edge_band_l1, speckle_acf_l1, streak_l1)
from .networks import GeneratorStack, build_networks
from .objectives import PatchObjective, SegmentationObjective


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (None: full float32). ``auto`` is bf16 on
    GPUs and on CPUs with native bf16 arithmetic (AVX512-BF16 or AMX), float32 elsewhere."""
    if amp == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        if device.type == "cpu" and cpu_has_bf16():
            return torch.bfloat16
        return None
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "off": None}[amp]


# discriminator norms after which a layer's scale does not matter (instance norm, or none
# and no spectral norm): where one discriminator pass can serve both steps (Trainer.joint_step);
# a run with a pooled critic takes two passes, since its generator step judges the fakes in one
# batch with the reals (PatchObjective.generator_losses) and the joint pass does not
SCALE_FREE_D_NORMS = ("spectralinstance", "instance", "none")


@contextlib.contextmanager
def power_iterations_done(module: nn.Module, passes: int):
    """Run now the spectral-norm power iterations of ``passes`` forward passes of ``module``
    (in training mode), then hold u and v inside the block: every pass there normalises by
    the same sigma, as a single pass after those iterations would."""
    layers = [m for m in module.modules()
              if m.training and any(isinstance(h, SpectralNorm) for h in m._forward_pre_hooks.values())]
    for layer in layers:
        hook = next(h for h in layer._forward_pre_hooks.values() if isinstance(h, SpectralNorm))
        with torch.no_grad():
            for _ in range(passes):
                hook.compute_weight(layer, do_power_iteration=True)  # updates u and v in place
        layer.training = False  # the hook then reads u and v without iterating
    try:
        yield
    finally:
        for layer in layers:
            layer.training = True


def match_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Store each parameter's optimizer state in the parameter's memory layout (a state saved
    by a run in another layout would otherwise make every update mix layouts)."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            for key, value in list(state.items()):
                if isinstance(value, torch.Tensor) and value.shape == p.shape and value.stride() != p.stride():
                    state[key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class Trainer:
    """G (+E), D, their optimisers and gradient scalers on one device.

    Args:
        config: the resolved training configuration.
        device: where to train.
        context: distributed context (DDP wrapping when several processes run).
    """

    def __init__(self, config: TrainConfig, device: torch.device,
                 context: DistContext = DistContext(), warm_start: bool = True) -> None:
        """``warm_start`` False leaves ``config.init_from`` unread (a resume: the saved state
        holds the weights, and the file it started from may be gone)."""
        self.config, self.device = config, device
        if device.type == "cpu":
            keep_freed_memory()  # no page faults for every step's new activations
        stack, disc = build_networks(config)
        self.fresh_layers: list[str] = []
        if config.init_from and warm_start:
            from .warm_start import warm_start

            self.fresh_layers = warm_start(stack.generator, config.init_from)
        if context.active and device.type == "cuda" and config.norm_g == "syncbatch":
            stack = nn.SyncBatchNorm.convert_sync_batchnorm(stack)
        self.stack: GeneratorStack = stack.to(device)
        self.disc = disc.to(device)
        # Channels-last: both networks on GPUs. On the CPU the generator only: oneDNN's
        # channels-last convolutions are 2-4x faster there than its NCHW ones (whose weight
        # gradients fall back to im2col GEMMs), but the discriminator's instance norm is 3-5x
        # slower in that layout. ``memory_format`` is the discriminator's.
        self.memory_format = (torch.channels_last if config.channels_last and device.type == "cuda"
                              else torch.contiguous_format)
        self.g_memory_format = (torch.channels_last if config.channels_last and device.type in ("cuda", "cpu")
                                else torch.contiguous_format)
        if self.g_memory_format == torch.channels_last:
            self.stack.to(memory_format=torch.channels_last)
        if self.memory_format == torch.channels_last:
            self.disc.to(memory_format=torch.channels_last)
        self.g_train: nn.Module = self.stack
        self.d_train: nn.Module = self.disc
        if context.active:
            ids = [device.index] if device.type == "cuda" else None
            self.g_train = DistributedDataParallel(self.stack, device_ids=ids)
            self.d_train = DistributedDataParallel(self.disc, device_ids=ids)
        if config.compile:
            self.g_train = torch.compile(self.g_train)
            self.d_train = torch.compile(self.d_train)

        if config.ttur:
            betas, self.base_lr_g, self.base_lr_d = (0.0, 0.9), config.lr / 2, config.lr * 2
        else:
            betas, self.base_lr_g, self.base_lr_d = (config.beta1, config.beta2), config.lr, config.lr
        # fused Adam (one kernel over all tensors) where PyTorch has it: the same update
        fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
        self.g_parameters = [p for p in self.stack.parameters() if p.requires_grad]
        self.d_parameters = [p for p in self.disc.parameters() if p.requires_grad]
        self.opt_g = torch.optim.Adam(self.stack.parameters(), lr=self.base_lr_g, betas=betas, **fused)
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=self.base_lr_d, betas=betas, **fused)
        self.dtype = amp_dtype(config.amp, device)
        fp16 = self.dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler(device.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(device.type, enabled=fp16)
        self.vgg = None
        if config.vgg_weights and config.lambda_vgg > 0:
            self.vgg = VGGLoss(config.vgg_weights).to(device)
        if config.discriminator == "oasis":
            self.objective = SegmentationObjective(config.classes, config.lambda_labelmix, self.memory_format)
        else:
            self.objective = PatchObjective(config.lambda_feat, self.memory_format, pooled=config.pooled_d > 0,
                                            pooled_weight=config.pooled_weight)
        # one discriminator pass per iteration (``joint_step``), when asked and where the
        # discriminator's norms make it nearly the two-pass step
        self.one_d_pass = (config.one_d_pass and not context.active and not config.compile
                           and isinstance(self.objective, PatchObjective)
                           and config.norm_d in SCALE_FREE_D_NORMS and not config.pooled_d)

    def renew_pooled_critic(self) -> None:
        """The pooled critic made new: its weights drawn again as at the start and its Adam
        state dropped, so it learns the fakes of now from scratch (``--renew-critic``)."""
        critic = getattr(self.disc, "pooled", None)
        if critic is None:
            raise ValueError("this discriminator has no pooled critic to renew")
        for module in critic.modules():  # convolutions, batch norms (running statistics too), the head
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        for p in critic.parameters():
            self.opt_d.state.pop(p, None)

    # -- helpers -------------------------------------------------------------------------
    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def set_lr_factor(self, factor: float) -> None:
        for group in self.opt_g.param_groups:
            group["lr"] = self.base_lr_g * factor
        for group in self.opt_d.param_groups:
            group["lr"] = self.base_lr_d * factor

    # -- steps ---------------------------------------------------------------------------
    def step(self, seg: torch.Tensor, real: torch.Tensor, train_g: bool = True,
             fan: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One iteration: the G step (when ``train_g``), then the D step on the same fake.
        For fan runs ``seg`` holds the fan class, ``real`` is already black outside the fan
        and ``fan`` is its coverage (N, 1, H, W): the fake is made black there too."""
        if train_g and self.one_d_pass:
            return self.joint_step(seg, real, fan)
        losses: dict[str, torch.Tensor] = {}
        fake = None
        if train_g:
            losses.update(self.generator_step(seg, real, fan))
            fake = self.last_fake
        losses.update(self.discriminator_step(seg, real, fake, fan))
        return losses

    def generator_step(self, seg: torch.Tensor, real: torch.Tensor,
                       fan: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Update G; the fake it made (detached) is kept in ``last_fake``."""
        self.opt_g.zero_grad(set_to_none=True)
        set_requires_grad(self.disc, False)
        try:
            with self.autocast():
                fake, kld = self.generate(seg, real, fan)
                losses = self.objective.generator_losses(self.disc, seg, fake, real)
                losses.update(self.image_losses(fake, real, kld, fan, seg))
            total = sum(v.float() for v in losses.values())
            self.scaler_g.scale(total).backward()
            self.scaler_g.step(self.opt_g)
            self.scaler_g.update()
        finally:
            set_requires_grad(self.disc, True)
        self.last_fake = fake.detach()
        return {k: v.detach() for k, v in losses.items()}

    def generate(self, seg: torch.Tensor, real: torch.Tensor, fan: torch.Tensor | None = None,
                 network: nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(fake, KL term) from ``network`` (the trained stack by default) in the generator's
        memory layout, black outside ``fan`` when given."""
        network = self.g_train if network is None else network
        fake, kld = network(seg.contiguous(memory_format=self.g_memory_format), real)
        if fan is not None:
            fake = apply_fan(fake, fan.to(fake.dtype))
        return fake, kld

    def image_losses(self, fake: torch.Tensor, real: torch.Tensor, kld: torch.Tensor,
                     fan: torch.Tensor | None, seg: torch.Tensor) -> dict[str, torch.Tensor]:
        """The generator's losses besides the adversarial objective's (``seg``: the one-hot
        classes the generator was given, labels first)."""
        cfg = self.config
        losses = {}
        if self.vgg is not None:
            losses["G_VGG"] = self.vgg(fake.float(), real.float()) * cfg.lambda_vgg
        if cfg.use_vae:
            losses["G_KLD"] = kld * cfg.lambda_kld
        if cfg.lambda_coarse > 0:
            losses["G_coarse"] = coarse_l1(fake, real) * cfg.lambda_coarse
        if cfg.lambda_region > 0:
            losses["G_region"] = region_mean_l1(fake, real, seg, seg.shape[1] - int(cfg.fan), fan,
                                                cfg.region_bands) * cfg.lambda_region
        if cfg.lambda_skew > 0:
            losses["G_skew"] = region_skew_l1(fake, real, seg, seg.shape[1] - int(cfg.fan), fan) * cfg.lambda_skew
        if cfg.lambda_acf > 0:
            losses["G_acf"] = speckle_acf_l1(fake, real, fan) * cfg.lambda_acf
        if cfg.lambda_streaks > 0:
            losses["G_streaks"] = streak_l1(fake, real, fan) * cfg.lambda_streaks
        if cfg.lambda_edge > 0 and fan is not None:
            losses["G_edge"] = edge_band_l1(fake, real, fan) * cfg.lambda_edge
        if cfg.lambda_border > 0:
            losses["G_border"] = border_edge_l1(fake, real, seg, seg.shape[1] - int(cfg.fan), fan) * cfg.lambda_border
        if cfg.lambda_spectrum > 0:
            inside = fan if fan is not None else torch.ones_like(real)
            losses["G_spectrum"] = spectrum_loss(fake, real, inside) * cfg.lambda_spectrum
        return losses

    def joint_step(self, seg: torch.Tensor, real: torch.Tensor,
                   fan: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The G step and the D step of :meth:`step` with one discriminator pass instead of two.

        Both steps see the same discriminator weights and the same fake (the D step reuses
        the G step's), so one forward pass over fake and real serves both: the generator's
        losses are backpropagated to the generator only, the discriminator's to the
        discriminator only. The spectral-norm power iterations the two-pass path would run
        (one per pass) run first, so u and v, and the D step, are exactly those of the
        two-pass path; the G step's losses then see the weights normalised by the third
        estimate of sigma instead of the first and second, which the instance norm after every
        spectral-norm layer cancels up to its epsilon: hence only for ``SCALE_FREE_D_NORMS``.
        Not exact, so not the default (``one_d_pass``): the estimates differ by 1e-4 to 4e-3
        (relative) in a settled lite run, but by tens of per cent in its first iterations,
        whose activations are small enough for the epsilon to matter.
        """
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            fake, kld = self.generate(seg, real, fan)
            passes = 3 if self.objective.lambda_feat > 0 else 2  # G: fake[, real]; D: both
            with power_iterations_done(self.disc, passes):
                g_losses, d_losses = self.objective.joint_losses(self.disc, seg, fake, real)
            g_losses.update(self.image_losses(fake, real, kld, fan, seg))
        g_total = sum(v.float() for v in g_losses.values())
        d_total = sum(v.float() for v in d_losses.values())
        self.scaler_g.scale(g_total).backward(inputs=self.g_parameters, retain_graph=True)
        self.scaler_d.scale(d_total).backward(inputs=self.d_parameters)
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.last_fake = fake.detach()
        return {k: v.detach() for k, v in {**g_losses, **d_losses}.items()}

    def discriminator_step(self, seg: torch.Tensor, real: torch.Tensor,
                           fake: torch.Tensor | None = None,
                           fan: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Update D against ``fake`` (a fresh one is drawn when None)."""
        self.opt_d.zero_grad(set_to_none=True)
        if fake is None:
            with torch.no_grad(), self.autocast():
                fake, _ = self.generate(seg, real, fan, self.stack)
        with self.autocast():
            losses = self.objective.discriminator_losses(self.d_train, seg, fake.detach(), real)
        self.scaler_d.scale(sum(v.float() for v in losses.values())).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        return {**{k: v.detach() for k, v in losses.items()}, **self.objective.diagnostics}

    @torch.no_grad()
    def synthesize(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                   noise: torch.Tensor | None = None, fan: torch.Tensor | None = None) -> torch.Tensor:
        """Eval-mode generator output (for previews), black outside ``fan`` when given."""
        generator = self.stack.generator
        was_training = generator.training
        generator.eval()
        try:
            with self.autocast():
                out = generator(seg.contiguous(memory_format=self.g_memory_format), z, noise).float()
            return out if fan is None else apply_fan(out, fan)
        finally:
            generator.train(was_training)

    # -- inputs --------------------------------------------------------------------------
    def inputs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(network input, real image, fan coverage or None) of a dataset batch on the
        device: for fan runs the input gains the "outside the fan" class and the real image
        is made black outside the fan, as the fake will be."""
        seg = batch["label"].to(self.device, non_blocking=True)
        real = batch["image"].to(self.device, non_blocking=True)
        if not self.config.fan:
            return seg, real, None
        fan = batch["fan"].to(self.device, non_blocking=True)
        return fan_classes(seg, fan), apply_fan(real, fan), fan

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        encoder = self.stack.encoder
        return {
            "generator": self.stack.generator.state_dict(),
            "encoder": encoder.state_dict() if encoder is not None else {},
            "discriminator": self.disc.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.stack.generator.load_state_dict(state["generator"])
        if self.stack.encoder is not None:
            self.stack.encoder.load_state_dict(state["encoder"])
        self.disc.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        match_layouts(self.opt_g)
        match_layouts(self.opt_d)
        if state.get("scaler_g"):
            self.scaler_g.load_state_dict(state["scaler_g"])
        if state.get("scaler_d"):
            self.scaler_d.load_state_dict(state["scaler_d"])
