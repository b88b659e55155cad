"""``cardigan tune``: a model file's output settings (engine.models.tuning, engine.cli.tune)."""

import shutil

import numpy as np
import pytest
import torch

from engine.cli.main import main
from engine.errors import CardiganError, ModelFileError
from engine.evaluation.tone_fit import fit_model_tone
from engine.models import GeneratorModel, load_model_file, open_model, save_model_file
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from nets_util import randomized_generator


def small_model(tmp_path, name="small.safetensors", **changes):
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, fan=True, image_size=64, **changes)
    return save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)),
                           tmp_path / name)


def test_tune_writes_the_settings_and_keeps_the_weights(tmp_path, capsys):
    source = small_model(tmp_path)
    out = tmp_path / "tuned.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(out), "--tone", "0.9", "--grain", "2",
                 "--style-scale", "0.5"]) == 0
    assert "style scale 0.5, grain 2, tone 0.9" in capsys.readouterr().out
    before, after = load_model_file(source), load_model_file(out)
    assert (after.config.tone, after.config.grain, after.config.style_scale) == (0.9, 2.0, 0.5)
    for (name, a), (_, b) in zip(before.generator.state_dict().items(), after.generator.state_dict().items()):
        assert torch.equal(a, b), name
    # a setting not given is kept
    again = tmp_path / "again.safetensors"
    assert main(["tune", "--model", str(out), "--out", str(again), "--tone", "1.1"]) == 0
    kept = load_model_file(again).config
    assert (kept.tone, kept.grain, kept.style_scale) == (1.1, 2.0, 0.5)


def test_tune_refuses_what_it_cannot_do_and_writes_nothing(tmp_path, capsys):
    source = small_model(tmp_path)
    out = tmp_path / "tuned.safetensors"
    out.write_bytes(b"keep me")
    assert main(["tune", "--model", str(source), "--out", str(out), "--tone", "0.9"]) != 0
    assert (f"cardigan: error: --out {out}: already exists (use --overwrite to replace it, or choose another "
            "file)") in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["tune", "--model", str(source), "--out", str(out), "--tone", "0.9", "--overwrite"]) == 0
    assert load_model_file(out).config.tone == 0.9

    fresh = tmp_path / "fresh.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(fresh), "--tone", "3"]) == 2
    assert "between 0.5 and 2" in capsys.readouterr().err
    assert main(["tune", "--model", "simulator", "--out", str(fresh), "--tone", "0.9"]) != 0
    err = capsys.readouterr().err
    assert "not the simulator" in err and len(err.strip().splitlines()) == 1
    config = GeneratorConfig(ngf=4, modulation="clade", image_size=64)
    silent = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)),
                             tmp_path / "silent.safetensors")
    assert main(["tune", "--model", str(silent), "--out", str(fresh), "--grain", "2"]) != 0
    assert "noise input" in capsys.readouterr().err
    assert not fresh.exists()


def test_tune_model_checks_its_settings(tmp_path):
    model = open_model(small_model(tmp_path))
    with pytest.raises(CardiganError, match="not an output setting: ngf"):
        tune_model(model, ngf=8)
    with pytest.raises(ModelFileError, match="tone must be between"):
        tune_model(model, tone=0.1)
    tuned = tune_model(model, tone=0.8)
    assert tuned.generator.config.tone == 0.8  # the network reads it too
    assert model.config.tone == 1.0 and model.generator.config.tone == 1.0  # the source is left alone
    assert tuned.generator.conv_img.weight is model.generator.conv_img.weight  # weights shared


def test_fit_tone_writes_the_tone_the_fit_chooses(tmp_path, capsys, one_thread):
    from engine.data.phantom import write_phantom

    data = tmp_path / "data"
    write_phantom(data, count=2, size=64, seed=2)
    shutil.copytree(data / "train", data / "valid")  # the fit reads the valid split
    source = small_model(tmp_path, tone=0.7)
    out = tmp_path / "fitted.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(out), "--fit-tone", str(data)]) == 0
    printed = capsys.readouterr().out
    expected = fit_model_tone(data, open_model(source), "valid")
    assert load_model_file(out).config.tone == expected["best"]
    assert f"tone {expected['best']:g} fitted on {expected['images']} valid pairs" in printed
    worst = {t: max(abs(g) for g in gaps.values()) for t, gaps in expected["gaps"].items()}
    assert worst[expected["best"]] == min(worst.values())
    assert np.isfinite(worst[1.0])


