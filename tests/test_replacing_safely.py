"""Replacing files and folders: a failure at any step leaves the folder as it was."""

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from engine.errors import CardiganError
from engine.fileio import atomic_paths

# the calls atomic_paths makes that touch the disk, in a write that replaces two files
STEPS = [(tempfile, "mkstemp"), (os, "fsync"), (os, "chmod"), (os, "link"), (shutil, "copy2"), (os, "replace")]
CALLS = 10  # two of each: temporary files made, synced, opened up, old files kept aside, renamed in


@pytest.fixture(autouse=True)
def pauses(monkeypatch) -> list[float]:
    """The waits of :func:`engine.fileio.restore_mixed_pair` for a mixed pair to change, taken
    at once and counted."""
    from engine import fileio

    heard: list[float] = []
    monkeypatch.setattr(fileio, "_pause", heard.append)
    return heard


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def failing_at(monkeypatch, n: int, error: BaseException, links: bool) -> list[str]:
    """Make the ``n``-th call of :data:`STEPS` raise ``error`` (``os.link`` always fails
    when ``links`` is false, as on a filesystem without hard links); the calls heard."""
    heard, inside = [], []
    for module, name in STEPS:
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            if inside:  # a step's own calls (copy2 sets the copy's mode) are part of it
                return _real(*args, **kwargs)
            if _name == "link" and not links:
                raise OSError(1, "Operation not permitted")
            heard.append(_name)
            if len(heard) == n:
                raise error
            inside.append(_name)
            try:
                return _real(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(module, name, counted)
    return heard


def replace_pair(folder: Path) -> None:
    with atomic_paths([folder / "loop.nii.gz", folder / "loop_gt.nii.gz"]) as (images, masks):
        images.write_bytes(b"new images")
        masks.write_bytes(b"new masks")


@pytest.mark.parametrize("links", [True, False], ids=["links", "copies"])
def test_replacing_a_pair_makes_the_calls_the_failures_below_walk(tmp_path, monkeypatch, links):
    (tmp_path / "loop.nii.gz").write_bytes(b"old images")
    (tmp_path / "loop_gt.nii.gz").write_bytes(b"old masks")
    heard = failing_at(monkeypatch, 0, OSError(5, "Input/output error"), links)
    replace_pair(tmp_path)
    assert len(heard) == CALLS
    assert heard.count("link" if links else "copy2") == 2
    assert listing(tmp_path) == {"loop.nii.gz": b"new images", "loop_gt.nii.gz": b"new masks"}


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), KeyboardInterrupt()], ids=["oserror", "ctrl-c"])
@pytest.mark.parametrize("links", [True, False], ids=["links", "copies"])
@pytest.mark.parametrize("n", range(1, CALLS + 1))
def test_a_pair_whose_replacing_fails_at_any_step_leaves_the_old_files_alone(tmp_path, monkeypatch, n, links,
                                                                              error):
    """Keeping the second old file aside failing left the first one's kept copy behind. A
    failed hard link is no failure: the old file is copied instead and the write goes on."""
    (tmp_path / "loop.nii.gz").write_bytes(b"old images")
    (tmp_path / "loop_gt.nii.gz").write_bytes(b"old masks")
    before = listing(tmp_path)
    heard = failing_at(monkeypatch, n, error, links)
    try:
        replace_pair(tmp_path)
    except (CardiganError, KeyboardInterrupt) as raised:
        assert isinstance(raised, CardiganError) == isinstance(error, OSError)
        assert listing(tmp_path) == before
    else:
        assert heard[n - 1] == "link" and isinstance(error, OSError)
        assert listing(tmp_path) == {"loop.nii.gz": b"new images", "loop_gt.nii.gz": b"new masks"}
    assert len(heard) >= n  # the failure came


