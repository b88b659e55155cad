"""The noise input: one mask gives many images, steered by seeds and regions; any mask size."""

import numpy as np
import pytest
import torch

from engine.anatomy import template_mask
from engine.models import GeneratorModel, open_model
from engine.nets import GeneratorConfig
from engine.nets.noise import resample_region, sample_noise, seeded_noise
from engine.synthesizer import Synthesizer, to_uint8
from nets_util import randomized_generator


def noise_model(size=64, modulation="clade"):
    config = GeneratorConfig(ngf=8, modulation=modulation, norm="batch", noise_nc=8, image_size=size)
    return GeneratorModel(config=config, generator=randomized_generator(config, seed=3))


def test_noise_maps_are_seeded_and_hold_style_and_detail_channels():
    a = seeded_noise(8, (16, 24), [5, 6])
    assert a.shape == (2, 8, 16, 24)
    assert torch.equal(a, seeded_noise(8, (16, 24), [5, 6]))
    assert torch.equal(a[1:], seeded_noise(8, (16, 24), [6]))  # item i depends on its seed only
    style, detail = a[:, :4], a[:, 4:]
    assert torch.equal(style, style[:, :, :1, :1].expand_as(style))  # one value per image
    assert detail.std(dim=(2, 3)).min() > 0.5  # a fresh value per pixel
    assert sample_noise(8, 3, (4, 4)).shape == (3, 8, 4, 4)


def test_resample_region_replaces_only_the_region():
    old, fresh = seeded_noise(4, (8, 8), [1]), seeded_noise(4, (8, 8), [2])
    region = torch.zeros(8, 8, dtype=torch.bool)
    region[2:5, 3:7] = True
    mixed = resample_region(old, region, fresh)
    assert torch.equal(mixed[..., region], fresh[..., region])
    assert torch.equal(mixed[..., ~region], old[..., ~region])


@pytest.mark.parametrize("modulation", ["clade", "spade"])
def test_same_seed_same_image_other_seed_other_image(modulation):
    synth = Synthesizer(noise_model(modulation=modulation), device="cpu")
    assert synth.stochastic
    mask = template_mask("4CH", "ED", seed=1, size=64)
    a, b, c = synth.synthesize(mask, seed=7), synth.synthesize(mask, seed=7), synth.synthesize(mask, seed=8)
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.02
    batch = synth.synthesize(np.stack([mask, mask]), seed=7)  # item i uses seed 7 + i
    assert np.abs(batch[0] - a).max() < 1e-5 and np.abs(batch[1] - c).max() < 1e-5


def test_a_given_noise_map_is_what_the_model_draws_from():
    synth = Synthesizer(noise_model(), device="cpu")
    mask = template_mask("4CH", "ED", seed=1, size=64)
    given = seeded_noise(8, (64, 64), [11]).numpy()
    from_map = synth.synthesize(mask, seed=0, noise=given[0])  # one map's noise, no batch axis
    assert np.abs(from_map - synth.synthesize(mask, seed=11)).max() < 1e-5
    assert np.abs(from_map - synth.synthesize(mask, seed=0)).mean() > 0.02
    batch = synth.synthesize(np.stack([mask, mask]), seed=0, noise=np.concatenate([given, given]))
    assert np.abs(batch[1] - from_map).max() < 1e-4


def test_style_scale_narrows_the_style_channels_only_and_travels_with_the_model(tmp_path):
    import dataclasses

    from engine.errors import ModelFileError
    from engine.models import load_model_file, save_model_file

    model = noise_model()
    mask = template_mask("4CH", "ED", seed=1, size=64)
    plain = Synthesizer(noise_model(), device="cpu")  # the same weights at scale 1
    model.config = dataclasses.replace(model.config, style_scale=0.5)
    path = save_model_file(model, tmp_path / "m.safetensors")
    scaled = Synthesizer(load_model_file(path), device="cpu")
    assert scaled.model.config.style_scale == 0.5
    noise = seeded_noise(8, (64, 64), [4])
    noise[:, :4] *= 0.5  # the style half; the per-pixel detail is drawn as before
    expected = plain.synthesize(mask, seed=0, noise=noise.numpy())
    assert np.abs(scaled.synthesize(mask, seed=4) - expected).max() < 1e-4
    assert np.abs(scaled.synthesize(mask, seed=4) - plain.synthesize(mask, seed=4)).mean() > 1e-3
    for bad in (0.0, -1.0, 1.5):
        with pytest.raises(ModelFileError, match="style_scale"):
            dataclasses.replace(model.config, style_scale=bad)


