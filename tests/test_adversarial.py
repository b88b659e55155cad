"""The second adversarial pass (issue 23): nothing lost, nothing silently wrong, no hang.

One test (or one parametrised family) per finding; each failed before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from test_bad_inputs import one_line

TINY_TRAIN = ["--preset", "lite", "--ngf", "4", "--ndf", "8", "--batch-size", "2", "--device", "cpu",
              "--size", "64", "--threads", "1"]


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> Path:
    """A tiny phantom dataset (3 patients, 64 px) shared by the tests of this module."""
    from engine.data.phantom import write_phantom

    out = tmp_path_factory.mktemp("adversarial") / "data"
    write_phantom(out, count=3, size=64, seed=3, workers=1)
    return out


# -- 1. a .lock symlink never writes through to its target ------------------------------------

@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_lock_that_is_not_a_regular_file_is_refused_and_its_target_untouched(kind, tmp_path, phantom,
                                                                                capsys):
    import os

    victim = tmp_path / "victim.txt"
    victim.write_text("my notes")
    run = tmp_path / "run"
    run.mkdir()
    if kind == "symlink":
        (run / ".lock").symlink_to(Path("..") / "victim.txt")
    else:
        os.mkfifo(run / ".lock")
    assert main(["train", "--run", str(run), "--resume", "--data", str(phantom)]) == 1
    assert ".lock" in one_line(capsys)
    assert victim.read_text() == "my notes"


# -- 2. phantom --format hdf5 --overwrite replaces only an HDF5 file this program wrote --------

def foreign_hdf5(path: Path) -> None:
    import h5py
    import numpy as np

    with h5py.File(path, "w") as handle:
        handle.create_dataset("train/patient0001/2CH/im", data=np.zeros((2, 8, 8), np.uint8))


@pytest.mark.parametrize("victim", ["thesis.txt", "source.hdf5", "model.safetensors"])
def test_phantom_hdf5_overwrite_never_replaces_a_file_it_did_not_write(victim, tmp_path, capsys):
    path = tmp_path / victim
    if victim.endswith(".hdf5"):
        foreign_hdf5(path)
    elif victim.endswith(".safetensors"):
        from cardigan_app.testing import make_model_file

        make_model_file(path)
    else:
        path.write_text("four years of work")
    before = path.read_bytes()
    rc = main(["phantom", "--format", "hdf5", "--out", str(path), "--overwrite", "--count", "3", "--size", "64"])
    assert rc == 1 and "not an HDF5 file written by cardiGAN" in one_line(capsys)
    assert path.read_bytes() == before


def test_phantom_hdf5_overwrite_replaces_its_own_file(tmp_path):
    out = tmp_path / "p.hdf5"
    assert main(["phantom", "--format", "hdf5", "--out", str(out), "--count", "3", "--size", "64"]) == 0
    assert main(["phantom", "--format", "hdf5", "--out", str(out), "--count", "3", "--size", "64",
                 "--seed", "1", "--overwrite"]) == 0


# -- 18. Ctrl-C at any moment of a command's start is one line, exit 130 -----------------------

INTERRUPT_DURING_IMPORT = """
import os, signal, sys

class InterruptOnImport:  # Ctrl-C exactly while one module is being imported
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptOnImport())
from cardigan_app.launcher import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("module", ["engine.cli.main", "engine.cli.export", "engine.data.phantom"],
                         ids=["loading-the-cli", "building-the-parser", "running-the-command"])
