"""A fan model's speckle shape (engine.nets.speckle_shape, engine.evaluation.speckle_fit, the
Synthesizer, ``cardigan tune``)."""

import shutil

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ModelFileError
from engine.evaluation.speckle_fit import fit_model_speckle_shape, fit_shape, speckle_figures
from engine.fan import default_fan, edge_distance, fan_alpha, fan_mask
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.speckle_shape import EDGE_FADE, apply_speckle_shape, shape_one
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file

SIZE = 64


def fan_model(tmp_path, name="fan.safetensors", **changes):
    return fan_model_file(tmp_path / name, SIZE, **changes)


def noise_images(count, size, seed=0):
    """(count, size, size) uint8 white noise around grey 128, black outside the default fan."""
    rng = np.random.default_rng(seed)
    inside = fan_mask(default_fan(), size, size)
    return (np.clip(128 + 30 * rng.standard_normal((count, size, size)), 0, 255) * inside).astype(np.uint8)


def test_an_empty_or_neutral_curve_leaves_the_image_as_it_was():
    fan = default_fan()
    image = (noise_images(1, 96)[0].astype(np.float32) / 127.5 - 1)
    batch = image[None, None]
    assert apply_speckle_shape(batch, [fan], ()) is batch
    assert apply_speckle_shape(batch, None, ((1.0, 1.0, 1.0),)) is batch
    neutral = shape_one(image, fan, ((0.0, 0.0, 1.0),))
    assert np.allclose(neutral, image, atol=1e-5)


def test_widths_follow_the_beam_and_the_gain_sets_the_contrast():
    fan, size = default_fan(), 128
    images = noise_images(3, size)
    fans = [fan] * 3

    def shaped(shape):
        out = [shape_one(i.astype(np.float32) / 127.5 - 1, fan, shape) for i in images]
        return np.stack([np.clip(np.rint((o + 1) * 127.5), 0, 255) for o in out]).astype(np.uint8)

    # contrast, lateral, axial per depth bin
    white = speckle_figures(images, fans, 3)
    along = speckle_figures(shaped(((1.0, 0.0, 1.0),)), fans, 3)
    across = speckle_figures(shaped(((0.0, 1.0, 1.0),)), fans, 3)
    assert np.all(np.abs(white[:, 1:]) < 0.15)  # white noise: no neighbour correlation
    assert np.all(along[:, 2] > white[:, 2] + 0.3) and np.all(along[:, 2] > along[:, 1] + 0.25)
    assert np.all(across[:, 1] > white[:, 1] + 0.3) and np.all(across[:, 1] > across[:, 2] + 0.25)
    # averaging makes the speckle fainter; the gain gives the contrast back
    louder = speckle_figures(shaped(((1.0, 0.0, 2.0),)), fans, 3)
    assert np.all(along[:, 0] < 0.8 * white[:, 0])
    # (less than twice: the gain fades out with the reshaping near the fan's edge)
    assert np.all(louder[:, 0] > 1.5 * along[:, 0]) and np.all(louder[:, 0] < 2.05 * along[:, 0])


def test_the_beam_directions_point_away_from_the_apex_and_along_the_arc():
    fan, size = default_fan(), 128
    ys, xs = np.mgrid[:size, :size] + 0.5
    axial, lateral = fan.beam_axes(ys, xs, size, size)
    centre = size // 2
    row = int(size * 0.6)
    assert axial[0, row, centre] > 0.99  # straight down below the apex
    assert abs(lateral[1, row, centre]) > 0.99  # across: sideways there
    # on the fan's right side the beam leans right, and the two stay apart
    right = int(size * 0.75)
    assert axial[1, row, right] > 0.2
    assert np.all(np.abs((axial * lateral).sum(0)[fan_mask(fan, size, size)]) < 0.9)


