"""A widget that shows an image-sized scene with wheel zoom, fit, 1:1 and panning.

The scene is drawn by subclasses in image coordinates (one unit = one pixel) with
nearest-neighbour sampling, so pixels stay crisp at any zoom. Views can be linked so that
zooming or panning one moves the others the same way.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QWidget

MIN_SCALE, MAX_SCALE = 0.05, 64.0
WHEEL_STEP = 1.2  # zoom factor per wheel notch
GRID_FROM_SCALE = 12.0  # draw the pixel grid from this zoom on
EDGE_NUDGE = 1e-6  # image pixels: a point on a pixel edge goes to the pixel before it, as Qt draws it
BACKDROP = QColor(38, 40, 44)


class ImageView(QWidget):
    """Zoomable, pannable view of a ``width x height`` scene.

    While the user has not zoomed or panned, the view keeps the image fitted to the widget.
    """

    viewChanged = Signal()
    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(120, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._image_size = (256, 256)  # (width, height)
        self._scale = 1.0
        self._offset = QPointF(0.0, 0.0)  # widget position of image point (0, 0)
        self._fitted = True
        self._pan_anchor: QPointF | None = None
        self.placeholder = ""
        self.show_grid = True

    # -- geometry ------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    @property
    def image_size(self) -> tuple[int, int]:
        return self._image_size

    def set_image_size(self, width: int, height: int) -> None:
        if (width, height) != self._image_size:
            self._image_size = (width, height)
            self.fit()

    def to_image(self, point: QPointF) -> QPointF:
        return (point - self._offset) / self._scale

    def image_point_under(self, pos: QPointF) -> QPointF:
        """The image point under the pointer at widget position ``pos``. A mouse gives the
        screen pixel it is on by that pixel's corner, and the image pixel drawn there is the
        one under the screen pixel's centre: map the centre (half a device pixel on), and a
        centre lying exactly on an image pixel's edge into the pixel before it, as Qt draws it."""
        half = 0.5 / self.devicePixelRatioF()
        return self.to_image(pos + QPointF(half, half)) - QPointF(EDGE_NUDGE, EDGE_NUDGE)

    def to_widget(self, point: QPointF) -> QPointF:
        return point * self._scale + self._offset

    def image_rect_in_widget(self) -> QRectF:
        w, h = self._image_size
        return QRectF(self._offset, self._offset + QPointF(w * self._scale, h * self._scale))

    def view_state(self) -> tuple[float, QPointF]:
        """(scale, image point at the widget centre)."""
        return self._scale, self.to_image(QPointF(self.width() / 2, self.height() / 2))

    def set_view_state(self, scale: float, centre: QPointF, fitted: bool = False) -> None:
        self._scale = scale
        self._offset = QPointF(self.width() / 2, self.height() / 2) - centre * scale
        self._fitted = fitted
        self.update()

    @property
    def fitted(self) -> bool:
        return self._fitted

    def fit(self) -> None:
        """Show the whole image, centred, as large as the widget allows."""
        w, h = self._image_size
        margin = 8
        avail_w, avail_h = max(1, self.width() - 2 * margin), max(1, self.height() - 2 * margin)
        scale = min(avail_w / w, avail_h / h)
        self._scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        self._offset = QPointF((self.width() - w * self._scale) / 2, (self.height() - h * self._scale) / 2)
        self._fitted = True
        self._changed()

    def actual_size(self) -> None:
        """One image pixel per screen pixel, keeping the centre."""
        self.zoom_about(1.0 / self._scale, QPointF(self.width() / 2, self.height() / 2))

    def zoom_about(self, factor: float, anchor: QPointF) -> None:
        """Multiply the zoom by ``factor`` keeping the image point under ``anchor`` fixed."""
        new_scale = min(MAX_SCALE, max(MIN_SCALE, self._scale * factor))
        image_point = self.to_image(anchor)
        self._scale = new_scale
        self._offset = anchor - image_point * new_scale
        self._fitted = False
        self._changed()

    def zoom_in(self) -> None:
        self.zoom_about(WHEEL_STEP ** 2, QPointF(self.width() / 2, self.height() / 2))

    def zoom_out(self) -> None:
        self.zoom_about(WHEEL_STEP ** -2, QPointF(self.width() / 2, self.height() / 2))

    def show_rect(self, rect: QRectF) -> None:
        """Centre ``rect`` (image coordinates): zoomed in (up to 8 screen pixels per pixel) when
        it is small, out when it would not fit."""
        fills = min(self.width() / max(rect.width(), 1.0), self.height() / max(rect.height(), 1.0))
        scale = min(max(self._scale, min(fills / 4, 8.0)), fills * 0.9)
        self._scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        self._offset = QPointF(self.width() / 2, self.height() / 2) - rect.center() * self._scale
        self._fitted = False
        self._changed()

    def pan_by(self, delta: QPointF) -> None:
        self._offset += delta
        self._fitted = False
        self._changed()

    def _changed(self) -> None:
        self.update()
        self.viewChanged.emit()
        self.zoomChanged.emit(self._scale)

    # -- events --------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fitted:
            self.fit()
        else:
            old = event.oldSize()
            if old.width() > 0:
                self._offset += QPointF((event.size().width() - old.width()) / 2,
                                        (event.size().height() - old.height()) / 2)
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_about(WHEEL_STEP ** steps, event.position())
        event.accept()

    def start_pan(self, pos: QPointF) -> None:
        self._pan_anchor = pos
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def is_panning(self) -> bool:
        return self._pan_anchor is not None

    def end_pan(self) -> None:
        self._pan_anchor = None
        self.unsetCursor()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self.start_pan(event.position())  # image panes have nothing to edit: any drag pans
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_anchor is not None:
            self.pan_by(event.position() - self._pan_anchor)
            self._pan_anchor = event.position()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_anchor is not None:
            self.end_pan()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.fit()
        event.accept()

    # -- painting ------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKDROP)
        painter.save()
        painter.translate(self._offset)
        painter.scale(self._scale, self._scale)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.paint_scene(painter)
        painter.restore()
        if self.show_grid and self._scale >= GRID_FROM_SCALE:
            self._paint_grid(painter)
        self.paint_decorations(painter)
        if self.placeholder:
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        painter.end()

    def paint_scene(self, painter: QPainter) -> None:
        """Draw the scene in image coordinates (override)."""

    def paint_decorations(self, painter: QPainter) -> None:
        """Draw on top in widget coordinates (override)."""

    def _paint_grid(self, painter: QPainter) -> None:
        w, h = self._image_size
        top_left = self.to_image(QPointF(0, 0))
        bottom_right = self.to_image(QPointF(self.width(), self.height()))
        c0, c1 = max(0, int(top_left.x())), min(w, int(bottom_right.x()) + 1)
        r0, r1 = max(0, int(top_left.y())), min(h, int(bottom_right.y()) + 1)
        painter.setPen(QPen(QColor(255, 255, 255, 28), 1))
        y_top, y_bottom = self.to_widget(QPointF(0, r0)).y(), self.to_widget(QPointF(0, r1)).y()
        x_left, x_right = self.to_widget(QPointF(c0, 0)).x(), self.to_widget(QPointF(c1, 0)).x()
        for col in range(c0, c1 + 1):
            x = self.to_widget(QPointF(col, 0)).x()
            painter.drawLine(QPointF(x, y_top), QPointF(x, y_bottom))
        for row in range(r0, r1 + 1):
            y = self.to_widget(QPointF(0, row)).y()
            painter.drawLine(QPointF(x_left, y), QPointF(x_right, y))


def link_views(*views: ImageView) -> None:
    """Keep the zoom and centre of ``views`` together (when their images have the same size)."""
    busy = [False]

    def follow(source: ImageView) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            scale, centre = source.view_state()
            for view in views:
                if view is not source and view.image_size == source.image_size:
                    if source.fitted:
                        view.fit()
                    else:
                        view.set_view_state(scale, centre)
        finally:
            busy[0] = False

    for view in views:
        view.viewChanged.connect(lambda v=view: follow(v))
