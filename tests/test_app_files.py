"""Masks in and out of the window: open, save, CAMUS files, refusals, prompts, datasets, export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cardigan_app.editing import LabelDocument
from cardigan_app.testing import close_window, drag, open_window
from engine.errors import Advice, CardiganError, Message
from engine.maskio import read_label_png, write_label_png


@pytest.fixture
def prompts(monkeypatch):
    """Record QMessageBox calls; ``answers`` gives what question() returns next."""
    record = {"question": [], "warning": [], "information": [], "answers": []}

    def question(parent, title, text, *args, **kwargs):
        record["question"].append((title, text))
        return record["answers"].pop(0) if record["answers"] else QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda parent, title, text, *a, **k: record["warning"].append(text)))
    monkeypatch.setattr(QMessageBox, "information",
                        staticmethod(lambda parent, title, text, *a, **k: record["information"].append(text)))
    return record


def save_dialog_returns(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))


def some_labels(size=64, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.zeros((size, size), np.uint8)
    for value in (1, 2, 3):
        y, x = rng.integers(0, size - 16, 2)
        labels[y:y + 14, x:x + 12] = value
    return labels


def test_open_save_round_trip(window, tmp_path, prompts, monkeypatch):
    source = tmp_path / "mask.png"
    labels = some_labels()
    write_label_png(source, labels)
    assert window.files.open_path(source)
    assert (window.document.labels == labels).all() and window.document.path == source
    assert "mask.png" in window.windowTitle() and not window.document.modified
    drag(window.canvas, [(5, 5), (20, 5)])
    assert window.document.modified
    assert window.files.save()  # writes back to the PNG it came from, without a dialog
    assert (read_label_png(source) == window.document.labels).all() and not window.document.modified
    target = tmp_path / "copy"
    save_dialog_returns(monkeypatch, target)
    assert window.files.save_as()
    assert window.document.path == tmp_path / "copy.png"
    assert (read_label_png(tmp_path / "copy.png") == window.document.labels).all()
    assert window.settings.recent_files()[0] == str((tmp_path / "copy.png").resolve())
    assert prompts["warning"] == []


def test_a_camus_mhd_ground_truth_opens_and_saves_as_png(window, tmp_path, monkeypatch, prompts):
    import SimpleITK as sitk

    labels = np.zeros((120, 96), np.uint8)  # CAMUS frames are not square
    labels[20:80, 30:60] = 2
    labels[30:70, 38:52] = 1
    labels[80:110, 32:60] = 3
    path = tmp_path / "patient0001_4CH_ED_gt.mhd"
    sitk.WriteImage(sitk.GetImageFromArray(labels), str(path))
    assert window.files.open_path(path)
    assert (window.document.labels == labels).all() and window.canvas.image_size == (96, 120)
    assert window.windowTitle().startswith("patient0001_4CH_ED_gt.mhd[*]")
    save_dialog_returns(monkeypatch, tmp_path / "patient0001_4CH_ED_gt.png")
    assert window.files.save()  # a .mhd is never overwritten: Save asks for a PNG
    assert (read_label_png(tmp_path / "patient0001_4CH_ED_gt.png") == labels).all()
    assert path.read_bytes()  # untouched


def test_a_slicer_segmentation_and_an_nrrd_echo_open_as_a_mask_and_to_trace(window, tmp_path, monkeypatch,
                                                                             prompts):
    import SimpleITK as sitk

    from slicer_files import write_segmentation

    labels = some_labels(64)
    slicer = np.where(labels > 0, 4 - labels, 0).astype(np.uint8)  # Slicer's own numbering
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, slicer[None], [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("LV cavity", 3, 0)])
    assert window.open_any(path) and (window.document.labels == labels).all()
    save_dialog_returns(monkeypatch, tmp_path / "case.png")
    assert window.files.save()  # an NRRD is never overwritten: Save asks for a PNG
    assert (read_label_png(tmp_path / "case.png") == labels).all() and path.read_bytes()
    from cardigan_app.export import SLICER_FILTER
    from engine.maskio import read_label_map

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "for_slicer"), SLICER_FILTER)))
    assert window.exporter.export_mask()  # and back to Slicer, its classes named
    assert np.array_equal(read_label_map(tmp_path / "for_slicer.seg.nrrd"), labels)
    echo = np.random.default_rng(3).integers(0, 256, (70, 70)).astype(np.uint8)
    sitk.WriteImage(sitk.GetImageFromArray(echo), str(tmp_path / "echo.nrrd"))
    assert window.open_any(tmp_path / "echo.nrrd")  # many grey levels: an image to trace over
    assert not window.document.labels.any() and window.reference_image is not None


def test_a_scanners_dicom_without_a_suffix_opens_to_trace_over_its_ultrasound_region(window, tmp_path, prompts):
    from test_dicom_echo import scanner_frames, us_dataset

    us_dataset(scanner_frames(2)).save_as(tmp_path / "IM_0007", enforce_file_format=True)
    assert window.open_any(tmp_path / "IM_0007")
    assert not window.document.labels.any() and window.reference_image is not None
    traced = window.reference_image  # the region (not the scanner's labels) squashed to the mask
    assert traced.shape == window.document.labels.shape and traced[:8, :40].max() < 40  # no white labels
    assert window.document.fan.left < -20 and window.document.fan.right > 20


def test_a_scanners_dicom_without_a_suffix_that_cannot_be_read_says_why_as_an_echo(window, tmp_path, prompts):
    """Not 'not a readable image', as a mask would be reported: the DICOM reason."""
    from test_dicom_echo import scanner_frames, us_dataset

    ds = us_dataset(scanner_frames(1))
    del ds.PixelData  # a scanner's report or measurement object, say
    ds.save_as(tmp_path / "IM_0003", enforce_file_format=True)
    before = window.document
    assert not window.open_any(tmp_path / "IM_0003")
    assert window.document is before
    assert "IM_0003: a DICOM file without an image" in prompts["warning"][-1]


def test_a_dicom_echo_named_png_opened_as_a_mask_names_the_menu_that_traces_it(window, tmp_path, prompts):
    """File › Open mask refused it with "rename it .dcm" alone: Open image to trace opens it as it is named."""
    from test_dicom_echo import scanner_frames, us_dataset

    from cardigan_app.actions import menu_route

    us_dataset(scanner_frames(1)).save_as(tmp_path / "scan.png", enforce_file_format=True)
    before = window.document
    assert not window.files.open_path(tmp_path / "scan.png")
    assert window.document is before
    route = menu_route(window.commands["trace"])
    assert route == "File \u203a Open image to trace\u2026 (Ctrl+Shift+I)"  # as the menu and its key read
    assert prompts["warning"] == [f"{tmp_path / 'scan.png'}: a DICOM file, not a label map, though named .png; it "
                                  f"is an echo to trace over: open it with {route}, or rename it .dcm"]


def test_a_scanners_export_folder_opens_its_dicom_to_trace_or_offers_its_files(window, tmp_path, prompts,
                                                                               monkeypatch):
    from test_dicom_echo import scanner_frames, us_dataset

    export = tmp_path / "export"
    export.mkdir()
    (export / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")  # the export's index: not an image
    us_dataset(scanner_frames(2)).save_as(export / "IM_0001", enforce_file_format=True)
    assert window.open_any(export)  # one echo in it: traced at once
    assert window.reference_image is not None and window.workspace.reference_frame.maximum() == 1
    us_dataset(scanner_frames(1)).save_as(export / "IM_0002", enforce_file_format=True)
    asked = []

    def dialog(parent, caption, folder, filters, chosen):
        asked.append((folder, chosen))
        return str(export / "IM_0002"), chosen

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
    assert window.open_any(export)  # two: the user picks, from that folder, all files shown
    assert asked == [(str(export), "All files: a scanner's DICOM files often have no suffix (*)")]
    assert window.workspace.reference_frame.isHidden()  # IM_0002 holds one frame


def test_a_discs_export_opens_its_dicom_from_the_folders_under_its_dicomdir(window, tmp_path, prompts,
                                                                            monkeypatch):
    from test_dicom_echo import scanner_frames, us_dataset

    export = tmp_path / "export"
    series = export / "DICOM" / "PA000000" / "ST000000" / "SE000000"
    series.mkdir(parents=True)
    (export / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")
    us_dataset(scanner_frames(2)).save_as(series / "IM000000", enforce_file_format=True)
    assert window.open_any(export)  # not taken for a model folder without a checkpoint
    assert window.reference_image is not None and window.workspace.reference_frame.maximum() == 1
    assert "IM000000" in window.windowTitle()
    us_dataset(scanner_frames(1)).save_as(series / "IM000001", enforce_file_format=True)
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda parent, caption, folder, *a: asked.append(folder) or ("", "")))
    assert not window.open_any(export)  # two: picked from the series' folder
    assert asked == [str(series)]


def test_files_named_on_the_command_line_open_in_order(window, tmp_path, prompts):
    labels = some_labels(64)
    write_label_png(tmp_path / "first.png", labels)
    write_label_png(tmp_path / "second.png", labels[::-1].copy())
    assert window.open_paths([tmp_path / "first.png", tmp_path / "missing.png", tmp_path / "second.png"]) == 2
    assert window.document.path == tmp_path / "second.png" and (window.document.labels == labels[::-1]).all()
    assert "missing.png" in prompts["warning"][-1]  # the one that failed said why


def test_a_colour_png_is_refused_with_the_engines_message(window, tmp_path, prompts):
    before = window.document
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[8:20, 8:20] = (0, 114, 178)
    path = tmp_path / "colour.png"
    Image.fromarray(rgb).save(path)
    assert not window.files.open_path(path)
    assert window.document is before
    assert len(prompts["warning"]) == 1
    message = prompts["warning"][0]
    assert "colour image" in message and "8-bit single-channel label map" in message and "\n" not in message


ADVICE = Advice("test advice", "use --flag-the-studio-has-not")


@pytest.fixture
def advice_in_studio_words(monkeypatch):
    """A problem whose advice the studio says otherwise than the command line."""
    from cardigan_app import wording

    monkeypatch.setitem(wording.STUDIO_WORDS, ADVICE, "tick the studio's box")
    return CardiganError(Message("cannot go on (", ADVICE, ")"))


def test_a_mask_that_cannot_be_opened_or_saved_says_its_advice_in_the_studio_s_words(
        window, tmp_path, prompts, monkeypatch, advice_in_studio_words):
    from cardigan_app import mask_reading, mask_saving

    def refuse(*args, **kwargs):
        raise advice_in_studio_words

    monkeypatch.setattr(mask_reading, "read_label_map_and_text", refuse)
    monkeypatch.setattr(mask_saving, "write_label_png", refuse)
    assert not window.files.open_path(tmp_path / "mask.png")
    save_dialog_returns(monkeypatch, tmp_path / "copy.png")
    assert not window.files.save_as()
    said = "cannot go on (tick the studio's box)"
    assert prompts["warning"] == [said, said] and window.statusBar().currentMessage() == said


def test_an_export_that_fails_says_its_advice_in_the_studio_s_words(window, tmp_path, prompts, monkeypatch,
                                                                   advice_in_studio_words):
    from cardigan_app import export

    def refuse(*args, **kwargs):
        raise advice_in_studio_words

    monkeypatch.setattr(export, "write_mask", refuse)
    save_dialog_returns(monkeypatch, tmp_path / "mask.png")
    assert not window.exporter.export_mask()
    assert prompts["warning"] == ["cannot go on (tick the studio's box)"]


def test_unsaved_changes_prompt_on_close_new_and_open(window, tmp_path, prompts, monkeypatch):
    drag(window.canvas, [(10, 10), (30, 30)])
    assert window.document.modified
    prompts["answers"] = [QMessageBox.StandardButton.Cancel]
    assert not window.close()
    assert window.isVisible() and len(prompts["question"]) == 1
    assert "unsaved changes" in prompts["question"][0][1]

    other = tmp_path / "other.png"
    write_label_png(other, some_labels(seed=3))
    prompts["answers"] = [QMessageBox.StandardButton.Cancel]
    assert not window.files.open_path(other)
    assert window.document.modified and len(prompts["question"]) == 2

    prompts["answers"] = [QMessageBox.StandardButton.Cancel]
    assert not window.files.new_mask()
    assert len(prompts["question"]) == 3

    prompts["answers"] = [QMessageBox.StandardButton.Save]
    save_dialog_returns(monkeypatch, tmp_path / "kept.png")
    assert window.files.open_path(other)
    assert (read_label_png(tmp_path / "kept.png") != 0).any()  # the edit was saved first
    assert window.document.path == other

    drag(window.canvas, [(10, 40), (30, 40)])
    prompts["answers"] = [QMessageBox.StandardButton.Discard]
    assert window.close()
    assert len(prompts["question"]) == 5


def test_recent_files_menu_reopens(window, tmp_path, prompts):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"m{i}.png")
        write_label_png(paths[-1], some_labels(seed=i))
        assert window.files.open_path(paths[-1])
    window.files.fill_recent_menu(window.menus.recent)
    texts = [a.text() for a in window.menus.recent.actions()]
    assert "m2.png" in texts[0] and "m0.png" in texts[2]
    window.menus.recent.actions()[2].trigger()
    assert window.document.path == paths[0]


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_drop_a_mask_file_onto_the_window(window, tmp_path, prompts, qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    path = tmp_path / "dropped.png"
    write_label_png(path, some_labels(seed=5))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert window.document.path == path


def test_a_dropped_model_is_known_by_the_engine_s_suffixes_in_any_case(window, tmp_path, qtbot, tiny_model):
    import shutil

    shouting = tmp_path / "MINE.SAFETENSORS"
    shutil.copy(tiny_model, shouting)
    with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000):
        assert window.open_any(shouting)
    assert window.live.model_spec == str(shouting)
    with qtbot.waitSignal(window.live.modelFailed, timeout=20_000) as failed:
        assert window.open_any(tmp_path / "checkpoint.pt")  # a .pt is a model too (here a missing one)
    assert "checkpoint.pt" in failed.args[1]


def make_dataset(root: Path, count: int = 3) -> list[str]:
    stems = [f"patient{i:04d}_4CH_ED" for i in range(1, count + 1)]
    for split in ("train", "test"):
        (root / split / "img").mkdir(parents=True)
        (root / split / "label").mkdir(parents=True)
    for i, stem in enumerate(stems):
        labels = some_labels(seed=i)
        write_label_png(root / "train" / "label" / f"{stem}.png", labels)
        Image.fromarray((np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8)).save(
            root / "train" / "img" / f"{stem}.png")
    (root / "manifest.json").write_text(json.dumps({"counts": {"train": count, "test": 0},
                                                    "source": {"format": "hdf5"}}))
    return stems


def test_dataset_browser_opens_a_label_map_with_its_real_image(window, tmp_path, qtbot, prompts):
    root = tmp_path / "prepared"
    stems = make_dataset(root)
    browser = window.dataset_browser
    assert browser.open_folder(root)
    assert [browser.split.itemText(i) for i in range(browser.split.count())] == ["train", "test"]
    assert [browser.list.item(i).text() for i in range(browser.list.count())] == [s.replace("_", " ") for s in stems]
    assert "hdf5" in browser.info.text()
    qtbot.waitUntil(lambda: browser.list.item(2).icon().pixmap(88, 88).toImage().pixelColor(40, 40).red() > 0,
                    timeout=10_000)
    browser.filter.setText("0002")
    assert [browser.list.item(i).isHidden() for i in range(3)] == [True, False, True]
    assert "Double-click" in browser.hint.text()  # a click only selects: the panel says how to open
    browser.list.setCurrentRow(1)
    assert browser.hint.text().startswith("Double-click patient0002 4CH ED") and window.document.path is None
    with qtbot.waitSignal(window.synthesisShown, timeout=10_000):
        browser.list.itemActivated.emit(browser.list.item(1))
    assert window.document.path == root / "train" / "label" / f"{stems[1]}.png"
    assert (window.document.labels == some_labels(seed=1)).all()
    assert window.workspace.reference_pane.isVisible()
    assert window.reference_image is not None and window.reference_image[0, 5] == 5
    assert not browser.open_folder(tmp_path)
    assert "not a prepared dataset" in browser.info.text()


def test_export_current_image_mask_pair_and_figure(window, tmp_path, monkeypatch, prompts, qtbot):
    result = window.live.last_result
    assert window.live.up_to_date()
    save_dialog_returns(monkeypatch, tmp_path / "out" / "img.png")
    (tmp_path / "out").mkdir()
    assert window.exporter.export_image()
    assert (np.asarray(Image.open(tmp_path / "out" / "img.png")) == result.image).all()
    save_dialog_returns(monkeypatch, tmp_path / "out" / "pair.png")
    assert window.exporter.export_pair()
    labels = window.document.labels.copy()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img.png", "pair.png", "pair_gt.png"]
    assert (read_label_png(tmp_path / "out" / "pair_gt.png") == labels).all()  # named as CAMUS and the cine export name masks
    assert (np.asarray(Image.open(tmp_path / "out" / "pair.png")) == result.image).all()
    save_dialog_returns(monkeypatch, tmp_path / "out" / "fig.png")
    assert window.exporter.export_figure()
    figure = np.asarray(Image.open(tmp_path / "out" / "fig.png"))
    assert figure.shape == (64, 64 * 2 + 8, 3)
    assert (figure[:, 72:, 0] == result.image).all() and (figure[:, 64:72] == 255).all()
    save_dialog_returns(monkeypatch, tmp_path / "out" / "mask.png")
    assert window.exporter.export_mask()
    assert (read_label_png(tmp_path / "out" / "mask.png") == window.document.labels).all()
    # NIfTI for ITK-SNAP and 3D Slicer: by the name typed, or by the dialog's filter
    from engine.maskio import read_volume_label

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "out" / "case"), "NIfTI (*.nii.gz)")))
    assert window.exporter.export_pair()
    assert (read_volume_label(tmp_path / "out" / "case_gt.nii.gz") == window.document.labels).all()
    import SimpleITK as sitk

    volume = sitk.ReadImage(str(tmp_path / "out" / "case.nii.gz"))
    assert (sitk.GetArrayFromImage(volume) == result.image).all() and volume.GetSpacing() == pytest.approx((0.6 * 256 / result.image.shape[1],) * 2)  # a 15 cm field
    save_dialog_returns(monkeypatch, tmp_path / "out" / "only_mask.nii.gz")
    assert window.exporter.export_mask()
    assert (read_volume_label(tmp_path / "out" / "only_mask.nii.gz") == window.document.labels).all()
    save_dialog_returns(monkeypatch, tmp_path / "out" / "only_image.nii")
    assert window.exporter.export_image()
    assert (sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / "only_image.nii"))) == result.image).all()
    # a mask read from a volume: the image exported alone lies where the mask exported alone lies
    from engine.maskio import Geometry

    window.document.geometry = Geometry((0.3, 0.4, 1.0), (5.0, -7.0, 2.0), (1, 0, 0, 0, 1, 0, 0, 0, 1),
                                        result.image.shape)
    placed = {}
    for name, export in (("placed.nii.gz", window.exporter.export_image),
                         ("placed_gt.nii.gz", window.exporter.export_mask)):
        save_dialog_returns(monkeypatch, tmp_path / "out" / name)
        assert export()
        volume = sitk.ReadImage(str(tmp_path / "out" / name))
        placed[name] = volume.GetSpacing()[:2] + volume.GetOrigin()[:2]
    assert placed["placed.nii.gz"] == placed["placed_gt.nii.gz"] == pytest.approx((0.3, 0.4, 5.0, -7.0))
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left behind
    # the NIfTI pair came with an ITK-SNAP workspace; opened here, it is the mask over its image
    labels = window.document.labels.copy()
    assert window.files.open_path(tmp_path / "out" / "case.itksnap", confirmed=True)
    assert window.document.path == tmp_path / "out" / "case.itksnap"
    assert (window.document.labels == labels).all()
    assert window.reference_image is not None and (window.reference_image == result.image).all()
    # while the image is catching up with an edit, exporting the image waits
    monkeypatch.setattr(window.live.backend, "submit", lambda job: None)  # keep the image behind
    window.document.fill(1, 1, 2)
    assert not window.live.up_to_date()
    assert not window.exporter.export_image() and prompts["information"]


def test_autosave_is_offered_back_after_a_crash(qtbot, tmp_path, tiny_model, monkeypatch):
    import subprocess
    import sys

    autosave = tmp_path / "autosave"
    crashed = some_labels(seed=9)
    write_label_png(tmp_path / "crashed.png", crashed)
    code = ("import os, numpy as np\n"
            "from cardigan_app.autosave import Autosaver\n"
            "from engine.maskio import read_label_png\n"
            f"saver = Autosaver({str(autosave)!r})\n"
            f"saver.save(read_label_png({str(tmp_path / 'crashed.png')!r}), None, (1, 1))\n"
            "os._exit(3)  # die without cleaning up\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 3
    import cardigan_app.crash_recovery as crash_recovery

    asked = []
    monkeypatch.setattr(crash_recovery, "ask_recovery", lambda parent, text: asked.append(text) or
                        crash_recovery.Choice.SAVE)
    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        assert window.offer_recovery()
        assert asked and "unsaved mask" in asked[0]
        assert (window.document.labels == crashed).all() and window.document.modified
        # this window's own autosave is not offered to itself
        assert window.autosave_now()
        assert window.autosaver.find_recoveries() == []
        assert (read_label_png(window.autosaver.mask_path) == crashed).all()
    finally:
        close_window(window)
    assert not window.autosaver.folder.exists()  # a clean exit leaves nothing behind


def test_an_autosave_that_cannot_be_written_is_said_once(qtbot, tmp_path, tiny_model):
    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        messages = []
        window.statusBar().messageChanged.connect(lambda text: text and messages.append(text))
        blocked = tmp_path / "blocked"
        blocked.write_text("a file where the autosave folder should go")
        window.autosaver.root = blocked
        window.autosaver.folder = blocked / "session"
        window.document.fill(2, 2, 1)
        assert not window.autosave_now()
        window.document.fill(3, 3, 2)
        assert not window.autosave_now()
        said = [m for m in messages if m.startswith("Autosave failed")]
        assert len(said) == 1 and "cannot autosave" in said[0]
    finally:
        close_window(window)


def test_save_in_the_prompt_saves_both_key_frames(qtbot, tmp_path, tiny_model, prompts, monkeypatch):
    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        ed_path = tmp_path / "p_4CH_ED.png"
        write_label_png(ed_path, some_labels(seed=3))
        assert window.files.open_path(ed_path)
        ed = window.document
        ed.fill(2, 2, 1)
        window.commands["key_frame"].trigger()
        es = window.document
        es.fill(60, 60, 3)
        window.commands["key_frame"].trigger()  # back on ED; ES has edits too
        asked = []
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda parent, title, suggestion, *a: asked.append((title, suggestion))
                                         or (suggestion, "")))
        prompts["answers"].append(QMessageBox.StandardButton.Save)
        assert window.files.confirm_discard("closing")
        assert prompts["question"][0][1].startswith("p_4CH_ED.png and p_4CH_ED.png \u00b7 ES have unsaved")
        assert asked == [("Save p_4CH_ED.png \u00b7 ES as", str(tmp_path / "p_4CH_ES.png"))]  # named after ED
        assert (read_label_png(ed_path) == ed.labels).all() and (read_label_png(tmp_path / "p_4CH_ES.png") == es.labels).all()
        assert not window.key_frames.modified()
    finally:
        close_window(window)


def crashed_and_started_again(window, qtbot, tmp_path, tiny_model, then=lambda: None):
    """A second studio started as after ``window`` crashed: the autosave folder's owner gone
    (its lock let go), the new one looking for recoveries where ``window`` autosaved; ``then``
    runs between the two."""
    folder = window.autosaver.folder
    lock, window.autosaver._lock = window.autosaver._lock, None
    lock.unlock()
    then()
    again = open_window(qtbot, tmp_path / "second", str(tiny_model))
    again.autosaver.root = folder.parent
    return again


def test_an_autosave_keeps_the_fan_and_never_replaces_a_newer_file(qtbot, tmp_path, tiny_model, monkeypatch):
    import os
    import time

    import cardigan_app.crash_recovery as crash_recovery
    from cardigan_app.dialogs.new_mask import NewMaskChoice

    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        window.set_document(NewMaskChoice(True, "4CH", "ED", 5, 64).document())
        doc = window.document
        doc.set_meta("fan", fan=doc.fan.with_shape(depth=0.8))
        target = tmp_path / "case.png"
        assert window.files._write(target)
        heart, fan = doc.anatomy, doc.fan
        doc.fill(2, 2, 3)
        assert window.autosave_now()
        window.undo()  # the edit undone: the autosave of it is forgotten
        assert not doc.modified and not window.autosave_now()
        assert window.autosaver.mask_path is None
        doc.fill(2, 2, 3)
        assert window.autosave_now()
        window.commands["key_frame"].trigger()  # to ES and back: the pair's autosave is kept
        assert window.autosaver.mask_path.is_file()
        window.commands["key_frame"].trigger()
        later = time.time() + 60  # saved again after that autosave, whatever the clock's grain
        again = crashed_and_started_again(window, qtbot, tmp_path, tiny_model,
                                          then=lambda: os.utime(target, (later, later)))
        try:
            monkeypatch.setattr(crash_recovery, "ask_recovery", lambda parent, text: crash_recovery.Choice.SAVE)
            assert again.offer_recovery()
            recovered = again.document
            assert recovered.fan.to_json() == fan.to_json() and recovered.anatomy == heart  # as autosaved
            assert recovered.path is None  # newer on disk: Save asks for a name
        finally:
            close_window(again)
    finally:
        close_window(window)


@pytest.mark.slow
def test_settings_and_window_state_persist(qtbot, tmp_path, tiny_model):
    window = open_window(qtbot, tmp_path, str(tiny_model))
    window.state.set("brush_diameter", 21)
    window.set_seed(77)
    window.set_side_by_side(False)
    window.synthesis_dock.hide()
    screen = window.screen().availableGeometry()
    window.resize(700, min(screen.height(), 640))
    size = (window.width(), window.height())  # the width the docks allow, at least
    first_height = window.palette_dock.height()
    window.resizeDocks([window.palette_dock], [first_height + 60], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: window.palette_dock.height() > first_height)
    labels_height = window.palette_dock.height()  # as the user sized it, not as at first start
    # a window wider than the screen (800 px offscreen) comes back fitted to it
    width_kept = size[0] <= screen.width()
    close_window(window)
    again = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        assert again.state.brush_diameter == 21 and again.tool_widgets.brush_spin.value() == 21
        assert again.live.seed == 77 and not again.state.side_by_side
        assert not again.workspace.echo_pane.isVisibleTo(again)
        assert again.height() == size[1] and (again.width() == size[0] or not width_kept)
        assert not again.synthesis_dock.isVisibleTo(again) and again.model_dock.isVisibleTo(again)
        qtbot.wait(50)  # a first start's layout would come once shown
        assert again.palette_dock.height() == labels_height
        assert again.settings.qsettings.value("settings_version") in (1, "1")
    finally:
        close_window(again)


def test_an_old_settings_version_resets_the_layout_only(tmp_path):
    from cardigan_app.settings import AppSettings

    path = tmp_path / "s.ini"
    settings = AppSettings(path)
    settings.qsettings.setValue("window/state", b"old")
    settings.add_recent_file(tmp_path / "a.png")
    settings.qsettings.setValue("settings_version", 0)
    settings.qsettings.sync()
    fresh = AppSettings(path)
    assert fresh.window_state() is None and fresh.qsettings.value("window/state") is None
    assert fresh.recent_files() == [str((tmp_path / "a.png").resolve())]


def test_new_mask_from_template_or_blank(window, qtbot, monkeypatch, prompts):
    from PySide6.QtWidgets import QDialog

    from cardigan_app.dialogs.new_mask import FIRST_HEART_SEED, NewMaskDialog

    dialog = NewMaskDialog("2CH", "ES", 5, 128)
    qtbot.addWidget(dialog)
    choice = dialog.choice()
    assert (choice.view, choice.phase, choice.seed, choice.size, choice.template) == ("2CH", "ES", 5, 128, True)
    assert set(np.unique(choice.make())) == {0, 1, 2, 3} and choice.make().shape == (128, 128)
    assert not dialog.preview.pixmap().isNull()
    dialog.blank_button.setChecked(True)
    assert not dialog.choice().make().any() and not dialog.seed.isEnabled()

    monkeypatch.setattr(NewMaskDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    old = window.document
    assert window.files.new_mask()
    assert window.document is not old and window.document.shape == (256, 256)
    # File > New offers the heart after the one the studio opened on
    assert f"Untitled heart #{FIRST_HEART_SEED + 1}, 4CH[*]" in window.windowTitle() and not window.document.modified


def test_new_mask_deformed_from_this_one_from_the_menu(window, prompts):
    """The menu's action passed its ``checked`` flag (False) as the labels to deform: Ctrl+Shift+N
    raised in scipy and no mask was made."""
    old = window.document
    window.document.mark_saved()
    window.commands["new_deformed"].trigger()
    new = window.document
    assert new is not old and new.shape == old.shape and set(np.unique(new.labels)) == {0, 1, 2, 3}
    assert window.files.frame_name(new).startswith("Untitled deformation #") and prompts["warning"] == []


def test_file_dialogs_open_where_that_kind_of_file_was_last_found(window, qtbot, tmp_path, tiny_model):
    from cardigan_app import folders
    from cardigan_app.path_field import PathField

    masks = tmp_path / "masks"
    masks.mkdir()
    mask = masks / "heart.png"
    write_label_png(mask, window.document.labels)
    assert window.files.open_path(mask)
    runs = tmp_path / "runs"
    runs.mkdir()
    folders.remember("runs", runs)
    assert folders.start_folder("masks") == str(masks)
    assert folders.start_folder("models") == str(Path.home())  # nothing chosen for models yet
    field = PathField("folder", "Run folder", kind="runs")
    assert field._start() == str(runs)
    field.set_path(tmp_path)
    assert field._start() == str(tmp_path)  # a typed path wins
    window.settings.qsettings.sync()
    again = open_window(qtbot, tmp_path, str(tiny_model))  # the same settings file: a new session
    try:
        assert folders.start_folder("masks") == str(masks) and folders.start_folder("runs") == str(runs)
    finally:
        close_window(again)


def test_an_exported_png_pair_is_named_by_the_one_rule_and_opens_again_with_its_image(window, tmp_path,
                                                                                     monkeypatch):
    """A PNG pair's mask was ``x_mask.png`` while a NIfTI pair's, a cine loop's and CAMUS's are
    ``x_gt``: opening the mask found no image beside it. Now it is ``x_gt.png``, and opening it
    shows the exported image under it, as a loop's masks show theirs."""
    result, labels = window.live.last_result, window.document.labels.copy()
    save_dialog_returns(monkeypatch, tmp_path / "pair.png")
    assert window.exporter.export_pair()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png") == ["pair.png", "pair_gt.png"]
    window.set_document(LabelDocument(np.zeros_like(labels)))
    assert window.reference_image is None
    assert window.files.open_path(tmp_path / "pair_gt.png", confirmed=True)
    assert (window.document.labels == labels).all()
    assert window.reference_image is not None and (window.reference_image == result.image).all()
    (tmp_path / "pair.png").unlink()  # a mask whose image is gone opens alone, as before
    assert window.files.open_path(tmp_path / "pair_gt.png", confirmed=True)
    assert window.reference_image is None and (window.document.labels == labels).all()