def test_ctrl_c_while_a_command_starts_prints_one_line(module, tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", INTERRUPT_DURING_IMPORT, module, "phantom",
                           "--out", str(tmp_path / "p"), "--count", "2", "--size", "32"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "cardigan: interrupted", done.stderr


# -- 3. evaluate --out never replaces what it reads, nor a file without --overwrite -------------

@pytest.mark.parametrize("target, flags, fragment", [
    ("model", ["--overwrite"], "is the model being evaluated"),
    ("manifest", ["--overwrite"], "inside the dataset being evaluated"),
    ("notes", [], "already exists (use --overwrite"),
    ("notes", ["--overwrite"], "not an evaluation report"),
])
def test_evaluate_out_never_replaces_its_inputs_or_a_foreign_file(target, flags, fragment, tiny_model, phantom,
                                                                   tmp_path, capsys):
    out = {"model": tiny_model, "manifest": phantom / "manifest.json", "notes": tmp_path / "notes.json"}[target]
    if target == "notes":
        out.write_text('{"my": "results"}')
    before = out.read_bytes()
    rc = main(["evaluate", "--model", str(tiny_model), "--data", str(phantom), "--out", str(out), *flags])
    assert rc == 1 and fragment in one_line(capsys)
    assert out.read_bytes() == before


# -- 11. ranges are checked as the command line is read ------------------------------------------

@pytest.mark.parametrize("command, fragment", [
    (["export", "--model", "simulator", "--random", "1000000000"], "between 1 and 1000000"),
    (["export", "--model", "simulator", "--random", "2", "--variations", "5000"], "between 1 and 1000"),
    (["evaluate", "--model", "simulator", "--data", ".", "--variations", "1000000000"], "between 1 and 100"),
    (["evaluate", "--model", "simulator", "--data", ".", "--size", "800000"], "between 16 and 1024"),
    (["evaluate", "--model", "simulator", "--data", ".", "--size", "100"], "multiple of 8"),
    (["phantom", "--count", "0"], "between 1 and 1000000"),
], ids=["export-random", "export-variations", "evaluate-variations", "evaluate-size", "evaluate-size-8",
        "phantom-count"])
def test_out_of_range_numbers_are_refused_before_any_work(command, fragment, tmp_path, capsys):
    import time

    started = time.perf_counter()
    rc = main([*command, "--out", str(tmp_path / "out")])
    assert rc == 2 and fragment in one_line(capsys)
    assert time.perf_counter() - started < 5


# -- 20. evaluate: a missing data folder and an unwritable report folder, said at once -----------

def test_evaluate_names_a_missing_data_folder_at_once(tmp_path, capsys):
    rc = main(["evaluate", "--model", "simulator", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "e.json")])
    assert rc == 1 and one_line(capsys).endswith("nope: no such folder")


def test_evaluate_refuses_an_unwritable_report_folder_before_evaluating(phantom, tmp_path, capsys):
    from mounts import read_only_folder

    with read_only_folder(tmp_path / "read-only") as folder:
        rc = main(["evaluate", "--model", "simulator", "--data", str(phantom), "--out", str(folder / "e.json")])
        assert rc == 1 and "not writable" in one_line(capsys)


# -- 4. a new training never reuses a folder that holds something --------------------------------

def earlier_run_without_states(run: Path) -> dict[str, bytes]:
    """A run folder as a training killed before its first saved state leaves it."""
    from engine.training.config import resolve_config
    from engine.training.run_folder import RunFolder

    folder = RunFolder(run)
    folder.create()
    folder.write_config(resolve_config("lite", ngf=4, ndf=8, image_size=64))
    folder.append_stats({"iter": 10, "epoch": 0, "Loss/G_GAN": 1.0})
    folder.model_path.write_bytes(b"the earlier run's model")
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}


@pytest.mark.parametrize("holds, flags, fragment", [
    ("earlier run", [], "already holds a training run"),
    ("own config", [], "is not empty"),
    ("own config", ["--overwrite"], "not a training run's (config.json)"),
    ("notes", ["--overwrite"], "not a training run's (notes.txt)"),
])
def test_a_new_training_refuses_a_folder_that_holds_anything(holds, flags, fragment, phantom, tmp_path, capsys):
    run = tmp_path / "run"
    if holds == "earlier run":
        before = earlier_run_without_states(run)
    else:
        run.mkdir()
        if holds == "notes":
            earlier_run_without_states(run)
            (run / "notes.txt").write_text("mine")
        else:
            (run / "config.json").write_text('{"my": "settings"}')
        before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    rc = main(["train", "--data", str(phantom), "--run", str(run), *TINY_TRAIN, "--iters", "2", *flags])
    assert rc == 1 and fragment in one_line(capsys)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != ".lock"} == before


def test_overwrite_replaces_an_earlier_run(phantom, tmp_path):
    run = tmp_path / "run"
    earlier_run_without_states(run)
    assert main(["train", "--data", str(phantom), "--run", str(run), *TINY_TRAIN, "--iters", "2",
                 "--overwrite"]) == 0
    assert (run / "model.safetensors").read_bytes() != b"the earlier run's model"
    assert [json.loads(line)["iter"] for line in (run / "stats.jsonl").read_text().splitlines()] == [2]


