"""The adversarial objectives: OASIS's segmentation discriminator, LabelMix, class balance."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch

from engine.nets.segdisc import SegmentationDiscriminator
from engine.training.objectives import SegmentationObjective, class_balance, labelmix_mask
from test_training import phantom, tiny  # noqa: F401  (the shared phantom fixture)


def test_class_balance_gives_every_present_class_the_same_total_weight():
    labels = torch.zeros(1, 10, 10, dtype=torch.long)
    labels[0, :2] = 1  # 20 pixels of class 1, 80 of class 0, none of 2 or 3
    weights = class_balance(labels, 4)
    assert weights[labels == 0].sum() == pytest.approx(weights[labels == 1].sum())
    assert weights.sum() == pytest.approx(labels.numel())


def test_labelmix_takes_whole_classes_from_one_image_or_the_other():
    torch.manual_seed(0)
    labels = torch.arange(4).repeat_interleave(16).reshape(1, 8, 8)
    masks = [labelmix_mask(labels) for _ in range(20)]
    for mask in masks:
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
        for c in range(4):  # constant over each class
            assert mask[0, 0][labels[0] == c].unique().numel() == 1
    assert len({tuple(m.flatten()[::16].tolist()) for m in masks}) > 1  # and random


def test_segmentation_discriminator_labels_every_pixel_with_a_class_or_fake():
    disc = SegmentationDiscriminator(image_nc=1, classes=4, ndf=4, depth=4)
    out = disc(torch.randn(2, 1, 64, 64))
    assert out.shape == (2, 5, 32, 32)
    objective = SegmentationObjective(4, lambda_labelmix=10.0, memory_format=torch.contiguous_format)
    seg = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 64, 64)), 4).permute(0, 3, 1, 2).float()
    fake, real = torch.rand(2, 1, 64, 64) * 2 - 1, torch.rand(2, 1, 64, 64) * 2 - 1
    d = objective.discriminator_losses(disc, seg, fake, real)
    g = objective.generator_losses(disc, seg, fake.requires_grad_(), real)
    assert set(d) == {"D_real", "D_fake", "D_LabelMix"} and set(g) == {"G_GAN"}
    assert all(math.isfinite(v.item()) and v.item() >= 0 for v in (*d.values(), *g.values()))
    g["G_GAN"].backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


def test_a_tiny_oasis_run_trains_and_saves_a_stochastic_model(phantom, tmp_path):  # noqa: F811
    from engine.models import open_model
    from engine.training.events import TrainCallbacks
    from engine.training.loop import train

    config = tiny(discriminator="oasis", ndf=4, noise_nc=4, deform=0.5, iters=6, log_every=2)
    result = train(config, phantom, tmp_path / "run", TrainCallbacks())
    records = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert result.iteration == 6 and all("Loss/D_LabelMix" in r and "Loss/G_GAN" in r for r in records)
    assert all(np.isfinite([r["Loss/D_real"], r["Loss/D_fake"], r["Loss/G_GAN"]]).all() for r in records)
    model = open_model(result.model_path)
    assert model.stochastic and model.config.noise_nc == 4


def test_coarse_l1_sees_grey_levels_and_layout_but_not_fine_texture():
    from engine.training.losses import coarse_l1

    torch.manual_seed(0)
    base = torch.rand(1, 1, 32, 32)
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2 * 0.5 - 0.25  # fine texture
    assert coarse_l1(base, base) == 0
    assert coarse_l1(base + checker, base) < 1e-6  # averages out within 4 x 4 blocks
    assert coarse_l1(base + 0.3, base) == pytest.approx(0.3, abs=1e-5)  # a grey-level shift counts


def test_region_mean_l1_sees_each_regions_brightness_but_not_its_texture():
    from engine.training.losses import region_mean_l1

    labels = torch.zeros(2, 32, 32, dtype=torch.long)
    labels[:, 8:24, 8:16] = 1
    labels[:, 8:24, 16:24] = 2
    labels[1, 26:30, 4:12] = 3  # the atrium in the second image only
    seg = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    real = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(0)) - 0.5
    # the same mean in every region, another texture: each region's pixels shuffled
    shuffled = real.clone()
    for n in range(2):
        for c in range(4):
            where = labels[n] == c
            values = shuffled[n, 0][where]
            shuffled[n, 0][where] = values[torch.randperm(len(values), generator=torch.Generator().manual_seed(c))]
    assert not torch.equal(shuffled, real)
    assert region_mean_l1(shuffled, real, seg, 4) < 1e-6
    brighter = real + 0.3 * (labels == 1)[:, None].float()  # the cavity 0.3 brighter
    # 7 regions are present (4 + 3), two of them off by 0.3
    assert region_mean_l1(brighter, real, seg, 4).item() == pytest.approx(2 * 0.3 / 7, abs=1e-5)
    inside = torch.zeros(2, 1, 32, 32)
    inside[:, :, :, 16:] = 1.0  # only the right half in the fan: the cavity is out of it
    assert region_mean_l1(brighter, real, seg, 4, inside) < 1e-6


def test_region_mean_l1_with_depth_bands_sees_a_depth_gradient_the_whole_region_hides():
    from engine.training.losses import depth_bands, region_mean_l1

    labels = torch.zeros(1, 32, 32, dtype=torch.long)
    labels[:, :, 8:24] = 2  # a myocardium down the whole depth
    seg = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    real = torch.zeros(1, 1, 32, 32)
    # brighter near the probe and darker deep, by the same amount: each region's mean unchanged
    depth = torch.linspace(-0.2, 0.2, 32)[:, None].expand(32, 32)
    tilted = real - depth[None, None]
    assert region_mean_l1(tilted, real, seg, 4) < 1e-6
    assert region_mean_l1(tilted, real, seg, 4, bands=4) > 0.05
    # the bands tile each region: together they are the region, each a quarter of the rows
    split = depth_bands(seg, 4)
    assert split.shape == (1, 16, 32, 32)
    assert torch.equal(split.view(1, 4, 4, 32, 32).sum(2), seg)
    assert split[0, 8].sum() == 8 * 16 and split[0, 8, :8].sum() == 8 * 16  # myocardium, top band
    assert torch.equal(depth_bands(seg, 1), seg)


def test_region_skew_l1_tells_bright_specks_from_symmetric_grain_and_its_gradient_closes_the_gap():
    from engine.training.losses import region_skew_l1, region_skewness

    labels = torch.zeros(2, 64, 64, dtype=torch.long)
    labels[:, 16:56, 8:40] = 1
    seg = one_hot_seg(labels)
    gen = torch.Generator().manual_seed(3)
    symmetric = torch.randn(2, 1, 64, 64, generator=gen) * 0.2
    specks = (torch.empty(2, 1, 64, 64).exponential_(generator=gen) - 1.0) * 0.2  # skewness 2
    assert region_skew_l1(symmetric, symmetric, seg, 4) == 0
    regions = seg[:, :2]
    assert region_skewness(specks, regions).min() > 1.2  # the blur keeps most of the lean
    assert region_skewness(symmetric, regions).abs().max() < 0.2
    gap = region_skew_l1(symmetric, specks, seg, 4)
    assert gap > 1.0
    assert region_skew_l1(specks, -specks, seg, 4) > 2 * gap.item() * 0.9  # leaning dark is further still
    assert region_skew_l1(symmetric + 0.5, specks, seg, 4) == pytest.approx(gap.item(), abs=1e-4)  # brightness is not skew
    fake = symmetric.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([fake], lr=0.01)
    for _ in range(30):
        optimizer.zero_grad()
        region_skew_l1(fake, specks, seg, 4).backward()
        optimizer.step()
    assert region_skew_l1(fake.detach(), specks, seg, 4) < 0.7 * gap
    # regions absent from every image, or shrunk away at their border, do not count
    thin = torch.zeros(2, 64, 64, dtype=torch.long)
    thin[:, 30:34, :] = 2  # 4 pixels wide: nothing left 3 pixels from its border
    thin_seg = one_hot_seg(thin)
    assert region_skew_l1(symmetric, specks, thin_seg, 4).item() == pytest.approx(
        region_skew_l1(symmetric, specks, thin_seg, 1).item(), abs=1e-6)  # the background alone


def test_border_edge_l1_sees_a_traced_outline_matches_the_evaluation_and_its_gradient_softens_it():
    import numpy as np

    from engine.evaluation.borders import border_edge_ratio as measured_ratio
    from engine.training.losses import _near_border, border_edge_l1, border_edge_ratio

    labels = torch.zeros(2, 96, 96, dtype=torch.long)
    labels[:, 24:72, 24:72] = 1
    seg = one_hot_seg(labels)
    gen = torch.Generator().manual_seed(5)
    grain = torch.randn(2, 1, 96, 96, generator=gen) * 0.1
    traced = grain + 0.6 * seg[:, 1:2]  # the cavity drawn brighter exactly inside its label
    untraced = grain.clone()
    assert border_edge_l1(traced, traced, seg, 4) == 0
    gap = border_edge_l1(traced, untraced, seg, 4)
    assert gap > 1.0
    assert border_edge_l1(traced + 0.3, untraced, seg, 4) == pytest.approx(gap.item(), rel=1e-4)  # brightness is no edge
    # the same ratio as evaluate's measure (square bands here, distance bands there: close, not equal)
    at = _near_border(seg, 2)
    away = _near_border(seg, 10) * (1 - _near_border(seg, 4))
    image = ((traced[0, 0] + 1) * 100).clamp(0, 255).round().to(torch.uint8).numpy()
    ours = border_edge_ratio(torch.from_numpy(image).float()[None, None], at[:1], away[:1]).item()
    assert ours == pytest.approx(measured_ratio(image, labels[0].numpy(), 0, 1), rel=0.15)
    # a fan that leaves no border inside it: nothing counts
    inside = torch.zeros(2, 1, 96, 96)
    inside[:, :, :, 80:] = 1
    assert border_edge_l1(traced, untraced, seg, 4, inside) == 0
    fake = traced.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([fake], lr=0.01)
    for _ in range(30):
        optimizer.zero_grad()
        border_edge_l1(fake, untraced, seg, 4).backward()
        optimizer.step()
    assert border_edge_l1(fake.detach(), untraced, seg, 4) < 0.7 * gap
    assert np.isfinite(fake.detach().numpy()).all()


def one_hot_seg(labels: torch.Tensor, classes: int = 4) -> torch.Tensor:
    """(N, H, W) class ids -> (N, classes, H, W) float one-hot, as the losses take them."""
    return torch.nn.functional.one_hot(labels, classes).permute(0, 3, 1, 2).float()


def test_speckle_acf_l1_sees_speckle_drawn_out_across_instead_of_along_and_its_gradient_closes_the_gap():
    import torch.nn.functional as F

    from engine.training.losses import acf_lags, residual_autocorrelation, speckle_acf_l1

    gen = torch.Generator().manual_seed(11)
    white = torch.randn(2, 1, 96, 96, generator=gen)
    across = F.avg_pool2d(F.pad(white, (2, 2, 0, 0), mode="circular"), (1, 5), stride=1) * 0.3  # wide, short
    along = across.transpose(2, 3).contiguous()  # the same grain turned: tall, narrow
    inside = torch.ones(2, 1, 96, 96)
    assert speckle_acf_l1(across, across, inside) == 0
    gap = speckle_acf_l1(along, across, inside)
    assert gap > 0.1
    assert speckle_acf_l1(across + 0.4, across, inside) == pytest.approx(0.0, abs=1e-5)  # brightness is no texture
    assert speckle_acf_l1(across * 0.5, across, inside) == pytest.approx(0.0, abs=1e-5)  # nor contrast
    # the correlation it compares: high two pixels across, about none two pixels down (the blur
    # it subtracts leaves a small negative lobe)
    lags = acf_lags()
    assert len(lags) == len(set(lags)) and (0, 0) not in lags and all((-dy, -dx) not in lags for dy, dx in lags)
    rows = torch.ones(2, 1, 96, 96)
    acf = residual_autocorrelation(across, rows)[:, 0]
    assert acf[:, lags.index((0, 2))].min() > 0.4 and acf[:, lags.index((2, 0))].abs().max() < 0.2
    # depth matters: right texture in the wrong third is a gap the whole-image spectrum would not see
    swapped = torch.cat([along[..., :48, :], across[..., 48:, :]], dim=2)
    assert speckle_acf_l1(swapped, torch.cat([across[..., :48, :], along[..., 48:, :]], dim=2), inside, bands=2) > 0.1
    # pixels near the fan's edge do not count; with no fan pixel left, nothing is compared
    assert speckle_acf_l1(along, across, torch.zeros_like(inside)) == 0
    fake = descended(along, lambda x: speckle_acf_l1(x, across, inside))
    assert speckle_acf_l1(fake, across, inside) < 0.6 * gap


def test_lagged_sums_count_every_pair_inside_the_image_once_at_each_lag():
    from engine.training.losses import lagged_sums

    gen = torch.Generator().manual_seed(2)
    values = torch.randn(2, 3, 23, 31, generator=gen) * (torch.rand(2, 3, 23, 31, generator=gen) > 0.3)
    lags = [(0, 1), (1, 0), (2, -5), (4, 6), (0, -3), (-2, 1), (7, 0)]
    got = lagged_sums(values, lags)
    v = values.numpy().astype(np.float64)
    for k, (dy, dx) in enumerate(lags):
        want = np.zeros(v.shape[:2])
        for y in range(v.shape[2]):
            for x in range(v.shape[3]):
                if 0 <= y + dy < v.shape[2] and 0 <= x + dx < v.shape[3]:
                    want += v[:, :, y, x] * v[:, :, y + dy, x + dx]
        assert np.allclose(got[:, :, k].numpy(), want, atol=1e-3), (dy, dx)


def descended(start: torch.Tensor, loss, steps: int = 40, lr: float = 0.02) -> torch.Tensor:
    """``start`` after ``steps`` Adam steps on ``loss`` (a function of the image)."""
    fake = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([fake], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(fake).backward()
        optimizer.step()
    return fake.detach()


def test_streak_l1_sees_spokes_and_its_gradient_closes_the_gap():
    import torch.nn.functional as F

    from engine.training.losses import streak_l1

    gen = torch.Generator().manual_seed(5)
    white = torch.randn(2, 1, 128, 128, generator=gen)

    def drawn(down: int, across: int) -> torch.Tensor:
        padded = F.pad(white, (across // 2, across // 2, down // 2, down // 2), mode="circular")
        return F.avg_pool2d(padded, (down, across), stride=1) * 0.3

    arcs, spokes = drawn(3, 9), drawn(9, 3)  # texture a few pixels long: across, then down
    inside = torch.ones(2, 1, 128, 128)
    assert streak_l1(arcs, arcs, inside) == 0
    gap = streak_l1(spokes, arcs, inside)
    assert gap > 0.1
    assert streak_l1(arcs * 0.5 + 0.2, arcs, inside) == pytest.approx(0.0, abs=1e-5)  # grey levels are no texture
    # the wider margin: a fan that leaves under 16 px of room compares nothing
    narrow = torch.zeros_like(inside)
    narrow[..., 40:70, 40:70] = 1
    assert streak_l1(spokes, arcs, narrow) == 0
    assert streak_l1(descended(spokes, lambda x: streak_l1(x, arcs, inside)), arcs, inside) < 0.6 * gap


def test_fan_rings_peel_the_fan_one_pixel_at_a_time():
    from engine.fan import default_fan, fan_alpha
    from engine.training.losses import fan_rings

    alpha = torch.from_numpy(fan_alpha(default_fan("4CH"), 96, 96).astype(np.float32))[None, None]
    rings = fan_rings(alpha, 4)
    assert rings.shape == (1, 4, 96, 96)
    assert float(rings.sum(1).max()) <= 1.0 + 1e-6  # disjoint
    assert float((rings.sum(1, keepdim=True) - alpha).max()) <= 1e-6  # inside the fan
    # every partly covered pixel is in ring 0 (with its whole coverage, or what a neighbour
    # one step further in leaves of it)
    partial = (alpha > 0) & (alpha < 1)
    assert float(rings[:, :1][partial].min()) > 0
    assert all(float(rings[0, k].sum()) > 50 for k in range(4))


def test_edge_band_l1_sees_streaks_along_the_fans_sides_and_a_harder_fade_and_its_gradient_closes_the_gap():
    import torch.nn.functional as F

    from engine.fan import apply_fan, default_fan, fan_alpha
    from engine.evaluation.speckle import EDGE_INTERIOR
    from engine.training.losses import EDGE_BAND, edge_band_l1, fan_rings, residual_autocorrelation

    size = 128
    alpha = torch.from_numpy(fan_alpha(default_fan("4CH"), size, size).astype(np.float32))[None, None]
    alpha = alpha.expand(4, -1, -1, -1).contiguous()
    white = torch.randn(4, 1, size, size, generator=torch.Generator().manual_seed(3))
    across = F.avg_pool2d(F.pad(white, (2, 2, 0, 0), mode="circular"), (1, 5), stride=1) * 0.3
    along = across.transpose(2, 3).contiguous()
    real, streaky = apply_fan(across, alpha), apply_fan(along, alpha)
    assert edge_band_l1(real, real, alpha) == 0
    gap = edge_band_l1(streaky, real, alpha)
    assert gap > 0.05
    # the fade: the ring just inside the edge darker than real's, texture untouched
    ring1 = fan_rings(alpha, 2)[:, 1:2]
    assert edge_band_l1(real - 0.3 * ring1, real, alpha) > 0.04
    # the whole band darker, and the pixels just past it too: seen against the interior
    rim = fan_rings(alpha, EDGE_INTERIOR[0]).sum(1, keepdim=True)
    assert edge_band_l1(real - 0.3 * rim, real, alpha) > 0.1
    # deep inside the fan nothing counts: any texture there is the other losses' business
    reach = EDGE_INTERIOR[1] + 2  # past the band, the blur's reach and the interior it is held against
    deep = 1.0 - F.max_pool2d(1.0 - alpha, 2 * reach + 1, stride=1, padding=reach)
    assert edge_band_l1(real * (1 - deep) + streaky * deep, real, alpha) == pytest.approx(0.0, abs=1e-6)
    # the blur within the fan: a flat fan has no speckle at its edge, where a plain blur sees
    # the step into the black as strongly correlated texture
    flat = apply_fan(torch.zeros_like(real), alpha)
    band = fan_rings(alpha, EDGE_BAND)[:, 1:].sum(1, keepdim=True)
    inside = (alpha >= 0.999).float()
    band = band * inside
    assert float(residual_autocorrelation(flat, band, inside=inside).abs().max()) < 1e-3
    assert float(residual_autocorrelation(flat, band).max()) > 0.5
    fake = descended(streaky, lambda x: edge_band_l1(apply_fan(x, alpha), real, alpha))
    assert edge_band_l1(apply_fan(fake, alpha), real, alpha) < 0.6 * gap


def test_the_edge_band_loss_needs_the_fan_as_an_input():
    from engine.errors import CardiganError
    from engine.training.config import TrainConfig, validate

    with pytest.raises(CardiganError, match="edge-band loss"):
        validate(TrainConfig(lambda_edge=1.0, fan=False))
    validate(TrainConfig(lambda_edge=1.0, fan=True))


def test_the_patch_objective_judges_fakes_with_reals_through_a_wrapped_discriminator():
    """Told at construction that a pooled critic is there, the objective judges fakes in one
    batch with reals even through a wrapper that hides the critic (as DistributedDataParallel
    does), and reports the critic's verdict from the discriminator step."""
    from engine.nets.discriminator import MultiscaleDiscriminator
    from engine.training.objectives import PatchObjective

    class Wrapper(torch.nn.Module):  # forwards the call, hides the attributes
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x, **kwargs):
            return self.inner(x, **kwargs)

    torch.manual_seed(0)
    # train mode (batch norm judges the batch it is given); each call gets a fresh copy, so
    # spectral norm's power iteration in one call does not move the next call's weights
    disc = MultiscaleDiscriminator(input_nc=5, ndf=4, n_layers=3, num_d=1, pooled=8, image_nc=1)
    seg = torch.zeros(2, 4, 64, 64)
    fake, real = torch.randn(2, 1, 64, 64), torch.randn(2, 1, 64, 64) * 2 + 1
    told, untold = PatchObjective(1.0, torch.contiguous_format, pooled=True), PatchObjective(1.0, torch.contiguous_format)
    bare = told.generator_losses(copy.deepcopy(disc), seg, fake, real)["G_GAN"]
    wrapped = told.generator_losses(Wrapper(copy.deepcopy(disc)), seg, fake, real)["G_GAN"]
    alone = untold.generator_losses(copy.deepcopy(disc), seg, fake, real)["G_GAN"]
    assert torch.allclose(bare, wrapped) and not torch.allclose(bare, alone, atol=1e-4)
    told.discriminator_losses(Wrapper(disc), seg, fake, real)
    assert set(told.diagnostics) == {"Diag/D_pooled_gap"} and torch.isfinite(told.diagnostics["Diag/D_pooled_gap"])
    untold.discriminator_losses(disc, seg, fake, real)
    assert untold.diagnostics == {}