def test_a_config_replaced_by_hand_draws_as_the_same_settings_through_tune_model(tmp_path):
    """The network applies the tone and grain from its own configuration and the synthesizer
    the rest from the model's: both must follow the model's, however it was changed."""
    import dataclasses

    from engine.anatomy import template_mask
    from engine.synthesizer import Synthesizer

    path = small_model(tmp_path)
    model = load_model_file(path)
    mask = template_mask("4CH", "ED", seed=1, size=64)
    plain = Synthesizer(model, device="cpu").synthesize(mask, seed=3)
    settings = dict(tone=0.7, grain=6.0, depth_gain=(0.8, 1.0, 1.2))
    tuned = Synthesizer(tune_model(model, **settings), device="cpu").synthesize(mask, seed=3)
    by_hand = load_model_file(path)
    network = by_hand.generator
    by_hand.config = dataclasses.replace(by_hand.config, **settings)
    assert by_hand.generator.config == by_hand.config and by_hand.generator.config.tone == 0.7
    assert network.config.tone == 1.0  # a copy runs with the new settings; the network it came from is as it was
    assert next(by_hand.generator.parameters()) is next(network.parameters())  # the same weights
    drawn = Synthesizer(by_hand, device="cpu").synthesize(mask, seed=3)
    assert np.abs(tuned - plain).mean() > 1e-3
    assert np.abs(drawn - tuned).max() < 1e-5
    # a configuration that no longer describes the weights is refused when it is set
    wider = load_model_file(path)
    with pytest.raises(ModelFileError, match="ngf"):
        wider.config = dataclasses.replace(wider.config, ngf=wider.config.ngf * 2)
    assert wider.generator.config == wider.config  # nothing changed
    with pytest.raises(ModelFileError, match="ngf"):
        dataclasses.replace(wider, config=dataclasses.replace(wider.config, ngf=wider.config.ngf * 2))


def test_a_beam_models_node_spacing_is_an_output_setting(tmp_path, capsys):
    from engine.synthesizer import Synthesizer
    from nets_util import fan_model_file

    labels = np.zeros((64, 64), np.uint8)
    labels[20:44, 24:40], labels[26:38, 28:36] = 2, 1
    source = open_model(fan_model_file(tmp_path / "beam.safetensors", 64, beam=2.0))
    closer = tune_model(source, beam=1.0)
    assert closer.config.beam == 1.0 and source.config.beam == 2.0
    a = Synthesizer(source, device="cpu").synthesize(labels, seed=3)
    b = Synthesizer(closer, device="cpu").synthesize(labels, seed=3)
    assert np.abs(a - b).mean() > 1e-4  # the arcs' noise is drawn anew
    out = tmp_path / "closer.safetensors"
    assert main(["tune", "--model", str(tmp_path / "beam.safetensors"), "--out", str(out), "--beam", "1"]) == 0
    assert "beam 1\u00b0" in capsys.readouterr().out and load_model_file(out).config.beam == 1.0
    assert np.allclose(Synthesizer(open_model(out), device="cpu").synthesize(labels, seed=3), b, atol=1e-5)
    with pytest.raises(CardiganError, match="not to 0"):
        tune_model(source, beam=0.0)
    white = open_model(fan_model_file(tmp_path / "white.safetensors", 64))
    with pytest.raises(CardiganError, match="trained with beam 0"):
        tune_model(white, beam=1.5)
    assert main(["tune", "--model", str(tmp_path / "beam.safetensors"), "--out", str(tmp_path / "x.safetensors"),
                 "--beam", "0.1"]) == 2


