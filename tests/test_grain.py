"""Pixel grain on the generator's output (engine.nets.grain)."""

import dataclasses

import numpy as np
import pytest
import torch

from engine.errors import ModelFileError
from engine.evaluation.texture import spectrum_summary
from engine.fan import default_fan, fan_alpha, fan_classes
from engine.labels import one_hot
from engine.models import GeneratorModel, load_model_file, save_model_file
from engine.nets import GeneratorConfig
from engine.nets.grain import GRAIN_KNEE, add_grain
from engine.nets.noise import seeded_noise
from engine.synthesizer import Synthesizer, to_uint8
from nets_util import apical_labels, randomized_generator, with_architecture


def lag_correlation(image: np.ndarray, dy: int, dx: int) -> float:
    a = image[: image.shape[0] - dy, : image.shape[1] - dx]
    b = image[dy:, dx:]
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_grain_is_white_of_the_asked_amplitude_and_fades_to_black():
    noise = seeded_noise(4, (128, 128), [3])
    bright = torch.full((1, 1, 128, 128), 0.2)  # grey 153: above the knee
    grained = add_grain(bright, noise, 4.0)
    residual = ((grained - bright) * 127.5)[0, 0].numpy()
    assert residual.std() == pytest.approx(4.0, rel=0.05)
    assert abs(lag_correlation(residual, 0, 1)) < 0.05 and abs(lag_correlation(residual, 1, 0)) < 0.05
    # it is the last channel of the map as drawn
    assert np.allclose(residual, 4.0 * noise[0, -1].numpy(), atol=1e-5)
    # below the knee it fades in proportion to the grey level; black stays exactly black
    grey = GRAIN_KNEE / 2
    dim = torch.full((1, 1, 128, 128), grey / 127.5 - 1.0)
    assert ((add_grain(dim, noise, 4.0) - dim) * 127.5).std().item() == pytest.approx(2.0, rel=0.05)
    black = torch.full((1, 1, 128, 128), -1.0)
    assert torch.equal(add_grain(black, noise, 4.0), black)
    white = torch.ones(1, 1, 128, 128)
    assert add_grain(white, noise, 4.0).max().item() <= 1.0
    assert add_grain(bright, noise, 0.0) is bright and add_grain(bright, None, 4.0) is bright


def test_grain_leaves_the_network_alone_and_adds_fine_detail():
    base = GeneratorConfig(ngf=8, modulation="clade", noise_nc=6, fan=True, upsample="bilinear",
                           texture=True, beam=2.0, image_size=128)
    g = randomized_generator(base, seed=5, size=128).eval()
    grained = randomized_generator(dataclasses.replace(base, grain=6.0), seed=5, size=128).eval()
    labels = apical_labels(2, 128)
    alpha = torch.from_numpy(np.stack([fan_alpha(default_fan(), 128, 128)] * 2))[:, None].float()
    seg = fan_classes(one_hot(labels), alpha)
    noise = seeded_noise(6, (128, 128), [0, 1])
    with torch.no_grad():
        a, b = g(seg, noise=noise), grained(seg, noise=noise)
    assert torch.equal(add_grain(a, noise, 6.0), b)  # the same network, grain after it
    assert not torch.equal(a, b)


def test_grain_gives_a_smooth_picture_the_fine_detail_of_speckle():
    yy, xx = np.mgrid[:128, :128] / 128.0
    smooth = torch.from_numpy(0.4 * np.sin(6 * xx) * np.cos(4 * yy)).float()[None, None].repeat(4, 1, 1, 1)
    noise = seeded_noise(2, (128, 128), [0, 1, 2, 3])
    inside = np.ones((4, 128, 128), bool)

    def fine(images):
        return spectrum_summary(np.stack([to_uint8(x) for x in images.numpy()]), inside)["fine_detail"]

    plain, light, heavy = fine(smooth), fine(add_grain(smooth, noise, 2.5)), fine(add_grain(smooth, noise, 10.0))
    assert light > plain + 1.0 and heavy > light + 0.5  # more grain, more power at the top frequencies


def test_grain_is_checked_where_models_are_made_and_read(tmp_path):
    with pytest.raises(ModelFileError, match="grain must be between 0 and 20"):
        GeneratorConfig(noise_nc=4, grain=25.0)
    with pytest.raises(ModelFileError, match="grain needs a noise input"):
        GeneratorConfig(grain=2.0)
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, grain=2.5, image_size=64)
    path = tmp_path / "grain.safetensors"
    save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)), path)
    assert load_model_file(path).config.grain == 2.5
    # a seed is still one image, and the grain follows the seed
    synth = Synthesizer(path, device="cpu")
    labels = apical_labels(1, 64)[0]
    first, again, other = (synth.synthesize(labels, seed=s) for s in (7, 7, 8))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_a_model_file_asking_for_too_much_grain_is_refused(tmp_path):

    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, grain=2.5, image_size=64)
    path = tmp_path / "ok.safetensors"
    save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)), path)
    with pytest.raises(ModelFileError, match="grain"):
        load_model_file(with_architecture(path, tmp_path / "bad.safetensors", grain=40.0))
