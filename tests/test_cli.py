import argparse
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from cardigan_app.launcher import main as launcher_main
from engine.cli.main import COMMANDS, main
from engine.maskio import write_label_png
from nets_util import blocky_labels


@pytest.fixture
def mask_png(tmp_path):
    path = tmp_path / "mask.png"
    write_label_png(path, blocky_labels(64))
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("cardigan: error: ") and "Traceback" not in err[0]
    return err[0]


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name, _ in COMMANDS:
        assert name in text


def test_synthesize_png_and_npy(tiny_model, mask_png, tmp_path):
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(mask_png),
                 "--out", str(tmp_path / "x.npy")]) == 0
    raw = np.load(tmp_path / "x.npy")
    assert raw.dtype == np.float32 and raw.shape == (1, 64, 64)
    assert -1 <= raw.min() and raw.max() <= 1
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(mask_png),
                 "--out", str(tmp_path / "x.png")]) == 0
    image = Image.open(tmp_path / "x.png")
    assert image.mode == "L" and image.size == (64, 64)
    expected = np.clip(np.round((raw[0] + 1) * 127.5), 0, 255).astype(np.uint8)
    assert np.array_equal(np.asarray(image), expected)
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(mask_png),
                 "--out", str(tmp_path / "x.nii.gz")]) == 0
    import SimpleITK as sitk

    assert np.array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "x.nii.gz"))), expected)


def test_synthesize_in_the_fan_fitted_to_an_echo(mask_png, tmp_path, capsys):
    from engine.fan import Fan, fan_alpha, fan_mask
    from engine.models import GeneratorModel, save_model_file
    from engine.nets import GeneratorConfig
    from nets_util import randomized_generator

    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, fan=True, image_size=64)
    model = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)),
                            tmp_path / "fan.safetensors")
    narrow = Fan(0.5, 0.0, -20.0, 20.0, 0.9, 0.9)
    rng = np.random.default_rng(1)
    echo = np.round(np.clip(rng.gamma(2.0, 45.0, (200, 240)), 30, 255) * fan_alpha(narrow, 200, 240))
    Image.fromarray(echo.astype(np.uint8)).save(tmp_path / "echo.jpg", quality=95)
    assert main(["synthesize", "--model", str(model), "--mask", str(mask_png), "--fan-from", str(tmp_path / "echo.jpg"),
                 "--out", str(tmp_path / "in_its_fan.npy")]) == 0
    assert "fan fitted to echo.jpg" in capsys.readouterr().err
    assert main(["synthesize", "--model", str(model), "--mask", str(mask_png), "--out", str(tmp_path / "own.npy")]) == 0
    touched = fan_alpha(narrow, 64, 64) > 0  # the echo's sector with its soft edge
    drawn = np.load(tmp_path / "in_its_fan.npy")[0] > -1  # black outside the fan is -1
    assert (drawn & ~touched).mean() < 0.01  # nothing beyond the echo's own sector (a pixel of fit)
    assert (drawn & fan_mask(narrow, 64, 64)).sum() > 0.95 * fan_mask(narrow, 64, 64).sum()
    assert drawn.sum() < 0.8 * (np.load(tmp_path / "own.npy")[0] > -1).sum()  # narrower than the mask's fan
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(tmp_path / "blank.png")
    capsys.readouterr()
    assert main(["synthesize", "--model", str(model), "--mask", str(mask_png), "--fan-from", str(tmp_path / "blank.png"),
                 "--out", str(tmp_path / "never.png")]) == 1
    assert "no sector found" in one_error_line(capsys) and not (tmp_path / "never.png").exists()


