"""GAN training losses as in NVlabs SPADE: hinge, feature matching, VGG19 perceptual, KL.

Nothing here assumes CUDA; the VGG19 weights come from a local file, never a download.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import CardiganError
# the skew loss uses evaluate's speckle (sigma of the blur) and region margins: it trains what it reports
from ..evaluation.speckle import (BLUR as SKEW_BLUR, EDGE_INTERIOR, MARGIN as SPECKLE_MARGIN, SKEW_EDGE,
                                STREAK_BLUR, STREAK_MARGIN)
# the border loss uses evaluate's drawn-border bands and blur (engine/evaluation/borders.py)
from ..evaluation.borders import AWAY as BORDER_AWAY, BAND as BORDER_BAND, SMOOTH as BORDER_SMOOTH
# the depth bands are evaluate's grey-by-depth rows
from ..evaluation.depth import band_of_rows
from ..safeload import load_tensor_file

BORDER_FAN_MARGIN = 4  # pixels from the fan's edge that the border loss ignores

Features = list[list[torch.Tensor]]  # per discriminator scale: intermediate maps, last = logits


def hinge_d_loss(pred_real: Features, pred_fake: Features,
                 weights: Sequence[float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Discriminator hinge loss (real, fake terms): each scale's term times its weight (1 when
    ``weights`` is None), summed and divided by the number of scales."""
    w = weights or [1.0] * len(pred_real)
    real = sum(wi * F.relu(1.0 - scale[-1]).mean() for wi, scale in zip(w, pred_real)) / len(pred_real)
    fake = sum(wi * F.relu(1.0 + scale[-1]).mean() for wi, scale in zip(w, pred_fake)) / len(pred_fake)
    return real, fake


def hinge_g_loss(pred_fake: Features, weights: Sequence[float] | None = None) -> torch.Tensor:
    """Generator hinge loss: -D(fake), each scale's times its weight, over the number of scales."""
    w = weights or [1.0] * len(pred_fake)
    return -sum(wi * scale[-1].mean() for wi, scale in zip(w, pred_fake)) / len(pred_fake)


def feature_matching_loss(pred_fake: Features, pred_real: Features) -> torch.Tensor:
    """L1 between the discriminators' intermediate features of fake and (detached) real,
    averaged over the discriminators that give features (a pooled critic gives none)."""
    total = pred_fake[0][0].new_zeros(())
    for fake_scale, real_scale in zip(pred_fake, pred_real):
        for fake, real in zip(fake_scale[:-1], real_scale[:-1]):
            total = total + F.l1_loss(fake, real.detach())
    return total / max(1, sum(len(scale) > 1 for scale in pred_fake))


