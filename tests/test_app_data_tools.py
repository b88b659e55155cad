"""The Data menu's dialogs (prepare, batch export) and the model the studio opens with."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError as WaitTimeout

from cardigan_app import theme
from cardigan_app.data_tools import ExportDialog, PrepareDialog
from cardigan_app.settings import AppSettings
from cardigan_app.state import StudioState
from cardigan_app.testing import close_window, open_window
from engine.anatomy import template_mask
from engine.cli.main import main
from engine.data.export_layouts import LAYOUT_NAMES
from engine.data.phantom import write_phantom

TIMEOUT = 60_000


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny networks gain nothing from threads, and spinning threads slow a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def seed_hdf5(tmp_path_factory) -> Path:
    """A small file in the seed's HDF5 layout (6 patients, 64 px)."""
    path = tmp_path_factory.mktemp("src") / "seed.hdf5"
    write_phantom(path, count=6, size=64, seed=0, format="hdf5")
    return path


# -- prepare -------------------------------------------------------------------------------
def test_prepare_dialog_prepares_a_seed_hdf5_and_shows_the_counts(qtbot, tmp_path, seed_hdf5):
    dialog = PrepareDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.form.formatDetected, timeout=TIMEOUT) as detected:
        dialog.form.source.set_path(seed_hdf5)
    assert detected.args[0] == "hdf5" and "seed HDF5" in dialog.form.format_label.text()
    out = tmp_path / "prepared"
    dialog.output.set_path(out)
    dialog.form.views["2CH"].setChecked(False)
    dialog.form.size.setValue(64)
    assert dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.prepared, timeout=TIMEOUT) as done:
        dialog.start_button.click()
        assert dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
    manifest = done.args[1]
    counts = manifest["counts"]
    assert json.loads((out / "manifest.json").read_text())["counts"] == counts
    assert sum(counts.values()) == 6 * 2  # 6 patients x 4CH x (ED, ES)
    assert all(len(list((out / s / "img").glob("*.png"))) == n for s, n in counts.items())
    assert not list(out.glob("*/img/*2CH*"))
    text = dialog.summary.text.text()
    for split, n in counts.items():
        assert f"{split}: {n} pairs" in text
    assert len(dialog.summary.thumbnails) == 8  # 4 pairs: image over mask
    assert dialog.summary_box.isVisible() and dialog.open_button.isEnabled()
    with qtbot.waitSignal(dialog.openRequested) as opened:
        dialog.open_button.click()
    assert opened.args == [str(out)]


def test_a_source_that_changed_kind_since_it_was_detected_is_refused_in_the_dialog_s_words(qtbot, tmp_path,
                                                                                            seed_hdf5):
    """The dialog has no format to choose: the engine is given the detected one, and a source
    that is no longer of that kind is refused without naming the command line's --format."""
    dialog = PrepareDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    source = tmp_path / "seed.hdf5"
    shutil.copy(seed_hdf5, source)
    with qtbot.waitSignal(dialog.form.formatDetected, timeout=TIMEOUT) as detected:
        dialog.form.source.set_path(source)
    assert detected.args[0] == "hdf5"
    source.unlink()
    source.mkdir()  # made a folder after it was detected as the HDF5 file
    dialog.output.set_path(tmp_path / "prepared")
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert failed.args[0] == f"{source}: the detected format hdf5 needs the HDF5 file, this is a folder"
    assert dialog.status.text() == failed.args[0] and not (tmp_path / "prepared").exists()


def test_prepare_refuses_an_unknown_source_and_cancel_leaves_nothing(qtbot, tmp_path, seed_hdf5):
    dialog = PrepareDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    junk = tmp_path / "notes.txt"
    junk.write_text("not a dataset")
    with qtbot.waitSignal(dialog.form.formatDetected, timeout=TIMEOUT) as detected:
        dialog.form.source.set_path(junk)
    assert detected.args[0] == "" and "not an HDF5 file" in dialog.form.format_label.text()
    assert not dialog.start_button.isEnabled()

    with qtbot.waitSignal(dialog.form.formatDetected, timeout=TIMEOUT):
        dialog.form.source.set_path(seed_hdf5)
    out = tmp_path / "out" / "prepared"
    dialog.output.set_path(out)
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        dialog.start()
        dialog.cancel()  # before the first patient: the engine stops and removes its staging folder
    assert "Cancelled" in dialog.status.text()
    assert not out.exists()
    assert not (tmp_path / "out").exists()  # no staging folder left, nor the parent made for it
    assert dialog.start_button.isEnabled() and dialog.result_dir is None


def assert_result_scrolls_with_buttons_on_screen(dialog) -> None:
    """A finished job's result (text and thumbnails) scrolls; the dialog fits the screen and
    its buttons stay in it (a 1280 x 800 screen had Make/Close below its bottom)."""
    screen = dialog.screen().availableGeometry()
    assert dialog.scroll.widget().isAncestorOf(dialog.summary_box) and dialog.summary_box.isVisibleTo(dialog)
    assert not dialog.scroll.widget().isAncestorOf(dialog.buttons)
    assert dialog.minimumSizeHint().height() < 400  # the result does not set a least height
    assert dialog.frameGeometry().bottom() <= screen.bottom() and dialog.height() <= screen.height()
    assert dialog.rect().contains(dialog.buttons.geometry())


# -- export --------------------------------------------------------------------------------
def export_dialog(qtbot, model, out, fmt: str) -> ExportDialog:
    dialog = ExportDialog(current_model=str(model), device="cpu")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.random_count.setValue(2)
    dialog.size.setValue(64)
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.output.set_path(out)
    return dialog


def test_the_export_size_follows_the_model_chosen_in_the_dialog_until_it_is_set(qtbot, tmp_path, tiny_model):
    """Generated masks are the chosen model's own size, as the command line makes them
    without --size: the box showed the studio model's size whatever model was then chosen."""
    from cardigan_app.data_tools.export_dialog import FILE_ITEM
    from cardigan_app.testing import make_model_file

    (tmp_path / "runs" / "wide").mkdir(parents=True)
    make_model_file(tmp_path / "runs" / "wide" / "model.safetensors", image_size=128)
    dialog = ExportDialog(current_model="simulator", device="cpu")
    qtbot.addWidget(dialog)
    assert dialog.size.value() == 256
    dialog.select_model(str(tiny_model))
    assert dialog.size.value() == 64 and dialog.chosen_size() is None  # no size set: the model's own
    assert "resampled" in dialog.size.toolTip() and "model's own size" in dialog.size.toolTip()
    assert "; masks 64\u00a0px (the model's own size)" in dialog.plan.text()  # never wrapped before "px"
    assert "; masks 64 px (the model's own size)" in plan_text(dialog)
    dialog.model_file.set_path(tmp_path / "runs" / "wide")  # a run folder is its model
    assert dialog.size.value() == 128 and "masks 128 px (the model's own size)" in plan_text(dialog)
    dialog.model_file.set_path(tmp_path / "nothing here")  # unreadable: the size waits for the model
    assert dialog.size.value() == 128 and "masks the model's own size" in plan_text(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("simulator"))
    assert dialog.size.value() == 256 and "(the model's own size)" not in plan_text(dialog)

    dialog.model.setCurrentIndex(dialog.model.findData(FILE_ITEM))
    dialog.model_file.set_path(tiny_model)
    dialog.size.setValue(96)  # the user's size is kept, and said to be resampled
    assert dialog.chosen_size() == 96
    assert ("masks 96 px (Size); the model draws at 64 px, so each image is drawn there and resampled to 96"
            in plan_text(dialog))
    assert "--size" not in plan_text(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData("simulator"))
    assert dialog.size.value() == 96 and dialog.chosen_size() == 96