# -- 6. (second half) a run folder inside the dataset it trains on is refused ---------------------

def test_a_run_folder_inside_its_dataset_is_refused(phantom, tmp_path, capsys):
    rc = main(["train", "--data", str(phantom), "--run", str(phantom / "run"), *TINY_TRAIN, "--iters", "2"])
    assert rc == 1 and "inside the dataset" in one_line(capsys)
    assert not (phantom / "run").exists()


# -- 5. no command overwrites what it reads -------------------------------------------------------

def test_export_like_never_replaces_its_own_source(tmp_path, capsys):
    source = tmp_path / "E1"
    assert main(["export", "--model", "simulator", "--random", "2", "--size", "64", "--out", str(source)]) == 0
    manifest = (source / "manifest.json").read_bytes()
    capsys.readouterr()
    rc = main(["export", "--model", "simulator", "--random", "2", "--size", "64", "--like", str(source),
               "--out", str(source), "--overwrite"])
    assert rc == 1 and "would delete the source" in one_line(capsys)
    assert (source / "manifest.json").read_bytes() == manifest


# -- 6. --overwrite removes only what the dataset lists, never files a user added ----------------

@pytest.mark.parametrize("added", ["NOTES.md", "my_evaluations/run1.json", "train/img/extra.png", "run/.lock"])
def test_overwrite_refuses_a_dataset_holding_files_it_does_not_list(added, tmp_path, capsys):
    from engine.data.phantom import write_phantom

    out = tmp_path / "data"
    write_phantom(out, count=3, size=32, seed=1, workers=1)
    (out / added).parent.mkdir(parents=True, exist_ok=True)
    (out / added).write_text("mine")
    rc = main(["phantom", "--out", str(out), "--count", "2", "--size", "32", "--overwrite"])
    assert rc == 1 and added.split("/")[0] in one_line(capsys)
    assert (out / added).read_text() == "mine"


# -- 7. non-finite output is never written ------------------------------------------------------

@pytest.fixture(scope="module")
def overflowing_model(tmp_path_factory) -> Path:
    """A model whose weights are finite but overflow: every output pixel is NaN or infinite."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    from cardigan_app.testing import make_model_file

    path = make_model_file(tmp_path_factory.mktemp("overflow") / "huge.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    tensors = {k: (v * 1e30 if v.is_floating_point() and k.endswith("weight") else v) for k, v in tensors.items()}
    assert all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point())
    save_file(tensors, str(path), metadata=metadata)
    return path


@pytest.fixture(scope="module")
def mask_png(tmp_path_factory) -> Path:
    from engine.anatomy import template_mask
    from engine.maskio import write_label_png

    path = tmp_path_factory.mktemp("mask") / "patient0001_4CH_ED.png"
    write_label_png(path, template_mask("4CH", "ED", seed=1, size=64))
    return path


@pytest.mark.parametrize("command", [
    ["synthesize", "--out", "x.npy"], ["synthesize", "--out", "x.png"],
    ["export", "--random", "2", "--size", "64", "--out", "e"], ["export", "--masks", "MASKS", "--out", "e"],
], ids=["synthesize-npy", "synthesize-png", "export-random", "export-masks"])
def test_non_finite_output_is_never_written(command, overflowing_model, mask_png, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = [str(mask_png.parent) if part == "MASKS" else part for part in command]
    if command[0] == "synthesize":
        command += ["--mask", str(mask_png)]
    rc = main([*command, "--model", str(overflowing_model), "--device", "cpu"])
    line = one_line(capsys)
    assert rc == 1 and str(overflowing_model) in line and "NaN or infinite" in line and "overflow" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- 8. a diverging training stops at once and keeps the last good state and model --------------

@pytest.fixture(scope="module")
def trained_run(phantom, tmp_path_factory) -> Path:
    """A tiny run of 2 iterations with its state saved (tests copy it before changing it)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", "--data", str(phantom), "--run", str(run), *TINY_TRAIN, "--iters", "2"]) == 0
    return run


