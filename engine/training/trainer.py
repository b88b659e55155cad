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

from .config import TrainConfig
from .distributed import DistContext
from ..devices import cpu_has_bf16
from ..labels import NUM_CLASSES
from .losses import VGGLoss, coarse_l1
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
                 context: DistContext = DistContext()) -> None:
        self.config, self.device = config, device
        stack, disc = build_networks(config)
        if context.active and device.type == "cuda" and config.norm_g == "syncbatch":
            stack = nn.SyncBatchNorm.convert_sync_batchnorm(stack)
        self.stack: GeneratorStack = stack.to(device)
        self.disc = disc.to(device)
        self.memory_format = (torch.channels_last if config.channels_last and device.type == "cuda"
                              else torch.contiguous_format)
        if self.memory_format == torch.channels_last:
            self.stack.to(memory_format=torch.channels_last)
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
        self.opt_g = torch.optim.Adam(self.stack.parameters(), lr=self.base_lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=self.base_lr_d, betas=betas)
        self.dtype = amp_dtype(config.amp, device)
        fp16 = self.dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler(device.type, enabled=fp16)
        self.scaler_d = torch.amp.GradScaler(device.type, enabled=fp16)
        self.vgg = None
        if config.vgg_weights and config.lambda_vgg > 0:
            self.vgg = VGGLoss(config.vgg_weights).to(device)
        if config.discriminator == "oasis":
            self.objective = SegmentationObjective(NUM_CLASSES, config.lambda_labelmix, self.memory_format)
        else:
            self.objective = PatchObjective(config.lambda_feat, self.memory_format)

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
    def step(self, seg: torch.Tensor, real: torch.Tensor, train_g: bool = True) -> dict[str, torch.Tensor]:
        """One iteration: the G step (when ``train_g``), then the D step on the same fake."""
        losses: dict[str, torch.Tensor] = {}
        fake = None
        if train_g:
            losses.update(self.generator_step(seg, real))
            fake = self.last_fake
        losses.update(self.discriminator_step(seg, real, fake))
        return losses

    def generator_step(self, seg: torch.Tensor, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """Update G; the fake it made (detached) is kept in ``last_fake``."""
        cfg = self.config
        self.opt_g.zero_grad(set_to_none=True)
        set_requires_grad(self.disc, False)
        try:
            with self.autocast():
                fake, kld = self.g_train(seg, real)
                losses = self.objective.generator_losses(self.disc, seg, fake, real)
                if self.vgg is not None:
                    losses["G_VGG"] = self.vgg(fake.float(), real.float()) * cfg.lambda_vgg
                if cfg.use_vae:
                    losses["G_KLD"] = kld * cfg.lambda_kld
                if cfg.lambda_coarse > 0:
                    losses["G_coarse"] = coarse_l1(fake, real) * cfg.lambda_coarse
            total = sum(v.float() for v in losses.values())
            self.scaler_g.scale(total).backward()
            self.scaler_g.step(self.opt_g)
            self.scaler_g.update()
        finally:
            set_requires_grad(self.disc, True)
        self.last_fake = fake.detach()
        return {k: v.detach() for k, v in losses.items()}

    def discriminator_step(self, seg: torch.Tensor, real: torch.Tensor,
                           fake: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Update D against ``fake`` (a fresh one is drawn when None)."""
        self.opt_d.zero_grad(set_to_none=True)
        if fake is None:
            with torch.no_grad(), self.autocast():
                fake, _ = self.stack(seg, real)
        with self.autocast():
            losses = self.objective.discriminator_losses(self.d_train, seg, fake.detach(), real)
        self.scaler_d.scale(sum(v.float() for v in losses.values())).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        return {k: v.detach() for k, v in losses.items()}

    @torch.no_grad()
    def synthesize(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                   noise: torch.Tensor | None = None) -> torch.Tensor:
        """Eval-mode generator output (for previews)."""
        generator = self.stack.generator
        was_training = generator.training
        generator.eval()
        try:
            with self.autocast():
                return generator(seg.contiguous(memory_format=self.memory_format), z, noise).float()
        finally:
            generator.train(was_training)

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
        if state.get("scaler_g"):
            self.scaler_g.load_state_dict(state["scaler_g"])
        if state.get("scaler_d"):
            self.scaler_d.load_state_dict(state["scaler_d"])
