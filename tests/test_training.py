import errno
import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from engine.cli.main import main
from engine.errors import CardiganError
from engine.models import open_model
from engine.synthesizer import Synthesizer
from engine.training import state as state_module
from engine.training.config import PRESETS, resolve_config
from engine.training.events import (CheckpointSaved, Failed, Finished, Notice, ProgressUpdate, SamplePreview,
                                    Scalars, Started, TrainCallbacks)
from engine.training.loop import lr_factor, train
from engine.training.state import list_states, load_newest_state


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from engine.data.phantom import write_phantom

    out = tmp_path_factory.mktemp("phantom") / "data"
    write_phantom(out, count=10, size=64, seed=0)
    return out


def tiny(**overrides):
    values = dict(ngf=4, ndf=8, image_size=64, batch_size=2, iters=8, n_layers_d=3,
                  log_every=2, sample_every=4, checkpoint_every=4, keep_checkpoints=2,
                  device="cpu", workers=0, seed=0)
    values.update(overrides)
    return resolve_config(values.pop("preset", "lite"), **values)


class Recorder:
    def __init__(self, stop_after: int | None = None):
        self.events, self.calls, self.stop_after = [], 0, stop_after

    def on_event(self, event):
        self.events.append(event)

    def should_stop(self):
        self.calls += 1
        return self.stop_after is not None and self.calls >= self.stop_after

    def callbacks(self):
        return TrainCallbacks(self.on_event, self.should_stop)

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


def test_presets_resolve():
    seed = resolve_config("seed")
    assert (seed.ngf, seed.ndf, seed.batch_size, seed.niter, seed.niter_decay) == (48, 48, 2, 20, 10)
    assert (seed.beta1, seed.beta2, seed.norm_g, seed.spectral_g) == (0.0, 0.999, "syncbatch", True)
    assert (seed.num_d, seed.n_layers_d, seed.image_size, seed.modulation) == (2, 4, 256, "spade")
    assert resolve_config("lite").modulation == "clade"
    assert resolve_config("seed", ngf=16, lr=None).ngf == 16
    assert set(PRESETS) == {"seed", "lite", "quality"}
    with pytest.raises(CardiganError, match="unknown preset"):
        resolve_config("huge")
    with pytest.raises(CardiganError, match="batch size must be at least 1"):
        resolve_config("seed", batch_size=0)


def test_lr_decays_linearly_over_the_decay_epochs():
    assert lr_factor(0, 30, 20, 10) == 1.0
    assert lr_factor(20, 30, 20, 10) == 1.0
    assert lr_factor(25, 30, 20, 10) == pytest.approx(0.5)
    assert lr_factor(30, 30, 20, 10) == 0.0


def test_run_folder_contract(phantom, tmp_path):
    rec = Recorder()
    result = train(tiny(), phantom, tmp_path / "run", rec.callbacks())
    run = tmp_path / "run"
    assert result.iteration == 8 and not result.stopped_early
    assert json.loads((run / "config.json").read_text())["ngf"] == 4
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [s["iter"] for s in stats] == [2, 4, 6, 8]
    for record in stats:
        assert {"epoch", "Progress/img_per_s", "Loss/G_GAN", "Loss/G_feat", "Loss/D_real",
                "Loss/D_fake"} <= set(record)
        assert all(np.isfinite(v) for v in record.values() if isinstance(v, float))
    samples = sorted((run / "samples").glob("*.png"))
    assert [p.name for p in samples] == ["iter_00000000.png", "iter_00000004.png", "iter_00000008.png"]
    from PIL import Image
    grid = Image.open(samples[-1])
    assert grid.size[0] == 3 * 64 + 2 * 2 and grid.size[1] >= 64 * 2
    assert [p.name for p in list_states(run / "checkpoints")] == ["state_00000004.pt", "state_00000008.pt"]
    model = open_model(run / "model.safetensors")
    assert model.config.modulation == "clade" and model.provenance["iterations"] == 8
    from engine.training.run_folder import RunFolder

    folder = RunFolder(run)  # what the studio asks the engine instead of reading files itself
    summary = folder.summary()
    assert folder.holds_run() and summary.iterations == [4, 8] and summary.resume_from == 8
    assert summary.config["ngf"] == 4 and summary.describe().endswith("finished: all 8 iterations trained")
    assert folder.newest_sample() == (8, run / "samples" / "iter_00000008.png")
    empty = RunFolder(tmp_path / "empty")
    assert not empty.holds_run() and empty.summary().resume_from is None and empty.newest_sample() is None
    (run / "config.json").write_text("{ damaged")
    assert folder.summary().config is None and folder.summary().describe() == "no config.json"
    assert model.provenance["data_manifest_sha256"]
    assert Synthesizer(model, "cpu").synthesize(np.zeros((64, 64), np.uint8)).shape == (1, 64, 64)
    kinds = [type(e) for e in rec.events]
    assert kinds[0] is Started and kinds[-1] is Finished
    assert len(rec.of(Scalars)) == 4 and [e.iteration for e in rec.of(SamplePreview)] == [0, 4, 8]
    assert [e.iteration for e in rec.of(CheckpointSaved)] == [4, 8]


def test_previews_at_the_start_by_the_clock_and_when_stopped(phantom, tmp_path, monkeypatch):
    """A slow run shows a sample at once, then every PREVIEW_SECONDS (or sample_every
    iterations, whichever comes first), and one where it is stopped."""
    from engine.training import loop

    rec = Recorder(stop_after=3)  # stopped after the third iteration
    result = train(tiny(iters=50, sample_every=1000), phantom, tmp_path / "run", rec.callbacks())
    assert result.stopped_early and [e.iteration for e in rec.of(SamplePreview)] == [0, 3]
    assert (tmp_path / "run" / "samples" / "iter_00000003.png").is_file()

    monkeypatch.setattr(loop, "PREVIEW_SECONDS", 0.0)  # as if every iteration took the whole interval
    rec = Recorder(stop_after=4)
    train(tiny(iters=50, sample_every=1000), phantom, tmp_path / "clock", rec.callbacks())
    assert [e.iteration for e in rec.of(SamplePreview)] == [0, 1, 2, 3, 4]

    schedule = loop.PreviewSchedule(every=200, seconds=120)
    schedule.written(0, now=0.0)
    assert not schedule.due(1, now=119.0) and schedule.due(2, now=120.0) and schedule.due(200, now=5.0)
    schedule.written(200, now=5.0)
    assert not schedule.due(200, now=500.0)  # never twice for one iteration


