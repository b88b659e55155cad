"""A one-line label that is cut short honestly: given less room than its text needs, it ends
the text with an ellipsis (never a clipped word or number, which reads as another value) and
its tooltip gives the whole text."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget


class ElidedLabel(QLabel):
    """A plain-text :class:`QLabel` that may shrink to ``least_width`` pixels, showing "…" for
    what does not fit; ``about`` is its tooltip, with the whole text above it while it is cut."""

    def __init__(self, text: str = "", about: str = "", least_width: int = 1,
                 parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.about, self.least_width = about, least_width
        self._tell_whole_text()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._tell_whole_text()

    def shown_text(self) -> str:
        """The text as the label shows it at its present width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def is_cut(self) -> bool:
        return self.shown_text() != self.text()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.least_width, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.shown_text(), self.foregroundRole())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._tell_whole_text()

    def _tell_whole_text(self) -> None:
        whole = self.text() if self.text() and self.is_cut() else ""
        self.setToolTip("\n".join(part for part in (whole, self.about) if part))
