"""A large loop is read on a worker thread: the window stays live, and what the user does
meanwhile wins over the file that arrives late."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from cardigan_app import file_reading
from cardigan_app.testing import drag
from test_app_files import prompts, some_labels  # noqa: F401 - the fixture is used by name
from test_dicom_echo import scanner_frames, us_dataset
from engine.maskio import write_label_png


@pytest.fixture
def every_file_is_large(monkeypatch):
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 0)


def write_loop(path, frames: int) -> None:
    us_dataset(scanner_frames(frames)).save_as(path, enforce_file_format=True)


def finish_reading(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)


def test_a_large_loop_is_read_in_the_background_and_then_traced(window, tmp_path, qtbot, prompts,
                                                                 every_file_is_large):
    write_loop(tmp_path / "IM_0001", 3)
    before = window.document
    assert window.open_any(tmp_path / "IM_0001")  # the read has started ...
    assert window.files.reader.busy and window.document is before  # ... and nothing is replaced yet
    assert QGuiApplication.overrideCursor() is not None and "Reading IM_0001" in window.statusBar().currentMessage()
    finish_reading(window, qtbot)
    assert window.document is not before and window.reference_image is not None
    assert window.workspace.reference_frame.maximum() == 2  # all three frames, to trace over any of them
    assert QGuiApplication.overrideCursor() is None and "3 frames" in window.statusBar().currentMessage()


def test_a_small_jpeg_cine_is_read_in_the_background_by_its_decoded_size(window, tmp_path, qtbot, prompts,
                                                                          monkeypatch):
    """A JPEG cine's file is a fraction of its frames' size: decoding it is what takes time."""
    from test_dicom_echo import jpeg_cine

    frames = scanner_frames(3)
    jpeg_cine(frames).save_as(tmp_path / "IM_0001", enforce_file_format=True)
    small = (tmp_path / "IM_0001").stat().st_size
    assert small < frames.nbytes // 4
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", frames.nbytes // 2)  # the file below, its frames above
    assert window.open_any(tmp_path / "IM_0001")
    assert window.files.reader.busy  # read on a worker thread, not on the window's
    finish_reading(window, qtbot)
    assert window.workspace.reference_frame.maximum() == 2
    us_dataset(scanner_frames(1)[:, :100, :100]).save_as(tmp_path / "IM_0002", enforce_file_format=True)
    assert window.open_any(tmp_path / "IM_0002") and not window.files.reader.busy  # small decoded: at once


@pytest.mark.parametrize("name", ["IM_0001.png", "IM_0001.jpg"])
def test_a_jpeg_cine_named_as_a_picture_is_read_in_the_background_by_its_decoded_size(
        window, tmp_path, qtbot, prompts, monkeypatch, name):
    """Its name said picture, so its small file was all that sized it: the whole cine was
    decoded on the window's thread. Found to be DICOM, it is sized by its header."""
    from test_dicom_echo import jpeg_cine

    frames = scanner_frames(3)
    jpeg_cine(frames).save_as(tmp_path / name, enforce_file_format=True)
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", frames.nbytes // 2)  # the file below, its frames above
    assert window.open_any(tmp_path / name)
    assert window.files.reader.busy and "decoded" in window.statusBar().currentMessage()
    finish_reading(window, qtbot)
    assert window.references.count == 3 and window.document.path is None and prompts["warning"] == []


def test_a_file_read_in_the_background_is_sized_once(window, tmp_path, qtbot, prompts, monkeypatch):
    """Its decoded size was found twice: to choose the worker thread, then for the status line."""
    from test_dicom_echo import jpeg_cine

    frames = scanner_frames(3)
    jpeg_cine(frames).save_as(tmp_path / "IM_0001", enforce_file_format=True)
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", frames.nbytes // 2)  # the file below, its frames above
    sized, decoded_size = [], file_reading.decoded_size
    monkeypatch.setattr(file_reading, "decoded_size", lambda path: sized.append(path.name) or decoded_size(path))
    assert window.open_any(tmp_path / "IM_0001") and window.files.reader.busy
    assert "decoded" in window.statusBar().currentMessage()  # the size found is the one the line gives
    finish_reading(window, qtbot)
    assert sized == ["IM_0001"]