def copy_of(run: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return copy


def snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def test_a_learning_rate_that_diverges_stops_the_run_and_keeps_the_good_one(trained_run, tmp_path, capsys):
    run = copy_of(trained_run, tmp_path)
    before = snapshot(run)
    rc = main(["train", "--run", str(run), "--resume", "--lr", "1e35", "--iters", "40", "--threads", "1"])
    line = one_line(capsys)
    assert rc == 1 and "training diverged at iteration" in line and "state of iteration 2" in line
    after = snapshot(run)
    assert after.pop("config.json") != before.pop("config.json")  # it records the new --lr
    assert after == before  # no NaN in stats.jsonl, no new state, the model untouched


def test_a_state_holding_nan_is_never_resumed(trained_run, tmp_path, capsys):
    import torch

    run = copy_of(trained_run, tmp_path)
    path = run / "checkpoints" / "state_00000002.pt"
    state = torch.load(path, weights_only=True)
    name = next(iter(state["generator"]))
    state["generator"][name] = torch.full_like(state["generator"][name], float("nan"))
    torch.save(state, path)
    model = (run / "model.safetensors").read_bytes()
    rc = main(["train", "--run", str(run), "--resume", "--iters", "4", "--threads", "1"])
    assert rc == 1 and "NaN or infinite" in one_line(capsys)
    assert (run / "model.safetensors").read_bytes() == model


def test_divergence_is_checked_on_every_loss_and_weight():
    import torch

    from engine.training.divergence import TrainingDiverged, first_non_finite, stop_if_losses_diverged

    class Run:
        model_path = Path("model.safetensors")

        def saved_iterations(self):
            return [4]

    with pytest.raises(TrainingDiverged, match="iteration 7: the D_fake loss is nan; .*state of iteration 4"):
        stop_if_losses_diverged({"G_GAN": torch.tensor(1.0), "D_fake": torch.tensor(float("nan"))}, 7, Run())
    stop_if_losses_diverged({"G_GAN": 1.0}, 7, Run())
    assert first_non_finite({"a": {"w": torch.ones(2)}, "b": [torch.tensor([1.0, float("inf")])]}) == "b.0"
    assert first_non_finite({"f8": torch.ones(2).to(torch.float8_e4m3fn), "i": torch.ones(2, dtype=torch.int64)}) is None


# -- 9 and 16. resume checks config.json against the state's own configuration -------------------

CONFIG_EDITS = {
    "image size": (lambda c: c.update(image_size=128), "image_size 64 in the state, 128 now"),
    "ngf": (lambda c: c.update(ngf=6), "ngf 4 in the state, 6 now"),
    "modulation": (lambda c: c.update(modulation="spade"), "modulation 'clade' in the state"),
    "num_d": (lambda c: c.update(num_d=3), "num_d 2 in the state, 3 now"),
    "preset": (lambda c: c.update(preset="nope"), "preset is \"nope\""),
    "ngf text": (lambda c: c.update(ngf="abc"), "ngf is \"abc\"; it must be a whole number"),
    "ngf null": (lambda c: c.update(ngf=None), "ngf is null"),
    "ngf fraction": (lambda c: c.update(ngf=10.5), "ngf is 10.5"),
    "lr text": (lambda c: c.update(lr="0.1"), "lr is \"0.1\"; it must be a number"),
    "data number": (lambda c: c.update(data=12), "data is 12"),
}


@pytest.mark.parametrize("case", CONFIG_EDITS)
def test_resume_refuses_an_edited_config(case, trained_run, tmp_path, capsys):
    edit, fragment = CONFIG_EDITS[case]
    run = copy_of(trained_run, tmp_path)
    config = json.loads((run / "config.json").read_text())
    edit(config)
    (run / "config.json").write_text(json.dumps(config))
    before = snapshot(run)
    rc = main(["train", "--run", str(run), "--resume", "--iters", "4", "--threads", "1"])
    assert rc == 1 and fragment in one_line(capsys)
    assert snapshot(run) == before


@pytest.mark.parametrize("content", [b"[1, 2, 3]", b"{\"ngf\": \xff\xfe}", b"{\"ngf\": " + b"7" * 5000 + b"}",
                                     b"[" * 200_000 + b"]" * 200_000],
                         ids=["a-list", "invalid-utf8", "5000-digits", "nested-200k"])
def test_a_damaged_config_is_one_line(content, trained_run, tmp_path, capsys):
    run = copy_of(trained_run, tmp_path)
    (run / "config.json").write_bytes(content)
    assert main(["train", "--run", str(run), "--resume", "--iters", "4"]) == 1
    line = one_line(capsys)
    assert "config.json" in line and len(line) < 300


@pytest.mark.parametrize("edit, fragment", [
    (lambda s: s.update(iteration="abc"), "its iteration is 'abc'"),
    (lambda s: s.pop("rng"), "random number generator state"),
    (lambda s: s.pop("opt_d"), "lacks opt_d"),
], ids=["iteration-text", "no-rng", "no-optimiser"])
def test_a_crafted_state_is_one_line(edit, fragment, trained_run, tmp_path, capsys):
    import torch

    run = copy_of(trained_run, tmp_path)
    path = run / "checkpoints" / "state_00000002.pt"
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)
    assert main(["train", "--run", str(run), "--resume", "--iters", "4"]) == 1
    assert fragment in one_line(capsys)