def test_info_prints_architecture(tiny_model, capsys):
    assert main(["info", "--model", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "ngf=4" in out and "parameters" in out and "Left atrium" in out
    assert max(len(line) for line in out.splitlines() if not line.startswith(("file", "  "))) <= 100
    assert main(["info", "--model", "demo"]) == 0  # many settings: wrapped under their heading
    lines = capsys.readouterr().out.splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith("architecture "))
    assert lines[first + 1].startswith(" " * len("architecture ")) and "image_size=256" in "".join(lines)
    assert all(len(line) <= 100 for line in lines[first:first + 3])


@pytest.mark.parametrize("case", ["bad_values", "missing_mask", "not_a_model",
                                  "bad_suffix", "no_cuda"])
def test_user_mistakes_are_one_line_and_write_nothing(case, tiny_model, mask_png, tmp_path, capsys):
    mask, model, out, extra = str(mask_png), str(tiny_model), tmp_path / "out.png", []
    if case == "bad_values":
        Image.fromarray(np.full((64, 64), 9, np.uint8)).save(tmp_path / "bad.png")
        mask, pattern = str(tmp_path / "bad.png"), "value 9 is not a label"
    elif case == "missing_mask":
        mask, pattern = str(tmp_path / "nope.png"), "no such file"
    elif case == "not_a_model":
        (tmp_path / "model.bin").write_bytes(b"\x00" * 64)
        model, pattern = str(tmp_path / "model.bin"), "not a model file"
    elif case == "bad_suffix":
        out, pattern = tmp_path / "out.jpg", "must end in .png, .nii.gz, .nii, .dcm or .npy"
    else:
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
        extra, pattern = ["--device", "cuda"], "not available"
    code = main(["synthesize", "--model", model, "--mask", mask, "--out", str(out), *extra])
    assert code != 0
    assert pattern in one_error_line(capsys)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_synthesize_refuses_a_folder_as_out_before_any_work(mask_png, tmp_path, capsys, monkeypatch):
    import engine.synthesizer

    def no_work(*args, **kwargs):
        raise AssertionError("a model was loaded for an output that cannot be written")

    monkeypatch.setattr(engine.synthesizer, "Synthesizer", no_work)
    (tmp_path / "out.png").mkdir()
    code = main(["synthesize", "--model", "simulator", "--mask", str(mask_png),
                 "--out", str(tmp_path / "out.png"), "--overwrite"])
    assert code != 0 and "is a folder" in one_error_line(capsys)
    assert (tmp_path / "out.png").is_dir()


def test_synthesize_says_when_region_and_fan_options_change_nothing(mask_png, tmp_path, capsys):
    """A VAE model draws one style vector for the whole image (no region to redraw), and a
    model without a fan input ignores --fan: both are said, and the image is the plain one."""
    from engine.models import GeneratorModel, save_model_file
    from engine.nets import GeneratorConfig, SPADEGenerator

    config = GeneratorConfig(ngf=4, hidden=8, use_vae=True, z_dim=8, image_size=64)
    model = save_model_file(GeneratorModel(config, SPADEGenerator(config).eval()), tmp_path / "vae.safetensors")
    common = ["synthesize", "--model", str(model), "--mask", str(mask_png), "--seed", "3"]
    assert main([*common, "--out", str(tmp_path / "plain.npy")]) == 0
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "asked.npy"), "--resample-class", "1",
                 "--fan", "width=60"]) == 0
    err = capsys.readouterr().err
    assert "has no noise map to redraw in a region: --resample-class changes nothing" in err
    assert "--fan and --fan-from change nothing" in err
    assert np.array_equal(np.load(tmp_path / "plain.npy"), np.load(tmp_path / "asked.npy"))


def test_console_script_reports_errors_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cardigan_app", "info", "--model",
                             str(tmp_path / "missing.safetensors")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("cardigan: error:") and "Traceback" not in result.stderr