def test_a_loop_of_unknown_kind_read_in_the_background_opens_as_what_it_is(window, tmp_path, qtbot, prompts,
                                                                          every_file_is_large):
    import SimpleITK as sitk

    rng = np.random.default_rng(2)
    sitk.WriteImage(sitk.GetImageFromArray(rng.integers(0, 256, (4, 60, 60)).astype(np.uint8)),
                    str(tmp_path / "loop.nii.gz"))
    assert window.open_any(tmp_path / "loop.nii.gz")
    finish_reading(window, qtbot)
    assert not window.document.labels.any() and window.workspace.reference_frame.maximum() == 3
    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    assert window.open_any(tmp_path / "mask.png")  # a label map, read in the background too
    finish_reading(window, qtbot)
    assert (window.document.labels == labels).all()


def test_the_newer_of_two_reads_wins(window, tmp_path, qtbot, prompts, every_file_is_large):
    write_loop(tmp_path / "IM_A", 2)
    write_loop(tmp_path / "IM_B", 4)
    assert window.files.trace_path(tmp_path / "IM_A")
    older = window.files.reader._task
    assert window.files.trace_path(tmp_path / "IM_B")
    assert older.wait(20)  # the older read's thread has ended ...
    QApplication.processEvents()  # ... and its queued result has been delivered (and dropped)
    assert "IM_A" not in window.windowTitle()  # kept, it would show now, or replace IM_B below
    finish_reading(window, qtbot)
    assert "IM_B" in window.windowTitle() and window.workspace.reference_frame.maximum() == 3
    assert QGuiApplication.overrideCursor() is None


def test_a_mask_opened_while_a_loop_is_read_wins_at_once(window, tmp_path, qtbot, prompts,
                                                        every_file_is_large, monkeypatch):
    """A small mask opened while a large loop was read left the read running: the busy cursor
    and "Reading ..." stayed until the loop arrived, to be dropped with a status line of its
    own. Now the newer open (or File > New) ends the read there and then, and says nothing more."""
    from cardigan_app.editing import LabelDocument

    write_loop(tmp_path / "IM_0001", 2)
    assert window.files.trace_path(tmp_path / "IM_0001")
    older = window.files.reader._task
    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 1 << 30)  # the mask opens at once
    assert window.open_any(tmp_path / "mask.png")
    assert not window.files.reader.busy and QGuiApplication.overrideCursor() is None
    assert window.statusBar().currentMessage().startswith("Opened mask.png")
    assert older.cancel_requested and older.wait(20)
    QApplication.processEvents()  # the dropped read's queued result arrives: nothing changes
    assert (window.document.labels == labels).all() and window.document.path == tmp_path / "mask.png"
    assert window.statusBar().currentMessage().startswith("Opened mask.png")
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 0)
    assert window.files.trace_path(tmp_path / "IM_0001", confirmed=True)
    assert window.files.reader.busy and QGuiApplication.overrideCursor() is not None
    window.set_document(LabelDocument(np.zeros((64, 64), np.uint8)))  # as File > New makes one
    assert not window.files.reader.busy and QGuiApplication.overrideCursor() is None
    assert "Reading" not in window.statusBar().currentMessage()