def test_a_chosen_style_scale_overrides_the_models_in_synthesis_export_and_the_command_line(tmp_path, capsys):
    import dataclasses
    import json

    from engine.cli.main import main
    from engine.export import export_dataset
    from engine.maskio import write_label_png
    from engine.models import save_model_file

    model = noise_model()
    model.config = dataclasses.replace(model.config, style_scale=0.4)
    mask = template_mask("4CH", "ED", seed=1, size=64)
    own, full = Synthesizer(model, device="cpu"), Synthesizer(model, device="cpu", style_scale=1.0)
    assert own.style_scale == 0.4 and full.style_scale == 1.0
    plain = Synthesizer(noise_model(), device="cpu")  # the same weights, the file's scale 1
    assert np.abs(full.synthesize(mask, seed=5) - plain.synthesize(mask, seed=5)).max() < 1e-5
    assert np.abs(own.synthesize(mask, seed=5) - plain.synthesize(mask, seed=5)).mean() > 1e-3
    with pytest.raises(ValueError, match="style scale"):
        Synthesizer(model, device="cpu", style_scale=0.0)
    manifest = export_dataset(full, tmp_path / "export", random=1, size=64, style_scale=1.0)
    assert manifest["options"]["style_scale"] == 1.0
    path = save_model_file(model, tmp_path / "m.safetensors")
    write_label_png(tmp_path / "m.png", mask)
    for bad in ("0", "1.5", "nan", "x"):
        code = main(["synthesize", "--model", str(path), "--mask", str(tmp_path / "m.png"),
                     "--out", str(tmp_path / "x.png"), "--style-scale", bad])
        err = capsys.readouterr().err.strip()
        assert code != 0 and "--style-scale" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.png").exists()
    assert main(["synthesize", "--model", str(path), "--mask", str(tmp_path / "m.png"),
                 "--out", str(tmp_path / "x.npy"), "--style-scale", "1", "--seed", "5"]) == 0
    assert np.abs(np.load(tmp_path / "x.npy") - plain.synthesize(mask, seed=5)).max() < 1e-5
    assert json.loads((tmp_path / "export" / "manifest.json").read_text())["options"]["style_scale"] == 1.0
    # a model without style channels: said, and not recorded as applied
    capsys.readouterr()
    assert main(["synthesize", "--model", "simulator", "--mask", str(tmp_path / "m.png"),
                 "--out", str(tmp_path / "sim.png"), "--style-scale", "0.5"]) == 0
    assert "no style channels: --style-scale changes nothing" in capsys.readouterr().err
    said = []
    plain_manifest = export_dataset("simulator", tmp_path / "sim", random=1, size=64, style_scale=0.5,
                                    notify=said.append)
    assert plain_manifest["options"]["style_scale"] is None and any("no style channels" in s for s in said)


def test_region_resampling_changes_that_region_only():
    synth = Synthesizer(noise_model(size=128), device="cpu")
    mask = template_mask("4CH", "ED", seed=2, size=128)
    region = np.zeros_like(mask, bool)
    region[16:48, 16:48] = True
    base = synth.synthesize(mask, seed=4)[0]
    edited = synth.synthesize(mask, seed=4, region=region, region_seed=99)[0]
    change = np.abs(edited - base)
    far = np.ones_like(region)
    far[8:56, 8:56] = False  # more than 8 px from the region
    assert change[region].mean() > 0.05
    assert change[far].max() < 1e-4  # the base image, to float rounding
    again = synth.synthesize(mask, seed=4, region=region, region_seed=99)[0]
    assert np.array_equal(edited, again)


