import json
import shutil
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from engine.errors import ModelFileError
from engine.labels import one_hot
from engine.models import GeneratorModel, import_nvlabs, load_model_file, open_model, save_model_file
from engine.models.nvlabs import config_from_options, infer_config, parse_opt_txt
from engine.nets import GeneratorConfig, SPADEGenerator
from engine.nets.encoder import StyleEncoder
from engine.synthesizer import Synthesizer
from nets_util import blocky_labels, randomized_generator


def fixture_output(nvlabs_fixture):
    labels = np.array(Image.open(nvlabs_fixture / "label.png"))
    return labels, np.load(nvlabs_fixture / "expected_output.npy")


def test_nvlabs_fixture_is_reproduced(nvlabs_fixture):
    labels, expected = fixture_output(nvlabs_fixture)
    out = Synthesizer(nvlabs_fixture / "latest_net_G.pth", device="cpu").synthesize(labels)
    assert out.shape == (3, 256, 256) and out.dtype == np.float32
    assert np.abs(out - expected[0]).max() <= 1e-4


def test_architecture_inferred_without_opt_txt(nvlabs_fixture, tmp_path):
    shutil.copy(nvlabs_fixture / "latest_net_G.pth", tmp_path / "30_net_G.pth")
    model = import_nvlabs(tmp_path)  # a folder: newest epoch checkpoint
    assert model.provenance["architecture_from"].startswith("tensor shapes")
    from_opt = config_from_options(parse_opt_txt(nvlabs_fixture / "opt.txt"))
    assert model.config == from_opt
    labels, expected = fixture_output(nvlabs_fixture)
    out = Synthesizer(model, device="cpu").synthesize(labels)
    assert np.abs(out - expected[0]).max() <= 1e-4


def test_imported_model_saved_natively_gives_the_same_output(nvlabs_fixture, tmp_path):
    labels, expected = fixture_output(nvlabs_fixture)
    save_model_file(import_nvlabs(nvlabs_fixture / "latest_net_G.pth"), tmp_path / "m.safetensors")
    native = load_model_file(tmp_path / "m.safetensors")
    assert native.kind == "native" and native.config.output_nc == 3
    assert native.provenance["source"] == "NVlabs SPADE checkpoint"
    out = Synthesizer(native, device="cpu").synthesize(labels)
    assert np.abs(out - expected[0]).max() <= 1e-4


def write_opt_txt(path, **options):
    lines = [f"{k:>25}: {str(v):<30}" for k, v in options.items()]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("norm_g,upsampling,size,ngf", [
    ("spectralspadeinstance3x3", "normal", 64, 4),
    ("spectralspadebatch3x3", "more", 128, 6),
    ("spectralspadesyncbatch3x3", "most", 256, 4),
])
def test_other_nvlabs_option_combinations(tmp_path, norm_g, upsampling, size, ngf):
    from engine.models.nvlabs import parse_norm_g

    spectral, norm, kernel = parse_norm_g(norm_g)
    config = GeneratorConfig(ngf=ngf, output_nc=3, upsampling=upsampling, norm=norm,
                             spectral=spectral, kernel_size=kernel, image_size=size)
    g = randomized_generator(config, seed=3, size=size)
    torch.save(g.state_dict(), tmp_path / "latest_net_G.pth")
    write_opt_txt(tmp_path / "opt.txt", ngf=ngf, label_nc=3, contain_dontcare_label=True,
                  no_instance=True, norm_G=norm_g, num_upsampling_layers=upsampling,
                  crop_size=size, netG="spade", output_nc=3, use_vae=False)
    labels = blocky_labels(size, seed=5)
    with torch.no_grad():
        expected = g(one_hot(labels))[0].numpy()
    imported = import_nvlabs(tmp_path / "latest_net_G.pth")
    assert imported.config == config
    out = Synthesizer(imported, device="cpu").synthesize(labels)
    assert np.abs(out - expected).max() <= 1e-4
    save_model_file(imported, tmp_path / "native.safetensors")
    again = Synthesizer(tmp_path / "native.safetensors", device="cpu").synthesize(labels)
    assert np.array_equal(again, out)
    inferred = infer_config(g.state_dict(), image_size=size)
    assert (inferred.ngf, inferred.spectral, inferred.kernel_size) == (ngf, spectral, kernel)
    assert (inferred.upsampling == "most") == (upsampling == "most")