def test_an_old_file_that_cannot_be_put_back_is_kept_under_its_kept_name(tmp_path, monkeypatch):
    """When the second rename failed and so did putting the first old file back, the old
    file's last copy was deleted with the names kept aside, and the error did not say where
    that copy is."""
    (tmp_path / "loop.nii.gz").write_bytes(b"old images")
    (tmp_path / "loop_gt.nii.gz").write_bytes(b"old masks")
    real, renames = os.replace, []

    def second_and_third_fail(source, target):
        renames.append(target)
        if len(renames) in (2, 3):  # the masks' rename, then putting the old images back
            raise OSError(5, "Input/output error")
        real(source, target)

    monkeypatch.setattr(os, "replace", second_and_third_fail)
    with pytest.raises(CardiganError) as raised:
        replace_pair(tmp_path)
    files = listing(tmp_path)
    assert files.pop("loop.nii.gz") == b"new images" and files.pop("loop_gt.nii.gz") == b"old masks"
    [(kept, old)] = files.items()
    assert kept.endswith(".kept.tmp") and old == b"old images"
    assert str(raised.value) == (f"{tmp_path / 'loop_gt.nii.gz'}: Input/output error; {tmp_path / 'loop.nii.gz'} "
                                 f"could not be put back: the file that was there is now {tmp_path / kept}")


def test_a_full_disk_at_the_second_rename_names_that_file_and_leaves_the_old_pair(tmp_path, monkeypatch):
    """The failed file was told by looking for each path in the error's text, and
    ``notes.txt`` is in ``notes.txt.sha256``: the first file was named."""
    first, second = tmp_path / "notes.txt", tmp_path / "notes.txt.sha256"
    first.write_bytes(b"old notes")
    second.write_bytes(b"old sum")
    real = os.replace

    def full_onto_the_second(source, target):
        if Path(target) == second:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(source, target)

    monkeypatch.setattr(os, "replace", full_onto_the_second)
    with pytest.raises(CardiganError) as raised:
        with atomic_paths([first, second]) as tmps:
            for tmp in tmps:
                tmp.write_bytes(b"new")
    assert str(raised.value) == f"no space left on the device while writing {second}"
    assert listing(tmp_path) == {"notes.txt": b"old notes", "notes.txt.sha256": b"old sum"}


def test_a_failure_making_the_second_file_durable_names_that_file(tmp_path, monkeypatch):
    """fsync's error carries no file name, so the first file was named."""
    (tmp_path / "loop.nii.gz").write_bytes(b"old images")
    (tmp_path / "loop_gt.nii.gz").write_bytes(b"old masks")
    before = listing(tmp_path)
    real, synced = os.fsync, []

    def the_second_fails(fd):
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", the_second_fails)
    with pytest.raises(CardiganError) as raised:
        replace_pair(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'loop_gt.nii.gz'}: Input/output error"
    assert listing(tmp_path) == before


def failing_renames_onto(monkeypatch, target: Path, error: BaseException) -> None:
    """The first rename onto ``target`` (the new folder's) raises ``error``; renaming the old
    folder away and back works."""
    failed = []
    for name in ("replace", "rename"):
        real = getattr(os, name)

        def failing(source, destination, _real=real):
            if Path(destination) == target and not failed:
                failed.append(source)
                raise error
            _real(source, destination)

        monkeypatch.setattr(os, name, failing)


def small_loop(frames: int = 3):
    import numpy as np

    return np.full((frames, 8, 8), 100, np.uint8), np.ones((frames, 8, 8), np.uint8)


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), KeyboardInterrupt()], ids=["oserror", "ctrl-c"])
def test_an_empty_folder_a_frames_loop_cannot_be_moved_into_stays(tmp_path, monkeypatch, error):
    """The empty folder was removed before the loop was renamed into its place."""
    from engine.cine import write_loop

    out = tmp_path / "frames"
    out.mkdir(mode=0o750)
    from engine.errors import CardiganError

    failing_renames_onto(monkeypatch, out, error)
    # a failed write is said in one line naming the loop's folder; a stop stays a stop
    with pytest.raises(CardiganError if isinstance(error, OSError) else type(error)) as raised:
        write_loop(out, *small_loop(), fps=25.0)
    assert not isinstance(error, OSError) or str(out) in str(raised.value)
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]  # no staging, nothing kept aside
    assert not any(out.iterdir()) and out.stat().st_mode & 0o777 == 0o750
    monkeypatch.undo()
    write_loop(out, *small_loop(), fps=25.0)
    assert sorted(p.name for p in out.iterdir()) == ["img", "label", "loop.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]


def test_a_frames_folder_moved_aside_by_a_killed_export_is_put_back_when_it_is_written_again(tmp_path):
    """The folder stayed hidden under its ``.old`` name, and a new loop was written without it."""
    from engine.cine import write_loop
    from engine.progress import Cancelled

    out = tmp_path / "frames"
    aside = tmp_path / ".frames.k1ll3d.old"  # as replace_folder leaves it, killed between its two renames
    (aside / "frames").mkdir(parents=True, mode=0o750)
    with pytest.raises(Cancelled):
        write_loop(out, *small_loop(), fps=25.0, should_stop=lambda: True)
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]
    assert not any(out.iterdir()) and out.stat().st_mode & 0o777 == 0o750