def test_an_edit_made_while_a_loop_is_read_is_asked_about(window, tmp_path, qtbot, prompts, every_file_is_large):
    write_loop(tmp_path / "IM_0001", 2)
    edited = window.document
    assert window.files.trace_path(tmp_path / "IM_0001")
    drag(window.canvas, [(10, 10), (30, 30)])  # painted while the file is read
    prompts["answers"] = [QMessageBox.StandardButton.Cancel]
    finish_reading(window, qtbot)
    assert window.document is edited and window.document.labels.any()  # kept: the user said so
    assert "unsaved changes" in prompts["question"][-1][1]
    assert window.files.trace_path(tmp_path / "IM_0001", confirmed=True)  # the user lets the edit go ...
    drag(window.canvas, [(10, 40), (30, 40)])  # ... paints again while it is read, and lets that go too
    prompts["answers"] = [QMessageBox.StandardButton.Discard]
    finish_reading(window, qtbot)
    assert window.document is not edited and not window.document.labels.any()


def test_a_damaged_large_file_is_one_line_and_the_mask_stays(window, tmp_path, qtbot, prompts,
                                                            every_file_is_large):
    damaged = tmp_path / "IM_0009"
    write_loop(damaged, 3)
    damaged.write_bytes(damaged.read_bytes()[:2000])  # cut short: the header, not the frames
    before = window.document
    assert window.files.trace_path(damaged)
    finish_reading(window, qtbot)
    assert window.document is before and prompts["warning"] and "IM_0009" in prompts["warning"][-1]
    assert "\n" not in prompts["warning"][-1] and QGuiApplication.overrideCursor() is None


def test_closing_the_window_drops_a_read_in_progress(window, tmp_path, qtbot, prompts, every_file_is_large):
    write_loop(tmp_path / "IM_0001", 2)
    assert window.files.trace_path(tmp_path / "IM_0001")
    task = window.files.reader._task
    window.files.reader.shutdown()
    assert task.wait(20)
    QApplication.processEvents()  # the dropped read's queued result arrives and is ignored
    assert not window.files.reader.busy and window.reference_image is None
    assert QGuiApplication.overrideCursor() is None


def test_an_es_key_frame_edited_while_a_loop_is_read_is_asked_about(window, tmp_path, qtbot, prompts,
                                                                    every_file_is_large):
    write_loop(tmp_path / "IM_0002", 2)
    assert window.files.trace_path(tmp_path / "IM_0002")
    window.commands["key_frame"].trigger()  # to ES, paint there, and back to ED before the read ends
    es = window.document
    drag(window.canvas, [(10, 10), (30, 30)])
    window.commands["key_frame"].trigger()
    assert es.modified
    prompts["answers"] = [QMessageBox.StandardButton.Cancel]
    finish_reading(window, qtbot)
    assert window.key_frames.frames["ES"] is es and es.labels.any()  # kept: the user said so
    assert "unsaved changes" in prompts["question"][-1][1]


def write_cine_export(folder, frames: int = 5, size: int = 64):
    """A loop's images ``loop.nii.gz`` and masks ``loop_gt.nii.gz``, as File > Export > Cine
    loop writes them: the LV cavity shrinks frame by frame from frame 1 (ED) to the last (ES)."""
    from engine.maskio import write_nifti

    masks = np.zeros((frames, size, size), np.uint8)
    for k in range(1, frames):
        masks[k, 10:50, 10:50] = 2
        side = 32 - 24 * k // frames
        masks[k, 14:14 + side, 14:14 + side] = 1
    images = np.random.default_rng(4).integers(0, 256, masks.shape).astype(np.uint8)
    write_nifti(folder / "loop.nii.gz", images)
    write_nifti(folder / "loop_gt.nii.gz", masks)
    return folder / "loop_gt.nii.gz", masks, images


@pytest.fixture
def counted_reads(monkeypatch):
    """Each read of a file as labels or as grey frames (a workspace's segmentation by the workspace's
    name): (its name, whether the window's thread read it)."""
    import threading

    import cardigan_app.mask_reading as mask_reading
    import engine.data.trace_image as trace_image
    import engine.maskio as maskio

    reads = []

    def counted(read):
        def reading(path, *args, **kwargs):
            name = Path(getattr(path, "path", path)).name  # a file, or the workspace naming its files
            reads.append((name, threading.current_thread() is threading.main_thread()))
            return read(path, *args, **kwargs)
        return reading

    for module, name in ((maskio, "read_volume_label_and_header"), (mask_reading, "read_volume_label_and_header"),
                         (mask_reading, "labels_and_header_from_workspace"), (trace_image, "read_grey_frames_and_header")):
        monkeypatch.setattr(module, name, counted(getattr(module, name)))
    return reads


