"""Read-only image panes: the synthesized echo and the real image of a dataset item.

Each shows a greyscale image alone, with the current mask's contours, or blended with the
mask, and follows the canvas's zoom and pan when linked to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from ..imaging import blend, grey_qimage, rgb_qimage, with_contours
from .image_view import ImageView

MODES = ("echo", "contours", "blend")
MODE_NAMES = {"echo": "Image", "contours": "Image + contours", "blend": "Blend with mask"}


class EchoView(ImageView):
    """A greyscale image, optionally with the mask drawn on it (see :data:`MODES`)."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = placeholder
        self.placeholder = placeholder
        self.mode = "echo"
        self.blend_alpha = 0.4
        self._image: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._visible: Sequence[bool] | None = None
        self._picture: QImage | None = None
        self._dirty = True

    @property
    def image(self) -> np.ndarray | None:
        return self._image

    def set_image(self, image: np.ndarray | None) -> None:
        """Show a (H, W) uint8 image (None: the placeholder text)."""
        self._image = image
        self.placeholder = "" if image is not None else self.empty_text
        if image is not None:
            self.set_image_size(image.shape[1], image.shape[0])
        self._dirty = True
        self.update()

    def set_placeholder(self, text: str) -> None:
        self.empty_text = text
        if self._image is None:
            self.placeholder = text
            self.update()

    def set_labels(self, labels: np.ndarray | None, visible: Sequence[bool] | None = None) -> None:
        """The mask drawn in the contour and blend modes (read when the pane repaints)."""
        self._labels = labels
        self._visible = visible
        if self.mode != "echo":
            self._dirty = True
            self.update()

    def labels_changed(self) -> None:
        if self.mode != "echo" and self._image is not None:
            self._dirty = True
            self.update()

    def set_mode(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self._dirty = True
        self.update()

    def set_blend(self, alpha: float) -> None:
        self.blend_alpha = max(0.0, min(1.0, alpha))
        if self.mode == "blend":
            self._dirty = True
            self.update()

    def _compose(self) -> QImage | None:
        image, labels = self._image, self._labels
        if image is None:
            return None
        if self.mode == "echo" or labels is None or labels.shape != image.shape:
            return grey_qimage(image)
        if self.mode == "contours":
            return rgb_qimage(with_contours(image, labels, self._visible))
        return rgb_qimage(blend(image, labels, self.blend_alpha, self._visible))

    def paint_scene(self, painter: QPainter) -> None:
        if self._dirty:  # compose at most once per repaint, however many edits came in
            self._picture = self._compose()
            self._dirty = False
        if self._picture is not None:
            painter.drawImage(QPointF(0, 0), self._picture)


class ReferenceView(EchoView):
    """The real image that belongs to a mask opened from a prepared dataset."""