def test_an_empty_dataset_folder_that_cannot_be_replaced_stays(tmp_path, monkeypatch):
    from engine.data.phantom import write_phantom
    from engine.errors import DataError

    out = tmp_path / "data"
    out.mkdir()
    failing_renames_onto(monkeypatch, out, OSError(5, "Input/output error"))
    with pytest.raises(DataError, match="data: Input/output error"):
        write_phantom(out, count=2, size=32, seed=0)
    assert [p.name for p in tmp_path.iterdir()] == ["data"] and not any(out.iterdir())


def test_a_folder_that_cannot_be_put_back_is_named_and_kept(tmp_path, monkeypatch):
    from engine.fileio import replace_folder

    new, out = tmp_path / "new", tmp_path / "out"
    new.mkdir()
    out.mkdir()
    (out / "kept.txt").write_text("the user's")
    real, moves = os.replace, []

    def all_but_the_first_fail(source, destination):
        moves.append(destination)
        if len(moves) > 1:  # moving the new one in, then putting the old one back
            raise OSError(5, "Input/output error")
        real(source, destination)

    monkeypatch.setattr(os, "replace", all_but_the_first_fail)
    with pytest.raises(CardiganError, match="could not be replaced, nor put back") as raised:
        replace_folder(new, out)
    [aside] = tmp_path.glob(".out.*.old")
    assert str(aside / "out") in str(raised.value)
    assert (aside / "out" / "kept.txt").read_text() == "the user's"


@pytest.mark.parametrize("frames, last", [(1000, "frame_999.png"), (1001, "frame_1000.png")])
def test_frame_names_take_four_digits_from_1001_frames(tmp_path, monkeypatch, frames, last):
    import engine.data.imaging as imaging
    from engine.cine import write_loop

    monkeypatch.setattr(imaging, "save_png", lambda path, array: Path(path).touch())
    write_loop(tmp_path / "frames", *small_loop(frames), fps=25.0)
    names = sorted(p.name for p in (tmp_path / "frames" / "img").iterdir())
    assert names[0] == "frame_" + "0" * (len(last) - len("frame_.png")) + ".png" and names[-1] == last


def killed_at_rename(monkeypatch, folder: Path, n: int, write) -> Path:
    """Run ``write`` in ``folder`` and take a copy of the folder as a kill at its ``n``-th
    rename onto a file of ``folder`` would leave it (renames done, nothing cleaned up); the
    copy's folder."""
    real, renames, left = os.replace, [], folder.with_name(f"{folder.name}_killed")

    def killed(source, target):
        if not str(target).endswith(".tmp"):  # a writer's own staging is not counted
            renames.append(target)
        if len(renames) == n:
            shutil.copytree(folder, left)
            raise KeyboardInterrupt
        real(source, target)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write()
    monkeypatch.setattr(os, "replace", real)
    return left