def test_bare_cardigan_without_display_names_the_commands(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert launcher_main([]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no display" in err and "synthesize" in err


def test_cardigan_with_paths_opens_them_in_the_app_and_commands_stay_commands(monkeypatch, tmp_path, capsys):
    import cardigan_app.app

    opened = []
    monkeypatch.setattr(cardigan_app.app, "run_app", lambda argv=None, files=(): opened.append(list(files)) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    mask, folder = tmp_path / "heart.png", tmp_path / "data"
    write_label_png(mask, np.zeros((8, 8), np.uint8))
    folder.mkdir()
    assert launcher_main([str(mask), str(folder)]) == 0 and opened == [[mask, folder]]
    assert launcher_main([]) == 0 and opened[-1] == []
    assert launcher_main([str(tmp_path / "nope.png")]) == 2 and len(opened) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.png: no such file or folder to open" in err
    assert launcher_main(["synthesise", "--model", "demo"]) == 2 and len(opened) == 2  # a typo: the CLI says so
    assert "invalid choice: 'synthesise'" in capsys.readouterr().err
    assert launcher_main(["info", "--model", str(mask)]) == 1 and len(opened) == 2  # a command runs as one
    assert "not a model file" in capsys.readouterr().err


def test_a_mask_of_any_size_gives_an_image_of_that_size(tiny_model, tmp_path):
    """A 64 px model draws at 64: a 100 x 100 mask is resampled there and the image back."""
    write_label_png(tmp_path / "odd.png", blocky_labels(100))
    out = tmp_path / "odd_echo.png"
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(tmp_path / "odd.png"),
                 "--out", str(out)]) == 0
    assert np.asarray(Image.open(out)).shape == (100, 100)


def test_every_training_field_survives_flags_and_parser():
    """config_flags is the parser's inverse: what the studio launches is what it configured."""
    import argparse

    from engine.cli.train import add_arguments, config_flags, resolve
    from engine.training.config import resolve_config

    changed = dict(ngf=12, ndf=24, image_size=128, upsampling="more", norm_g="instance", modulation="spade",
                   spectral_g=False, use_vae=True, z_dim=32, noise_nc=4, discriminator="oasis", num_d=1,
                   n_layers_d=2, norm_d="instance", batch_size=3, iters=77, lr=0.0003, beta1=0.5, beta2=0.9,
                   ttur=False, d_steps_per_g=2, lambda_feat=5.0, lambda_vgg=0.0, lambda_kld=0.1,
                   lambda_labelmix=3.0, lambda_coarse=2.5, augment=False, deform=0.2, device="cpu", amp="off",
                   channels_last=False, compile=True, workers=1, seed=9, log_every=3, sample_every=7,
                   checkpoint_every=11, keep_checkpoints=4, tensorboard=True)
    config = resolve_config("lite", **changed)
    argv = ["--run", "r", "--preset", "lite"]
    for name, value in config.to_dict().items():
        argv += config_flags(name, value)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    again = resolve(parser.parse_args(argv))
    assert again.to_dict() == config.to_dict()


def test_train_help_says_what_auto_precision_does_on_a_cpu_and_what_torchrun_changes(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "auto (bf16 on GPUs and CPUs with native bf16)" in text
    assert "N x B images" in text and "--lr is not scaled with N" in text
    # the loop averages the logged losses over the processes (test_training_distributed.py)
    assert "the losses logged are the mean over the processes" in text and "process 0's" not in text
    # a deformed pair's heart moves along the shape model by default (engine.data.deform)
    assert "heart moved along the shape model's directions" in text


def test_a_second_interrupt_aborts_training_only_when_it_is_a_second_press():
    import signal

    from engine.cli.train import StopFlag

    now = [100.0]
    flag = StopFlag(clock=lambda: now[0])
    assert not flag()
    flag.handle(signal.SIGINT)
    assert flag()
    now[0] += 0.05  # the same signal again at once (sent to the process and to its group)
    flag.handle(signal.SIGINT)
    flag.handle(signal.SIGTERM)
    assert flag()
    now[0] += 2.0  # a person pressing Ctrl-C again
    with pytest.raises(KeyboardInterrupt):
        flag.handle(signal.SIGINT)


def test_only_a_stop_asked_for_by_ctrl_c_offers_ctrl_c_to_abort(capsys):
    import signal

    from engine.cli.train import StopFlag

    StopFlag().handle()  # the app's Stop button: the training panel shows this line
    said = capsys.readouterr().err
    assert "stopping after this iteration and saving the state" in said and "Ctrl-C" not in said
    StopFlag().handle(signal.SIGINT)
    assert "Ctrl-C again to abort" in capsys.readouterr().err


def test_a_stop_asked_for_by_a_signal_ends_with_the_signals_exit_code():
    import signal

    from engine.cli.train import StopFlag

    assert StopFlag().exit_code() == 0
    by_stdin = StopFlag()
    by_stdin.handle()  # the app's Stop button writes "stop" on stdin
    assert by_stdin() and by_stdin.exit_code() == 0
    by_term = StopFlag()
    by_term.handle(signal.SIGTERM)
    by_term.handle(signal.SIGINT)  # a later signal does not change the first one's code
    assert by_term.exit_code() == 128 + signal.SIGTERM
    by_ctrl_c = StopFlag()
    by_ctrl_c.handle(signal.SIGINT)
    assert by_ctrl_c.exit_code() == 130


def test_loader_workers_leave_ctrl_c_to_the_training_process():
    import signal

    from engine.training.batches import epoch_loader, ignore_interrupts

    assert epoch_loader(list(range(8)), [[0, 1], [2, 3]], 2, False).worker_init_fn is ignore_interrupts
    assert epoch_loader(list(range(8)), [[0, 1]], 0, False).worker_init_fn is None
    before = signal.getsignal(signal.SIGINT)
    try:
        ignore_interrupts(0)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_terminal_progress_closes_its_bars_when_the_work_fails():
    import io

    from engine.cli.terminal import TerminalProgress
    from engine.progress import Progress

    stream = io.StringIO()
    with pytest.raises(RuntimeError):
        with TerminalProgress(stream, enabled=True) as bars:
            bars(Progress("fitting", 3, 10))
            assert list(bars.bars) == ["fitting"]
            raise RuntimeError("the fit failed")
    assert bars.bars == {} and "fitting" in stream.getvalue()


@pytest.mark.parametrize("text, seconds", [("45s", 45), ("90m", 5400), ("2h", 7200), ("1h30m", 5400),
                                           ("1.5h", 5400), ("1h 30m 15s", 5415), ("90", 5400), (".5", 30)])
def test_a_length_of_time_is_read_with_units_or_as_minutes(text, seconds):
    from engine.cli.options import duration_value, spoken_duration

    assert duration_value(text) == pytest.approx(seconds)
    assert duration_value(spoken_duration(seconds)) == pytest.approx(seconds)  # said back as it reads
    assert spoken_duration(0.3) == "1s" and spoken_duration(0) == "0s"  # a limit never reads as none


@pytest.mark.parametrize("text, why", [("", "not a length of time"), ("1d", "not a length of time"),
                                       ("1m1h", "not a length of time"), ("-5", "not a length of time"),
                                       ("0", "more than zero"), ("0h0m", "more than zero"),
                                       ("9" * 400, "too long")])
def test_a_wrong_length_of_time_is_refused_in_words(text, why):
    from engine.cli.options import duration_value

    with pytest.raises(argparse.ArgumentTypeError, match=why):
        duration_value(text)


def test_the_time_limit_stops_before_an_iteration_would_end_past_it():
    from engine.cli.train import TimeLimit

    now = [1000.0]
    limit = TimeLimit(100.0, clock=lambda: now[0])
    now[0] += 50  # loading the data and the first iteration: not an iteration's time
    assert not limit()
    now[0] += 5  # 55 s in, iterations of 5 s
    assert not limit()
    now[0] += 20  # 75 s in: that one wrote a checkpoint, which the next will not
    assert not limit()
    now[0] += 5
    assert not limit()  # 80 s in: a typical iteration (5 s) ends at 85 s
    now[0] += 16  # 96 s in: the next typical one would end past 100 s
    assert limit() and limit.reached
    assert not TimeLimit(None, clock=lambda: now[0])()  # no limit given: never


def test_help_version_and_light_commands_start_without_torch():
    """Only the command being run gets its options; --help, --version and every command's
    --help import no torch (it takes most of two seconds to load) and the command list still
    names every command."""
    script = ("import contextlib, io, sys\n"
              "from engine.cli.main import COMMANDS, main\n"
              "out = io.StringIO()\n"
              "for argv in [['--help'], ['--version']] + [[name, '--help'] for name, _ in COMMANDS]:\n"
              "    with contextlib.redirect_stdout(out):\n"
              "        try:\n"
              "            main(argv)\n"
              "        except SystemExit:\n"
              "            pass\n"
              "print('torch' in sys.modules)\n"
              "print(out.getvalue())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    first, _, rest = done.stdout.partition("\n")
    assert done.returncode == 0 and first == "False", done.stderr
    assert all(name in rest for name, _ in COMMANDS) and "cardiGAN Studio" in rest


def test_options_that_would_do_nothing_are_refused_or_said(tmp_path, capsys):
    from engine.anatomy import template_mask
    from engine.cli.main import main
    from engine.maskio import write_label_png

    def one_line_error(argv: list[str], words: str) -> None:
        assert main(argv) != 0
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err

    one_line_error(["phantom", "--out", str(tmp_path / "ph.hdf5"), "--count", "2"], "add --format hdf5")
    assert not (tmp_path / "ph.hdf5").exists()
    for command in ("prepare", "phantom"):
        assert main([command, "--out", str(tmp_path / "x"), "--workers", "0"]
                    + (["--source", "y"] if command == "prepare" else [])) != 0
        assert "--workers" in capsys.readouterr().err
    one_line_error(["export", "--model", "simulator", "--random", "1", "--cine", "--like-fallback",
                    "--out", str(tmp_path / "c")], "--like-fallback")
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "p_4CH_ED.png", template_mask("4CH", "ED", seed=1, size=64))
    write_label_png(masks / "p_4CH_ES.png", template_mask("4CH", "ES", seed=1, size=64))
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--size", "128",
                 "--out", str(tmp_path / "e")]) == 0
    assert "masks from a folder keep their own size" in capsys.readouterr().err
    assert main(["cine", "--model", "simulator", "--ed", str(masks / "p_4CH_ED.png"), "--es", str(masks / "p_4CH_ES.png"),
                 "--frames", "2", "--size", "128", "--out", str(tmp_path / "l.h5")]) == 0
    assert "keeps their view and size" in capsys.readouterr().err