def assert_loop_opened(window, path, masks, images) -> None:
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert window.document is ed and ed.path == path
    assert (ed.labels == masks[1]).all() and (es.labels == masks[-1]).all()
    assert window.references.index == {"ED": 1, "ES": len(masks) - 1}
    assert (window.reference_image == images[1]).all()


def test_a_loops_masks_are_read_once_on_a_worker_thread_with_its_images(window, tmp_path, qtbot, prompts,
                                                                      every_file_is_large, counted_reads):
    path, masks, images = write_cine_export(tmp_path)
    before = window.document
    assert window.files.open_path(path)
    assert window.files.reader.busy and window.document is before  # the window stays live meanwhile
    finish_reading(window, qtbot)
    # each file once, neither on the window's thread
    assert counted_reads == [("loop_gt.nii.gz", False), ("loop.nii.gz", False)]
    assert_loop_opened(window, path, masks, images)
    assert "frames 2 (ED) and 5 (ES)" in window.statusBar().currentMessage()


def test_a_small_loops_masks_are_read_once_whether_opened_or_dropped(window, tmp_path, prompts, counted_reads):
    path, masks, images = write_cine_export(tmp_path)
    assert window.files.open_path(path)  # small: at once, as any small file
    assert [name for name, _ in counted_reads] == ["loop_gt.nii.gz", "loop.nii.gz"]
    assert_loop_opened(window, path, masks, images)
    counted_reads.clear()
    assert window.open_any(path)
    assert [name for name, _ in counted_reads] == ["loop_gt.nii.gz", "loop.nii.gz"]
    assert_loop_opened(window, path, masks, images)


def test_a_workspaces_segmentation_and_main_image_are_read_on_a_worker_thread(window, tmp_path, qtbot, prompts,
                                                                             every_file_is_large, counted_reads):
    from engine.itksnap_workspace import write_workspace
    from engine.maskio import write_nifti

    labels = some_labels(64)
    loop = np.random.default_rng(2).integers(0, 256, (5, 64, 64)).astype(np.uint8)
    write_nifti(tmp_path / "loop.nii.gz", loop)
    write_nifti(tmp_path / "loop_seg.nii.gz", labels)
    write_workspace(tmp_path / "case.itksnap", tmp_path / "loop.nii.gz", tmp_path / "loop_seg.nii.gz")
    before = window.document
    assert window.open_any(tmp_path / "case.itksnap")
    assert window.files.reader.busy and window.document is before
    finish_reading(window, qtbot)
    assert (window.document.labels == labels).all() and (window.reference_image == loop[0]).all()
    assert counted_reads == [("case.itksnap", False), ("loop.nii.gz", False)]  # its segmentation, its image


def test_a_pair_opened_after_a_slow_pair_wins_over_it(window, tmp_path, qtbot, prompts, monkeypatch,
                                                     every_file_is_large, counted_reads):
    """The dataset browser's double-clicks: each pair's image is read off the window's thread,
    and the pair opened last is the one shown, whichever read ends last."""
    from PIL import Image

    images = {}
    for name, seed in (("a", 1), ("b", 2)):
        write_label_png(tmp_path / f"{name}_mask.png", some_labels(64, seed))
        images[name] = np.random.default_rng(seed).integers(0, 256, (64, 64)).astype(np.uint8)
        Image.fromarray(images[name]).save(tmp_path / f"{name}_image.png")
    assert window.files.open_path(tmp_path / "a_mask.png", reference=tmp_path / "a_image.png")
    older = window.files.reader._task
    assert window.files.open_path(tmp_path / "b_mask.png", reference=tmp_path / "b_image.png")
    assert older.wait(20)
    QApplication.processEvents()  # the older read's result arrives, and is dropped
    finish_reading(window, qtbot)
    assert window.document.path == tmp_path / "b_mask.png" and (window.reference_image == images["b"]).all()
    assert not [read for read in counted_reads if read[1]]  # no read on the window's thread
    assert window.files.open_path(tmp_path / "a_mask.png", reference=tmp_path / "a_image.png")  # slow ...
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 1 << 30)
    assert window.files.open_path(tmp_path / "b_mask.png", confirmed=True)  # ... and a later open at once
    finish_reading(window, qtbot)
    assert window.document.path == tmp_path / "b_mask.png" and window.reference_image is None