def plan_text(dialog) -> str:
    """The plan under a data dialog's patients, its unbreakable spaces read as spaces."""
    return dialog.plan.text().replace("\u00a0", " ")


def test_a_model_folder_can_be_browsed_to_in_the_export_dialog(qtbot, tmp_path, monkeypatch):
    """The model field could only browse to files, though a run folder or an NVlabs checkpoints
    folder is a model too: its Folder\u2026 button picks one, its size is read from it, and the
    next folder dialog opens beside it."""
    from PySide6.QtWidgets import QFileDialog

    from cardigan_app import folders
    from cardigan_app.data_tools.export_dialog import FILE_ITEM
    from cardigan_app.testing import make_model_file

    run = tmp_path / "runs" / "wide"
    (run / "checkpoints").mkdir(parents=True)
    make_model_file(run / "model.safetensors", image_size=128)
    dialog = ExportDialog(current_model="simulator", device="cpu")
    qtbot.addWidget(dialog)
    dialog.model.setCurrentIndex(dialog.model.findData(FILE_ITEM))
    asked: list[tuple[str, str]] = []

    def pick(parent, caption, start, *rest):
        asked.append((caption, start))
        return str(run)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", pick)
    monkeypatch.setattr(folders, "_settings", None)
    monkeypatch.setattr(folders, "_memory", {})
    [folder_button] = [b for b in dialog.model_file.buttons if b.text() == "Folder\u2026"]
    folder_button.click()
    assert asked[0][0] == "Model folder"
    assert dialog.model_spec() == str(run) and dialog.problem() != "choose a model file or folder"
    assert dialog.size.value() == 128 and "masks 128 px (the model's own size)" in plan_text(dialog)
    assert folders.start_folder("models") == str(run.parent)  # the next dialog shows its neighbours
    folder_button.click()
    assert asked[1][1] == str(run.parent)


def test_each_export_format_is_described_in_the_engines_words(qtbot, tiny_model, monkeypatch):
    """The tooltips restated each layout apart from the engine's own lines, so the two could
    drift (the NIfTI tip left out database_split/)."""
    from PySide6.QtCore import Qt

    import engine.data.export_layouts as layouts
    from engine.export import EXPORT_FORMATS, layout_description

    dialog = ExportDialog(current_model=str(tiny_model), device="cpu")
    qtbot.addWidget(dialog)
    offered = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    assert offered == list(EXPORT_FORMATS)
    for index, name in enumerate(offered):
        tip = dialog.format.itemData(index, Qt.ItemDataRole.ToolTipRole)
        assert tip == layout_description(name) and layouts.LAYOUT_LINES[name] in tip
        assert layouts.LAYOUT_DETAILS[name] in tip
        dialog.format.setCurrentIndex(index)
        assert dialog.format.toolTip() == tip
    monkeypatch.setitem(layouts.LAYOUT_LINES, "nifti", "the CAMUS layout, as the engine now says it")
    again = ExportDialog(current_model=str(tiny_model), device="cpu")
    qtbot.addWidget(again)
    tip = again.format.itemData(again.format.findData("nifti"), Qt.ItemDataRole.ToolTipRole)
    assert "the CAMUS layout, as the engine now says it" in tip


def test_the_export_formats_are_listed_by_name_as_the_phantom_dialog_lists_its_own(qtbot, tiny_model):
    """Export batch listed its formats as png, hdf5, nifti and nnunet, the phantom dialog beside
    it by what they are: both list names in words now, the export's from the engine's layouts."""
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog
    from engine.data.export_layouts import LAYOUT_LINES
    from engine.export import EXPORT_FORMATS

    assert list(LAYOUT_NAMES) == list(LAYOUT_LINES) == list(EXPORT_FORMATS)
    dialog = ExportDialog(current_model=str(tiny_model), device="cpu")
    qtbot.addWidget(dialog)
    listed = {dialog.format.itemData(i): dialog.format.itemText(i) for i in range(dialog.format.count())}
    assert listed == LAYOUT_NAMES
    assert all(text != key and len(text.split()) >= 3 for key, text in listed.items())
    phantom = PhantomDialog()
    qtbot.addWidget(phantom)
    hdf5 = phantom.format.itemText(phantom.format.findData("hdf5"))
    assert listed["hdf5"] == hdf5  # one HDF5 layout, one name for it


def test_export_dialog_says_under_the_output_before_start_when_nnunet_would_not_find_the_folder(qtbot, tmp_path,
                                                                                               tiny_model):
    advice = "nnU-Net finds a raw dataset only in a folder named DatasetNNN_Name (e.g. Dataset501_Echo): rename synthetic"
    dialog = export_dialog(qtbot, tiny_model, tmp_path / "synthetic", "png")
    note = dialog.output_note
    assert note.isHidden() and dialog.start_button.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("nnunet"))
    assert not note.isHidden() and note.text().startswith(advice)
    assert dialog.start_button.isEnabled()  # advice: the export goes ahead
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    dialog.output.set_path(tmp_path / "full")
    assert note.text().startswith("The output folder is not empty")  # a problem says only itself
    dialog.overwrite.setChecked(True)
    assert note.text().startswith(advice.replace("synthetic", "full")) and "\nThe folder is not empty" in note.text()
    dialog.overwrite.setChecked(False)
    dialog.output.set_path(tmp_path / "Dataset501_Echo")
    assert note.isHidden()
    dialog.output.set_path(tmp_path / "synthetic.h5")
    assert note.text().startswith("The output synthetic.h5: is named as a file") and "nnU-Net finds" not in note.text()