def test_stats_lines_that_are_not_utf8_or_not_numbers_are_skipped(trained_run, tmp_path):
    from engine.training.run_folder import RunFolder

    run = copy_of(trained_run, tmp_path)
    with open(run / "stats.jsonl", "ab") as handle:
        handle.write(b'{"iter": 1, "Loss/G": \xff}\n{"iter": "x"}\n{"iter": 1e999}\n{"iter": 1, "Loss/G": NaN}\n'
                     b'[1]\n{"iter": 3, "Loss/G": 0.5}\n')
    records, skipped = RunFolder(run).read_stats_counted()
    assert [r["iter"] for r in records] == [2, 3] and skipped == 5
    assert main(["train", "--run", str(run), "--resume", "--iters", "4", "--threads", "1"]) == 0
    assert [json.loads(line)["iter"] for line in (run / "stats.jsonl").read_text().splitlines()] == [2, 4]


# -- 10. one patient in two splits, short PNG data and broken links are never silent -------------

@pytest.mark.parametrize("link", ["hard", "soft"])
def test_an_hdf5_patient_linked_into_another_split_is_refused(link, tmp_path, capsys):
    import h5py

    source = tmp_path / "seed.hdf5"
    assert main(["phantom", "--format", "hdf5", "--out", str(source), "--count", "3", "--size", "32"]) == 0
    with h5py.File(source, "a") as handle:
        first = f"/train/{next(iter(handle['train']))}"
        handle["test/patient9999"] = handle[first] if link == "hard" else h5py.SoftLink(first)
    capsys.readouterr()
    rc = main(["prepare", "--source", str(source), "--out", str(tmp_path / "out"), "--size", "32"])
    assert rc == 1 and f"is a link to {first}" in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_camus_patient_in_training_and_testing_differing_only_in_case_is_refused(tmp_path, capsys):
    from test_prepare import build_camus2019, names, native_shape, write_camus_patient

    root = build_camus2019(tmp_path / "camus", names(1, 3))
    write_camus_patient(root / "testing" / "PATIENT0001", "PATIENT0001", native_shape("patient0001"), ".mhd")
    rc = main(["prepare", "--source", str(root), "--out", str(tmp_path / "out"), "--size", "32"])
    assert rc == 1 and "PATIENT0001, patient0001 are in both training/ and testing/" in one_line(capsys)


