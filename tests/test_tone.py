"""The output tone curve (engine.nets.tone) and where models carry it."""

import dataclasses

import numpy as np
import pytest
import torch

from engine.errors import ModelFileError
from engine.fan import default_fan, fan_alpha, fan_classes
from engine.labels import one_hot
from engine.models import GeneratorModel, load_model_file, save_model_file
from engine.nets import GeneratorConfig
from engine.nets.grain import add_grain
from engine.nets.noise import seeded_noise
from engine.evaluation.tone_fit import fit_tone
from engine.nets.tone import apply_tone, tone_grey
from engine.synthesizer import Synthesizer, to_uint8
from nets_util import apical_labels, randomized_generator, with_architecture


def as_image(grey: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(grey, np.float32) / 127.5 - 1.0)[None, None]


def test_the_curve_brightens_mid_greys_and_keeps_black_and_white():
    greys = np.arange(256, dtype=np.float32)
    out = ((apply_tone(as_image(greys), 0.9) + 1.0) * 127.5)[0, 0].numpy()
    assert out[0] == 0.0 and out[255] == pytest.approx(255.0, abs=1e-4)
    assert np.allclose(out, tone_grey(greys, 0.9), atol=1e-3)
    assert out[71] == pytest.approx(255 * (71 / 255) ** 0.9, abs=1e-3) and out[71] > 71 + 7
    assert np.all(np.diff(out) > 0)  # monotone: no edge appears or disappears
    darker = ((apply_tone(as_image(greys), 1.2) + 1.0) * 127.5)[0, 0].numpy()
    assert np.all(darker[1:255] < greys[1:255])
    image = as_image(greys)
    assert apply_tone(image, 1.0) is image


def test_black_stays_black_and_the_gradient_stays_finite():
    image = torch.tensor([[[[-1.0, -0.99999, 0.0, 0.5]]]], requires_grad=True)
    out = apply_tone(image, 0.7)
    assert out[0, 0, 0, 0].item() == -1.0
    out.sum().backward()
    assert torch.isfinite(image.grad).all()


def test_tone_comes_between_the_network_and_the_grain():
    base = GeneratorConfig(ngf=8, modulation="clade", noise_nc=6, fan=True, upsample="bilinear",
                           texture=True, beam=2.0, grain=3.0, image_size=128)
    plain = randomized_generator(dataclasses.replace(base, grain=0.0), seed=5, size=128).eval()
    toned = randomized_generator(dataclasses.replace(base, tone=0.85), seed=5, size=128).eval()
    labels = apical_labels(2, 128)
    alpha = torch.from_numpy(np.stack([fan_alpha(default_fan(), 128, 128)] * 2))[:, None].float()
    seg = fan_classes(one_hot(labels), alpha)
    noise = seeded_noise(6, (128, 128), [0, 1])
    with torch.no_grad():
        network, out = plain(seg, noise=noise), toned(seg, noise=noise)
    assert torch.equal(out, add_grain(apply_tone(network, 0.85), noise, 3.0))
    assert out.mean() > network.mean() + 0.02


def test_tone_is_checked_where_models_are_made_and_read(tmp_path):
    with pytest.raises(ModelFileError, match="tone must be between 0.5 and 2"):
        GeneratorConfig(tone=0.3)
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, tone=0.9, image_size=64)
    path = tmp_path / "tone.safetensors"
    save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)), path)
    assert load_model_file(path).config.tone == 0.9
    labels = apical_labels(1, 64)[0]
    toned = to_uint8(Synthesizer(path, device="cpu").synthesize(labels, seed=3)).astype(np.float64)
    plain_config = dataclasses.replace(config, tone=1.0)
    plain_path = tmp_path / "plain.safetensors"
    save_model_file(GeneratorModel(config=plain_config, generator=randomized_generator(plain_config, size=64)),
                    plain_path)
    plain = to_uint8(Synthesizer(plain_path, device="cpu").synthesize(labels, seed=3)).astype(np.float64)
    assert np.abs(toned - tone_grey(plain, 0.9)).max() <= 1.5  # the same image, one curve later (both rounded)
    assert toned.mean() > plain.mean() + 2

    with pytest.raises(ModelFileError, match="tone"):
        load_model_file(with_architecture(path, tmp_path / "bad.safetensors", tone=5.0))


def test_tone_fit_finds_the_curve_that_undoes_a_darkening():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (6, 64, 64))
    real = np.clip(rng.normal(40.0 + 25.0 * labels, 12.0), 0, 255).round()
    darker = np.round(tone_grey(real, 1 / 0.9))  # what a model 0.9 too dark would paint
    insides = np.ones(labels.shape, bool)
    fit = fit_tone(real, darker, labels, insides, [0.8, 0.85, 0.9, 0.95, 1.0])
    assert fit["best"] == 0.9
    assert all(abs(g) < 1.0 for g in fit["gaps"][0.9].values())
    assert fit["gaps"][1.0]["myo"] < -5  # untouched, the darkening shows
    assert fit["real"]["lv"] == pytest.approx(real[labels == 1].mean())
