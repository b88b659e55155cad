"""The adversarial objectives a run can train with, one class per discriminator kind.

``patch``  NVlabs SPADE: a multi-scale PatchGAN sees (labels ++ image); hinge loss and
           discriminator feature matching (lambda_feat).
``oasis``  OASIS (Schönfeld et al., ICLR 2021): a segmentation discriminator sees the image
           alone and labels every pixel with its class or "fake"; class-balanced
           cross-entropy, and LabelMix (lambda_labelmix): on an image mixed from real and
           fake regions its output must equal the same mix of its outputs on each.

Each objective gives the generator's losses for a fake (with gradients) and the
discriminator's losses for a detached fake. Both run inside the trainer's autocast.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .losses import feature_matching_loss, hinge_d_loss, hinge_g_loss
from .stats import DIAGNOSTIC


class PatchObjective:
    """Hinge loss and feature matching with a :class:`MultiscaleDiscriminator`."""

    def __init__(self, lambda_feat: float, memory_format: torch.memory_format, pooled: bool = False,
                 pooled_weight: float = 1.0) -> None:
        """``pooled``: the discriminator ends with a pooled critic (its last scale), which
        must judge fakes in one batch with reals. Told here rather than read off the
        network, which may be wrapped (DistributedDataParallel, torch.compile).
        ``pooled_weight``: its verdict's weight in the hinge losses, each PatchGAN's being 1."""
        self.lambda_feat = lambda_feat
        self.memory_format = memory_format
        self.pooled = pooled
        self.pooled_weight = pooled_weight
        # what the last discriminator step saw, not trained on, by namespaced name: the pooled
        # critic's mean logit on real minus on fake ("Diag/D_pooled_gap"; about 0 when it is fooled)
        self.diagnostics: dict[str, torch.Tensor] = {}

    def _weights(self, scales: list) -> list[float] | None:
        """Per-scale weights of the hinge losses: the pooled critic's (the last scale) its own,
        every PatchGAN's 1 (None without a pooled critic: all 1)."""
        return [1.0] * (len(scales) - 1) + [self.pooled_weight] if self.pooled else None

    def _note_pooled(self, pred_real, pred_fake) -> None:
        if self.pooled:
            gap = pred_real[-1][-1].mean() - pred_fake[-1][-1].mean()
            self.diagnostics = {DIAGNOSTIC + "D_pooled_gap": gap.detach().float()}

    def _run(self, disc: nn.Module, seg: torch.Tensor, image: torch.Tensor, reference=None):
        x = torch.cat([seg, image], 1).contiguous(memory_format=self.memory_format)
        if reference is None:
            return disc(x)
        # a pooled critic (batch norm) judges the fakes in one batch with the reals
        return disc(x, reference=reference if reference is False
                    else torch.cat([seg, reference], 1).contiguous(memory_format=self.memory_format))

    def generator_losses(self, disc: nn.Module, seg, fake, real) -> dict[str, torch.Tensor]:
        pred_fake = self._run(disc, seg, fake, real if self.pooled else None)
        losses = {"G_GAN": hinge_g_loss(pred_fake, self._weights(pred_fake))}
        if self.lambda_feat > 0:
            with torch.no_grad():  # targets only: no graph through the real half
                pred_real = self._run(disc, seg, real, False if self.pooled else None)
            losses["G_feat"] = feature_matching_loss(pred_fake, pred_real) * self.lambda_feat
        return losses

    def joint_losses(self, disc: nn.Module, seg, fake, real) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """(generator losses, discriminator losses) from one pass of ``disc`` over the fake
        and the real images, both with gradients: the caller backpropagates each to its own
        network's parameters (``Trainer.joint_step``). Same values as
        :meth:`generator_losses` and :meth:`discriminator_losses` on the same weights."""
        pred_fake = self._run(disc, seg, fake)
        pred_real = self._run(disc, seg, real)
        g_losses = {"G_GAN": hinge_g_loss(pred_fake)}
        if self.lambda_feat > 0:  # the real features are targets: detached inside
            g_losses["G_feat"] = feature_matching_loss(pred_fake, pred_real) * self.lambda_feat
        d_real, d_fake = hinge_d_loss(pred_real, pred_fake)
        return g_losses, {"D_real": d_real, "D_fake": d_fake}

    def discriminator_losses(self, disc: nn.Module, seg, fake, real) -> dict[str, torch.Tensor]:
        both = self._run(disc, torch.cat([seg, seg]), torch.cat([fake, real]))
        n = fake.shape[0]
        pred_fake = [[f[:n] for f in scale] for scale in both]
        pred_real = [[f[n:] for f in scale] for scale in both]
        d_real, d_fake = hinge_d_loss(pred_real, pred_fake, self._weights(pred_fake))
        self._note_pooled(pred_real, pred_fake)
        return {"D_real": d_real, "D_fake": d_fake}