@pytest.mark.parametrize("aspect,use_vae", [(1.5, False), (4 / 3, True)])
def test_wide_models_draw_at_their_latent_grid_height(tmp_path, aspect, use_vae):
    """NVlabs SPADE draws latent rows (round(width / 2**n_up / aspect_ratio)) times 2**n_up
    pixels high, which need not be round(width / aspect_ratio): such a model still synthesizes."""
    config = GeneratorConfig(ngf=4, output_nc=3, image_size=64, aspect_ratio=aspect, use_vae=use_vae, z_dim=8)
    height = config.latent_size[0] * 32
    assert config.image_height == height and height % 32 == 0
    with pytest.raises(ModelFileError, match="latent grid"):  # so wide that no row is left
        GeneratorConfig(image_size=64, aspect_ratio=10.0)
    g = randomized_generator(config, seed=2, size=64) if not use_vae else SPADEGenerator(config).eval()
    torch.save(g.state_dict(), tmp_path / "latest_net_G.pth")
    write_opt_txt(tmp_path / "opt.txt", ngf=4, label_nc=3, contain_dontcare_label=True, no_instance=True,
                  crop_size=64, aspect_ratio=aspect, netG="spade", output_nc=3, use_vae=use_vae, z_dim=8)
    model = import_nvlabs(tmp_path)
    assert model.image_size == (height, 64)
    synth = Synthesizer(model, device="cpu")
    assert synth.synthesize(blocky_labels(64, seed=1)).shape == (3, 64, 64)  # resampled there and back
    labels = blocky_labels(64, seed=1)[:height]
    if not use_vae:
        with torch.no_grad():
            expected = g(one_hot(labels))[0].numpy()
        assert np.abs(synth.synthesize(labels) - expected).max() <= 1e-4


def test_native_round_trip_with_vae_encoder(tmp_path):
    config = GeneratorConfig(ngf=4, use_vae=True, z_dim=8, image_size=64)
    encoder = StyleEncoder(ngf=4, input_nc=1, image_size=64, z_dim=8)
    model = GeneratorModel(config, randomized_generator(config), encoder=encoder,
                           provenance={"preset": "test"})
    save_model_file(model, tmp_path / "vae.safetensors", provenance={"iterations": 12})
    loaded = load_model_file(tmp_path / "vae.safetensors")
    assert loaded.stochastic and loaded.encoder is not None
    assert loaded.provenance == {"preset": "test", "iterations": 12}
    for key, value in encoder.state_dict().items():
        assert torch.equal(loaded.encoder.state_dict()[key], value)
    labels = blocky_labels(64)
    a = Synthesizer(model, device="cpu").synthesize(labels, seed=1)
    b = Synthesizer(loaded, device="cpu").synthesize(labels, seed=1)
    c = Synthesizer(loaded, device="cpu").synthesize(labels, seed=2)
    assert np.array_equal(a, b) and np.abs(a - c).max() > 1e-4
    batch = Synthesizer(loaded, device="cpu").synthesize(np.stack([labels, labels]), seed=1)
    assert np.abs(batch[0] - b).max() < 1e-5 and np.abs(batch[1] - c).max() < 1e-5


def test_saved_model_has_ordinary_permissions(tmp_path):
    import os

    config = GeneratorConfig(ngf=4, image_size=64)
    path = save_model_file(GeneratorModel(config, randomized_generator(config)), tmp_path / "m.safetensors")
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask  # not owner-only like a temp file


