"""Crafted bad inputs get one plain line, never a traceback, and nothing is built from them."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from engine.cli.main import main
from engine.errors import MaskError, ModelFileError
from engine.maskio import read_label_map
from engine.models import GeneratorModel, load_model_file, open_model, save_model_file
from engine.nets import GeneratorConfig, SPADEGenerator


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith("cardigan: error: ")]
    assert len(lines) == 1, err
    return lines[0]


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's first bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def test_a_png_claiming_30000_pixels_a_side_is_refused_in_one_line(tmp_path, capsys):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(30000, 30000))
    with pytest.raises(MaskError, match="far larger than any label map"):
        read_label_map(bomb)
    rc = main(["synthesize", "--model", "simulator", "--mask", str(bomb), "--out", str(tmp_path / "x.png")])
    assert rc == 1 and "far larger" in one_line(capsys)


def test_a_folder_named_like_a_mask_is_called_a_folder(tmp_path):
    (tmp_path / "x.png").mkdir()
    with pytest.raises(MaskError, match="is a folder"):
        read_label_map(tmp_path / "x.png")


def model_with(tmp_path, edit) -> Path:
    config = GeneratorConfig(ngf=4, image_size=64)
    path = save_model_file(GeneratorModel(config=config, generator=SPADEGenerator(config)), tmp_path / "m.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata())
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    document = json.loads(metadata["cardigan"])
    edit(document)
    metadata["cardigan"] = json.dumps(document)
    save_file(tensors, str(path), metadata=metadata)
    return path


EDITS = {
    "aspect zero": (lambda d: d["architecture"].update(aspect_ratio=0), "aspect_ratio"),
    "aspect text": (lambda d: d["architecture"].update(aspect_ratio="wide"), "aspect_ratio"),
    "ngf fraction": (lambda d: d["architecture"].update(ngf=10.5), "ngf is 10.5"),
    "ngf huge": (lambda d: d["architecture"].update(ngf=100000), "between 2 and 1024"),
    "z_dim negative": (lambda d: d["architecture"].update(use_vae=True, z_dim=-3), "z_dim"),
    "encoder ngf": (lambda d: d.update(encoder={"ngf": -1, "input_nc": 1, "image_size": 64, "z_dim": 8,
                                                "norm": "spectralinstance"}), "style encoder ngf"),
    "encoder norm": (lambda d: d.update(encoder={"ngf": 4, "input_nc": 1, "image_size": 64, "z_dim": 8,
                                                 "norm": "bogus"}), "norm is 'bogus'"),
    "labels number": (lambda d: d.update(labels=5), "label table"),
    "labels text": (lambda d: d.update(labels="abcd"), "label table"),
    "labels ints": (lambda d: d.update(labels=[1, 2, 3, 4]), "label table"),
    "labels same id": (lambda d: d.update(labels=[{"id": 0, "name": "a"}] * 4), "once each"),
    "provenance list": (lambda d: d.update(provenance=[1, 2]), "provenance"),
    "provenance text": (lambda d: d.update(provenance="me"), "provenance"),
    "schema text": (lambda d: d.update(schema="1"), "not a version number"),
}


@pytest.mark.parametrize("case", EDITS)
def test_edited_model_descriptions_are_refused_before_anything_is_built(case, tmp_path, capsys):
    edit, fragment = EDITS[case]
    path = model_with(tmp_path, edit)
    with pytest.raises(ModelFileError, match=None) as caught:
        load_model_file(path)
    assert fragment in str(caught.value), str(caught.value)
    assert main(["info", "--model", str(path)]) == 1
    one_line(capsys)


def test_nvlabs_options_and_checkpoint_folders(tmp_path):
    config = GeneratorConfig(ngf=4, label_nc=4, output_nc=3, image_size=64)
    state = SPADEGenerator(config).state_dict()
    folder = tmp_path / "ckpt"
    folder.mkdir()
    torch.save(state, folder / "latest_net_G.pth")
    for bad, fragment in (("aspect_ratio: 0", "aspect_ratio"), ("aspect_ratio: nan", "aspect_ratio"),
                          ("ngf: 100000", "between 2 and 1024"), ("label_nc: 99999999", "label_nc"),
                          ("use_vae: True\nz_dim: -5", "z_dim")):
        (folder / "opt.txt").write_text("label_nc: 3\ncontain_dontcare_label: True\nno_instance: True\n"
                                        f"crop_size: 64\nngf: 4\n{bad}\n")
        with pytest.raises(ModelFileError) as caught:
            open_model(folder)
        assert fragment in str(caught.value), (bad, str(caught.value))
    (folder / "opt.txt").write_bytes(bytes(range(256)) * 8)  # random bytes, a few with ':'
    with pytest.raises(ModelFileError, match="opt.txt: not a SPADE options file"):
        open_model(folder)
    text = tmp_path / "g.pth"
    text.write_text("not a checkpoint at all\n" * 10)
    with pytest.raises(ModelFileError, match="not a PyTorch checkpoint"):
        open_model(text)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "latest_net_G.pth").symlink_to(broken / "missing.pth")
    with pytest.raises(ModelFileError, match="broken link"):
        open_model(broken)
    as_dir = tmp_path / "as_dir"
    (as_dir / "latest_net_G.pth").mkdir(parents=True)
    with pytest.raises(ModelFileError, match="a folder"):
        open_model(as_dir)


def test_hdf5_whose_gt_is_a_group_is_refused(tmp_path, capsys):
    import h5py
    import numpy as np

    path = tmp_path / "odd.hdf5"
    with h5py.File(path, "w") as handle:
        for n, split in enumerate(("train", "valid", "test")):
            group = handle.create_group(f"{split}/patient000{n + 1}/4CH")
            group.create_dataset("im", data=np.zeros((2, 32, 32), np.uint8))
            group.create_group("gt")
    rc = main(["prepare", "--source", str(path), "--out", str(tmp_path / "out")])
    assert rc == 1 and "is a group, not a dataset" in one_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flags, fragment", [(["--seg-iters", "0"], "--seg-iters"),
                                             (["--variations", "-1"], "--variations"),
                                             (["--inception-weights", "nope.pt"], "no such Inception"),
                                             (["--inception-weights", "picture.png"], "not an Inception"),
                                             (["--out", "missing/dir/x.json"], "does not exist"),
                                             (["--out", "."], "is a folder")])
def test_evaluate_options_are_checked_before_any_work(flags, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "picture.png").write_bytes(png_claiming(8, 8))
    rc = main(["evaluate", "--model", "simulator", "--data", str(tmp_path), *flags])
    assert rc in (1, 2) and fragment in one_line(capsys)  # 2: refused as the command line is read


def test_bench_refuses_an_unwritable_report_path_before_measuring(tmp_path, capsys):
    rc = main(["bench", "--device", "cpu", "--quick", "--out", str(tmp_path / "missing" / "x.json")])
    assert rc == 1 and "does not exist" in one_line(capsys)


def test_bench_never_replaces_an_existing_file_silently(tmp_path, capsys, monkeypatch):
    import engine.bench

    monkeypatch.setattr(engine.bench, "run_bench", lambda *args, **kwargs: pytest.fail("measured"))
    precious = tmp_path / "model.safetensors"
    precious.write_bytes(b"weights")
    rc = main(["bench", "--device", "cpu", "--quick", "--out", str(precious)])
    assert rc == 1 and "already exists (use --overwrite" in one_line(capsys)
    rc = main(["bench", "--device", "cpu", "--quick", "--out", str(precious), "--overwrite"])
    assert rc == 1 and "not a bench report" in one_line(capsys)
    assert precious.read_bytes() == b"weights"


def test_bench_overwrite_replaces_an_earlier_report(tmp_path, capsys, monkeypatch):
    import engine.bench

    fresh = {"machine": {"device": "cpu"}, "settings": {}, "synthesis": {}, "run": 2}
    monkeypatch.setattr(engine.bench, "run_bench", lambda *args, **kwargs: fresh)
    monkeypatch.setattr(engine.bench, "format_bench", lambda report: "table")
    earlier = tmp_path / "bench.json"
    earlier.write_text(json.dumps({**fresh, "run": 1}))
    assert main(["bench", "--device", "cpu", "--out", str(earlier)]) == 1
    assert json.loads(earlier.read_text())["run"] == 1
    assert main(["bench", "--device", "cpu", "--out", str(earlier), "--overwrite"]) == 0
    assert json.loads(earlier.read_text())["run"] == 2


def test_bench_prints_the_report_only_where_no_file_takes_it(tmp_path, capsys, monkeypatch):
    """With --out the JSON report is the file's: stdout carries the summary and where the
    report went (it printed the whole report as well); without, the report follows the summary."""
    import engine.bench

    report = {"machine": {"device": "cpu"}, "settings": {}, "synthesis": {}}
    monkeypatch.setattr(engine.bench, "run_bench", lambda *args, **kwargs: report)
    monkeypatch.setattr(engine.bench, "format_bench", lambda report: "the summary table")
    out = tmp_path / "bench.json"
    assert main(["bench", "--device", "cpu", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == ["the summary table", f"wrote {out}"]
    assert json.loads(out.read_text()) == report
    assert main(["bench", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("the summary table\n")
    assert json.loads(printed.split("\n", 1)[1]) == report


@pytest.mark.parametrize("flags, fragment", [
    (["--threads", "0"], "must be between 1"),
    (["--threads", "-2"], "must be between 1"),
    (["--presets", " , "], "names no preset"),
], ids=["zero-threads", "negative-threads", "no-preset"])
def test_bench_options_are_checked_before_measuring(flags, fragment, capsys, monkeypatch):
    import engine.bench

    monkeypatch.setattr(engine.bench, "run_bench", lambda *args, **kwargs: pytest.fail("measured"))
    rc = main(["bench", "--device", "cpu", "--quick", "--no-incremental", *flags])
    assert rc in (1, 2) and fragment in one_line(capsys)


@pytest.mark.parametrize("edit, fragment", [
    (lambda header, raw: (header.replace("DimSize = ", "DimSize = 3"), raw), "bytes, but DimSize"),
    (lambda header, raw: (header.replace("MET_UCHAR", "MET_BOGUS"), raw), "unknown ElementType 'MET_BOGUS'"),
    (lambda header, raw: (header, None), "pixel data file"),
], ids=["dimsize", "elementtype", "missing-raw"])
def test_damaged_metaimage_frames_get_one_line_and_no_itk_output(edit, fragment, tmp_path, capfd):
    from test_prepare import build_camus2019

    root = build_camus2019(tmp_path / "camus", ["patient0001", "patient0002"])
    header_path = next((root / "training" / "patient0001").glob("*_2CH_ED.mhd"))
    header = header_path.read_text()
    raw_name = next(line.split("=")[1].strip() for line in header.splitlines()
                    if line.startswith("ElementDataFile"))
    new_header, keep_raw = edit(header, True)
    header_path.write_text(new_header)
    if keep_raw is None:
        (header_path.parent / raw_name).unlink()
    out = tmp_path / "out"
    assert main(["prepare", "--source", str(root), "--out", str(out), "--size", "64"]) == 1
    err = capfd.readouterr().err  # file-descriptor level: what ITK itself would print shows here
    assert "MetaImage:" not in err and "ITK" not in err and "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.startswith("cardigan: error: ")]
    assert len(lines) == 1 and err.strip().endswith(lines[0]), err
    assert header_path.name in lines[0] and fragment in lines[0]
    assert not out.exists()


def test_every_failure_becomes_one_line(capsys):
    """One helper (engine.errors.one_line) words every exception the studio shows."""
    from engine.errors import CardiganError, one_line

    assert one_line(CardiganError("mask.png: not a label map")) == "mask.png: not a label map"
    assert capsys.readouterr().err == ""  # a user's mistake is not a bug: no traceback
    assert one_line(FileNotFoundError(2, "No such file or directory", "/a/b")) == "/a/b: No such file or directory"
    try:
        raise ValueError("boom\n  and more")
    except ValueError as exc:
        line = one_line(exc, "synthesis")
    assert line == "synthesis failed (ValueError: boom and more)" and "\n" not in line
    assert "Traceback" in capsys.readouterr().err


def test_itk_errors_are_told_by_their_last_line():
    from engine.errors import itk_reason

    message = ("Exception thrown in SimpleITK ImageFileReader_Execute: /src/itkImageFileReader.hxx:135:\n"
               "ITK ERROR: ImageFileReader(0x55): \n\n  Could not create IO object for reading file x.nii.gz\n  ")
    assert itk_reason(RuntimeError(message), "unreadable") == "Could not create IO object for reading file x.nii.gz"
    assert itk_reason(RuntimeError("  \n "), "unreadable") == "unreadable"
    assert len(itk_reason(RuntimeError("x" * 500), "")) == 140


def test_a_damaged_nifti_mask_is_refused_in_one_line(tmp_path):
    import numpy as np

    from engine.maskio import write_nifti

    path = tmp_path / "mask.nii.gz"
    write_nifti(path, np.zeros((32, 32), np.uint8))
    path.write_bytes(path.read_bytes()[:40])  # cut inside its header
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message and "truncated or damaged" in message
