"""One name for each key frame, short and never a name in a name, said alike by the window
title, the unsaved-changes question, the save dialog and the suggested file names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cardigan_app.cine.key_frames import es_frame_of
from cardigan_app.dialogs.new_mask import NewMaskChoice
from cardigan_app.document_names import file_stem, key_frame_name, loop_stem
from cardigan_app.editing import LabelDocument
from engine.anatomy import template_mask
from engine.maskio import write_label_png

ES = "\u00b7 ES"


def names(frames) -> tuple[str, str]:
    return key_frame_name(frames["ED"], frames), key_frame_name(frames["ES"], frames)


def untitled_heart(seed: int = 89) -> LabelDocument:
    return NewMaskChoice(True, "4CH", "ED", seed, 64).document()


def test_an_untitled_heart_and_its_es_frame_are_named_by_the_heart_once():
    ed = untitled_heart()
    assert key_frame_name(ed, {"ED": ed, "ES": None}) == "Untitled heart #89, 4CH"
    frames = {"ED": ed, "ES": es_frame_of(ed)}
    assert names(frames) == ("Untitled heart #89, 4CH \u00b7 ED", f"Untitled heart #89, 4CH {ES}")
    assert [file_stem(frames[key], frames) for key in ("ED", "ES")] == ["heart_89_4CH_ED", "heart_89_4CH_ES"]
    assert loop_stem(frames) == "heart_89_4CH"
    blank = NewMaskChoice(False, "4CH", "ED", 0, 64).document()
    frames = {"ED": blank, "ES": es_frame_of(blank)}
    assert names(frames) == ("Untitled blank mask \u00b7 ED", f"Untitled blank mask {ES}")
    assert file_stem(frames["ES"], frames) == "untitled_ES"


def test_a_saved_ed_file_names_its_es_frame_with_or_without_a_file_of_its_own(tmp_path):
    ed = LabelDocument(template_mask("4CH", "ED", seed=2, size=64), path=tmp_path / "p_4CH_ED.png")
    frames = {"ED": ed, "ES": es_frame_of(ed)}
    assert names(frames) == ("p_4CH_ED.png", f"p_4CH_ED.png {ES}")
    assert file_stem(frames["ES"], frames) == "p_4CH_ES" and loop_stem(frames) == "p_4CH"
    frames["ES"].path = tmp_path / "p_4CH_ES.png"
    assert names(frames) == ("p_4CH_ED.png", "p_4CH_ES.png")
    ed.path = tmp_path / "case.png"  # a name that does not say its key frame gets the dot
    frames["ES"].path = tmp_path / "case_ES.png"
    assert names(frames) == ("case.png \u00b7 ED", "case_ES.png")


def test_a_camus_ground_truth_and_a_volume_slice_are_named_by_their_files(tmp_path):
    camus = LabelDocument(np.zeros((12, 10), np.uint8), path=tmp_path / "patient0001_4CH_ED_gt.mhd")
    frames = {"ED": camus, "ES": es_frame_of(camus)}
    assert names(frames) == ("patient0001_4CH_ED_gt.mhd", f"patient0001_4CH_ED_gt.mhd {ES}")
    assert file_stem(camus, frames) == "patient0001_4CH_ED_gt"
    volume = LabelDocument(np.zeros((8, 8), np.uint8), path=tmp_path / "loop_seg.nii.gz")
    volume.slice = (2, 5)
    assert key_frame_name(volume, {"ED": volume, "ES": None}) == "loop_seg.nii.gz, slice 3"
    volume.slice = (0, 1)  # a volume of one slice: nothing to say
    assert key_frame_name(volume, {"ED": volume, "ES": None}) == "loop_seg.nii.gz"


@pytest.fixture
def asked(monkeypatch):
    """The texts of the questions asked (each answered Cancel) and the save dialogs' titles and
    suggested names (each cancelled)."""
    record = {"question": [], "save": []}
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: record["question"].append(text) or QMessageBox.StandardButton.Cancel))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, suggestion, *a, **k: record["save"].append((title, Path(suggestion).name)) or ("", "")))
    return record


def test_the_title_the_close_question_and_save_say_one_name_in_each_state(window, tmp_path, asked, qtbot):
    def said() -> tuple[str, str, tuple[str, str]]:
        window._refresh_document_ui()
        asked["question"].clear()
        asked["save"].clear()
        window.files.confirm_discard("closing")
        window.files.save_as()
        return window.windowTitle().split("[*]")[0], asked["question"][0].split(" has unsaved")[0], asked["save"][0]

    window.set_document(untitled_heart())
    window.document.fill(2, 2, 3)
    window.commands["key_frame"].trigger()
    window.document.fill(60, 60, 1)
    title, question, save = said()
    assert title == f"Untitled heart #89, 4CH {ES}" and "(" not in asked["question"][0]
    assert asked["question"][0].startswith("Untitled heart #89, 4CH \u00b7 ES and ED have unsaved")
    assert save == (f"Save {title} as", "heart_89_4CH_ES.png")

    window.anatomy_panel.start_from_anatomy(ask=False)  # New heart on ES: both frames hold it, both say it
    heart = window.files.frame_name(window.key_frames.frames["ED"]).split(",")[0]
    assert heart != "Untitled heart #89" and window.files.frame_name(window.document).startswith(heart + ",")

    for frame in window.key_frames.frames.values():
        frame.mark_saved()
    ed = tmp_path / "p_4CH_ED.png"
    write_label_png(ed, template_mask("4CH", "ED", seed=2, size=64))
    assert window.files.open_path(ed)
    window.commands["key_frame"].trigger()
    window.document.fill(60, 60, 1)
    title, question, save = said()
    assert title == question == f"p_4CH_ED.png {ES}" and save == (f"Save {title} as", "p_4CH_ES.png")