def png_with_rows(width: int, height: int, rows: int) -> bytes:
    """A greyscale PNG whose complete zlib stream holds only ``rows`` of its ``height`` rows."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = b"".join(b"\x00" + bytes([1]) * width for _ in range(rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels))
            + chunk(b"IEND", b""))


def test_a_png_whose_data_ends_early_is_refused_not_padded(tmp_path, capsys):
    from engine.errors import MaskError
    from engine.maskio import read_label_map

    short = tmp_path / "short.png"
    short.write_bytes(png_with_rows(64, 64, 10))
    with pytest.raises(MaskError, match="data ends early"):
        read_label_map(short)
    full = tmp_path / "full.png"
    full.write_bytes(png_with_rows(64, 64, 64))
    assert (read_label_map(full) == 1).all()
    rc = main(["synthesize", "--model", "simulator", "--mask", str(short), "--out", str(tmp_path / "x.png")])
    assert rc == 1 and "data ends early" in one_line(capsys)


def test_a_dataset_says_how_many_links_are_broken_and_which_label_is_short(tmp_path):
    from engine.data.dataset import PairedDataset
    from engine.data.phantom import write_phantom
    from engine.errors import DataError

    data = tmp_path / "data"
    write_phantom(data, count=3, size=32, seed=1, workers=1)
    images = data / "train" / "img"
    (images / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (images / "gone2.png").symlink_to(tmp_path / "nowhere2.png")
    with pytest.raises(DataError, match=r"2 broken link\(s\) \(train/img/gone.png, train/img/gone2.png\)"):
        PairedDataset(data, "train")
    for link in ("gone.png", "gone2.png"):
        (images / link).unlink()
    label = next((data / "train" / "label").iterdir())
    label.write_bytes(png_with_rows(32, 32, 5))
    with pytest.raises(DataError, match=f"{label.name}: the image data ends early"):
        PairedDataset(data, "train")


# -- 14. PNG text-chunk bombs are one line (and a dialog in the studio) --------------------------

def text_bomb_png(path: Path, kind: str) -> Path:
    """A valid label PNG carrying text chunks over Pillow's limits: one zTXt or iTXt that
    inflates to 2 MB, or 70 small ones inflating to 70 MB in all."""
    import struct
    import zlib

    from engine.anatomy import template_mask
    from engine.maskio import write_label_png

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    write_label_png(path, template_mask("4CH", "ED", seed=1, size=64))
    big, small = zlib.compress(b"a" * 2_000_000), zlib.compress(b"a" * 1_000_000)
    chunks = {"ztxt": [chunk(b"zTXt", b"Comment\x00\x00" + big)],
              "itxt": [chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + big)],
              "many": [chunk(b"zTXt", b"Comment%d\x00\x00" % i + small) for i in range(70)]}[kind]
    data = path.read_bytes()
    after_header = 8 + 25  # the signature and the IHDR chunk
    path.write_bytes(data[:after_header] + b"".join(chunks) + data[after_header:])
    return path


@pytest.mark.parametrize("kind", ["ztxt", "itxt", "many"])
@pytest.mark.parametrize("command", ["synthesize", "export-masks", "export-like"])
def test_png_text_bombs_are_one_line(kind, command, tmp_path, capsys):
    masks = tmp_path / "masks"
    masks.mkdir()
    bomb = text_bomb_png(masks / "patient0001_4CH_ED.png", kind)
    if command == "export-like":  # named as enough patients for a shape model, so its masks are read
        import numpy

        from engine.anatomy.model_building import MIN_PATIENTS
        from engine.maskio import write_label_png

        for k in range(1, MIN_PATIENTS + 1):
            for stem in ("2CH_ED", "2CH_ES", "4CH_ED", "4CH_ES"):
                if not (masks / f"patient{k:04d}_{stem}.png").exists():
                    write_label_png(masks / f"patient{k:04d}_{stem}.png", numpy.zeros((8, 8), numpy.uint8))
    out = tmp_path / "out"
    args = {"synthesize": ["synthesize", "--mask", str(bomb), "--out", str(tmp_path / "x.png")],
            "export-masks": ["export", "--masks", str(masks), "--out", str(out)],
            "export-like": ["export", "--random", "1", "--like", str(masks), "--size", "64", "--out", str(out)]}[command]
    rc = main([*args, "--model", "simulator"])
    assert rc == 1 and "text chunks are far larger than a label map's" in one_line(capsys)
    assert not out.exists() and not (tmp_path / "x.png").exists()


# -- 15 and 20. crafted model files: one line, short ------------------------------------------------

def native_with(path: Path, metadata_text: str | None = None, tensor_edit=None) -> Path:
    from safetensors import safe_open
    from safetensors.torch import save_file

    from cardigan_app.testing import make_model_file

    make_model_file(path)
    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    if metadata_text is not None:
        metadata["cardigan"] = metadata_text
    if tensor_edit is not None:
        name = "generator.conv_img.weight"
        tensors[name] = tensor_edit(tensors[name])
    save_file(tensors, str(path), metadata=metadata)
    return path


def nvlabs_with(path: Path, edit) -> Path:
    import torch

    from engine.nets import GeneratorConfig, SPADEGenerator

    config = GeneratorConfig(ngf=4, label_nc=4, output_nc=3, image_size=64)
    torch.save(edit(SPADEGenerator(config).state_dict(), config), path)
    return path


def meta_state(state, config):
    import torch

    from engine.nets import SPADEGenerator

    with torch.device("meta"):
        return SPADEGenerator(config).state_dict()


MODEL_FILES = {
    "json nested 200k deep": (lambda p: native_with(p / "m.safetensors", "[" * 200_000 + "]" * 200_000),
                              "nested too deeply"),
    "a 5,000-digit integer": (lambda p: native_with(p / "m.safetensors", '{"format": "cardigan-model", '
                                                    '"schema": ' + "9" * 5000 + "}"), "not valid JSON"),
    "schema 10**400": (lambda p: native_with(p / "m.safetensors", json.dumps(
        {"format": "cardigan-model", "schema": 10 ** 400})), "schema a 401-digit number is newer"),
    "float8 weights": (lambda p: native_with(p / "m.safetensors", tensor_edit=lambda t: t.to(
        __import__("torch").float8_e4m3fn)), "float8_e4m3fn values; weights must be float16"),
    "pth with integer keys": (lambda p: nvlabs_with(p / "latest_net_G.pth", lambda s, c: {
        i: v for i, v in enumerate(s.values())}), "not a generator state dict"),
    "meta tensors": (lambda p: nvlabs_with(p / "latest_net_G.pth", meta_state), "holds no data (a meta tensor)"),
    "sparse tensors": (lambda p: nvlabs_with(p / "latest_net_G.pth", lambda s, c: {
        k: (v.to_sparse() if k == "conv_img.weight" else v) for k, v in s.items()}), "weights must be dense"),
    "torch zip named .safetensors": (lambda p: nvlabs_with(p / "m.safetensors", lambda s, c: {
        k: v.to(__import__("torch").int64) if k == "conv_img.weight" else v for k, v in s.items()}),
        "weights must be floating point"),
}


@pytest.mark.parametrize("case", MODEL_FILES)
def test_crafted_model_files_are_one_short_line(case, tmp_path, capsys):
    make, fragment = MODEL_FILES[case]
    path = make(tmp_path)
    assert main(["info", "--model", str(path)]) == 1
    line = one_line(capsys)
    assert fragment in line and len(line) < 400, line


# -- 20. messages that name the file, the option and its value ----------------------------------

@pytest.mark.parametrize("option, fragment", [
    ("ngf: -4", "ngf is -4; it must be between 2 and 1024"),
    ("crop_size: 0", "crop_size is 0; it must be between 32 and 4096"),
    ("output_nc: 0", "output_nc is 0; it must be between 1 and 4"),
    ("ngf: " + "9" * 5000, "ngf is '999999999999... (5000 characters)', not a whole number"),
])
def test_nvlabs_options_name_the_file_the_option_and_its_value(option, fragment, tmp_path, capsys):
    import torch

    from engine.nets import GeneratorConfig, SPADEGenerator

    folder = tmp_path / "ckpt"
    folder.mkdir()
    torch.save(SPADEGenerator(GeneratorConfig(ngf=4, label_nc=4, output_nc=3, image_size=64)).state_dict(),
               folder / "latest_net_G.pth")
    (folder / "opt.txt").write_text("label_nc: 3\ncontain_dontcare_label: True\nno_instance: True\n"
                                    f"crop_size: 64\nngf: 4\n{option}\n")
    assert main(["info", "--model", str(folder)]) == 1
    line = one_line(capsys)
    assert f"{folder / 'opt.txt'}: {fragment}" in line and len(line) < 300, line


def test_a_fifo_as_mask_is_not_called_missing(tmp_path, capsys):
    import os

    fifo = tmp_path / "mask.png"
    os.mkfifo(fifo)
    rc = main(["synthesize", "--model", "simulator", "--mask", str(fifo), "--out", str(tmp_path / "x.png")])
    assert rc == 1 and "not a regular file" in one_line(capsys)


def test_camus_echo_images_given_as_masks_are_called_images(tmp_path, capsys):
    from test_prepare import build_camus2019

    root = build_camus2019(tmp_path / "camus", ["patient0001"])
    rc = main(["export", "--model", "simulator", "--masks", str(root / "training" / "patient0001"),
               "--out", str(tmp_path / "out")])
    assert rc == 1 and "look like images, not masks (patient0001_2CH_ED.mhd is the image of" in one_line(capsys)


def test_like_on_a_nifti_export_says_it_needs_png_masks(tmp_path, capsys):
    nifti = tmp_path / "nifti"
    assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--format", "nifti",
                 "--out", str(nifti)]) == 0
    capsys.readouterr()
    rc = main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--like", str(nifti),
               "--out", str(tmp_path / "out")])
    expected = f"--like {nifti}: a dataset without PNG label maps (a nifti export); give a prepared dataset"
    assert rc == 1 and expected in one_line(capsys)


def test_a_mask_with_many_grey_levels_is_called_an_image(tmp_path):
    import numpy as np

    from engine.errors import MaskError
    from engine.labels import validate_label_map

    echo = np.arange(64 * 64).reshape(64, 64) % 200
    with pytest.raises(MaskError, match="echo.png: this looks like an image, not a label map: 196 values"):
        validate_label_map(echo, "echo.png")


# -- 17. seeds of any size are reduced below 2**63, never an overflow -----------------------------

def test_synthesize_takes_seeds_above_2_to_the_63(mask_png, tmp_path, capsys):
    import numpy as np

    def image(seed: int, region_seed: int) -> np.ndarray:
        out = tmp_path / f"{seed}-{region_seed}.npy"
        assert main(["synthesize", "--model", "demo", "--mask", str(mask_png), "--out", str(out), "--device", "cpu",
                     "--seed", str(seed), "--resample-class", "1", "--region-seed", str(region_seed)]) == 0
        return np.load(out)

    huge = image(2 ** 64 + 5, 2 ** 70 + 7)
    assert np.array_equal(huge, image(5, 7))  # reduced modulo 2**63 (2**64 + 5 -> 5)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["export", "--model", "demo", "--random", "1", "--size", "64", "--device", "cpu", "--out", "OUT"],
    ["phantom", "--count", "1", "--size", "32", "--out", "OUT"],
    ["train", "--data", "DATA", "--run", "OUT", *TINY_TRAIN, "--iters", "1"],
], ids=["export", "phantom", "train"])
def test_commands_take_seeds_above_2_to_the_63(command, phantom, tmp_path, capsys):
    command = [str(tmp_path / "out") if part == "OUT" else str(phantom) if part == "DATA" else part
               for part in command]
    assert main([*command, "--seed", str(2 ** 64 + 1)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_seed_with_thousands_of_digits_is_one_short_line(capsys):
    assert main(["phantom", "--out", "x", "--seed", "1" * 5000]) == 2
    line = one_line(capsys)
    assert "has too many digits" in line and len(line) < 200


def test_synthesize_never_writes_over_its_model(tiny_model, mask_png, tmp_path, capsys):
    import shutil

    model = tmp_path / "model.png"  # a model file is recognised by its content, whatever its name
    shutil.copy(tiny_model, model)
    rc = main(["synthesize", "--model", str(model), "--mask", str(mask_png), "--out", str(model), "--overwrite"])
    assert rc == 1 and "is the model" in one_line(capsys)
    assert model.read_bytes() == tiny_model.read_bytes()


def test_a_new_run_that_diverges_before_its_first_state_says_nothing_is_kept(phantom, tmp_path, capsys):
    run = tmp_path / "run"
    rc = main(["train", "--data", str(phantom), "--run", str(run), *TINY_TRAIN, "--iters", "40",
               "--lr", "1e35", "--checkpoint-every", "30"])
    line = one_line(capsys)
    assert rc == 1 and "training diverged at iteration" in line
    assert "no state" in line and "kept" not in line.replace("nothing is kept", "")
    assert not run.exists()  # removed whole: there is nothing to resume from


def test_a_dataset_mended_after_a_refusal_opens_in_the_same_process(tmp_path):
    """The folder's problems are read afresh each time it is opened: a studio that was told of
    a broken link or an unpaired image opens the folder once it is mended, without a restart."""
    from engine.data.dataset import PairedDataset
    from engine.data.phantom import write_phantom
    from engine.errors import DataError

    data = tmp_path / "data"
    write_phantom(data, count=3, size=32, seed=1, workers=1)
    images = data / "train" / "img"
    (images / "gone.png").symlink_to(tmp_path / "nowhere.png")
    for _ in range(2):  # the same refusal twice, not one grown by the first
        with pytest.raises(DataError, match=r": 1 bad pair\(s\): 1 broken link\(s\) \(train/img/gone.png\)$"):
            PairedDataset(data, "train")
    (images / "gone.png").unlink()
    assert len(PairedDataset(data, "train")) == len(list(images.iterdir())) > 0
