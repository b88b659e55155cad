"""The questions in ``cardigan_app.dialogs.prompts`` answered as a user would: a button
clicked, or Esc."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from cardigan_app.dialogs.prompts import (Choice, CloseChoice, ask_recovery, ask_stop_loop_for_close)


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
