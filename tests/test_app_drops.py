"""What a drop onto the studio's window does, for each kind of thing the window takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from engine.cine import write_loop
from engine.maskio import write_label_png
from test_app_files import prompts, some_labels  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")


def drop_on(window, paths: list[Path]) -> bool:
    """Drag ``paths`` over the window and drop them; whether the window took the drag."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(window, QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    return True


@pytest.fixture
def models_loaded(window, monkeypatch) -> list[str]:
    """The models the window was asked to load (none is loaded: a model error would say it)."""
    asked: list[str] = []
    monkeypatch.setattr(window, "load_model", asked.append)
    return asked


def a_loop(frames: int = 4, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(images, masks) of a loop whose LV cavity grows and shrinks, so ED and ES differ."""
    masks = np.zeros((frames, size, size), np.uint8)
    for frame in range(frames):
        half = 8 + 4 * min(frame, frames - 1 - frame)
        masks[frame, 32 - half:32 + half, 32 - half:32 + half] = 2
        masks[frame, 34 - half:30 + half, 34 - half:30 + half] = 1
    images = np.random.default_rng(0).integers(0, 256, masks.shape).astype(np.uint8)
    return images, masks


def test_a_dropped_folder_of_png_frames_opens_as_the_loop_it_is(window, tmp_path, prompts, models_loaded):
    """The folder is neither a dataset nor a DICOM export, so it was handed to the model
    loader, and the user got a model error instead of the loop."""
    images, masks = a_loop()
    write_loop(tmp_path / "loop_frames", images, masks, 10.0)
    assert drop_on(window, [tmp_path / "loop_frames"])
    assert models_loaded == [] and prompts["warning"] == []
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert window.document is ed and ed.path == tmp_path / "loop_frames"
    cavity = (masks == 1).sum(axis=(1, 2))
    assert (ed.labels == masks[cavity.argmax()]).all() and (es.labels == masks[cavity.argmin()]).all()
    assert window.references.count == len(images)


@pytest.mark.parametrize("contents", [[], ["notes.txt"], ["scan.raw", "sub/frame.png"]])
def test_a_dropped_folder_holding_nothing_the_studio_reads_is_one_line(window, tmp_path, prompts, models_loaded,
                                                                       contents):
    """Such a folder went to the model loader, which answered with a model error."""
    folder = tmp_path / "odds and ends"
    folder.mkdir()
    for name in contents:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("not for the studio")
    before = window.document
    assert drop_on(window, [folder])
    assert models_loaded == [] and window.document is before
    assert len(prompts["warning"]) == 1 and "\n" not in prompts["warning"][0]
    assert prompts["warning"][0].startswith(f"{folder}: nothing here the studio opens")
    assert window.statusBar().currentMessage() == prompts["warning"][0]


def test_a_dropped_checkpoints_or_run_folder_still_goes_to_the_model_loader(window, tmp_path, prompts, models_loaded):
    from engine.models.registry import is_model_folder

    nvlabs = tmp_path / "checkpoints" / "camus"
    nvlabs.mkdir(parents=True)
    (nvlabs / "latest_net_G.pth").write_bytes(b"")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)  # a run before its first model: the loader says so
    for folder in (nvlabs, run, run / "checkpoints"):
        assert is_model_folder(folder)
        assert drop_on(window, [folder])
    assert models_loaded == [str(nvlabs), str(run), str(run / "checkpoints")] and prompts["warning"] == []
    assert not is_model_folder(tmp_path / "nowhere") and not is_model_folder(nvlabs / "latest_net_G.pth")


def test_a_scanners_dicom_file_without_a_suffix_is_still_told_by_its_marker(window, tmp_path, prompts):
    from cardigan_app.mask_reading import is_picture_file
    from test_dicom_echo import scanner_frames, us_dataset

    us_dataset(scanner_frames(2)).save_as(tmp_path / "IM_0001", enforce_file_format=True)
    assert is_picture_file(tmp_path / "IM_0001")
    assert window.open_any(tmp_path / "IM_0001") and window.references.count == 2


def test_two_unrelated_files_dropped_together_open_nothing_and_say_so(window, tmp_path, prompts, models_loaded):
    """Only the first of them opened, and nothing said the other had been left out."""
    for name, seed in (("a.png", 1), ("b.png", 2), ("c.png", 3), ("d.png", 4)):
        write_label_png(tmp_path / name, some_labels(64, seed))
    before = window.document
    assert not drop_on(window, [tmp_path / "a.png", tmp_path / "b.png"])  # the drag is refused ...
    assert window.document is before and prompts["warning"] == []
    assert not window.open_dropped([tmp_path / "a.png", tmp_path / "b.png"])  # ... and the drop says why
    assert window.document is before and models_loaded == [] and prompts["question"] == []
    assert prompts["warning"] == ["a.png and b.png: the window opens one mask, image, loop or folder at a time, "
                                  "with a model if one is dropped with it: drop them one by one"]
    assert not window.open_dropped([tmp_path / name for name in ("a.png", "b.png", "c.png", "d.png")])
    assert prompts["warning"][-1].startswith("a.png, b.png, c.png and 1 more: ") and window.document is before


def test_a_model_dropped_with_a_mask_loads_and_the_mask_opens(window, tmp_path, prompts, models_loaded, tiny_model):
    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    assert drop_on(window, [tmp_path / "mask.png", tiny_model])
    assert models_loaded == [str(tiny_model)] and (window.document.labels == labels).all()
    assert prompts["warning"] == []
    other = tmp_path / "other.safetensors"
    other.write_bytes(tiny_model.read_bytes())
    assert not drop_on(window, [tiny_model, other])  # two models: which one? neither: the drag is refused
    assert models_loaded == [str(tiny_model)] and prompts["warning"] == []


def test_a_model_dropped_with_a_mask_the_user_keeps_their_edits_for_loads_neither(window, tmp_path, prompts,
                                                                                   models_loaded, tiny_model):
    """The model was loaded before the user was asked about their unsaved edits, so
    cancelling left the mask as it was but the model changed under it."""
    from PySide6.QtWidgets import QMessageBox

    from cardigan_app.testing import drag

    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    drag(window.canvas, [(5, 5), (30, 5)])
    edited = window.document
    assert edited.modified
    assert drop_on(window, [tiny_model, tmp_path / "mask.png"])  # cancelled
    assert len(prompts["question"]) == 1 and models_loaded == []
    assert window.document is edited and edited.modified
    assert drop_on(window, [tiny_model, tmp_path / "gone.png"])  # the mask is gone: said, nothing loaded
    assert prompts["warning"] == [f"{tmp_path / 'gone.png'}: no such file"] and models_loaded == []
    prompts["answers"].append(QMessageBox.StandardButton.Discard)
    assert drop_on(window, [tiny_model, tmp_path / "mask.png"])  # let go: both open
    assert models_loaded == [str(tiny_model)] and (window.document.labels == labels).all()
    assert len(prompts["question"]) == 2


def test_a_model_loads_only_once_the_mask_named_with_it_opens_at_startup_or_from_a_large_drop(
        window, tmp_path, prompts, models_loaded, tiny_model, monkeypatch, qtbot):
    """`cardigan model.safetensors mask.png` loaded the model before the mask was read, so a
    mask that failed left the model switched; a model dropped with a mask read off the
    window's thread loaded as soon as the read started, whether or not it then failed."""
    from cardigan_app import file_reading

    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    (tmp_path / "damaged.png").write_bytes((tmp_path / "mask.png").read_bytes()[:60])
    assert window.open_paths([tiny_model, tmp_path / "damaged.png"]) == 0  # the command line's files
    assert models_loaded == [] and len(prompts["warning"]) == 1 and "damaged.png" in prompts["warning"][0]
    assert window.open_paths([tiny_model, tmp_path / "mask.png"]) == 2
    assert models_loaded == [str(tiny_model)] and (window.document.labels == labels).all()
    # several masks: the model waited only for the last one, though another had failed
    write_label_png(tmp_path / "other.png", some_labels(64, 1))
    models_loaded.clear()
    assert window.open_paths([tiny_model, tmp_path / "mask.png", tmp_path / "damaged.png", tmp_path / "other.png"]) == 2
    assert models_loaded == [] and len(prompts["warning"]) == 2 and window.document.path == tmp_path / "other.png"
    assert window.statusBar().currentMessage() == (f"damaged.png did not open, so {tiny_model.name} was not loaded: "
                                                   "the model in use is as it was")
    # several models: each was loaded in turn, the last winning, one named twice twice; the
    # last one named loads, once, and the status line names the others
    second, third = tmp_path / "second.safetensors", tmp_path / "third.safetensors"
    models_loaded.clear()
    assert window.open_paths([tiny_model, second, tmp_path / "mask.png", third, tiny_model]) == 2
    assert models_loaded == [str(tiny_model)] and window.document.path == tmp_path / "mask.png"
    assert window.statusBar().currentMessage() == ("second.safetensors and third.safetensors were not loaded: the "
                                                   f"window draws with one model at a time, the last one named "
                                                   f"({tiny_model.name})")
    # the "ready" line that replaces it once the model has loaded says so again
    type(window).load_model(window, str(tiny_model))  # as the window loads it (models_loaded only counts)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Model "), timeout=20_000)
    assert window.statusBar().currentMessage().endswith(
        "; second.safetensors and third.safetensors were not loaded (one model at a time)")
    assert window.open_paths([second, tmp_path / "damaged.png", tiny_model]) == 0  # a mask failed: none loads
    assert models_loaded == [str(tiny_model)] and len(prompts["warning"]) == 3
    # a note on the mask opened (its ES frame beside it did not open) is kept, the models not
    # loaded said after it, as the "ready" line is
    write_label_png(tmp_path / "n_4CH_ED.png", labels)
    (tmp_path / "n_4CH_ES.png").write_bytes((tmp_path / "mask.png").read_bytes()[:60])
    assert window.open_paths([second, tmp_path / "n_4CH_ED.png", tiny_model]) == 2
    line = window.statusBar().currentMessage()
    assert line.startswith("Opened n_4CH_ED.png") and "n_4CH_ES.png was not opened as the ES key frame" in line
    assert line.endswith(f"\u00b7 second.safetensors was not loaded: the window draws with one model at a time, "
                         f"the last one named ({tiny_model.name})")

    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 0)  # every file read off the window's thread
    models_loaded.clear()
    assert drop_on(window, [tiny_model, tmp_path / "damaged.png"])
    assert window.files.reader.busy and models_loaded == []
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    assert models_loaded == [] and len(prompts["warning"]) == 4  # the read failed: the model stays as it was
    assert drop_on(window, [tmp_path / "mask.png", tiny_model])
    assert window.files.reader.busy and models_loaded == []
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    assert models_loaded == [str(tiny_model)] and window.document.path == tmp_path / "mask.png"
    # several masks read off the window's thread: each read ends before the next starts, and
    # the model waits for all of them (the second read superseded the first, whose failure
    # then went unseen, and the model loaded once the last had opened). The count is of the
    # file being read, not of the model held back for it (counted though the read then failed)
    models_loaded.clear()
    assert window.open_paths([tiny_model, tmp_path / "damaged.png", tmp_path / "other.png"]) == 1
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    assert models_loaded == [] and len(prompts["warning"]) == 5 and window.document.path == tmp_path / "other.png"
    assert window.statusBar().currentMessage().startswith("damaged.png did not open, so ")
    assert window.open_paths([tmp_path / "mask.png", tmp_path / "other.png", tiny_model]) == 1
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    assert models_loaded == [str(tiny_model)] and window.document.path == tmp_path / "other.png"
    assert window.settings.recent_files()[:2] == [str(tmp_path / "other.png"), str(tmp_path / "mask.png")]
    # another file opened while the mask is read: the model held back for it was dropped
    # without a word; the status line says so once that file has opened (read off the
    # window's thread too, or made at once as File > New makes a mask)
    not_loaded = f"{tiny_model.name} was not loaded: another file was opened before mask.png finished reading"
    models_loaded.clear()
    assert window.open_paths([tmp_path / "mask.png", tiny_model]) == 1 and window.files.reader.busy
    assert window.open_any(tmp_path / "other.png")
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    assert models_loaded == [] and window.document.path == tmp_path / "other.png"
    assert window.statusBar().currentMessage() == not_loaded
    assert window.open_paths([tmp_path / "mask.png", tiny_model]) == 1 and window.files.reader.busy
    assert window.open_any(tmp_path / "n_4CH_ED.png")  # a file with a note: the line is added after it
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    line = window.statusBar().currentMessage()
    assert line.startswith("Opened n_4CH_ED.png") and line.endswith(f"\u00b7 {not_loaded}")
    window.statusBar().clearMessage()
    assert window.open_paths([tmp_path / "mask.png", tiny_model]) == 1 and window.files.reader.busy
    window.set_document(type(window.document)(np.zeros((64, 64), np.uint8)))
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == not_loaded, timeout=5_000)
    window.files.reader.wait()
    qtbot.wait(50)
    assert models_loaded == [] and window.document.path is None


