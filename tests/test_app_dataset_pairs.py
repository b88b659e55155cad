"""A prepared dataset's pairs in the studio: opening them from the browser, and saving their masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from cardigan_app import mask_saving
from cardigan_app.dialogs.prompts import DatasetSave
from cardigan_app.testing import drag
from engine.data.layout import is_dataset_label
from engine.maskio import read_label_png, write_label_png


def pair_labels(seed: int, size: int = 64) -> np.ndarray:
    labels = np.zeros((size, size), np.uint8)
    labels[10 + seed:30 + seed, 20:40] = 1
    labels[34:44, 20:40] = 3
    return labels


def small_dataset(root: Path, patients: dict[str, list[str]]) -> Path:
    """``root`` with the 4CH ED pairs of ``patients`` ({split: [patient, ...]}), 64 px."""
    for split, names in patients.items():
        for folder in ("img", "label"):
            (root / split / folder).mkdir(parents=True, exist_ok=True)
        for i, patient in enumerate(names):
            stem = f"{patient}_4CH_ED"
            write_label_png(root / split / "label" / f"{stem}.png", pair_labels(i))
            Image.fromarray(np.full((64, 64), 40 + i, np.uint8)).save(root / split / "img" / f"{stem}.png")
    return root


def test_a_dataset_label_map_is_known_by_its_place():
    assert is_dataset_label(Path("/d/train/label/p_4CH_ED.png"))
    assert not is_dataset_label(Path("/d/train/img/p_4CH_ED.png"))
    assert not is_dataset_label(Path("/d/masks/label/p_4CH_ED.png"))  # "masks" is no split
    assert not is_dataset_label(Path("/d/train/label/p_4CH_ED.nii.gz"))


def test_saving_a_dataset_s_mask_asks_before_writing_over_it(window, tmp_path, qtbot, monkeypatch):
    root = small_dataset(tmp_path / "prepared", {"train": ["patient0001"]})
    label = root / "train" / "label" / "patient0001_4CH_ED.png"
    truth = label.read_bytes()
    answers, asked = [], []
    monkeypatch.setattr(mask_saving, "ask_overwrite_dataset_label",
                        lambda parent, path: asked.append(path) or answers.pop(0))
    suggested = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda parent, title, suggestion, *a: suggested.append(suggestion) or ("", "")))
    assert window.dataset_browser.open_folder(root)
    assert window.open_dataset_item(window.dataset_browser.items[0])
    qtbot.waitUntil(lambda: window.document.path == label, timeout=10_000)
    drag(window.canvas, [(5, 5), (20, 5)])

    answers.append(DatasetSave.CANCEL)
    assert not window.files.save() and asked == [label]
    assert label.read_bytes() == truth and window.document.modified

    answers.append(DatasetSave.SAVE_AS)  # offered a name outside the dataset; cancelled there
    assert not window.files.save()
    assert len(suggested) == 1 and Path(suggested[0]).name == label.name and Path(suggested[0]).parent != label.parent
    assert label.read_bytes() == truth

    answers.append(DatasetSave.OVERWRITE)
    assert window.files.save() and not window.document.modified
    assert (read_label_png(label) == window.document.labels).all()
    drag(window.canvas, [(5, 30), (20, 30)])
    assert window.files.save() and len(asked) == 3  # the file the user chose to write over is not asked about again
    assert (read_label_png(label) == window.document.labels).all()


def test_a_filter_selects_a_pair_it_shows_and_enter_in_it_opens_that_pair(qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from cardigan_app.panels.dataset_browser import DatasetBrowser

    root = small_dataset(tmp_path / "prepared", {"train": ["patient0001", "patient0002", "patient0003"]})
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    assert browser.open_folder(root)
    browser.list.setCurrentRow(0)
    opened = []
    browser.openRequested.connect(lambda pair: opened.append(pair.stem))
    browser.filter.setText("0003")  # hides the pair selected: the one shown is selected instead
    assert browser.list.currentRow() == 2 and browser.hint.text().startswith("Double-click patient0003 4CH ED")
    qtbot.keyClick(browser.filter, Qt.Key.Key_Return)
    qtbot.keyClick(browser.list, Qt.Key.Key_Return)  # the list opens the pair on show, not the one hidden
    assert opened == ["patient0003_4CH_ED"] * 2
    browser.filter.setText("patient")  # the pair selected is still shown: it stays selected
    assert browser.list.currentRow() == 2
    browser.filter.setText("nobody")
    qtbot.keyClick(browser.filter, Qt.Key.Key_Return)
    assert len(opened) == 2  # a filter that shows nothing opens nothing
    browser.shutdown()


def test_a_filter_that_finds_nothing_in_the_split_says_which_splits_hold_it(qtbot, tmp_path):
    from cardigan_app.panels.dataset_browser import DatasetBrowser

    root = small_dataset(tmp_path / "prepared", {"train": ["patient0001", "patient0002"],
                                                 "valid": ["patient0003"], "test": ["patient0004"]})
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    assert browser.open_folder(root, "valid")
    browser.filter.setText("patient0001")
    assert browser.hint.text() == "No pair's name contains \u201cpatient0001\u201d in valid; 1 in train (choose the split above)"
    browser.filter.setText("4CH_ED")
    assert browser.hint.text().startswith("Double-click patient0003")
    browser.filter.setText("nobody")
    assert browser.hint.text() == "No pair's name contains \u201cnobody\u201d"  # in no split
    browser.shutdown()


def test_alt_down_and_alt_up_step_through_the_pairs_the_filter_shows(active_window, tmp_path, qtbot, monkeypatch):
    """Also: Ctrl+Shift+O showed the browser with the focus left on the canvas, its filter some
    fifty Tabs away; the focus goes to the filter once a folder shows (Esc hands it back)."""
    from PySide6.QtCore import Qt

    window, browser = active_window, active_window.dataset_browser
    root = small_dataset(tmp_path / "prepared", {"train": ["p1x", "p2", "p3x"]})
    labels = {name: root / "train" / "label" / f"{name}_4CH_ED.png" for name in ("p1x", "p2", "p3x")}
    answers, asked = [], []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: asked.append(text) or answers.pop(0)))
    browse = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    chosen = [""]  # the folder dialog cancelled first: the keys stay where they were
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: chosen.pop(0)))
    qtbot.keyClick(window.canvas, Qt.Key.Key_O, browse)
    assert browser.root is None and QApplication.focusWidget() is window.canvas
    chosen.append(str(root))
    qtbot.keyClick(window.canvas, Qt.Key.Key_O, browse)
    assert browser.root == root and QApplication.focusWidget() is browser.filter
    qtbot.keyClick(browser.filter, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is window.canvas
    assert window.commands["next_pair"].shortcut().toString() == "Alt+Down"

    def step(key) -> None:
        qtbot.keyClick(window.canvas, key, Qt.KeyboardModifier.AltModifier)

    step(Qt.Key.Key_Down)  # none selected: the first pair
    qtbot.waitUntil(lambda: window.document.path == labels["p1x"], timeout=10_000)
    step(Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: window.document.path == labels["p2"], timeout=10_000)
    assert browser.list.currentRow() == 1  # the list follows the pair on screen
    browser.filter.setText("x")  # hides p2, the pair selected: p1x is selected instead
    step(Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: window.document.path == labels["p3x"], timeout=10_000)
    assert browser.list.currentRow() == 2
    step(Qt.Key.Key_Down)  # the last pair shown: nothing after it
    assert window.document.path == labels["p3x"] and "no pair after" in window.statusBar().currentMessage()

    drag(window.canvas, [(5, 5), (20, 5)])
    edited = window.document.labels.copy()
    answers.append(QMessageBox.StandardButton.Cancel)
    step(Qt.Key.Key_Up)  # asked first: cancelled, the edits stay on screen
    assert len(asked) == 1 and "unsaved changes" in asked[0]
    assert window.document.path == labels["p3x"] and (window.document.labels == edited).all()
    assert browser.list.currentRow() == 2
    answers.append(QMessageBox.StandardButton.Discard)
    window.commands["previous_pair"].trigger()  # Data > Previous pair, p2 hidden by the filter
    qtbot.waitUntil(lambda: window.document.path == labels["p1x"], timeout=10_000)
    assert browser.list.currentRow() == 0 and len(asked) == 2
    qtbot.keyClick(window.canvas, Qt.Key.Key_O, browse)  # the folder shown already: to its filter again
    assert QApplication.focusWidget() is browser.filter and browser.root == root


def test_an_es_pair_opens_as_the_es_key_frame_beside_its_ed_pair(window, tmp_path, qtbot, monkeypatch):
    root = small_dataset(tmp_path / "prepared", {"train": ["p1", "p2"]})
    label, image = root / "train" / "label", root / "train" / "img"
    write_label_png(label / "p1_4CH_ES.png", pair_labels(5))
    es_image = np.full((64, 64), 99, np.uint8)
    Image.fromarray(es_image).save(image / "p1_4CH_ES.png")
    write_label_png(label / "p2_2CH_ES.png", pair_labels(7))  # no 2CH ED of p2: opens alone
    browser = window.dataset_browser
    assert browser.open_folder(root)
    assert [pair.stem for pair in browser.items] == ["p1_4CH_ED", "p1_4CH_ES", "p2_2CH_ES", "p2_4CH_ED"]

    assert window.open_dataset_item(browser.items[1])
    frames = window.key_frames
    qtbot.waitUntil(lambda: frames.frames["ES"] is not None and frames.es.path == label / "p1_4CH_ES.png",
                    timeout=10_000)
    assert window.state.key_frame == "ES" and window.document is frames.es
    assert frames.ed.path == label / "p1_4CH_ED.png" and (frames.ed.labels == pair_labels(0)).all()
    assert (window.document.labels == pair_labels(5)).all() and (window.under_image.image == es_image).all()
    assert browser.list.currentRow() == 1 and window.statusBar().currentMessage().startswith(
        "Opened p1_4CH_ES.png (64 \u00d7 64) with its ED key frame p1_4CH_ED.png")
    window.state.set("key_frame", "ED")
    assert window.document is frames.ed and not (window.under_image.image == es_image).all()  # ED's own image

    # the ES pair once more, ED edited: the key frame on screen is switched to, nothing read again
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Cancel))
    ed, es = frames.ed, frames.es
    drag(window.canvas, [(5, 5), (20, 5)])
    assert window.open_dataset_item(browser.items[1]) and asked == []
    assert window.state.key_frame == "ES" and (frames.ed, frames.es) == (ed, es) and ed.modified
    assert window.open_dataset_item(browser.items[0]) and window.document is ed and asked == []
    ed.mark_saved()
    window.workspace.referenceClosed.emit()  # the pair on screen without its image
    assert window.under_image.image is None
    assert window.open_dataset_item(browser.items[0])  # read again, to show its image
    qtbot.waitUntil(lambda: frames.ed is not ed and window.under_image.image is not None, timeout=10_000)
    # File > Open of a dataset's mask (a recent file, a recovered pair) shows its image too, and its ES pair's
    assert window.files.open_path(label / "p1_4CH_ES.png", confirmed=True)
    qtbot.waitUntil(lambda: window.document.path == label / "p1_4CH_ES.png", timeout=10_000)
    assert (window.under_image.image == es_image).all()
    assert window.files.open_path(label / "p1_4CH_ED.png", confirmed=True)
    qtbot.waitUntil(lambda: window.document.path == label / "p1_4CH_ED.png", timeout=10_000)
    assert window.under_image.image is not None and not (window.under_image.image == es_image).all()
    window.state.set("key_frame", "ES")
    assert (window.under_image.image == es_image).all()

    assert window.open_dataset_item(browser.items[2])
    qtbot.waitUntil(lambda: window.document.path == label / "p2_2CH_ES.png", timeout=10_000)
    assert window.state.key_frame == "ED" and frames.frames["ES"] is None


def test_the_dataset_info_line_names_only_the_splits_the_folder_has(qtbot, tmp_path):
    import json

    from cardigan_app.panels.dataset_browser import DatasetBrowser

    root = small_dataset(tmp_path / "prepared", {"train": ["patient0001", "patient0002"]})
    manifest = {"source": {"format": "phantom"}, "counts": {"train": 2, "valid": 0, "test": 0}}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")  # as phantom --count 2 writes
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    assert browser.open_folder(root)
    assert browser.info.text().split(", ")[1:] == ["train: 2"], browser.info.text()
    browser.shutdown()

