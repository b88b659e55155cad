"""The newest sample-preview grid of a run (mask | real | synthesized rows), scaled to fit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .. import theme


class SamplePreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = QLabel("Sample previews appear here")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(160, 160)
        self.picture.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture.setStyleSheet(f"background: #18191c; color: {theme.MUTED};")
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet(theme.text_style(theme.MUTED))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        self.pixmap: QPixmap | None = None
        self.path: Path | None = None
        self.iteration = -1

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    def show_sample(self, path: Path | str, iteration: int) -> bool:
        """Show the grid at ``path``; False when it cannot be read."""
        pixmap = QPixmap(str(path))
        if pixmap.isNull():
            return False
        self.pixmap, self.path, self.iteration = pixmap, Path(path), iteration
        self.caption.setText(f"iteration {iteration}: mask | real | synthesized")
        self.picture.setToolTip(str(path))
        self._rescale()
        return True

    def clear(self) -> None:
        self.pixmap, self.path, self.iteration = None, None, -1
        self.picture.clear()
        self.picture.setText("Sample previews appear here")
        self.caption.setText("")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.pixmap is None:
            return
        size = self.picture.size()
        scaled = self.pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation
                                    if size.width() < self.pixmap.width() else Qt.TransformationMode.FastTransformation)
        self.picture.setPixmap(scaled)
