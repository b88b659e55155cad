"""Edit > Check topology: whether the mask is a plausible heart, and every stray piece.

The rules and the pieces are the engine's (:mod:`engine.anatomy.topology`). A stray piece
the rules tolerate is still drawn by the model (a dark smudge where cavity was left outside
the wall), so each one is listed with its size and place; clicking it shows it on the
canvas. The dialog stays open while the user fixes the mask; Check again re-reads it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from engine.anatomy.topology import Piece

from .. import theme

PLAUSIBLE = "A plausible heart: the cavity is enclosed by its wall and the atrium hangs below it."


class TopologyDialog(QDialog):
    pieceSelected = Signal(object)  # a stray Piece the user clicked
    checkRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Topology check")
        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        self.findings = QListWidget()
        self.findings.setWordWrap(True)
        self.findings.itemClicked.connect(self._clicked)
        self.findings.itemActivated.connect(self._clicked)
        self.hint = QLabel("Click a piece to show it on the mask (Mask tools \u203a Remove small islands "
                           "or the eraser remove it).")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(theme.text_style(theme.MUTED))
        again = QPushButton("Check again")
        again.setToolTip("Check the mask as it is now")
        again.clicked.connect(self.checkRequested.emit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(again, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.findings, 1)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        margins = layout.contentsMargins()  # wide enough to say a plausible heart on one line
        self.setMinimumWidth(max(460, self.headline.fontMetrics().horizontalAdvance(PLAUSIBLE) + 4
                                 + margins.left() + margins.right()))
        self.pieces: list[Piece] = []

    def show_report(self, problems: list[str], stray: list[Piece]) -> None:
        """Show the rules' ``problems`` and every ``stray`` piece (each one clickable)."""
        self.pieces = list(stray)
        self.findings.clear()
        for problem in problems:
            item = QListWidgetItem(f"\u2716 {problem}")
            item.setForeground(QColor(theme.ERROR))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.findings.addItem(item)
        for index, piece in enumerate(stray):
            item = QListWidgetItem(f"\u25ce {piece.describe()}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip("Click to show this piece on the mask")
            self.findings.addItem(item)
        if problems:
            text, colour = "This mask is not a plausible heart:", theme.ERROR
        elif stray:
            count = len(stray)
            text = (f"A plausible heart, but {count} stray piece{'' if count == 1 else 's'}: the model draws "
                    f"{'it' if count == 1 else 'them'} where {'it lies' if count == 1 else 'they lie'}.")
            colour = theme.WARNING
        else:
            text, colour = PLAUSIBLE, theme.OK
        self.headline.setText(text)
        self.headline.setStyleSheet(theme.text_style(colour))
        self.findings.setVisible(bool(problems or stray))
        self.hint.setVisible(bool(stray))

    def _clicked(self, item: QListWidgetItem) -> None:
        index = item.data(Qt.ItemDataRole.UserRole)
        if index is not None and 0 <= index < len(self.pieces):
            self.pieceSelected.emit(self.pieces[index])
