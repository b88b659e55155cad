"""What keeps the side panels narrow, so the images get the width of a laptop screen.

Each column of panels (left: labels, anatomy, dataset; right: model, seed and variations)
needs at most :data:`COLUMN_WIDTH` pixels. A panel gets there without cutting what matters:
its margins are :data:`MARGIN`; a combo box is as narrow as a few characters, ends a longer
entry short with "…" and names it whole in its tooltip and its list (:class:`NarrowCombo`); a
form puts a field under its label when they do not fit side by side (:func:`wrapping_form`), and
the model's summary each value under its key likewise;
pictures scale to the panel's width.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QComboBox, QFormLayout, QLayout, QStyle, QStyleOptionComboBox, QStylePainter, QWidget

COLUMN_WIDTH = 215  # the most a side column's panels need, in pixels
MARGIN = 6  # around a panel's content


def panel_margins(layout: QLayout) -> QLayout:
    """``layout`` (a panel's outer layout) with the panels' margins."""
    layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
    return layout


class NarrowCombo(QComboBox):
    """A combo box as narrow as ``characters`` characters: a longer entry chosen is cut short
    with "…" (at its end, or where ``elide`` says) and the tooltip gives it whole, then the
    entry's own tooltip (a model's file) and ``about`` (what the combo is for); its list opens
    as wide as its longest entry, once ``popupOpening`` has been told."""

    popupOpening = Signal()

    def __init__(self, characters: int = 10, about: str = "",
                 elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.about = about
        self.elide = elide
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(characters)
        self.currentIndexChanged.connect(lambda _: self.tell_whole_text())
        self.tell_whole_text()

    def _text_room(self, option: QStyleOptionComboBox) -> int:
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        icon = 0 if option.currentIcon.isNull() else option.iconSize.width() + 4
        return field.width() - icon - 2

    def shown_text(self) -> str:
        """The chosen entry as the combo shows it at its present width."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        return self.fontMetrics().elidedText(self.currentText(), self.elide, self._text_room(option))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.tell_whole_text()

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.popupOpening.emit()  # whoever fills the list may bring it up to date first
        widest = max((self.fontMetrics().horizontalAdvance(self.itemText(i)) for i in range(self.count())), default=0)
        extra = self.iconSize().width() + 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.view().setMinimumWidth(widest + extra)
        super().showPopup()

    def tell_whole_text(self) -> None:
        """The tooltip for the entry chosen: its text when cut short, its own tooltip, what the
        combo is for (called again by whoever refills the combo with its signals blocked)."""
        text = self.currentText()
        whole = text if self.shown_text() != text else ""
        own = self.currentData(Qt.ItemDataRole.ToolTipRole) or ""
        self.setToolTip("\n".join(part for part in (whole, "" if own == text else own, self.about) if part))


def wrapping_form(form: QFormLayout) -> QFormLayout:
    """``form`` with each field beside its label where they fit, under it where they do not."""
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form
