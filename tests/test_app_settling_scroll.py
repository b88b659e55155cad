"""A scroll area whose content's height follows its width fits it once per resize: Qt's own
answer to each resize of its content, nested in the last, went back and forth until the stack
ran out (a crash in the Export batch dialog, with wrapped notes and a scroll bar that took
width as it showed)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QScrollArea, QWidget

from cardigan_app.fitted_label import SettlingScrollArea

ENOUGH = 200  # flips the content makes before it settles by itself: far more than a fit needs


class Flipping(QWidget):
    """Content whose least height follows its present size, as a wrapped note's follows its
    width: tall while it is short and short while it is tall, for ``ENOUGH`` answers (then
    short, so an area without the guard ends instead of crashing)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        self.answers += 1
        tall = self.answers < ENOUGH and self.height() < 600
        return QSize(50, 700 if tall else 400)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(50, 400)


def answers_to_resizes(qtbot, area: QScrollArea) -> int:
    """How often the area asked its content for its size over three resizes by the user."""
    content = Flipping()
    area.setWidgetResizable(True)
    area.setWidget(content)
    qtbot.addWidget(area)
    area.resize(300, 500)
    area.show()
    qtbot.waitExposed(area)
    before = content.answers
    for width in (280, 320, 260):
        area.resize(width, 500)
    return content.answers - before


def test_a_settling_scroll_area_fits_its_content_without_nesting(qtbot):
    assert answers_to_resizes(qtbot, SettlingScrollArea()) < 30


def test_the_content_would_nest_resizes_in_a_plain_scroll_area(qtbot):
    """What the guard is for: the same content in Qt's own scroll area."""
    assert answers_to_resizes(qtbot, QScrollArea()) >= ENOUGH // 2


def test_the_job_dialogs_scroll_in_a_settling_area(qtbot, tmp_path):
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog

    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    assert isinstance(dialog.scroll, SettlingScrollArea)
