"""FID and KID between two image sets, from user-supplied Inception-v3 weights.

Only computed when the user gives a local torchvision-format Inception-v3 state dict (never
downloaded); the network itself comes from torchvision, which is then required.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import CardiganError
from ..safeload import load_tensor_file


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between feature sets (N, D) and (M, D): |mu_a - mu_b|^2 + Tr(Sa + Sb - 2 (Sa Sb)^1/2)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((Sa Sb)^1/2) = sum of square roots of the eigenvalues of Sa Sb (real, >= 0 for PSD).
    eig = np.linalg.eigvals(cov_a @ cov_b)
    trace_sqrt = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)


def kernel_inception_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3."""
    d = a.shape[1]
    kaa = (a @ a.T / d + 1) ** 3
    kbb = (b @ b.T / d + 1) ** 3
    kab = (a @ b.T / d + 1) ** 3
    n, m = len(a), len(b)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
                 - 2 * kab.mean())


class InceptionFeatures:
    """2048-d pool features of torchvision's Inception-v3 with local weights."""

    def __init__(self, weights: Path | str, device: torch.device) -> None:
        try:
            from torchvision.models import inception_v3
        except Exception:  # torchvision missing or built for another torch
            raise CardiganError("FID/KID needs torchvision (pip install torchvision)") from None
        path = Path(weights)
        if not path.is_file():
            raise CardiganError(f"{path}: no such Inception weights file")
        state = load_tensor_file(path, "weights file")
        net = inception_v3(weights=None, aux_logits=True, init_weights=False)
        try:
            net.load_state_dict(state)
        except RuntimeError:
            raise CardiganError(f"{path}: not torchvision Inception-v3 weights") from None
        net.fc = torch.nn.Identity()
        self.net = net.eval().to(device)
        self.device = device

    @torch.inference_mode()
    def __call__(self, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """(N, H, W) uint8 greyscale -> (N, 2048) features."""
        mean = torch.tensor([0.485, 0.456, 0.406], device=self.device)[None, :, None, None]
        std = torch.tensor([0.229, 0.224, 0.225], device=self.device)[None, :, None, None]
        out = []
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(images[start:start + batch_size]).float().div(255)[:, None].to(self.device)
            x = F.interpolate(x.expand(-1, 3, -1, -1), size=(299, 299), mode="bilinear", align_corners=False)
            out.append(self.net((x - mean) / std).float().cpu().numpy())
        return np.concatenate(out)
