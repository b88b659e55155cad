"""The label document, its undo history and the raster shapes (no Qt involved)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cardigan_app.editing.tools import BrushTool, EraserTool, FillTool, PolygonTool, ToolSettings
from cardigan_app.editing import History, LabelDocument
from cardigan_app.editing.history import Edit
from cardigan_app.editing.raster import capsule, flood_region, polygon, square_stroke


def test_editing_and_tools_import_no_qt():
    """Like napari's layer model: the document, history and tools work without Qt."""
    code = ("import sys, cardigan_app.editing, cardigan_app.editing.tools\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qtawesome')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_brush_sizes_cover_symmetric_pixel_sets():
    one = capsule((9, 9), (4.2, 4.7), (4.2, 4.7), 1)
    assert one is not None and one[1].sum() == 1
    region, mask = capsule((9, 9), (4.5, 4.5), (4.5, 4.5), 5)
    full = np.zeros((9, 9), bool)
    full[region] = mask
    assert full.sum() == 21 and (full == full.T).all() and (full == full[::-1]).all()
    assert capsule((9, 9), (-20, -20), (-20, -20), 3) is None


def test_stroke_is_one_undo_step_and_redo_restores_it():
    doc = LabelDocument(np.zeros((32, 32), np.uint8))
    seen = []
    doc.add_listener(seen.append)
    stroke = doc.begin_stroke()
    for x in range(4, 28, 3):
        doc.stroke_to(stroke, x + 0.5, 10.5, 3, 2)
    edit = doc.end_stroke(stroke)
    assert isinstance(edit, Edit) and len(doc.history) == 1
    assert doc.labels[10, 3:27].tolist() == [2] * 24 and doc.labels[9:12, 4:26].all()
    assert doc.labels[10, 2] == doc.labels[10, 27] == 0 and not doc.labels[12:].any()
    assert len(seen) > 1 and doc.modified
    painted = doc.labels.copy()
    assert doc.undo() and not doc.labels.any()
    assert not doc.undo()
    assert doc.redo() and (doc.labels == painted).all()
    # the diff holds only the changed pixels, not a copy of the map
    assert edit.indices.size == int((painted != 0).sum()) < doc.labels.size


def test_an_empty_stroke_adds_no_undo_step():
    doc = LabelDocument(np.full((16, 16), 1, np.uint8))
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 5, 5, 4, 1)
    assert doc.end_stroke(stroke) is None and len(doc.history) == 0 and not doc.modified


def test_paint_over_background_only_keeps_painted_classes():
    labels = np.zeros((20, 20), np.uint8)
    labels[:, 10:] = 3
    doc = LabelDocument(labels)
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 2, 5, 9, 1, paint_over=0)
    doc.stroke_to(stroke, 18, 5, 9, 1, paint_over=0)
    doc.end_stroke(stroke)
    assert (doc.labels[:, 10:] == 3).all()
    assert (doc.labels[3, 2:10] == 1).all()


def test_flood_fill_stays_inside_its_region():
    labels = np.zeros((30, 30), np.uint8)
    labels[5:25, 5] = labels[5:25, 24] = labels[5, 5:25] = labels[24, 5:25] = 2  # a closed ring
    labels[12, 12] = 3  # an island inside
    doc = LabelDocument(labels)
    doc.fill(10.5, 10.5, 1)
    assert (doc.labels[6:24, 6:24][labels[6:24, 6:24] == 0] == 1).all()
    assert doc.labels[12, 12] == 3 and doc.labels[0, 0] == 0 and (doc.labels[5, 5:25] == 2).all()
    assert len(doc.history) == 1
    doc.undo()
    assert (doc.labels == labels).all()


def test_flood_region_handles_concave_shapes():
    labels = np.ones((12, 12), np.uint8)
    labels[2:10, 2] = labels[2:10, 9] = labels[9, 2:10] = 0  # a U of zeros
    labels[2:9, 5] = 0  # with a spur from its bottom going up
    (rows, cols), mask = flood_region(labels, 2, 2)
    full = np.zeros_like(labels, bool)
    full[rows, cols] = mask
    assert (full == (labels == 0)).all()