def coarse_l1(fake: torch.Tensor, real: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """L1 between ``factor`` x ``factor`` block averages of fake and real: it ties the grey
    levels and the layout to the real image of the same mask but leaves the speckle, finer
    than the blocks, to the adversarial loss (and to the noise input)."""
    return F.l1_loss(F.avg_pool2d(fake.float(), factor), F.avg_pool2d(real.float(), factor))


def depth_bands(regions: torch.Tensor, bands: int) -> torch.Tensor:
    """(N, R, H, W) regions split into ``bands`` horizontal bands of equal height each:
    (N, R * bands, H, W), band by band within each region. The probe sits at the top of the
    image, so a band is a range of depths."""
    if bands <= 1:
        return regions
    band = torch.from_numpy(band_of_rows(regions.shape[2], bands)).to(regions.device)
    stripes = F.one_hot(band, bands).to(regions.dtype).t()  # (bands, H)
    split = regions[:, :, None] * stripes[None, None, :, :, None]
    return split.flatten(1, 2)


def region_mean_l1(fake: torch.Tensor, real: torch.Tensor, seg: torch.Tensor, labels: int,
                   inside: torch.Tensor | None = None, bands: int = 1) -> torch.Tensor:
    """L1 between the mean grey levels of fake and real in each label's region of each image
    (``seg`` one-hot (N, classes, H, W), its first ``labels`` channels the labels; the
    background counted only ``inside`` the fan (N, 1, H, W) when given). It holds each
    region's brightness to the real image's (a dim atrium, a bright seed) and says nothing
    of the texture inside it. With ``bands`` > 1 each region is cut into that many depth
    bands and each part is held on its own: the brightness also falls off with depth as the
    real image's does. Regions (or parts) under 16 pixels do not count."""
    regions = seg[:, :labels].float()
    if inside is not None:
        regions = regions * inside.float()
    regions = depth_bands(regions, bands)
    area = regions.sum(dim=(2, 3))
    present = area >= 16
    if not present.any():
        return fake.new_zeros((), dtype=torch.float32)
    weights = regions / area.clamp(min=1.0)[:, :, None, None]
    fake_means = (weights * fake.float()[:, :1]).sum(dim=(2, 3))
    real_means = (weights * real.float()[:, :1]).sum(dim=(2, 3))
    return (fake_means - real_means)[present].abs().mean()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, H, W) blurred by a separable Gaussian (reach 3 sigma), edges replicated."""
    reach = max(1, int(math.ceil(3 * sigma)))
    taps = torch.arange(-reach, reach + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    x = F.pad(x, (reach, reach, reach, reach), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def region_skewness(image: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(N, R) skewness of the speckle residual (``image`` minus its Gaussian blur) over each
    region given as (N, R, H, W) 0/1 ``weights``."""
    x = image.float()[:, :1]
    residual = x - gaussian_blur(x, SKEW_BLUR)
    area = weights.sum(dim=(2, 3)).clamp(min=1.0)
    mean = (weights * residual).sum(dim=(2, 3)) / area
    centred = residual - mean[:, :, None, None]
    variance = (weights * centred ** 2).sum(dim=(2, 3)) / area
    third = (weights * centred ** 3).sum(dim=(2, 3)) / area
    return third / variance.clamp(min=1e-6) ** 1.5


def region_skew_l1(fake: torch.Tensor, real: torch.Tensor, seg: torch.Tensor, labels: int,
                   inside: torch.Tensor | None = None, min_pixels: int = 64) -> torch.Tensor:
    """L1 between the skewness of fake and real speckle in each label region of each image
    (regions shrunk by ``SKEW_EDGE`` pixels; the background counted inside the fan only;
    regions with fewer than ``min_pixels`` pixels left do not count). Real speckle is bright
    specks on a darker ground (skewness above 0, about 1 in the blood pools); smoothed
    symmetric noise has none, and a classifier tells the two apart at once."""
    regions = seg[:, :labels].float()
    # shrink: a pixel stays when its whole (2 SKEW_EDGE + 1)^2 neighbourhood is in the region
    regions = 1.0 - F.max_pool2d(1.0 - regions, 2 * SKEW_EDGE + 1, stride=1, padding=SKEW_EDGE)
    if inside is not None:
        regions = regions * inside.float()
    present = regions.sum(dim=(2, 3)) >= min_pixels
    if not present.any():
        return fake.new_zeros((), dtype=torch.float32)
    fake_skew = region_skewness(fake, regions)
    with torch.no_grad():
        real_skew = region_skewness(real, regions)
    return (fake_skew - real_skew)[present].abs().mean()


def _near_border(labels: torch.Tensor, reach: int) -> torch.Tensor:
    """(N, 1, H, W) 1 where the (2 reach + 1)^2 neighbourhood holds more than one label of the
    (N, L, H, W) 0/1 ``labels``."""
    present = F.max_pool2d(labels, 2 * reach + 1, stride=1, padding=reach)
    return (present.sum(1, keepdim=True) > 1.5).float()


def border_edge_ratio(image: torch.Tensor, at: torch.Tensor, away: torch.Tensor) -> torch.Tensor:
    """(N,) mean gradient magnitude (Sobel after a sigma ``BORDER_SMOOTH`` blur) over ``at``
    over the same over ``away`` ((N, 1, H, W) 0/1 masks)."""
    x = gaussian_blur(image.float()[:, :1], BORDER_SMOOTH)
    sobel = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]], device=x.device) / 8
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    gx = F.conv2d(padded, sobel.view(1, 1, 3, 3))
    gy = F.conv2d(padded, sobel.t().contiguous().view(1, 1, 3, 3))
    grad = torch.sqrt(gx * gx + gy * gy + 1e-8)

    def mean(where: torch.Tensor) -> torch.Tensor:
        return (grad * where).sum(dim=(1, 2, 3)) / where.sum(dim=(1, 2, 3)).clamp(min=1.0)

    return mean(at) / mean(away).clamp(min=1e-6)