def test_a_drop_finds_what_it_opens_once(window, tmp_path, prompts, models_loaded, tiny_model, monkeypatch):
    """The drag found what the drop would open, then the drop found it again, twice."""
    from cardigan_app import opening

    write_label_png(tmp_path / "mask.png", some_labels(64))
    planned, drop_plan = [], opening.drop_plan
    monkeypatch.setattr(opening, "drop_plan", lambda paths: planned.append(len(paths)) or drop_plan(paths))
    assert drop_on(window, [tmp_path / "mask.png", tiny_model])
    assert planned == [2] and models_loaded == [str(tiny_model)] and window.document.path == tmp_path / "mask.png"


def test_a_mask_dropped_with_its_image_or_its_es_frame_opens_with_them(window, tmp_path, prompts, models_loaded):
    from PIL import Image

    ed, es = some_labels(64, 1), some_labels(64, 2)
    write_label_png(tmp_path / "p_4CH_ED.png", ed)
    write_label_png(tmp_path / "p_4CH_ES.png", es)
    assert drop_on(window, [tmp_path / "p_4CH_ES.png", tmp_path / "p_4CH_ED.png"])  # the pair, in any order
    assert prompts["warning"] == [] and window.document.path == tmp_path / "p_4CH_ED.png"
    assert (window.key_frames.frames["ES"].labels == es).all()
    write_label_png(tmp_path / "x_gt.png", ed)
    image = np.random.default_rng(3).integers(0, 256, (64, 64)).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "x.png")
    assert drop_on(window, [tmp_path / "x.png", tmp_path / "x_gt.png"])  # a pair as File > Export writes it
    assert prompts["warning"] == [] and window.document.path == tmp_path / "x_gt.png"
    assert (window.reference_image == image).all()

    # a pair painted in ITK-SNAP's labels 4-6, its description beside it: both frames are
    # mapped (the PNGs were refused), and the status line says so once for both (the ES
    # frame was mapped without a word)
    folder = tmp_path / "itksnap"
    folder.mkdir()
    in_itksnap_numbering(folder / "p_4CH_ED.png", ed)
    in_itksnap_numbering(folder / "p_4CH_ES.png", es)
    describe_4_to_6(folder / "labels.txt")
    both = f"p_4CH_ED.png and p_4CH_ES.png: labels {NAMED_4_TO_6}, by the names in labels.txt"
    for opened in (lambda path: drop_on(window, [path]), lambda path: window.files.open_path(path, confirmed=True)):
        window.set_document(type(window.document)(np.zeros_like(ed)))
        assert opened(folder / "p_4CH_ED.png") and prompts["warning"] == []
        assert (window.document.labels == ed).all() and (window.key_frames.frames["ES"].labels == es).all()
        assert window.statusBar().currentMessage().count("labels.txt") == 1
        assert window.statusBar().currentMessage().endswith(f" (K switches); {both}")
    describe_4_to_6(folder / "p_4CH_ES.txt", {4: "Myocardium", 5: "LV cavity"})  # the ES frame's own names
    assert window.files.open_path(folder / "p_4CH_ED.png", confirmed=True)
    assert (window.key_frames.frames["ES"].labels == np.choose(es, [0, 2, 1, 3])).all()
    assert window.statusBar().currentMessage().endswith(
        f"; p_4CH_ED.png: labels {NAMED_4_TO_6}, by the names in labels.txt; p_4CH_ES.png: labels 4 'Myocardium' "
        "\u2192 2 myocardium, 5 'LV cavity' \u2192 1 LV cavity, 6 'Left atrium' \u2192 3 left atrium, by the names "
        "in p_4CH_ES.txt")
    for description in folder.glob("*.txt"):  # no description: refused as such a PNG always was
        description.unlink()
    assert drop_on(window, [folder / "p_4CH_ED.png"])
    assert prompts["warning"] == [
        f"{folder / 'p_4CH_ED.png'}: values 4, 5 and 6 are not labels (allowed: 0 background, 1 LV cavity, "
        "2 myocardium, 3 left atrium)"]