@pytest.mark.parametrize("then", ["read", "write", "trace"])
@pytest.mark.parametrize("n", [1, 2])
def test_a_nifti_pair_a_kill_left_mixed_is_whole_when_it_is_next_read_or_written(tmp_path, monkeypatch, n, then):
    """A kill between the renames of a loop's images and masks left the new images beside the
    old masks, and the next read took them for a pair; the images opened by themselves (to
    trace over) were not checked at all."""
    import numpy as np

    from engine.data.trace_image import image_to_trace
    from engine.maskio import read_volume_label, read_volume_label_and_header, write_nifti_files

    folder = tmp_path / "loops"
    folder.mkdir()
    images, masks = folder / "loop.nii.gz", folder / "loop_gt.nii.gz"
    old, new = np.zeros((2, 8, 8), np.uint8), np.ones((2, 8, 8), np.uint8)
    write_nifti_files([(images, old), (masks, old)])
    left = killed_at_rename(monkeypatch, folder, n,
                            lambda: write_nifti_files([(images, new * 9), (masks, new)]))
    images, masks = left / images.name, left / masks.name
    mixed = n == 2
    import SimpleITK as sitk

    raw = sitk.GetArrayFromImage(sitk.ReadImage(str(images)))  # as a reader that checks nothing sees it
    assert (raw == 9).all() == mixed and len(list(left.glob(".*.kept.tmp"))) == 2  # the state a kill leaves
    notes: list[str] = []
    told = (["loop.nii.gz: the old file put back beside loop_gt.nii.gz: a write of them was "
             "stopped between the two and had left them mixed"] if mixed else [])
    if then == "read":
        labels, _ = read_volume_label_and_header(masks, loop=True, notify=notes.append)
        assert (labels == 0).all() and (read_volume_label(images, loop=True) == 0).all()  # the old pair, whole
        assert notes == told
        assert not mixed or not [p for p in left.iterdir() if p.name.endswith(".kept.tmp")]
    elif then == "trace":
        traced = image_to_trace(images, 8)
        assert (traced.frames == 0).all() and list(traced.notes) == told  # the old images, as their masks are
        assert not mixed or not [p for p in left.iterdir() if p.name.endswith(".kept.tmp")]
    else:
        write_nifti_files([(images, new * 2), (masks, new)])
        assert (read_volume_label(images, loop=True) == 2).all() and (read_volume_label(masks, loop=True) == 1).all()
        if mixed:  # what the stopped write had kept aside is gone with the old pair it replaced
            assert sorted(p.name for p in left.iterdir()) == ["loop.nii.gz", "loop_gt.nii.gz"]


@pytest.mark.parametrize("then", ["read", "trace", "open", "write"])
def test_a_nifti_pair_a_kill_left_mixed_in_a_read_only_folder_is_read_as_the_old_pair(tmp_path, monkeypatch, then):
    """Where the old file of a mixed pair could not be put back (a read-only folder), every read
    of the pair failed; it is read as the old pair from the copy kept aside, nothing on disk
    changed, and said in one line. A write still refuses, naming the old file."""
    import numpy as np

    from engine.data.trace_image import image_to_trace
    from engine.maskio import read_volume_label_and_header, write_nifti_files

    folder = tmp_path / "loops"
    folder.mkdir()
    images, masks = folder / "loop.nii.gz", folder / "loop_gt.nii.gz"
    old, new = np.zeros((2, 8, 8), np.uint8), np.ones((2, 8, 8), np.uint8)
    write_nifti_files([(images, old), (masks, old)])
    left = killed_at_rename(monkeypatch, folder, 2, lambda: write_nifti_files([(images, new * 9), (masks, new)]))
    images, masks = left / images.name, left / masks.name
    before = listing(left)

    def read_only(source, target):
        raise PermissionError(errno.EACCES, "Permission denied", str(source))

    monkeypatch.setattr(os, "replace", read_only)
    told = ("loop.nii.gz: the old file read from its copy kept aside, beside loop_gt.nii.gz: a write of them "
            "was stopped between the two and had left them mixed (the folder is read-only, so the pair was "
            "left as the stopped write left it)")
    notes: list[str] = []
    if then == "read":
        for path in (images, masks):
            labels, _ = read_volume_label_and_header(path, loop=True, notify=notes.append)
            assert (labels == 0).all()  # the old images and the old masks, not the new images
        assert notes == [told, told]
    elif then == "trace":
        traced = image_to_trace(images, 8)
        assert (traced.frames == 0).all() and list(traced.notes) == [told]
    elif then == "open":
        from cardigan_app.mask_reading import read_mask_or_image

        read = read_mask_or_image(masks, notes)
        assert (read.labels == 0).all() and list(read.notes) == [told]  # said once
    else:
        with pytest.raises(CardiganError, match=r"loop.nii.gz: not writable .*its old file is .*\.kept\.tmp"):
            write_nifti_files([(images, old), (masks, old)])
    assert listing(left) == before