def test_the_time_left_keeps_the_run_s_pace_through_a_checkpoint(phantom, tmp_path, monkeypatch):
    """One second an iteration, and a checkpoint that takes ten at iteration 10: the time left
    follows the run's pace, not the pace of the iterations since the last log."""
    from engine.training import loop

    remaining = loop.RemainingTime(total=100)
    clock = {1: 30.0}  # the first iteration builds and warms up the networks: not counted
    for iteration in range(2, 21):
        clock[iteration] = clock[iteration - 1] + (11.0 if iteration == 11 else 1.0)
    etas = {iteration: remaining(iteration, now) for iteration, now in clock.items()}
    assert math.isnan(etas[1])
    assert etas[10] == pytest.approx(90.0)
    assert etas[11] == pytest.approx(89 * 20 / 10)  # the stall counts, shared over the run so far
    assert etas[20] == pytest.approx(80 * 29 / 19)

    said = []

    class Spy(loop.RemainingTime):
        def __call__(self, iteration, now):
            said.append(super().__call__(iteration, now))
            return said[-1]

    monkeypatch.setattr(loop, "RemainingTime", Spy)
    rec = Recorder(stop_after=3)
    train(tiny(iters=50, sample_every=1000), phantom, tmp_path / "run", rec.callbacks())
    reported = [e.eta_s for e in rec.of(ProgressUpdate)]
    assert reported and len(reported) == len(said)  # the progress reports say this estimate
    assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(reported, said))


def weights(run):
    _, state = load_newest_state(run / "checkpoints")
    return state


def test_resume_is_identical_to_a_straight_run(phantom, tmp_path):
    config = tiny(preset="seed", ngf=4, use_vae=True, z_dim=8, checkpoint_every=100)
    train(config, phantom, tmp_path / "straight", TrainCallbacks())
    half = Recorder(stop_after=4)
    first = train(config, phantom, tmp_path / "resumed", half.callbacks())
    assert first.stopped_early and first.iteration == 4
    second = Recorder()
    train(config, phantom, tmp_path / "resumed", second.callbacks(), resume=True)
    assert any("resuming from iteration 4" in e.message for e in second.of(Notice))
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert a["iteration"] == b["iteration"] == 8
    for part in ("generator", "encoder", "discriminator"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key}"
    assert a["opt_g"]["state"][0]["exp_avg"].equal(b["opt_g"]["state"][0]["exp_avg"])
    stats = [json.loads(x)["iter"] for x in (tmp_path / "resumed" / "stats.jsonl").read_text().splitlines()]
    assert stats == [2, 4, 6, 8]


def test_interrupted_checkpoint_write_keeps_the_previous_state(phantom, tmp_path, monkeypatch):
    run = tmp_path / "run"
    train(tiny(iters=4, checkpoint_every=2), phantom, run, TrainCallbacks())
    before = [p.name for p in list_states(run / "checkpoints")]

    def dying_save(obj, path):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(state_module.torch, "save", dying_save)
    with pytest.raises(CardiganError, match="no space left on the device"):
        train(tiny(iters=6, checkpoint_every=2), phantom, run, TrainCallbacks(), resume=True)
    monkeypatch.undo()
    assert [p.name for p in list_states(run / "checkpoints")] == before
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]
    path, state = load_newest_state(run / "checkpoints")
    assert state["iteration"] == 4
    result = train(tiny(iters=6, checkpoint_every=2), phantom, run, TrainCallbacks(), resume=True)
    assert result.iteration == 6


def test_a_full_disk_while_logging_is_one_line_and_leaves_the_folder_startable(phantom, tmp_path, monkeypatch):
    from engine.training import run_folder

    def full_disk(path, mode="r", *args, **kwargs):
        if "a" in mode:
            raise OSError(errno.ENOSPC, "No space left on device")
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(run_folder, "open", full_disk, raising=False)
    rec, run = Recorder(), tmp_path / "run"
    with pytest.raises(CardiganError, match="no space left on the device while writing .*stats.jsonl"):
        train(tiny(iters=4), phantom, run, rec.callbacks())
    assert [e.message for e in rec.of(Failed)] == [f"no space left on the device while writing {run / 'stats.jsonl'}"
                                                   "; nothing was saved, so the run starts again"]
    assert not run.exists()  # nothing saved yet: the folder it made is gone, a new run may start there


