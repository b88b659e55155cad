"""A full disk while writing gives one line naming the output, and leaves nothing half-written."""

from __future__ import annotations

import errno

import h5py
import PIL.Image
import pytest
import SimpleITK as sitk

from engine.cli.main import main
from engine.fileio import describe_os_error, is_disk_full
from test_bad_inputs import one_line


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def hdf5_no_space(*args, **kwargs):  # how h5py reports it: an OSError without errno
    raise OSError("Can't write data (file write failed: errno = 28, error message = "
                  "'No space left on device')")


def itk_no_space(*args, **kwargs):
    raise RuntimeError("Exception thrown in SimpleITK WriteImage: ITK ERROR: NiftiImageIO: "
                       "Could not write file: x.nii.gz: No space left on device")


def torch_no_space(*args, **kwargs):
    raise RuntimeError("[enforce fail at inline_container.cc:603] . PytorchStreamWriter failed "
                       "writing file data/3: file write failed")


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "data"
    assert main(["phantom", "--out", str(out), "--count", "4", "--size", "64"]) == 0
    return out


@pytest.mark.parametrize("target, fault, command", [
    ((PIL.Image.Image, "save"), no_space, ["phantom", "--count", "2", "--size", "64"]),
    ((h5py.Group, "create_dataset"), hdf5_no_space,
     ["export", "--model", "demo", "--random", "2", "--format", "hdf5"]),
    ((sitk, "WriteImage"), itk_no_space, ["export", "--model", "demo", "--random", "2", "--format", "nifti"]),
    ((PIL.Image.Image, "save"), no_space, ["export", "--model", "demo", "--random", "2"]),
], ids=["phantom", "export-hdf5", "export-nifti", "export-png"])
def test_dataset_writers(target, fault, command, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(*target, fault)
    out = tmp_path / ("out.h5" if "hdf5" in command else "out")
    assert main([*command, "--out", str(out)]) == 1
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
    assert list(tmp_path.iterdir()) == []  # no output, no hidden staging folder


def test_training_checkpoint(phantom, tmp_path, monkeypatch, capsys):
    import engine.training.state as state

    monkeypatch.setattr(state.torch, "save", torch_no_space)
    run = tmp_path / "run"
    code = main(["train", "--data", str(phantom), "--run", str(run), "--preset", "lite", "--ngf", "4",
                 "--ndf", "8", "--iters", "4", "--checkpoint-every", "2", "--batch-size", "2",
                 "--device", "cpu"])
    assert code == 1
    line = one_line(capsys)
    assert line.startswith("cardigan: error: no space left on the device while writing ")
    assert "state_00000002.pt" in line
    assert not [p for p in (run / "checkpoints").iterdir()]  # the temporary file went too


def test_disk_full_is_recognised_only_when_it_is():
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_disk_full(RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"))
    assert not is_disk_full(RuntimeError("size mismatch for conv.weight"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert describe_os_error(OSError(errno.EACCES, "Permission denied"), "x") == "x: not writable (permission denied)"