@pytest.mark.parametrize("fmt", ["png", "hdf5", "nifti", "nnunet"])
def test_export_dialog_writes_each_format(qtbot, tmp_path, tiny_model, fmt):
    out = tmp_path / f"export_{fmt}"
    dialog = export_dialog(qtbot, tiny_model, out, fmt)
    assert dialog.model_spec() == str(tiny_model)
    from engine.data.border_jitter import DEFAULT_JITTER

    assert dialog.border_jitter.value() == DEFAULT_JITTER  # segmentation datasets jitter unless told
    jitter = 2.0 if fmt == "png" else 0.0
    dialog.border_jitter.setValue(jitter)
    # what the layout writes where, before Start, and the file or folder written, after
    said_before = {"png": "img/ and label/", "hdf5": "synthetic.hdf5", "nifti": "database_nifti/<patient>/",
                   "nnunet": "imagesTr/ and labelsTr/"}[fmt]
    assert dialog.layout_note.isVisibleTo(dialog) and said_before in dialog.layout_note.text()
    assert out.name in dialog.layout_note.text()
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as done:
        dialog.start_button.click()
    manifest = done.args[1]
    assert manifest["options"]["border_jitter"] == jitter
    assert sum(manifest["counts"].values()) == 2 * 4  # 2 patients x (2CH, 4CH) x (ED, ES)
    # the layout named as the Format list names it, in the result line and over its summary
    assert f"Exported 8 pairs as {LAYOUT_NAMES[fmt]}: " in dialog.status.text()
    assert dialog.summary.text.text().startswith(f"<b>{html.escape(LAYOUT_NAMES[fmt])} \u2192 {out.name}</b>")
    main = {"hdf5": out / "synthetic.hdf5", "nifti": out / "database_nifti"}.get(fmt, out)
    assert main.exists() and f": {main} in " in dialog.status.text()
    if fmt == "png":
        labels = sorted(out.glob("*/label/*.png"))
        assert len(labels) == 8 and len(list(out.glob("*/img/*.png"))) == 8
        image = np.asarray(Image.open(out / labels[0].parent.parent.name / "img" / labels[0].name))
        label = np.asarray(Image.open(labels[0]))
        assert image.shape == label.shape == (64, 64) and image.dtype == np.uint8 and image.std() > 0
        assert set(np.unique(label)) <= {0, 1, 2, 3} and len(np.unique(label)) > 1
        assert len(dialog.summary.thumbnails) > 0
        assert_result_scrolls_with_buttons_on_screen(dialog)
    elif fmt == "hdf5":
        with h5py.File(out / "synthetic.hdf5", "r") as f:
            assert {"train", "valid", "test"} <= set(f.keys())
            groups = [f[s][p][v] for s in f for p in f[s] for v in f[s][p]]
            assert len(groups) == 4
            im, gt = groups[0]["im"][()], groups[0]["gt"][()]
        assert im.shape == (2, 64, 64, 1) and im.dtype == np.float32 and 0 <= im.min() < im.max() <= 1
        assert gt.shape == (2, 64, 64) and gt.dtype == np.uint8 and set(np.unique(gt)) <= {0, 1, 2, 3}
    elif fmt == "nnunet":
        assert len(list(out.glob("labelsTr/*.png"))) == 8 and (out / "dataset.json").is_file()
    else:
        patient = out / "database_nifti" / "patient0001"
        image = sitk.GetArrayFromImage(sitk.ReadImage(str(patient / "patient0001_4CH_ED.nii.gz")))
        gt = sitk.GetArrayFromImage(sitk.ReadImage(str(patient / "patient0001_4CH_ED_gt.nii.gz")))
        assert image.squeeze().shape == gt.squeeze().shape == (64, 64)
        assert set(np.unique(gt)) <= {0, 1, 2, 3} and image.std() > 0
        assert (patient / "Info_2CH.cfg").is_file()


def test_export_says_a_non_empty_folder_before_start_and_replaces_it_only_with_overwrite(qtbot, tmp_path,
                                                                                        tiny_model):
    out = tmp_path / "export"
    dialog = export_dialog(qtbot, tiny_model, out, "png")
    assert dialog.start_button.isEnabled() and not dialog.output_note.isVisible()  # a new folder
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        dialog.start_button.click()
    first = (out / "manifest.json").read_text()
    dialog.seed.setValue(7)
    tick = 'tick "Replace the folder if it is not empty"'
    # the folder the export just wrote is said as such, not as a warning; Start waits for Replace
    assert dialog.output_note.isVisible() and f"Written by the last run: {tick}" in dialog.output_note.text()
    assert theme.WARNING not in dialog.output_note.styleSheet()
    assert not dialog.start_button.isEnabled() and tick in dialog.start_button.toolTip()
    dialog.start()
    assert not dialog.running and tick in dialog.status.text()
    assert (out / "manifest.json").read_text() == first  # untouched

    dialog.output.set_path(tmp_path / "new")
    assert dialog.start_button.isEnabled() and not dialog.output_note.isVisible()
    (tmp_path / "new").mkdir()
    dialog.output.set_path(tmp_path / "new")  # an empty folder is fine
    assert dialog.start_button.isEnabled() and not dialog.output_note.isVisible()
    dialog.output.set_path(out)
    assert not dialog.start_button.isEnabled()
    dialog.overwrite.setChecked(True)
    assert dialog.start_button.isEnabled() and "running again replaces" in dialog.output_note.text()
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        dialog.start_button.click()
    assert json.loads((out / "manifest.json").read_text())["options"]["seed"] == 7

    other = tmp_path / "someone_elses"  # a folder no job of this dialog wrote: a warning
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    dialog.overwrite.setChecked(False)
    dialog.output.set_path(other)
    assert f"not empty: {tick} or choose another folder" in dialog.output_note.text()
    assert theme.WARNING in dialog.output_note.styleSheet()


def text_gap(label) -> int:
    """How much taller ``label`` is than its wrapped text at the width it has (negative: the
    text is cut)."""
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
    text = label.fontMetrics().boundingRect(0, 0, label.contentsRect().width(), 100_000, flags, label.text())
    return label.height() - text.height()


def gaps_settle(qtbot, *labels) -> list[int]:
    """Each label's :func:`text_gap` once they are all 0 or the layouts have had time to settle (a
    label whose height changes with its width asks for another layout, and its dialog for one more)."""
    try:
        qtbot.waitUntil(lambda: all(text_gap(label) == 0 for label in labels), timeout=2000)
    except WaitTimeout:
        pass
    return [text_gap(label) for label in labels]


def test_the_notes_under_the_export_output_are_as_tall_as_their_text_at_every_width(qtbot, tmp_path, tiny_model):
    """The notes under the output folder (on rows with no name on the left) sat between blank
    lines: 70 px for two lines of text, as tall as the text would be at QLabel's narrow
    preferred width. Dialog widths are tried narrow and wide, and back, as a user drags."""
    out = tmp_path / "loops"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    dialog = export_dialog(qtbot, tiny_model, out, "png")
    qtbot.waitExposed(dialog)
    notes = (dialog.layout_note, dialog.output_note, dialog.plan)
    assert all(note.isVisible() and note.text() for note in notes)
    for width in (dialog.width(), 640, 1000, dialog.width()):
        dialog.resize(width, dialog.height())
        assert gaps_settle(qtbot, *notes) == [0, 0, 0], width


