"""The class palette: pick the class to paint (keys 0-3), show or hide each class."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QGridLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from engine.labels import BACKGROUND, LABELS, in_sentence

from .. import theme
from ..icons import icon
from .narrow import panel_margins

WIDEST_SHARE = "100 %"  # the widest a class's share of the mask is written (:func:`share_text`)


def share_text(pixels: int, total: int) -> str:
    """A class's share of the mask in percent: one decimal under 10 %, where it tells small
    classes apart, whole percents above (the tooltip gives the pixels)."""
    percent = 100 * pixels / max(1, total)
    return f"{percent:.1f} %" if round(percent, 1) < 10 else f"{percent:.0f} %"


def swatch(color: tuple[int, int, int], size: int = 18) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(150, 150, 150))
    painter.setBrush(QColor(*color))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class LabelPalette(QWidget):
    labelSelected = Signal(int)
    visibilityChanged = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[int, QToolButton] = {}
        self.eyes: dict[int, QToolButton] = {}
        self.count_labels: dict[int, QLabel] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        for row, label in enumerate(LABELS):
            button = QToolButton()
            button.setCheckable(True)
            button.setObjectName("classButton")
            button.setIcon(swatch(label.color))
            button.setIconSize(QSize(18, 18))
            button.setText(f"{label.name}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            what = "paints background (like the eraser)" if label.id == BACKGROUND else f"paints {in_sentence(label.name)}"
            camus = f" — CAMUS: {label.camus_name}" if label.camus_name else ""
            button.setToolTip(f"Class {label.id}: {what}{camus} (key {label.shortcut})")
            button.clicked.connect(lambda _=False, i=label.id: self.labelSelected.emit(i))
            self._group.addButton(button, label.id)
            key = QLabel(label.shortcut)
            key.setAlignment(Qt.AlignmentFlag.AlignCenter)
            key.setToolTip(f"Press {label.shortcut} to select {in_sentence(label.name)}")
            key.setStyleSheet("border: 1px solid #55595f; border-radius: 3px; padding: 0 4px; color: #b8bcc2;")
            count = QLabel("")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count.setStyleSheet(theme.text_style(theme.MUTED))
            count.setToolTip("Pixels of this class in the mask")
            count.setFixedWidth(count.fontMetrics().horizontalAdvance(WIDEST_SHARE))  # no jump as it changes
            grid.addWidget(key, row, 0)
            grid.addWidget(button, row, 1)
            grid.addWidget(count, row, 2)
            if label.id != BACKGROUND:
                eye = QToolButton()
                eye.setCheckable(True)
                eye.setChecked(True)
                eye.setIcon(icon("eye-outline"))
                eye.setAutoRaise(True)
                eye.setFixedWidth(eye.iconSize().width() + 4)  # the icon and its hover frame, no more
                eye.setToolTip(f"Show or hide {in_sentence(label.name)} on the canvas")
                eye.toggled.connect(lambda on, i=label.id: self._toggle_visible(i, on))
                grid.addWidget(eye, row, 3)
                self.eyes[label.id] = eye
            self.buttons[label.id] = button
            self.count_labels[label.id] = count
        grid.setColumnStretch(1, 1)
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {theme.MUTED}; padding-top: 4px;")
        layout = panel_margins(QVBoxLayout(self))
        layout.addLayout(grid)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.setStyleSheet("QToolButton#classButton:checked { background: #2a6eb4; border: 1px solid #6aa8e8;"
                           " border-radius: 3px; color: white; }")
        self.set_active(1)

    def _toggle_visible(self, label: int, visible: bool) -> None:
        self.eyes[label].setIcon(icon("eye-outline" if visible else "eye-off-outline"))
        self.visibilityChanged.emit(label, visible)

    def set_hint(self, text: str) -> None:
        """How to use the current tool, shown under the classes."""
        self.hint.setText(text)

    def set_active(self, label: int) -> None:
        self.buttons[label].setChecked(True)

    def set_counts(self, counts: np.ndarray) -> None:
        total = max(1, int(counts.sum()))
        for label_id, widget in self.count_labels.items():
            n = int(counts[label_id])
            widget.setText(share_text(n, total))
            widget.setToolTip(f"{n} pixels of {total}")