def test_the_pooled_weight_scales_the_pooled_critics_share_of_the_hinge_losses():
    """Weight 1 is the plain average over scales; another weight changes the pooled critic's
    term alone, in the generator's and the discriminator's losses; no critic, no weight."""
    from engine.errors import CardiganError
    from engine.nets.discriminator import MultiscaleDiscriminator
    from engine.training.config import resolve_config
    from engine.training.losses import hinge_d_loss, hinge_g_loss
    from engine.training.objectives import PatchObjective

    torch.manual_seed(0)
    # eval: no spectral-norm power iteration between calls, so every call sees the same weights
    disc = MultiscaleDiscriminator(input_nc=5, ndf=4, n_layers=3, num_d=2, pooled=8, image_nc=1).eval()
    seg = torch.zeros(2, 4, 64, 64)
    fake, real = torch.randn(2, 1, 64, 64), torch.randn(2, 1, 64, 64) * 2 + 1
    fmt = torch.contiguous_format
    pred = disc(torch.cat([seg, fake], 1), reference=torch.cat([seg, real], 1))
    pooled_term = pred[-1][-1].mean()
    g = {w: PatchObjective(0.0, fmt, pooled=True, pooled_weight=w).generator_losses(disc, seg, fake, real)["G_GAN"]
         for w in (0.0, 1.0, 3.0)}
    assert torch.allclose(g[1.0], hinge_g_loss(pred))  # the plain average
    assert torch.allclose(g[3.0] - g[1.0], -2 * pooled_term / 3, atol=1e-5)
    assert torch.allclose(g[0.0], hinge_g_loss(pred[:2]) * 2 / 3, atol=1e-5)  # the PatchGANs' share unchanged
    d = {w: PatchObjective(0.0, fmt, pooled=True, pooled_weight=w).discriminator_losses(disc, seg, fake, real)
         for w in (1.0, 0.0)}
    assert not torch.allclose(d[1.0]["D_fake"], d[0.0]["D_fake"])
    assert hinge_d_loss(pred, pred, [1.0, 1.0, 1.0])[0] == hinge_d_loss(pred, pred)[0]
    assert resolve_config("lite", pooled_d=8, pooled_weight=4.0).pooled_weight == 4.0
    with pytest.raises(CardiganError, match="pooled weight needs a pooled critic"):
        resolve_config("lite", pooled_weight=4.0)