def test_export_says_an_output_that_is_a_file_before_start(qtbot, tmp_path, tiny_model):
    (tmp_path / "notes.txt").write_text("mine")
    dialog = export_dialog(qtbot, tiny_model, tmp_path / "notes.txt", "png")
    dialog.overwrite.setChecked(True)
    assert not dialog.start_button.isEnabled() and dialog.output_note.text() == "The output is a file: choose a folder"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_export_says_an_output_named_as_a_file_before_start(qtbot, tmp_path, tiny_model):
    """Every layout is a folder, so the engine refuses ``out.h5`` (and any name phantom and
    prepare refuse, ``out.jpg``): the note says so, in the chosen format's words, as soon as the
    name (or the format) is chosen, and Export stays off."""
    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out.h5", "hdf5")
    note = dialog.output_note
    assert note.isVisible() and note.text().startswith("The output out.h5: is named as a file, but it is a folder")
    # the folder to name instead, and what is written in it; the field shows where it is
    assert "name a new folder, such as out (the export writes synthetic.hdf5 in it, with manifest.json" in note.text()
    assert "--out" not in note.text() and str(tmp_path) not in note.text()
    assert not dialog.start_button.isEnabled() and "named as a file" in dialog.start_button.toolTip()
    dialog.overwrite.setChecked(True)  # no box makes a file name a folder name
    assert not dialog.start_button.isEnabled()
    dialog.start()
    assert not dialog.running and "named as a file" in dialog.status.text()

    dialog.format.setCurrentIndex(dialog.format.findData("nifti"))  # the note follows the format
    assert "such as out (the export writes its database_nifti and database_split and manifest.json" in note.text()
    for name in ("out.NII.GZ", "out.jpg"):
        dialog.output.set_path(tmp_path / name)
        assert not dialog.start_button.isEnabled() and f"The output {name}: is named as a file" in note.text()
    dialog.output.set_path(tmp_path / "out.v2")  # a dot alone is a folder name
    assert dialog.start_button.isEnabled() and not note.isVisible()
    assert list(tmp_path.iterdir()) == []


def test_a_refused_or_cancelled_export_keeps_the_last_result_to_open(qtbot, tmp_path, tiny_model):
    """A refusal or a cancel writes nothing, so the last export is still there: its summary
    and Open output folder stay."""
    first = tmp_path / "export"
    dialog = export_dialog(qtbot, tiny_model, first, "png")
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        dialog.start_button.click()
    summary = dialog.summary.text.text()
    other = tmp_path / "phantom"
    write_phantom(other, count=1, size=32, seed=0)
    dialog.output.set_path(other)
    dialog.overwrite.setChecked(True)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()  # a phantom dataset is never replaced by an export
    assert "holds a phantom dataset" in failed.args[0]
    assert dialog.result_dir == first and dialog.open_button.isEnabled()
    assert dialog.summary_box.isVisible() and dialog.summary.text.text() == summary

    dialog.output.set_path(tmp_path / "later")
    dialog.random_count.setValue(50)
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        dialog.start_button.click()
        assert not dialog.summary_box.isVisible() and not dialog.open_button.isEnabled()  # while it runs
        dialog.cancel_button.click()
    assert dialog.result_dir == first and dialog.open_button.isEnabled() and dialog.summary_box.isVisible()
    assert (first / "manifest.json").is_file()


def test_export_cancel_leaves_nothing(qtbot, tmp_path, tiny_model):
    out = tmp_path / "out" / "export"
    dialog = export_dialog(qtbot, tiny_model, out, "hdf5")
    dialog.random_count.setValue(50)
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        dialog.start_button.click()
        assert dialog.running and dialog.cancel_button.isEnabled()
        dialog.cancel_button.click()
    assert not out.exists() and not list(out.parent.glob("*"))  # no staging folder left either
    assert "nothing was written" in dialog.status.text() and dialog.start_button.isEnabled()


def test_export_keeps_the_names_of_user_masks(qtbot, tmp_path, tiny_model):
    masks = tmp_path / "masks"
    masks.mkdir()
    names = ["heartA_4CH_ED", "heartA_4CH_ES", "my sketch"]
    for i, name in enumerate(names):
        Image.fromarray(template_mask("4CH", "ED" if i != 1 else "ES", seed=i, size=64)).save(masks / f"{name}.png")
    out = tmp_path / "export"
    dialog = export_dialog(qtbot, tiny_model, out, "png")
    dialog.use_masks.setChecked(True)
    assert not dialog.start_button.isEnabled()  # no masks folder yet
    dialog.masks.set_path(masks)
    dialog.variations.setValue(2)
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        dialog.start_button.click()
    stems = {p.stem for p in out.glob("*/label/*.png")}
    assert set(names) <= stems  # variation 1 keeps the names
    assert "heartA_v2_4CH_ED" in stems and "my sketch_v2" in stems
    sources = {Path(p["source_mask"]).name for p in json.loads((out / "manifest.json").read_text())["pairs"]}
    assert sources == {f"{n}.png" for n in names}


def test_export_dialog_says_a_size_the_model_cannot_take_by_its_own_name(qtbot, tmp_path, tiny_model):
    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out", "png")
    dialog.size.setValue(100)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert failed.args[0].startswith("Size 100: ") and "--" not in dialog.status.text()
    assert not (tmp_path / "out").exists()


# -- the studio window ---------------------------------------------------------------------
def test_the_studio_opens_with_the_demo_model_when_one_is_bundled(qtbot, tmp_path, bundle_demo, tiny_model):
    bundle_demo(tiny_model)
    window = open_window(qtbot, tmp_path, None, backend="thread")
    try:
        assert window.live.model_spec == "demo"
        assert window.model_panel.model_combo.currentData() == "demo"
        assert window.model_panel.model_specs()[:2] == ["demo", "simulator"]
        window.shutdown()
        assert AppSettings(tmp_path / "settings.ini").stored_preferences().get("model", "") == ""  # a default, not a choice
    finally:
        close_window(window)


def test_a_saved_choice_wins_over_the_demo_and_the_simulator_is_the_fallback(qtbot, tmp_path, bundle_demo,
                                                                              tiny_model):
    bundle_demo(tiny_model)
    settings = AppSettings(tmp_path / "settings.ini")
    settings.save_state(StudioState(model="simulator"))
    window = open_window(qtbot, tmp_path, None, backend="thread")
    try:
        assert window.live.model_spec == "simulator"
    finally:
        close_window(window)

    bundle_demo(None)
    other = tmp_path / "fresh"
    other.mkdir()
    window = open_window(qtbot, other, None, backend="thread")
    try:
        assert window.live.model_spec == "simulator"
        assert "demo" not in window.model_panel.model_specs()
    finally:
        close_window(window)


def test_data_menu_opens_the_dialogs_and_shows_a_prepared_folder(qtbot, tmp_path, tiny_model):
    folder = tmp_path / "phantom"
    write_phantom(folder, count=3, size=64, seed=0)
    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    try:
        texts = [a.text() for a in window.menuBar().actions()]
        assert texts.index("&Data") < texts.index("&Train") < texts.index("&Help")
        window.commands["prepare_dataset"].trigger()
        dialog = window.data_tools.prepare_dialog
        assert dialog is not None and dialog.isVisible()
        dialog.openRequested.emit(str(folder))
        assert window.dataset_browser.root == folder and window.dataset_dock.isVisible()
        window.commands["export_batch"].trigger()
        export = window.data_tools.export_dialog
        assert export.isVisible() and export.model_spec() == str(tiny_model)
        assert window.commands["export_batch"] in window.menus.export.actions()
        export.like.set_path(folder)
        export.like_fallback.setChecked(True)
        export.close()
        window.commands["export_batch"].trigger()  # a new dialog, with what was typed last time
        again = window.data_tools.export_dialog
        assert again is not export and again.like.path() == folder and again.like_fallback.isChecked()
        again.cine.enabled.setChecked(True)
        again.cine.fps.setValue(25)
        again.cine.cycle.setCurrentIndex(again.cine.cycle.findData("full"))
        again.close()
        window.commands["export_batch"].trigger()  # Cine loops and its timing are kept too
        cine = window.data_tools.export_dialog.cine
        assert cine.checked() and cine.timing() == again.cine.timing() and cine.timing().cycle == "full"
        window.commands["phantom_dataset"].trigger()
        phantom = window.data_tools.phantom_dialog
        assert phantom.isVisible() and window.commands["phantom_dataset"] in window.data_tools.menu.actions()
        phantom.openRequested.emit(str(folder))
        assert window.dataset_browser.root == folder
    finally:
        close_window(window)


