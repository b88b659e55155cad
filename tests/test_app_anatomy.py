"""The anatomy panel: sliders reshape the heart, paint on top survives, one drag is one undo step."""

from __future__ import annotations

import numpy as np
import pytest

from cardigan_app.dialogs.new_mask import NewMaskChoice
from cardigan_app.testing import close_window, open_window
from engine.anatomy import anatomy_from_dict


@pytest.fixture
def window(qtbot, tmp_path, model_file):
    win = open_window(qtbot, tmp_path, str(model_file))
    win.set_document(NewMaskChoice(True, "4CH", "ED", 3, 64).document())
    qtbot.waitUntil(win.live.up_to_date, timeout=20_000)
    yield win
    close_window(win)


def drag_slider(slider, steps):
    slider.sliderPressed.emit()
    for value in steps:
        slider.setValue(value)
    slider.sliderReleased.emit()


def test_a_slider_drag_reshapes_the_heart_as_one_undo_step_and_asks_for_synthesis(window, qtbot):
    panel, doc, live = window.anatomy_panel, window.document, window.live
    assert doc.anatomy is not None and panel.controls.isEnabled()
    before, steps_before, serial = doc.labels.copy(), len(doc.history), live._serial
    slider = panel.sliders["wall_thickness"]
    start = slider.value()
    drag_slider(slider, [start + 5, start + 15, start + 30])
    assert (doc.labels == 2).sum() > (before == 2).sum()  # a thicker wall
    assert len(doc.history) == steps_before + 1  # the whole drag: one step
    assert anatomy_from_dict(doc.anatomy["heart"]).wall_thickness > anatomy_from_dict(
        panel._start_state["heart"]).wall_thickness
    assert live._serial > serial  # synthesis was asked for
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    assert (live.last_result.labels == doc.labels).all()
    window.undo()
    assert (doc.labels == before).all() and slider.value() == start  # the sliders follow undo
    window.redo()
    assert slider.value() == start + 30


def test_painted_pixels_survive_a_slider_change(window):
    panel, doc = window.anatomy_panel, window.document
    doc.begin_stroke()
    doc.stroke_to(3.5, 3.5, 3, 3)  # an atrium blob in the corner, far from the heart
    doc.end_stroke()
    painted = doc.labels == 3
    painted[10:, :] = False
    drag_slider(panel.sliders["lv_length"], [panel.sliders["lv_length"].value() + 20])
    assert (doc.labels[painted] == 3).all()


def test_phase_view_and_pathology(window):
    panel, doc = window.anatomy_panel, window.document
    ed_cavity = (doc.labels == 1).sum()
    panel.phase.setValue(200)  # to ES: a click, one step
    assert (doc.labels == 1).sum() < 0.9 * ed_cavity and doc.anatomy["phase"] == 1.0
    panel.view.setCurrentText("2CH")
    assert doc.anatomy["view"] == "2CH"
    atrium = (doc.labels == 3).sum()
    panel.pathology.setCurrentText("Enlarged atrium")
    panel.apply_pathology()
    assert (doc.labels == 3).sum() > 1.2 * atrium


def test_a_mask_not_drawn_from_anatomy_offers_to_start_from_one(window):
    from cardigan_app.editing import LabelDocument

    window.set_document(LabelDocument(np.zeros((64, 64), np.uint8)))
    panel = window.anatomy_panel
    assert not panel.controls.isEnabled() and not panel.start.isHidden()
    panel.start_from_anatomy()
    assert window.document.anatomy is not None and (window.document.labels == 1).any()
    window.undo()
    assert not window.document.labels.any()


def test_the_anatomy_is_saved_in_the_png_and_reopened(window, tmp_path):
    panel = window.anatomy_panel
    drag_slider(panel.sliders["tilt"], [panel.sliders["tilt"].value() + 25])
    saved, tilt = window.document.anatomy, panel.sliders["tilt"].value()
    assert window.files._write(tmp_path / "heart.png")
    window.files.open_path(tmp_path / "heart.png", confirmed=True)
    assert window.document.anatomy == saved and panel.controls.isEnabled()
    assert panel.sliders["tilt"].value() == tilt


@pytest.mark.parametrize("name, label, size", [("islands", -1, 20), ("largest", -1, 0), ("grow", 2, 2),
                                               ("shrink", 1, 2), ("median", -1, 2), ("close", 2, 2)])
def test_each_mask_tool_is_one_undo_step_and_keeps_labels(window, name, label, size):
    doc = window.document
    doc.begin_stroke()
    doc.stroke_to(3.5, 3.5, 3, 1)  # a stray island of cavity in the corner
    doc.end_stroke()
    before, steps = doc.labels.copy(), len(doc.history)
    changed = window.apply_mask_tool(name, label, size)
    assert changed == int((doc.labels != before).sum()) > 0
    assert set(np.unique(doc.labels)) <= {0, 1, 2, 3} and len(doc.history) == steps + 1
    if name in ("islands", "largest"):
        assert doc.labels[3, 3] != 1  # the island is gone
    if name == "grow":
        assert (doc.labels == 2).sum() > (before == 2).sum()
    window.undo()
    assert (doc.labels == before).all()


def test_topology_check_reports_problems(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    assert window.check_topology() == [] and not shown
    doc = window.document
    doc.replace(np.where(doc.labels == 2, 0, doc.labels).astype(np.uint8), "remove the wall")
    problems = window.check_topology()
    assert any("no myocardium" in p for p in problems) and shown and "not a plausible heart" in shown[0]