def test_polygon_fills_the_pixels_whose_centres_are_inside():
    region, mask = polygon((20, 20), [(2, 2), (12, 2), (12, 8), (2, 8)])
    full = np.zeros((20, 20), bool)
    full[region] = mask
    assert full.sum() == 60 and full[2:8, 2:12].all()
    assert polygon((20, 20), [(1, 1), (5, 5)]) is None
    doc = LabelDocument(np.zeros((20, 20), np.uint8))
    doc.fill_polygon([(2, 2), (18, 2), (10, 18)], 3)
    assert doc.labels[5, 10] == 3 and doc.labels[17, 2] == 0 and len(doc.history) == 1


def test_clear_is_undoable_and_history_trims_to_its_budget():
    labels = np.random.default_rng(0).integers(0, 4, (16, 16)).astype(np.uint8)
    doc = LabelDocument(labels)
    doc.clear()
    assert not doc.labels.any()
    doc.undo()
    assert (doc.labels == labels).all()
    history = History(budget_bytes=100)
    for i in range(5):
        history.push(Edit(np.arange(10, dtype=np.int64), np.zeros(10, np.uint8), np.ones(10, np.uint8), f"e{i}"))
    assert len(history) == 1 and history.undo_description == "e4"


def test_tools_drive_the_document():
    settings = ToolSettings(active_label=2, brush_diameter=3)
    doc = LabelDocument(np.zeros((24, 24), np.uint8))
    brush, eraser, fill, poly = (cls(settings) for cls in (BrushTool, EraserTool, FillTool, PolygonTool))
    for tool in (brush, eraser, fill, poly):
        tool.activate(doc)
    brush.press(3, 3)
    brush.drag(20, 3)
    brush.release(20, 3)
    assert doc.labels[3, 3:20].tolist() == [2] * 17 and len(doc.history) == 1
    settings.paint_over_background = True
    eraser.press(10, 3)
    eraser.release(10, 3)
    assert doc.labels[3, 10] == 0, "the eraser erases whatever the paint-over mode"
    poly.press(2, 8)
    poly.press(10, 8)
    assert poly.key_press("escape") and not poly.points and len(doc.history) == 2
    for point in [(2, 8), (22, 8), (22, 22)]:
        poly.press(*point)
    assert poly.key_press("backspace") and len(poly.points) == 2
    poly.press(2, 22)
    assert poly.key_press("enter") and doc.labels[14, 6] == 2 and doc.labels[20, 20] == 0
    settings.active_label = 3
    fill.press(1, 23)
    assert doc.labels[23, 1] == 3 and doc.labels[14, 6] == 2


@pytest.mark.parametrize("diameter", [1, 2, 7, 12])
def test_brush_dab_is_centred_on_the_pointer(diameter):
    doc = LabelDocument(np.zeros((40, 40), np.uint8))
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 20.3, 20.3, diameter, 1)
    doc.end_stroke(stroke)
    rows, cols = np.nonzero(doc.labels)
    assert rows.max() - rows.min() + 1 == diameter or diameter <= 2
    assert abs((rows.mean() + 0.5) - 20.3) <= 0.5 and abs((cols.mean() + 0.5) - 20.3) <= 0.5


def test_undo_back_to_the_opened_or_saved_state_makes_the_document_clean():
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    stroke = doc.begin_stroke()
    for x in range(2, 9):
        doc.stroke_to(stroke, x + 0.5, x + 0.5, 3, 1)
    doc.end_stroke(stroke)
    assert doc.modified
    doc.undo()
    assert not doc.modified  # as opened: quitting need not ask
    doc.redo()
    assert doc.modified
    doc.mark_saved()
    assert not doc.modified
    doc.undo()
    assert doc.modified  # differs from what was saved
    doc.redo()
    assert not doc.modified
    doc.undo()
    doc.clear()  # a new edit after undo: the saved state is gone from the history
    assert doc.modified
    doc.mark_modified()
    assert doc.modified


def test_trimmed_history_never_claims_the_opened_state():
    doc = LabelDocument(np.ones((64, 64), np.uint8))
    doc.history.budget_bytes = 1  # keep only the newest edit
    doc.clear()
    stroke = doc.begin_stroke()
    for x in range(2, 30, 4):
        doc.stroke_to(stroke, x + 0.5, x + 0.5, 5, 2)
    doc.end_stroke(stroke)
    doc.undo()
    doc.undo()  # nothing more to undo: the first edit was trimmed
    assert doc.modified