def test_info_summary(tmp_path):
    config = GeneratorConfig(ngf=4, image_size=64)
    save_model_file(GeneratorModel(config, randomized_generator(config)), tmp_path / "m.safetensors",
                    provenance={"preset": "lite"})
    summary = open_model(tmp_path / "m.safetensors").summary()
    assert summary["parameters"] == sum(p.numel() for p in randomized_generator(config).parameters())
    assert summary["image_size"] == [64, 64] and summary["labels"][3]["name"] == "Left atrium"
    assert summary["provenance"]["preset"] == "lite" and summary["architecture"]["ngf"] == 4


class Boom:
    def __reduce__(self):
        import os
        return (os.system, ("touch pwned_marker",))


def test_malicious_pickle_is_refused_without_side_effect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"fc.weight": Boom()}, tmp_path / "latest_net_G.pth")
    with pytest.raises(ModelFileError, match="refused: the file holds Python objects"):
        open_model(tmp_path / "latest_net_G.pth")
    assert not (tmp_path / "pwned_marker").exists()


def test_a_plain_pickle_given_as_a_model_is_refused_in_one_line(tmp_path, capsys):
    import pickle

    from engine.cli.main import main

    with open(tmp_path / "latest_net_G.pth", "wb") as handle:  # pickle's own protocol, not torch.save's
        pickle.dump({"fc.weight": [1.0, 2.0]}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    with warnings.catch_warnings(record=True) as shown:  # what a command line would print on stderr
        warnings.simplefilter("always")
        assert main(["info", "--model", str(tmp_path / "latest_net_G.pth")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "latest_net_G.pth: " in err[0], err
    assert [str(w.message) for w in shown] == []


def test_damaged_and_foreign_files(tmp_path):
    config = GeneratorConfig(ngf=4, image_size=64)
    good = tmp_path / "m.safetensors"
    save_model_file(GeneratorModel(config, randomized_generator(config)), good)
    data = good.read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged|truncated"):
        open_model(tmp_path / "truncated.safetensors")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelFileError, match="not a model file"):
        open_model(tmp_path / "notes.txt")
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelFileError, match="not a cardiGAN model"):
        open_model(tmp_path / "other.safetensors")
    with pytest.raises(ModelFileError, match="no such model file"):
        open_model(tmp_path / "missing.safetensors")
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "foreign_net_G.pth")
    with pytest.raises(ModelFileError, match="does not look like a SPADE generator"):
        open_model(tmp_path / "foreign_net_G.pth")


def test_tampered_metadata_and_shapes(tmp_path):
    from safetensors.torch import save_file
    config = GeneratorConfig(ngf=4, image_size=64)
    g = randomized_generator(config)
    tensors = {f"generator.{k}": v for k, v in g.state_dict().items()}
    document = {"format": "cardigan-model", "schema": 1, "architecture": {**config.to_dict(), "ngf": 8}}
    save_file(tensors, str(tmp_path / "wrong.safetensors"), metadata={"cardigan": json.dumps(document)})
    with pytest.raises(ModelFileError, match="weights do not match the stored architecture .the file holds"):
        open_model(tmp_path / "wrong.safetensors")
    document = {"format": "cardigan-model", "schema": 99, "architecture": config.to_dict()}
    save_file(tensors, str(tmp_path / "future.safetensors"), metadata={"cardigan": json.dumps(document)})
    with pytest.raises(ModelFileError, match="newer than"):
        open_model(tmp_path / "future.safetensors")
    tensors["generator.fc.bias"] = torch.full_like(tensors["generator.fc.bias"], float("nan"))
    document["schema"] = 1
    save_file(tensors, str(tmp_path / "nan.safetensors"), metadata={"cardigan": json.dumps(document)})
    with pytest.raises(ModelFileError, match="NaN"):
        open_model(tmp_path / "nan.safetensors")


@pytest.fixture
def generators_built_on(monkeypatch) -> list[str]:
    """The device each generator a model file's or checkpoint's reader builds is built on."""
    from engine.models import modelfile, nvlabs

    built_on = []
    real = modelfile.SPADEGenerator

    def recording(*args, **kwargs):
        built_on.append(torch.get_default_device().type)
        return real(*args, **kwargs)

    monkeypatch.setattr(modelfile, "SPADEGenerator", recording)
    monkeypatch.setattr(nvlabs, "SPADEGenerator", recording)
    return built_on