def test_output_into_a_pipe_closed_early_ends_quietly(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, as `| head` goes after its lines
    try:
        done = subprocess.run([sys.executable, "-m", "engine", "info", "--model", "simulator"], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1], timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr.decode().strip() == ""


def test_a_dry_run_refuses_what_the_training_would_refuse_and_writes_nothing(tmp_path, capsys):
    import json

    from engine.training.config import resolve_config

    data, run, empty, new = (tmp_path / name for name in ("data", "run", "empty", "new"))
    (data / "train" / "img").mkdir(parents=True)
    (data / "train" / "label").mkdir(parents=True)
    empty.mkdir()
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({**resolve_config("lite", image_size=64).to_dict(),
                                                 "data": str(data)}))
    (run / "checkpoints" / "state_00000002.pt").write_bytes(b"state")
    refusals = {"cannot resume with a different network (ngf 10 -> 8)": ["--run", str(run), "--resume", "--ngf", "8"],
                "already holds a training run": ["--run", str(run), "--data", str(data)],
                "no training state to resume from": ["--run", str(empty), "--resume", "--data", str(data)]}
    for said, argv in refusals.items():
        assert main(["train", *argv, "--dry-run"]) == 1
        assert said in one_error_line(capsys)
    assert main(["train", "--run", str(run), "--resume", "--iters", "9", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["iters"] == 9
    assert main(["train", "--run", str(new), "--data", str(data), "--preset", "lite", "--dry-run"]) == 0
    assert not new.exists() and sorted(p.name for p in empty.iterdir()) == []


@pytest.mark.parametrize("given, said", [
    ("data", "data: is a prepared dataset, not a run folder; give it as --data and the run's own folder as --run"),
    ("missing", "missing: no such folder, so no run to resume"),
    ("file", "file: is a file, not a run folder (the folder a training wrote)")])
def test_a_resume_of_a_folder_that_is_no_run_says_what_it_is(given, said, tmp_path, capsys):
    """--resume pointed at the dataset, a mistyped folder or a file names what it is (it said
    only "no training state to resume from"), --data given or not, and makes no folder."""
    data = tmp_path / "data"
    (data / "train" / "img").mkdir(parents=True)
    (data / "train" / "label").mkdir(parents=True)
    (tmp_path / "file").write_text("notes")
    for extra in ([], ["--data", str(data)], ["--dry-run"]):
        assert main(["train", "--run", str(tmp_path / given), "--resume", *extra]) == 1
        assert one_error_line(capsys) == f"cardigan: error: {tmp_path}/{said}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "file"]
    assert sorted(p.name for p in data.iterdir()) == ["train"]


@pytest.mark.parametrize("flags, said", [(["--lr", "nan"], "lr must be a finite number"),
                                         (["--lambda-feat", "inf"], "lambda feat must be a finite number"),
                                         (["--beta1", "1.5", "--no-ttur"], "beta1 must be below 1"),
                                         (["--beta2", "-0.1", "--no-ttur"], "beta2 must be at least 0")])
def test_training_numbers_torch_would_reject_are_one_line_and_make_no_run_folder(flags, said, tmp_path, capsys):
    data, run = tmp_path / "data", tmp_path / "run"
    (data / "train" / "img").mkdir(parents=True)
    (data / "train" / "label").mkdir(parents=True)
    for dry in ([], ["--dry-run"]):
        assert main(["train", "--data", str(data), "--run", str(run), "--iters", "1", *flags, *dry]) == 1
        assert said in one_error_line(capsys)
        assert not run.exists()


def test_a_dry_run_refuses_a_data_folder_or_device_the_training_would_refuse(tmp_path, capsys):
    (tmp_path / "a file").write_text("not a dataset")
    (tmp_path / "no splits").mkdir()
    run = tmp_path / "run"
    refusals = {"a file": "is a file, not a data folder", "missing": "no such data folder",
                "no splits": "no train/img and train/label folders"}
    for name, said in refusals.items():
        data = tmp_path / name
        assert main(["train", "--data", str(data), "--run", str(run), "--dry-run"]) == 1
        line = one_error_line(capsys)
        assert said in line and str(data) in line
        assert main(["train", "--data", str(data), "--run", str(run), "--iters", "1"]) == 1
        assert said in one_error_line(capsys)
    assert not run.exists()
    if not torch.cuda.is_available():
        (tmp_path / "data" / "train" / "img").mkdir(parents=True)
        (tmp_path / "data" / "train" / "label").mkdir(parents=True)
        assert main(["train", "--data", str(tmp_path / "data"), "--run", str(run), "--device", "cuda",
                     "--dry-run"]) == 1
        assert "'cuda' is not available" in one_error_line(capsys)
        assert not run.exists()


def test_every_option_with_a_default_says_it_in_help():
    from engine.cli.main import build_parser

    unsaid = []
    for name, _ in COMMANDS:
        parser = build_parser([name])
        command = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        for action in command._actions:
            if not action.option_strings or action.default is None or action.default is False:
                continue
            if action.default == argparse.SUPPRESS:
                continue
            if "default" not in (action.help or "").lower():
                unsaid.append(f"{name} {action.option_strings[0]}")
    assert unsaid == []


@pytest.mark.parametrize("size", ["0", "-5", "100000", "2.5"])
def test_prepare_refuses_a_bad_size_by_its_option_before_reading_the_source(size, tmp_path, capsys):
    from engine.cli import prepare
    from engine.data import prepare as engine_prepare

    assert (prepare.MIN_SIZE, prepare.MAX_SIZE) == (engine_prepare.MIN_SIZE, engine_prepare.MAX_SIZE)
    source = tmp_path / "camus.h5"
    source.write_bytes(b"\x89HDF\r\n\x1a\n")  # never opened: the size is refused as the line is read
    assert main(["prepare", "--source", str(source), "--out", str(tmp_path / "out"), "--size", size]) == 2
    assert "argument --size:" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_cine_says_what_to_do_with_a_frames_folder_that_is_not_empty(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "mine.txt").write_text("keep")
    for overwrite in ([], ["--overwrite"]):
        assert main(["cine", "--model", "simulator", "--ed", "a.png", "--es", "b.png", "--out", str(frames),
                     *overwrite]) == 1
        line = one_error_line(capsys)
        assert str(frames) in line and "name a new folder or empty this one" in line
    assert (frames / "mine.txt").read_text() == "keep"


def test_progress_off_a_terminal_is_a_line_now_and_then_and_one_at_the_stages_end():
    import io

    from engine.cli.terminal import LOG_INTERVAL_S, TerminalProgress
    from engine.progress import Progress

    now = [0.0]
    stream = io.StringIO()
    bars = TerminalProgress(stream, enabled=False, clock=lambda: now[0])
    bars(Progress("loading data", 1, 1))  # quick work says nothing
    for done in range(1, 101):
        now[0] += LOG_INTERVAL_S / 10
        bars(Progress("segmenter", done, 100, "loss 0.5"))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "segmenter: 10/100 (loss 0.5)"
    assert lines[-1] == "segmenter: 100/100 (loss 0.5)" and len(lines) == 10
    assert not any(line.startswith("loading data") for line in lines)


@pytest.mark.parametrize("start, total, said", [
    (0, 30, "training on cpu: 30 iterations (10 per epoch) -> RUN"),
    (20, 30, "training on cpu: iterations 21 to 30 (10 per epoch) -> RUN"),
    (45, 10, "nothing to train: the run is already finished, at iteration 45, past the 10 asked for; --iters 55 "
             "trains 10 more (--iters and --epochs count from the run's start)"),
    (30, 30, "nothing to train: the run is already finished, all its 30 iterations trained; --iters 60 trains 30 "
             "more (--iters and --epochs count from the run's start)"),
])
def test_a_resumed_training_says_where_it_starts_and_when_it_has_nothing_to_train(start, total, said):
    """--iters counts from the run's first iteration: a resume asked for fewer than the run
    has says so, instead of announcing iterations it will not train."""
    import io

    from engine.cli.train_view import TerminalTrainView
    from engine.training.events import Started

    stream = io.StringIO()
    TerminalTrainView(stream)(Started("RUN", total, 10, start, "cpu", {}))
    assert stream.getvalue().splitlines()[0] == said


def test_train_help_says_the_length_counts_a_resumed_runs_iterations(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "train for N iterations in all, a resumed run's earlier ones counted" in text


@pytest.mark.parametrize("command", ["prepare", "phantom", "export"])
def test_ed_and_es_are_called_instants_in_every_command_help(command, capsys):
    """prepare and phantom take --instants; no help calls ED and ES phases beside it."""
    import re

    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "instant" in text and not re.search(r"\bphases?\b", text, re.I), text


def test_train_help_gives_the_defaults_that_depend_on_the_preset(capsys):
    from engine.training.config import FIELDS, PRESETS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    batches = ", ".join(f"{name} {values.get('batch_size', FIELDS['batch_size'].default)}"
                        for name, values in PRESETS.items())
    assert f"images per step and process (default by preset: {batches})" in text
    assert len(set(batches.split(", "))) == len(PRESETS) > 1  # the presets do differ
    assert f"every N iterations (default {FIELDS['checkpoint_every'].default})" in text
    assert f"or off (default {FIELDS['amp'].default})" in text  # the same in every preset


def test_bench_help_says_what_quick_shrinks(capsys):
    from engine.bench_settings import PEAK_REPEATS, BenchSettings

    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    cpu, gpu = BenchSettings.for_device("cpu", True), BenchSettings.for_device("cuda", True)
    full_cpu, full_gpu = BenchSettings.for_device("cpu", False), BenchSettings.for_device("cuda", False)
    assert f"median of {cpu.repeats} runs on a CPU, {gpu.repeats} on a GPU (not {full_cpu.repeats}, " \
           f"{full_gpu.repeats})" in text
    assert f"{cpu.train_steps} and {gpu.train_steps} training steps per preset" in text
    assert f"{PEAK_REPEATS[True]} runs of each peak (not {PEAK_REPEATS[False]})" in text


def test_train_help_gives_each_preset_fields_default_in_every_preset(capsys):
    """Every preset field's help says the value each preset resolves it to (switches as on
    and off), so a user need not run --dry-run per preset to learn a default."""
    from engine.cli.main import build_parser
    from engine.training.config import FIELDS, PRESETS, resolve_config

    def said(value) -> str:
        return ("on" if value else "off") if isinstance(value, bool) else f"{value:g}" \
            if isinstance(value, float) else str(value)

    configs = {name: resolve_config(name) for name in PRESETS}
    command = build_parser(["train"]).commands["train"]
    checked = 0
    for action in command._actions:
        if action.dest not in FIELDS or FIELDS[action.dest].default is None or action.dest in ("device", "preset", "ttur"):
            continue
        values = {name: said(getattr(config, action.dest)) for name, config in configs.items()}
        expected = (f"(default {values['seed']})" if len(set(values.values())) == 1 else
                    "(default by preset: " + ", ".join(f"{n} {v}" for n, v in values.items()) + ")")
        assert action.help.endswith(expected), (action.dest, action.help)
        checked += 1
    assert checked > 40
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "generator width (channels of the last block; blocks run at up to 16x this) " \
           "(default by preset: seed 48, lite 10, quality 64)" in text
    assert "(default by preset: seed off, lite on, quality off)" in text  # --fan
    assert "niter + niter_decay epochs, by preset: seed 30, lite 30, quality 100" in text
    assert "auto, cpu, cuda, cuda:N or mps (default auto)" in text


def test_a_training_says_its_length_in_words_and_its_epoch_on_every_logged_line():
    """"1 iteration", not "1 iterations"; a log (no terminal) names the epoch of each line,
    as stats.jsonl and the terminal's bar do."""
    import io

    from engine.cli.train_view import TerminalTrainView
    from engine.training.events import Scalars, Started

    stream = io.StringIO()
    view = TerminalTrainView(stream)
    view(Started("RUN", 1, 1, 0, "cpu", {}))
    assert stream.getvalue().splitlines()[0] == "training on cpu: 1 iteration (1 per epoch) -> RUN"
    stream = io.StringIO()
    view = TerminalTrainView(stream)
    view(Started("RUN", 30, 10, 0, "cpu", {}))
    view(Scalars(10, 1, {"Loss/G_GAN": 0.5}))
    view(Scalars(11, 1, {"Loss/G_GAN": 0.5}))
    view(Scalars(30, 3, {"Loss/G_GAN": 0.25}))
    lines = stream.getvalue().splitlines()
    # an epoch's last iteration is of that epoch (it read "epoch 2/3" at iteration 10 of 10 per epoch)
    assert [line.split()[:4] for line in lines[1:]] == [["iter", "10", "epoch", "1/3"], ["iter", "11", "epoch", "2/3"],
                                                        ["iter", "30", "epoch", "3/3"]]


@pytest.mark.parametrize("command", [[]] + [[name] for name, _ in COMMANDS],
                         ids=lambda words: " ".join(words) or "cardigan")
def test_every_help_fits_an_80_column_terminal(command, capsys, monkeypatch):
    """argparse wraps the help to the terminal but cannot break one option's {a,b,...} or a
    group of alternatives in the usage: those must be short enough themselves."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    wide = [line for line in capsys.readouterr().out.splitlines() if len(line) > 80]
    assert wide == []


def test_the_training_bar_says_a_speed_not_yet_measured_is_unknown(monkeypatch):
    """Before the first logged window the loop reports 0 images/s: the bar says "?", as it
    does for the time left, not "0.0 img/s"."""
    import io

    from engine.cli.train_view import TerminalTrainView
    from engine.training.events import ProgressUpdate, Started

    stream = io.StringIO()
    monkeypatch.setattr(stream, "isatty", lambda: True, raising=False)
    view = TerminalTrainView(stream)
    view(Started("RUN", 30, 10, 0, "cpu", {}))
    view(ProgressUpdate(3, 30, 1, 3, 0.0, float("nan")))
    assert "epoch 1/3 ? img/s eta ?" in stream.getvalue()
    view(ProgressUpdate(12, 30, 2, 3, 36.5, 60.0))
    assert "epoch 2/3 36.5 img/s eta 1.0 min" in stream.getvalue()
    view.close()
