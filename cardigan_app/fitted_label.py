"""A word-wrapped label as tall as its text at the width it is given, in a form.

A word-wrapped :class:`QLabel` asks its layout for a height for each width (height for width).
:class:`QFormLayout` does not honour that in every row: a row with no label on its left keeps
the label's own preferred height, which is the text's height at the narrow width QLabel
prefers, so a one-line note under a field sat between blank lines; and at some widths the form
gives a labelled row the height its field would need at another width, clipping a wrapped
line. A :class:`FittedLabel` reports no height for width: its preferred and least height are
its text's height at the width it has (at its preferred width before a layout placed it), and
it asks for a new layout when a new width changes that height. Every layout then gives it
its text's height, as it would give a one-line label.

Such labels make a scroll area's content as tall as its width wants, and a
:class:`QScrollArea` that resizes its content (``widgetResizable``) answers each resize of it
by working out its size again and resizing it: with heights that follow widths, and a scroll
bar that takes width when it shows, that could go back and forth without end, each answer
nested in the last, until the stack ran out and the process died. Put them in a
:class:`SettlingScrollArea`, which answers a resize of its content once, not again from
inside its own answer.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QWidget


class FittedLabel(QLabel):
    """A word-wrapped :class:`QLabel` as tall as its text at its present width (module docstring)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return False

    def text_height(self, width: int) -> int:
        """The height the text takes at ``width`` pixels, margins included."""
        return super().heightForWidth(width)

    def placed_width(self) -> int:
        """The width a layout gave the label, or its preferred width before one did."""
        if self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            return self.width()
        return super().sizeHint().width()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(super().sizeHint().width(), self.text_height(self.placed_width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        old, new = event.oldSize().width(), event.size().width()
        if old != new and (old < 0 or self.text_height(old) != self.text_height(new)):
            self.updateGeometry()  # the height reported for the old width is wrong now


class SettlingScrollArea(QScrollArea):
    """A :class:`QScrollArea` that fits its content to a resize of it once, not again from
    inside that fitting (module docstring): the resize it makes itself is left for the layout
    that follows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fitting = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.Resize or watched is not self.widget():
            return super().eventFilter(watched, event)
        if self._fitting:
            return False
        self._fitting = True
        try:
            return super().eventFilter(watched, event)
        finally:
            self._fitting = False