def test_simulator_region_resampling_is_exactly_local():
    synth = Synthesizer("simulator")
    mask = template_mask("2CH", "ES", seed=3, size=96)
    region = mask == 1
    base = synth.synthesize(mask, seed=1)[0]
    edited = synth.synthesize(mask, seed=1, region=region, region_seed=5)[0]
    assert np.array_equal(base[~region], edited[~region]) and not np.array_equal(base[region], edited[region])


@pytest.mark.parametrize("side", [128, 512])
def test_off_size_masks_are_resampled_to_the_native_size_and_back(side):
    model = noise_model(size=256)
    synth = Synthesizer(model, device="cpu")
    mask = template_mask("4CH", "ED", seed=4, size=side)
    out = synth.synthesize(mask, seed=3)
    assert out.shape == (1, side, side)
    # the model drew at 256: the same as giving it the mask resampled there, then resizing
    from engine.synthesizer import resize_images, resize_label_maps

    native = synth.synthesize(resize_label_maps(mask[None], (256, 256))[0], seed=3)
    assert np.abs(resize_images(native[None], (side, side))[0] - out).max() < 1e-5


def test_demo_model_draws_an_off_size_mask_as_anatomy():
    """A 128 x 128 mask into the bundled (256 px) model gives an echo, not a dark image: the
    myocardium is brighter than the cavity, as at the native size."""
    synth = Synthesizer("demo", device="cpu")
    means = {}
    for side in (128, 256):
        mask = template_mask("4CH", "ED", seed=5, size=side)
        image = to_uint8(synth.synthesize(mask, seed=1))
        assert image.shape == (side, side)
        assert image[mask == 2].mean() > image[mask == 1].mean() + 15, side
        means[side] = np.array([image[mask == c].mean() for c in range(4)])
    assert np.abs(means[128] - means[256]).max() < 15, means


def test_info_names_the_native_size(capsys):
    from engine.cli.main import main

    assert main(["info", "--model", "demo"]) == 0
    assert "native" in capsys.readouterr().out


def test_demo_is_stochastic_and_old_files_without_noise_still_load(tmp_path):
    from engine.models import save_model_file

    model = open_model("demo")
    assert isinstance(model, GeneratorModel) and model.stochastic  # one mask, many images
    assert "CC BY-NC-SA 4.0" in model.provenance["license"]  # the CAMUS terms travel with it
    synth = Synthesizer(model, device="cpu")
    mask = template_mask("2CH", "ES", seed=2, size=256)
    a, b, again = (synth.synthesize(mask, seed=s) for s in (1, 2, 1))
    assert np.array_equal(a, again) and np.abs(a - b).mean() > 0.02
    config = GeneratorConfig(ngf=4, image_size=64)  # no noise_nc field needed in the file
    plain = GeneratorModel(config=config, generator=randomized_generator(config))
    path = save_model_file(plain, tmp_path / "plain.safetensors")
    loaded = open_model(path)
    assert loaded.config.noise_nc == 0 and not loaded.stochastic


def test_the_model_file_the_synthesizer_and_export_refuse_a_style_scale_for_the_same_reason(tmp_path):
    import dataclasses

    from engine.errors import DataError, ModelFileError
    from engine.export import export_dataset
    from engine.nets.config import style_scale_problem

    model = noise_model()
    assert style_scale_problem(1.0) is None and style_scale_problem("0.25") is None
    for bad in (0.0, -0.5, 1.01, float("nan"), "x"):
        reason = style_scale_problem(bad)
        assert reason
        with pytest.raises(ModelFileError) as in_file:
            dataclasses.replace(model.config, style_scale=bad)
        with pytest.raises(ValueError) as in_synth:
            Synthesizer(model, device="cpu", style_scale=bad)
        with pytest.raises(DataError) as in_export:
            export_dataset(model, tmp_path / "out", random=1, size=64, style_scale=bad)
        assert all(reason in str(e.value) for e in (in_file, in_synth, in_export))
    assert not (tmp_path / "out").exists()