def test_a_file_too_small_for_its_architecture_is_refused_before_that_network_is_built(tmp_path,
                                                                                       generators_built_on):
    """A description that claims a huge network over a small network's tensors (ngf 1024: some
    tens of GB) is refused from the file's header, the network built only on the meta device."""
    from safetensors.torch import save_file

    config = GeneratorConfig(ngf=4, image_size=64)
    tensors = {f"generator.{k}": v for k, v in randomized_generator(config).state_dict().items()}
    document = {"format": "cardigan-model", "schema": 1, "architecture": {**config.to_dict(), "ngf": 1024}}
    save_file(tensors, str(tmp_path / "huge.safetensors"), metadata={"cardigan": json.dumps(document)})
    with pytest.raises(ModelFileError, match="the architecture needs [0-9,]+\\)$"):
        open_model(tmp_path / "huge.safetensors")
    assert generators_built_on == ["meta"]


def test_an_nvlabs_checkpoint_too_small_for_its_opt_txt_is_refused_before_that_network_is_built(
        tmp_path, generators_built_on):
    """opt.txt is as untrusted as the checkpoint: an ngf of 1024 over an ngf-4 checkpoint is
    refused in one line, the network built only on the meta device."""
    config = GeneratorConfig(ngf=4, output_nc=3, image_size=64)
    torch.save(randomized_generator(config, seed=3, size=64).state_dict(), tmp_path / "latest_net_G.pth")
    write_opt_txt(tmp_path / "opt.txt", ngf=1024, label_nc=3, contain_dontcare_label=True, no_instance=True,
                  norm_G="spectralspadeinstance3x3", num_upsampling_layers="normal", crop_size=64, netG="spade",
                  output_nc=3, use_vae=False)
    with pytest.raises(ModelFileError, match="the checkpoint holds [0-9,]+ numbers, the architecture needs"):
        import_nvlabs(tmp_path / "latest_net_G.pth")
    assert generators_built_on == ["meta"]


def test_one_answer_to_what_a_model_is(tmp_path, bundle_demo, tiny_model):
    """The engine's registry says which names are models, what they are called and what the
    file dialogs offer; suffixes count in any case and include .pt."""
    from engine.models import registry

    for name in ["m.safetensors", "M.SAFETENSORS", "latest_net_G.pth", "30_net_G.PTH", "generator.pt",
                 "simulator", "demo"]:
        assert registry.accepts(name), name
    for name in ["mask.png", "notes.txt", "model", "safetensors"]:
        assert not registry.accepts(name), name
    assert all(f"*{suffix}" in registry.FILE_DIALOG_FILTER for suffix in registry.MODEL_SUFFIXES)

    assert registry.display_name("simulator") == "Simulator (built in)"
    assert registry.short_name("demo") == "Demo model" and registry.short_name("simulator") == "Simulator"
    assert registry.short_name("/runs/camus-lite/model.safetensors") == "camus-lite (run)"
    assert registry.display_name("/runs/camus-lite/model.safetensors") == "camus-lite (run)"
    assert registry.display_name("/models/mine.safetensors") == "mine.safetensors"
    assert registry.display_name("/exp/camus_spade/latest_net_G.pth") == "camus_spade (latest_net_G.pth)"

    bundle_demo(None)
    assert registry.builtin_models() == ["simulator"] and registry.default_model() == "simulator"
    with pytest.raises(ModelFileError, match="no demo model"):
        open_model("demo")
    bundle_demo(tiny_model)
    assert registry.builtin_models() == ["demo", "simulator"] and registry.default_model() == "demo"
    assert open_model("demo").name == "demo"
    assert registry.as_builtin(str(tiny_model)) == registry.as_builtin(tiny_model) == "demo"
    other = tmp_path / "other.safetensors"
    assert registry.as_builtin(other) == other
    assert registry.as_builtin("simulator") == "simulator"

    upper = tmp_path / "MINE.SAFETENSORS"
    shutil.copy(tiny_model, upper)
    assert open_model(upper).config == open_model(tiny_model).config


