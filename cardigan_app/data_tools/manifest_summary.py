"""What a finished preparation or export holds: pairs (a cine export's loops) per split and a few thumbnails."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.data.dataset_folder import DatasetFolder, summary_of

from ..imaging import PALETTE, rgb_qimage, thumbnail
from ..panels.dataset_browser import read_grey

THUMB = 96  # a thumbnail's side: four pairs fit beside the Export batch options on a 1280-pixel screen


def summary_lines(manifest: dict) -> list[str]:
    """Readable lines: pairs (or a cine export's loops) and patients per split, labels present, what was skipped."""
    return summary_of(manifest).describe()


def sample_pairs(root: Path, count: int = 4) -> list[tuple[Path, Path]]:
    """Up to ``count`` (image, label) paths, from the train split first."""
    return [(pair.image_path, pair.label_path) for pair in DatasetFolder(root).sample(count)]


class ManifestSummary(QWidget):
    """Counts as text over a row of (image, mask) thumbnails."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        row = QHBoxLayout()
        row.addLayout(self.grid)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(row)
        self.thumbnails: list[QLabel] = []

    def clear(self) -> None:
        self.text.setText("")
        for label in self.thumbnails:
            self.grid.removeWidget(label)
            label.deleteLater()
        self.thumbnails = []

    def show_manifest(self, manifest: dict, root: Path | None, title: str = "") -> None:
        self.clear()
        lines = summary_lines(manifest)
        head = f"<b>{html.escape(title)}</b><br>" if title else ""
        self.text.setText(head + "<br>".join(html.escape(line) for line in lines))
        if root is None:
            return
        for column, (image_path, label_path) in enumerate(sample_pairs(Path(root))):
            image, labels = read_grey(image_path), read_grey(label_path)
            for row, picture in enumerate((thumbnail(image, None, THUMB),
                                           rgb_qimage(PALETTE[labels.clip(0, len(PALETTE) - 1)])
                                           if labels is not None else thumbnail(None, None, THUMB))):
                cell = QLabel()
                cell.setFixedSize(THUMB + 2, THUMB + 2)
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setPixmap(QPixmap.fromImage(picture).scaled(
                    THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
                cell.setToolTip(str(image_path if row == 0 else label_path))
                cell.setStyleSheet("background: #0e0e10; border: 1px solid #3a3d42;")
                self.grid.addWidget(cell, row, column)
                self.thumbnails.append(cell)
