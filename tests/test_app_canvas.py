"""The canvas with real (synthetic) mouse and key events: painting, tools, zoom, pan."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from cardigan_app.canvas import MaskCanvas
from cardigan_app.editing import LabelDocument
from cardigan_app.editing.tools import ToolSettings
from cardigan_app.testing import click, double_click, drag, send_mouse


@pytest.fixture
def canvas(qtbot):
    doc = LabelDocument(np.zeros((64, 64), np.uint8))
    widget = MaskCanvas(doc, ToolSettings(active_label=2, brush_diameter=5))
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit()
    return widget


def test_a_stroke_painting_a_heart_class_outside_the_fan_is_kept_and_told_once(canvas):
    """Paint outside the fan was taken without a word, while the synthesized image is black
    there: the stroke stays as painted, and the status line is told once, at its release."""
    from engine.fan import fan_mask

    doc, told = canvas.document, []
    canvas.noticed.connect(told.append)
    outside = ~fan_mask(doc.fan, *doc.shape)
    assert outside[3, 3] and outside[3, 60] and not outside[40, 32]
    drag(canvas, [(32, 40), (34, 42)])  # inside the fan: nothing to tell
    assert (doc.labels == 2).any() and told == []
    drag(canvas, [(3 + i, 3) for i in range(0, 12, 2)], process_events=True)  # the top-left corner
    painted = (doc.labels == 2) & outside
    assert painted.sum() > 20 and len(told) == 1, told
    assert told[0].startswith(f"{painted.sum()} pixels of myocardium painted outside the fan"), told[0]
    canvas.settings.active_label = 0  # background outside the fan is what belongs there
    drag(canvas, [(55, 3), (60, 3)])
    assert len(told) == 1
    assert ((doc.labels == 2) & outside).sum() == painted.sum()  # the stroke was kept as painted
    canvas.set_tool("eraser")
    drag(canvas, [(3, 3), (12, 3)])
    assert len(told) == 1


def test_a_fill_or_polygon_painting_a_heart_class_outside_the_fan_is_told_as_a_stroke_is(canvas):
    """Flood fill and polygon fill put heart classes outside the fan without a word, while a
    brush stroke doing the same was told: they are told the same, once, naming their step."""
    from engine.fan import edge_distance

    doc, told = canvas.document, []
    canvas.noticed.connect(told.append)
    outside = edge_distance(doc.fan, *doc.shape) < -0.5  # wholly outside: the image is black there
    canvas.set_tool("polygon")
    for point in [(24, 30), (40, 30), (40, 44)]:  # inside the fan: nothing to tell
        click(canvas, *point)
    double_click(canvas, 24, 44)
    assert (doc.labels == 2).any() and told == []
    for point in [(0, 0), (14, 0), (14, 6)]:  # the top-left corner, outside the fan
        click(canvas, *point)
    QApplication.sendEvent(canvas, _key(Qt.Key.Key_Return))
    painted = int(((doc.labels == 2) & outside).sum())
    assert painted > 10 and len(told) == 1, told
    assert told[0] == (f"{painted} pixels of myocardium painted outside the fan, where the image is black "
                       "(Undo takes the polygon fill back)"), told[0]
    canvas.settings.active_label = 1
    canvas.set_tool("fill")
    click(canvas, 32, 60)  # the background, inside and outside the fan alike
    lv_outside = int(((doc.labels == 1) & outside).sum())
    assert lv_outside > 100 and len(told) == 2, told
    assert told[1].startswith(f"{lv_outside} pixels of LV cavity painted outside the fan"), told[1]
    assert told[1].endswith("(Undo takes the fill back)"), told[1]
    canvas.settings.active_label = 0  # background outside the fan is what belongs there
    click(canvas, 32, 60)
    assert len(told) == 2 and not ((doc.labels == 1) & outside).any()


def test_a_mouse_stroke_paints_and_is_one_undo_step(canvas):
    doc = canvas.document
    drag(canvas, [(10 + i, 20 + 0.5 * i) for i in range(0, 40, 2)])
    assert (doc.labels == 2).sum() > 150 and set(np.unique(doc.labels)) == {0, 2}
    assert len(doc.history) == 1 and doc.history.undo_description == "brush stroke"
    assert doc.labels[20, 10] == 2 and doc.labels[39, 48] == 2 and doc.labels[5, 5] == 0
    drag(canvas, [(10, 50), (30, 50)])
    assert len(doc.history) == 2
    doc.undo()
    assert not doc.labels[50].any() and doc.labels[20, 10] == 2


def test_overlay_colours_the_painted_pixels_and_hides_hidden_classes(canvas):
    drag(canvas, [(30, 30), (34, 30)])
    assert canvas._rgba[30, 32, 3] == 255 and tuple(canvas._rgba[30, 32, :3]) == (230, 159, 0)
    assert canvas._rgba[0, 0, 3] == 0
    canvas.set_class_visible(2, False)
    assert canvas._rgba[30, 32, 3] == 0
    image = canvas.grab().toImage()
    centre = canvas.to_widget(QPointF(32.5, 30.5)).toPoint()
    assert image.pixelColor(centre).red() < 40  # hidden: the dark backdrop shows through


def test_zoomed_pixels_stay_crisp(canvas):
    canvas.document.fill_polygon([(0, 0), (32, 0), (32, 64), (0, 64)], 1)
    canvas.set_opacity(1.0)
    canvas.zoom_about(4.0, QPointF(200, 200))
    image = canvas.grab().toImage()
    assert canvas.scale > 8
    # one screen pixel either side of the class edge, away from the pixel grid lines
    edge = canvas.to_widget(QPointF(32, 30.5))
    left = image.pixelColor(QPoint(int(edge.x()) - 2, int(edge.y())))
    right = image.pixelColor(QPoint(int(edge.x()) + 2, int(edge.y())))
    assert (left.red(), left.green(), left.blue()) == (0, 114, 178)  # no smoothing across the edge
    assert max(right.red(), right.green(), right.blue()) < 40


def test_fill_and_polygon_tools(canvas):
    doc = canvas.document
    canvas.set_tool("polygon")
    for point in [(8, 8), (40, 8), (40, 40)]:
        click(canvas, *point)
    double_click(canvas, 8, 40)
    assert canvas.tool.points == [] and doc.labels[30, 12] == 2 and doc.labels[50, 50] == 0
    assert len(doc.history) == 1
    click(canvas, 50, 5)
    click(canvas, 60, 5)
    QApplication.sendEvent(canvas, _key(Qt.Key.Key_Escape))
    assert canvas.tool.points == [] and len(doc.history) == 1
    for point in [(45, 45), (60, 45), (60, 60)]:
        click(canvas, *point)
    QApplication.sendEvent(canvas, _key(Qt.Key.Key_Return))
    assert doc.labels[55, 58] == 2 and len(doc.history) == 2
    canvas.settings.active_label = 3
    canvas.set_tool("fill")
    click(canvas, 2, 60)
    assert doc.labels[60, 2] == 3 and doc.labels[30, 12] == 2 and len(doc.history) == 3


def test_pan_with_middle_button_and_space_drag_does_not_paint(canvas, qtbot):
    before = canvas.to_widget(QPointF(0, 0))
    start = QPointF(200, 200)
    send_mouse(canvas, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.MiddleButton)
    send_mouse(canvas, QEvent.Type.MouseMove, start + QPointF(30, 10), Qt.MouseButton.NoButton,
               Qt.MouseButton.MiddleButton)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, start + QPointF(30, 10), Qt.MouseButton.MiddleButton,
               Qt.MouseButton.NoButton)
    assert canvas.to_widget(QPointF(0, 0)) == before + QPointF(30, 10)
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    drag(canvas, [(20, 20), (25, 25)])
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert not canvas.document.labels.any()
    assert canvas.to_widget(QPointF(0, 0)) != before + QPointF(30, 10)


def test_wheel_zooms_about_the_pointer_and_fit_restores(canvas):
    anchor = canvas.to_widget(QPointF(16, 16))
    scale = canvas.scale
    event = QWheelEvent(anchor, QPointF(canvas.mapToGlobal(anchor.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)
    assert canvas.scale == pytest.approx(scale * 1.44)
    image_point = canvas.to_image(anchor)
    assert (image_point.x(), image_point.y()) == pytest.approx((16, 16))
    canvas.actual_size()
    assert canvas.scale == 1.0
    canvas.fit()
    assert canvas.scale == pytest.approx(scale)


def test_cursor_reports_position_and_label(canvas, qtbot):
    canvas.document.fill(1, 1, 3)
    with qtbot.waitSignal(canvas.cursorMoved) as blocker:
        send_mouse(canvas, QEvent.Type.MouseMove, canvas.to_widget(QPointF(12.5, 7.5)), Qt.MouseButton.NoButton,
                   Qt.MouseButton.NoButton)
    assert blocker.args == [12, 7, 3]


def _key(key: Qt.Key):
    from PySide6.QtGui import QKeyEvent

    return QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)


def test_a_quick_second_press_paints_like_the_first(canvas):
    """Qt delivers a press soon after a click as a double-click: the brush must still paint
    the stroke that follows it, and a quick middle-button press still pans."""
    doc = canvas.document
    click(canvas, 10, 10)
    start = canvas.to_widget(QPointF(10, 40))
    send_mouse(canvas, QEvent.Type.MouseButtonDblClick, start)
    for x in range(12, 40, 3):
        send_mouse(canvas, QEvent.Type.MouseMove, canvas.to_widget(QPointF(x, 40)), Qt.MouseButton.NoButton,
                   Qt.MouseButton.LeftButton)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, canvas.to_widget(QPointF(40, 40)), Qt.MouseButton.LeftButton,
               Qt.MouseButton.NoButton)
    assert doc.labels[10, 10] == 2 and (doc.labels[40, [10, 25, 39]] == 2).all()
    assert len(doc.history) == 2  # the dab, then the stroke
    before = canvas.to_widget(QPointF(0, 0))
    send_mouse(canvas, QEvent.Type.MouseButtonDblClick, QPointF(200, 200), Qt.MouseButton.MiddleButton)
    send_mouse(canvas, QEvent.Type.MouseMove, QPointF(220, 200), Qt.MouseButton.NoButton, Qt.MouseButton.MiddleButton)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, QPointF(220, 200), Qt.MouseButton.MiddleButton,
               Qt.MouseButton.NoButton)
    assert canvas.to_widget(QPointF(0, 0)) == before + QPointF(20, 0) and len(doc.history) == 2


@pytest.mark.parametrize("change", ["zoom_in", "zoom_out", "actual_size", "fit"])
def test_the_brush_outline_stays_under_a_still_pointer_when_the_view_zooms(canvas, change):
    pointer = QPointF(120, 140)
    send_mouse(canvas, QEvent.Type.MouseMove, pointer, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    if change == "fit":
        canvas.zoom_in()
        send_mouse(canvas, QEvent.Type.MouseMove, pointer, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    getattr(canvas, change)()  # a key (Ctrl+=, Ctrl+-, Ctrl+1, Ctrl+0): the pointer did not move
    centre = _brush_outline_centre(canvas)
    assert abs(centre.x() - pointer.x()) <= canvas.scale and abs(centre.y() - pointer.y()) <= canvas.scale


def _brush_outline(canvas) -> np.ndarray:
    """(H, W) bool: the screen pixels showing the brush outline (drawn in the active class's
    colour), the painting made transparent so nothing else has that colour."""
    from PySide6.QtGui import QImage

    canvas.set_opacity(0.0)
    image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    pixels = pixels[:, :3 * image.width()].reshape(image.height(), image.width(), 3).astype(int)
    colour = canvas._label_colour()
    return np.abs(pixels - [colour.red(), colour.green(), colour.blue()]).sum(axis=2) < 60


def _brush_outline_centre(canvas) -> QPointF:
    """The centre of the brush outline on screen."""
    near = _brush_outline(canvas)
    assert near.any(), "no brush outline drawn"
    ys, xs = np.nonzero(near)
    return QPointF((xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2)


def _brush_outline_pixels(canvas) -> int:
    """How many screen pixels show the brush outline."""
    return int(_brush_outline(canvas).sum())


def test_holding_space_to_pan_hides_the_brush_outline(canvas, qtbot):
    """With Space held the left button pans and the pointer is a hand: an outline there
    would promise paint that a click does not put down."""
    send_mouse(canvas, QEvent.Type.MouseMove, QPointF(150, 150), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert _brush_outline_pixels(canvas) > 0
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    assert canvas.cursor().shape() == Qt.CursorShape.OpenHandCursor
    assert _brush_outline_pixels(canvas) == 0
    send_mouse(canvas, QEvent.Type.MouseMove, QPointF(170, 160), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert _brush_outline_pixels(canvas) == 0
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.cursor().shape() == Qt.CursorShape.CrossCursor
    assert _brush_outline_pixels(canvas) > 0


@pytest.mark.parametrize("scale, pan", [(1.0, (0.3, 0.25)), (1.0, (0.5, 0.5)), (2.5, (0.0, 0.0)),
                                        (2.5, (17.3, -9.6)), (7.0, (0.0, 0.0)), (7.0, (-40.45, 23.2))])
def test_a_click_paints_the_pixel_shown_under_the_pointer(canvas, scale, pan):
    """A click (at a whole screen pixel, as a mouse gives) painted the image pixel left of or
    above the one drawn under the pointer whenever an image pixel's edge fell within half a
    screen pixel before it: every click at zoom 1 with the image half a pixel off the screen's."""
    from PySide6.QtGui import QImage

    doc = canvas.document
    canvas.settings.brush_diameter = 1
    canvas.set_opacity(1.0)
    canvas.set_view_state(scale, QPointF(32, 32))
    canvas.pan_by(QPointF(*pan))
    for k in range(12):
        pointer = QPoint(190 + k, 190 + (5 * k) % 11)
        click_at = QPointF(pointer)
        send_mouse(canvas, QEvent.Type.MouseButtonPress, click_at)
        send_mouse(canvas, QEvent.Type.MouseButtonRelease, click_at, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
        assert (doc.labels == 2).sum() == 1
        shown = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888).pixelColor(pointer)
        assert (shown.red(), shown.green(), shown.blue()) == (230, 159, 0), (k, pointer, np.argwhere(doc.labels))
        doc.undo()