NAMED_4_TO_6 = ("4 'LV cavity' \u2192 1 LV cavity, 5 'Myocardium' \u2192 2 myocardium, 6 'Left atrium' \u2192 3 "
                "left atrium")


def in_itksnap_numbering(path: Path, labels: np.ndarray) -> Path:
    """``labels`` saved as a PNG painted with ITK-SNAP's labels 4-6 (1 -> 4, 2 -> 5, 3 -> 6)."""
    from PIL import Image

    Image.fromarray(np.where(labels > 0, labels + 3, 0).astype(np.uint8)).save(path)
    return path


def describe_4_to_6(path: Path, names: dict[int, str] | None = None) -> None:
    """An ITK-SNAP label description naming labels 4-6 (by default the cavity, wall and atrium)."""
    names = {4: "LV cavity", 5: "Myocardium", 6: "Left atrium", **(names or {})}
    path.write_text("\n".join(['0 0 0 0 0 0 0 "Clear Label"'] + [f'{v} 255 0 0 1 1 1 "{name}"'
                                                              for v, name in names.items()]) + "\n")


def test_a_dropped_file_that_is_gone_is_said_before_unsaved_edits_are_asked_about(window, tmp_path, prompts):
    """The user was asked whether to save the mask for a file that could not be opened, and
    when they kept it, the drop ended without a word."""
    from cardigan_app.testing import drag

    drag(window.canvas, [(5, 5), (30, 5)])
    assert window.document.modified
    assert drop_on(window, [tmp_path / "gone.png"])
    assert prompts["question"] == [] and prompts["warning"] == [f"{tmp_path / 'gone.png'}: no such file"]
    assert window.document.modified