def class_balance(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Per-pixel weights (N, H, W) that give every class present in the batch equal total
    weight (OASIS): weight of class c = pixels / (present classes x pixels of class c)."""
    counts = torch.bincount(labels.reshape(-1), minlength=classes).float()
    present = (counts > 0).sum().clamp(min=1)
    weights = labels.numel() / (present * counts.clamp(min=1))
    return weights[labels]


def labelmix_mask(labels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, 1, H, W) float mask: each class of each image drawn from the real image (1) or the
    fake one (0) at random."""
    n = labels.shape[0]
    classes = int(labels.max()) + 1
    choice = torch.randint(0, 2, (n, classes), generator=generator, device="cpu").to(labels.device)
    return torch.gather(choice, 1, labels.reshape(n, -1)).reshape(labels.shape)[:, None].float()


class SegmentationObjective:
    """OASIS losses with a :class:`SegmentationDiscriminator`.

    Args:
        classes: label classes (the discriminator has classes + 1 outputs).
        lambda_labelmix: weight of the LabelMix consistency loss (0 turns it off).
    """

    def __init__(self, classes: int, lambda_labelmix: float, memory_format: torch.memory_format) -> None:
        self.classes = classes
        self.lambda_labelmix = lambda_labelmix
        self.memory_format = memory_format
        self.diagnostics: dict[str, torch.Tensor] = {}  # none: nothing beside the losses

    def _run(self, disc: nn.Module, image: torch.Tensor) -> torch.Tensor:
        return disc(image.contiguous(memory_format=self.memory_format)).float()

    def _targets(self, seg: torch.Tensor, size) -> torch.Tensor:
        """Label ids at the discriminator's output size, nearest-resized."""
        return F.interpolate(seg.float(), size=size, mode="nearest").argmax(1)

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor, real: bool) -> torch.Tensor:
        weights = class_balance(labels, self.classes)
        target = labels + 1 if real else torch.zeros_like(labels)
        return (F.cross_entropy(logits, target, reduction="none") * weights).mean()

    def generator_losses(self, disc: nn.Module, seg, fake, real) -> dict[str, torch.Tensor]:
        logits = self._run(disc, fake)
        labels = self._targets(seg, logits.shape[-2:])
        return {"G_GAN": self._loss(logits, labels, real=True)}

    def discriminator_losses(self, disc: nn.Module, seg, fake, real) -> dict[str, torch.Tensor]:
        both = self._run(disc, torch.cat([fake, real]))
        n = fake.shape[0]
        logits_fake, logits_real = both[:n], both[n:]
        labels = self._targets(seg, both.shape[-2:])
        losses = {"D_real": self._loss(logits_real, labels, real=True),
                  "D_fake": self._loss(logits_fake, labels, real=False)}
        if self.lambda_labelmix > 0:
            full_labels = seg.argmax(1)
            mask = labelmix_mask(full_labels)
            mixed = mask * real + (1 - mask) * fake
            logits_mixed = self._run(disc, mixed)
            small = F.interpolate(mask, size=both.shape[-2:], mode="nearest")
            target = small * logits_real + (1 - small) * logits_fake
            losses["D_LabelMix"] = F.mse_loss(logits_mixed, target) * self.lambda_labelmix
        return losses
