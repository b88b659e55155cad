"""The questions in ``cardigan_app.dialogs.prompts`` answered as a user would: a button
clicked, or Esc."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from cardigan_app.dialogs.prompts import (Choice, CloseChoice, DatasetSave, ask_overwrite_dataset_label, ask_recovery,
                                          ask_stop_loop_for_close)


def answered(qtbot, ask, press):
    """What ``ask()`` returns when ``press(box)`` acts on the question once it is up; the
    question's texts and buttons as seen."""
    seen = {}

    def act() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, act)
            return
        seen["text"] = box.text()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        seen["default"] = box.defaultButton().text()
        press(box)

    QTimer.singleShot(0, act)
    return ask(), seen


def click(label):
    return lambda box: next(b for b in box.buttons() if b.text() == label).click()


def escape(box):
    QTest.keyClick(box, Qt.Key.Key_Escape)


@pytest.mark.parametrize("press, expected", [(click("Stop and close"), CloseChoice.STOP),
                                             (click("Close when written"), CloseChoice.WAIT),
                                             (click("Cancel close"), CloseChoice.CANCEL),
                                             (escape, CloseChoice.CANCEL)])
def test_the_loop_close_question_gives_the_answer_clicked(qtbot, press, expected):
    choice, seen = answered(qtbot, lambda: ask_stop_loop_for_close(None, "heart.gif"), press)
    assert choice is expected
    assert seen["text"] == "A loop is being written to heart.gif. Stop it and close?"
    assert seen["buttons"] == ["Cancel close", "Close when written", "Stop and close"]
    assert seen["default"] == "Close when written"


@pytest.mark.parametrize("press, expected", [(click("Recover"), Choice.SAVE), (click("Discard"), Choice.DISCARD),
                                             (click("Later"), Choice.CANCEL), (escape, Choice.CANCEL)])
def test_the_recovery_question_gives_the_answer_clicked(qtbot, press, expected):
    choice, seen = answered(qtbot, lambda: ask_recovery(None, "untitled, 3 edits"), press)
    assert choice is expected
    assert "Recover the mask it was editing (untitled, 3 edits)?" in seen["text"]
    assert seen["buttons"] == ["Discard", "Later", "Recover"] and seen["default"] == "Recover"


def keys(*pressed):
    """Press ``pressed`` keys in turn on the widget of the question that has the focus;
    Tab ends on the button named after it ("Tab:Overwrite"), however the style orders them."""
    def press(box) -> None:
        box.activateWindow()  # as a window manager makes it: the keys go where its focus is
        for _ in range(500):
            if box.isActiveWindow():
                break
            QTest.qWait(10)
        for key in pressed:
            if key.startswith("Tab:"):
                for _ in box.buttons():
                    if getattr(QApplication.focusWidget(), "text", lambda: "")() == key[4:]:
                        break
                    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            else:
                QTest.keyClick(QApplication.focusWidget(), getattr(Qt.Key, f"Key_{key}"))
    return press


@pytest.mark.parametrize("press, expected", [(keys("Return"), DatasetSave.SAVE_AS),
                                             (keys("Escape"), DatasetSave.CANCEL),
                                             (keys("Tab:Overwrite", "Space"), DatasetSave.OVERWRITE),
                                             (keys("Tab:Cancel", "Space"), DatasetSave.CANCEL)])
def test_the_dataset_mask_question_is_answered_by_keys_alone_enter_keeping_the_dataset(qtbot, tmp_path, press,
                                                                                      expected):
    label = tmp_path / "prepared" / "train" / "label" / "p_4CH_ED.png"
    choice, seen = answered(qtbot, lambda: ask_overwrite_dataset_label(None, label), press)
    assert choice is expected
    assert seen["buttons"] == ["Cancel", "Overwrite", "Save as\u2026"] and seen["default"] == "Save as\u2026"
