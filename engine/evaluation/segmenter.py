"""A compact 2D U-Net for cardiac segmentation, used as a measuring instrument.

Four resolution levels, two 3x3 conv + batch norm + ReLU per level, trained with
cross-entropy + soft Dice. Training is deterministic for a given seed on the CPU.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..labels import NUM_CLASSES
from ..progress import Cancelled, Progress, ProgressCallback, StepReports, StopCheck, never_stop, no_progress


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Image (N, 1, H, W) in [-1, 1] -> class logits (N, classes, H, W).

    Args:
        width: channels at the first level (doubling per level).
        depth: number of downsamplings; H and W must be multiples of 2**depth.
        classes: output classes.
    """

    def __init__(self, width: int = 16, depth: int = 3, classes: int = NUM_CLASSES) -> None:
        super().__init__()
        widths = [width * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList([double_conv(1, widths[0])] +
                                  [double_conv(widths[i - 1], widths[i]) for i in range(1, depth + 1)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2)
                                 for i in range(depth, 0, -1)])
        self.merge = nn.ModuleList([double_conv(2 * widths[i - 1], widths[i - 1])
                                    for i in range(depth, 0, -1)])
        self.head = nn.Conv2d(widths[0], classes, 1)
        self.depth = depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.ndim == 4 and x.shape[1] == 1, tuple(x.shape)
        assert x.shape[-1] % 2 ** self.depth == 0 and x.shape[-2] % 2 ** self.depth == 0
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1])):
            x = merge(torch.cat([up(x), skip], 1))
        return self.head(x)


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy + (1 - soft Dice over the foreground classes)."""
    ce = F.cross_entropy(logits, target)
    probs = logits.softmax(1)[:, 1:]
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    inter = (probs * onehot).sum(dim=(0, 2, 3))
    denom = probs.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return ce + (1 - ((2 * inter + 1) / (denom + 1)).mean())


def augment_batch(images: torch.Tensor, labels: torch.Tensor, gen: torch.Generator):
    """Random gain/contrast per image (geometry untouched): a cheap, label-safe augmentation."""
    n = images.shape[0]
    gain = 1 + 0.3 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    offset = 0.2 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    return ((images + 1) * gain - 1 + offset).clamp(-1, 1), labels


def train_segmenter(images: np.ndarray, labels: np.ndarray, iters: int = 600, batch_size: int = 8,
                    lr: float = 2e-3, width: int = 16, seed: int = 0, device: str | torch.device = "cpu",
                    progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop,
                    stage: str = "segmenter") -> UNet:
    """Train a U-Net on (N, H, W) uint8 images and (N, H, W) label maps; returns it in eval mode."""
    assert images.shape == labels.shape and images.ndim == 3, (images.shape, labels.shape)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    device = torch.device(device)
    model = UNet(width=width).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=iters)
    x_all = torch.from_numpy(images).float().div(127.5).sub(1)[:, None]
    y_all = torch.from_numpy(labels.astype(np.int64))
    model.train()
    reports = StepReports(iters, every=20)
    for step in range(iters):
        if should_stop():
            raise Cancelled()
        idx = torch.randint(0, len(x_all), (min(batch_size, len(x_all)),), generator=gen)
        x, y = augment_batch(x_all[idx], y_all[idx], gen)
        loss = segmentation_loss(model(x.to(device)), y.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if reports.due(step + 1):
            progress(Progress(stage, step + 1, iters, f"loss {loss.item():.3f}"))
    return model.eval()


@torch.inference_mode()
def segment(model: UNet, images: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """(N, H, W) uint8 images -> (N, H, W) uint8 label maps."""
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(images[start:start + batch_size]).float().div(127.5).sub(1)[:, None]
        out.append(model(x.to(device)).argmax(1).to(torch.uint8).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,) + images.shape[1:], np.uint8)
