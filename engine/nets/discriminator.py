"""Multi-scale PatchGAN discriminator (NVlabs ``MultiscaleDiscriminator``), optionally with a
pooled critic.

The PatchGANs instance-normalise their features, so each image's mean of a feature is taken
away before they judge it: a texture statistic that is off by the same amount over the whole
image (a little too smooth, a little too streaky) is hard for them to see. A two-sample test
(``engine.evaluation.realism``) sees exactly that, because it averages its features over the
image before it decides. :class:`PooledCritic` judges the same way, so the generator is
trained against the cue that test finds.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import normed_conv


class PatchDiscriminator(nn.Module):
    """A ``n_layers``-deep PatchGAN returning every intermediate feature map.

    Args:
        input_nc: channels of (one-hot labels ++ image).
        ndf: width of the first layer (doubling per layer, at most 512).
        n_layers: strided/normalised conv layers (NVlabs ``n_layers_D``, 4 by default).
        norm: NVlabs ``norm_D`` for all but the first and last layers.
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4,
                 norm: str = "spectralinstance") -> None:
        super().__init__()
        nf = ndf
        sequence: list[list[nn.Module]] = [[
            nn.Conv2d(input_nc, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2)]]
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            sequence.append([normed_conv(nn.Conv2d(nf_prev, nf, 4, stride=stride, padding=2), norm),
                             nn.LeakyReLU(0.2)])
        sequence.append([nn.Conv2d(nf, 1, 4, stride=1, padding=2)])
        for n, layers in enumerate(sequence):
            self.add_module(f"model{n}", nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for layer in self.children():
            x = layer(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """``num_d`` PatchGANs on the input at successively halved resolutions.

    Args:
        input_nc: channels of (one-hot labels ++ image).
        ndf: width of each PatchGAN's first layer.
        n_layers: layers per PatchGAN.
        num_d: number of scales.
        norm: NVlabs ``norm_D``.
        pooled: width of a :class:`PooledCritic` on the image channels (the last
            ``image_nc`` of the input), judged after the PatchGANs; 0 for none.

    ``forward(x)`` returns, per scale, the list of intermediate features; the last entry of
    each list is the patch prediction (the pooled critic's comes last, with no features).
    The pooled critic judges ``x`` as one batch, so ``x`` should hold fakes and reals alike
    (the discriminator's step); ``forward(x, reference=real)`` judges the fakes ``x`` in one
    batch with ``real`` (the generator's step: only ``x``'s logits are returned, and no
    gradient reaches ``real``), and ``reference=False`` leaves the pooled critic out.
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4, num_d: int = 2,
                 norm: str = "spectralinstance", pooled: int = 0, image_nc: int = 1) -> None:
        super().__init__()
        self.input_nc = input_nc
        self.num_d = num_d
        for i in range(num_d):
            self.add_module(f"discriminator_{i}", PatchDiscriminator(input_nc, ndf, n_layers, norm))
        self.pooled = PooledCritic(image_nc, pooled) if pooled else None

    def forward(self, x: torch.Tensor, reference: torch.Tensor | None | bool = None) -> list[list[torch.Tensor]]:
        assert x.ndim == 4 and x.shape[1] == self.input_nc, tuple(x.shape)
        results = []
        full = x
        for i in range(self.num_d):
            results.append(getattr(self, f"discriminator_{i}")(x))
            x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        if self.pooled is not None and reference is not False:
            if isinstance(reference, torch.Tensor):
                both = torch.cat([full, reference.detach().to(full.dtype)])
                results.append([self.pooled(both)[0][:len(full)]])
            else:
                results.append(self.pooled(full))
        return results


class PooledCritic(nn.Module):
    """A critic that sees the image alone, averages its local features over the whole image
    and gives one logit per image.

    The image is first halved (the size the two-sample test judges), then ``depth`` strided
    3x3 convolutions widen it from ``width`` channels, doubling per layer, each followed by
    batch norm and a leaky ReLU; a linear layer reads their spatial mean. Batch norm, not
    spectral norm: the difference it has to find is a small offset of every image's feature
    means, which spectral norm's unit gain keeps too small to judge by (a spectral-normed
    version of this critic stayed at AUC 0.6 on real CAMUS against the bundled model's images
    after 1,000 steps; with batch norm it reached 1.0 in 500). Batch norm also means the
    critic must always be shown fakes and reals together: a batch of fakes alone would be
    normalised by its own statistics, which take away the very offset it judges
    (:class:`MultiscaleDiscriminator` passes it both).
    ``forward`` returns ``[logit]`` with the logit shaped (N, 1, 1, 1), a one-patch
    prediction, so the hinge losses treat it like one more scale; it gives no features to match.
    """

    def __init__(self, image_nc: int, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        self.image_nc = image_nc
        layers, cin = [], image_nc
        for i in range(depth):
            cout = min(width * 2 ** i, 512)
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        image = F.avg_pool2d(x[:, -self.image_nc:], 2)
        pooled = self.features(image).mean(dim=(2, 3))
        return [self.head(pooled)[:, :, None, None]]