def test_a_compressed_loops_masks_are_sized_by_their_voxels_not_their_file(window, tmp_path, qtbot, prompts,
                                                                          monkeypatch, counted_reads):
    """Masks compress a hundredfold: a long loop's masks are a small file that takes long to read."""
    path, masks, _ = write_cine_export(tmp_path, frames=40)
    (tmp_path / "loop.nii.gz").unlink()  # the masks alone
    assert path.stat().st_size < masks.nbytes // 10
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", masks.nbytes // 2)  # the file below, its voxels above
    assert window.files.open_path(path)
    assert window.files.reader.busy  # read on a worker thread, not on the window's
    finish_reading(window, qtbot)
    assert counted_reads == [("loop_gt.nii.gz", False)]
    assert (window.key_frames.frames["ED"].labels == masks[1]).all()


@pytest.mark.parametrize("compressed", [False, True])
def test_a_metaimage_sequence_is_sized_by_its_data_not_its_small_header(tmp_path, monkeypatch, compressed):
    """A CAMUS ``.mhd`` is a few hundred bytes; the frames it describes are in its ``.raw``."""
    from test_volume_checks import write_metaimage

    frames = np.zeros((20, 64, 48), np.uint8)
    header = write_metaimage(tmp_path, "patient0001_4CH_half_sequence", frames, compressed)
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", frames.nbytes // 2)
    assert not file_reading.read_at_once(header)
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", frames.nbytes)
    assert file_reading.read_at_once(header)


def test_a_compressed_hdf5_loop_is_sized_by_its_datasets_not_its_file(window, tmp_path, qtbot, prompts,
                                                                      monkeypatch):
    """HDF5 loops are gzip-compressed a frame a chunk: a long loop is a small file that decodes to
    far more. It was read on the window's thread, which froze meanwhile."""
    import threading

    import h5py

    from engine.cine import write_loop

    frames, size = 40, 64
    masks = np.zeros((frames, size, size), np.uint8)
    for k in range(frames):
        side = 30 - k % 20
        masks[k, 10:10 + side, 10:10 + side] = 1
    images = np.full(masks.shape, 90, np.uint8)
    path = tmp_path / "loop.h5"
    write_loop(path, images, masks, 10.0)
    decoded = images.nbytes + masks.nbytes
    assert path.stat().st_size < decoded // 10
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", decoded // 2)  # the file below, its datasets above
    opened = []
    real_init = h5py.File.__init__

    def counted(self, name, *args, **kwargs):
        if not isinstance(name, h5py.h5f.FileID):  # a file's own object handle opens nothing
            opened.append(threading.current_thread() is threading.main_thread())
        real_init(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.File, "__init__", counted)
    before = window.document
    assert window.files.open_path(path)
    assert window.files.reader.busy and window.document is before  # read on a worker thread
    finish_reading(window, qtbot)
    assert opened == [True, False]  # sized by the open on the window's thread, its data read on the worker
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert (ed.labels == masks[0]).all() and (es.labels == masks[19]).all()
    assert window.references.count == frames
    window.document.mark_saved()
    opened.clear()
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", decoded)  # small decoded: at once, in one open
    assert window.files.open_path(path, confirmed=True) and not window.files.reader.busy
    assert opened == [True] and window.references.count == frames


