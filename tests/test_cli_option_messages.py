"""The command line's one-line refusals name the option and the file at fault and say what
to do, before any work starts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main
from engine.maskio import write_label_png
from nets_util import blocky_labels


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("cardigan: error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def mask_png(tmp_path):
    path = tmp_path / "mask.png"
    write_label_png(path, blocky_labels(64))
    return path


@pytest.mark.parametrize("cine", [[], ["--cine"]])
def test_export_masks_given_one_mask_file_says_it_is_a_file(mask_png, tmp_path, capsys, cine):
    rc = main(["export", "--model", "simulator", "--masks", str(mask_png), "--out", str(tmp_path / "out"), *cine])
    line = one_error_line(capsys)
    assert rc == 1 and f"--masks {mask_png}: is a mask file, not a folder" in line
    assert "synthesize --mask" in line and "no such folder" not in line
    assert not (tmp_path / "out").exists()


def test_export_masks_given_another_file_says_it_is_a_file(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not masks")
    rc = main(["export", "--model", "simulator", "--masks", str(notes), "--out", str(tmp_path / "out")])
    line = one_error_line(capsys)
    assert rc == 1 and f"--masks {notes}: is a file, not a folder of masks" in line
    assert "synthesize" not in line


def test_export_masks_missing_folder_names_the_option(tmp_path, capsys):
    rc = main(["export", "--model", "simulator", "--masks", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert rc == 1 and one_error_line(capsys).endswith(f"--masks {tmp_path / 'nope'}: no such folder of masks")


def test_export_functions_refuse_a_mask_file_before_loading_a_model(mask_png, tmp_path, monkeypatch):
    from engine.errors import DataError
    from engine.export import export_dataset
    from engine.export.cine import export_cine

    monkeypatch.setattr("engine.export.run.Synthesizer", None)  # loading a model would fail otherwise
    monkeypatch.setattr("engine.export.cine.Synthesizer", None)
    for export in (export_dataset, export_cine):
        with pytest.raises(DataError, match="is a mask file, not a folder of masks") as refused:
            export("simulator", tmp_path / "out", masks=mask_png)
        assert refused.value.message.said({}).startswith(f"--masks {mask_png}")


@pytest.mark.parametrize("command", ["tune", "refine"])
@pytest.mark.parametrize("name", ["t1.txt", "t1.pth", "t1"])
def test_a_model_out_file_must_carry_the_model_suffix(command, name, tiny_model, tmp_path, capsys):
    out = tmp_path / name
    extra = ["--tone", "1.1"] if command == "tune" else ["--data", str(tmp_path), "--run-dir", str(tmp_path / "run")]
    rc = main([command, "--model", str(tiny_model), "--out", str(out), *extra])
    line = one_error_line(capsys)
    assert rc == 1 and line.endswith(f"--out {out}: a model file is written as .safetensors; name it t1.safetensors")
    assert not out.exists()


def test_tune_takes_the_model_suffix_in_any_case(tiny_model, tmp_path):
    out = tmp_path / "t1.SafeTensors"
    assert main(["tune", "--model", str(tiny_model), "--out", str(out), "--tone", "1.1"]) == 0
    assert out.is_file()


def test_tune_without_a_setting_refuses_and_lists_the_options_that_change_one(tiny_model, tmp_path, capsys):
    import re

    from engine.cli.main import build_parser

    out = tmp_path / "copy.safetensors"
    rc = main(["tune", "--model", str(tiny_model), "--out", str(out)])
    line = one_error_line(capsys)
    assert rc == 1 and "nothing to change" in line and not out.exists()
    named = set(re.findall(r"--[a-z-]+", line))
    tune = build_parser(["tune"])._subparsers._group_actions[0].choices["tune"]
    settable = {flag for action in tune._actions for flag in action.option_strings} - {
        "-h", "--help", "--model", "--out", "--overwrite", "--shading-strength"}
    assert named == settable


def test_each_removing_tune_option_removes_its_own_setting_alone():
    from engine.cli.main import build_parser
    from engine.cli.tune import REMOVE_OPTIONS, given_settings

    tune = build_parser(["tune"])._subparsers._group_actions[0].choices["tune"]
    for flag in REMOVE_OPTIONS:
        args = tune.parse_args(["--model", "demo", "--out", "x.safetensors", flag, "none"])
        assert given_settings(args) == {flag[2:].replace("-", "_"): ()}, flag
    assert given_settings(tune.parse_args(["--model", "demo", "--out", "x.safetensors"])) == {}


@pytest.mark.parametrize("under", [False, True])
def test_evaluate_refuses_a_cache_dir_that_is_a_file(under, tmp_path, capsys, monkeypatch):
    import engine.evaluation.evaluate as evaluation

    monkeypatch.setattr(evaluation, "evaluate", None)  # no evaluation may start
    data = tmp_path / "data"
    data.mkdir()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a folder")
    cache = notes / "cache" if under else notes
    rc = main(["evaluate", "--model", "simulator", "--data", str(data), "--out", str(tmp_path / "e.json"),
               "--cache-dir", str(cache)])
    line = one_error_line(capsys)
    assert rc == 1 and line.startswith(f"cardigan: error: --cache-dir {cache}: ")
    assert ("lies under the file" if under else "is a file;") in line
    assert notes.read_text() == "not a folder" and not (tmp_path / "e.json").exists()


@pytest.mark.parametrize("command", ["info", "synthesize", "tune", "refine", "export", "cine", "evaluate"])
@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_model_name_is_called_empty(command, name, capsys):
    rc = main([command, "--model", name])
    line = one_error_line(capsys)
    assert rc == 2 and "argument --model: the model name is empty; give demo, simulator" in line
    assert "no model in this folder" not in line


def test_opening_an_empty_model_name_says_it_is_empty(tmp_path, monkeypatch):
    from engine.errors import ModelFileError
    from engine.models import open_model

    monkeypatch.chdir(tmp_path)  # an empty path would be this folder
    (tmp_path / "latest_net_G.pth").write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"^the model name is empty \(give .*'demo' or 'simulator'\)$"):
        open_model("")


@pytest.mark.parametrize("args", [["cine", "--model", "simulator", "--random", "1", "--out", "loops"],
                                  ["export", "--model", "simulator", "--random", "1", "--cine", "--out", "loops"]])
@pytest.mark.parametrize("bpm", ["1", "300"])
def test_a_heart_rate_out_of_range_names_bpm(args, bpm, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main([*args, "--bpm", bpm])
    line = one_error_line(capsys)
    assert rc == 2 and f"argument --bpm: must be between 20 and 250 bpm, not {bpm}" in line
    assert not (tmp_path / "loops").exists()


@pytest.mark.parametrize("command", ["prepare", "phantom"])
@pytest.mark.parametrize("flag, value, fragment", [("--views", "X", "unknown view 'X' (choose from 2CH, 4CH)"),
                                                   ("--views", ",", "no views chosen"),
                                                   ("--instants", "ED,XX", "unknown instant 'XX' (choose from ED, ES)")])
def test_views_and_instants_refused_name_their_option(command, flag, value, fragment, tmp_path, capsys):
    rc = main([command, "--source", str(tmp_path), "--out", str(tmp_path / "out"), f"{flag}={value}"]
              if command == "prepare" else [command, "--out", str(tmp_path / "out"), f"{flag}={value}"])
    line = one_error_line(capsys)
    assert rc == 2 and f"argument {flag}" in line and fragment in line
    assert not (tmp_path / "out").exists()


def test_views_and_instants_are_read_in_any_case(tmp_path):
    assert main(["phantom", "--out", str(tmp_path / "out"), "--count", "1", "--size", "64",
                 "--views", "4ch", "--instants", "es"]) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "train" / "label").iterdir()) == ["patient0001_4CH_ES.png"]


@pytest.mark.parametrize("name", ["masks.hdf5", "mask.png"])
def test_an_hdf5_file_given_as_a_mask_is_told_to_be_prepared(name, tmp_path, capsys):
    from engine.data.phantom import write_phantom

    source = tmp_path / "phantom.hdf5"
    write_phantom(source, count=1, size=64, format="hdf5")
    given = source.rename(tmp_path / name) if name != source.name else source
    out = tmp_path / "image.png"
    rc = main(["synthesize", "--model", "simulator", "--mask", str(given), "--out", str(out)])
    line = one_error_line(capsys)
    assert rc == 1 and f"error: --mask {given}: an HDF5 dataset, not a single label map" in line
    assert f"cardigan prepare --source {given} --out FOLDER" in line and "not a readable image" not in line
    assert not out.exists()


def test_the_studio_says_how_to_prepare_an_hdf5_mask_in_its_own_words(tmp_path):
    from cardigan_app.wording import studio_line
    from engine.errors import MaskError
    from engine.maskio import read_label_map

    path = tmp_path / "seed.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(MaskError) as refused:
        read_label_map(path)
    assert studio_line(refused.value).endswith("Data \u203a Prepare dataset\u2026 with this file as the source "
                                               "writes its masks as PNG label maps")


def test_evaluate_runs_its_networks_on_the_threads_asked_for(tmp_path, monkeypatch):
    import torch

    import engine.evaluation.evaluate as evaluation

    seen = []

    def stop_at_once(*_args, **_kwargs):
        seen.append(torch.get_num_threads())
        raise KeyboardInterrupt

    before = torch.get_num_threads()
    monkeypatch.setattr(evaluation, "evaluate", stop_at_once)
    data = tmp_path / "data"
    data.mkdir()
    try:
        rc = main(["evaluate", "--model", "simulator", "--data", str(data), "--out", str(tmp_path / "e.json"),
                   "--quick", "--threads", "1"])
    finally:
        torch.set_num_threads(before)
    assert rc == 130 and seen == [1]


def test_evaluate_refuses_no_threads(tmp_path, capsys):
    rc = main(["evaluate", "--model", "simulator", "--data", str(tmp_path), "--threads", "0"])
    assert rc == 2 and "argument --threads: must be between 1 and 1024, not 0" in one_error_line(capsys)


def test_synthesize_names_mask_when_it_refuses_the_mask(tmp_path, capsys):
    missing = tmp_path / "missing.png"
    rc = main(["synthesize", "--model", "simulator", "--mask", str(missing), "--out", str(tmp_path / "x.png")])
    assert rc == 1 and one_error_line(capsys) == f"cardigan: error: --mask {missing}: no such file"


@pytest.mark.parametrize("flag, fragment", [("--init-from", "the model file name is empty; give a .safetensors"),
                                            ("--init-disc-from", "the run folder name is empty; give a training run")])
@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_warm_start_is_refused_not_taken_as_none(flag, fragment, name, tmp_path, capsys, monkeypatch):
    import engine.training.loop as loop

    monkeypatch.setattr(loop, "train", None)  # no run may start
    run = tmp_path / "run"
    rc = main(["train", "--data", str(tmp_path), "--run", str(run), "--dry-run", flag, name])
    line = one_error_line(capsys)
    assert rc == 2 and f"argument {flag}: {fragment}" in line and f"leave {flag} out" in line
    assert not run.exists()


def unreadable(tmp_path, name: str = "notes.png"):
    path = tmp_path / name
    path.write_text("not an image")
    return path


@pytest.mark.parametrize("case", ["missing", "unreadable", "no sector"])
def test_a_fan_from_image_that_cannot_be_used_is_named_by_its_option(case, mask_png, tmp_path, capsys):
    given = {"missing": tmp_path / "gone.png", "unreadable": unreadable(tmp_path), "no sector": mask_png}[case]
    out = tmp_path / "image.png"
    rc = main(["synthesize", "--model", "simulator", "--mask", str(mask_png), "--out", str(out),
               "--fan-from", str(given)])
    line = one_error_line(capsys)
    assert rc == 1 and line.startswith(f"cardigan: error: --fan-from {given}: ")
    assert {"missing": "no such file", "unreadable": "not an image", "no sector": "no sector found"}[case] in line
    assert not out.exists()


@pytest.mark.parametrize("flag", ["--ed", "--es"])
@pytest.mark.parametrize("case", ["missing", "unreadable"])
def test_a_cine_key_frame_that_cannot_be_read_is_named_by_its_option(flag, case, mask_png, tmp_path, capsys):
    given = tmp_path / "gone.png" if case == "missing" else unreadable(tmp_path)
    frames = {"--ed": str(mask_png), "--es": str(mask_png), flag: str(given)}
    out = tmp_path / "loop.gif"
    rc = main(["cine", "--model", "simulator", "--ed", frames["--ed"], "--es", frames["--es"], "--out", str(out)])
    line = one_error_line(capsys)
    assert rc == 1 and line.startswith(f"cardigan: error: {flag} {given}: ")
    assert ("no such file" if case == "missing" else "not a readable image") in line
    assert not out.exists()


@pytest.mark.parametrize("case, fragment", [("missing", "no such dataset or folder of masks"),
                                            ("a mask", "is a mask file, not a dataset or a folder of masks; give "
                                                       "the folder it is in"),
                                            ("empty", "no label maps"),
                                            ("unreadable masks", "1 unusable mask(s)")])
def test_a_like_dataset_that_cannot_be_used_is_named_by_its_option(case, fragment, mask_png, tmp_path, capsys,
                                                                   monkeypatch):
    import engine.export.run as export_run
    from engine.anatomy import template_mask
    from engine.anatomy.model_building import MIN_PATIENTS

    given = {"missing": tmp_path / "gone", "a mask": mask_png, "empty": tmp_path / "empty",
             "unreadable masks": tmp_path / "masks"}[case]
    if case in ("empty", "unreadable masks"):
        given.mkdir()
    else:  # refused before a model is loaded
        monkeypatch.setattr(export_run, "Synthesizer", None)
    if case == "unreadable masks":  # named as enough patients, so read: one of them cannot be
        for k in range(1, MIN_PATIENTS + 1):
            for view, phase in (("2CH", "ED"), ("2CH", "ES"), ("4CH", "ED"), ("4CH", "ES")):
                mask = template_mask(view, phase, seed=k, size=64)
                write_label_png(given / f"patient{k:04d}_{view}_{phase}.png", mask)
        unreadable(given, "patient0001_4CH_ED.png")
    out = tmp_path / "out"
    rc = main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--like", str(given),
               "--out", str(out)] + (["--like-fallback"] if case == "unreadable masks" else []))
    err = capsys.readouterr().err.strip().splitlines()  # notes about the export, then its refusal
    line = err[-1]
    assert not any(said.startswith("cardigan: error") for said in err[:-1]) and "Traceback" not in "".join(err)
    assert rc == 1 and line.startswith(f"cardigan: error: --like {given.resolve()}: ") and fragment in line
    assert not out.exists()


@pytest.mark.parametrize("case", ["missing", "a file"])
def test_a_like_dataset_is_refused_before_the_export_says_anything(case, tmp_path, capsys, monkeypatch):
    """--random 2 leaves valid and test empty, which the export warns of; a --like it cannot
    use is refused first, so the refusal is all that is said."""
    import engine.export.run as export_run

    given = tmp_path / "gone" if case == "missing" else tmp_path / "notes.txt"
    if case == "a file":
        given.write_text("mine")
    monkeypatch.setattr(export_run, "Synthesizer", None)  # refused before a model is loaded
    out = tmp_path / "out"
    rc = main(["export", "--model", "simulator", "--random", "2", "--like", str(given), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and err[0].startswith(f"cardigan: error: --like {given}: ")
    assert not out.exists()


@pytest.mark.parametrize("case", ["empty", "a dataset of 3 patients", "its label folder", "names of no patient"])
def test_a_like_folder_with_too_few_masks_is_refused_before_the_export_says_anything(case, tmp_path, capsys,
                                                                                    monkeypatch):
    """An empty folder, or one whose masks make fewer patients than a shape model needs, is
    refused from its file names alone: before any note, any mask read or any model loaded."""
    import engine.export.run as export_run
    import engine.export.sources as sources
    from engine.anatomy.model_building import MIN_PATIENTS
    from engine.data.phantom import write_phantom

    given = tmp_path / "like"
    if case == "empty":
        given.mkdir()
    elif case == "names of no patient":
        given.mkdir()
        for k in range(4 * MIN_PATIENTS):
            write_label_png(given / f"heart{k}.png", np.zeros((8, 8), np.uint8))
    else:
        write_phantom(given, count=3, size=64)
        given = given / "train" / "label" if case == "its label folder" else given
    monkeypatch.setattr(export_run, "Synthesizer", None)
    monkeypatch.setattr(sources, "read_label_map_and_text", None)
    out = tmp_path / "out"
    rc = main(["export", "--model", "simulator", "--random", "2", "--like", str(given), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and err[0].startswith(f"cardigan: error: --like {given}: ")
    assert ("no label maps" if case == "empty" else f"a shape model needs at least {MIN_PATIENTS} patients") in err[0]
    if case != "empty":
        assert "--like-fallback" in err[0]
    assert not out.exists()


def test_a_like_folder_too_small_for_a_model_goes_on_with_like_fallback(tmp_path, capsys):
    from engine.data.phantom import write_phantom

    write_phantom(tmp_path / "like", count=3, size=64)
    rc = main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--like", str(tmp_path / "like"),
               "--like-fallback", "--out", str(tmp_path / "out"), "--border-jitter", "0"])
    assert rc == 0 and "drawing from the shipped shape model instead" in capsys.readouterr().err


def test_export_reads_a_masks_folder_given_from_home(tmp_path, capsys, monkeypatch):
    """--masks=~/masks is not expanded by the shell; the export expands it, and so does the
    command's early check of the folder."""
    from engine.anatomy import template_mask

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "masks").mkdir()
    write_label_png(tmp_path / "masks" / "patient0001_4CH_ED.png", template_mask("4CH", "ED", size=64))
    rc = main(["export", "--model", "simulator", "--masks=~/masks", "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
    assert len(list((tmp_path / "out").glob("*/label/patient0001_4CH_ED.png"))) == 1


@pytest.mark.parametrize("command, typed, advice", [
    (["train", "--data", "D", "--run", "R", "--dataroot", "D"], "--dataroot", "give --data a folder cardigan prepare wrote"),
    (["train", "--data", "D", "--name", "R"], "--name", "give --run the run's own folder"),
    (["train", "--data", "D", "--run", "R", "--checkpoints_dir", "C"], "--checkpoints_dir", "give --run"),
    (["train", "--data", "D", "--run", "R", "--label_nc", "3"], "--label_nc", "not needed: the classes are fixed"),
    (["synthesize", "--name", "spade", "--mask", "m.png", "--out", "o.png"], "--name", "give --model the checkpoint folder"),
    (["prepare", "--dataroot=D", "--out", "O"], "--dataroot", "give --source"),
])
def test_an_nvlabs_option_name_is_answered_with_the_option_to_give(command, typed, advice, tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(command)
    line = one_error_line(capsys)
    assert rc == 2 and f"{typed} is NVlabs SPADE's option; {advice}" in line
    assert line.endswith(f"(see cardigan {command[0]} --help)") and "required" not in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command, typed, advice", [
    (["train", "--data", "D", "--run", "R", "--quick"], "--quick",
     "train has no quick mode (evaluate and bench have one); for a short trial run give --iters 20"),
    (["refine", "--model", "demo", "--data", "D", "--out", "o.safetensors", "--run-dir", "R", "--device", "cpu"],
     "--device", "refine always trains on the CPU"),
])
def test_an_option_of_another_command_is_answered_with_what_to_give(command, typed, advice, tmp_path, capsys,
                                                                   monkeypatch):
    """evaluate and bench take --quick, most commands --device: typed where it is not taken,
    the answer says what this command wants instead, not only that it is unrecognized."""
    monkeypatch.chdir(tmp_path)
    rc = main(command)
    line = one_error_line(capsys)
    assert rc == 2 and f"{typed}: {advice}" in line and "unrecognized" not in line
    assert list(tmp_path.iterdir()) == []


def test_an_option_another_command_lacks_is_one_it_takes(capsys):
    from engine.cli.foreign_options import SIBLING_OPTIONS
    from engine.cli.main import COMMANDS, build_parser

    parsers = {name: build_parser([name]).commands[name] for name, _ in COMMANDS}
    for option, lacking in SIBLING_OPTIONS.items():
        assert any(option in parser._option_string_actions for parser in parsers.values()), option
        for name in lacking:
            assert option not in parsers[name]._option_string_actions, (option, name)


def test_an_option_written_with_underscores_is_pointed_to_its_hyphens(capsys):
    assert main(["train", "--data", "D", "--run", "R", "--niter_decay", "3"]) == 2
    assert "--niter_decay: options are written with hyphens here; use --niter-decay" in one_error_line(capsys)


def test_an_unknown_option_points_to_its_commands_help(capsys):
    assert main(["export", "--model", "simulator", "--random", "1", "--out", "o", "--bogus"]) == 2
    line = one_error_line(capsys)
    assert "unrecognized arguments: --bogus" in line and line.endswith("(see cardigan export --help)")


def test_an_option_the_command_takes_is_never_called_spades(capsys):
    from engine.cli.foreign_options import SPADE_OPTIONS
    from engine.cli.main import COMMANDS, build_parser

    for name, _ in COMMANDS:
        taken = set(build_parser([name]).commands[name]._option_string_actions)
        assert not taken & set(SPADE_OPTIONS), name


@pytest.mark.parametrize("case", ["empty", "a prepared dataset", "CAMUS images beside their masks",
                                  "a prepared dataset's images"])
@pytest.mark.parametrize("cine", [[], ["--cine"]])
def test_a_masks_folder_without_masks_is_refused_before_the_export_says_anything(case, cine, tmp_path, capsys,
                                                                                monkeypatch):
    """A masks folder with nothing to export is refused from its file names alone, as the
    only line: before the notes on the jitter and the split, and before a model is loaded."""
    import engine.export.cine as export_cine
    import engine.export.run as export_run

    given = tmp_path / ("dataset/train/img" if case == "a prepared dataset's images" else "masks")
    given.mkdir(parents=True)
    if case == "a prepared dataset's images":  # echoes in img, their masks of the same names in label
        (given.parent / "label").mkdir()
        for name in ("patient0001_2CH_ED.png", "patient0001_2CH_ES.png"):
            Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64).astype(np.uint8)).save(given / name)
            write_label_png(given.parent / "label" / name, blocky_labels(64))
    elif case == "a prepared dataset":
        (given / "train" / "label").mkdir(parents=True)
        write_label_png(given / "train" / "label" / "patient0001_2CH_ED.png", blocky_labels(64))
    elif case == "CAMUS images beside their masks":
        for name in ("patient0001_2CH_ED.mhd", "patient0001_2CH_ED_gt.mhd"):
            (given / name).write_text("ObjectType = Image\n")
    monkeypatch.setattr(export_run, "Synthesizer", None)
    monkeypatch.setattr(export_cine, "Synthesizer", None)
    out = tmp_path / "out"
    rc = main(["export", "--model", "simulator", "--masks", str(given), "--out", str(out), *cine])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1, err
    assert err[0].startswith(f"cardigan: error: --masks {given}: ")
    said = {"CAMUS images beside their masks": "look like images",
            "a prepared dataset's images": f"this is a prepared dataset's image folder; its masks are in "
                                           f"{given.parent / 'label'}"}
    assert said.get(case, "no label maps") in err[0]
    assert not out.exists()


