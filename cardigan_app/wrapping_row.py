"""A row of two groups that takes a second line rather than widen the window.

:class:`WrappingRow` holds a ``lead`` group (a pane's title, say) and a ``trail`` group (the
controls that act on the pane). Where the row is wide enough for both at their preferred
widths, they share one line: the lead at its preferred width, the trail in the rest. Narrower
(three panes side by side on a 1280-pixel screen), the trail goes on a line of its own under
the lead. So the row's least width is the wider group's least width, not the two summed, and
a pane's header never makes the window wider than a laptop screen.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLayout, QLayoutItem, QWidget


class WrappingRow(QLayout):
    """``lead`` and ``trail`` (both :class:`QHBoxLayout`) on one line, or on two (module docstring);
    ``gap`` pixels between them on one line, ``line_spacing`` between the two lines."""

    def __init__(self, parent: QWidget | None = None, gap: int = 10, line_spacing: int = 2) -> None:
        super().__init__(parent)
        self.gap, self.line_spacing = gap, line_spacing
        self.lead, self.trail = QHBoxLayout(), QHBoxLayout()
        for group in (self.lead, self.trail):
            group.setContentsMargins(0, 0, 0, 0)
            self.addChildLayout(group)

    # -- QLayout -----------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt's name
        """A widget added to the row itself goes with the trail."""
        self.trail.addItem(item)

    def count(self) -> int:
        return 2

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return (self.lead, self.trail)[index] if 0 <= index < 2 else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return None  # the two groups belong to the row for its whole life

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt's name
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        margins = self.contentsMargins()
        inner = width - margins.left() - margins.right()
        return self._height(self.wraps(inner)) + margins.top() + margins.bottom()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self._with_margins(self.one_line_width(), self._height(False))

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt's name
        width = max(self.lead.minimumSize().width(), self.trail.minimumSize().width())
        return self._with_margins(width, self._height(False))

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt's name
        super().setGeometry(rect)
        margins = self.contentsMargins()
        inner = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        lead_height, trail_height = self.lead.sizeHint().height(), self.trail.sizeHint().height()
        if self.wraps(inner.width()):
            self.lead.setGeometry(QRect(inner.left(), inner.top(), inner.width(), lead_height))
            top = inner.top() + lead_height + self.line_spacing
            self.trail.setGeometry(QRect(inner.left(), top, inner.width(), trail_height))
            return
        height = max(lead_height, trail_height)
        lead_width = min(self.lead.sizeHint().width(), inner.width())
        self.lead.setGeometry(QRect(inner.left(), inner.top(), lead_width, height))
        left = inner.left() + lead_width + self._gap()
        self.trail.setGeometry(QRect(left, inner.top(), inner.right() + 1 - left, height))

    # -- the rule ----------------------------------------------------------------------------
    def one_line_width(self) -> int:
        """The width (inside the margins) both groups need on one line at their preferred widths."""
        return self.lead.sizeHint().width() + self._gap() + self._trail_width()

    def wraps(self, width: int) -> bool:
        """Whether a row ``width`` pixels wide inside its margins puts the trail on a second line."""
        return not self.trail.isEmpty() and width < self.one_line_width()

    def _trail_width(self) -> int:
        return 0 if self.trail.isEmpty() else self.trail.sizeHint().width()

    def _gap(self) -> int:
        return 0 if self.trail.isEmpty() or self.lead.isEmpty() else self.gap

    def _height(self, two_lines: bool) -> int:
        lead, trail = self.lead.sizeHint().height(), self.trail.sizeHint().height()
        if self.trail.isEmpty():
            return lead
        return lead + self.line_spacing + trail if two_lines else max(lead, trail)

    def _with_margins(self, width: int, height: int) -> QSize:
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())