def test_export_dialog_counts_pairs_and_warns_about_empty_splits(qtbot, tmp_path, tiny_model):
    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out", "png")
    dialog.random_count.setValue(2)
    text = dialog.plan.text()
    assert text.startswith("2 patients \u00d7 2 views \u00d7 2 instants = 8 pairs")
    assert "no patient in valid or test" in text and dialog.plan.isVisible()
    dialog.random_count.setValue(3)
    assert "= 12 pairs" in dialog.plan.text() and "no patient" not in dialog.plan.text()
    dialog.variations.setValue(3)  # every mask drawn three times
    assert "2 instants \u00d7 3 variations = 36 pairs" in dialog.plan.text()
    dialog.use_masks.setChecked(True)
    assert not dialog.plan.isVisible()


def test_cli_export_says_what_random_patients_make(tmp_path, tiny_model, capsys):

    assert main(["export", "--model", str(tiny_model), "--random", "2", "--size", "64",
                 "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert ("2 patients \u00d7 2 views \u00d7 2 instants = 8 pairs; "
            "patients per split: train\u00a02, valid\u00a00, test\u00a00") in err
    assert "warning: no patient in valid or test" in err
    assert main(["export", "--model", str(tiny_model), "--random", "2", "--size", "64", "--variations", "2",
                 "--out", str(tmp_path / "twice")]) == 0
    assert "2 instants \u00d7 2 variations = 16 pairs" in capsys.readouterr().err


def test_cli_export_says_that_it_splits_given_masks_anew(tmp_path, tiny_model, capsys):
    from engine.maskio import write_label_png

    masks = tmp_path / "masks" / "test" / "label"  # masks that had a split of their own
    masks.mkdir(parents=True)
    write_label_png(masks / "heartA_4CH_ED.png", template_mask("4CH", "ED", seed=1, size=64))
    assert main(["export", "--model", str(tiny_model), "--masks", str(masks), "--seed", "5",
                 "--out", str(tmp_path / "out")]) == 0
    assert "split 80/10/10 into train, valid and test anew (seed 5)" in capsys.readouterr().err


def test_a_fresh_phantom_dialog_shows_its_options_without_scrolling(qtbot):
    """The dialog is sized once its style is known: nothing to scroll before a result."""
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog

    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.scroll.viewport().height() >= dialog.scroll.widget().sizeHint().height()


def test_phantom_dialog_writes_a_dataset_the_browser_opens(qtbot, tmp_path):
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog
    from engine.data.manifest import read_manifest

    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.start_button.isEnabled()  # no output yet
    dialog.count.setValue(3)
    dialog.size.setValue(64)
    dialog.phases["ES"].setChecked(False)
    assert dialog.plan.text().startswith("3 patients \u00d7 2 views \u00d7 1 instant = 6 pairs")
    out = tmp_path / "phantom"
    dialog.output.set_path(out)
    assert dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.made, timeout=TIMEOUT) as done:
        dialog.start_button.click()
    assert done.args[0] == str(out.resolve())
    manifest = read_manifest(out)
    assert sum(manifest["counts"].values()) == 6
    assert sorted(p.name.split("_", 1)[1] for p in out.glob("*/label/*.png")) == \
        sorted(["2CH_ED.png", "4CH_ED.png"] * 3)
    assert "Made 6 pairs" in dialog.status.text() and dialog.open_button.isEnabled()
    assert_result_scrolls_with_buttons_on_screen(dialog)
    with qtbot.waitSignal(dialog.openRequested) as opened:
        dialog.open_button.click()
    assert opened.args[0] == str(out.resolve())
    dialog.views["2CH"].setChecked(False)
    dialog.views["4CH"].setChecked(False)
    assert not dialog.start_button.isEnabled() and "view" in dialog.problem()


def job_finished(qtbot, dialog) -> None:
    """Let the job's thread end and the signals it sent last (finished) reach the dialog."""
    assert dialog.task.wait(TIMEOUT / 1000)
    qtbot.waitUntil(lambda: not dialog.running and dialog.close_button.isEnabled(), timeout=TIMEOUT)


def test_a_phantom_hdf5_file_does_not_offer_the_dataset_browser(qtbot, tmp_path):
    """The browser opens folders: after an HDF5 phantom its button stays off, also once the
    job has finished (which updates the buttons again); a folder phantom turns it on."""
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog

    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.count.setValue(1)
    dialog.size.setValue(32)
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    dialog.output.set_path(tmp_path / "phantom.h5")
    with qtbot.waitSignal(dialog.made, timeout=TIMEOUT) as done:
        dialog.start_button.click()
    assert done.args[0] == str((tmp_path / "phantom.h5").resolve())
    job_finished(qtbot, dialog)
    assert not dialog.open_button.isEnabled()

    dialog.format.setCurrentIndex(dialog.format.findData("folders"))
    dialog.output.set_path(tmp_path / "folders")
    with qtbot.waitSignal(dialog.made, timeout=TIMEOUT):
        dialog.start_button.click()
    job_finished(qtbot, dialog)
    assert dialog.open_button.isEnabled()


def test_quitting_while_a_job_runs_asks_first(qtbot, tmp_path, tiny_model, monkeypatch):
    from types import SimpleNamespace

    from PySide6.QtWidgets import QMessageBox

    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    try:
        tools = window.data_tools
        assert tools.confirm_close()  # nothing running: nothing to ask
        window.commands["export_batch"].trigger()
        tools.export_dialog.task = SimpleNamespace(running=True, cancel=lambda: None, wait=lambda timeout: True)
        asked = []
        monkeypatch.setattr(QMessageBox, "question", staticmethod(
            lambda parent, title, text, *a: asked.append(text) or QMessageBox.StandardButton.Cancel))
        assert not tools.confirm_close() and "An export is still running" in asked[0]
        window.close()
        assert window.isVisible()  # the close was cancelled
        monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a: QMessageBox.StandardButton.Yes))
        assert tools.confirm_close()
        tools.export_dialog.task = None
    finally:
        close_window(window)


def test_the_export_dialog_says_when_it_is_reading_masks(qtbot, tmp_path):
    from engine.export.sources import READING
    from engine.progress import Progress

    dialog = export_dialog(qtbot, "simulator", tmp_path / "out", "png")
    dialog._progressed(Progress(READING, 16, 40, "p15_4CH_ED.png"))
    assert dialog.status.text().startswith("Reading masks: 16 of 40") and "patients" not in dialog.status.text()
    dialog._progressed(Progress("export", 3, 10))
    assert dialog.status.text() == "Synthesizing: 3 of 10 patients"