def test_square_brush_paints_the_square_swept_along_the_stroke():
    region, mask = square_stroke((20, 20), (5, 5), (5, 5), 4)  # even side: centred on a corner
    full = np.zeros((20, 20), bool)
    full[region] = mask
    assert full.sum() == 16 and full[3:7, 3:7].all()
    doc = LabelDocument(np.zeros((24, 24), np.uint8))
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 4.5, 4.5, 3, 2, square=True)
    doc.stroke_to(stroke, 10.5, 10.5, 3, 2, square=True)  # a diagonal: the swept hexagon, no gaps
    doc.end_stroke(stroke)
    painted = doc.labels == 2
    assert painted[3:6, 3:6].all() and painted[9:12, 9:12].all()
    assert all(painted[i, i] and painted[i, i + 1] and painted[i + 1, i] for i in range(3, 11))
    assert not painted[3, 11] and not painted[11, 3] and len(doc.history) == 1


def test_paint_over_one_class_only_changes_that_class():
    labels = np.zeros((20, 20), np.uint8)
    labels[:, 5:10], labels[:, 10:15] = 2, 3
    settings = ToolSettings(active_label=1, brush_diameter=40, paint_over=2)
    for tool, x in ((BrushTool(settings), 10), (FillTool(settings), 7), (FillTool(settings), 2)):
        doc = LabelDocument(labels.copy())
        tool.activate(doc)
        tool.press(x, 10)
        tool.release(x, 10)
        expected = labels.copy()
        if x != 2:  # a fill started on background changes nothing: background may not be painted
            expected[labels == 2] = 1
        assert (doc.labels == expected).all(), tool.key


def test_only_an_unfinished_polygon_has_a_step_to_take_back():
    settings = ToolSettings()
    polygon_tool, brush = PolygonTool(settings), BrushTool(settings)
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    for tool in (polygon_tool, brush):
        tool.activate(doc)
    assert not polygon_tool.take_back() and not brush.take_back()
    polygon_tool.press(2, 2)
    polygon_tool.press(8, 2)
    assert polygon_tool.take_back() and polygon_tool.points == [(2, 2)]
    assert polygon_tool.take_back() and not polygon_tool.take_back() and not polygon_tool.busy


def test_a_polygon_that_fills_nothing_keeps_its_corners_and_says_why():
    """Closing a polygon emptied its corners before filling: one that changed no pixel (all
    of the class already, or kept by the paint-over rule) was lost without a word."""
    doc = LabelDocument(np.full((16, 16), 2, np.uint8))
    settings = ToolSettings(active_label=2)
    tool = PolygonTool(settings)
    tool.activate(doc)
    corners = [(2, 2), (12, 2), (12, 12)]
    for x, y in corners:
        tool.press(x, y)
    assert not tool.close() and tool.points == corners and len(doc.history) == 0
    assert "Myocardium already" in tool.take_notice() and tool.take_notice() is None  # told once
    settings.active_label, settings.paint_over = 3, 0  # background only: the myocardium stays
    assert not tool.close() and tool.points == corners and "paint-over rule" in tool.take_notice()
    settings.paint_over = None
    assert tool.close() and tool.points == []
    assert "changed no pixel" not in tool.take_notice()  # only what it left outside the small map's fan
    assert doc.labels[5, 10] == 3 and len(doc.history) == 1
    for x, y in [(2.6, 2.6), (8.6, 2.6), (5.6, 2.95)]:  # a sliver between two rows of pixel centres
        tool.press(x, y)
    assert not tool.close() and len(tool.points) == 3 and "no pixel centre" in tool.take_notice()
    tool.cancel()
    tool.press(2, 2)
    tool.press(9, 9)
    assert not tool.close() and tool.points == [(2, 2), (9, 9)] and "three corners" in tool.take_notice()


def test_a_polygon_whose_fill_fails_keeps_its_corners(monkeypatch):
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    tool = PolygonTool(ToolSettings(active_label=1))
    tool.activate(doc)
    for x, y in [(2, 2), (12, 2), (12, 12)]:
        tool.press(x, y)

    def fails(*args):
        raise MemoryError("no room for the fill")

    monkeypatch.setattr(doc, "fill_polygon", fails)
    with pytest.raises(MemoryError):
        tool.close()
    assert tool.points == [(2, 2), (12, 2), (12, 12)] and tool.busy