def border_edge_l1(fake: torch.Tensor, real: torch.Tensor, seg: torch.Tensor, labels: int,
                   inside: torch.Tensor | None = None, min_pixels: int = 64) -> torch.Tensor:
    """L1 between fake's and real's border edge ratio in each image: the gradient within
    ``BORDER_BAND`` pixels of any border between labels over the gradient ``BORDER_AWAY``
    pixels from the borders (evaluate's drawn-border measure, all borders together). A
    generator that switches style at the label border traces the mask's outline; an expert's
    contour only lies near a real image's edges. Pixels near the fan's edge do not count."""
    regions = seg[:, :labels].float()
    at = _near_border(regions, BORDER_BAND)
    away = _near_border(regions, BORDER_AWAY[1]) * (1.0 - _near_border(regions, BORDER_AWAY[0] - 1))
    if inside is not None:
        keep = 1.0 - F.max_pool2d(1.0 - inside.float(), 2 * BORDER_FAN_MARGIN + 1, stride=1,
                                  padding=BORDER_FAN_MARGIN)
        at, away = at * keep, away * keep
    present = (at.sum(dim=(1, 2, 3)) >= min_pixels) & (away.sum(dim=(1, 2, 3)) >= min_pixels)
    if not present.any():
        return fake.new_zeros((), dtype=torch.float32)
    fake_ratio = border_edge_ratio(fake, at, away)
    with torch.no_grad():
        real_ratio = border_edge_ratio(real, at, away)
    return (fake_ratio - real_ratio)[present].abs().mean()


ACF_DOWN, ACF_ACROSS = 4, 6  # lags of the autocorrelation loss: rows down, columns either way
ACF_MARGIN = SPECKLE_MARGIN  # pixels from the fan's edge the autocorrelation loss ignores, as evaluate does
# the streak loss: the same comparison on evaluate's streak residual (wider blur, margin) at
# lags of a few pixels (texture a few pixels long: "spokes" from the apex)
STREAK_LAGS = ((4, 0), (0, 4), (4, 4), (4, -4), (8, 0), (0, 8))


def acf_lags() -> list[tuple[int, int]]:
    """The (dy, dx) lags the autocorrelation loss compares: one of each pair (dy, dx) and
    (-dy, -dx), which carry the same correlation, lag 0 left out."""
    return [(dy, dx) for dy in range(ACF_DOWN + 1) for dx in range(-ACF_ACROSS, ACF_ACROSS + 1)
            if dy > 0 or dx > 0]


def fan_blur(image: torch.Tensor, inside: torch.Tensor, sigma: float) -> torch.Tensor:
    """The (N, 1, H, W) ``image`` blurred within the fan: the blur of image x ``inside`` over
    the blur of ``inside`` (0/1), so black beyond the fan's edge does not darken the blur
    near it and the residual there is speckle, not the edge."""
    return gaussian_blur(image * inside, sigma) / gaussian_blur(inside, sigma).clamp(min=1e-3)


def residual_autocorrelation(image: torch.Tensor, weights: torch.Tensor, blur: float = SKEW_BLUR,
                             lags: Sequence[tuple[int, int]] | None = None,
                             inside: torch.Tensor | None = None) -> torch.Tensor:
    """(N, B, L) correlation of the residual (``image`` minus its sigma-``blur`` blur; the
    speckle's by default) with itself at each (dy, dx) of ``lags`` (:func:`acf_lags` by
    default), over each of B regions given as (N, B, H, W) 0/1 ``weights``: a pair of pixels
    counts when both lie in the region. With ``inside`` (N, 1, H, W) 0/1 the blur is
    :func:`fan_blur` within it."""
    x = image.float()[:, :1]
    residual = x - (gaussian_blur(x, blur) if inside is None else fan_blur(x + 1.0, inside, blur) - 1.0)
    area = weights.sum(dim=(2, 3)).clamp(min=1.0)
    variance = (weights * residual ** 2).sum(dim=(2, 3)) / area
    lags = acf_lags() if lags is None else list(lags)
    pairs = lagged_sums(weights * residual, lags) / lagged_sums(weights, lags).clamp(min=1.0)
    return pairs / variance.clamp(min=1e-6)[:, :, None]