def test_a_png_pair_exported_over_an_older_one_asks_before_removing_its_old_named_mask(window, tmp_path,
                                                                                        monkeypatch):
    """A pair exported over one of before x_gt.png wrote x_gt.png and left the old x_mask.png
    beside it, a stale mask that opens as if it were the pair's."""
    import cardigan_app.export as export
    from cardigan_app.mask_files import MaskFiles
    from engine.maskio import write_grey_png

    labels = window.document.labels
    old_labels = np.roll(labels, 3, axis=1)

    def earlier_export(text: dict[str, str]) -> None:  # the pair as it was named then
        write_grey_png(tmp_path / "pair.png", np.full(labels.shape, 60, np.uint8))
        write_label_png(tmp_path / "pair_mask.png", old_labels, text)

    asked = []
    save_dialog_returns(monkeypatch, tmp_path / "pair.png")
    ours = MaskFiles.png_text(window.document)
    for agreed in (False, True):
        earlier_export(ours)

        def answer(parent, old, new, agreed=agreed):
            asked.append((old.name, new.name))
            return agreed

        monkeypatch.setattr(export, "confirm_remove_old_mask", answer, raising=False)
        assert window.exporter.export_pair()
        assert asked[-1] == ("pair_mask.png", "pair_gt.png")
        assert (read_label_png(tmp_path / "pair_gt.png") == labels).all()
        assert (tmp_path / "pair_mask.png").exists() == (not agreed)  # removed only when agreed
        if agreed:
            assert "removed the old mask pair_mask.png" in window.statusBar().currentMessage()
        (tmp_path / "pair_gt.png").unlink()

    asked.clear()
    earlier_export({})  # no fan: a label map of the user's own, never asked about
    assert window.exporter.export_pair()
    write_label_png(tmp_path / "pair_mask.png", old_labels[:32], ours)  # another image's size
    (tmp_path / "pair_gt.png").unlink()
    assert window.exporter.export_pair()
    assert asked == [] and (tmp_path / "pair_mask.png").exists()