# A training that SIGKILLs itself halfway through writing its third state (no timing involved)
KILLED_MID_WRITE = """
import os, signal, sys
from engine.training import state
saves = [0]
real_save = state.torch.save

def save_then_die(obj, path, *args, **kwargs):
    saves[0] += 1
    if saves[0] == 3:
        with open(path, "wb") as handle:
            handle.write(b"PK\\x03\\x04 the first bytes of a state")
            handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return real_save(obj, path, *args, **kwargs)

state.torch.save = save_then_die
from engine.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_kill_9_leaves_the_run_resumable(phantom, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-c", KILLED_MID_WRITE, "train", "--data", str(phantom), "--run", str(run),
               "--preset", "lite", "--ngf", "4", "--ndf", "8", "--image-size", "64",
               "--n-layers-d", "3", "--iters", "100000", "--checkpoint-every", "1",
               "--device", "cpu", "--keep-checkpoints", "3"]
    killed = subprocess.run(command, capture_output=True, text=True, timeout=280)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p.name for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]  # the half-written state
    path, state = load_newest_state(run / "checkpoints")
    done = state["iteration"]
    assert done == 2
    assert main(["train", "--run", str(run), "--resume", "--iters", str(done + 2)]) == 0  # data from config.json
    assert load_newest_state(run / "checkpoints")[1]["iteration"] == done + 2


@pytest.mark.slow
def test_learning_happens(phantom, tmp_path, one_thread):
    """After 300 iterations blood pools come out darker than the myocardium, as in the data.

    A tiny GAN's path depends on float rounding, so the thread count is fixed; over seeds 0-3
    and one or two threads the learnt contrast ran 0.18-0.39 (the data's: 0.27), where 150
    iterations ran 0.03-0.36."""
    from engine.data.dataset import PairedDataset

    config = tiny(ngf=4, ndf=16, batch_size=4, iters=300, lr=0.002, log_every=50,
                  sample_every=1000, checkpoint_every=1000)
    from engine.training.networks import build_networks
    from engine.models import GeneratorModel
    torch.manual_seed(config.seed)  # the weights train() starts from, whatever ran before
    untrained = build_networks(config)[0].generator.eval()
    train(config, phantom, tmp_path / "run", TrainCallbacks())
    held_out = PairedDataset(phantom, "test")
    masks = np.stack([held_out[i]["label_ids"].numpy() for i in range(len(held_out))])

    def contrast(model):
        out = Synthesizer(model, "cpu").synthesize(masks)[:, 0]
        blood = out[(masks == 1) | (masks == 3)].mean()
        return out[masks == 2].mean() - blood

    trained = contrast(tmp_path / "run" / "model.safetensors")
    before = contrast(GeneratorModel(untrained.config, untrained))
    pairs = [held_out.load_pair(i) for i in range(len(held_out))]
    data = np.mean([(im[lab == 2].mean() - im[(lab == 1) | (lab == 3)].mean()) / 127.5 for im, lab in pairs])
    # the simulated data's own wall-pool contrast (about 0.25, as in real echoes) is learnt
    assert trained > 0.5 * data and trained > before + 0.1, (trained, before, data)


@pytest.mark.slow
def test_two_process_ddp_run(phantom, tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "engine", "train", "--data", str(phantom), "--run-dir", str(run), "--preset", "seed",
         "--ngf", "4", "--ndf", "8", "--image-size", "64", "--n-layers-d", "3", "--iters", "4",
         "--log-every", "2", "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the launcher and both workers
            process.wait()
    result = subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
    assert result.returncode == 0, result.stderr[-2000:]
    stats = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert [s["iter"] for s in stats] == [2, 4]  # written once, by rank 0 only
    assert all(s["Progress/world_size"] == 2 for s in stats)
    assert open_model(run / "model.safetensors").provenance["iterations"] == 4


def test_ctrl_c_to_the_whole_group_saves_the_state_with_loader_workers(phantom, tmp_path):
    """Ctrl-C reaches the training process and its loader workers; ``timeout`` sends it to the
    process and to its group, so it arrives twice at once: the run still stops after the step,
    saves and resumes."""
    import time

    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "engine", "train", "--data", str(phantom), "--run", str(run), "--preset",
            "lite", "--ngf", "4", "--ndf", "8", "--image-size", "64", "--n-layers-d", "3", "--iters", "100000",
            "--log-every", "1", "--checkpoint-every", "100000", "--sample-every", "100000", "--workers", "2",
            "--device", "cpu", "--threads", "1"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (run / "stats.jsonl").is_file() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert (run / "stats.jsonl").is_file(), process.stderr.read() if process.poll() is not None else "no start"
        os.kill(process.pid, signal.SIGINT)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # the shell's code for Ctrl-C: a script that runs trainings in a row stops here
    assert process.returncode == 130, stderr[-2000:]
    assert "saved state at iteration" in stderr and "interrupted" not in stderr.replace("Ctrl-C", "")
    assert stderr.count("stopping after this iteration") == 1  # said once, by the training process
    states = list_states(run / "checkpoints")
    assert len(states) == 1
    resumed = subprocess.run(args[:args.index("--iters") + 1] + [str(state_module.load_state(states[0])["iteration"] + 1)]
                             + args[args.index("--iters") + 2:] + ["--resume"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from iteration" in resumed.stderr


def test_a_time_limit_stops_with_its_own_exit_code_and_the_run_resumes(phantom, tmp_path, capsys):
    """--time-limit saves the state and ends with 75 (a script tells an unfinished run from a
    finished one and from Ctrl-C); the same command with --resume goes on."""
    run = tmp_path / "run"
    args = ["train", "--data", str(phantom), "--run", str(run), "--preset", "lite", "--ngf", "4", "--ndf", "8",
            "--image-size", "64", "--n-layers-d", "3", "--log-every", "1", "--sample-every", "100000",
            "--checkpoint-every", "100000", "--device", "cpu", "--workers", "0", "--threads", "1"]
    assert main(args + ["--iters", "100000", "--time-limit", "1s"]) == 75
    said = capsys.readouterr().err
    assert f"within the time limit of 1s; continue with --resume: cardigan train --run {run} --resume\n" in said
    stopped = load_newest_state(run / "checkpoints")[1]["iteration"]
    assert 1 <= stopped < 100000
    assert main(args + ["--iters", str(stopped + 2), "--resume", "--time-limit", "1h"]) == 0
    assert load_newest_state(run / "checkpoints")[1]["iteration"] == stopped + 2


@pytest.mark.parametrize("case", ["missing_data", "no_device", "existing_run", "nothing_to_resume",
                                  "nothing_to_resume_no_data_flag", "oom", "no_data_flag", "a_split_as_data",
                                  "init_from_not_a_model"])
def test_training_errors_are_one_line(case, phantom, tmp_path, capsys, monkeypatch):
    args = ["train", "--data", str(phantom), "--run", str(tmp_path / "run"), "--preset", "lite",
            "--ngf", "4", "--ndf", "8", "--image-size", "64", "--n-layers-d", "3", "--iters", "2",
            "--device", "cpu"]
    if case == "missing_data":
        args[2], pattern = str(tmp_path / "nowhere"), "no such data folder"
    elif case == "no_device":
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
        args[-1], pattern = "cuda", "not available"
    elif case == "existing_run":
        assert main(args) == 0
        capsys.readouterr()
        pattern = "already holds a training run"
    elif case == "no_data_flag":
        del args[1:3]
        pattern = "--data is required"
    elif case == "nothing_to_resume":
        args.append("--resume")
        pattern = "no such folder, so no run to resume"
    elif case == "nothing_to_resume_no_data_flag":  # the README's resume, on a mistyped --run
        del args[1:3]
        args.append("--resume")
        pattern = "no such folder, so no run to resume"
    elif case == "a_split_as_data":
        args[2], pattern = str(phantom / "train"), "not a prepared dataset"
    elif case == "init_from_not_a_model":
        picture = tmp_path / "picture.png"
        picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
        args += ["--init-from", str(picture)]
        pattern = "not a model file"
    else:
        from engine.training.trainer import Trainer

        def out_of_memory(self, seg, real, fan=None):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

        monkeypatch.setattr(Trainer, "generator_step", out_of_memory)
        pattern = "smaller --batch-size or --preset lite"
    assert main(args) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cardigan")]
    assert len(err) == 1 and pattern in err[0], err
    if case not in ("existing_run", "oom"):  # refused before it began: no run folder left behind
        assert not (tmp_path / "run").exists()


def test_two_threads_failing_at_once_send_one_failed_event(monkeypatch):
    """Whether a Failed event was sent is read and set under the stream's lock: two failures
    at once (each past the check before either had sent) gave two Failed lines."""
    import io
    import threading

    from engine.cli.train_view import JsonEventStream
    from engine.training.events import Failed

    both_made = threading.Barrier(2, timeout=2.0)  # each thread's event is made before either is sent
    made = Failed.of

    def made_together(message):
        try:
            both_made.wait()
        except threading.BrokenBarrierError:
            pass
        return made(message)

    monkeypatch.setattr(Failed, "of", made_together)
    out = io.StringIO()
    stream = JsonEventStream(out)
    threads = [threading.Thread(target=stream.fail, args=(f"problem {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 1 and lines[0]["type"] == "Failed" and stream.failed, lines
    stream(Failed("sent by the training", ()))  # the training's own Failed events are all sent
    stream.fail("after it")
    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()][1:] == ["sent by the training"]


@pytest.mark.parametrize("case", ["existing_run", "oom", "before_the_training"])
def test_an_app_is_sent_one_failed_event_with_the_advice_it_can_reword(case, phantom, tmp_path, capsys,
                                                                      monkeypatch):
    """With --events-jsonl a problem that ends the command is one Failed event, whether the
    training found it or the command before it; its advice goes with it, by key, so the app
    says it in its own words, while stderr keeps the command line's."""
    import io

    from engine.errors import Advice, message_parts, option
    from engine.training.config import LITE_PRESET
    from engine.training.events import Failed, event_from_dict, event_to_dict
    from engine.training.run_folder import REPLACE_RUN, RESUME_RUN

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the stop watcher reads the app's pipe
    args = ["train", "--data", str(phantom), "--run", str(tmp_path / "run"), "--preset", "lite",
            "--ngf", "4", "--ndf", "8", "--image-size", "64", "--n-layers-d", "3", "--iters", "2",
            "--device", "cpu"]
    if case == "existing_run":
        assert main(args) == 0
        capsys.readouterr()
        words = {Advice(RESUME_RUN.key, ""): "resume", Advice(REPLACE_RUN.key, ""): "replace"}
        said = "already holds a training run: resume, replace or choose a new run folder"
    elif case == "oom":
        from engine.training.trainer import Trainer

        def out_of_memory(self, seg, real, fan=None):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

        monkeypatch.setattr(Trainer, "generator_step", out_of_memory)
        words = {option("batch_size"): "batch size", LITE_PRESET: "the lite preset"}
        said = "try a smaller batch size or the lite preset; nothing was saved"
    else:
        args += ["--threads", "0"]
        words, said = {}, "--threads must be at least 1"
    assert main(args + ["--events-jsonl"]) == 1
    out, err = capsys.readouterr()
    failed = [event for event in map(event_from_dict, map(json.loads, out.splitlines())) if isinstance(event, Failed)]
    assert len(failed) == 1, failed
    assert said in failed[0].said(words) and err.strip() == f"cardigan: error: {failed[0].message}"
    if case != "before_the_training":
        assert "--" in failed[0].message and "--" not in failed[0].said(words)
        assert event_from_dict(json.loads(json.dumps(event_to_dict(failed[0])))) == failed[0]
    assert Failed.of("plain").parts == tuple(message_parts("plain")) == ("plain",)


def test_a_refused_run_keeps_a_folder_it_did_not_make(phantom, tmp_path):
    folder = tmp_path / "mine"
    (folder / "samples").mkdir(parents=True)
    (folder / "notes.txt").write_text("keep")
    assert main(["train", "--data", str(phantom / "train"), "--run", str(folder), "--iters", "1"]) == 1
    assert (folder / "notes.txt").read_text() == "keep" and (folder / "samples").is_dir()
    from engine.training.run_folder import RunFolder

    assert not RunFolder(folder).remove_if_unused()  # not only a run's skeleton
    (folder / "notes.txt").unlink()
    (folder / "samples" / "iter_10.png").write_bytes(b"")
    assert not RunFolder(folder).remove_if_unused() and folder.is_dir()


def test_dry_run_prints_the_resolved_config(tmp_path, capsys):
    (tmp_path / "data" / "train" / "img").mkdir(parents=True)  # beside the run: a run inside its data is
    (tmp_path / "data" / "train" / "label").mkdir()  # refused, the dry run too
    assert main(["train", "--data", str(tmp_path / "data"), "--run", str(tmp_path / "r"), "--preset", "lite",
                 "--batch-size", "8", "--no-ttur", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["batch_size"] == 8 and config["ttur"] is False and config["modulation"] == "clade"
    assert not (tmp_path / "r").exists()


def test_vgg_loss_from_a_local_torchvision_file(phantom, tmp_path):
    from engine.training.losses import vgg19_features

    features = vgg19_features()
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # present in torchvision files, ignored
    torch.save(state, tmp_path / "vgg19.pth")
    train(tiny(iters=2, vgg_weights=str(tmp_path / "vgg19.pth")), phantom, tmp_path / "run",
          TrainCallbacks())
    record = json.loads((tmp_path / "run" / "stats.jsonl").read_text().splitlines()[-1])
    assert record["Loss/G_VGG"] > 0
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(CardiganError, match="not VGG19 weights"):
        train(tiny(iters=2, vgg_weights=str(tmp_path / "bad.pth")), phantom, tmp_path / "run2",
              TrainCallbacks())


def test_bf16_autocast_runs_on_the_cpu(phantom, tmp_path):
    result = train(tiny(iters=2, amp="bf16"), phantom, tmp_path / "run", TrainCallbacks())
    assert result.iteration == 2
    record = json.loads((tmp_path / "run" / "stats.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(record["Loss/G_GAN"]) and np.isfinite(record["Loss/D_fake"])


def test_json_event_stream_and_stop_on_stdin(phantom, tmp_path):
    from engine.training.events import event_from_dict

    command = [sys.executable, "-m", "engine", "train", "--data", str(phantom), "--run",
               str(tmp_path / "run"), "--preset", "lite", "--ngf", "4", "--ndf", "8",
               "--image-size", "64", "--n-layers-d", "3", "--iters", "100000", "--log-every", "1",
               "--device", "cpu", "--events-jsonl"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    events = []
    try:
        for line in process.stdout:
            events.append(event_from_dict(json.loads(line)))
            if isinstance(events[-1], Scalars) and events[-1].iteration == 3:
                process.stdin.write("stop\n")
                process.stdin.flush()
    finally:
        process.wait(timeout=60)
    assert process.returncode == 0
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    assert events[-1].stopped_early and 3 <= events[-1].iteration < 100000
    assert load_newest_state(tmp_path / "run" / "checkpoints")[1]["iteration"] == events[-1].iteration



def test_statistics_are_namespaced_and_old_flat_files_still_read(tmp_path):
    import json as _json

    from engine.training.run_folder import RunFolder
    from engine.training.stats import losses

    run = RunFolder(tmp_path)
    run.create()
    run.stats_path.write_text(_json.dumps({"iter": 10, "epoch": 0, "img_per_s": 3.0, "lr_g": 1e-4,
                                           "world_size": 1, "G_GAN": 0.5, "D_real": 1.0}) + "\n"
                              + _json.dumps({"iter": 20, "epoch": 0, "Progress/img_per_s": 3.5,
                                             "Loss/G_GAN": 0.4, "Loss/G_new": 2.0}) + "\n")
    old, new = run.read_stats()
    assert old == {"iter": 10, "epoch": 0, "Progress/img_per_s": 3.0, "Progress/lr_g": 1e-4,
                   "Progress/world_size": 1, "Loss/G_GAN": 0.5, "Loss/D_real": 1.0}
    assert losses(old) == {"G_GAN": 0.5, "D_real": 1.0}
    assert losses(new) == {"G_GAN": 0.4, "G_new": 2.0}  # a new loss needs no reader change


def test_resuming_a_finished_run_that_lost_its_model_writes_it_again(phantom, tmp_path):
    run = tmp_path / "run"
    train(tiny(iters=4), phantom, run, TrainCallbacks())
    expected = open_model(run / "model.safetensors")
    (run / "model.safetensors").unlink()  # e.g. a folder copied with its states only
    result = train(tiny(iters=4), phantom, run, TrainCallbacks(), resume=True)
    assert result.iteration == 4 and (run / "model.safetensors").is_file()
    again = open_model(run / "model.safetensors")
    assert again.provenance["iterations"] == 4
    for key, value in expected.generator.state_dict().items():
        assert torch.equal(value, again.generator.state_dict()[key]), key


def test_resuming_a_run_killed_between_its_last_state_and_its_model_writes_the_model(phantom, tmp_path,
                                                                                       monkeypatch):
    from engine.training import loop

    run, real_export = tmp_path / "run", loop.export_model

    def killed_at_the_end(trainer, config, path, provenance):
        if provenance["iterations"] == 4:  # the final state is written, the model not yet
            raise KeyboardInterrupt
        real_export(trainer, config, path, provenance)

    monkeypatch.setattr(loop, "export_model", killed_at_the_end)
    with pytest.raises(KeyboardInterrupt):
        train(tiny(iters=4, checkpoint_every=2), phantom, run, TrainCallbacks())
    monkeypatch.undo()
    assert open_model(run / "model.safetensors").provenance["iterations"] == 2
    assert train(tiny(iters=4, checkpoint_every=2), phantom, run, TrainCallbacks(), resume=True).iteration == 4
    model = open_model(run / "model.safetensors")
    assert model.provenance["iterations"] == 4
    state = load_newest_state(run / "checkpoints")[1]
    for key, value in model.generator.state_dict().items():
        assert torch.equal(value, state["generator"][key]), key


def test_resume_names_the_damaged_state_it_skipped_and_clears_leftover_temporaries(phantom, tmp_path):
    run = tmp_path / "run"
    train(tiny(iters=4, checkpoint_every=2), phantom, run, TrainCallbacks())
    newest = list_states(run / "checkpoints")[-1]
    newest.write_bytes(newest.read_bytes()[:1000])  # cut short
    leftover = run / "checkpoints" / ".state_00000006.x1y2.pt.tmp"  # a save killed midway
    leftover.write_bytes(b"PK\x03\x04 half")
    recorder = Recorder()
    train(tiny(iters=4, checkpoint_every=2), phantom, run, recorder.callbacks(), resume=True)
    notices = [e.message for e in recorder.of(Notice)]
    assert any(m.startswith("skipped a damaged training state: ") and newest.name in m for m in notices)
    assert any("resuming from iteration 2" in m for m in notices)
    assert not leftover.exists()


def test_a_text_file_as_a_training_state_is_called_what_it_is(tmp_path):
    from engine.training.state import load_state

    path = tmp_path / "state_00000002.pt"
    path.write_text("iteration: 2\nthis is a note, not a checkpoint\n")
    with pytest.raises(CardiganError) as caught:
        load_state(path)
    assert str(caught.value) == f"{path}: not a training state (not a file written by torch.save)"


# -- a fine-tune's discriminator started from a run ------------------------------------------
def discriminator_weights(state_or_module):
    items = state_or_module.items() if isinstance(state_or_module, dict) else state_or_module.state_dict().items()
    return {k: v.clone() for k, v in items if k.endswith(("weight_orig", "weight", "bias"))}


def test_a_fine_tune_starts_its_discriminator_from_a_trained_run(phantom, tmp_path):
    source = tmp_path / "source"
    train(tiny(), phantom, source, TrainCallbacks())
    trained = discriminator_weights(weights(source)["discriminator"])
    # with a vanishing learning rate nothing moves: the new run's critic is the source's
    recorder = Recorder()
    train(tiny(lr=1e-12, iters=2, seed=3, init_disc_from=str(source)), phantom, tmp_path / "tune",
          recorder.callbacks())
    notes = [e.message for e in recorder.of(Notice) if "discriminator started from" in e.message]
    assert notes and "state_00000008.pt" in notes[0] and "start fresh" not in notes[0]
    tuned = discriminator_weights(weights(tmp_path / "tune")["discriminator"])
    assert tuned.keys() == trained.keys()
    for key in trained:
        assert torch.allclose(tuned[key], trained[key], rtol=0, atol=1e-9), key
    # without the option the same run's critic is a fresh one
    train(tiny(lr=1e-12, iters=2, seed=3), phantom, tmp_path / "fresh", TrainCallbacks())
    fresh = discriminator_weights(weights(tmp_path / "fresh")["discriminator"])
    assert any(not torch.equal(fresh[k], trained[k]) for k in trained)
    # one state file works as well as its folder; a deeper critic keeps what fits, says what not
    from engine.training.trainer import Trainer
    from engine.training.warm_start import read_discriminator, warm_start_discriminator

    path, critic = read_discriminator(str(list_states(source / "checkpoints")[-1]), tiny(n_layers_d=4))
    assert path.name == "state_00000008.pt"
    deeper = Trainer(tiny(n_layers_d=4), torch.device("cpu"))
    fresh_names = warm_start_discriminator(deeper.disc, critic, str(path))
    kept = [k for k in deeper.disc.state_dict() if k not in fresh_names]
    assert fresh_names and kept
    for key in kept:
        assert torch.equal(deeper.disc.state_dict()[key], critic[key])
    # the source is only read when the run starts: resuming does not need it
    import shutil

    shutil.rmtree(source)
    result = train(tiny(lr=1e-12, iters=4, seed=3, init_disc_from=str(source)), phantom, tmp_path / "tune",
                   TrainCallbacks(), resume=True)
    assert result.iteration == 4


def test_a_pooled_critic_joins_a_trained_discriminator_and_learns(phantom, tmp_path):
    from engine.training.stats import losses

    source, plain = tmp_path / "source", Recorder()
    train(tiny(), phantom, source, plain.callbacks())
    trained = discriminator_weights(weights(source)["discriminator"])
    # the source has no pooled critic: its PatchGANs carry over, the pooled critic is new
    recorder = Recorder()
    train(tiny(lr=1e-12, iters=2, seed=3, pooled_d=8, init_disc_from=str(source)), phantom,
          tmp_path / "tune", recorder.callbacks())
    note = next(e.message for e in recorder.of(Notice) if "discriminator started from" in e.message)
    assert "start fresh (pooled." in note and "discriminator_" not in note
    tuned = discriminator_weights(weights(tmp_path / "tune")["discriminator"])
    assert {k for k in tuned if not k.startswith("pooled.")} == trained.keys()
    assert any(k.startswith("pooled.") for k in tuned)
    for key in trained:
        assert torch.allclose(tuned[key], trained[key], rtol=0, atol=1e-9), key
    # trained, it moves, and every loss stays finite
    recorder = Recorder()
    train(tiny(pooled_d=8, iters=8, checkpoint_every=4, keep_checkpoints=3), phantom, tmp_path / "pooled",
          recorder.callbacks())
    states = list_states(tmp_path / "pooled" / "checkpoints")
    first = state_module.load_state(states[0])["discriminator"]
    last = state_module.load_state(states[-1])["discriminator"]
    assert not torch.equal(first["pooled.head.weight"], last["pooled.head.weight"])
    logged = recorder.of(Scalars)
    assert logged and all("Diag/D_pooled_gap" in e.values for e in logged)  # its verdict, beside the losses
    assert all("D_pooled_gap" not in losses(e.values) for e in logged)  # not a loss: the panel does not plot it
    for event in logged:
        assert all(np.isfinite(v) for v in event.values.values()), event.values
    assert all("Diag/D_pooled_gap" not in e.values for e in plain.of(Scalars))  # none without one


def test_a_pooled_critic_goes_with_the_patch_discriminator():
    with pytest.raises(CardiganError, match="pooled critic .* goes with the patch discriminator"):
        tiny(discriminator="oasis", pooled_d=8)


def test_feature_matching_is_averaged_over_the_critics_that_give_features():
    from engine.training.losses import feature_matching_loss

    fake = [[torch.ones(1, 2, 4, 4), torch.zeros(1, 1, 4, 4)]] * 2
    real = [[torch.zeros(1, 2, 4, 4), torch.zeros(1, 1, 4, 4)]] * 2
    pooled = [torch.full((1, 1, 1, 1), 5.0)]
    assert feature_matching_loss(fake, real).item() == pytest.approx(1.0)
    assert feature_matching_loss(fake + [pooled], real + [pooled]).item() == pytest.approx(1.0)


def test_a_warm_start_error_names_its_option_once_found_by_the_advice_key(monkeypatch):
    """A message that names --init-disc-from as advice keeps it, whatever its command-line
    words; one that only reads like it (a state file's own error) gets it in front."""
    from engine.errors import Advice, Message, message_from_parts, message_parts, option
    from engine.training import warm_start

    advice = option("init_disc_from")
    reworded = Advice(advice.key, "--warm-critic")
    assert Message(reworded, " x: gone").gives(advice) and Message("a ", advice).gives(reworded)
    assert not Message("--init-disc-from x: gone").gives(advice)
    assert not Message(option("init_from"), " x").gives(advice)
    assert message_from_parts(message_parts(Message(reworded, " x"))).gives(advice)

    def refused(message):
        def state_of(spec):
            raise CardiganError(message)
        monkeypatch.setattr(warm_start, "_state_of", state_of)
        with pytest.raises(CardiganError) as caught:
            warm_start.read_discriminator("x", tiny())
        return caught.value.message

    named = refused(Message(reworded, " x: gone"))
    assert named == "--warm-critic x: gone" and named.said({advice: "Critic from"}) == "Critic from x: gone"
    plain = refused("--init-disc-from x: not a training state")
    assert plain == "--init-disc-from: --init-disc-from x: not a training state"
    assert plain.said({advice: "Critic from"}).startswith("Critic from: ")


@pytest.mark.parametrize("case", ["missing", "model_file", "no_state", "other_width"])
def test_init_disc_from_errors_are_one_line_and_leave_the_run_startable(case, phantom, tmp_path, capsys,
                                                                        tiny_model):
    args = ["train", "--data", str(phantom), "--run", str(tmp_path / "run"), "--preset", "lite",
            "--ngf", "4", "--ndf", "8", "--image-size", "64", "--n-layers-d", "3", "--iters", "2",
            "--device", "cpu"]
    if case == "missing":
        spec, pattern = tmp_path / "nowhere", "no such run folder or training state file"
    elif case == "model_file":
        spec, pattern = tiny_model, "not a training state"
    elif case == "no_state":
        spec, pattern = phantom, "holds no training state"
    else:
        spec, pattern = tmp_path / "wide", "discriminator tensors fit its discriminator"
        assert main(args[:3] + ["--run", str(spec), "--preset", "lite", "--ngf", "4", "--ndf", "16",
                                    "--image-size", "64", "--n-layers-d", "3", "--iters", "2",
                                    "--checkpoint-every", "2", "--device", "cpu"]) == 0
        capsys.readouterr()
    assert main(args + ["--init-disc-from", str(spec)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cardigan")]
    assert len(err) == 1 and pattern in err[0], err
    assert main(args) == 0  # nothing was left behind that blocks the run


def test_a_renewed_pooled_critic_starts_again_while_the_generator_waits(phantom, tmp_path):
    from engine.training.loop import trains_generator
    from engine.training.trainer import Trainer

    with pytest.raises(CardiganError, match="renew critic needs a pooled critic"):
        tiny(renew_critic=10)
    with pytest.raises(CardiganError, match="renew warmup must be shorter"):
        tiny(pooled_d=8, renew_critic=10, renew_warmup=10)
    config = tiny(pooled_d=8, renew_critic=10, renew_warmup=3)
    assert [trains_generator(config, i) for i in range(13)] == [False] * 3 + [True] * 7 + [False] * 3
    assert all(trains_generator(tiny(pooled_d=8), i) for i in range(13))
    assert [trains_generator(tiny(d_steps_per_g=2), i) for i in range(4)] == [True, False, True, False]

    # renewing draws the critic's weights again and forgets its optimizer state; the PatchGANs keep theirs
    trainer = Trainer(config, torch.device("cpu"))
    seg = torch.zeros(2, config.classes, 64, 64)
    seg[:, 0] = 1.0
    trainer.step(seg, torch.rand(2, 1, 64, 64) * 2 - 1)
    pooled = list(trainer.disc.pooled.parameters())
    patch = [p for p in trainer.disc.parameters() if all(p is not q for q in pooled)]
    before = [p.detach().clone() for p in trainer.disc.parameters()]
    assert all(p in trainer.opt_d.state for p in pooled + patch)
    trainer.renew_pooled_critic()
    after = list(trainer.disc.parameters())
    moved = [not torch.equal(a, b) for a, b in zip(before, after)]
    assert any(moved[i] for i, p in enumerate(after) if any(p is q for q in pooled))
    assert not any(moved[i] for i, p in enumerate(after) if all(p is not q for q in pooled))
    assert not any(p in trainer.opt_d.state for p in pooled) and all(p in trainer.opt_d.state for p in patch)

    # in a run, the generator does not move while a renewed critic warms up, and moves after
    runs = {}
    for iters in (1, 2, 3):
        run = tmp_path / f"run{iters}"
        train(tiny(pooled_d=8, renew_critic=4, renew_warmup=2, iters=iters, seed=3, checkpoint_every=1), phantom,
              run, TrainCallbacks())
        runs[iters] = weights(run)
    # (its weights: batch norm's running statistics and spectral norm's power iterations follow every
    # forward pass, the critic's fakes too)
    generator = {k: v for k, v in runs[1]["generator"].items()
                 if not k.endswith(("running_mean", "running_var", "num_batches_tracked", "weight_u", "weight_v"))}
    assert all(torch.equal(runs[2]["generator"][k], v) for k, v in generator.items())
    assert not all(torch.equal(runs[3]["generator"][k], v) for k, v in generator.items())
    assert not torch.equal(runs[1]["discriminator"]["pooled.head.weight"],
                           runs[2]["discriminator"]["pooled.head.weight"])


def test_overwrite_keeps_the_earlier_run_until_the_new_one_can_start(phantom, tmp_path):
    import dataclasses

    run = tmp_path / "run"
    train(tiny(iters=2, checkpoint_every=2), phantom, run, TrainCallbacks())
    before = sorted(p.name for p in run.rglob("*"))
    for bad in (dict(init_from=str(tmp_path / "gone.safetensors")), dict(batch_size=10_000)):
        with pytest.raises(CardiganError):
            train(dataclasses.replace(tiny(iters=2), **bad), phantom, run, TrainCallbacks(), overwrite=True)
        assert sorted(p.name for p in run.rglob("*")) == before  # refused: the earlier run is still there
    mine = tmp_path / "mine"  # a run's names, but no run: the user's own files
    (mine / "tensorboard" / "notes").mkdir(parents=True)
    (mine / "stats.jsonl").write_text("hi\n")
    (mine / "tensorboard" / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(CardiganError, match="not a training run's|no training run"):
        train(tiny(iters=2), phantom, mine, TrainCallbacks(), overwrite=True)
    assert (mine / "tensorboard" / "notes" / "todo.txt").read_text() == "keep me"


def test_a_resume_needs_no_starting_file_and_says_what_it_changes(phantom, tmp_path):
    import dataclasses
    import shutil

    source = tmp_path / "source"
    train(tiny(iters=2), phantom, source, TrainCallbacks())
    start = tmp_path / "start.safetensors"
    shutil.copy(source / "model.safetensors", start)
    config = tiny(iters=4, checkpoint_every=2, init_from=str(start))
    half = Recorder(stop_after=2)
    train(config, phantom, tmp_path / "run", half.callbacks())
    start.unlink()  # moved away after the run began: its weights are in the run's state
    again = Recorder()
    result = train(dataclasses.replace(config, lr=config.lr * 0.5), phantom, tmp_path / "run", again.callbacks(),
                   resume=True)
    assert result.iteration == 4
    said = " ".join(e.message for e in again.of(Notice))
    assert "resuming with changed settings: lr" in said


def test_a_resume_on_another_data_folder_says_so(phantom, tmp_path):
    import shutil

    from engine.training.run_folder import RunFolder

    run, other = tmp_path / "run", tmp_path / "other"
    train(tiny(iters=2, checkpoint_every=2), phantom, run, TrainCallbacks())
    shutil.copytree(phantom, other)
    assert RunFolder(run).changed_settings(tiny(iters=4, checkpoint_every=2), phantom) == []
    before = {p: p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}
    finished = Recorder()  # a resume of a finished run trains nothing: nothing on disk changes, its data neither
    assert train(tiny(iters=2, checkpoint_every=2), other, run, finished.callbacks(), resume=True).iteration == 2
    assert {p: p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()} == before
    assert not finished.of(Notice) and [e.start_iter for e in finished.of(Started)] == [2]
    moved = Recorder()
    train(tiny(iters=4, checkpoint_every=2), other, run, moved.callbacks(), resume=True)
    said = " ".join(e.message for e in moved.of(Notice))
    assert f"resuming with changed settings: data {phantom.resolve()} -> {other.resolve()}" in said


def test_a_resume_on_another_number_of_processes_says_what_that_changes(phantom, tmp_path):
    run = tmp_path / "run"
    train(tiny(iters=2, checkpoint_every=2), phantom, run, TrainCallbacks())
    path = run / "checkpoints" / "state_00000002.pt"
    state = torch.load(path, weights_only=True)
    assert state["world_size"] == 1
    same = Recorder()
    train(tiny(iters=3), phantom, run, same.callbacks(), resume=True)
    assert not any("process" in e.message for e in same.of(Notice))
    state["world_size"] = 2  # as a torchrun of two processes saves it
    torch.save(state, path)
    (run / "checkpoints" / "state_00000003.pt").unlink()
    moved = Recorder()
    train(tiny(iters=4), phantom, run, moved.callbacks(), resume=True)
    said = " ".join(e.message for e in moved.of(Notice))
    assert "resuming on 1 process(es), the state was saved by 2" in said
    assert f"an epoch is {moved.of(Started)[0].iters_per_epoch} iterations" in said


def test_a_resumed_runs_tensorboard_drops_what_the_stopped_run_logged_after_its_state(phantom, tmp_path, monkeypatch):
    import types

    from engine.training.loop import open_tensorboard
    from engine.training.run_folder import RunFolder

    made = []
    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = lambda **kwargs: made.append(kwargs) or kwargs
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    config = tiny(tensorboard=True)
    open_tensorboard(RunFolder(tmp_path / "run"), config, lambda event: None)
    open_tensorboard(RunFolder(tmp_path / "run"), config, lambda event: None, start=40)
    assert made[0]["purge_step"] is None and made[1]["purge_step"] == 40


def test_a_new_run_that_fails_before_saving_leaves_a_folder_that_takes_a_new_run(phantom, tmp_path, monkeypatch):
    from engine.training.trainer import Trainer

    def out_of_memory(self, *args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Trainer, "step", out_of_memory)
    run = tmp_path / "run"
    run.mkdir()  # the user's empty folder
    with pytest.raises(CardiganError, match="nothing was saved, so the run starts again"):
        train(tiny(iters=2), phantom, run, TrainCallbacks())
    assert run.is_dir() and [p.name for p in run.iterdir() if not p.name.startswith(".")] in ([], ["lock"])
    monkeypatch.undo()
    assert train(tiny(iters=2), phantom, run, TrainCallbacks()).iteration == 2  # no --overwrite needed


def test_a_run_stopped_right_after_a_checkpoint_saves_it_once(phantom, tmp_path):
    stopped = Recorder(stop_after=2)
    result = train(tiny(iters=8, checkpoint_every=2), phantom, tmp_path / "run", stopped.callbacks())
    assert result.stopped_early and result.iteration == 2
    assert [e.iteration for e in stopped.of(CheckpointSaved)] == [2]  # not written twice
    again = Recorder(stop_after=3)
    train(tiny(iters=8, checkpoint_every=2), phantom, tmp_path / "run2", again.callbacks())
    assert [e.iteration for e in again.of(CheckpointSaved)] == [2, 3]  # stopped between: saved where it ended


def test_a_damaged_newer_state_does_not_crowd_out_the_good_ones(phantom, tmp_path):
    run = tmp_path / "run"
    train(tiny(iters=6, checkpoint_every=2, keep_checkpoints=2), phantom, run, TrainCallbacks())
    damaged = run / "checkpoints" / "state_00000006.pt"
    damaged.write_bytes(damaged.read_bytes()[:1000])  # the newest, cut short
    stop = Recorder(stop_after=4)  # resumed from 4, stopped at 8
    result = train(tiny(iters=12, checkpoint_every=4, keep_checkpoints=2), phantom, run, stop.callbacks(), resume=True)
    assert result.iteration == 8
    kept = [p.name for p in list_states(run / "checkpoints")]
    assert kept == ["state_00000004.pt", "state_00000008.pt"], kept  # two good states, not the damaged 6 and 8


def test_the_progress_names_the_epoch_an_iteration_belongs_to(phantom, tmp_path, monkeypatch):
    """An epoch's last iteration is of that epoch on the progress bar too, as on the logged
    lines: 4 iterations an epoch, iteration 4 is epoch 1 and iteration 5 epoch 2; stats.jsonl
    and the Scalars event say the same (they counted the epochs finished: 1 at iteration 4)."""
    from types import SimpleNamespace

    from engine.training import loop

    ticks = iter(range(10**6))  # a clock a second on at every reading: every iteration reports
    monkeypatch.setattr(loop, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    rec = Recorder()
    train(tiny(batch_size=8, iters=8, sample_every=1000, checkpoint_every=1000, log_every=1), phantom,
          tmp_path / "run", rec.callbacks())
    epochs = {e.iteration: (e.epoch, e.total_epochs) for e in rec.of(ProgressUpdate)}
    assert [epochs[i] for i in (1, 4, 5, 8)] == [(1, 2), (1, 2), (2, 2), (2, 2)]
    logged = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert [(record["iter"], record["epoch"]) for record in logged] == [(i, epochs[i][0]) for i in range(1, 9)]
    assert [(e.iteration, e.epoch) for e in rec.of(Scalars)] == [(i, epochs[i][0]) for i in range(1, 9)]