def lagged_sums(values: torch.Tensor, lags: Sequence[tuple[int, int]]) -> torch.Tensor:
    """(N, B, L): for (N, B, H, W) ``values`` v, the sum over pixels p of v(p) v(p + lag) for
    each (dy, dx) lag, pairs leaving the image not counted. One FFT per map gives every lag
    at once (the map padded by the largest lag, so nothing wraps around), where a product per
    lag costs a pass over the image each: the edge-band loss compares 58 lags."""
    reach_y = max(abs(dy) for dy, _ in lags)
    reach_x = max(abs(dx) for _, dx in lags)
    padded = F.pad(values.float(), (0, reach_x, 0, reach_y))
    height, width = padded.shape[-2:]
    spectrum = torch.fft.rfft2(padded)
    correlation = torch.fft.irfft2(spectrum * spectrum.conj(), s=(height, width))
    rows = torch.tensor([dy % height for dy, _ in lags], device=values.device)
    cols = torch.tensor([dx % width for _, dx in lags], device=values.device)
    return correlation[:, :, rows, cols]


def speckle_acf_l1(fake: torch.Tensor, real: torch.Tensor, inside: torch.Tensor | None,
                   bands: int = 3, min_pixels: int = 256, blur: float = SKEW_BLUR,
                   lags: Sequence[tuple[int, int]] | None = None, margin: int = ACF_MARGIN) -> torch.Tensor:
    """L1 between the speckle residual's autocorrelation in fake and real at small lags
    (:func:`acf_lags`, up to ``ACF_DOWN`` rows and ``ACF_ACROSS`` columns), in each depth band
    of each image inside the fan (``ACF_MARGIN`` from its edge). Speckle's size and direction
    change with depth (short along the beam at every depth, drawn out across it more and more
    toward the far field); matching the whole image's spectrum lets a generator draw near and
    far speckle alike. Bands with fewer than ``min_pixels`` pixels do not count. ``blur``,
    ``lags`` and ``margin`` choose another scale (:func:`streak_l1`)."""
    height = fake.shape[-2]
    band = torch.as_tensor(band_of_rows(height, bands), device=fake.device)
    rows = (band[None, :] == torch.arange(bands, device=fake.device)[:, None]).float()  # (B, H)
    weights = rows[None, :, :, None].expand(fake.shape[0], bands, height, fake.shape[-1])
    if inside is not None:
        keep = 1.0 - F.max_pool2d(1.0 - inside.float(), 2 * margin + 1, stride=1, padding=margin)
        weights = weights * keep
    present = weights.sum(dim=(2, 3)) >= min_pixels
    if not present.any():
        return fake.new_zeros((), dtype=torch.float32)
    fake_acf = residual_autocorrelation(fake, weights, blur, lags)
    with torch.no_grad():
        real_acf = residual_autocorrelation(real, weights, blur, lags)
    return (fake_acf - real_acf).abs().mean(dim=2)[present].mean()


def streak_l1(fake: torch.Tensor, real: torch.Tensor, inside: torch.Tensor | None, bands: int = 3) -> torch.Tensor:
    """:func:`speckle_acf_l1` a scale up: the residual after a sigma-:data:`STREAK_BLUR` blur,
    correlated at :data:`STREAK_LAGS` (4 and 8 pixels down and across, 4 on both diagonals),
    :data:`STREAK_MARGIN` from the fan's edge, in each depth band. Texture a few pixels long
    that runs down from the probe (spokes) where real texture runs across is a gap here; the
    fine-scale loss, at lags of one grain, barely weighs it (a fine-tune with it left the
    streaks as they were)."""
    return speckle_acf_l1(fake, real, inside, bands, blur=STREAK_BLUR, lags=STREAK_LAGS, margin=STREAK_MARGIN)