@pytest.mark.parametrize("case", ["a folder", "an existing file", "another suffix"])
def test_synthesize_names_out_when_it_refuses_the_output(case, mask_png, tmp_path, capsys):
    """A folder given as --out is called a folder (not a file with the wrong suffix), and
    every refusal of the output names --out, as the other commands' do."""
    out = {"a folder": tmp_path, "an existing file": mask_png.with_name("x.png"),
           "another suffix": tmp_path / "x.jpg"}[case]
    if case == "an existing file":
        out.write_bytes(b"mine")
    rc = main(["synthesize", "--model", "simulator", "--mask", str(mask_png), "--out", str(out)])
    line = one_error_line(capsys)
    said = {"a folder": "is a folder; name a file", "an existing file": "already exists",
            "another suffix": "output must end in"}[case]
    assert rc == 1 and line.startswith(f"cardigan: error: --out {out}: {said}")
    if case == "an existing file":
        assert out.read_bytes() == b"mine"


def test_the_mask_files_export_reads_are_listed_alike_in_its_help_its_refusal_and_the_readme(tmp_path, capsys):
    """One list, from the suffixes a masks folder is read for: a NRRD, MetaImage or 3D Slicer
    file in --masks is read, so the help, the refusal of an empty folder and the README say so."""
    from pathlib import Path

    from engine.maskio import MASK_FILE_PATTERNS, MASK_FILE_SUFFIXES

    assert sorted(MASK_FILE_PATTERNS.split(", ")) == sorted(f"*{suffix}" for suffix in MASK_FILE_SUFFIXES)
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert MASK_FILE_PATTERNS in " ".join(capsys.readouterr().out.split())
    (tmp_path / "empty").mkdir()
    assert main(["export", "--model", "simulator", "--masks", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 1
    assert f"no label maps ({MASK_FILE_PATTERNS})" in one_error_line(capsys)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"`--masks` reads a folder of label maps (`{MASK_FILE_PATTERNS}`)" in readme


@pytest.mark.parametrize("held", ["an earlier export", "a file of the user's"])
@pytest.mark.parametrize("source", [["--random", "1"], ["--masks", "MASKS"], ["--random", "2", "--cine"]])
def test_an_export_out_that_is_taken_is_refused_before_the_export_says_anything(held, source, tmp_path, capsys,
                                                                               monkeypatch):
    """An --out folder that holds something, without --overwrite, is refused as the only line:
    before the notes on the jitter, the plan and the split, and before a model is loaded."""
    import engine.export.cine as export_cine
    import engine.export.run as export_run

    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "patient0001_4CH_ED.png", blocky_labels(64))
    out = tmp_path / "out"
    out.mkdir()
    (out / ("manifest.json" if held == "an earlier export" else "notes.txt")).write_text("{}")
    monkeypatch.setattr(export_run, "Synthesizer", None)
    monkeypatch.setattr(export_cine, "Synthesizer", None)
    argv = [str(masks) if word == "MASKS" else word for word in source]
    rc = main(["export", "--model", "simulator", *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1, err
    assert err[0] == (f"cardigan: error: {out}: already exists and is not empty (use --overwrite to replace "
                      "a synthetic export (cardigan export), or choose another folder)")


@pytest.mark.parametrize("case, fragment", [("missing", ": no such folder"),
                                            ("a file", ": is a file; give a prepared dataset folder"),
                                            ("not a dataset", ": no {split}/img and {split}/label folders")])
@pytest.mark.parametrize("command, flag, split", [("tune", "--fit-tone", "valid"), ("tune", "--fit-ring-down", "valid"),
                                                  ("refine", "--data", "train")])
def test_a_dataset_that_cannot_be_used_is_named_by_its_option_before_the_model_is_read(
        case, fragment, command, flag, split, tmp_path, capsys):
    given = {"missing": tmp_path / "gone", "a file": unreadable(tmp_path), "not a dataset": tmp_path / "empty"}[case]
    if case == "not a dataset":
        given.mkdir()
    usable = tmp_path / "usable"  # a dataset a fit named before the broken one may use
    for folder in ("img", "label"):
        (usable / "valid" / folder).mkdir(parents=True)
    out = tmp_path / "out.safetensors"
    extra = (["--fit-tone", str(usable)] if flag == "--fit-ring-down" else []) + (
        ["--run-dir", str(tmp_path / "run")] if command == "refine" else [])
    # the simulator has no output settings and no refiner: reading it first would refuse it
    rc = main([command, "--model", "simulator", "--out", str(out), flag, str(given), *extra])
    line = one_error_line(capsys)
    assert rc == 1 and line.startswith(f"cardigan: error: {flag} {given}{fragment.format(split=split)}")
    assert not out.exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("command, taken", [
    (["synthesize", "--model", "simulator", "--mask", "MASK"], "--out OUT"),
    (["tune", "--model", "demo", "--tone", "1.1"], "--out OUT"),
    (["bench", "--device", "cpu", "--quick"], "--out OUT"),
    (["cine", "--model", "simulator", "--random", "1", "--size", "64"], "--out OUT"),
    (["phantom", "--format", "hdf5", "--count", "1"], "OUT"),
    (["phantom", "--count", "1"], "OUT"),
    (["export", "--model", "simulator", "--random", "1"], "OUT"),
])
def test_an_output_that_exists_is_refused_in_the_same_words_by_every_command(command, taken, mask_png, tmp_path,
                                                                            capsys):
    """Each command names the output, says it exists and how to go on: --overwrite, or
    another name (another folder, for a command that writes a folder)."""
    folder = command[0] in ("phantom", "export") and "hdf5" not in command
    suffix = {"synthesize": ".png", "tune": ".safetensors", "bench": ".json", "cine": ".gif", "phantom": ".h5"}
    out = tmp_path / ("taken" + ("" if folder else suffix[command[0]]))
    if folder:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    else:
        out.write_bytes(b"mine")
    argv = [str(mask_png) if word == "MASK" else word for word in command]
    assert main(argv + ["--out", str(out)]) == 1
    named = taken.replace("OUT", str(out))
    if folder:
        made = {"phantom": "a phantom dataset (cardigan phantom)", "export": "a synthetic export (cardigan export)"}
        said = (f"{named}: already exists and is not empty (use --overwrite to replace {made[command[0]]}, "
                "or choose another folder)")
    else:
        replaced = "an earlier report" if command[0] == "bench" else "it"
        said = f"{named}: already exists (use --overwrite to replace {replaced}, or choose another file)"
    assert one_error_line(capsys) == f"cardigan: error: {said}"


def test_every_seed_option_refuses_a_negative_seed_in_one_line(capsys):
    """numpy's generators refuse a negative seed and torch's take it, and the studio's seed
    boxes start at 0: every command's seed is 0 or more, refused as the command line is read."""
    import re

    from engine.cli.main import COMMANDS, build_parser

    seeds = [(name, flag) for name, _ in COMMANDS for action in build_parser([name]).commands[name]._actions
             for flag in action.option_strings if flag.endswith("-seed")]
    assert {("synthesize", "--seed"), ("synthesize", "--region-seed"), ("train", "--seed"), ("export", "--seed"),
            ("phantom", "--seed"), ("prepare", "--seed"), ("cine", "--seed"), ("evaluate", "--seed")} <= set(seeds)
    for name, flag in seeds:
        assert main([name, flag, "-1"]) == 2, (name, flag)
        line = one_error_line(capsys)
        assert re.fullmatch(rf"cardigan: error: argument {flag}: must be (0 or more|between 0 and \d+), not -1 "
                            rf"\(see cardigan {name} --help\)", line), line
