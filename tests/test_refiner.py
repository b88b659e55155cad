"""The texture refiner (engine.nets.refiner), its place in model files and the Synthesizer, and
its training (engine.training.refiner_training, ``cardigan refine``)."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from engine.cli.main import main
from engine.errors import CardiganError, ModelFileError
from engine.fan import default_fan, fan_alpha, fan_mask
from engine.models import GeneratorModel, load_model_file, save_model_file
from engine.nets import GeneratorConfig
from engine.nets.refiner import (MAX_CHANGE, NEAR_FADE, Refiner, guide_coverage, refine_images,
                                 refiner_guides)
from engine.progress import Cancelled
from engine.synthesizer import Synthesizer
from engine.training.refiner_training import RefinerSettings, detail_energy, train_refiner
from nets_util import fan_model_file, randomized_generator

SIZE = 64


def wake(refiner: Refiner, seed: int = 0) -> Refiner:
    """``refiner`` with a random last convolution (a fresh one starts at zero)."""
    with torch.no_grad():
        torch.nn.init.normal_(refiner.out.weight, std=0.2, generator=torch.Generator().manual_seed(seed))
    return refiner


def fan_image(seed: int = 0) -> np.ndarray:
    """(1, 1, SIZE, SIZE) noise in [-1, 1], black (-1) outside the default fan."""
    rng = np.random.default_rng(seed)
    inside = fan_mask(default_fan(), SIZE, SIZE)
    return np.where(inside, rng.uniform(-0.8, 0.8, (SIZE, SIZE)), -1.0).astype(np.float32)[None, None]


def phantom_data(tmp_path):
    from engine.data.phantom import write_phantom

    data = tmp_path / "data"
    write_phantom(data, count=2, size=SIZE, seed=3)
    return data


def test_a_fresh_refiner_changes_nothing_and_a_trained_one_reads_21_pixels():
    image = fan_image()
    fans = [default_fan()]
    assert np.array_equal(refine_images(Refiner(8), image, fans, [0]), image)
    refiner = wake(Refiner(8))
    out = refine_images(refiner, image, fans, [0])
    assert np.abs(out - image).mean() > 1e-3
    assert np.abs(out - image).max() <= MAX_CHANGE + 1e-6
    with torch.no_grad():
        loud = Refiner(8)
        loud.out.bias.fill_(5.0)  # a correction far past the bound: held to it
    assert np.allclose(refine_images(loud, image, fans, [0]), np.minimum(image + MAX_CHANGE, 1.0), atol=1e-3)
    assert np.array_equal(out, refine_images(refiner, image, fans, [0]))  # one seed, one image
    assert not np.array_equal(out, refine_images(refiner, image, fans, [1]))
    poked = image.copy()
    poked[0, 0, 40, 32] = 0.9
    changed = np.argwhere(np.abs(refine_images(refiner, poked, fans, [0]) - out)[0, 0] > 0)
    assert changed.size and changed.min(axis=0).tolist() >= [30, 22] and changed.max(axis=0).tolist() <= [50, 42]
    guides = refiner_guides(fans, SIZE, SIZE)
    assert torch.allclose(guide_coverage(guides)[0, 0], torch.from_numpy(fan_alpha(default_fan(), SIZE, SIZE)), atol=1e-5)
    with pytest.raises(ValueError, match="width"):
        Refiner(2)


def test_model_files_carry_the_refiner_and_refuse_a_bad_one(tmp_path):
    plain = load_model_file(fan_model_file(tmp_path / "plain.safetensors", SIZE))
    assert plain.refiner is None  # files without one (every earlier file) load as they did
    refined = dataclasses.replace(plain, refiner=wake(Refiner(8)).eval())
    path = save_model_file(refined, tmp_path / "refined.safetensors")
    loaded = load_model_file(path)
    assert loaded.summary()["refiner_parameters"] == sum(p.numel() for p in refined.refiner.parameters())
    for name, tensor in refined.refiner.state_dict().items():
        assert torch.equal(loaded.refiner.state_dict()[name], tensor)

    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[20:44, 24:40] = 2
    labels[26:38, 28:36] = 1
    idle = dataclasses.replace(plain, refiner=Refiner(8).eval())  # one that changes nothing
    assert np.array_equal(Synthesizer(idle, device="cpu").synthesize(labels, seed=4),
                          Synthesizer(plain, device="cpu").synthesize(labels, seed=4))  # the fan's edge included
    with_refiner = Synthesizer(loaded, device="cpu").synthesize(labels, seed=4)
    without = Synthesizer(loaded, device="cpu", refiner=False).synthesize(labels, seed=4)
    assert np.array_equal(without, Synthesizer(plain, device="cpu").synthesize(labels, seed=4))
    assert np.abs(with_refiner - without).mean() > 1e-3
    outside = fan_alpha(default_fan(), SIZE, SIZE) == 0
    assert np.all(with_refiner[0][outside] == -1.0)  # still black outside the fan

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        document = json.loads(handle.metadata()["cardigan"])
    for record, message in (({"width": 2}, "between 4 and 64"), ({"width": "wide"}, "whole number"),
                            ({}, "no width"), ({"width": 8, "depth": 3}, "unknown fields")):
        bad = tmp_path / "bad.safetensors"
        save_file(tensors, str(bad), metadata={"cardigan": json.dumps({**document, "refiner": record})})
        with pytest.raises(ModelFileError, match=message) as error:
            load_model_file(bad)
        assert "\n" not in str(error.value)
    save_file({k: v for k, v in tensors.items() if not k.startswith("refiner.out")}, str(bad),
              metadata={"cardigan": json.dumps(document)})
    with pytest.raises(ModelFileError, match="missing"):
        load_model_file(bad)


def test_training_resumes_after_a_stop_as_if_never_stopped(tmp_path, one_thread):
    data = phantom_data(tmp_path)
    model = load_model_file(fan_model_file(tmp_path / "fan.safetensors", SIZE))
    settings = RefinerSettings(iters=4, batch_size=2, width=4, checkpoint_every=2)
    straight = train_refiner(model, data, tmp_path / "straight", settings)
    assert any(p.abs().sum() > 0 for p in straight.refiner.out.parameters())  # it learnt something

    trained = []

    def count(event):
        if event.stage == "training the refiner":
            trained.append(event.done)

    with pytest.raises(Cancelled):  # stopped after the third step, between two checkpoints
        train_refiner(model, data, tmp_path / "stopped", settings, progress=count,
                      should_stop=lambda: len(trained) == 3)
    state = torch.load(tmp_path / "stopped" / "state.pt", weights_only=True)
    assert state["iteration"] == 3
    assert "near_field" not in json.loads((tmp_path / "stopped" / "run.json").read_text())["settings"]  # as before the option
    resumed = train_refiner(model, data, tmp_path / "stopped", settings)
    for name, tensor in straight.refiner.state_dict().items():
        assert torch.allclose(resumed.refiner.state_dict()[name], tensor, atol=1e-6), name

    with pytest.raises(CardiganError, match="another model, dataset or settings"):
        train_refiner(model, data, tmp_path / "stopped", RefinerSettings(iters=5, batch_size=2, width=4, lambda_reg=3))
    longer = train_refiner(model, data, tmp_path / "stopped", RefinerSettings(iters=5, batch_size=2, width=4,
                                                                              checkpoint_every=2))
    assert torch.load(tmp_path / "stopped" / "state.pt", weights_only=True)["iteration"] == 5  # trained on
    assert not torch.equal(longer.refiner.out.weight, resumed.refiner.out.weight)
    (tmp_path / "stopped" / "state.pt").write_bytes(b"not a state")
    with pytest.raises(CardiganError, match="state"):
        train_refiner(model, data, tmp_path / "stopped", settings)


def test_a_near_field_refiner_leaves_the_fan_below_its_reach_as_drawn(tmp_path, capsys, one_thread):
    image, fans = fan_image(), [default_fan()]
    whole, near = wake(Refiner(8)), Refiner(8, near_field=0.3)
    near.load_state_dict(whole.state_dict())  # the same weights, confined
    depth = refiner_guides(fans, SIZE, SIZE)[0, 0].numpy()
    changed = np.abs(refine_images(near, image, fans, [0]) - image)[0, 0]
    moved = np.abs(refine_images(whole, image, fans, [0]) - image)[0, 0]
    below = fan_mask(default_fan(), SIZE, SIZE) & (depth >= 0.3 + NEAR_FADE)
    assert below.sum() > SIZE * SIZE // 4 and moved[below].mean() > 1e-3  # the same weights, unconfined, move it
    assert np.all(changed[below] == 0)  # confined, the fan below the reach keeps the generator's pixels
    within = depth < 0.3
    assert np.allclose(changed[within], moved[within])  # and the near field gets the whole change
    assert (changed[(depth > 0.3) & (depth < 0.3 + NEAR_FADE)] <= moved[(depth > 0.3) & (depth < 0.3 + NEAR_FADE)] + 1e-7).all()
    for bad in (0.0, 1.5, "far"):
        with pytest.raises(ValueError, match="near field"):
            Refiner(8, near_field=bad)

    plain = load_model_file(fan_model_file(tmp_path / "plain.safetensors", SIZE))
    path = save_model_file(dataclasses.replace(plain, refiner=near.eval()), tmp_path / "near.safetensors")
    assert load_model_file(path).refiner.near_field == pytest.approx(0.3)
    assert main(["info", "--model", str(path)]) == 0
    assert "near field: top 30% of the depth" in capsys.readouterr().out
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        document = json.loads(handle.metadata()["cardigan"])
    save_file(tensors, str(tmp_path / "bad.safetensors"),
              metadata={"cardigan": json.dumps({**document, "refiner": {"width": 8, "near_field": 0}})})
    with pytest.raises(ModelFileError, match="near_field"):
        load_model_file(tmp_path / "bad.safetensors")

    data = phantom_data(tmp_path)
    settings = RefinerSettings(iters=2, batch_size=2, width=4, near_field=0.3)
    trained = train_refiner(plain, data, tmp_path / "run", settings)
    assert trained.refiner.near_field == pytest.approx(0.3)
    with pytest.raises(CardiganError, match="another model, dataset or settings"):  # the reach is part of the run
        train_refiner(plain, data, tmp_path / "run", RefinerSettings(iters=3, batch_size=2, width=4))


def test_the_detail_term_sees_grain_and_not_brightness():
    flat = torch.full((1, 1, 16, 16), 0.3)
    grain = flat + 0.1 * torch.from_numpy(np.indices((16, 16)).sum(0) % 2 * 2 - 1.0).float()
    assert float(detail_energy(flat).abs().max()) < 1e-9
    assert float(detail_energy(flat + 0.2).abs().max()) < 1e-9  # a brighter flat image has no more detail
    assert float(detail_energy(grain)[..., 1:-1, 1:-1].min()) > 0.005
    with pytest.raises(CardiganError, match="weights must be >= 0"):
        RefinerSettings(lambda_detail=-1).check()


def test_cardigan_refine_writes_the_model_and_refuses_what_it_cannot_refine(tmp_path, capsys, one_thread):
    data = phantom_data(tmp_path)
    source = fan_model_file(tmp_path / "fan.safetensors", SIZE)
    out = tmp_path / "refined.safetensors"
    args = ["refine", "--model", str(source), "--data", str(data), "--out", str(out),
            "--run-dir", str(tmp_path / "run"), "--iters", "2", "--batch-size", "2", "--width", "4"]
    assert main(args) == 0
    assert "with a texture refiner" in capsys.readouterr().out
    model = load_model_file(out)
    assert model.refiner is not None and model.refiner.width == 4
    assert model.provenance["refiner"]["iterations"] == 2
    assert model.refiner.near_field is None  # the whole fan unless asked
    assert main(args[:-2] + ["--near-field", "0"]) == 2  # refused as the command line is read
    assert "near-field" in capsys.readouterr().err
    assert main(args) == 1
    assert "exists" in capsys.readouterr().err
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, image_size=SIZE)
    plain = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=SIZE)),
                            tmp_path / "nofan.safetensors")
    assert main(["refine", "--model", str(plain), "--data", str(data), "--out", str(tmp_path / "y.safetensors"),
                 "--run-dir", str(tmp_path / "run2")]) == 1
    error = capsys.readouterr().err
    assert "takes the fan" in error and error.count("\n") == 1
    assert main(["refine", "--model", str(source), "--data", str(tmp_path / "none"), "--out",
                 str(tmp_path / "z.safetensors"), "--run-dir", str(tmp_path / "run3")]) == 1
    assert "no such folder" in capsys.readouterr().err


def test_a_run_refused_for_its_data_can_be_given_the_right_data(tmp_path, capsys, one_thread):
    from engine.data.phantom import write_phantom

    wrong = tmp_path / "wrong"
    write_phantom(wrong, count=2, size=2 * SIZE, seed=3)
    source = fan_model_file(tmp_path / "fan.safetensors", SIZE)
    run = tmp_path / "run"
    args = ["refine", "--model", str(source), "--out", str(tmp_path / "refined.safetensors"), "--run-dir", str(run),
            "--iters", "1", "--batch-size", "2", "--width", "4"]
    assert main(args + ["--data", str(wrong)]) == 1
    assert "prepare the dataset at the model's size" in capsys.readouterr().err
    assert not run.exists()  # nothing claimed for a run that never started
    assert main(args + ["--data", str(phantom_data(tmp_path))]) == 0
    assert load_model_file(tmp_path / "refined.safetensors").refiner is not None


def test_a_model_from_a_run_past_its_iters_records_the_iterations_it_had(tmp_path, capsys, one_thread):
    data = phantom_data(tmp_path)
    source = fan_model_file(tmp_path / "fan.safetensors", SIZE)
    args = ["refine", "--model", str(source), "--data", str(data), "--run-dir", str(tmp_path / "run"),
            "--batch-size", "2", "--width", "4"]
    assert main(args + ["--out", str(tmp_path / "three.safetensors"), "--iters", "3"]) == 0
    capsys.readouterr()
    assert main(args + ["--out", str(tmp_path / "again.safetensors"), "--iters", "2"]) == 0
    printed = capsys.readouterr().out
    assert "already trained 3 iterations" in printed and "3 iterations)" in printed
    again = load_model_file(tmp_path / "again.safetensors")
    assert again.provenance["refiner"]["iterations"] == 3
    three = load_model_file(tmp_path / "three.safetensors")
    for name, tensor in three.refiner.state_dict().items():
        assert torch.equal(again.refiner.state_dict()[name], tensor), name


def test_ctrl_c_while_progress_is_shown_keeps_the_steps_since_the_last_checkpoint(tmp_path, one_thread):
    data = phantom_data(tmp_path)
    model = load_model_file(fan_model_file(tmp_path / "fan.safetensors", SIZE))

    def interrupt_at_the_third(event):
        if event.stage == "training the refiner" and event.done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_refiner(model, data, tmp_path / "run", RefinerSettings(iters=6, batch_size=2, width=4),
                      progress=interrupt_at_the_third)
    assert torch.load(tmp_path / "run" / "state.pt", weights_only=True)["iteration"] == 3


def test_ctrl_c_in_the_middle_of_a_step_saves_the_refiner_and_its_critic_at_one_iteration(
        tmp_path, capsys, monkeypatch, one_thread):
    import os
    import signal

    import engine.training.refiner_training as training

    data = phantom_data(tmp_path)
    source = fan_model_file(tmp_path / "fan.safetensors", SIZE)
    args = ["refine", "--model", str(source), "--data", str(data), "--out", str(tmp_path / "r.safetensors"),
            "--batch-size", "2", "--width", "4", "--iters", "4"]
    calls, energy = [], training.detail_energy

    def interrupted(images):  # the second step's, after its critic's update and before its refiner's
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return energy(images)

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(training, "detail_energy", interrupted)
    try:
        assert main(args + ["--run-dir", str(tmp_path / "stopped")]) == 130
    finally:
        signal.signal(signal.SIGINT, before)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    monkeypatch.setattr(training, "detail_energy", energy)
    assert "run the same command to resume" in capsys.readouterr().out
    stopped = torch.load(tmp_path / "stopped" / "state.pt", weights_only=True)
    assert stopped["iteration"] == 2  # the step under way was finished
    assert main(args[:-1] + ["2", "--run-dir", str(tmp_path / "clean")]) == 0
    clean = torch.load(tmp_path / "clean" / "state.pt", weights_only=True)
    for part in ("refiner", "critic"):
        for name, tensor in clean[part].items():
            assert torch.equal(stopped[part][name], tensor), (part, name)


def test_a_refiner_run_folder_must_be_new_empty_or_its_own(tmp_path):
    from engine.progress import never_stop, no_progress
    from engine.training.refiner_training import RefinerRun

    model = load_model_file(fan_model_file(tmp_path / "fan.safetensors", SIZE))
    data = tmp_path / "data"
    training_run = tmp_path / "run"
    (training_run / "checkpoints").mkdir(parents=True)
    (training_run / "config.json").write_text("{}")
    a_file = tmp_path / "notes.png"
    a_file.write_bytes(b"x")
    for run_dir, said in ((training_run, "holds other files and no refiner run"), (a_file, "is a file"),
                          (data / "refiner", "is inside the dataset")):
        with pytest.raises(CardiganError, match=said) as refused:
            RefinerRun(model, data, run_dir).load(no_progress, never_stop)
        assert "\n" not in str(refused.value)
    assert sorted(p.name for p in training_run.iterdir()) == ["checkpoints", "config.json"]
    assert not data.exists()
    dangling = tmp_path / "gone"
    dangling.symlink_to(tmp_path / "nowhere")  # a link to nothing was a bare 'File exists'
    with pytest.raises(CardiganError, match="^.*gone: is a link to nothing; give a new or empty --run-dir$"):
        RefinerRun(model, data, dangling).load(no_progress, never_stop)
    assert not (tmp_path / "nowhere").exists()


def test_a_refiner_run_folder_it_may_not_read_is_one_line(tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    from engine.training.refiner_training import check_refiner_folder

    run_dir = tmp_path / "locked"
    run_dir.mkdir()
    listing = Path.iterdir

    def refused(self):
        if self == run_dir:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", refused)  # root reads every folder: the refusal is made
    with pytest.raises(CardiganError, match=r"^.*locked: not writable \(permission denied\)$"):
        check_refiner_folder(run_dir, tmp_path / "data")