EDGE_BAND = 6  # pixels inside the fan's edge that the edge-band loss looks at


def fan_rings(alpha: torch.Tensor, count: int) -> torch.Tensor:
    """(N, count, H, W): ring k holds the pixels that ``k`` 3x3 erosions of the fan's
    coverage ``alpha`` (N, 1, H, W) keep and ``k + 1`` remove, so ring 0 is the fan's outline
    (its partly covered pixels with it) and ring k lies about k pixels inside it."""
    kept = [alpha.float()]
    for _ in range(count):
        kept.append(-F.max_pool2d(-kept[-1], 3, stride=1, padding=1))
    return torch.cat([a - b for a, b in zip(kept, kept[1:])], dim=1).clamp(min=0.0)


def edge_band_l1(fake: torch.Tensor, real: torch.Tensor, alpha: torch.Tensor, width: int = EDGE_BAND,
                 min_pixels: int = 64) -> torch.Tensor:
    """L1 between fake and real in the band ``width`` pixels inside the fan's edge, where the
    other speckle losses do not look, on the batch's means (one image's band is too small
    for its statistics to be held image by image):

    - the fade: each one-pixel ring's mean grey level (:func:`fan_rings`) less the mean
      grey level 15 to 25 pixels in (evaluate's edge-band interior), how the image fades
      into the black (held against a ring just past the band instead, a run let the whole
      band and that ring grow darker together);
    - the speckle: the residual's autocorrelation at :func:`acf_lags` over the band's left
      and right halves, at the fully covered pixels, the blur taken within them
      (:func:`fan_blur`) so that the edge itself is not counted as texture. Streaks parallel
      to the fan's sides, where real speckle runs across them along the arcs, give a
      generator away at a glance.

    Images whose band (or half) has fewer than ``min_pixels`` pixels do not count."""
    near, far = EDGE_INTERIOR
    rings = fan_rings(alpha, far)
    rings = torch.cat([rings[:, :width], rings[:, near:far].sum(dim=1, keepdim=True)], dim=1)
    area = rings.sum(dim=(2, 3))
    usable = (area >= min_pixels).all(dim=1)
    total = fake.new_zeros((), dtype=torch.float32)
    if usable.any():
        def fade(image):
            grey = (rings * image.float()[:, :1]).sum(dim=(2, 3)) / area.clamp(min=1.0)
            return (grey[:, :width] - grey[:, width:])[usable].mean(dim=0)
        with torch.no_grad():
            real_fade = fade(real)
        total = total + (fade(fake) - real_fade).abs().mean()
    inside = (alpha.float() >= 0.999).float()  # partly covered pixels: the fade's, not speckle
    band = rings[:, 1:width].sum(dim=1, keepdim=True) * inside
    columns = torch.arange(band.shape[-1], device=band.device)
    left = (columns < band.shape[-1] // 2).float()
    halves = torch.cat([band * left, band * (1.0 - left)], dim=1)
    usable = (halves.sum(dim=(2, 3)) >= min_pixels).all(dim=1)
    if usable.any():
        fake_acf = residual_autocorrelation(fake[usable], halves[usable], inside=inside[usable]).mean(dim=0)
        with torch.no_grad():
            real_acf = residual_autocorrelation(real[usable], halves[usable], inside=inside[usable]).mean(dim=0)
        total = total + (fake_acf - real_acf).abs().mean()
    return total


def kld_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL divergence of the style encoder's N(mu, exp(logvar)) from N(0, 1), summed."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


VGG19_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
VGG_SLICES = (2, 7, 12, 21, 30)  # ends of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
VGG_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


def vgg19_features() -> nn.Sequential:
    """VGG19's convolutional part with torchvision's layer indices (``features.N``)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG19_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=True)]
            channels = int(item)
    return nn.Sequential(*layers)


class VGGLoss(nn.Module):
    """Perceptual loss: weighted L1 between VGG19 relu{1..5}_1 features of fake and real.

    Args:
        weights_path: a torchvision-format VGG19 ImageNet state dict (``features.N.weight``
            keys; classifier weights are ignored), loaded with ``weights_only=True``.
    """

    def __init__(self, weights_path: str | Path) -> None:
        super().__init__()
        features = vgg19_features()
        state = load_vgg_state(Path(weights_path))
        try:
            features.load_state_dict(state, strict=True)
        except RuntimeError:
            raise CardiganError(f"{weights_path}: not VGG19 weights (tensor names or shapes "
                                "differ from torchvision's vgg19)") from None
        bounds = (0,) + VGG_SLICES
        self.slices = nn.ModuleList(features[a:b] for a, b in zip(bounds, bounds[1:]))
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "VGGLoss":
        return super().train(False)  # always a fixed feature extractor

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        if fake.shape[1] == 1:
            fake, real = fake.expand(-1, 3, -1, -1), real.expand(-1, 3, -1, -1)
        loss = fake.new_zeros(())
        x, y = fake, real
        for weight, block in zip(VGG_WEIGHTS, self.slices):
            x, y = block(x), block(y)
            loss = loss + weight * F.l1_loss(x, y.detach())
        return loss


def load_vgg_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CardiganError(f"{path}: no such VGG19 weights file")
    state = load_tensor_file(path, "weights file")
    if not isinstance(state, dict):
        raise CardiganError(f"{path}: not a state dict")
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    return features or {k: v for k, v in state.items() if not k.startswith("classifier.")}


SPECTRUM_WINDOW = 64
SPECTRUM_STRIDE = 32


def spectrum_windows(alpha: torch.Tensor, window: int = SPECTRUM_WINDOW,
                     stride: int = SPECTRUM_STRIDE) -> torch.Tensor:
    """(K, 3) long tensor of (item, top, left) for every ``window``-sized square on a grid of
    ``stride`` lying wholly inside the fan (coverage (N, 1, H, W) of at least 0.999); none
    when the images are smaller than a window."""
    if min(alpha.shape[-2:]) < window:
        return torch.zeros((0, 3), dtype=torch.long, device=alpha.device)
    inside = F.avg_pool2d((alpha >= 0.999).float(), window, stride)
    return torch.nonzero(inside[:, 0] >= 0.9999) * torch.tensor([1, stride, stride], device=alpha.device)


def window_log_spectra(images: torch.Tensor, windows: torch.Tensor,
                       window: int = SPECTRUM_WINDOW) -> torch.Tensor:
    """(K, window, window // 2 + 1) log power spectra of the windows (mean removed,
    Hann-tapered) of (N, 1, H, W) images, in float32."""
    offsets = torch.arange(window, device=images.device)
    rows = (windows[:, 1:2] + offsets)[:, :, None]
    cols = (windows[:, 2:3] + offsets)[:, None, :]
    patches = images[:, 0].float()[windows[:, 0:1, None], rows, cols]
    patches = patches - patches.mean(dim=(1, 2), keepdim=True)
    taper = torch.hann_window(window, periodic=False, device=images.device)
    patches = patches * (taper[:, None] * taper[None, :])
    power = torch.fft.rfft2(patches).abs().square()
    return torch.log(power + 1e-6)


def spectrum_loss(fake: torch.Tensor, real: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """L1 between the mean 2-D log power spectra of fake and real windows inside the fan
    (same windows, the window's mean frequency left out): fine speckle where real images
    have it, no peak where they have none. Zero when no window fits inside a fan."""
    windows = spectrum_windows(alpha)
    if windows.shape[0] == 0:
        return fake.new_zeros((), dtype=torch.float32)
    fake_spec = window_log_spectra(fake, windows).mean(0)
    with torch.no_grad():
        real_spec = window_log_spectra(real, windows).mean(0)
    keep = torch.ones_like(real_spec)
    keep[0, 0] = 0.0
    return ((fake_spec - real_spec).abs() * keep).sum() / keep.sum()