def test_the_shape_is_local_and_keeps_the_outside_black(tmp_path):
    fan, size = default_fan(), 96
    image = noise_images(1, size)[0].astype(np.float32) / 127.5 - 1
    shape = ((0.8, 0.5, 1.4), (0.2, 1.2, 1.0))
    before = shape_one(image, fan, shape)
    changed = image.copy()
    changed[70:74, 46:50] = 1.0
    after = shape_one(changed, fan, shape)
    differs = np.abs(after - before) > 1e-6
    ys, xs = np.nonzero(differs)
    assert differs.any() and ys.min() >= 70 - 12 and ys.max() <= 73 + 12 and xs.min() >= 46 - 12
    # the fan's rim keeps the network's texture; the reshaping fades in from EDGE_FADE[0] px
    distance = edge_distance(fan, size, size)
    rim = (distance >= 0) & (distance < EDGE_FADE[0])
    assert np.allclose(before[rim], image[rim], atol=1e-6)
    assert not np.allclose(before[distance > EDGE_FADE[1]], image[distance > EDGE_FADE[1]], atol=1e-3)
    # through a model: black outside the fan
    source = open_model(fan_model(tmp_path))
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[20:40, 24:40] = 1
    plain = Synthesizer(source, device="cpu").synthesize(labels, seed=3)
    shaped = Synthesizer(tune_model(source, speckle_shape=shape), device="cpu").synthesize(labels, seed=3)
    assert np.all(shaped[0][fan_alpha(default_fan(), SIZE, SIZE) == 0] == -1)
    inside = edge_distance(default_fan(), SIZE, SIZE) > 1
    assert not np.allclose(shaped[0][inside], plain[0][inside])


def test_fit_shape_finds_speckle_drawn_out_along_the_beam():
    fan, size = default_fan(), 128
    fans = [fan] * 4
    synthetic = noise_images(4, size, seed=1)
    real = np.empty_like(synthetic)
    for i, image in enumerate(noise_images(4, size, seed=2)):  # the "real" speckle: taller grain
        shaped = shape_one(image.astype(np.float32) / 127.5 - 1, fan, ((0.8, 0.0, 1.5),))
        real[i] = np.clip(np.rint((shaped + 1) * 127.5), 0, 255)
    fit = fit_shape(real, synthetic, fans, bins=2)
    for axial, lateral, gain in fit["shape"]:
        assert axial >= 0.6 and lateral <= 0.5 and 0.5 <= gain <= 2.0
    before = np.abs(np.array(fit["synthetic"])[:, 1:] - np.array(fit["real"])[:, 1:]).max()
    after = np.abs(np.array(fit["fitted"])[:, 1:] - np.array(fit["real"])[:, 1:]).max()
    assert after < before / 3


def test_model_files_keep_the_shape_and_refuse_bad_ones(tmp_path):
    shape = ((0.6, 0.0, 1.5), (0.0, 0.8, 1.1))
    path = fan_model(tmp_path, speckle_shape=shape)
    assert load_model_file(path).config.speckle_shape == shape
    with pytest.raises(ModelFileError, match="sigmas must lie between 0 and 3"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, speckle_shape=((5.0, 0.0, 1.0),))
    with pytest.raises(ModelFileError, match="gains must lie between"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, speckle_shape=((0.5, 0.0, 9.0),))
    with pytest.raises(ModelFileError, match="speckle_shape needs a fan model"):
        GeneratorConfig(ngf=4, speckle_shape=((0.5, 0.0, 1.0),))
    from engine.models.schema import ARCHITECTURE, check_fields
    with pytest.raises(ModelFileError, match="speckle_shape is .* triples"):
        check_fields({"speckle_shape": [[0.5, 0.0]]}, ARCHITECTURE, "architecture")
    with pytest.raises(ModelFileError, match="speckle_shape is .* triples"):
        check_fields({"speckle_shape": [[0.5, "x", 1.0]]}, ARCHITECTURE, "architecture")


def test_tune_sets_and_fits_the_speckle_shape(tmp_path, capsys, one_thread):
    from engine.data.phantom import write_phantom

    source = fan_model(tmp_path)
    out = tmp_path / "shaped.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(out), "--speckle-shape", "0.6,0,1.5;0,0.8,1.1"]) == 0
    assert "speckle shape 0.6,0,1.5;0,0.8,1.1" in capsys.readouterr().out
    assert load_model_file(out).config.speckle_shape == ((0.6, 0.0, 1.5), (0.0, 0.8, 1.1))
    assert main(["tune", "--model", str(out), "--out", str(out), "--overwrite", "--speckle-shape", "none"]) == 0
    assert load_model_file(out).config.speckle_shape == ()
    assert main(["tune", "--model", str(source), "--out", str(tmp_path / "x.safetensors"),
                 "--speckle-shape", "0.5,0.5"]) == 2
    assert "(axial sigma, lateral sigma, gain)" in capsys.readouterr().err

    data = tmp_path / "data"
    write_phantom(data, count=2, size=SIZE, seed=2)
    shutil.copytree(data / "train", data / "valid")  # the fit reads the valid split
    fitted = tmp_path / "fitted.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-speckle-shape", str(data)]) == 0
    assert "speckle shape fitted on" in capsys.readouterr().out
    expected = fit_model_speckle_shape(data, open_model(source), "valid")
    assert load_model_file(fitted).config.speckle_shape == expected["shape"]
    assert len(expected["shape"]) == 5