def test_a_save_dialogs_answer_names_png_or_nifti():
    from cardigan_app.export import NIFTI_FILTER, PNG_FILTER, chosen_path, pair_mask_path

    assert chosen_path("/x/case", NIFTI_FILTER).name == "case.nii.gz"
    assert chosen_path("/x/case", PNG_FILTER).name == "case.png"
    assert chosen_path("/x/case.nii", PNG_FILTER).name == "case.nii"  # what was typed wins
    assert chosen_path("/x/case.png", NIFTI_FILTER).name == "case.png"
    assert pair_mask_path(chosen_path("/x/case", NIFTI_FILTER)).name == "case_gt.nii.gz"
    assert pair_mask_path(chosen_path("/x/case", PNG_FILTER)).name == "case_gt.png"  # one rule for both
    from cardigan_app.export import SLICER_FILTER

    assert chosen_path("/x/case", SLICER_FILTER).name == "case.seg.nrrd"
    assert chosen_path("/x/case.SEG.NRRD", PNG_FILTER).name == "case.SEG.NRRD"
    assert chosen_path("/x/case.png", SLICER_FILTER).name == "case.png"


def test_an_image_is_not_written_under_a_slicer_segmentations_name(tmp_path):
    from cardigan_app.export import write_pair, write_picture

    image = np.full((8, 8), 90, np.uint8)
    for write in (lambda p: write_picture(p, image), lambda p: write_pair(p, image, np.zeros((8, 8), np.uint8))):
        with pytest.raises(CardiganError, match="holds a mask, not an image"):
            write(tmp_path / "case.seg.nrrd")
    assert list(tmp_path.iterdir()) == []