# -- export: cine loops --------------------------------------------------------------------
@pytest.fixture(scope="module")
def phantom_masks(tmp_path_factory) -> Path:
    """The masks of a one-patient phantom dataset (2CH and 4CH at ED and ES, 32 px)."""
    folder = tmp_path_factory.mktemp("cine") / "phantom"
    write_phantom(folder, count=1, size=32, seed=0)
    return folder / "train" / "label"


def cine_dialog(qtbot, tiny_model, out, fmt: str, fps: float = 10, bpm: float = 100, cycle: str = "half"):
    """An export dialog with Cine loops ticked: one generated patient, 32-pixel masks."""
    dialog = export_dialog(qtbot, tiny_model, out, fmt)
    dialog.random_count.setValue(1)
    dialog.size.setValue(32)
    dialog.cine.enabled.setChecked(True)
    dialog.cine.fps.setValue(fps)
    dialog.cine.bpm.setValue(bpm)
    dialog.cine.cycle.setCurrentIndex(dialog.cine.cycle.findData(cycle))
    return dialog


def ask_too_many_frames(cine) -> None:
    """The fastest frame rate over a full cycle at the slowest heart rate: more frames than a loop may have."""
    cine.fps.setValue(cine.fps.maximum())
    cine.bpm.setValue(cine.bpm.minimum())
    cine.cycle.setCurrentIndex(cine.cycle.findData("full"))


def test_cine_loops_are_written_with_the_frames_and_format_chosen(qtbot, tmp_path, tiny_model, phantom_masks):
    """Ticked, Cine loops runs export --cine: each patient view one loop of as many frames
    as the frame rate, heart rate and cycle give, in the format chosen; the note before and
    the result line after speak of loops."""
    out = tmp_path / "loops"
    dialog = cine_dialog(qtbot, tiny_model, out, "nifti")  # 10 fps at 100 bpm, ED -> ES: 3 frames
    dialog.use_masks.setChecked(True)
    dialog.masks.set_path(phantom_masks)
    assert "3 frames a loop" in dialog.cine.frames.text()
    assert "Will write loops in loops/" in dialog.layout_note.text() and "_half_sequence" in dialog.layout_note.text()
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as done:
        dialog.start_button.click()
    assert [(s["view"], s["frames"]) for s in done.args[1]["sequences"]] == [("2CH", 3), ("4CH", 3)]
    volumes = sorted(out.glob("database_nifti/*/*_half_sequence.nii.gz"))
    assert [sitk.ReadImage(str(v)).GetSize() for v in volumes] == [(32, 32, 3)] * 2
    assert f"2 loops of 3 frames written as {LAYOUT_NAMES['nifti']} to {out / 'database_nifti'} in " in dialog.status.text()
    result = dialog.summary.text.text()  # the Result box counted the loops' frames as image/label pairs
    # its title names the format, then the folder once (it read "...: loops \u2192 loops")
    assert result.startswith(f"<b>{html.escape(LAYOUT_NAMES['nifti'])} \u2192 loops</b><br>")
    assert "<br>2 loops of 3 frames each from 1 patient<br>train: 2 loops (1 patient)<br>" in result
    assert "pairs" not in result
    # the Result box shown, the notes and the plan are as tall as their text, none cut short
    assert gaps_settle(qtbot, dialog.layout_note, dialog.output_note) == [0, 0]
    dialog.use_random.setChecked(True)
    dialog.resize(dialog.minimumWidth(), dialog.height())  # the plan on more lines
    assert gaps_settle(qtbot, dialog.plan) == [0]

    dialog.use_random.setChecked(True)  # one generated patient, a full cycle of 6 frames, in one HDF5 file
    dialog.cine.cycle.setCurrentIndex(dialog.cine.cycle.findData("full"))
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    dialog.overwrite.setChecked(True)
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        dialog.start_button.click()
    with h5py.File(out / "synthetic.hdf5", "r") as f:
        shapes = [f[s][p][v]["images"].shape for s in f for p in f[s] for v in f[s][p]]
    assert shapes == [(6, 32, 32)] * 2 and not (out / "database_nifti").exists()
    assert f"2 loops of 6 frames written as {LAYOUT_NAMES['hdf5']}" in dialog.status.text()
    assert "<br>2 loops of 6 frames each from 1 patient<br>" in dialog.summary.text.text()


def test_cine_loops_grey_what_loops_cannot_take_and_start_from_the_command_line_s_timing(qtbot, tmp_path,
                                                                                        tiny_model):
    from engine.cli.export import cine_timing
    from engine.cli.main import build_parser
    from engine.data.export_layouts import no_loops_reason

    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out", "nnunet")
    argv = ["export", "--model", "simulator", "--cine", "--random", "1", "--out", "x"]
    assert dialog.cine.timing() == cine_timing(build_parser(argv).parse_args(argv))
    assert not dialog.cine.fps.isEnabled() and dialog.variations.isEnabled()
    item = dialog.format.model().item(dialog.format.findData("nnunet"))
    assert item.isEnabled() and dialog.start_button.isEnabled()
    dialog.cine.enabled.setChecked(True)
    assert dialog.cine.fps.isEnabled() and not dialog.variations.isEnabled() and not dialog.border_jitter.isEnabled()
    for greyed in (dialog.variations, dialog.border_jitter, dialog.like):  # each says why it is greyed
        assert greyed.toolTip().startswith("Cine loops do not take this: untick Cine loops to set it.\n")
    assert dialog.plan.text().startswith("2 patients \u00d7 2 views = 4 loops;")
    assert not item.isEnabled() and item.toolTip() == no_loops_reason("nnunet") == dialog.format.toolTip()
    assert not dialog.start_button.isEnabled() and dialog.start_button.toolTip() == no_loops_reason("nnunet")
    dialog.format.setCurrentIndex(dialog.format.findData("png"))
    assert dialog.start_button.isEnabled() and "a pair per frame" in dialog.layout_note.text()
    ask_too_many_frames(dialog.cine)
    assert not dialog.start_button.isEnabled() and "a loop needs between 2 and" in dialog.start_button.toolTip()
    dialog.cine.enabled.setChecked(False)
    assert item.isEnabled() and dialog.start_button.isEnabled() and dialog.variations.isEnabled()
    assert dialog.variations.toolTip().startswith("Images per mask") and "Cine" not in dialog.like.toolTip()


def test_the_cine_row_adds_one_row_to_the_export_dialog_and_no_width(qtbot, tiny_model):
    """The dialog's least size with the Cine loops row is what it was without it plus a row;
    its warning of too many frames wraps, within the width the dialog is given."""
    dialog = ExportDialog(None, str(tiny_model), "cpu")
    qtbot.addWidget(dialog)
    dialog.show()
    content, form = dialog.scroll.widget(), dialog.options_box.layout()

    def least() -> tuple[int, int]:
        QApplication.processEvents()
        hint = content.minimumSizeHint()
        return hint.width(), hint.height()

    form.setRowVisible(dialog.cine, False)
    width, height = least()
    form.setRowVisible(dialog.cine, True)
    row = dialog.cine.minimumSizeHint().height() + form.verticalSpacing()
    assert least() == (width, height + row)
    dialog.cine.enabled.setChecked(True)
    ask_too_many_frames(dialog.cine)
    assert "a loop needs" in dialog.cine.frames.text()
    assert least()[0] <= dialog.minimumWidth() and least()[1] <= height + 3 * row