@pytest.mark.parametrize("name", ["loop.h5", "LOOP.HDF5"])
def test_a_loops_hdf5_file_dragged_over_the_window_is_taken(window, tmp_path, prompts, name):
    """The drag was refused: the name was no mask's, and the file held no DICOM marker."""
    images, masks = a_loop()
    write_loop(tmp_path / name, images, masks, 10.0)
    assert drop_on(window, [tmp_path / name])
    assert window.key_frames.frames["ES"] is not None and window.references.count == len(images)


# -- every kind of thing dropped, and what the window does with it --------------------------

def make_label_png(folder: Path) -> Path:
    write_label_png(folder / "mask.png", some_labels(64))
    return folder / "mask.png"


def written_by_itk(folder: Path, name: str) -> Path:
    """Labels written by SimpleITK under ``name`` (its suffix picks the format)."""
    import SimpleITK as sitk

    sitk.WriteImage(sitk.GetImageFromArray(some_labels(64)), str(folder / name))
    return folder / name


def make_itksnap_numbered_png(folder: Path) -> Path:
    describe_4_to_6(folder / "labels.txt")
    return in_itksnap_numbering(folder / "mask.png", some_labels(64))


def make_camus_mhd(folder: Path) -> Path:
    return written_by_itk(folder, "patient0001_4CH_ED_gt.mhd")