@pytest.mark.parametrize("side", [32, 48])
def test_the_spectrum_loss_of_images_smaller_than_its_window_is_zero(side):
    """Training images may be 32 pixels (the smallest --size); the spectral loss's 64-pixel
    windows cannot lie in them, so it is zero, as for a fan no window fits in, not an error."""
    from engine.training.losses import SPECTRUM_WINDOW, spectrum_loss, spectrum_windows

    assert side < SPECTRUM_WINDOW
    real = torch.rand(2, 1, side, side)
    fake = (real * 0.5).requires_grad_()
    inside = torch.ones_like(real)
    assert spectrum_windows(inside).shape == (0, 3)
    assert float(spectrum_loss(fake, real, inside)) == 0.0


@pytest.mark.parametrize("side, fan, idle", [(64, True, True), (128, True, True), (256, True, False),
                                             (32, False, True), (64, False, False)])
def test_a_spectral_loss_with_no_window_in_the_fan_is_said_at_the_start(side, fan, idle):
    """The lite preset's spectral loss needs 64-pixel windows wholly inside the fan: in a
    small run (the median fan at 160 pixels or fewer) it stays 0, which the run says once
    rather than leave a logged zero unexplained."""
    from engine.fan import default_fan, fan_alpha
    from engine.training.config import resolve_config
    from engine.training.loop import idle_spectrum_note

    config = resolve_config("lite", image_size=side, fan=fan)
    alpha = torch.from_numpy(fan_alpha(default_fan(), side, side)).float()[None, None].repeat(2, 1, 1, 1)
    preview = {"seg": torch.zeros(2, 5, side, side), "fan": alpha if fan else None}
    note = idle_spectrum_note(config, preview)
    if idle:
        assert str(note) == (f"--lambda-spectrum: no 64-pixel window lies inside the fan of {side}-pixel "
                             "images, so the spectral loss stays 0 (larger images give it room)")
    else:
        assert note is None
    assert idle_spectrum_note(resolve_config("lite", image_size=side, fan=fan, lambda_spectrum=0.0), preview) is None


def test_a_small_lite_run_says_its_spectral_loss_stays_zero(phantom, tmp_path):  # noqa: F811
    from engine.training.events import Notice, TrainCallbacks
    from engine.training.loop import train

    told = []
    config = resolve_config_for_a_tiny_lite_run()
    train(config, phantom, tmp_path / "run", TrainCallbacks(told.append))
    notes = [str(event.message) for event in told if isinstance(event, Notice)]
    assert any("so the spectral loss stays 0" in note for note in notes), notes
    assert type(told[0]).__name__ == "Started"  # the note follows the run's start, as every notice of it does


def resolve_config_for_a_tiny_lite_run():
    from engine.training.config import resolve_config

    return resolve_config("lite", ngf=4, ndf=8, image_size=64, n_layers_d=3, iters=1, device="cpu",
                          sample_every=100000, checkpoint_every=100000)