def hold_loop_drawing(monkeypatch):
    """(drawing, go): the export's loop drawing sets ``drawing`` at its first progress step,
    then waits until ``go`` is set (10 s at most), so a test acts on a job certainly running."""
    import threading

    from engine.export import cine

    drawing, go = threading.Event(), threading.Event()
    real = cine.synthesize_loop

    def held(synth, loop, progress, **kwargs):
        def said(event):
            progress(event)
            drawing.set()
            go.wait(10)
        return real(synth, loop, progress=said, **kwargs)

    monkeypatch.setattr(cine, "synthesize_loop", held)
    return drawing, go


def test_a_cancelled_cine_export_leaves_no_loop_behind(qtbot, tmp_path, tiny_model, monkeypatch):
    """Cancel pressed while a loop's frames are drawn stops the export there: no loop file,
    no staging folder, no output folder."""
    drawing, go = hold_loop_drawing(monkeypatch)
    out = tmp_path / "out" / "loops"
    dialog = cine_dialog(qtbot, tiny_model, out, "png", fps=40, bpm=60)
    with qtbot.waitSignal(dialog.cancelled, timeout=TIMEOUT):
        dialog.start_button.click()
        assert drawing.wait(TIMEOUT / 1000)
        dialog.cancel_button.click()
        go.set()
    assert not out.exists() and not list(out.parent.glob("*"))
    assert "nothing was written" in dialog.status.text()


def shown_in(dialog, widget) -> bool:
    """Whether ``widget`` lies within the part of ``dialog``'s options scrolled into view (its top,
    for one taller than that part)."""
    viewport = dialog.scroll.viewport()
    top = widget.mapTo(viewport, QPoint(0, 0)).y()
    return 0 <= top and (top + min(widget.height(), viewport.height()) <= viewport.height())


def test_a_job_s_progress_and_its_result_are_scrolled_into_view_in_a_short_dialog(qtbot, tmp_path, tiny_model,
                                                                                   monkeypatch):
    """At 1280 x 800 the export's options, with its notes shown, are taller than the dialog:
    Export started the job out of sight below them, and its Result box came the same way."""
    drawing, go = hold_loop_drawing(monkeypatch)
    dialog = cine_dialog(qtbot, tiny_model, tmp_path / "loops", "png")
    dialog.resize(dialog.width(), 360)
    qtbot.waitUntil(lambda: dialog.scroll.verticalScrollBar().maximum() > 0)
    assert not shown_in(dialog, dialog.status)
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        dialog.start_button.click()
        assert drawing.wait(TIMEOUT / 1000)
        qtbot.waitUntil(lambda: shown_in(dialog, dialog.progress) and shown_in(dialog, dialog.status))
        dialog.scroll.verticalScrollBar().setValue(0)  # the user looks at the options again
        go.set()
    qtbot.waitUntil(lambda: shown_in(dialog, dialog.summary_box) and shown_in(dialog, dialog.status))
    assert "2 loops of 3 frames written" in dialog.status.text()


# -- export: drawing like a dataset, style scale -------------------------------------------
@pytest.fixture(scope="module")
def hearts(tmp_path_factory) -> Path:
    """A phantom dataset whose train split has enough patients for a shape model."""
    folder = tmp_path_factory.mktemp("like") / "hearts"
    write_phantom(folder, count=12, size=64, seed=0)
    return folder


@pytest.fixture
def export_calls(monkeypatch) -> list[dict]:
    """The keyword arguments of every export the dialog starts (the real export runs)."""
    from cardigan_app.data_tools import export_dialog as module

    calls, real = [], module.export_dataset

    def recording(spec, out, **kwargs):
        calls.append(kwargs)
        return real(spec, out, **kwargs)

    monkeypatch.setattr(module, "export_dataset", recording)
    return calls


def cli_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cardigan: error: ")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("cardigan: error: ")


def test_export_dialog_draws_like_a_dataset_with_the_style_scale_asked(qtbot, tmp_path, tiny_model, hearts,
                                                                       export_calls):
    out = tmp_path / "export"
    dialog = export_dialog(qtbot, tiny_model, out, "png")
    assert dialog.like.path() is None and not dialog.like_fallback.isEnabled()  # the CLI's defaults
    assert dialog.style_scale.text() == "Model's own" and dialog.chosen_style_scale() is None
    dialog.like.set_path(hearts)
    dialog.style_scale.setValue(0.5)
    assert dialog.like_fallback.isEnabled() and not dialog.like_fallback.isChecked()
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as done:
        dialog.start_button.click()
    assert len(export_calls) == 1
    assert export_calls[0]["like"] == hearts and export_calls[0]["like_fallback"] is False
    assert export_calls[0]["style_scale"] == 0.5
    manifest = done.args[1]
    assert manifest["options"]["like"] == str(hearts)
    assert manifest["anatomy"]["source"].startswith("a shape model built from")
    assert manifest["anatomy"]["source"].endswith(str(hearts))
    # the tiny model has no style channels: said, in the dialog's words
    assert "has no style channels: Style scale changes nothing" in dialog.status.text()

    dialog.use_masks.setChecked(True)  # drawing like a dataset makes new patients: not for given masks
    assert not dialog.like.isEnabled() and dialog.chosen_like() is None


def test_export_dialog_refuses_a_like_dataset_as_the_command_line_does(qtbot, tmp_path, tiny_model, capsys,
                                                                       export_calls):
    small = tmp_path / "small"
    write_phantom(small, count=3, size=64, seed=0)
    args = ["export", "--model", str(tiny_model), "--random", "1", "--size", "64", "--out", str(tmp_path / "cli")]
    assert main([*args, "--like", str(small)]) == 1
    cli = cli_error(capsys)
    assert cli.startswith(f"--like {small}: a shape model needs") and cli.endswith(
        "(--like-fallback draws from the shipped shape model instead)")
    reason = cli.removeprefix("--like").split(" (--like-fallback")[0]

    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out", "png")
    dialog.random_count.setValue(1)
    dialog.like.set_path(small)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert failed.args[0] == (f'Like dataset{reason} (tick "Fall back to the shipped shape model if it is too '
                              'small" to draw from it instead)')
    assert not (tmp_path / "out").exists()

    dialog.like_fallback.setChecked(True)  # as --like-fallback: said, and the shipped model draws
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT) as done:
        dialog.start_button.click()
    assert export_calls[-1]["like"] == small and export_calls[-1]["like_fallback"] is True
    note = done.args[1]["anatomy"]["source"]  # the record names neither the dialog's option nor --like
    built = reason.removeprefix(f" {small}: ")  # the names alone tell, as they told the command line
    assert built.startswith("a shape model needs at least 8 patients")
    assert note == f"the shipped shape model, as {small} is too small to build one: {built}"
    assert f"Like dataset {small}: {built}; drawing from the shipped shape model instead" in dialog.status.text()

    missing = tmp_path / "no such folder"
    assert main([*args, "--like", str(missing)]) == 1
    cli = cli_error(capsys)
    dialog.like.set_path(missing)
    dialog.output.set_path(tmp_path / "out2")
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert cli == f"--like {missing}: no such dataset or folder of masks"
    assert failed.args[0] == f"Like dataset {missing}: no such dataset or folder of masks"


