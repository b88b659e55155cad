"""The mask canvas: the label map as a coloured overlay that the tools paint on.

Left button: the current tool. Middle button, or Space held with the left button: pan.
Wheel: zoom about the cursor. Enter / Esc / Backspace go to the tool (polygon); undo while a
polygon is being placed removes its last corner, not an edit of the history.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (QColor, QImage, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPainterPath,
                           QPen, QPolygonF)
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit,
                               QWidget)

from engine.fan import fan_outline
from engine.labels import LABELS

from ..editing import LabelDocument
from ..editing.document import Dirty
from ..editing.raster import snap_brush_centre
from ..imaging import overlay_lut, wrap_rgba
from .image_view import ImageView
from ..editing.tools import TOOL_CLASSES, PolygonTool, Tool, ToolSettings

NEUTRAL = QColor(14, 14, 16)
FAN_SHADE = QColor(0, 0, 0, 150)  # outside the probe's fan, on the neutral backdrop
FAN_LINE = QColor(170, 170, 180, 170)
FLASH = QColor(255, 230, 80)
FLASH_MS = 1600
KEY_NAMES = {Qt.Key.Key_Return: "enter", Qt.Key.Key_Enter: "enter", Qt.Key.Key_Escape: "escape",
             Qt.Key.Key_Backspace: "backspace"}


class MaskCanvas(ImageView):
    """Edits a :class:`LabelDocument` with the tools of :mod:`.tools`."""

    cursorMoved = Signal(int, int, int)  # column, row, label there (-1 outside the map)
    cursorLeft = Signal()
    toolChanged = Signal(str)
    # what the tool's gesture would take back may have changed, or a stroke was let go (one that
    # changed nothing too: an autosave that waited for the mouse is made then)
    gestureChanged = Signal()
    noticed = Signal(str)  # the tool has something to tell the user (why a polygon filled nothing)

    def __init__(self, document: LabelDocument, settings: ToolSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.settings = settings
        self.tools: dict[str, Tool] = {cls.key: cls(settings) for cls in TOOL_CLASSES}
        self.tool: Tool = self.tools["brush"]
        self.opacity = 0.6
        self.show_background = True
        self._background: QImage | None = None
        self._lut = overlay_lut(settings.visible)
        self._rgba = np.zeros((1, 1, 4), np.uint8)
        # the pointer in widget coordinates: the brush outline stays under it when the view
        # zooms or pans from the keyboard, with no mouse move to say where it now points
        self._pointer: QPointF | None = None
        self._space = False
        self._stroking = False
        self._flash: QRectF | None = None  # a region being pointed out (image coordinates)
        self._flash_timer = QTimer(self, singleShot=True, interval=FLASH_MS)
        self._flash_timer.timeout.connect(lambda: self.point_out(None))
        self.document: LabelDocument | None = None
        self.set_document(document)

    # -- document and layers -------------------------------------------------------------
    def set_document(self, document: LabelDocument) -> None:
        if self.document is not None:
            self.tool.cancel()
            self.document.remove_listener(self._on_changed)
            self.document.remove_meta_listener(self.update)
        self.document = document
        document.add_listener(self._on_changed)
        document.add_meta_listener(self.update)  # the fan is drawn
        for tool in self.tools.values():
            tool.activate(document)
        h, w = document.shape
        self._rgba = np.zeros((h, w, 4), np.uint8)
        self._recolour(None)
        if self._background is not None and self._background.size().toTuple() != (w, h):
            self._background = None
        self.set_image_size(w, h)
        self.update()

    def set_background(self, image: QImage | None) -> None:
        """The image under the mask (the synthesis or the real image), or None for a neutral backdrop."""
        self._background = image
        self.update()

    def set_show_background(self, show: bool) -> None:
        self.show_background = show
        self.update()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = max(0.0, min(1.0, opacity))
        self.update()

    def refresh_visibility(self) -> None:
        """Redraw after the settings' class visibility changed."""
        self._lut = overlay_lut(self.settings.visible)
        self._recolour(None)
        self.update()

    def set_class_visible(self, label: int, visible: bool) -> None:
        """Show or hide one class (through the settings, which own the flags)."""
        if hasattr(self.settings, "set_class_visible"):
            self.settings.set_class_visible(label, visible)
        else:
            self.settings.visible[label] = visible
        self.refresh_visibility()

    def _recolour(self, dirty: Dirty) -> None:
        labels = self.document.labels  # type: ignore[union-attr]
        if dirty is None:
            self._rgba[...] = self._lut[labels]
        else:
            r0, r1, c0, c1 = dirty
            self._rgba[r0:r1, c0:c1] = self._lut[labels[r0:r1, c0:c1]]

    def _on_changed(self, dirty: Dirty) -> None:
        self._recolour(dirty)
        if dirty is None:
            self.update()
        else:
            r0, r1, c0, c1 = dirty
            self.update_image_rect(QRectF(c0, r0, c1 - c0, r1 - r0))

    def update_image_rect(self, rect: QRectF, margin: float = 2.0) -> None:
        """Repaint only the widget area showing ``rect`` (image coordinates)."""
        top_left = self.to_widget(rect.topLeft())
        bottom_right = self.to_widget(rect.bottomRight())
        area = QRectF(top_left, bottom_right).adjusted(-margin, -margin, margin, margin)
        self.update(area.toAlignedRect())

    # -- tools ---------------------------------------------------------------------------
    def set_tool(self, key: str) -> None:
        if key not in self.tools or self.tools[key] is self.tool:
            return
        self.tool.deactivate()
        self.tool = self.tools[key]
        self.update()
        self.toolChanged.emit(key)
        self.gestureChanged.emit()

    def take_back(self) -> bool:
        """Undo inside the gesture under way (a polygon's last corner); True when it did."""
        if not self.tool.take_back():
            return False
        self.update()
        self.gestureChanged.emit()
        return True

    def cancel_gesture(self) -> None:
        self.tool.cancel()
        self._stroking = False
        self.update()
        self.gestureChanged.emit()

    # -- painting ------------------------------------------------------------------------
    def paint_scene(self, painter: QPainter) -> None:
        w, h = self.image_size
        if self.show_background and self._background is not None:
            painter.drawImage(QPointF(0, 0), self._background)
        else:
            painter.fillRect(QRectF(0, 0, w, h), NEUTRAL)
            self._paint_fan_shade(painter, w, h)
        if self.opacity > 0:
            painter.setOpacity(self.opacity)
            painter.drawImage(QPointF(0, 0), wrap_rgba(self._rgba))
            painter.setOpacity(1.0)

    def _fan_polygon(self, w: int, h: int) -> QPolygonF | None:
        fan = getattr(self.document, "fan", None)
        if fan is None:
            return None
        return QPolygonF([QPointF(x, y) for x, y in fan_outline(fan, h, w)])

    def _paint_fan_shade(self, painter: QPainter, w: int, h: int) -> None:
        """Without a synthesized image beneath, darken what lies outside the probe's fan."""
        polygon = self._fan_polygon(w, h)
        if polygon is None:
            return
        outside = QPainterPath()
        outside.addRect(QRectF(0, 0, w, h))
        inside = QPainterPath()
        inside.addPolygon(polygon)
        painter.fillPath(outside.subtracted(inside), FAN_SHADE)

    def point_out(self, rect: QRectF | None) -> None:
        """Centre ``rect`` (image coordinates) and draw a frame around it for a moment (None:
        no frame)."""
        self._flash = rect
        if rect is not None:
            self.show_rect(rect)
            self._flash_timer.start()
        self.update()

    def paint_decorations(self, painter: QPainter) -> None:
        if self._flash is not None:
            frame = QRectF(self.to_widget(self._flash.topLeft()), self.to_widget(self._flash.bottomRight()))
            frame = frame.adjusted(-4, -4, 4, 4)
            for pen in (QPen(QColor(0, 0, 0, 200), 4), QPen(FLASH, 2, Qt.PenStyle.DashLine)):
                painter.setPen(pen)
                painter.drawRect(frame)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(90, 90, 96), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.image_rect_in_widget())
        w, h = self.image_size
        polygon = self._fan_polygon(w, h)
        if polygon is not None:  # the probe's fan, under everything the user draws
            painter.setPen(QPen(FAN_LINE, 1, Qt.PenStyle.DashLine))
            painter.drawPolygon(QPolygonF([self.to_widget(p) for p in polygon]))
        if isinstance(self.tool, PolygonTool) and self.tool.points:
            self._paint_polygon(painter, self.tool)
        elif self._shows_brush_outline():
            diameter = self.settings.brush_diameter
            hover = self.image_point_under(self._pointer)
            cx, cy = snap_brush_centre(hover.x(), hover.y(), diameter)
            centre = self.to_widget(QPointF(cx, cy))
            radius = diameter / 2 * self.scale
            square = self.settings.square_brush
            outline = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
            for pen in (QPen(QColor(0, 0, 0, 160), 3), QPen(self._label_colour(), 1.5)):
                painter.setPen(pen)
                if square:
                    painter.drawRect(outline)
                else:
                    painter.drawEllipse(centre, radius, radius)

    def _shows_brush_outline(self) -> bool:
        """The brush outline follows the pointer unless the left button would pan (Space
        held, the hand cursor shows) or a pan is under way."""
        return (self.tool.cursor_is_brush and self._pointer is not None and not self._space
                and not self.is_panning())

    def _label_colour(self) -> QColor:
        if self.tool.key == "eraser":
            return QColor(240, 240, 240)
        colour = LABELS[self.settings.active_label].color
        return QColor(*colour) if any(colour) else QColor(240, 240, 240)

    def _paint_polygon(self, painter: QPainter, tool: PolygonTool) -> None:
        points = [self.to_widget(QPointF(x, y)) for x, y in tool.points]
        if tool.hover_point is not None:
            points.append(self.to_widget(QPointF(*tool.hover_point)))
        colour = self._label_colour()
        fill = QColor(colour)
        fill.setAlpha(60)
        painter.setBrush(fill)
        painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
        painter.drawPolygon(QPolygonF(points))
        painter.setBrush(colour)
        painter.setPen(QPen(QColor(0, 0, 0), 1))
        for point in points[:len(tool.points)]:
            painter.drawEllipse(point, 3.5, 3.5)

    def _update_cursor_area(self, old: QPointF | None, new: QPointF | None) -> None:
        if isinstance(self.tool, PolygonTool) and self.tool.points:
            self.update()
            return
        radius = self.settings.brush_diameter * 0.71 + 2  # covers a square brush's corners
        for point in (old, new):
            if point is not None:
                self.update_image_rect(QRectF(point.x() - radius, point.y() - radius, 2 * radius, 2 * radius),
                                       margin=4.0)

    # -- events --------------------------------------------------------------------------
    def _image_pos(self, event: QMouseEvent) -> QPointF:
        return self.image_point_under(event.position())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self.start_pan(event.position())
        elif button == Qt.MouseButton.LeftButton and not self.is_panning():
            pos = self._image_pos(event)
            self._stroking = True
            self.tool.press(pos.x(), pos.y())
            if isinstance(self.tool, PolygonTool):
                self.update()
                self.gestureChanged.emit()
        elif button == Qt.MouseButton.RightButton and isinstance(self.tool, PolygonTool):
            self.tool.key_press("backspace")
            self.update()
            self.gestureChanged.emit()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        old_pointer, self._pointer = self._pointer, event.position()
        if self.is_panning():
            super().mouseMoveEvent(event)
            return
        pos = self._image_pos(event)
        old = self.image_point_under(old_pointer) if old_pointer is not None else None
        if self._stroking and event.buttons() & Qt.MouseButton.LeftButton:
            self.tool.drag(pos.x(), pos.y())
        else:
            self.tool.hover(pos.x(), pos.y())
        self._update_cursor_area(old, pos)
        col, row = int(np.floor(pos.x())), int(np.floor(pos.y()))
        value = self.document.value_at(pos.x(), pos.y()) if self.document is not None else None
        self.cursorMoved.emit(col, row, -1 if value is None else value)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.is_panning() and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self.end_pan()
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.CrossCursor)
        elif event.button() == Qt.MouseButton.LeftButton and self._stroking:
            pos = self._image_pos(event)
            self._stroking = False
            self.tool.release(pos.x(), pos.y())
            self.gestureChanged.emit()
            notice = self.tool.take_notice()  # once per stroke: what it left outside the fan
            if notice:
                self.noticed.emit(notice)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Qt sends a quick second press as a double-click: it closes a polygon, and to every
        other tool (and to panning) it is a press like the first, so a fast dab or stroke is
        never lost."""
        if (event.button() == Qt.MouseButton.LeftButton and not self._space and not self.is_panning()
                and isinstance(self.tool, PolygonTool)):
            pos = self._image_pos(event)
            self.tool.double_click(pos.x(), pos.y())
            self._gesture_done()
            event.accept()
            return
        self.mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._set_space(True)
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Undo) and self.take_back():
            event.accept()  # Undo is greyed out (nothing to undo) but a corner is placed
            return
        name = KEY_NAMES.get(Qt.Key(event.key()))
        if name and self.tool.key_press(name):
            self._gesture_done()
            event.accept()
            return
        super().keyPressEvent(event)

    def _gesture_done(self) -> None:
        """A key or double-click the tool took: redraw, and pass on what it has to say."""
        self.update()
        self.gestureChanged.emit()
        notice = self.tool.take_notice()
        if notice:
            self.noticed.emit(notice)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._set_space(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def enterEvent(self, event) -> None:
        # take the keyboard (Space to pan, Enter/Esc for the polygon) when the pointer comes
        # in, unless the user is typing somewhere
        focus = QApplication.focusWidget()
        if not isinstance(focus, (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        old, self._pointer = self._pointer, None
        self._update_cursor_area(self.image_point_under(old) if old is not None else None, None)
        self.cursorLeft.emit()
        super().leaveEvent(event)

    def focusOutEvent(self, event) -> None:
        self._set_space(False)
        super().focusOutEvent(event)

    def _set_space(self, held: bool) -> None:
        """Space held: the left button pans, the pointer is a hand and the brush outline
        hides; released, both come back."""
        if held == self._space:
            return
        self._space = held
        if not self.is_panning():
            self.setCursor(Qt.CursorShape.OpenHandCursor if held else Qt.CursorShape.CrossCursor)
        if self._pointer is not None:
            pos = self.image_point_under(self._pointer)
            self._update_cursor_area(pos, pos)
