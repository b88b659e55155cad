"""NVlabs SPADE's options typed out of habit: every command answers with an option it takes,
or says why none is needed, or which commands take the option it would be."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli.main import COMMANDS, build_parser, main
from engine.maskio import write_label_png


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("cardigan: error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.fixture(scope="module")
def parsers():
    parser = build_parser()
    return {name: parser.commands[name] for name, _ in COMMANDS}


def test_every_answer_names_only_an_option_its_command_takes(parsers):
    """"use --x" or "give --x" is said only by a command that takes --x (synthesize has no
    --batch-size, refine no --device, train no --out)."""
    from engine.cli.foreign_options import ADVISED_OPTION, SPADE_OPTIONS, foreign_option_problem

    for name, parser in parsers.items():
        taken = set(parser._option_string_actions)
        for option in SPADE_OPTIONS:
            problem = foreign_option_problem(name, parser, [option])
            if problem is None:  # an abbreviation of the command's own option (phantom's --phases)
                assert any(own.startswith(option) for own in taken), (name, option)
                continue
            advised = ADVISED_OPTION.match(problem.split("; ", 1)[1])
            assert advised is None or advised.group(1) in taken, (name, problem)


def test_the_commands_said_to_take_an_option_are_those_that_do(parsers):
    from engine.cli.foreign_options import OPTION_COMMANDS

    for option, commands in OPTION_COMMANDS.items():
        assert tuple(name for name, parser in parsers.items() if option in parser._option_string_actions) == commands


@pytest.mark.parametrize("command, typed, advice", [
    (["synthesize", "--model", "demo", "--mask", "m.png", "--out", "o.png", "--load_size", "256"], "--load_size",
     "not needed: the model draws at its own size"),
    (["synthesize", "--model", "demo", "--mask", "m.png", "--out", "o.png", "--batchSize", "1"], "--batchSize",
     "synthesize takes no such option (--batch-size is for train and refine)"),
    (["synthesize", "--model", "demo", "--mask", "m.png", "--out", "o.png", "--how_many", "5"], "--how_many",
     "cardigan export --masks DIR draws one image for every label map"),
    (["train", "--data", "D", "--run", "R", "--nThreads", "4"], "--nThreads", "use --workers"),
    (["train", "--data", "D", "--run", "R", "--norm_G", "spectralspadesyncbatch3x3"], "--norm_G",
     "use --norm-g syncbatch, batch or instance"),
    (["train", "--data", "D", "--run", "R", "--no_flip"], "--no_flip", "not needed: pairs are never flipped"),
    (["train", "--data", "D", "--run", "R", "--results_dir", "X"], "--results_dir",
     "not needed: train writes its samples and model into --run"),
    (["refine", "--model", "demo", "--data", "D", "--out", "o.safetensors", "--run-dir", "R", "--continue_train"],
     "--continue_train", "not needed: the same refine command resumes"),
    (["evaluate", "--model", "demo", "--data", "D", "--phase", "test"], "--phase", "use --split"),
])
def test_a_spade_option_gets_this_commands_own_answer(command, typed, advice, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(command)
    line = one_error_line(capsys)
    assert rc == 2 and f"{typed} is NVlabs SPADE's option; {advice}" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("names", [["exp"], ["exp", "exp2"]])
def test_a_spade_checkpoints_folder_is_answered_with_its_experiment_folders(names, tmp_path, capsys):
    """--model checkpoints (SPADE's --checkpoints_dir) holds one folder per --name; the
    answer names them."""
    for name in names:
        (tmp_path / "checkpoints" / name).mkdir(parents=True)
        (tmp_path / "checkpoints" / name / "latest_net_G.pth").write_bytes(b"")
    (tmp_path / "checkpoints" / "web").mkdir()  # a folder without a model is not named
    assert main(["info", "--model", str(tmp_path / "checkpoints")]) == 1
    line = one_error_line(capsys)
    assert "no model in this folder" in line and "web" not in line
    folders = [str(tmp_path / "checkpoints" / name) for name in names]
    if len(names) == 1:
        assert line.endswith(f"its subfolder {folders[0]} holds one: give that folder")
    else:
        assert line.endswith(f"its subfolders hold models: give one of {', '.join(folders)}")


def test_an_epoch_never_saved_is_answered_with_the_epochs_that_were(tmp_path, capsys):
    for name in ("latest_net_G.pth", "10_net_G.pth", "10_net_D.pth"):
        (tmp_path / name).write_bytes(b"")
    mask = tmp_path / "m.png"
    write_label_png(mask, np.zeros((8, 8), np.uint8))
    rc = main(["synthesize", "--model", str(tmp_path / "20_net_G.pth"), "--mask", str(mask),
               "--out", str(tmp_path / "o.png")])
    line = one_error_line(capsys)
    assert rc == 1 and "20_net_G.pth: no such model file" in line
    assert line.endswith(f"; {tmp_path} holds 10_net_G.pth, latest_net_G.pth")


@pytest.mark.parametrize("layout", [("train_img", "train_label"), ("images", "labels")])
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_spade_folders_given_as_a_dataset_are_pointed_to_prepare(command, layout, tmp_path, capsys):
    """SPADE trains on train_img / train_label directly; here they are prepared first, and
    the refusal gives the command that does it."""
    source = tmp_path / "spade"
    for name in layout:
        (source / name).mkdir(parents=True)
    args = ["--run", str(tmp_path / "run"), "--iters", "1"] if command == "train" else ["--model", "simulator"]
    assert main([command, "--data", str(source), *args]) == 1
    line = one_error_line(capsys)
    assert "not a prepared dataset: it holds image and label folders as NVlabs SPADE reads them" in line
    assert f"prepare them first, cardigan prepare --source {source} --out DIR, and give DIR" in line
    assert not (tmp_path / "run").exists()