def test_a_brush_ends_only_its_own_stroke():
    """Cancelling the brush (switching tools, undo) closed whatever stroke the document had
    open, e.g. an anatomy slider's drag, splitting that drag into two undo steps."""
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    brush = BrushTool(ToolSettings(brush_diameter=3))
    brush.activate(doc)
    stroke = doc.begin_stroke("anatomy: wall")  # a drag held open elsewhere
    doc.replace_in_stroke(stroke, np.ones((16, 16), np.uint8))
    brush.deactivate()
    assert doc.in_stroke and not brush.busy
    doc.replace_in_stroke(stroke, np.full((16, 16), 2, np.uint8))
    doc.end_stroke(stroke)
    assert len(doc.history) == 1
    brush.press(4, 4)
    assert brush.busy
    brush.cancel()
    assert not doc.in_stroke and len(doc.history) == 2


def test_a_stroke_is_ended_only_with_its_own_token():
    """Whoever begins a stroke holds its token: a stroke begun meanwhile closes the open one
    as an undo step of its own, and the first owner's late end leaves the newer stroke open."""
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    first = doc.begin_stroke("first")
    doc.stroke_to(first, 3.5, 3.5, 3, 1)
    second = doc.begin_stroke("second")
    assert not first.open and second.open and doc.in_stroke
    assert [e.description for e in doc.history.undo_steps()] == ["first"]
    assert doc.end_stroke(first) is None and doc.in_stroke  # a late end: the newer stroke stays open
    with pytest.raises(ValueError, match="first"):
        doc.stroke_to(first, 8.5, 8.5, 3, 2)  # a closed token paints nothing
    assert not (doc.labels == 2).any()
    doc.stroke_to(second, 12.5, 12.5, 3, 2)
    assert doc.end_stroke(second).description == "second" and not doc.in_stroke
    assert doc.end_stroke(second) is None and len(doc.history) == 2


def test_a_one_shot_edit_closes_the_open_stroke_first():
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    stroke = doc.begin_stroke("drag")
    doc.stroke_to(stroke, 3.5, 3.5, 3, 1)
    doc.fill(12, 12, 2)
    assert not stroke.open and [e.description for e in doc.history.undo_steps()] == ["fill", "drag"]


def test_undo_and_redo_wait_while_a_stroke_is_open():
    """Undo while a stroke is open used to close it and undo it: half a slider drag was
    undone and the rest of the drag became a step of its own."""
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    doc.fill(0, 0, 3)
    doc.undo()
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 8.5, 8.5, 3, 1)
    painted = doc.labels.copy()
    assert not doc.undo() and not doc.redo()
    assert stroke.open and (doc.labels == painted).all() and doc.history.can_redo
    doc.end_stroke(stroke)
    assert doc.undo() and not doc.labels.any()


class HeldSlider:
    """An owner that keeps a stroke open over many changes, as an anatomy slider's drag does,
    and begins a new one if its step was closed by another edit while it was held."""

    def __init__(self, doc: LabelDocument) -> None:
        self.doc, self.stroke = doc, doc.begin_stroke("anatomy: wall")

    def move_to(self, labels: np.ndarray) -> None:
        if not self.stroke.open:
            self.stroke = self.doc.begin_stroke("anatomy: wall")
        self.doc.replace_in_stroke(self.stroke, labels)

    def release(self) -> None:
        self.doc.end_stroke(self.stroke)


def test_a_slider_drag_and_a_brush_stroke_interleaved_undo_step_by_step():
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    brush = BrushTool(ToolSettings(active_label=3, brush_diameter=3))
    brush.activate(doc)
    states = [doc.labels.copy()]
    slider = HeldSlider(doc)
    slider.move_to(np.ones((16, 16), np.uint8))
    states.append(doc.labels.copy())
    brush.press(4.5, 4.5)  # the brush's stroke closes the drag's step so far
    brush.drag(10.5, 4.5)
    brush.release(10.5, 4.5)
    states.append(doc.labels.copy())
    assert not doc.in_stroke and doc.history.undo_description == "brush stroke"
    slider.move_to(np.full((16, 16), 2, np.uint8))  # the drag goes on: a step of its own
    slider.release()
    assert [e.description for e in doc.history.undo_steps()] == ["anatomy: wall", "brush stroke",
                                                                 "anatomy: wall"]
    for state in reversed(states):
        assert doc.undo() and (doc.labels == state).all()
    assert not doc.undo()