@pytest.mark.parametrize("typed", ["0", "1.5", "-0.2", "nan", "2"])
def test_export_dialog_passes_no_style_scale_the_command_line_refuses(qtbot, tmp_path, tiny_model, typed,
                                                                      capsys):
    from engine.nets.config import style_scale_problem

    assert main(["export", "--model", str(tiny_model), "--random", "1", "--size", "64", "--style-scale", typed,
                 "--out", str(tmp_path / "cli")]) == 2  # argparse refuses it
    assert "--style-scale" in capsys.readouterr().err and style_scale_problem(typed)

    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out", "png")
    box = dialog.style_scale
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), typed)
    box.interpretText()
    box.editingFinished.emit()
    chosen = dialog.chosen_style_scale()
    assert chosen is None or not style_scale_problem(chosen), (typed, chosen)


@pytest.mark.parametrize("typed", ["0.005", "0.0001", "0.25"])
def test_the_style_scale_box_takes_what_the_command_line_takes_below_a_hundredth(qtbot, tmp_path, tiny_model,
                                                                                 typed):
    """The box had two decimals: --style-scale 0.005 could not be typed (it read 0, the model's own)."""
    from engine.cli.options import style_scale_value

    dialog = export_dialog(qtbot, tiny_model, tmp_path / "out", "png")
    box = dialog.style_scale
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), typed)
    box.interpretText()
    assert dialog.chosen_style_scale() == style_scale_value(typed) and box.text() == typed
    box.setValue(0.4)
    assert box.text() == "0.4"  # no padding zeros
    box.setValue(0)
    assert box.text() == "Model's own" and dialog.chosen_style_scale() is None


def test_the_style_scale_box_spans_what_the_command_line_takes(qtbot, tmp_path, tiny_model):
    from engine.nets.config import style_scale_problem

    box = export_dialog(qtbot, tiny_model, tmp_path / "out", "png").style_scale
    lowest = box.minimum() + 10 ** -box.decimals()
    assert style_scale_problem(box.minimum()) and not style_scale_problem(lowest)  # 0 stands for "the model's own"
    assert not style_scale_problem(box.maximum()) and style_scale_problem(box.maximum() + 10 ** -box.decimals())


def test_the_data_dialogs_show_each_path_placeholder_whole_and_fit_a_small_screen(qtbot, tiny_model):
    """An empty path field says what it takes ("a seed HDF5 file, a CAMUS 2019 / 2023 release
    folder, ..."): the Prepare dialog cut that sentence short at its opening width."""
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog
    from cardigan_app.path_field import PathField
    from cardigan_app.training.wizard import TrainingWizard

    for dialog in (PrepareDialog(), PhantomDialog(), ExportDialog(None, str(tiny_model), "cpu"), TrainingWizard()):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.width() <= 1280 and dialog.height() <= 800, dialog.windowTitle()
        for field in dialog.findChildren(PathField):
            if not field.isVisibleTo(dialog):
                continue
            edit = field.edit
            text_room = edit.width() - 24  # the frame, the margins and the clear button
            assert edit.fontMetrics().horizontalAdvance(edit.placeholderText()) <= text_room, \
                (dialog.windowTitle(), edit.placeholderText())
        dialog.close()


def test_every_control_of_the_data_dialogs_and_the_training_data_page_has_a_tooltip(qtbot, tiny_model):
    """Size, Format and Output of the phantom dialog, Patients, Masks folder, Device and Output
    of the export and the training wizard's data choices said nothing on hover."""
    from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QDialogButtonBox, QLineEdit,
                                   QWidget)

    from cardigan_app.data_tools.phantom_dialog import PhantomDialog
    from cardigan_app.training.wizard import TrainingWizard

    def explained(widget: QWidget, top: QWidget) -> bool:  # Qt shows the nearest tooltip up the parents
        while widget is not None and widget is not top:
            if widget.toolTip():
                return True
            widget = widget.parentWidget()
        return False

    controls = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit)
    for dialog in (PrepareDialog(), PhantomDialog(), ExportDialog(None, str(tiny_model), "cpu"), TrainingWizard()):
        qtbot.addWidget(dialog)
        dialog.show()
        silent = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}" for w in dialog.findChildren(QWidget)
                  if isinstance(w, controls) and w.isVisibleTo(dialog) and not explained(w, dialog)
                  and not isinstance(w.parentWidget(), (QDialogButtonBox, QAbstractSpinBox, QComboBox))
                  and not w.objectName().startswith(("qt_", "__qt__"))]
        assert silent == [], dialog.windowTitle()
        dialog.close()


def test_the_prepared_folder_row_is_named_alike_in_the_prepare_dialog_and_the_training_wizard(qtbot):
    """The same row of the same form read "Output folder" in one and "Prepare into" in the other."""
    from cardigan_app.training.wizard import TrainingWizard

    prepare, wizard = PrepareDialog(), TrainingWizard()
    qtbot.addWidget(prepare)
    qtbot.addWidget(wizard)
    data_page = wizard.page(wizard.startId())

    def row_name(form, field) -> str:
        return form.form_layout.labelForField(field).text()

    assert row_name(data_page.raw_form, data_page.raw_out) == row_name(prepare.form, prepare.output) == "Output folder"


@pytest.mark.parametrize("kind", ["prepare", "phantom", "export"])
def test_the_progress_bar_shows_only_once_a_job_runs_and_nothing_moves_when_it_does(qtbot, tiny_model, kind):
    """The Prepare, Phantom and Export batch dialogs opened with an empty dark progress bar
    before anything ran. It shows once a job starts, hidden again after a failure; its room is
    kept, so the dialog, its status line and its buttons stay where they were."""
    import threading

    from cardigan_app.data_tools.phantom_dialog import PhantomDialog
    from engine.errors import CardiganError

    make = {"prepare": PrepareDialog, "phantom": PhantomDialog,
            "export": lambda: ExportDialog(None, str(tiny_model), "cpu")}[kind]
    dialog = make()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.progress.isVisible()
    def layout():  # the dialog's size (its Size box hides QWidget.size), where its status and Start are
        return (dialog.width(), dialog.height(), dialog.status.geometry(),
                dialog.start_button.mapTo(dialog, dialog.start_button.rect().topLeft()))

    where = layout()
    gate = threading.Event()

    def job(progress, should_stop):
        gate.wait(10)
        raise CardiganError("the source went away")

    dialog.run_task(job, "test job", "Working", lambda _: None)
    try:
        assert dialog.progress.isVisible()
        qtbot.wait(10)
        assert layout() == where
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "the source went away" in dialog.status.text(), timeout=TIMEOUT)
    assert not dialog.progress.isVisible() and dialog.status.geometry().top() == where[2].top()