def watch_looks_at_mixed_loop_pair(monkeypatch, read_only: bool) -> tuple[list[list[Path]], str]:
    """For the mixed ``loop.nii.gz`` pair: renames refused when ``read_only``; the list each look
    at the pair is added to; and the line the reader must say of it."""
    from engine import maskio

    if read_only:
        def refused(source, target):
            raise PermissionError(errno.EACCES, "Permission denied", str(source))

        monkeypatch.setattr(os, "replace", refused)
    looks: list[list[Path]] = []
    real = maskio.restore_mixed_pair
    monkeypatch.setattr(maskio, "restore_mixed_pair", lambda paths, *rest: looks.append(paths) or real(paths, *rest))
    told = ("loop.nii.gz: the old file read from its copy kept aside, beside loop_gt.nii.gz: a write of them "
            "was stopped between the two and had left them mixed (the folder is read-only, so the pair was "
            "left as the stopped write left it)" if read_only else
            "loop.nii.gz: the old file put back beside loop_gt.nii.gz: a write of them was stopped between the "
            "two and had left them mixed")
    return looks, told


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("opened, as_mask", [("loop_gt.nii.gz", False), ("loop.nii.gz", False),
                                             ("loop_gt.nii.gz", True)])
def test_a_mixed_nifti_pair_opened_in_the_studio_is_settled_once_and_said_once(tmp_path, monkeypatch, opened,
                                                                                 as_mask, read_only):
    """Opening either file of a mixed pair (dropped, or ``as_mask`` by File > Open mask) looked
    at the pair up to three times (the studio's reader, the mask's reader, the images' reader),
    each a wait to settle in a read-only folder."""
    import numpy as np

    from cardigan_app.mask_reading import MaskRead, read_mask_file, read_mask_or_image
    from engine import maskio

    folder = tmp_path / "loops"
    folder.mkdir()
    images, masks = folder / "loop.nii.gz", folder / "loop_gt.nii.gz"
    old = np.random.default_rng(0).integers(0, 256, (2, 8, 8)).astype(np.uint8)  # grey levels: no mask
    maskio.write_nifti_files([(images, old), (masks, np.zeros_like(old))])
    left = killed_at_rename(monkeypatch, folder, 2,
                            lambda: maskio.write_nifti_files([(images, 255 - old), (masks, np.ones_like(old))]))
    looks, told = watch_looks_at_mixed_loop_pair(monkeypatch, read_only)
    notes: list[str] = []
    read = read_mask_file(left / opened) if as_mask else read_mask_or_image(left / opened, notes)
    assert len(looks) == 1
    if opened == "loop_gt.nii.gz":  # the old masks over the old images
        assert isinstance(read, MaskRead) and (read.labels == 0).all() and np.array_equal(read.frames, old)
        assert list(read.notes) == [told] and notes == []
    else:  # the old images, to trace over
        assert np.array_equal(read, old) and notes == [told]