def test_only_the_bundled_file_itself_is_the_demo_model(tmp_path, bundle_demo, tiny_model, monkeypatch):
    """On a file system that numbers no file (inode 0 for every file, as some network shares
    give), any model file beside the bundled one was taken for the demo model."""
    import os

    from engine.models import registry

    bundled, copy = tmp_path / "demo.safetensors", tmp_path / "mine.safetensors"
    shutil.copy(tiny_model, bundled)
    shutil.copy(tiny_model, copy)
    bundle_demo(bundled)
    assert registry.as_builtin(copy) == copy  # a copy is a file of its own, which may be changed apart
    real = os.stat

    def unnumbered(path, *args, **kwargs):
        s = real(path, *args, **kwargs)
        return os.stat_result((s.st_mode, 0, s.st_dev, s.st_nlink, s.st_uid, s.st_gid, s.st_size,
                               int(s.st_atime), int(s.st_mtime), int(s.st_ctime)))

    monkeypatch.setattr(os, "stat", unnumbered)
    assert registry.as_builtin(copy) == copy
    assert registry.as_builtin(str(bundled)) == registry.as_builtin(tmp_path / "." / bundled.name) == "demo"


@pytest.mark.parametrize("label_nc", [3, 6])
def test_checkpoint_for_another_label_set_is_refused(tmp_path, label_nc):
    """A SPADE generator trained on other labels (more or fewer classes) is refused in one
    line instead of drawing from a cardiac map it was never trained on."""
    g = SPADEGenerator(GeneratorConfig(ngf=4, hidden=16, label_nc=label_nc, output_nc=3, image_size=64))
    torch.save(g.state_dict(), tmp_path / "latest_net_G.pth")
    model = import_nvlabs(tmp_path)  # info can still describe it
    assert model.config.label_nc == label_nc
    with pytest.raises(ModelFileError, match=f"takes {label_nc} label channels"):
        Synthesizer(model, device="cpu")


@pytest.mark.parametrize("name,state,what", [
    ("latest_net_D.pth", {"discriminator_0.model0.0.weight": torch.zeros(2, 2)}, "discriminator"),
    ("20_net_E.pth", {"fc_mu.weight": torch.zeros(2, 2)}, "style encoder"),
    ("netD.pth", {"discriminator_1.model1.0.bias": torch.zeros(2)}, "discriminator"),
])
def test_discriminator_or_encoder_checkpoint_points_to_the_generator(tmp_path, name, state, what):
    """SPADE saves net_D and net_E beside net_G: picking one of them is told so, with the
    generator's file name, not as a mismatch with opt.txt."""
    torch.save(state, tmp_path / name)
    write_opt_txt(tmp_path / "opt.txt", ngf=4, label_nc=3, contain_dontcare_label=True, crop_size=64)
    with pytest.raises(ModelFileError, match=f"SPADE's {what}, not its generator") as error:
        open_model(tmp_path / name)
    expected = name.replace("_net_D", "_net_G").replace("_net_E", "_net_G") if "_net_" in name else "*_net_G.pth"
    assert expected in str(error.value)


def test_info_prints_control_characters_of_a_model_file_as_escapes(tmp_path, capsys):
    """A model file's label names and provenance are untrusted: escape sequences in them
    cannot clear the terminal or overwrite what info printed."""
    from engine.cli.main import main

    config = GeneratorConfig(ngf=4, hidden=8, image_size=64)
    labels = [{"id": 0, "name": "bg\x1b]0;title\x07"}, {"id": 1, "name": "LV"},
              {"id": 2, "name": "Myo"}, {"id": 3, "name": "LA"}]
    model = GeneratorModel(config, SPADEGenerator(config).eval(), labels=labels,
                           provenance={"note": "ok\x1b[2J\rcardigan: fine"})
    save_model_file(model, tmp_path / "m.safetensors")
    assert main(["info", "--model", str(tmp_path / "m.safetensors")]) == 0
    out = capsys.readouterr().out
    assert not any(c in out for c in "\x1b\x07\r")
    assert "ok\\x1b[2J\\rcardigan: fine" in out and "bg\\x1b]0;title\\x07" in out