def test_an_image_of_ones_own_opens_under_a_blank_mask_in_its_fitted_fan(window, tmp_path, prompts, monkeypatch,
                                                                          qtbot):
    from engine.fan import Fan, fan_alpha

    rng = np.random.default_rng(3)
    fan = Fan(0.5, 0.0, -33.0, 33.0, 0.92, 0.8)
    picture = np.round(np.clip(rng.gamma(2.0, 45.0, (90, 120)), 20, 255) * fan_alpha(fan, 90, 120)).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "mine.png")
    window.state.set("side_by_side", False)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(tmp_path / "mine.png"), "")))
    assert window.commands["trace"].shortcut().toString() == "Ctrl+Shift+I"
    window.commands["trace"].trigger()
    size = window.state.template_size
    doc = window.document
    assert doc.shape == (size, size) and not doc.labels.any() and "mine.png" in window.windowTitle()
    assert abs(doc.fan.left - fan.left) < 3 and abs(doc.fan.right - fan.right) < 3 and abs(doc.fan.depth - fan.depth) < 0.03
    reference = window.reference_image
    assert reference.shape == (size, size) and window.workspace.reference_pane.isVisible()
    # beside the synthesis, the image lies under the mask to trace over
    assert window.state.side_by_side and window.state.show_synthesis_under_mask and window.canvas.show_background
    under = window.canvas._background
    assert [under.pixelColor(x, y).red() for x, y in ((size // 2, size // 2), (3, size - 3))] == \
        [reference[size // 2, size // 2], reference[size - 3, 3]]
    # with the synthesis alone on screen again, it is what lies under the mask
    qtbot.waitUntil(lambda: window.live.up_to_date() and window.live.last_result.document == doc.id, timeout=30_000)
    window.state.set("side_by_side", False)
    result = window.live.last_result
    assert window.canvas._background.pixelColor(size // 2, size // 2).red() == result.image[size // 2, size // 2]
    # a file that is not an image: one line, and the mask stays
    (tmp_path / "notes.png").write_text("not an image")
    assert not window.files.trace_path(tmp_path / "notes.png")
    assert window.document is doc and "not an image" in prompts["warning"][-1]


def test_a_mask_traced_over_an_image_is_offered_to_be_saved_beside_it_and_opens_again_over_it(
        window, tmp_path, prompts, monkeypatch):
    """Save offered "untitled.png" in the home folder for a mask traced over an image, as if it
    had come from nowhere: it offers the image's folder and name with ``_gt``, as CAMUS names
    ground truth, so the mask opens again over its image (a dataset's image folder is not
    written into: the masks folder is offered instead)."""
    from engine.fan import Fan, fan_alpha

    size = window.state.template_size
    echo = np.random.default_rng(4).integers(30, 255, (size, size)) * fan_alpha(Fan(0.5, 0.0, -33.0, 33.0, 0.92, 0.8),
                                                                                size, size)
    Image.fromarray(echo.astype(np.uint8)).save(tmp_path / "echo.png")
    offered = []

    def save_dialog(parent, title, suggestion, *args):  # takes the second name offered only
        offered.append(suggestion)
        return (suggestion if len(offered) == 2 else "", "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    assert window.files.trace_path(tmp_path / "echo.png", confirmed=True)
    window.document.fill(size // 2, size // 2, 1)
    window.commands["key_frame"].trigger()
    assert not window.files.save_as()  # the ES key frame goes beside ED's file as Save puts it
    window.commands["key_frame"].trigger()
    window.commands["save"].trigger()
    assert offered == [str(tmp_path / "echo_gt_ES.png"), str(tmp_path / "echo_gt.png")]
    painted, image = window.document.labels.copy(), window.reference_image.copy()
    window.key_frames.frames["ES"].mark_saved()
    assert window.files.open_path(tmp_path / "echo_gt.png", confirmed=True)
    assert (window.document.labels == painted).all() and (window.reference_image == image).all()
    dataset_image = tmp_path / "set" / "train" / "img" / "p_4CH_ED.png"
    dataset_image.parent.mkdir(parents=True)
    shutil.copy(tmp_path / "echo.png", dataset_image)
    assert window.files.trace_path(dataset_image, confirmed=True)
    assert not window.files.save_as()
    assert offered[-1] == str(tmp_path / "p_4CH_ED_gt.png")


def test_a_mask_traced_over_an_image_of_another_size_opens_again_over_it_squashed_as_then(window, tmp_path,
                                                                                            prompts):
    """``echo_gt.png``, traced over ``echo.jpg`` of 96 x 72 pixels and saved where Save offers,
    opened with no image under it: the image was looked for as ``echo.png`` only, and one of
    another size than the mask was left out without a word. It comes back squashed as it was
    when opened to trace over, said on the status line; one that cannot lie under the mask (the
    mask not square) is said not to be shown."""
    Image.fromarray(np.random.default_rng(5).integers(30, 255, (72, 96)).astype(np.uint8)).save(tmp_path / "echo.jpg")
    assert window.files.trace_path(tmp_path / "echo.jpg", confirmed=True)
    traced = window.reference_image.copy()
    write_label_png(tmp_path / "echo_gt.png", some_labels(traced.shape[0]))
    assert window.files.open_path(tmp_path / "echo_gt.png", confirmed=True)
    assert window.reference_image is not None and (window.reference_image == traced).all()
    size = traced.shape[0]
    assert f"echo.jpg beside it shown under it squashed from 96 \u00d7 72 to the mask's {size} \u00d7 {size}" \
        in window.statusBar().currentMessage()
    write_label_png(tmp_path / "wide_gt.png", np.zeros((40, 60), np.uint8))
    Image.fromarray(np.full((30, 30), 90, np.uint8)).save(tmp_path / "wide.png")
    assert window.files.open_path(tmp_path / "wide_gt.png", confirmed=True)
    assert window.reference_image is None
    assert ("wide.png beside it is 30 \u00d7 30 pixels and does not lie on the mask's 60 \u00d7 40: not shown under it"
            in window.statusBar().currentMessage())


def under_mask(window) -> np.ndarray | None:
    """The frames (T, H, W) of the image under the window's mask, one for a picture; None: none."""
    references = window.references
    return references.frames if references.frames is not None else (
        None if references.image is None else references.image[None])


def test_a_mask_traced_over_a_volume_or_its_loop_opens_again_over_it_squashed_as_then(window, tmp_path, prompts):
    """``echo_gt.png``, traced over ``echo.nii.gz`` (a loop) or ``still_gt.png`` over
    ``still.mhd``, opened with no image under it: the image beside it was looked for as
    pictures and DICOM files only. It comes back as it was traced over, every frame of a loop."""
    import SimpleITK as sitk

    from test_trace_image import FAN, echo_like

    loop = np.stack([echo_like(FAN, 48, 64, seed) for seed in range(3)])
    sitk.WriteImage(sitk.GetImageFromArray(loop), str(tmp_path / "echo.nii.gz"))
    sitk.WriteImage(sitk.GetImageFromArray(loop[1]), str(tmp_path / "still.mhd"))
    for image, mask in (("echo.nii.gz", "echo_gt.png"), ("still.mhd", "still_gt.png")):
        assert window.files.trace_path(tmp_path / image, confirmed=True)
        traced = under_mask(window).copy()
        write_label_png(tmp_path / mask, some_labels(traced.shape[1]))
        assert window.files.open_path(tmp_path / mask, confirmed=True)
        shown = under_mask(window)
        assert shown is not None and shown.shape == traced.shape and (shown == traced).all(), mask
        assert f"{image} beside it shown under it squashed" in window.statusBar().currentMessage()


def test_a_mask_traced_over_a_loops_frame_opens_again_over_that_frame(window, tmp_path, prompts, monkeypatch):
    """``echo_gt.png`` traced over frame 3 of ``echo.nii.gz`` opened again over frame 1: its
    PNG records the frame it was traced over, and it opens over that one, said on the status
    line. A record that is no frame of the loop is said and passed over (frame 1, as before)."""
    import SimpleITK as sitk

    from test_trace_image import FAN, echo_like

    from engine.maskio import TRACED_FRAME_KEY, read_png_text

    loop = np.stack([echo_like(FAN, 48, 64, seed) for seed in range(4)])
    sitk.WriteImage(sitk.GetImageFromArray(loop), str(tmp_path / "echo.nii.gz"))
    assert window.files.trace_path(tmp_path / "echo.nii.gz", confirmed=True)
    slider = window.workspace.reference_frame
    slider.setValue(2)
    traced = window.reference_image.copy()
    window.document.fill(window.document.shape[1] // 2, window.document.shape[0] // 2, 1)
    save_dialog_returns(monkeypatch, tmp_path / "echo_gt.png")
    assert window.files.save_as()
    assert read_png_text(tmp_path / "echo_gt.png")[TRACED_FRAME_KEY] == "2"
    assert window.files.open_path(tmp_path / "echo_gt.png", confirmed=True)
    assert slider.value() == 2 and (window.reference_image == traced).all()
    assert "over frame 3 of 4 as traced" in window.statusBar().currentMessage()
    write_label_png(tmp_path / "echo_gt.png", window.document.labels, {TRACED_FRAME_KEY: "9"})
    assert window.files.open_path(tmp_path / "echo_gt.png", confirmed=True)
    assert slider.value() == 0 and (window.reference_image == window.references.frames[0]).all()
    assert "traced over ('9') is not one of the loop's 4: shown over its first" in window.statusBar().currentMessage()


def test_noise_opened_to_trace_says_no_sector_was_found_and_takes_the_views_usual_fan(window, tmp_path, prompts):
    from engine.fan import default_fan

    noise = np.random.default_rng(8).integers(0, 256, (120, 160)).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "scan_2CH.png")
    assert window.files.trace_path(tmp_path / "scan_2CH.png")
    message = window.statusBar().currentMessage()
    assert "IoU" not in message and "no sector found in it, so the usual 2CH fan is used" in message, message
    assert "\n" not in message and window.document.fan == default_fan("2CH")


def test_a_dropped_image_opens_to_trace_and_a_mask_with_other_values_is_still_refused(window, tmp_path, prompts):
    rng = np.random.default_rng(5)
    echo = rng.integers(0, 256, (70, 70)).astype(np.uint8)
    Image.fromarray(echo).save(tmp_path / "frame.png")
    Image.fromarray(echo).convert("RGB").save(tmp_path / "frame.jpg")
    for name in ("frame.png", "frame.jpg"):
        assert window.open_any(tmp_path / name)
        assert not window.document.labels.any() and window.reference_image is not None
        assert name in window.windowTitle()
    grey_mask = (some_labels(64) * 85).astype(np.uint8)  # 0 / 85 / 170 / 255: labels in other values
    Image.fromarray(grey_mask).save(tmp_path / "grey_mask.png")
    before = window.document
    assert not window.open_any(tmp_path / "grey_mask.png")
    assert window.document is before and "grey_mask.png" in prompts["warning"][-1]
    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    assert window.open_any(tmp_path / "mask.png") and (window.document.labels == labels).all()


def test_a_dropped_file_is_read_once_whether_it_opens_as_a_mask_or_to_trace(window, tmp_path, opens):
    """Every dropped file without a picture's name was opened to look for a DICOM marker
    first, a label PNG too, though its name says it is no DICOM file."""
    opened = opens
    echo = np.random.default_rng(9).integers(0, 256, (70, 70)).astype(np.uint8)
    Image.fromarray(echo).save(tmp_path / "frame.png")
    opened.clear()
    assert window.open_any(tmp_path / "frame.png") and window.reference_image is not None
    assert opened[(tmp_path / "frame.png").resolve()] == 1
    labels = some_labels(64)
    write_label_png(tmp_path / "mask.png", labels)
    opened.clear()
    assert window.open_any(tmp_path / "mask.png") and (window.document.labels == labels).all()
    assert opened[(tmp_path / "mask.png").resolve()] == 1


def test_a_dropped_gif_opens_to_trace_even_when_its_grey_levels_look_like_labels(window, tmp_path, prompts,
                                                                              monkeypatch):
    """A GIF is never read as a mask: a dark loop whose pixels hold 0..3 alone is traced over."""
    import cardigan_app.mask_files as mask_files

    read_as_mask, read_label_map = [], mask_files.read_label_map
    monkeypatch.setattr(mask_files, "read_label_map", lambda path: read_as_mask.append(path) or read_label_map(path))
    frames = [Image.fromarray(some_labels(64)), Image.fromarray(some_labels(64)[::-1].copy())]
    frames[0].save(tmp_path / "dark.gif", save_all=True, append_images=frames[1:], duration=40, loop=0)
    assert window.open_any(tmp_path / "dark.gif")
    assert not read_as_mask and not window.document.labels.any() and window.reference_image is not None
    assert "dark.gif" in window.windowTitle()


def test_dropping_the_mask_being_edited_and_saving_it_opens_the_saved_edits(window, tmp_path, prompts):
    path = tmp_path / "mask.png"
    write_label_png(path, some_labels())
    assert window.files.open_path(path)
    drag(window.canvas, [(5, 5), (30, 5)])
    edited = window.document.labels.copy()
    assert window.document.modified and not (edited == some_labels()).all()
    prompts["answers"] = [QMessageBox.StandardButton.Save]
    assert window.open_any(path)
    assert prompts["question"] and "mask.png" in prompts["question"][-1][1]
    assert (read_label_png(path) == edited).all()
    assert (window.document.labels == edited).all() and not window.document.modified


def test_a_picture_traced_over_stays_under_ed_when_k_goes_to_es_and_back(window, tmp_path, prompts):
    echo = np.random.default_rng(5).integers(0, 256, (70, 70)).astype(np.uint8)
    Image.fromarray(echo).save(tmp_path / "frame.png")
    assert window.open_any(tmp_path / "frame.png")
    ed_image = window.reference_image.copy()
    window.state.set("key_frame", "ES")
    assert window.reference_image is None  # a picture is ED's alone
    window.state.set("key_frame", "ED")
    assert window.reference_image is not None and (window.reference_image == ed_image).all()
    assert window.workspace.reference_frame.isHidden()  # no frames to choose from


def test_a_loop_traced_over_gives_each_key_frame_a_frame_of_its_own(window, tmp_path, prompts, monkeypatch):
    import SimpleITK as sitk

    from test_trace_image import FAN, echo_like

    from engine.data.imaging import resize_image

    loop = np.stack([echo_like(FAN, 64, 64, seed) for seed in range(7)])
    sitk.WriteImage(sitk.GetImageFromArray(loop), str(tmp_path / "patient0001_4CH_half_sequence.nii.gz"))
    assert window.open_any(tmp_path / "patient0001_4CH_half_sequence.nii.gz")
    frames = [resize_image(frame, window.document.shape[0]) for frame in loop]  # squashed to the mask
    slider = window.workspace.reference_frame
    assert not slider.isHidden() and slider.maximum() == 6 and slider.value() == 0
    assert (window.reference_image == frames[0]).all()
    window.state.set("key_frame", "ES")
    assert slider.value() == 6 and (window.reference_image == frames[6]).all()  # ES ends a half sequence
    slider.setValue(4)  # the user picks ES's frame
    assert (window.reference_image == frames[4]).all()
    window.state.set("key_frame", "ED")
    assert slider.value() == 0 and (window.reference_image == frames[0]).all()
    slider.setValue(1)
    window.state.set("key_frame", "ES")
    assert slider.value() == 4 and (window.reference_image == frames[4]).all()
    assert window.workspace.reference_frame_label.text() == "frame 5 / 7"
    window.workspace.referenceClosed.emit()  # hidden: no frames left to show under either
    window.state.set("key_frame", "ED")
    assert window.reference_image is None and slider.isHidden()
    # a cine export's loop whose masks a stopped write left mixed beside it: the old loop, said so
    from test_replacing_safely import killed_at_rename

    from engine import fileio
    from engine.maskio import write_nifti_files

    monkeypatch.setattr(fileio, "_pause", lambda seconds: None)
    export = tmp_path / "export"
    export.mkdir()
    pair = [export / "cine.nii.gz", export / "cine_gt.nii.gz"]
    old, new = loop[:2], 255 - loop[:2]
    write_nifti_files(list(zip(pair, (old, np.zeros_like(old)))))
    left = killed_at_rename(monkeypatch, export, 2,
                            lambda: write_nifti_files(list(zip(pair, (new, np.ones_like(new))))))
    dropped = shutil.copytree(left, tmp_path / "dropped")
    said = ("; cine.nii.gz: the old file put back beside cine_gt.nii.gz: a write of them was stopped between the "
            "two and had left them mixed")
    assert window.files.trace_path(left / "cine.nii.gz", confirmed=True)
    assert (window.reference_image == frames[0]).all() and said in window.statusBar().currentMessage()
    # dropped, it is read as a mask first, which puts the pair back, then as the image it is: said all the same
    assert window.files.open_or_trace(dropped / "cine.nii.gz")
    assert (window.reference_image == frames[0]).all() and said in window.statusBar().currentMessage()


def test_an_itksnap_workspace_over_a_loop_gives_each_key_frame_its_frame(window, tmp_path, prompts):
    from engine.itksnap_workspace import write_workspace
    from engine.maskio import write_nifti

    labels = some_labels(64)
    loop = np.random.default_rng(2).integers(0, 256, (5, 64, 64)).astype(np.uint8)
    write_nifti(tmp_path / "loop.nii.gz", loop)
    write_nifti(tmp_path / "loop_seg.nii.gz", labels)
    write_workspace(tmp_path / "case.itksnap", tmp_path / "loop.nii.gz", tmp_path / "loop_seg.nii.gz")
    assert window.open_any(tmp_path / "case.itksnap")
    assert (window.document.labels == labels).all() and (window.reference_image == loop[0]).all()
    assert window.workspace.reference_frame.maximum() == 4
    window.state.set("key_frame", "ES")
    assert (window.reference_image == loop[2]).all()  # a third of the way through the loop


def test_files_named_on_the_command_line_open_after_the_recovery_question():
    from types import SimpleNamespace

    from cardigan_app.app import start_session

    order = []
    window = SimpleNamespace(offer_recovery=lambda: order.append("recovery") or True,
                             open_paths=lambda paths: order.append(("open", paths)))
    start_session(window, [Path("patient.png")])
    assert order == ["recovery", ("open", [Path("patient.png")])]
    start_session(window, ())
    assert order[-1] == "recovery"


def test_an_ed_mask_opens_with_its_es_frame_beside_it(qtbot, tmp_path, tiny_model, prompts):
    from engine.anatomy import template_mask

    ed_labels, es_labels = template_mask("4CH", "ED", seed=2, size=64), template_mask("4CH", "ES", seed=2, size=64)
    write_label_png(tmp_path / "p_4CH_ED.png", ed_labels)
    write_label_png(tmp_path / "p_4CH_ES.png", es_labels)
    write_label_png(tmp_path / "alone.png", ed_labels)
    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        assert window.files.open_path(tmp_path / "p_4CH_ED.png")
        es = window.key_frames.frames["ES"]
        assert es is not None and es.path == tmp_path / "p_4CH_ES.png" and (es.labels == es_labels).all()
        assert not window.key_frames.modified() and "EF" in window.anatomy_panel.key_frame_ef.text()
        window.commands["key_frame"].trigger()
        assert window.document is es
        window.commands["key_frame"].trigger()
        assert window.files.open_path(tmp_path / "alone.png")  # no ES file beside it: made when asked for
        assert window.key_frames.frames["ES"] is None
    finally:
        close_window(window)


def test_both_edited_key_frames_are_autosaved_and_recovered_as_a_pair(qtbot, tmp_path, tiny_model, monkeypatch):
    import cardigan_app.crash_recovery as crash_recovery
    from cardigan_app.dialogs.new_mask import NewMaskChoice

    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        window.set_document(NewMaskChoice(True, "4CH", "ED", 5, 64).document())
        ed = window.document
        ed.fill(2, 2, 3)
        ed.set_meta("fan", fan=ed.fan.with_shape(depth=0.8))
        window.commands["key_frame"].trigger()
        es = window.document
        es.fill(60, 60, 1)  # on screen now: ES, with ED's edits unsaved as well
        assert window.autosave_now()
        again = crashed_and_started_again(window, qtbot, tmp_path, tiny_model)
        try:
            asked, opened = [], []
            monkeypatch.setattr(crash_recovery, "ask_recovery",
                                lambda parent, text: asked.append(text) or crash_recovery.Choice.SAVE)
            import PIL.Image

            real_open = PIL.Image.open

            def counted_open(file, *args, **kwargs):  # each autosaved PNG was opened twice: labels, then text
                opened.append(Path(getattr(file, "name", file)).name)
                return real_open(file, *args, **kwargs)

            monkeypatch.setattr(PIL.Image, "open", counted_open)
            assert again.offer_recovery()
            assert asked[0].startswith("Untitled heart #5, 4CH \u00b7 ES and ED, autosaved ")
            assert sorted(opened) == ["mask-1.png", "other-1.png"], opened  # each once, its fan and heart with it
            frames = again.key_frames.frames
            assert (frames["ED"].labels == ed.labels).all() and (frames["ES"].labels == es.labels).all()
            assert frames["ED"].modified and frames["ES"].modified
            assert frames["ED"].fan.depth == pytest.approx(0.8) and frames["ED"].anatomy == ed.anatomy
        finally:
            close_window(again)
    finally:
        close_window(window)


def test_an_exported_png_mask_keeps_the_fan_and_heart_its_image_was_drawn_in(qtbot, window, tmp_path, monkeypatch,
                                                                           prompts):
    from cardigan_app.dialogs.new_mask import NewMaskChoice
    from engine.anatomy.heart import ANATOMY_KEY
    from engine.fan import FAN_KEY
    from engine.maskio import read_png_text

    with qtbot.waitSignal(window.synthesisShown, timeout=10_000):
        window.set_document(NewMaskChoice(True, "4CH", "ED", 5, 64).document())
    with qtbot.waitSignal(window.synthesisShown, timeout=10_000):
        window.document.set_meta("fan", fan=window.document.fan.with_shape(depth=0.8))
    qtbot.waitUntil(window.live.up_to_date, timeout=10_000)
    fan, heart = window.document.fan, window.document.anatomy
    assert heart
    for name, export in (("pair.png", window.exporter.export_pair), ("mask.png", window.exporter.export_mask)):
        save_dialog_returns(monkeypatch, tmp_path / name)
        assert export()
    for written in (tmp_path / "pair_gt.png", tmp_path / "mask.png"):
        text = read_png_text(written)
        assert text[FAN_KEY] == fan.to_json() and json.loads(text[ANATOMY_KEY]) == heart


def test_a_newer_settings_version_keeps_its_layout_and_its_number(tmp_path):
    from PySide6.QtCore import QByteArray

    from cardigan_app.settings import SETTINGS_VERSION, AppSettings

    path = tmp_path / "s.ini"
    settings = AppSettings(path)
    settings.qsettings.setValue("window/state", QByteArray(b"newer"))
    settings.add_recent_file(tmp_path / "a.png")
    settings.qsettings.setValue("settings_version", SETTINGS_VERSION + 1)
    settings.qsettings.sync()
    older = AppSettings(path)  # this release opens a later release's file
    assert older.window_state() is None  # not a layout it knows
    older.save_window(QByteArray(b"g"), QByteArray(b"mine"), QByteArray(b"s"))
    assert older.recent_files() == [str((tmp_path / "a.png").resolve())]
    again = AppSettings(path)
    assert int(again.qsettings.value("settings_version")) == SETTINGS_VERSION + 1
    assert bytes(again.qsettings.value("window/state")) == b"newer"  # the later release finds its own


def test_a_gif_loop_opened_to_trace_gives_every_frame_and_the_dialog_lists_gifs(window, tmp_path, prompts,
                                                                                monkeypatch):
    from test_trace_image import FAN, echo_like

    from engine.cine.writers import write_loop

    loop = np.stack([echo_like(FAN, 64, 64, seed) for seed in range(6)])
    write_loop(tmp_path / "loop.gif", loop, np.zeros_like(loop), fps=25)  # as `cardigan cine --out loop.gif`
    filters = []

    def dialog(*args, **kwargs):
        filters.append(args[3])
        return str(tmp_path / "loop.gif"), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(dialog))
    window.commands["trace"].trigger()
    assert "*.gif" in filters[0].split(";;")[0]  # the dialog's first list shows it
    slider = window.workspace.reference_frame
    assert not slider.isHidden() and slider.maximum() == 5
    assert "6 frames" in window.statusBar().currentMessage()