@pytest.mark.parametrize("read_only", [False, True])
def test_a_workspace_over_a_mixed_nifti_pair_reads_the_old_pair_settled_once_and_said_once(tmp_path, monkeypatch,
                                                                                           read_only):
    """An ITK-SNAP workspace's segmentation was read as a killed write left it, new masks (or
    new images) mixed with the old, and nothing said, where every other reader of the pair
    puts the old pair back first and says so."""
    import numpy as np

    from cardigan_app.mask_reading import read_workspace_mask
    from engine import maskio
    from engine.itksnap_workspace import read_workspace, write_workspace

    folder = tmp_path / "loops"
    folder.mkdir()
    images, masks = folder / "loop.nii.gz", folder / "loop_gt.nii.gz"
    old = np.random.default_rng(0).integers(0, 256, (2, 8, 8)).astype(np.uint8)
    old_masks = np.zeros_like(old)
    old_masks[0, 2:6, 2:6] = 1  # the cavity painted on the first frame
    maskio.write_nifti_files([(images, old), (masks, old_masks)])
    left = killed_at_rename(monkeypatch, folder, 2,
                            lambda: maskio.write_nifti_files([(images, 255 - old), (masks, np.full_like(old, 2))]))
    workspace = left / "loop.itksnap"
    write_workspace(workspace, left / images.name, left / masks.name)
    looks, told = watch_looks_at_mixed_loop_pair(monkeypatch, read_only)
    read = read_workspace_mask(read_workspace(workspace))  # as the studio opens it
    assert len(looks) == 1 and list(read.notes) == [told]
    assert np.array_equal(read.labels, old_masks[0]) and np.array_equal(read.frames, old)  # the old pair
    if read_only:  # the command line's read of it too
        notes: list[str] = []
        assert np.array_equal(maskio.read_label_map(workspace, notify=notes.append), old_masks[0])
        assert notes == [told]


def test_old_files_of_a_pair_kept_by_several_stopped_writes_are_not_guessed_between(tmp_path):
    from engine.fileio import restore_mixed_pair

    first, second = tmp_path / "loop.nii.gz", tmp_path / "loop_gt.nii.gz"
    for path in (first, second):
        path.write_bytes(b"new")
    for token in ("aaaaaaaa", "bbbbbbbb"):
        (tmp_path / f".loop.nii.{token}.gz.kept.tmp").write_bytes(b"old")
    with pytest.raises(CardiganError, match="old files of several stopped writes are beside it"):
        restore_mixed_pair([first, second])


def old_pair(folder: Path) -> tuple[Path, Path]:
    first, second = folder / "loop.nii.gz", folder / "loop_gt.nii.gz"
    first.write_bytes(b"old images")
    second.write_bytes(b"old masks")
    return first, second


def test_a_pair_a_live_write_is_between_the_renames_of_is_waited_for_not_rolled_back(tmp_path, monkeypatch):
    """A reader looking in between another process's two renames of a pair saw what a kill
    leaves and rolled its first file back, deleting the file its second rename was to move."""
    from engine import fileio

    first, second = old_pair(tmp_path)
    real, held, notes = os.replace, [], []

    def reader_looks_in_between(source, target):
        if Path(target) == second and not notes:
            held.append((source, target))
            notes.append(fileio.restore_mixed_pair([first, second]))
            if held:  # the reader did not wait for it
                real(*held.pop())
            return
        real(source, target)

    def second_rename_lands(seconds):  # while the reader waits
        if held:
            real(*held.pop())

    monkeypatch.setattr(os, "replace", reader_looks_in_between)
    monkeypatch.setattr(fileio, "_pause", second_rename_lands)
    replace_pair(tmp_path)
    assert notes == [None]
    assert listing(tmp_path) == {"loop.nii.gz": b"new images", "loop_gt.nii.gz": b"new masks"}


def test_a_pair_a_kill_left_mixed_is_rolled_back_once_it_stays_as_it_is(tmp_path, pauses):
    from engine import fileio

    first, second = old_pair(tmp_path)
    first.write_bytes(b"new images")  # renamed in; the masks' rename never came
    (tmp_path / ".loop.nii.aaaaaaaa.gz.kept.tmp").write_bytes(b"old images")
    (tmp_path / ".loop_gt.nii.bbbbbbbb.gz.kept.tmp").write_bytes(b"old masks")
    (tmp_path / ".loop_gt.nii.bbbbbbbb.gz.tmp").write_bytes(b"new masks")
    assert fileio.restore_mixed_pair([first, second]).startswith("loop.nii.gz: the old file put back")
    assert listing(tmp_path) == {"loop.nii.gz": b"old images", "loop_gt.nii.gz": b"old masks"}
    assert pauses and sum(pauses) >= fileio.MIX_SETTLE_S - 1e-9  # looked at until it had stayed still