def make_nifti_labels(folder: Path) -> Path:
    from engine.maskio import write_nifti

    write_nifti(folder / "case_gt.nii.gz", some_labels(64))
    return folder / "case_gt.nii.gz"


def make_nrrd(folder: Path) -> Path:
    return written_by_itk(folder, "case.nrrd")


def make_slicer_segmentation(folder: Path) -> Path:
    from slicer_files import write_segmentation

    write_segmentation(folder / "case.seg.nrrd", some_labels(64)[None],
                       [("LV cavity", 1, 0), ("Myocardium", 2, 0), ("Left atrium", 3, 0)])
    return folder / "case.seg.nrrd"


def make_itksnap_workspace(folder: Path) -> Path:
    from engine.itksnap_workspace import write_workspace
    from engine.maskio import write_nifti

    images, _ = a_loop()
    write_nifti(folder / "loop.nii.gz", images)
    write_nifti(folder / "loop_seg.nii.gz", some_labels(64))
    write_workspace(folder / "case.itksnap", folder / "loop.nii.gz", folder / "loop_seg.nii.gz")
    return folder / "case.itksnap"


def make_hdf5_loop(folder: Path) -> Path:
    write_loop(folder / "loop.h5", *a_loop(), 10.0)
    return folder / "loop.h5"


def make_nifti_loop(folder: Path) -> Path:
    write_loop(folder / "loop.nii.gz", *a_loop(), 10.0)  # loop.nii.gz and its masks, loop_gt.nii.gz
    return folder / "loop_gt.nii.gz"