@pytest.mark.parametrize("kind", ["loop.h5", "frames", "loop_gt.nii.gz"])
def test_a_background_reads_status_line_says_what_a_compressed_loop_holds(window, tmp_path, qtbot, prompts,
                                                                          monkeypatch, kind):
    """It gave the size on disk alone, "Reading loop.h5 (0 MB)", for a loop that decodes to
    many megabytes and takes its time to read."""
    from engine.cine import write_loop
    from engine.maskio import write_nifti

    masks = np.zeros((40, 256, 256), np.uint8)
    masks[:, 64:192, 64:192] = 2
    masks[:, 80:176, 80:176] = 1
    images = np.full(masks.shape, 90, np.uint8)  # both compress a hundredfold
    if kind == "loop_gt.nii.gz":
        write_nifti(tmp_path / "loop.nii.gz", images)
        write_nifti(tmp_path / kind, masks)
    else:
        write_loop(tmp_path / kind, images, masks, 10.0)
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 2**20)
    assert window.open_any(tmp_path / kind) and window.files.reader.busy
    line = window.statusBar().currentMessage()
    assert re.fullmatch(rf"Reading {kind} \([\d.]+ kB on disk, 5.2 MB decoded\)\u2026", line), line
    finish_reading(window, qtbot)
    assert window.key_frames.frames["ES"] is not None and window.references.count == 40


def test_a_reads_status_line_gives_the_size_on_disk_alone_when_that_is_all_it_knows(tmp_path):
    (tmp_path / "notes.bin").write_bytes(bytes(3_000_000))
    files = [tmp_path / "notes.bin"]
    assert file_reading.reading_line(tmp_path / "notes.bin", files) == "Reading notes.bin (3 MB)\u2026"
    line = file_reading.reading_line(tmp_path / "notes.bin", files, decoded=400_000_000)
    assert line == "Reading notes.bin (3 MB on disk, 400 MB decoded)\u2026"
    assert file_reading.reading_line(tmp_path / "gone.h5", [tmp_path / "gone.h5"]) == "Reading gone.h5 (0 B)\u2026"


@pytest.mark.parametrize("compressed", [False, True])
def test_a_metaimage_reads_status_line_gives_its_data_files_size_not_its_headers(tmp_path, compressed):
    """It gave the header's few hundred bytes, "Reading x.mhd (0 KB on disk, 3 MB decoded)",
    for a ``.raw`` of 3 MB."""
    from test_volume_checks import write_metaimage

    frames = np.random.default_rng(0).integers(0, 256, (12, 512, 512)).astype(np.uint8)
    if compressed:
        frames[:] = 90  # a .zraw of a few kilobytes
    header = write_metaimage(tmp_path, "loop", frames, compressed)
    line = file_reading.reading_line(header, [header])
    if compressed:
        assert re.fullmatch(r"Reading loop\.mhd \([1-9][.\d]* kB on disk, 3.1 MB decoded\)\u2026", line), line
    else:
        assert line == "Reading loop.mhd (3.1 MB)\u2026"
    (tmp_path / "loop.zraw" if compressed else tmp_path / "loop.raw").unlink()  # the header alone: its own size
    assert re.fullmatch(r"Reading loop\.mhd \([1-9]\d* B( on disk, 3.1 MB decoded)?\)\u2026",
                        file_reading.reading_line(header, [header]))


def test_a_file_over_8_mb_as_sizes_are_said_is_read_in_the_background(tmp_path):
    """The README and the status line say sizes in powers of 1000: a file the status line calls
    8.1 MB is over the 8 MB read at once."""
    from engine.units import format_bytes

    large = tmp_path / "large.png"
    large.write_bytes(bytes(8_100_000))
    assert format_bytes(file_reading.READ_AT_ONCE_BYTES) == "8 MB"
    assert format_bytes(large.stat().st_size) == "8.1 MB" and not file_reading.read_at_once(large)
