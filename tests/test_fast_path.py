"""The inference-optimised generator computes the same images as the plain network."""

import numpy as np
import pytest
import torch

from engine.fast import FastGenerator, optimize_for_inference
from engine.fast import modulation
from engine.labels import one_hot
from engine.nets import GeneratorConfig
from engine.nets.noise import seeded_noise
from nets_util import apical_labels, blocky_labels, randomized_generator

TOLERANCE = 1e-4  # max abs difference in [-1, 1] output units (float32 rounding only)

CONFIGS = [
    GeneratorConfig(ngf=8, output_nc=3, image_size=128),
    GeneratorConfig(ngf=8, norm="instance", spectral=False, image_size=128),
    GeneratorConfig(ngf=8, norm="batch", upsampling="more", image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", norm="instance", image_size=128),
    GeneratorConfig(ngf=8, use_vae=True, z_dim=16, image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", noise_nc=6, image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", norm="instance", noise_nc=6, image_size=128),
    GeneratorConfig(ngf=8, noise_nc=6, image_size=128),
    GeneratorConfig(ngf=8, upsampling="most", image_size=128),
    GeneratorConfig(ngf=8, upsampling="most", use_vae=True, z_dim=16, image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", upsampling="more", noise_nc=6, image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", upsampling="most", noise_nc=6, image_size=128),
    GeneratorConfig(ngf=8, modulation="clade", noise_nc=6, texture=True, beam=2.0, grain=3.0, tone=0.8, image_size=128),
]


def test_one_block_schedule_for_every_upsampling():
    from engine.nets.generator import block_schedule

    levels = {mode: dict(block_schedule(GeneratorConfig(upsampling=mode))) for mode in ("normal", "more", "most")}
    assert levels["normal"] == {"head_0": 0, "G_middle_0": 1, "G_middle_1": 1, "up_0": 2, "up_1": 3,
                                "up_2": 4, "up_3": 5}
    assert levels["more"]["G_middle_1"] == 2 and levels["more"]["up_3"] == 6 and "up_4" not in levels["more"]
    assert levels["most"]["up_4"] == 7  # 2**7 = 128 x the latent size


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.norm}-{c.modulation}-{c.upsampling}"
                                                           f"-vae{c.use_vae}-noise{c.noise_nc}-beam{c.beam:g}")
@pytest.mark.parametrize("mode", FastGenerator.MODES)
def test_fast_equals_plain(config, mode):
    g = randomized_generator(config, seed=7, size=128)
    labels = np.stack([blocky_labels(128, seed=1), blocky_labels(128, seed=2)])
    seg = one_hot(labels)
    z = torch.randn(2, config.z_dim) if config.use_vae else None
    noise = seeded_noise(config.noise_nc, (128, 128), [3, 4]) if config.noise_nc else None
    with torch.no_grad():
        plain = g(seg, z, noise)
    fast = optimize_for_inference(g, mode=mode)(seg, z, noise=noise)
    assert fast.shape == plain.shape
    assert (fast - plain).abs().max() < TOLERANCE


def test_sparse_path_really_skips_uniform_regions(monkeypatch):
    """A map with large single-class regions uses the sparse path at the high resolutions."""
    calls = {"sparse": 0, "dense": 0}
    real_sparse, real_dense = modulation.LevelModulation.sparse, modulation.LevelModulation.dense

    def count_sparse(self, lbl):
        result = real_sparse(self, lbl)
        calls["sparse"] += result is not None
        return result

    def count_dense(self, onehot):
        calls["dense"] += 1
        return real_dense(self, onehot)

    monkeypatch.setattr(modulation.LevelModulation, "sparse", count_sparse)
    monkeypatch.setattr(modulation.LevelModulation, "dense", count_dense)
    labels = np.zeros((256, 256), np.uint8)
    labels[64:192, 96:160] = 1
    g = randomized_generator(GeneratorConfig(ngf=4), size=256)
    optimize_for_inference(g)(one_hot(labels))
    assert calls["sparse"] >= 3 and calls["dense"] >= 1


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("mode", FastGenerator.MODES)
def test_fast_equals_plain_on_cuda(mode, exact_cuda):
    config = GeneratorConfig(ngf=16, output_nc=3, image_size=256)
    g = randomized_generator(config, seed=3, size=256).cuda()
    seg = one_hot(np.stack([blocky_labels(256, seed=1), blocky_labels(256, seed=4)])).cuda()
    with torch.no_grad():
        plain = g(seg)
    fast = optimize_for_inference(g, "cuda", mode=mode)(seg)
    assert (fast - plain).abs().max() < 1e-3  # GPU convolution algorithms round differently


BF16_TOLERANCE = (0.02, 0.1)  # mean and max abs difference against the float32 network


@pytest.mark.parametrize("mode", FastGenerator.MODES)
def test_bfloat16_path_stays_close_to_float32(mode):
    # small: bfloat16 convolutions are slow on CPUs
    g = randomized_generator(GeneratorConfig(ngf=4, image_size=128), seed=2, size=128)
    labels = torch.from_numpy(apical_labels(1, 128))
    seg = one_hot(labels)
    with torch.no_grad():
        plain = g(seg)
    fast = optimize_for_inference(g, mode=mode, dtype=torch.bfloat16)(seg, labels=labels)
    assert fast.dtype == torch.float32
    diff = (fast - plain).abs()
    assert diff.mean() < BF16_TOLERANCE[0] and diff.max() < BF16_TOLERANCE[1], (diff.mean(), diff.max())


# SPADE's soft levels run dense in either mode: one mode each; CLADE's blend its tables: both
SOFT_CASES = [(CONFIGS[0], "sparse"), (CONFIGS[1], "dense"), (CONFIGS[4], "sparse"),
              (CONFIGS[13], "sparse"), (CONFIGS[13], "dense")]


@pytest.mark.parametrize("config,mode", SOFT_CASES,
                         ids=lambda c: c if isinstance(c, str) else f"{c.norm}-{c.modulation}-noise{c.noise_nc}")
def test_fast_equals_plain_with_soft_labels(config, mode):
    """The coarse levels read part of the map averaged over each cell (a cine loop's soft
    labels): the same image from both networks, and not the image of the map sampled."""
    g = randomized_generator(config, seed=7, size=128)
    seg = one_hot(np.stack([blocky_labels(128, seed=1), blocky_labels(128, seed=2)]))
    area = seg * torch.tensor([1.0, 0.5])[:, None, None, None]  # all of it; half of it
    noise = seeded_noise(config.noise_nc, (128, 128), [3, 4]) if config.noise_nc else None
    with torch.no_grad():
        plain, sampled = g(seg, None, noise, area=area), g(seg, None, noise)
    fast = optimize_for_inference(g, mode=mode)(seg, noise=noise, area=area)
    assert (fast - plain).abs().max() < TOLERANCE
    assert (plain - sampled).abs().max() > 100 * TOLERANCE