def make_png_frames_loop(folder: Path) -> Path:
    write_loop(folder / "loop_frames", *a_loop(), 10.0)
    return folder / "loop_frames"


def make_folder_holding_png_frames_loop(folder: Path) -> Path:
    make_png_frames_loop(folder)  # the loop's folder holds img/ and label/, as a split does
    return folder


def make_png_frames_label_frame(folder: Path) -> Path:
    return make_png_frames_loop(folder) / "label" / "frame_000.png"


def make_dataset_folder(folder: Path) -> Path:
    from test_app_files import make_dataset

    make_dataset(folder / "camus256")
    return folder / "camus256"


def make_model_file(folder: Path) -> Path:
    from cardigan_app.testing import make_model_file as write_model

    return write_model(folder / "model.safetensors")


def make_nvlabs_folder(folder: Path) -> Path:
    (folder / "camus").mkdir()
    (folder / "camus" / "latest_net_G.pth").write_bytes(b"")
    (folder / "camus" / "opt.txt").write_text("ngf: 64\n")
    return folder / "camus"


def echo_frames(count: int = 3) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (count, 64, 64)).astype(np.uint8)


def make_echo_png(folder: Path) -> Path:
    from PIL import Image

    Image.fromarray(echo_frames()[0]).save(folder / "echo.png")
    return folder / "echo.png"


def make_echo_gif(folder: Path) -> Path:
    from PIL import Image

    frames = [Image.fromarray(frame) for frame in echo_frames()]
    frames[0].save(folder / "echo.gif", save_all=True, append_images=frames[1:])
    return folder / "echo.gif"


def make_dicom_file(folder: Path, name: str = "IM_0001.dcm") -> Path:
    from test_dicom_echo import scanner_frames, us_dataset

    us_dataset(scanner_frames(2)).save_as(folder / name, enforce_file_format=True)
    return folder / name


def make_scanner_file(folder: Path) -> Path:
    return make_dicom_file(folder, "IM_0001")


def make_dicom_named_png(folder: Path) -> Path:
    return make_dicom_file(folder, "IM_0001.png")  # refused as a PNG that cannot be decoded


def make_dicom_named_jpg(folder: Path) -> Path:
    return make_dicom_file(folder, "IM_0001.jpg")


def make_echo_png_named_dcm(folder: Path) -> Path:
    return make_echo_png(folder).rename(folder / "echo.dcm")  # refused as no DICOM file


def make_dicom_folder(folder: Path) -> Path:
    (folder / "export").mkdir()
    make_dicom_file(folder / "export", "IM_0001")
    return folder / "export"


def make_nifti_image(folder: Path) -> Path:
    from engine.maskio import write_nifti

    write_nifti(folder / "echo.nii.gz", echo_frames())
    return folder / "echo.nii.gz"


def make_gone_file(folder: Path) -> Path:
    return folder / "gone.png"


def make_empty_folder(folder: Path) -> Path:
    (folder / "empty").mkdir()
    return folder / "empty"


def make_text_file(folder: Path) -> Path:
    (folder / "notes.txt").write_text("not for the studio")
    return folder / "notes.txt"


def make_two_label_pngs(folder: Path) -> list[Path]:
    (folder / "other").mkdir()
    return [make_label_png(folder), make_label_png(folder / "other")]


def make_two_models(folder: Path) -> list[Path]:
    (folder / "other").mkdir()
    return [make_model_file(folder), make_model_file(folder / "other")]


def make_model_with_text_file(folder: Path) -> list[Path]:
    return [make_model_file(folder), make_text_file(folder)]


def make_model_with_mask_and_its_image(folder: Path) -> list[Path]:
    from PIL import Image

    Image.fromarray(echo_frames()[0]).save(folder / "x.png")
    write_label_png(folder / "x_gt.png", some_labels(64))
    return [folder / "x.png", make_model_file(folder), folder / "x_gt.png"]


def opened_along(window, paths: list[Path]) -> str:
    """What opened of a mask dropped with its image (``paths``), in the words of the table below."""
    from PIL import Image

    if window.document.path not in paths:
        return "mask not opened"
    images = [file for file in paths if file != window.document.path]
    shown = window.reference_image
    if shown is not None and all(np.array_equal(shown, np.asarray(Image.open(file).convert("L"))) for file in images):
        return "mask over its image"
    return "mask without its image"