def test_a_style_scale_is_refused_for_a_model_without_noise(tmp_path, capsys):
    config = GeneratorConfig(ngf=4, modulation="clade", image_size=64)
    silent = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)),
                             tmp_path / "silent.safetensors")
    out = tmp_path / "scaled.safetensors"
    assert main(["tune", "--model", str(silent), "--out", str(out), "--style-scale", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "needs a model with a noise input" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert tune_model(open_model(silent), style_scale=1.0).config.style_scale == 1.0  # the default stays allowed
    noisy = tune_model(open_model(small_model(tmp_path)), style_scale=0.5)
    assert noisy.config.style_scale == 0.5


def test_a_pixel_scale_setting_is_not_fitted_on_images_of_another_size(tmp_path, capsys, one_thread):
    """The settings apply at the model's size; one measured in pixels on larger images would be
    applied at the wrong scale."""
    from engine.data.phantom import write_phantom

    data = tmp_path / "data"
    write_phantom(data, count=2, size=128, seed=2)
    shutil.copytree(data / "train", data / "valid", dirs_exist_ok=True)
    source = small_model(tmp_path)
    out = tmp_path / "fitted.safetensors"
    for option in ("--fit-tip-gain", "--fit-speckle-shape", "--fit-fine-filter", "--fit-pool-detail",
                   "--fit-ring-down", "--fit-border-soften"):
        assert main(["tune", "--model", str(source), "--out", str(out), option, str(data)]) == 1, option
        err = capsys.readouterr().err
        assert "images are 128x128; the model draws 64x64" in err and len(err.strip().splitlines()) == 1
        assert not out.exists()
    assert main(["tune", "--model", str(source), "--out", str(out), "--fit-tone", str(data)]) == 0  # any size


def test_the_provenance_records_what_was_tuned_and_how(tmp_path, capsys, one_thread):
    from engine.data.phantom import write_phantom

    data = tmp_path / "phantom"
    write_phantom(data, count=2, size=64, seed=2)
    shutil.copytree(data / "train", data / "valid", dirs_exist_ok=True)
    source = small_model(tmp_path)
    first, second = tmp_path / "first.safetensors", tmp_path / "second.safetensors"
    assert main(["tune", "--model", str(source), "--out", str(first), "--grain", "2", "--fit-tone", str(data),
                 "--depth-gain", "0.9,1.1"]) == 0
    tuned = load_model_file(first).provenance["tuned"]
    assert tuned["grain"] == "set" and tuned["depth_gain"] == "set"
    assert tuned["tone"].startswith("fitted on phantom (") and "valid pairs" in tuned["tone"]
    assert main(["tune", "--model", str(first), "--out", str(second), "--depth-gain", "none"]) == 0
    tuned = load_model_file(second).provenance["tuned"]
    assert tuned["depth_gain"] == "removed" and tuned["grain"] == "set" and "tone" in tuned  # earlier ones kept
    capsys.readouterr()
    assert main(["info", "--model", str(second)]) == 0
    assert '"depth_gain": "removed"' in capsys.readouterr().out


def test_tune_in_place_replaces_the_model_only_once_the_new_one_is_written(tmp_path, capsys, monkeypatch, one_thread):
    from engine.data.phantom import write_phantom

    source = small_model(tmp_path)
    original = source.read_bytes()
    wrong = tmp_path / "wrong"
    write_phantom(wrong, count=2, size=128, seed=2)
    shutil.copytree(wrong / "train", wrong / "valid", dirs_exist_ok=True)
    args = ["tune", "--model", str(source), "--out", str(source), "--overwrite"]
    assert main(args + ["--grain", "2", "--fit-tip-gain", str(wrong)]) == 1  # a fit refused after a setting
    assert source.read_bytes() == original

    import engine.models.modelfile as modelfile

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelfile, "save_file", full_disk)
    assert main(args + ["--grain", "2"]) == 1
    assert "space" in capsys.readouterr().err.lower()
    assert source.read_bytes() == original and sorted(p.name for p in tmp_path.glob(".*")) == []
    monkeypatch.undo()
    assert main(args + ["--grain", "2"]) == 0
    assert load_model_file(source).config.grain == 2.0


def test_every_fit_option_has_its_fitter_in_the_order_the_help_gives():
    import argparse
    import re

    from engine.cli import tune
    from engine.cli.tune_fits import FITS
    from engine.models.tuning import OUTPUT_SETTINGS

    parser = argparse.ArgumentParser()
    tune.add_arguments(parser)
    options = [a.dest for a in parser._actions if a.dest.startswith("fit_")]
    assert sorted(option for _, option, _ in FITS) == sorted(options)
    helped = [m.replace("-", "_") for m in re.findall(r"--(fit-[a-z-]+) DATA", tune.DESCRIPTION)]
    assert helped == [option for _, option, _ in FITS]  # the help's order is the fitting order
    assert all(setting in OUTPUT_SETTINGS for setting, _, _ in FITS)
