"""A full disk while writing gives one line naming the output, and leaves nothing half-written."""

from __future__ import annotations

import contextlib
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
    out = tmp_path / "out"  # every export is a folder, the HDF5 layout's too
    assert main([*command, "--out", str(out)]) == 1
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
    assert list(tmp_path.iterdir()) == []  # no output, no hidden staging folder


@pytest.mark.parametrize("command", [
    ["export", "--model", "simulator", "--random", "2", "--size", "64", "--format", "nnunet"],
    ["phantom", "--count", "2", "--size", "64"],
], ids=["export-nnunet", "phantom"])
def test_a_disk_that_fills_at_the_manifest_names_the_output_not_the_staging_folder(command, tmp_path,
                                                                                    monkeypatch, capsys):
    import engine.data.manifest as manifest

    monkeypatch.setattr(manifest, "make_public", no_space)  # inside the manifest's atomic write
    out = tmp_path / "out"
    assert main([*command, "--out", str(out)]) == 1
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
    assert list(tmp_path.iterdir()) == []


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
    # nothing was saved, so nothing is left: not the temporary file, not a run that could not resume
    assert not run.exists()


def test_disk_full_is_recognised_only_when_it_is():
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_disk_full(RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"))
    assert not is_disk_full(RuntimeError("size mismatch for conv.weight"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert describe_os_error(OSError(errno.EACCES, "Permission denied"), "x") == "x: not writable (permission denied)"
    # a read-only filesystem is no matter of permission: no chmod or owner would help
    read_only = describe_os_error(OSError(errno.EROFS, "Read-only file system"), "x")
    assert read_only.startswith("x: not writable (a read-only filesystem") and "permission" not in read_only


def test_a_file_refused_in_a_folder_that_exists_does_not_say_the_folder_is_missing(tmp_path):
    # /proc and /sys answer "no such file" to a new file: the folder is there all the same
    missing = OSError(errno.ENOENT, "No such file or directory")
    assert describe_os_error(missing, tmp_path / "x.gif") == (
        f"{tmp_path / 'x.gif'}: no such file, and none can be opened there (the folder itself exists)")
    assert describe_os_error(missing, tmp_path / "gone" / "x.gif") == f"{tmp_path / 'gone' / 'x.gif'}: folder does not exist"


# -- a real full disk (a small tmpfs, when the tests run as root), else simulated faults -----------

TINY_RUN = ["--preset", "lite", "--ngf", "4", "--ndf", "8", "--size", "64", "--batch-size", "2",
            "--device", "cpu", "--threads", "1"]


@pytest.mark.parametrize("command", [
    ["phantom", "--format", "hdf5", "--count", "60", "--size", "64"],
    ["export", "--model", "simulator", "--random", "60", "--size", "64", "--format", "hdf5"],
    ["export", "--model", "simulator", "--cine", "--random", "6", "--size", "64", "--format", "hdf5"],
], ids=["phantom-hdf5", "export-hdf5", "export-cine-hdf5"])
def test_hdf5_on_a_full_disk_is_one_line_not_a_crash(command, tmp_path, monkeypatch, capsys):
    """HDF5 2.0 crashes the process (exit 139) closing a file whose writes failed: the
    writers check the space first. Run in a child process, so a crash cannot take pytest."""
    import subprocess
    import sys

    from mounts import can_mount, tmpfs

    disk = tmp_path / "disk"
    out = disk / ("p.hdf5" if command[0] == "phantom" else "export")
    if not can_mount():  # simulated: the space check sees a nearly full disk
        import engine.fileio as fileio

        monkeypatch.setattr(fileio, "SPACE_RESERVE", 1 << 60)
        disk.mkdir()
        assert main([*command, "--out", str(out)]) == 1
        assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
        assert list(disk.iterdir()) == []
        return
    with tmpfs(disk, 3000):
        done = subprocess.run([sys.executable, "-m", "engine", *command, "--out", str(out)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, done.stderr[-2000:]
        lines = [line for line in done.stderr.strip().splitlines() if not line.startswith(("60 patients", "each image is drawn", "\r"))]
        assert lines == [f"cardigan: error: no space left on the device while writing {out}"], done.stderr[-2000:]
        assert list(disk.iterdir()) == []  # the temporary file is gone too


@pytest.fixture(scope="module")
def trained(phantom, tmp_path_factory):
    """A tiny run of 2 iterations: (its folder, the size of its state file, of its model)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(["train", "--data", str(phantom), "--run", str(run), *TINY_RUN, "--iters", "2"]) == 0
    state = next((run / "checkpoints").glob("state_*.pt"))
    return run, state.stat().st_size, (run / "model.safetensors").stat().st_size


@pytest.mark.parametrize("fails", ["state", "model", "resume"])
def test_training_on_a_full_disk(fails, trained, phantom, tmp_path, monkeypatch, capsys):
    """Full while saving the state (torch: "unexpected pos"), the model (safetensors:
    SafetensorError) or on resume: one line, the temporary files gone."""
    import shutil

    from mounts import can_mount, tmpfs

    run, state_size, model_size = trained
    disk = tmp_path / "disk"
    size = {"state": 200 << 10,  # less than a state file
            "model": state_size + model_size // 2 + (64 << 10),  # the state fits, the model not
            "resume": state_size + model_size * 3 // 2 + (128 << 10)}[fails]  # the run fits, a new state not
    with tmpfs(disk, size >> 10) if can_mount() else contextlib.nullcontext(disk.mkdir()):
        if not can_mount():
            simulate_full_disk(fails, monkeypatch)
        folder = disk / "run"
        args = ["train", "--run", str(folder), "--iters", "4", "--threads", "1"]
        if fails == "resume":
            shutil.copytree(run, folder)
            args.append("--resume")
        else:
            args += ["--data", str(phantom), *TINY_RUN]
        assert main(args) == 1
        line = one_line(capsys)
        assert line.startswith("cardigan: error: no space left on the device while writing "), line
        assert ("model.safetensors" in line) == (fails == "model")
        # whether the work so far is kept: a new run stopped at its first state saved nothing
        assert line.endswith("; nothing was saved, so the run starts again" if fails == "state"
                             else "; the run can be resumed with --resume"), line
        leftovers = [p.name for p in folder.rglob(".*.tmp")]
        assert leftovers == []


def simulate_full_disk(fails: str, monkeypatch) -> None:
    import engine.training.state as state
    from engine.models import modelfile

    if fails == "model":
        from safetensors import SafetensorError

        def safetensors_no_space(*args, **kwargs):
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

        monkeypatch.setattr(modelfile, "save_file", safetensors_no_space)
    else:
        def torch_unexpected_pos(*args, **kwargs):
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 92352 vs 92240")

        monkeypatch.setattr(state.torch, "save", torch_unexpected_pos)


def test_a_cine_loop_to_hdf5_on_a_full_disk_is_one_line_not_a_crash(tmp_path, monkeypatch):
    import numpy as np

    import engine.fileio as fileio
    from engine.cine import write_loop
    from engine.errors import CardiganError

    monkeypatch.setattr(fileio, "SPACE_RESERVE", 1 << 60)  # the space check sees a nearly full disk
    frames = np.zeros((3, 16, 16), np.uint8)
    with pytest.raises(CardiganError, match="^no space left on the device while writing .*loop.h5$"):
        write_loop(tmp_path / "loop.h5", frames, frames, 30.0, {})
    assert list(tmp_path.iterdir()) == []


# -- writers that meet a full disk without raising: the file is checked once written ---------------

def cut_short(write):
    """A writer that, as on a full disk, stops part way through the file and says nothing."""
    def short(image, path, *args, **kwargs):
        write(image, path, *args, **kwargs)
        with open(path, "r+b") as handle:
            handle.truncate(200 if str(path).endswith(".nii") else 40)  # within the header, or the gzip stream
    return short


@pytest.fixture
def disk_nearly_full(monkeypatch):
    """The space a short write's check sees: too little for anything."""
    import engine.fileio as fileio

    monkeypatch.setattr(fileio, "SHORT_WRITE_ROOM", 1 << 62)


def test_synthesize_to_nifti_cut_short_keeps_the_earlier_image(phantom, tmp_path, monkeypatch, capsys,
                                                               disk_nearly_full):
    mask = next((phantom / "train" / "label").glob("*.png"))
    out = tmp_path / "s.nii"
    out.write_bytes(b"an earlier image")
    monkeypatch.setattr(sitk, "WriteImage", cut_short(sitk.WriteImage))
    assert main(["synthesize", "--model", "demo", "--mask", str(mask), "--out", str(out), "--overwrite"]) == 1
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
    assert out.read_bytes() == b"an earlier image"
    assert [p.name for p in tmp_path.iterdir()] == ["s.nii"]


def test_a_mask_saved_as_nifti_cut_short_keeps_the_saved_one(tmp_path, monkeypatch, disk_nearly_full):
    import numpy as np

    from engine.errors import CardiganError
    from engine.maskio import write_nifti

    path = tmp_path / "p_2CH_ED_gt.nii.gz"
    write_nifti(path, np.ones((16, 16), np.uint8))
    saved = path.read_bytes()
    monkeypatch.setattr(sitk, "WriteImage", cut_short(sitk.WriteImage))
    with pytest.raises(CardiganError, match=f"^no space left on the device while writing {path}$"):
        write_nifti(path, np.full((16, 16), 2, np.uint8))
    assert path.read_bytes() == saved
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("kept", [0, "header"], ids=["empty", "header-only"])
def test_a_slicer_segmentation_cut_short_keeps_the_saved_one(kept, tmp_path, monkeypatch, disk_nearly_full):
    """ITK's NRRD writer on a full disk returns as if done, leaving no bytes (or its header alone)."""
    import numpy as np

    from engine.errors import CardiganError
    from engine.slicer_segments import write_segmentation

    path = tmp_path / "mask.seg.nrrd"
    write_segmentation(path, np.ones((16, 16), np.uint8))
    saved = path.read_bytes()
    write = sitk.WriteImage

    def short(image, name, *args, **kwargs):
        write(image, name, *args, **kwargs)
        data = open(name, "rb").read()
        with open(name, "r+b") as handle:
            handle.truncate(kept if kept == 0 else data.index(b"\n\n") + 2)

    monkeypatch.setattr(sitk, "WriteImage", short)
    with pytest.raises(CardiganError, match=f"^no space left on the device while writing {path}$"):
        write_segmentation(path, np.full((16, 16), 2, np.uint8))
    assert path.read_bytes() == saved
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_nifti_export_cut_short_is_not_put_in_place(tmp_path, monkeypatch, capsys, disk_nearly_full):
    monkeypatch.setattr(sitk, "WriteImage", cut_short(sitk.WriteImage))
    out = tmp_path / "out"
    assert main(["export", "--model", "demo", "--random", "1", "--size", "64", "--format", "nifti",
                 "--out", str(out)]) == 1
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
    assert list(tmp_path.iterdir()) == []


def test_a_short_write_with_room_left_is_not_called_a_full_disk(tmp_path):
    import errno as codes

    from engine.fileio import short_write

    error = short_write(tmp_path / "x.nii")  # the test's folder has more than a MiB free
    assert error.errno == codes.EIO and describe_os_error(error, error.filename) == (
        f"{tmp_path / 'x.nii'}: the writer stopped before the file was complete")


def ffmpeg_cut_short(write_frames):
    """imageio-ffmpeg's frame writer whose file, as on a full disk, ffmpeg could not finish:
    ffmpeg says so on the terminal and imageio returns as if all went well."""
    import os

    def start(path, *args, **kwargs):
        frames = write_frames(path, *args, **kwargs)

        class CutShort:
            send, throw = frames.send, frames.throw

            def close(self):
                frames.close()
                os.truncate(path, os.path.getsize(path) // 2)
        return CutShort()
    return start


def test_an_mp4_loop_cut_short_keeps_the_earlier_loop(tmp_path, monkeypatch, disk_nearly_full):
    import imageio_ffmpeg
    import numpy as np

    from engine.cine.writers import mp4_complete, write_loop
    from engine.errors import CardiganError

    frames = np.random.default_rng(0).integers(0, 255, (4, 16, 16), dtype=np.uint8)
    path = tmp_path / "loop.mp4"
    write_loop(path, frames, frames * 0, 20.0)
    assert mp4_complete(path)
    earlier = path.read_bytes()
    monkeypatch.setattr(imageio_ffmpeg, "write_frames", ffmpeg_cut_short(imageio_ffmpeg.write_frames))
    with pytest.raises(CardiganError, match=f"^no space left on the device while writing {path}$"):
        write_loop(path, frames[::-1], frames * 0, 20.0)
    assert path.read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == ["loop.mp4"]
    cut = tmp_path / "cut.mp4"
    for end in (0, 7, 40, len(earlier) - 1):  # cut anywhere, in a box's header or its data
        cut.write_bytes(earlier[:end])
        assert not mp4_complete(cut)


def test_synthesize_to_npy_on_a_full_disk_names_the_cause(phantom, tmp_path, monkeypatch, capsys):
    import numpy as np

    def numpy_short_write(*args, **kwargs):  # how numpy's file write reports a full disk: no errno
        raise OSError("4096 requested and 992 written")

    monkeypatch.setattr(np, "save", numpy_short_write)
    mask = next((phantom / "train" / "label").glob("*.png"))
    out = tmp_path / "s.npy"
    out.write_bytes(b"an earlier array")
    assert main(["synthesize", "--model", "demo", "--mask", str(mask), "--out", str(out), "--overwrite"]) == 1
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out}"
    assert out.read_bytes() == b"an earlier array"
    assert [p.name for p in tmp_path.iterdir()] == ["s.npy"]
    assert not is_disk_full(RuntimeError("2 requested and 3 were given"))


def test_cine_random_on_a_full_disk_names_the_loop_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(PIL.Image.Image, "save", no_space)
    out = tmp_path / "loops"
    assert main(["cine", "--model", "demo", "--random", "1", "--size", "64", "--frames", "2", "--format", "png",
                 "--out", str(out)]) == 1
    # a PNG frame's write names no file: the line names the loop's folder
    assert one_line(capsys) == f"cardigan: error: no space left on the device while writing {out / 'patient0001_4CH'}"
    assert list(tmp_path.iterdir()) == []  # the folder the run made for its loops is gone with them


@pytest.mark.parametrize("read_only, said", [(True, "not writable (a read-only filesystem: a disc, a mounted "
                                                     "image or a locked share)"),
                                             (False, "not writable (permission denied)")])
def test_a_training_in_a_folder_it_cannot_write_says_why_as_other_commands_do(read_only, said, phantom, tmp_path,
                                                                               monkeypatch, capsys):
    """A read-only filesystem is named as such (it said "no permission to write there", which
    no chmod fixes), in the words of a failed write (describe_os_error). The tests run as root,
    which may write anywhere, so the filesystem's answers are simulated."""
    import os
    from types import SimpleNamespace

    locked = tmp_path / "locked"
    locked.mkdir()
    access, statvfs = os.access, os.statvfs
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: path != locked and access(path, mode, **kw))
    monkeypatch.setattr(os, "statvfs", lambda path: SimpleNamespace(f_flag=os.ST_RDONLY if read_only else 0)
                        if path == locked else statvfs(path))
    for dry in ([], ["--dry-run"]):
        assert main(["train", "--data", str(phantom), "--run", str(locked / "run"), *TINY_RUN, "--iters", "2",
                     *dry]) == 1
        assert one_line(capsys) == f"cardigan: error: {locked}: {said}"
    assert list(locked.iterdir()) == []