def what_the_window_did(window, before, path: Path | list[Path], models: list[str], prompts) -> str:
    """What a drop did, in the words of the table below."""
    if models:
        did = "model loaded" if len(models) == 1 and models[0] in map(str, as_list(path)) else f"models {models}"
        along = [file for file in as_list(path) if str(file) not in models]
        return f"{did}, {opened_along(window, along)}" if along else did
    if prompts["warning"]:
        return "one line" if len(prompts["warning"]) == 1 and "\n" not in prompts["warning"][0] else "lines"
    if window.dataset_browser.root == path:
        return "dataset browser"
    if window.document is before:
        return "nothing"
    if window.document.path is None:
        return "image to trace" if window.reference_image is not None else "untitled"
    if window.key_frames.frames["ES"] is not None:
        return "loop's key frames" if window.references.count == 4 else "key frames without the loop's images"
    return "mask over its image" if window.reference_image is not None else "mask"


DROPS = [  # (what is dropped, what the window does)
    (make_label_png, "mask"),
    (make_itksnap_numbered_png, "mask"),
    (make_camus_mhd, "mask"),
    (make_nifti_labels, "mask"),
    (make_nrrd, "mask"),
    (make_slicer_segmentation, "mask"),
    (make_itksnap_workspace, "mask over its image"),
    (make_hdf5_loop, "loop's key frames"),
    (make_nifti_loop, "loop's key frames"),
    (make_png_frames_loop, "loop's key frames"),
    (make_png_frames_label_frame, "loop's key frames"),
    (make_folder_holding_png_frames_loop, "one line"),
    (make_dataset_folder, "dataset browser"),
    (make_model_file, "model loaded"),
    (make_nvlabs_folder, "model loaded"),
    (make_echo_png, "image to trace"),
    (make_echo_gif, "image to trace"),
    (make_dicom_file, "image to trace"),
    (make_scanner_file, "image to trace"),
    (make_dicom_named_png, "image to trace"),
    (make_dicom_named_jpg, "image to trace"),
    (make_echo_png_named_dcm, "image to trace"),
    (make_dicom_folder, "image to trace"),
    (make_nifti_image, "image to trace"),
    (make_gone_file, "one line"),
    (make_empty_folder, "one line"),
    (make_text_file, "drag refused"),
    # several things at once: the drag is taken only of a set the drop opens
    (make_two_label_pngs, "drag refused"),
    (make_two_models, "drag refused"),
    (make_model_with_text_file, "drag refused"),
    (make_model_with_mask_and_its_image, "model loaded, mask over its image"),
]


def as_list(paths: Path | list[Path]) -> list[Path]:
    return paths if isinstance(paths, list) else [paths]


@pytest.mark.parametrize(("make", "expected"), DROPS, ids=[make.__name__.removeprefix("make_") for make, _ in DROPS])
def test_what_each_kind_of_dropped_thing_does(window, tmp_path, prompts, models_loaded, qtbot, make, expected):
    path = make(tmp_path)
    before = window.document
    taken = drop_on(window, as_list(path))
    qtbot.waitUntil(lambda: not window.files.reader.busy, timeout=20_000)
    did = what_the_window_did(window, before, path, models_loaded, prompts) if taken else "drag refused"
    assert did == expected, prompts["warning"]
    if not taken and isinstance(path, list):  # a set refused at the drag is one the drop refuses
        assert not window.open_dropped(path) and models_loaded == [] and window.document is before
        assert len(prompts["warning"]) == 1 and prompts["warning"][0].endswith(": drop them one by one")


def test_a_png_frames_loop_opens_again_from_the_recent_files(window, tmp_path, prompts):
    """The loop is remembered as its folder, which Open recent took for a file gone."""
    images, masks = a_loop()
    write_loop(tmp_path / "loop_frames", images, masks, 10.0)
    assert drop_on(window, [tmp_path / "loop_frames"])
    assert window.settings.recent_files()[0] == str(tmp_path / "loop_frames")
    write_label_png(tmp_path / "other.png", some_labels(64))
    assert window.files.open_path(tmp_path / "other.png")  # another mask in between
    window.files.fill_recent_menu(window.menus.recent)
    window.menus.recent.actions()[1].trigger()
    assert prompts["warning"] == [] and window.document.path == tmp_path / "loop_frames"
    assert window.references.count == len(images)
