"""Read-only image panes: the synthesized echo and the real image of a dataset item.

Each shows a greyscale image alone, with the current mask's contours, or blended with the
mask, and follows the canvas's zoom and pan when linked to it. The real image is shown through
a window/level (:mod:`cardigan_app.contrast`) that a right-button drag, or Ctrl + drag, sets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QWidget

from ..contrast import Window, apply_window, dragged, own_window
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

    def shown_image(self) -> np.ndarray | None:
        """The (H, W) uint8 grey image as the pane shows it (before the mask is drawn on it)."""
        return self._image

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
        image, labels = self.shown_image(), self._labels
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


def is_contrast_press(event: QMouseEvent) -> bool:
    """A press that starts a contrast drag: the right button, or the left one with Ctrl."""
    return (event.button() == Qt.MouseButton.RightButton
            or (event.button() == Qt.MouseButton.LeftButton
                and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)))


class ReferenceView(EchoView):
    """The real image a mask is traced over (or a dataset item's), shown through a window/level.

    A right-button drag (or Ctrl + left drag, for a touchpad) sets it as in 3D Slicer and
    ITK-SNAP: sideways the width (right: wider, less contrast), up and down the level (up:
    brighter); ``contrastDragged`` tells each new window. The left and middle buttons pan as
    in the other panes. The window is the viewer's: whoever owns the image keeps it."""

    contrastDragged = Signal(object)  # the Window a contrast drag reached

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(placeholder, parent)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)  # the right button drags
        self._contrast: Window | None = None  # None: the image's own values
        self._shown: np.ndarray | None = None  # the image through the window, made when first needed
        self._contrast_drag: tuple[QPointF, Window] | None = None  # where it began, and from what

    def set_image(self, image: np.ndarray | None) -> None:
        self._shown = None
        super().set_image(image)

    def contrast(self) -> Window | None:
        """The window shown through (None: the image's own values)."""
        return self._contrast

    def set_contrast(self, window: Window | None) -> None:
        if window == self._contrast:
            return
        self._contrast = window
        self._shown = None
        self._dirty = True
        self.update()

    def shown_image(self) -> np.ndarray | None:
        if self._image is not None and self._shown is None:
            self._shown = self._image if self._contrast is None else apply_window(self._image, self._contrast)
        return self._shown if self._image is not None else None

    def is_adjusting_contrast(self) -> bool:
        return self._contrast_drag is not None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._contrast_drag is not None:  # another button during a contrast drag: ignored
            event.accept()
            return
        if self._image is not None and is_contrast_press(event) and not self.is_panning():
            start = self._contrast or own_window(self._image)
            self._contrast_drag = (event.position(), start)
            self.setCursor(Qt.CursorShape.SizeAllCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._contrast_drag is None or self._image is None:
            super().mouseMoveEvent(event)
            return
        anchor, start = self._contrast_drag
        delta = event.position() - anchor
        window = dragged(start, delta.x(), delta.y(), own_window(self._image))
        if window != self._contrast:
            self.set_contrast(window)
            self.contrastDragged.emit(window)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._contrast_drag is not None:
            if not event.buttons() & (Qt.MouseButton.RightButton | Qt.MouseButton.LeftButton):
                self._contrast_drag = None
                self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """A quick second contrast press is another contrast drag, not a fit."""
        if is_contrast_press(event) or self._contrast_drag is not None:
            self.mousePressEvent(event)
            return
        super().mouseDoubleClickEvent(event)