def test_a_whole_pair_is_looked_at_with_one_listing_of_its_folder_and_no_wait(tmp_path, monkeypatch, pauses):
    """Every read of a NIfTI pair looks for a stopped write's leftovers: a whole pair costs one
    listing of its folder (it listed the folder once per file), no stat of its files and no wait."""
    from engine import fileio

    first, second = tmp_path / "loop.nii.gz", tmp_path / "loop_gt.nii.gz"
    first.write_bytes(b"images")
    second.write_bytes(b"masks")
    listed, stat_ed = [], []
    real_scandir, real_stamp = os.scandir, fileio._stamp
    monkeypatch.setattr(fileio.os, "scandir", lambda folder: listed.append(folder) or real_scandir(folder))
    monkeypatch.setattr(fileio, "_stamp", lambda *a: stat_ed.append(a) or real_stamp(*a))
    assert fileio.restore_mixed_pair([first, second]) is None
    assert len(listed) == 1 and not stat_ed and not pauses
    assert first.read_bytes() == b"images" and second.read_bytes() == b"masks"


def test_a_folder_name_with_glob_characters_finds_only_its_own_folder_kept_aside(tmp_path):
    """``run[12]``'s writer finds ``.run[12].*.old`` alone: not ``run1``'s kept-aside folder,
    the only copy of that dataset, which a pattern read as a wildcard matched and deleted."""
    from engine.fileio import restore_replaced

    others = tmp_path / ".run1.k1ll3d.old"  # run1 moved aside by a killed replace: its only copy
    (others / "run1").mkdir(parents=True)
    os.utime(others, (1.0, 1.0))
    own = tmp_path / ".run[12].k1ll3d.old"
    (own / "run[12]").mkdir(parents=True)
    assert restore_replaced(tmp_path / "run[12]") == [tmp_path / "run[12]"]
    assert (others / "run1").is_dir() and not own.exists()


def test_a_dataset_named_with_glob_characters_clears_only_its_own_abandoned_staging(tmp_path):
    """``run[12]``'s abandoned staging folders were never found (its name read as a wildcard),
    and ``run1``'s were taken for its own."""
    from engine.data.staging import remove_abandoned_staging

    others = tmp_path / ".run1.k1ll3d.partial"
    own = tmp_path / ".run[12].k1ll3d.partial"
    for folder in (others, own):
        folder.mkdir()
        os.utime(folder, (1.0, 1.0))  # long past the grace a writer gets to take its lock
    assert remove_abandoned_staging(tmp_path / "run[12]") == [own]
    assert others.is_dir() and not own.exists()


def test_an_old_file_left_by_a_pair_whose_second_file_was_new_is_cleared_when_the_pair_is_read(tmp_path):
    """A kill after both renames, when the masks had no old file to keep aside, left the old
    images' copy for good (only a pair whose every file was renamed over an old one was
    cleared), and a second such kill made every later read of the pair fail."""
    from engine.fileio import restore_mixed_pair

    images, masks = tmp_path / "loop.nii.gz", tmp_path / "loop_gt.nii.gz"
    images.write_bytes(b"new images")
    masks.write_bytes(b"new masks")  # written for the first time by the stopped write
    kept = tmp_path / ".loop.nii.k1ll3d.gz.kept.tmp"  # its temporary file renamed in: gone
    kept.write_bytes(b"old images")
    assert restore_mixed_pair([images, masks]) is None
    assert listing(tmp_path) == {"loop.nii.gz": b"new images", "loop_gt.nii.gz": b"new masks"}


def test_a_users_hidden_folder_named_like_one_kept_aside_is_never_deleted(tmp_path):
    """``.data.backup.old`` beside ``data`` matches the name a replace keeps a folder aside
    under, but holds what no replace puts there: it is the user's, and stays."""
    from engine.fileio import restore_replaced

    (tmp_path / "data").mkdir()
    users = tmp_path / ".data.backup.old"
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    os.utime(users, (1.0, 1.0))
    ours = tmp_path / ".data.k1ll3d.old"  # a replace killed while deleting the old folder
    (ours / "data").mkdir(parents=True)
    os.utime(ours, (1.0, 1.0))
    assert restore_replaced(tmp_path / "data") == []
    assert (users / "notes.txt").read_text() == "mine" and not ours.exists()
