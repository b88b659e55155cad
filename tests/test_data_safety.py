"""Nothing a user has is lost: --overwrite, --out, run folders, splits and weights."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from engine.cli.main import main
from engine.data.phantom import write_phantom
from engine.errors import CardiganError, DataError, ModelFileError
from engine.models import GeneratorModel, load_model_file, save_model_file
from engine.nets import GeneratorConfig, SPADEGenerator
from test_prepare import build_camus2019, names


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.strip().splitlines() if line.startswith("cardigan: error: ")]
    assert len(errors) == 1 and err.strip().endswith(errors[0]), err
    return errors[0]


def test_overwrite_never_deletes_a_folder_with_a_foreign_manifest(tmp_path, capsys):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "manifest.json").write_text(json.dumps({"name": "x"}))
    (project / "thesis.txt").write_text("four years of work")
    rc = main(["phantom", "--out", str(project), "--count", "2", "--size", "64", "--overwrite"])
    assert rc == 1 and "not a cardiGAN dataset manifest" in one_line_error(capsys)
    assert (project / "thesis.txt").read_text() == "four years of work"


def test_each_command_replaces_only_its_own_kind_of_dataset(tmp_path, capsys):
    phantom = tmp_path / "phantom"
    write_phantom(phantom, count=3, size=64, seed=1)
    (phantom / "notes.txt").write_text("mine")
    # export must not replace a phantom (or prepared) dataset
    rc = main(["export", "--model", "simulator", "--random", "2", "--size", "64",
               "--out", str(phantom), "--overwrite"])
    assert rc == 1 and "holds a phantom dataset" in one_line_error(capsys)
    assert (phantom / "notes.txt").exists()
    # an export folder is replaced by another export
    exported = tmp_path / "export"
    assert main(["export", "--model", "simulator", "--random", "2", "--size", "64", "--out", str(exported)]) == 0
    assert main(["export", "--model", "simulator", "--random", "3", "--size", "64", "--out", str(exported),
                 "--overwrite"]) == 0
    capsys.readouterr()
    # phantom must not replace an export
    rc = main(["phantom", "--out", str(exported), "--count", "2", "--size", "64", "--overwrite"])
    assert rc == 1 and "holds a synthetic export" in one_line_error(capsys)
    # the same command replaces its own kind, but not the files a user added to it (issue 23)
    rc = main(["phantom", "--out", str(phantom), "--count", "2", "--size", "64", "--overwrite"])
    assert rc == 1 and "notes.txt" in one_line_error(capsys)
    (phantom / "notes.txt").unlink()
    assert main(["phantom", "--out", str(phantom), "--count", "2", "--size", "64", "--overwrite"]) == 0


def test_synthesize_never_writes_over_its_mask_or_an_existing_file(tmp_path, capsys):
    from engine.anatomy import template_mask
    from engine.maskio import write_label_png

    mask = tmp_path / "victim.png"
    write_label_png(mask, template_mask("4CH", "ED", seed=1, size=64))
    before = mask.read_bytes()
    rc = main(["synthesize", "--model", "simulator", "--mask", str(mask), "--out", str(mask), "--overwrite"])
    assert rc == 1 and "is the input mask" in one_line_error(capsys)
    assert mask.read_bytes() == before
    out = tmp_path / "echo.png"
    out.write_bytes(b"keep me")
    rc = main(["synthesize", "--model", "simulator", "--mask", str(mask), "--out", str(out)])
    assert rc == 1 and "--overwrite" in one_line_error(capsys)
    assert out.read_bytes() == b"keep me"
    assert main(["synthesize", "--model", "simulator", "--mask", str(mask), "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes() != b"keep me"


def test_a_run_folder_is_locked_while_a_training_uses_it(tmp_path):
    from engine.training.run_folder import RunFolder

    run = RunFolder(tmp_path / "run")
    with run.lock():
        with pytest.raises(CardiganError, match=r"already running in this folder \(PID \d+\)"):
            with run.lock():
                pass
    with run.lock():  # released when the first training ended
        pass


def test_a_training_that_ends_leaves_no_lock_file_and_a_killed_ones_blocks_nothing(tmp_path):
    """The lock is the operating system's: the .lock file of a training that ended is
    removed, and one a killed training left behind (nobody holding it) lets the next start."""
    from engine.training.run_folder import LOCK_NAME, RunFolder

    run = RunFolder(tmp_path / "run")
    with run.lock():
        assert (run.root / LOCK_NAME).read_text() == str(os.getpid())
    assert not (run.root / LOCK_NAME).exists()
    (run.root / LOCK_NAME).write_text("999999")  # a killed training's file
    with run.lock():
        pass
    assert list(run.root.iterdir()) == []
    with pytest.raises(CardiganError):  # a refused start leaves the holder's file in place
        with run.lock():
            with run.lock():
                pass
    assert not (run.root / LOCK_NAME).exists()


def test_a_training_that_locked_a_file_removed_meanwhile_locks_the_new_one(tmp_path, monkeypatch):
    """One training ends (removing its lock file) while another has it open: the second
    must not hold a file no longer there, which a third would not see."""
    import engine.training.run_folder as run_folder
    from engine.training.run_folder import LOCK_NAME, RunFolder

    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    opened = []
    real_open = run_folder.open_lock_file

    def open_then_lose(path):
        handle = real_open(path)
        if not opened:  # the first open's file is removed before it is locked
            path.unlink()
        opened.append(handle)
        return handle

    monkeypatch.setattr(run_folder, "open_lock_file", open_then_lose)
    with run.lock():
        assert len(opened) == 2 and (run.root / LOCK_NAME).read_text() == str(os.getpid())


def test_a_second_training_process_is_refused_while_the_first_runs(tmp_path):
    """The lock is held by another process (as a concurrent `train --resume` would be)."""
    import subprocess
    import sys

    from engine.training.run_folder import RunFolder

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from engine.training.run_folder import RunFolder;"
         "from pathlib import Path\nwith RunFolder(Path(sys.argv[1])).lock():\n"
         "    print('held', flush=True); time.sleep(60)", str(tmp_path / "run")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CardiganError, match=f"PID {holder.pid}"):
            with RunFolder(tmp_path / "run").lock():
                pass
    finally:
        holder.kill()
        holder.wait()
    with RunFolder(tmp_path / "run").lock():  # a killed holder leaves no stale lock
        pass


def test_camus2019_patient_in_training_and_testing_is_refused(tmp_path, capsys):
    root = build_camus2019(tmp_path / "camus", names(1, 4), testing_gt=names(4, 2))  # patient0004 twice
    rc = main(["prepare", "--source", str(root), "--out", str(tmp_path / "out")])
    assert rc == 1 and "patient0004" in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_integer_weights_are_refused(tmp_path, suffix):
    config = GeneratorConfig(ngf=4, image_size=64)
    generator = SPADEGenerator(config)
    if suffix == ".safetensors":
        path = save_model_file(GeneratorModel(config=config, generator=generator), tmp_path / "m.safetensors")
        from safetensors import safe_open
        from safetensors.torch import save_file

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        tensors["generator.conv_img.weight"] = tensors["generator.conv_img.weight"].to(torch.int32)
        save_file(tensors, str(path), metadata=metadata)
        with pytest.raises(ModelFileError, match="floating point"):
            load_model_file(path)
    else:
        from engine.models import open_model

        state = {k: (v.to(torch.int64) if k == "conv_img.weight" else v)
                 for k, v in generator.state_dict().items()}
        path = tmp_path / "latest_net_G.pth"
        torch.save(state, path)
        with pytest.raises(ModelFileError, match="floating point"):
            open_model(path)


def test_staging_refuses_to_replace_a_prepared_dataset_with_a_phantom(tmp_path):
    from engine.data.staging import check_output

    out = tmp_path / "real"
    write_phantom(out, count=2, size=64, seed=2)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["source"]["format"] = "hdf5"  # as cardigan prepare writes it
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="holds a prepared dataset"):
        check_output(out, overwrite=True, replaces="phantom")
    check_output(out, overwrite=True, replaces="prepared")
    assert np.any([p.is_file() for p in (out / "train" / "img").iterdir()])


def test_staging_folders_of_killed_runs_are_removed_live_ones_kept(tmp_path):
    from engine.data.staging import WRITER_LOCK
    from engine.fileio import try_lock

    out = tmp_path / "data"
    dead = tmp_path / ".data.k1ll3d.partial"  # its writer was killed: nobody holds the lock
    (dead / "train" / "img").mkdir(parents=True)
    (dead / WRITER_LOCK).write_text("")
    (dead / "train" / "img" / "0001.png").write_bytes(b"x" * 1000)
    live = tmp_path / ".data.w0rk1ng.partial"  # another writer, still running
    live.mkdir()
    (live / WRITER_LOCK).write_text("")
    other = tmp_path / ".elsewhere.abc.partial"  # staging for another output
    other.mkdir()
    with open(live / WRITER_LOCK, "a+") as held:
        assert try_lock(held)
        assert main(["phantom", "--out", str(out), "--count", "2", "--size", "64"]) == 0
        assert live.is_dir()
    assert not dead.exists() and other.is_dir()
    assert not (out / WRITER_LOCK).exists()  # the lock never lands in the dataset


def test_a_users_hidden_folder_named_like_a_staging_folder_is_never_deleted(tmp_path):
    """``.data.backup.partial`` beside ``data`` matches the name a run stages ``data`` under,
    has no lock file and is old, but holds what no staging does: it is the user's, and stays.
    Killed runs' staging folders, of each layout, with a write's leftovers, or empty, go."""
    from engine.data.staging import WRITER_LOCK, remove_abandoned_staging

    users = tmp_path / ".data.backup.partial"
    (users / "train" / "img").mkdir(parents=True)
    (users / "train" / "img" / "0001.png").write_bytes(b"x")
    (users / "notes.txt").write_text("mine")
    nested = tmp_path / ".data.photos.partial"  # a staging folder's names, holding a user's file deeper down
    (nested / "train" / "img").mkdir(parents=True)
    (nested / "train" / "img" / "holiday.jpg").write_bytes(b"x")
    png = tmp_path / ".data.k1ll3d.partial"
    (png / "train" / "img").mkdir(parents=True)
    (png / "train" / "label").mkdir()
    (png / "train" / "img" / "0001.png").write_bytes(b"x")
    (png / WRITER_LOCK).write_text("")
    (png / ".manifest.abc.json.tmp").write_text("{")
    nifti = tmp_path / ".data.n1ft1.partial"
    (nifti / "database_nifti" / "patient0001" / ".x.nii.gz.abc.writing").mkdir(parents=True)
    (nifti / "database_nifti" / "patient0001" / "patient0001_2CH_ED.nii.gz").write_bytes(b"x")
    (nifti / "database_nifti" / "patient0001" / ".x.nii.gz.abc.writing" / "volume.nii.gz").write_bytes(b"x")
    (nifti / "database_split").mkdir()
    (nifti / "database_split" / "subgroup_training.txt").write_text("patient0001")
    (nifti / "manifest.json").write_text("{}")
    empty = tmp_path / ".data.3mpty.partial"
    empty.mkdir()
    for folder in (users, nested, png, nifti, empty):
        os.utime(folder, (1.0, 1.0))  # long past the grace a writer gets to take its lock
    assert sorted(remove_abandoned_staging(tmp_path / "data")) == sorted([png, nifti, empty])
    assert (users / "notes.txt").read_text() == "mine" and (nested / "train" / "img" / "holiday.jpg").is_file()


@pytest.mark.parametrize("kept_as", ["data", "dataset"])  # the name it has now, the one older versions gave it
def test_a_dataset_moved_aside_by_a_run_killed_while_replacing_it_is_put_back(tmp_path, capsys, kept_as):
    import os

    out = tmp_path / "data"
    write_phantom(out, count=2, size=64, seed=0)
    listed = sorted(p.relative_to(out) for p in out.rglob("*"))
    aside = tmp_path / ".data.k1ll3d.old"  # killed between moving the old dataset away and the new one in
    aside.mkdir()
    os.replace(out, aside / kept_as)
    assert main(["phantom", "--out", str(out), "--count", "2", "--size", "64"]) == 1  # not silently a new one
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == listed and not aside.exists()

    stale = tmp_path / ".data.d3l3t1ng.old"  # killed while deleting the replaced dataset: the new one is in place
    (stale / kept_as / "train").mkdir(parents=True)
    os.utime(stale, (1.0, 1.0))
    assert main(["phantom", "--out", str(out), "--count", "2", "--size", "64", "--overwrite"]) == 0
    assert not stale.exists() and (out / "manifest.json").is_file()


def test_a_ctrl_c_between_moving_the_old_dataset_aside_and_the_new_one_in_puts_the_old_one_back(
        tmp_path, monkeypatch):
    """The old dataset was put back only when the second move failed with an OSError; a Ctrl-C
    there deleted it with the folder it had been moved to, leaving no dataset at all."""
    from pathlib import Path

    out = tmp_path / "data"
    write_phantom(out, count=2, size=64, seed=0)
    listed = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_replace, aside = os.replace, []

    def interrupted_second_move(source, target):
        if Path(source) == out:
            aside.append(target)
        elif Path(target) == out and aside and not Path(source).is_relative_to(aside[0].parent):
            raise KeyboardInterrupt  # the old dataset is aside; the new one was about to go in
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", interrupted_second_move)
    with pytest.raises(KeyboardInterrupt):
        write_phantom(out, count=3, size=64, seed=1, overwrite=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert aside, "the old dataset was never moved aside"
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == listed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing aside, no staging left


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_a_run_that_writes_nothing_leaves_no_empty_parent_folders_it_made(tmp_path, stop):
    """The output's missing parents were made for the staging folder and left behind, empty,
    when the run was interrupted or failed: only the staging folder was removed."""
    (tmp_path / "kept").mkdir()  # a parent that was there before stays, empty or not
    out = tmp_path / "kept" / "a" / "b" / "c"

    def stopped(update):
        if update.done:
            raise stop

    with pytest.raises((KeyboardInterrupt, DataError)):
        write_phantom(out, count=2, size=64, seed=0, progress=stopped, workers=1)
    assert [p.name for p in tmp_path.rglob("*")] == ["kept"]


def test_a_parent_folder_something_else_was_put_in_meanwhile_stays(tmp_path):
    out = tmp_path / "a" / "b" / "c"

    def stopped(update):
        (tmp_path / "a" / "other.txt").write_text("not ours")  # another program's file beside ours
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_phantom(out, count=2, size=64, seed=0, progress=stopped, workers=1)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["a", "a/other.txt"]