def test_a_brush_whose_stroke_another_edit_closed_paints_no_more_of_it():
    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    brush = BrushTool(ToolSettings(active_label=1, brush_diameter=3))
    brush.activate(doc)
    brush.press(2.5, 2.5)
    slider = HeldSlider(doc)  # e.g. a slider moved with a key while the mouse paints
    slider.move_to(np.full((16, 16), 2, np.uint8))
    slider.release()
    assert not brush.busy
    brush.drag(12.5, 12.5)
    brush.release(12.5, 12.5)
    assert (doc.labels == 2).all() and len(doc.history) == 2 and not doc.in_stroke


UNUSABLE_FANS = {
    "no depth": dict(depth=0.0),
    "negative depth": dict(depth=-0.4),
    "no width": dict(left=10.0, right=10.0),
    "edges crossed": dict(left=20.0, right=-20.0),
    "apex beside the picture": dict(apex_x=1.4),
    "apex below the picture": dict(apex_y=1.3),
    "mostly below the picture": dict(apex_y=0.9),
    "not a number": dict(depth=float("nan")),
}


@pytest.mark.parametrize("changes", list(UNUSABLE_FANS.values()), ids=list(UNUSABLE_FANS))
def test_the_document_refuses_an_unusable_fan_and_changes_nothing(changes):
    """The fan was checked where it was read from a file or fitted to an image, not where it
    is set: a script (or a caller with a bug) could give the document a fan of no depth or
    outside the picture, which the studio then drew, synthesized in and saved. The setter,
    set_meta and set_meta_in_stroke now refuse it with the reason in one line, and the
    document (its fan, labels, history and an open stroke) is as it was."""
    from dataclasses import replace

    from engine.fan import Fan, FanError

    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    heard = []
    doc.add_meta_listener(lambda: heard.append(doc.fan))
    before = doc.fan
    bad = replace(Fan(), **changes)
    with pytest.raises(FanError) as refused:
        doc.fan = bad
    assert "\n" not in str(refused.value) and "fan" in str(refused.value)
    with pytest.raises(FanError):
        doc.set_meta("fan", fan=bad)
    assert not doc.in_stroke and not doc.history.can_undo  # no step, and no stroke left open
    stroke = doc.begin_stroke("drag")
    doc.stroke_to(stroke, 3, 3, 3, 1)
    with pytest.raises(FanError):
        doc.set_meta_in_stroke(stroke, fan=bad)
    assert stroke.open and stroke.meta_old is None  # the stroke goes on, its pixels kept
    doc.end_stroke(stroke)
    assert doc.fan == before and heard == [] and doc.labels[3, 3] == 1
    assert doc.undo() and doc.fan == before and not doc.labels.any()
    with pytest.raises(FanError, match="must be a fan, not dict"):
        doc.fan = {"depth": 1.0}
    assert doc.fan == before and heard == []


def test_the_document_takes_a_usable_fan_as_before():
    from engine.fan import default_fan

    doc = LabelDocument(np.zeros((16, 16), np.uint8))
    deeper = doc.fan.with_shape(depth=0.8)
    doc.set_meta("fan", fan=deeper)
    assert doc.fan == deeper and doc.undo() and doc.fan == default_fan()
    doc.fan = default_fan("2CH")
    assert doc.fan == default_fan("2CH")


def test_every_step_has_a_link_of_its_own_unless_it_follows_another():
    """A step made to follow another document's step carries that step's link (the two are
    one change); any other step, of any document, a link no other step has."""
    first, second = (LabelDocument(np.zeros((16, 16), np.uint8)) for _ in range(2))
    fill = first.fill(3, 3, 2)
    fan = first.set_meta("fan", fan=first.fan.with_shape(depth=0.8))
    follower = second.set_meta("fan of the other", link=fan.link, fan=first.fan)
    stroke = second.begin_stroke("drawn again", link=fill.link)
    second.stroke_to(stroke, 5.5, 5.5, 3, 1)
    redrawn = second.end_stroke(stroke)
    assert follower.link == fan.link and redrawn.link == fill.link
    own = [fill.link, fan.link, second.fill(12, 12, 3).link]
    assert None not in own and len(set(own)) == 3
    assert second.undo() and second.history.next_redo.description == "fill"
    assert second.history.next_redo.link not in (fill.link, fan.link)