@pytest.mark.parametrize("legacy", [False, True])
def test_a_checkpoint_cut_short_is_named_damaged(tmp_path, legacy):
    path = tmp_path / "latest_net_G.pth"
    torch.save({"fc.weight": torch.zeros(64, 64)}, path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    for kept in (len(data) // 2, len(data) - 30):  # a copy interrupted halfway, or just before its end
        path.write_bytes(data[:kept])
        with pytest.raises(ModelFileError, match="damaged or cut short") as caught:
            open_model(path)
        assert "\n" not in str(caught.value)


def test_cpu_with_an_index_is_the_cpu():
    from engine.devices import resolve_device

    assert str(resolve_device("cpu:1")) == "cpu" and str(resolve_device("CPU")) == "cpu"


def test_info_never_splits_a_summarised_setting_over_two_lines():
    from engine.cli.info import format_summary
    from engine.labels import label_table

    kernel = tuple(tuple(1.0 if (i, j) == (3, 3) else 0.0 for j in range(7)) for i in range(7))
    for pad in range(60):  # each place the wrapping can fall
        summary = {"name": "m", "kind": "native", "parameters": 10, "image_size": [64, 64],
                   "output_channels": 1, "stochastic": True, "labels": label_table(),
                   "architecture": {"ngf": "x" * pad, "fine_filter": kernel, "shading": ((0.0,),) * 5,
                                    "ring_down": ((0.0,) * 80,) * 3}}
        text = format_summary(summary)
        for word in ("fine_filter=<7x7 kernel>", "shading=<4 directions>", "ring_down=<3 directions x 80 depths>"):
            assert word in text, (pad, text)
        assert "\x00" not in text and "\\x00" not in text


def test_a_training_run_folder_is_its_runs_model(tmp_path, tiny_model):
    """A run folder, or its checkpoints folder, opens as the run's model.safetensors (as an
    NVlabs checkpoint folder opens as its generator); a run that has no model yet is refused
    saying how it gets one, and a training state names the run's model."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    state = run / "checkpoints" / "state_00000002.pt"
    torch.save({"format": 1, "generator": {"fc.weight": torch.zeros(2)}, "iteration": 2}, state)
    (run / "config.json").write_text("{}")
    for given in (run, run / "checkpoints"):
        with pytest.raises(ModelFileError, match="training run.* without a model yet.*--resume"):
            open_model(given)
    shutil.copy(tiny_model, run / "model.safetensors")
    for given in (run, run / "checkpoints", str(run) + "/"):
        model = open_model(given)
        assert model.path == run / "model.safetensors" and model.name == "run"
    with pytest.raises(ModelFileError) as refused:
        open_model(state)
    message = str(refused.value)
    assert message.startswith(f"{state}: a training state (what train --resume continues from), not a model")
    assert message.endswith(f"model, {run / 'model.safetensors'}")


def test_a_folder_holding_a_runs_model_is_a_model_folder_as_the_run_finds_it(tmp_path, tiny_model):
    """A drop tells a model folder by the rule that finds a run's model (run_model_in)."""
    from engine.models.nvlabs import run_model_in
    from engine.models.registry import is_model_folder

    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(tiny_model, kept / "model.safetensors")  # a run's model kept without its states
    assert run_model_in(kept) == kept / "model.safetensors" and is_model_folder(kept)
    (tmp_path / "odd" / "model.safetensors").mkdir(parents=True)  # a folder under the model's name
    assert run_model_in(tmp_path / "odd") is None and not is_model_folder(tmp_path / "odd")


def test_every_command_taking_a_model_takes_a_run_folder(tmp_path, tiny_model, capsys):
    """``--model runs/x`` is the run's model for info, synthesize and export alike."""
    from engine.cli.main import main

    run = tmp_path / "lite_run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(tiny_model, run / "model.safetensors")
    mask = tmp_path / "mask.png"
    Image.fromarray(blocky_labels(64, seed=1)).save(mask)
    assert main(["info", "--model", str(run)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "model        lite_run (native)"
    assert main(["synthesize", "--model", str(run / "checkpoints"), "--mask", str(mask),
                 "--out", str(tmp_path / "x.png"), "--device", "cpu"]) == 0
    assert Image.open(tmp_path / "x.png").size == (64, 64)
    assert main(["export", "--model", str(run), "--random", "1", "--out", str(tmp_path / "pairs"),
                 "--device", "cpu"]) == 0
    manifest = json.loads((tmp_path / "pairs" / "manifest.json").read_text())
    assert "lite_run" in json.dumps(manifest)


def test_the_model_help_names_run_and_checkpoint_folders(capsys):
    from engine.cli.main import main

    with pytest.raises(SystemExit):
        main(["info", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "training run folder" in help_text and "checkpoint folder" in help_text


def test_a_runs_model_goes_by_the_runs_name(tmp_path, tiny_model, capsys):
    """Every run writes model.safetensors: info, synthesize and the export manifests name
    the run, not 'model'; any other model file goes by its own name."""
    from engine.cli.main import main

    (tmp_path / "lite_run").mkdir()
    shutil.copy(tiny_model, tmp_path / "lite_run" / "model.safetensors")
    assert open_model(tmp_path / "lite_run" / "model.safetensors").name == "lite_run"
    assert open_model(tiny_model).name == tiny_model.stem
    assert main(["info", "--model", str(tmp_path / "lite_run" / "model.safetensors")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "model        lite_run (native)"


def test_a_checkpoint_that_is_not_a_generator_is_refused_by_its_name(tmp_path, capsys):
    """Tensors that are neither SPADE's generator nor its other networks: the refusal names
    the file, as the model refusals around it do, in the command line too."""
    from engine.cli.main import main

    checkpoint = tmp_path / "foreign_net_G.pth"
    torch.save({"conv.weight": torch.zeros(3)}, checkpoint)
    with pytest.raises(ModelFileError) as refused:
        import_nvlabs(checkpoint)
    assert str(refused.value).startswith(f"{checkpoint}: the checkpoint does not look like a SPADE generator")
    mask = tmp_path / "mask.png"
    Image.fromarray(blocky_labels(64)).save(mask)
    assert main(["synthesize", "--model", str(checkpoint), "--mask", str(mask), "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(checkpoint) in err[0] and "does not look like a SPADE generator" in err[0]


def test_a_models_native_size_is_read_without_loading_it(tmp_path, tiny_model):
    """What a front end proposes as the size of generated masks before the model is loaded:
    a native file's description, a run folder's model, an NVlabs checkpoint's opt.txt."""
    from cardigan_app.testing import make_model_file
    from engine.models.registry import native_size_of

    assert native_size_of("simulator") is None
    assert native_size_of(tiny_model) == (64, 64)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    make_model_file(tmp_path / "run" / "model.safetensors", image_size=128)
    assert native_size_of(tmp_path / "run") == native_size_of(tmp_path / "run" / "checkpoints") == (128, 128)
    spade = tmp_path / "spade"
    spade.mkdir()
    torch.save({"fc.weight": torch.zeros(1)}, spade / "latest_net_G.pth")  # its weights are not read
    with pytest.raises(ModelFileError, match="no opt.txt beside it"):
        native_size_of(spade)
    write_opt_txt(spade / "opt.txt", ngf=4, label_nc=3, crop_size=96, aspect_ratio=1.5, netG="spade")
    assert native_size_of(spade) == native_size_of(spade / "latest_net_G.pth") == (64, 96)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="no model in this folder"):
        native_size_of(tmp_path / "empty")
