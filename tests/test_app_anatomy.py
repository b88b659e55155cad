"""The anatomy panel: sliders reshape the heart, paint on top survives, one drag is one undo step."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from cardigan_app.dialogs.new_mask import NewMaskChoice
from cardigan_app.testing import close_window, open_window
from engine.anatomy.heart import Heart, heart_name
from hearts_in_fans import assert_in_its_fan


@pytest.fixture
def window(qtbot, tmp_path, tiny_model):
    win = open_window(qtbot, tmp_path, str(tiny_model))
    win.set_document(NewMaskChoice(True, "4CH", "ED", 3, 64).document())
    qtbot.waitUntil(win.live.up_to_date, timeout=20_000)
    yield win
    close_window(win)


def drag_slider(slider, steps):
    slider.sliderPressed.emit()
    for value in steps:
        slider.setValue(value)
    slider.sliderReleased.emit()


def heart(doc):
    return Heart.from_dict(doc.anatomy["heart"])


def widened_heart_document(draw: int, seed_as: int):
    """Draw ``draw`` of the shipped model widened 2.5 SD (LV width), 4CH ED at 64 px in the
    median fan, named as heart #``seed_as``. Hearts run on past a fan's sides as real ones do,
    so only a wide heart meets the narrowest fans' limits: draw 7 widened stops the width
    slider at 33 degrees, draw 0 widened is drawn nearer the mean in a 30-degree fan and
    smaller in a 16-degree one."""
    from dataclasses import replace

    from cardigan_app.editing import LabelDocument
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import anatomy_record
    from engine.fan import default_fan

    model = ShapeModel.default()
    wide = replace(model.move(model.draw(draw), "lv_width", 2.5), seed=seed_as)
    doc = LabelDocument(model.mask(wide, "4CH", "ED", 64), origin="a widened heart")
    doc.fan = default_fan("4CH")
    doc.anatomy = anatomy_record(wide, "4CH", 0.0)
    return doc


def test_a_slider_drag_reshapes_the_heart_as_one_undo_step_and_asks_for_synthesis(window, qtbot):
    panel, doc, live = window.anatomy_panel, window.document, window.live
    assert doc.anatomy is not None and panel.controls.isEnabled()
    before, steps_before, serial = doc.labels.copy(), len(doc.history), live._serial
    start_heart = heart(doc)
    slider = panel.sliders["wall"]
    start = slider.value()
    drag_slider(slider, [start + 10, start + 25, start + 40])
    assert (doc.labels == 2).sum() > (before == 2).sum()  # a thicker wall
    assert len(doc.history) == steps_before + 1  # the whole drag: one step
    model = panel.model
    assert model.position(heart(doc), "wall") > model.position(start_heart, "wall") + 1.0
    assert live._serial > serial  # synthesis was asked for
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    assert (live.last_result.labels == doc.labels).all()
    window.undo()
    assert (doc.labels == before).all() and heart(doc) == start_heart and slider.value() == start
    window.redo()
    assert slider.value() != start and heart(doc) != start_heart


def test_every_slider_end_is_a_valid_heart_in_the_fan(window):
    from engine.anatomy.topology import topology_problems
    panel, doc = window.anatomy_panel, window.document
    for name, slider in panel.sliders.items():
        for view in ("2CH", "4CH"):
            panel.view.setCurrentText(view)
            for end in (slider.minimum(), slider.maximum()):
                for phase in (0, panel.phase.maximum()):
                    panel.phase.setValue(phase)
                    slider.setValue(end)
                    assert topology_problems(doc.labels) == [], (name, view, end, phase)
                    assert_in_its_fan(doc.labels, doc.fan, (name, view, end, phase))
            slider.setValue(0)
    for preset in panel.model.presets:  # and every preset
        panel.preset.setCurrentIndex(panel.preset.findData(preset))
        panel.apply_preset()
        assert topology_problems(doc.labels) == [], preset


def test_painted_pixels_survive_a_slider_change(window):
    panel, doc = window.anatomy_panel, window.document
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 31.5, 60.5, 3, 3)  # an atrium blob at the bottom, inside the fan
    doc.end_stroke(stroke)
    painted = doc.labels == 3
    painted[:56, :] = False
    drag_slider(panel.sliders["lv_length"], [panel.sliders["lv_length"].value() + 20])
    assert painted.any() and (doc.labels[painted] == 3).all()


def test_the_panel_and_the_key_frames_redraw_a_heart_in_a_new_fan_alike(window):
    """A fan slider in the anatomy panel and a fan handed from the other key frame draw the
    same heart in the same new fan, keeping the same painted pixels: both draw a record with
    engine.anatomy.heart.record_as_drawn and keep the paint with keep_painted."""
    from cardigan_app.cine.key_frames import heart_as_drawn, take_shared
    from cardigan_app.editing import LabelDocument
    from engine.anatomy.heart import keep_painted, record_as_drawn

    panel, doc = window.anatomy_panel, window.document
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 31.5, 60.5, 3, 3)  # an atrium blob at the bottom, inside the fan
    doc.end_stroke(stroke)
    before, record, old_fan = doc.labels.copy(), dict(doc.anatomy), doc.fan
    assert np.array_equal(heart_as_drawn(doc), record_as_drawn(record, panel.model, 64, old_fan))
    copy = LabelDocument(before.copy(), origin="copy")
    copy.anatomy, copy.fan = record, old_fan

    drag_slider(panel.fan_sliders["tilt"], [panel.fan_sliders["tilt"].value() + 6])
    assert doc.fan != old_fan and doc.anatomy == record
    expected = keep_painted(before, record_as_drawn(record, panel.model, 64, old_fan),
                            record_as_drawn(record, panel.model, 64, doc.fan))
    assert not np.array_equal(expected, before) and np.array_equal(doc.labels, expected)
    take_shared(copy, doc.fan, "fan from the other frame")
    assert np.array_equal(copy.labels, doc.labels)


def test_phase_view_target_ef_and_presets(window, qtbot):
    panel, doc = window.anatomy_panel, window.document
    ed_cavity = (doc.labels == 1).sum()
    panel.phase.setValue(panel.phase.maximum())  # to ES: a click, one step
    assert (doc.labels == 1).sum() < 0.95 * ed_cavity and doc.anatomy["phase"] == 1.0
    panel.view.setCurrentText("2CH")
    assert doc.anatomy["view"] == "2CH"
    qtbot.waitUntil(lambda: "2CH" in window.windowTitle() and "4CH" not in window.windowTitle(), timeout=5000)
    panel.target_ef.setValue(60)
    assert abs(panel.model.ejection_fraction(heart(doc), None) - 60) < 1
    assert "EF" in panel.ef.text()
    atrium = (doc.labels == 3).sum()
    panel.preset.setCurrentIndex(panel.preset.findData("enlarged_atrium"))
    panel.apply_preset()
    assert heart(doc) == panel.model.preset("enlarged_atrium")
    assert (doc.labels == 3).sum() != atrium


def test_no_preset_is_shown_until_one_is_chosen_and_a_new_heart_is_none(window):
    """The preset box showed "Dilated LV" beside the first, ordinary heart, as if that heart
    were dilated, and Apply was ready to apply a preset nobody chose."""
    panel = window.anatomy_panel
    assert panel.preset.currentIndex() == -1 and panel.preset.currentText() == ""
    assert panel.preset.placeholderText() == "Choose a preset" and not panel.apply.isEnabled()
    before = window.document.labels.copy()
    panel.apply_preset()  # nothing chosen: nothing happens
    assert np.array_equal(window.document.labels, before)
    panel.preset.setCurrentIndex(panel.preset.findData("dilated_lv"))
    assert panel.apply.isEnabled()
    panel.apply.click()
    assert heart(window.document) == panel.model.preset("dilated_lv") and panel.preset.currentText() == "Dilated LV"
    panel.new_heart.click()
    assert panel.preset.currentIndex() == -1 and not panel.apply.isEnabled()


def test_another_mask_clears_the_preset_chosen_for_the_last_one(window):
    """A traced image's blank mask still showed the preset picked for the heart before it."""
    from engine.anatomy import template_mask

    from cardigan_app.editing import LabelDocument

    panel = window.anatomy_panel
    panel.preset.setCurrentIndex(panel.preset.findData("dilated_lv"))
    window.set_document(LabelDocument(template_mask("2CH", "ED", seed=3, size=64), origin="test"))
    assert panel.preset.currentIndex() == -1 and not panel.apply.isEnabled()


def test_the_target_ef_is_the_biplane_ef_echo_reports_give(window):
    """The Target EF slider set the EF by area of one view: "35 %" gave a heart whose
    Simpson's biplane EF, the EF of an echo report, was 47 % (normal), and the EF line led
    with the lower area figure. It now sets the biplane EF, the line leads with it, and in
    the other view the heart keeps it: one patient's EF."""
    panel, doc = window.anatomy_panel, window.document
    model = panel.model
    panel.target_ef.setValue(35)  # a reduced EF
    assert model.ejection_fraction(heart(doc), None) == pytest.approx(35, abs=0.5)
    assert panel.target_ef.value() == 35 and panel.ef.text().startswith("Heart model: <b>EF 35 %</b> biplane")
    panel.view.setCurrentText("2CH")
    assert panel.target_ef.value() == 35 and "<b>EF 35 %</b> biplane" in panel.ef.text()


def test_the_ef_shown_is_the_ef_of_the_heart_on_screen(window):
    panel, doc = window.anatomy_panel, window.document
    model = panel.model
    too_long = model.move(heart(doc), "lv_length", 6.0)  # too long to draw at 64 px (as a file may hold)
    doc.anatomy = {**doc.anatomy, "heart": too_long.to_dict()}
    moved = heart(doc)
    shown = model.drawn_heart(moved, "4CH", 64, doc.fan)
    assert shown != moved
    assert f"EF {model.ejection_fraction(shown, None):.0f} %</b> biplane" in panel.ef.text()
    assert f"{model.ejection_fraction(shown, '4CH'):.0f} %</b> by area (4CH)" in panel.ef.text()


def test_a_heart_slider_stops_at_the_last_drawable_heart_and_shows_it(window):
    """A heart too long to draw at 64 px used to be drawn nearer the mean heart (the picture
    jumped); the slider stops at the longest heart it can draw and shows it there."""
    panel, doc = window.anatomy_panel, window.document
    model, start, slider = panel.model, heart(doc), panel.sliders["lv_length"]
    slider.setValue(slider.maximum())
    moved = heart(doc)
    assert slider.value() < slider.maximum()
    assert slider.value() == round(model.position(moved, "lv_length") / 3.0 * 60)
    assert model.drawn_heart(moved, "4CH", 64, doc.fan) == moved  # the mask shows this heart
    assert (doc.labels == model.mask(moved, "4CH", 0.0, 64, fan=doc.fan)).all()
    beyond = model.move(start, "lv_length", (slider.value() + 1) / 20 - model.position(start, "lv_length"))
    assert model.view_scale(beyond, "4CH", 64, doc.fan) is None  # the limit, not short of it
    assert "LV length stops at" in panel.status.text()
    # the value at the row's end is where it stopped, not where it was put (+3.0)
    assert panel.values["lv_length"].text() == f"{model.position(moved, 'lv_length'):+.1f}" != "+3.0"
    drag_slider(slider, [slider.value() - 5, slider.maximum()])  # a drag stops there too
    assert model.position(heart(doc), "lv_length") == pytest.approx(model.position(moved, "lv_length"), abs=0.01)
    assert model.drawn_heart(heart(doc), "4CH", 64, doc.fan) == heart(doc)


def test_the_status_line_says_what_the_last_change_did(window):
    panel, doc = window.anatomy_panel, window.document
    assert panel.status.text().startswith(f"Heart #{heart(doc).seed}, 4CH")
    slider = panel.sliders["wall"]
    drag_slider(slider, [slider.value() + 10])
    text, model = panel.status.text(), panel.model
    assert "Fitted" not in text and "Heart #" not in text  # a moved heart is no longer the draw
    assert f"{model.directions['wall']} {model.position(heart(doc), 'wall'):+.1f} SD" in text
    panel.target_ef.setValue(50)
    assert f"EF {model.ejection_fraction(heart(doc), None):.0f} % (biplane)" in panel.status.text()
    window.undo()
    assert "EF" not in panel.status.text() and "SD" not in panel.status.text()


def test_every_slider_shows_its_value_at_its_rows_end_whoever_moves_it(window):
    """The sliders showed no value: only the last one moved was named in the status line."""
    panel, doc = window.anatomy_panel, window.document
    assert set(panel.values) == {"phase", "ef", *panel.sliders, *(f"fan:{key}" for key in panel.fan_sliders)}
    assert panel.values["phase"].text() == "ED"
    panel.phase.setValue(panel.phase.maximum())
    assert panel.values["phase"].text() == "ES"
    panel.phase.setValue(panel.phase.maximum() // 2)
    assert panel.values["phase"].text() == "50 %"
    length = panel.sliders["lv_length"]
    length.setValue(length.value() + 10)
    assert panel.values["lv_length"].text() == f"{panel.model.position(heart(doc), 'lv_length'):+.1f}"
    width = panel.fan_sliders["width"]
    width.setValue(width.value() - 7)
    assert panel.values["fan:width"].text() == f"{doc.fan.width:.0f}\u00b0"
    depth = panel.fan_sliders["depth"]
    depth.setValue(depth.value() + 5)
    assert panel.values["fan:depth"].text() == f"{doc.fan.depth:.2f}"
    assert panel.values["ef"].text() == f"{panel.target_ef.value()} %"
    doc.undo()  # another heart or fan shown: the values follow it
    assert panel.values["fan:depth"].text() == f"{doc.fan.depth:.2f}"
    window.set_document(NewMaskChoice(True, "2CH", "ES", 11, 64).document())
    assert panel.values["phase"].text() == "ES"
    assert panel.values["fan:width"].text() == f"{window.document.fan.width:.0f}\u00b0"
    assert panel.values["lv_length"].text() == \
        f"{panel.model.position(heart(window.document), 'lv_length'):+.1f}"


def test_the_fan_sliders_move_the_fan_as_one_undo_step(window):
    panel, doc = window.anatomy_panel, window.document
    fan = doc.fan
    drag_slider(panel.fan_sliders["width"], [panel.fan_sliders["width"].value() + 10])
    assert doc.fan.width == pytest.approx(fan.width + 10, abs=1.0)
    window.undo()
    assert doc.fan == fan
    panel.fan_sliders["depth"].setValue(panel.fan_sliders["depth"].minimum())  # clamped visibly
    assert doc.fan.problem() is None and doc.fan.depth == pytest.approx(0.5)


def test_the_heart_stays_a_valid_heart_inside_the_fan_at_the_fan_sliders_ends(window):
    from engine.anatomy.topology import topology_problems

    panel, doc = window.anatomy_panel, window.document
    depth, width, tilt = (panel.fan_sliders[key] for key in ("depth", "width", "tilt"))
    for depth_end in (depth.minimum(), depth.maximum()):
        depth.setValue(depth_end)
        for width_end in (width.minimum(), width.maximum()):
            width.setValue(width_end)
            for tilt_end in (tilt.minimum(), tilt.maximum()):
                tilt.setValue(tilt_end)
                where = (doc.fan, panel.status.text())
                assert set(np.unique(doc.labels)) == {0, 1, 2, 3}, where
                assert topology_problems(doc.labels) == [], where
                assert_in_its_fan(doc.labels, doc.fan, where)


def test_a_mask_not_drawn_from_anatomy_offers_to_start_from_one_and_asks_first(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from cardigan_app.editing import LabelDocument

    window.set_document(LabelDocument(np.zeros((64, 64), np.uint8)))
    panel = window.anatomy_panel
    assert not panel.controls.isEnabled() and not panel.start.isHidden()
    panel.start_from_anatomy()  # a blank mask: nothing to lose, no question
    assert window.document.anatomy is not None and (window.document.labels == 1).any()
    window.undo()
    assert not window.document.labels.any()
    painted = np.zeros((64, 64), np.uint8)
    painted[20:40, 20:40] = 1
    window.set_document(LabelDocument(painted))
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    assert not panel.start_from_anatomy() and asked and (window.document.labels == painted).all()


def test_a_mask_without_a_heart_shows_the_sliders_at_the_mean_heart(window):
    from cardigan_app.editing import LabelDocument

    panel = window.anatomy_panel
    drag_slider(panel.sliders["tilt"], [panel.sliders["tilt"].value() + 25])
    drag_slider(panel.phase, [panel.phase.maximum()])
    assert panel.sliders["tilt"].value() != 0 and panel.phase.value() != 0
    painted = np.zeros((64, 64), np.uint8)
    painted[20:40, 20:40] = 1
    window.set_document(LabelDocument(painted))
    assert not panel.controls.isEnabled()
    assert all(slider.value() == 0 for slider in panel.sliders.values()) and panel.phase.value() == 0
    mean_ef = panel.model.ejection_fraction(panel.model.mean_heart(), None)
    assert panel.target_ef.value() == round(mean_ef)
    assert (window.document.labels == painted).all() and window.document.anatomy is None  # only shown


def test_fit_to_mask_gives_a_heart_to_shape(window):
    from cardigan_app.editing import LabelDocument

    model = window.anatomy_panel.model
    labels = model.mask(model.draw(11), "4CH", "ED", 64)
    window.set_document(LabelDocument(labels))
    assert window.anatomy_panel.fit_to_mask()
    assert window.document.anatomy is not None and window.anatomy_panel.controls.isEnabled()
    assert ((window.document.labels == 1) & (labels == 1)).sum() > 0.6 * (labels == 1).sum()


def test_fit_to_mask_finds_the_view_that_fits_and_says_why_it_cannot(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from cardigan_app.editing import LabelDocument
    from engine.anatomy.fitting import overlap

    panel = window.anatomy_panel
    model = panel.model
    labels = model.mask(model.draw(50), "2CH", "ED", 128)  # fits as 4CH only poorly
    panel.view.setCurrentText("4CH")  # left from an earlier heart; the panel is disabled now
    window.set_document(LabelDocument(labels))
    assert panel.fit_to_mask()
    assert window.document.anatomy["view"] == "2CH" and overlap(window.document.labels, labels) > 0.9

    warned, asked = [], []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    window.set_document(LabelDocument(np.zeros((64, 64), np.uint8)))
    assert not panel.fit_to_mask() and window.document.anatomy is None
    assert len(warned) == 1 and "no LV cavity" in warned[0] and "\n" not in warned[0]
    upside_down = labels[::-1].copy()  # the atrium above the apex
    window.set_document(LabelDocument(upside_down))
    assert not panel.fit_to_mask()
    assert len(asked) == 1 and "overlaps only" in asked[0] and "apex at the top" in asked[0]
    assert window.document.anatomy is None and (window.document.labels == upside_down).all()


def test_a_mask_that_is_not_square_says_why_its_heart_buttons_are_off(window):
    from cardigan_app.editing import LabelDocument

    panel = window.anatomy_panel
    window.set_document(LabelDocument(np.zeros((64, 96), np.uint8)))
    assert "square" in panel.status.text()
    assert not panel.start.isEnabled() and not panel.fit.isEnabled() and not panel.controls.isEnabled()
    window.set_document(LabelDocument(np.zeros((64, 64), np.uint8)))
    assert panel.start.isEnabled() and panel.fit.isEnabled()


def test_the_anatomy_and_fan_are_saved_in_the_png_and_reopened(window, tmp_path):
    panel = window.anatomy_panel
    drag_slider(panel.sliders["tilt"], [panel.sliders["tilt"].value() + 25])
    drag_slider(panel.fan_sliders["width"], [panel.fan_sliders["width"].value() - 8])
    saved, fan, tilt = window.document.anatomy, window.document.fan, panel.sliders["tilt"].value()
    assert window.files._write(tmp_path / "heart.png")
    window.files.open_path(tmp_path / "heart.png", confirmed=True)
    assert window.document.anatomy == saved and window.document.fan == fan and panel.controls.isEnabled()
    assert panel.sliders["tilt"].value() == tilt


def test_a_phantom_mask_opens_with_its_heart(window, tmp_path):
    from engine.data.phantom import write_phantom

    write_phantom(tmp_path / "phantom", count=1, size=64, seed=2)
    path = next((tmp_path / "phantom").glob("*/label/*_2CH_ES.png"))
    window.files.open_path(path, confirmed=True)
    panel = window.anatomy_panel
    assert window.document.anatomy is not None and panel.controls.isEnabled() and panel.new_heart.isVisible()
    assert panel.view.currentText() == "2CH" and panel.phase.value() == panel.phase.maximum()  # ES
    # the phantom's 63-bit seed is named by a short id that stays the same for that heart
    seed = heart(window.document).seed
    assert seed >= 10**6 and str(seed) not in panel.status.text()
    name = re.match(r"Random heart ([0-9a-f]{6}), 2CH, 100 %", panel.status.text())
    assert name is not None, panel.status.text()
    assert heart_name(seed) == f"random heart {name.group(1)}"
    drawn = panel.model.mask(heart(window.document), "2CH", "ES", 64, fan=window.document.fan)
    assert np.array_equal(drawn, window.document.labels)


@pytest.mark.parametrize("name, label, size", [("islands", -1, 20), ("largest", -1, 0), ("grow", 2, 2),
                                               ("shrink", 1, 2), ("median", -1, 2), ("close", 2, 2)])
def test_each_mask_tool_is_one_undo_step_and_keeps_labels(window, name, label, size):
    doc = window.document
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 3.5, 3.5, 3, 1)  # a stray island of cavity in the corner
    doc.end_stroke(stroke)
    before, steps = doc.labels.copy(), len(doc.history)
    changed = window.mask_dialogs.apply_tool(name, label, size)
    assert changed == int((doc.labels != before).sum()) > 0
    assert set(np.unique(doc.labels)) <= {0, 1, 2, 3} and len(doc.history) == steps + 1
    if name in ("islands", "largest"):
        assert doc.labels[3, 3] != 1  # the island is gone
    if name == "grow":
        assert (doc.labels == 2).sum() > (before == 2).sum()
    window.undo()
    assert (doc.labels == before).all()


def test_topology_check_reports_problems(window):
    assert window.mask_dialogs.check_topology() == []
    dialog = window.mask_dialogs.topology
    assert dialog.isVisible() and "plausible heart" in dialog.headline.text() and dialog.findings.count() == 0
    doc = window.document
    doc.replace(np.where(doc.labels == 2, 0, doc.labels).astype(np.uint8), "remove the wall")
    problems = window.mask_dialogs.check_topology()
    assert any("no myocardium" in p for p in problems) and "not a plausible heart" in dialog.headline.text()
    assert any("no myocardium" in dialog.findings.item(i).text() for i in range(dialog.findings.count()))


def test_topology_check_lists_every_stray_piece_and_a_click_shows_it(window, qtbot):
    """A piece under a tenth of its structure passes the rules but the model draws it: it is
    listed with its size and place, and clicking it centres the mask on it."""
    doc = window.document
    labels = doc.labels.copy()
    labels[2:5, 2:8] = 1  # 3 x 6 px of cavity in the corner, far outside the wall
    doc.replace(labels, "a stray piece")
    found = window.mask_dialogs.check_topology()
    dialog = window.mask_dialogs.topology
    assert found == ["stray LV cavity piece: 18 px, 6 \u00d7 3 at x 2\u20138, y 2\u20135"]
    assert "1 stray piece" in dialog.headline.text() and dialog.hint.isVisible()
    item = dialog.findings.item(0)
    with qtbot.waitSignal(dialog.pieceSelected) as selected:
        dialog.findings.itemClicked.emit(item)
    assert selected.args[0].size == 18
    canvas = window.canvas
    centre = canvas.to_image(QPointF(canvas.width() / 2, canvas.height() / 2))
    assert abs(centre.x() - 5) < 0.5 and abs(centre.y() - 3.5) < 0.5 and canvas.scale > 4
    assert canvas._flash is not None and "Stray LV cavity piece" in window.statusBar().currentMessage()


def test_the_studio_opens_on_the_most_typical_of_the_first_200_hearts(qtbot, tmp_path, tiny_model):
    from cardigan_app.dialogs.new_mask import FIRST_HEART_SEED
    from engine.anatomy.shape_model import ShapeModel

    model = ShapeModel.default()

    def worst(seed):  # the heart's largest distance from the mean along a slider direction, in SD
        drawn = model.draw(seed)
        return max(abs(model.position(drawn, name)) for name in model.directions)

    distances = [worst(seed) for seed in range(200)]
    assert FIRST_HEART_SEED == int(np.argmin(distances)) and distances[FIRST_HEART_SEED] <= 0.5
    from cardigan_app.main_window import MainWindow
    from cardigan_app.settings import AppSettings

    win = MainWindow(settings=AppSettings(tmp_path / "settings.ini"), autosave_dir=tmp_path / "autosave",
                     model=str(tiny_model))  # no document given: the studio's own first heart
    try:
        assert heart(win.document).seed == FIRST_HEART_SEED
        assert win.files.next_template_seed == FIRST_HEART_SEED + 1
        ef = model.ejection_fraction(heart(win.document), None)
        assert 45 <= ef <= 60, ef  # a heart with a normal biplane EF, not a failing one
    finally:
        close_window(win)


def test_a_fan_slider_stops_at_the_last_usable_fan_and_shows_it(qtbot):
    """A shallow fan made narrower would cover too little of the picture: the slider stops
    at the narrowest usable fan and shows it, and the depth the user chose is kept (the
    whole fan used to jump back to the default one)."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = LabelDocument(np.zeros((64, 64), np.uint8))
    panel.bind(doc)
    depth, width = panel.fan_sliders["depth"], panel.fan_sliders["width"]
    depth.setValue(depth.minimum())
    assert doc.fan.depth == pytest.approx(0.5)
    drag_slider(width, range(width.value(), width.minimum() - 1, -1))
    assert doc.fan.problem() is None and doc.fan.depth == pytest.approx(0.5)
    assert width.minimum() < width.value() < 64 and doc.fan.width == pytest.approx(width.value())
    assert doc.fan.with_shape(width=width.value() - 1).problem() is not None  # the limit, not short of it
    assert len(doc.history) == 2
    width.setValue(width.minimum())  # a click or a key: the same limit
    assert doc.fan.depth == pytest.approx(0.5) and doc.fan.width == pytest.approx(width.value())



def test_a_fan_slider_at_a_fan_between_its_steps_stops_at_that_fan_and_says_so(qtbot):
    """A fan read from a file may lie between two slider steps at the edge of the usable
    ones (32.2 degrees wide, the step below too narrow): a step down found no usable fan on
    the way back, kept the fan as it was and left the slider one step away from it, with
    nothing said. The slider now goes back to the fan in use and the status line says why."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel
    from engine.fan import Fan

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = LabelDocument(np.zeros((64, 64), np.uint8))
    edge = Fan().with_shape(depth=0.6, width=32.2).rounded()
    assert edge.problem() is None and edge.with_shape(width=32).problem() is not None
    doc.fan = edge  # as opening a file sets it
    panel.bind(doc)
    width = panel.fan_sliders["width"]
    assert width.value() == 32
    width.setSliderDown(True)  # the mouse holds the handle: nothing else puts the slider right
    for wanted in (31, 30):
        width.setValue(wanted)
        assert doc.fan == edge and width.value() == 32
        assert "Fan width stops at 32\u00b0: further, the fan would leave the picture" in panel.status.text()
    width.setSliderDown(False)
    width.setValue(31)  # a key press: the same
    assert doc.fan == edge and width.value() == 32 and "Fan width stops at 32\u00b0" in panel.status.text()


def test_a_fan_slider_under_a_heart_drawn_nearer_the_mean_still_stops_at_the_picture(qtbot, monkeypatch):
    """A heart that fits no fan at this size (drawn nearer the mean in each): the fan slider
    cannot stop at the last fan the heart fits, but it still stops at the last usable fan,
    shows it and says why. It used to go on to a fan outside the picture and clamp it,
    moving every fan slider; the document now refuses such a fan, so there is always a fan
    to stop at."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import anatomy_record

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = LabelDocument(np.zeros((64, 64), np.uint8))
    panel.bind(doc)
    panel._begin_step("heart")
    panel._draw(anatomy_record(ShapeModel.default().draw(7), "4CH", 0.0))
    panel._end_step()
    monkeypatch.setattr(ShapeModel, "view_scale", lambda *args: None)  # fits no fan
    panel.fan_sliders["depth"].setValue(50)  # shallow: a narrow fan would cover too little of the picture
    width, before = panel.fan_sliders["width"], doc.fan
    assert before.depth == pytest.approx(0.5)
    width.setSliderDown(True)
    width.setValue(width.minimum())
    width.setSliderDown(False)
    assert doc.fan.problem() is None and doc.fan.width < before.width
    assert doc.fan.with_shape(width=doc.fan.width - 1).problem() is not None  # the last usable one
    assert width.value() == round(doc.fan.width) and panel.fan_sliders["depth"].value() == round(100 * before.depth)
    assert f"Fan width stops at {doc.fan.width:.0f}\u00b0: further, the fan would leave the picture" in \
        panel.status.text()


def test_a_fan_slider_stops_at_the_last_fan_the_heart_can_be_drawn_in(qtbot):
    """A wide heart at 64 px cannot be drawn in a fan narrower than 33 degrees: narrowing
    the fan to 30 degrees drew a heart nearer the mean instead (the picture jumped). The
    slider stops at the narrowest fan the heart fits, shows it and says so, by a drag or a
    click alike; the heart is the user's, unchanged."""
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = widened_heart_document(7, 12)
    panel.bind(doc)
    model, start, width = panel.model, heart(doc), panel.fan_sliders["width"]
    narrowest = doc.fan.with_shape(width=width.minimum())
    assert narrowest.problem() is None and model.view_scale(start, "4CH", 64, narrowest) is None
    for move in (lambda: drag_slider(width, range(width.value(), width.minimum() - 1, -1)),
                 lambda: width.setValue(width.minimum())):
        move()
        assert width.minimum() < width.value() and doc.fan.width == pytest.approx(width.value())
        assert heart(doc) == start and model.drawn_heart(start, "4CH", 64, doc.fan) == start
        assert (doc.labels == model.mask(start, "4CH", "ED", 64, fan=doc.fan)).all()
        beyond = doc.fan.with_shape(width=width.value() - 1)
        assert model.view_scale(start, "4CH", 64, beyond) is None  # the limit, not short of it
        assert "Fan width stops at" in panel.status.text()
        assert doc.undo() and heart(doc) == start and width.value() == 64  # one step, undone
    width.setValue(width.value() + 10)  # back the other way: no stop
    assert "stops" not in panel.status.text() and doc.fan.width == pytest.approx(width.value())


def test_the_status_line_says_when_the_heart_is_drawn_nearer_the_mean(qtbot):
    """A wide heart at 64 px does not fit a 30-degree fan: in one (from a file, or taken from
    the other key frame) the mask shows a heart nearer the mean, and the status line said
    nothing of it. It says so now, while that fan is in use, and no longer once the heart
    fits again."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel

    nearer = "This heart does not fit the fan: drawn nearer the mean heart"
    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    made = widened_heart_document(0, 12)
    narrow = made.fan.with_shape(width=30.0)
    assert panel.model.view_scale(heart(made), "4CH", 64, narrow) is None
    doc = LabelDocument(made.labels)  # as opening a file gives it its heart and fan
    doc.anatomy, doc.fan = made.anatomy, narrow
    panel.bind(doc)
    assert nearer in panel.status.text() and "Heart #12" in panel.status.text()
    doc.set_meta("fan of the other key frame", fan=made.fan)  # the heart fits this one
    assert nearer not in panel.status.text() and "Heart #12" in panel.status.text()
    assert doc.undo() and nearer in panel.status.text()
    panel.phase.setValue(panel.phase.maximum())  # a move of the heart: the warning stays
    assert panel.status.text().startswith("Heart #12, 4CH, 100 % of the way from ED to ES. " + nearer)
    # narrower still, the heart itself fits once shrunk further than the sliders go: it is
    # drawn smaller, not nearer the mean, and the line says that instead
    doc.set_meta("fan of the other key frame", fan=made.fan.with_shape(width=16.0))
    assert panel.model.drawn_heart(heart(made), "4CH", 64, doc.fan) == heart(made)
    assert "drawn smaller" in panel.status.text() and nearer not in panel.status.text()


def test_clear_mask_forgets_the_heart_and_undo_brings_it_back(qtbot):
    """A cleared mask is blank, not the heart it was drawn from: the panel offers to start
    from anatomy again, and a slider can no longer paint pieces of the old heart into it."""
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = NewMaskChoice(True, "4CH", "ED", 3, 64).document()
    panel.bind(doc)
    before, record, fan = doc.labels.copy(), doc.anatomy, doc.fan
    assert record is not None and panel.controls.isEnabled()
    doc.clear()
    assert not doc.labels.any() and doc.anatomy is None and doc.fan == fan and len(doc.history) == 1
    assert not panel.controls.isEnabled() and not panel.start.isHidden()
    doc.undo()
    assert (doc.labels == before).all() and doc.anatomy == record and panel.controls.isEnabled()
    doc.redo()
    assert doc.anatomy is None and not panel.controls.isEnabled()


def held_drag(slider, first: int, meanwhile, then: list[int]) -> None:
    """A slider dragged with the mouse: the handle taken, moved by ``first``, ``meanwhile()``
    done while it is held, moved on by each step of ``then``, and let go."""
    slider.setSliderDown(True)
    slider.setValue(slider.value() + first)
    meanwhile()
    for step in then:
        slider.setValue(slider.value() + step)
    slider.setSliderDown(False)


def test_undo_while_the_mouse_holds_a_slider_leaves_the_drag_one_step(window, qtbot):
    """Ctrl+Z in the middle of a slider drag used to close and undo the drag so far, and
    every later position of the same drag became an undo step of its own."""
    panel, doc = window.anatomy_panel, window.document
    slider = panel.sliders["wall"]
    slider.setValue(slider.value() - 5)  # an edit before the drag
    before, record, steps = doc.labels.copy(), doc.anatomy, len(doc.history)

    def undo_and_redo():
        window.commands["undo"].trigger()
        window.commands["redo"].trigger()
        assert doc.in_stroke and len(doc.history) == steps

    held_drag(slider, 10, undo_and_redo, [10, 10])
    assert len(doc.history) == steps + 1 and not doc.in_stroke
    window.undo()
    assert (doc.labels == before).all() and doc.anatomy == record


def test_clear_mask_and_the_key_frame_switch_wait_while_the_mouse_holds_a_slider(window):
    """Ctrl+Delete or K in the middle of a slider drag closed its step: the drag so far was
    one undo step and the rest another (on the other key frame, for K)."""
    panel, doc = window.anatomy_panel, window.document
    slider = panel.sliders["lv_width"]
    steps, before = len(doc.history), doc.labels.copy()

    def clear_and_switch():
        window.commands["clear"].trigger()
        window.commands["key_frame"].trigger()
        assert window.document is doc and doc.labels.any() and doc.in_stroke

    held_drag(slider, 10, clear_and_switch, [10])
    assert len(doc.history) == steps + 1 and window.state.key_frame == "ED"
    assert window.commands["clear"].isEnabled() and window.commands["key_frame"].isEnabled()
    window.undo()
    assert (doc.labels == before).all()
    window.commands["key_frame"].trigger()  # let go, K switches again
    assert window.state.key_frame == "ES" and window.document is not doc


def test_commands_that_replace_or_save_the_document_wait_while_the_mouse_holds_a_slider(monkeypatch, window):
    """Ctrl+N, Ctrl+O, tracing an image, Save and the like in the middle of a slider drag
    asked about the half-made drag, opened a file dialog under the held mouse, or put another
    mask under the drag (its step left open on a document no longer edited)."""
    from PySide6.QtWidgets import QDialog

    from cardigan_app import mask_files
    from cardigan_app.dialogs.prompts import Choice
    from cardigan_app.main_window import WAIT_FOR_SLIDER

    asked: list[str] = []
    monkeypatch.setattr(mask_files, "ask_unsaved", lambda *args: asked.append("unsaved") or Choice.DISCARD)
    monkeypatch.setattr(mask_files.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args: asked.append("open") or ("", "")))
    monkeypatch.setattr(mask_files.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args: asked.append("save") or ("", "")))
    monkeypatch.setattr(mask_files.NewMaskDialog, "exec",
                        lambda self: asked.append("new") or QDialog.DialogCode.Rejected)
    panel, doc, recent = window.anatomy_panel, window.document, window.menus.recent.menuAction()
    slider = panel.sliders["lv_width"]
    steps, before = len(doc.history), doc.labels.copy()
    names = ("new", "new_deformed", "open", "trace", "save", "save_as")

    def replace_open_and_save():
        for name in names:
            window.commands[name].trigger()
        assert asked == [] and window.document is doc and doc.in_stroke and doc.path is None
        assert not any(window.commands[name].isEnabled() for name in names) and not recent.isEnabled()

    held_drag(slider, 10, replace_open_and_save, [10])
    assert len(doc.history) == steps + 1 and set(names) <= set(WAIT_FOR_SLIDER)
    assert all(window.commands[name].isEnabled() for name in WAIT_FOR_SLIDER) and recent.isEnabled()
    window.commands["open"].trigger()  # let go, Ctrl+O asks again
    assert asked == ["unsaved", "open"] and window.document is doc
    window.undo()
    assert (doc.labels == before).all()


def handle_in_window(slider):
    """The centre of ``slider``'s handle, in its window's coordinates."""
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    handle = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                           QStyle.SubControl.SC_SliderHandle, slider)
    return slider.mapTo(slider.window(), handle.center())


class HeldSlider(NamedTuple):
    """A slider the mouse holds, pressed through the window system as a hand would press it:
    the document's step count, labels and slider value before, and where the press was."""
    slider: object
    steps: int
    before: np.ndarray
    value: int
    at: object
    screen: object


def hold_slider(window, name: str, dx: int) -> HeldSlider:
    """Press ``name``'s handle and move it ``dx`` pixels, the mouse still down."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    doc, slider = window.document, window.anatomy_panel.sliders[name]
    held = HeldSlider(slider, len(doc.history), doc.labels.copy(), slider.value(),
                      handle_in_window(slider), window.windowHandle())
    assert window.childAt(held.at) is slider
    QTest.mousePress(held.screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, held.at)
    QTest.mouseMove(held.screen, held.at + QPoint(dx, 0))
    assert slider.isSliderDown() and slider.value() != held.value and doc.in_stroke
    return held


# what a shortcut opens while the mouse holds a slider: a modal dialog (True) takes the mouse,
# so the slider never hears its release; a window of its own (False) does not
DIALOG_SHORTCUTS = {"export_image": True, "open_model": True, "shortcuts": True, "dataset": True,
                    "quit": True, "topology": False, "mask_tools": False, "new_training": False}


@pytest.mark.parametrize("name", DIALOG_SHORTCUTS)
def test_a_dialog_opened_while_the_mouse_holds_a_slider_leaves_its_drag_one_closed_step(window, qtbot, name):
    """Ctrl+E, Ctrl+L, F1, Ctrl+Shift+O or Ctrl+Q in the middle of a slider drag opened a
    modal dialog, which took the mouse: the release never reached the slider, so its undo
    step stayed open (Undo, Save and New did nothing) until the slider was next taken."""
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from shiboken6 import isValid

    panel, doc = window.anatomy_panel, window.document
    slider, steps, before, value, at, screen = hold_slider(window, "wall", 30)
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    seen = []

    def let_go_and_close() -> None:
        modal = QApplication.activeModalWidget()
        if DIALOG_SHORTCUTS[name] and modal is None:  # not up yet
            QTimer.singleShot(10, let_go_and_close)
            return
        QTest.mouseRelease(screen, left, none, at + QPoint(30, 0))
        if modal is not None:
            QTest.keyClick(modal, Qt.Key.Key_Escape)  # Cancel
        seen.append(modal is not None)  # the dialog itself is gone by now

    QTimer.singleShot(0, let_go_and_close)
    try:
        window.commands[name].trigger()
        qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
        held = slider.isSliderDown(), panel.dragging, doc.in_stroke
    finally:  # let go in any case: a step left open would stop the window closing
        slider.setSliderDown(False)
        for widget in QApplication.topLevelWidgets():  # the windows of their own
            if isValid(widget) and widget is not window and widget.isVisible():
                widget.close()
    assert seen == [DIALOG_SHORTCUTS[name]] and window.isVisible()
    assert held == (False, False, False)
    assert len(doc.history) == steps + 1 and all(window.commands[c].isEnabled() for c in ("save", "new", "open"))
    window.undo()
    assert (doc.labels == before).all() and slider.value() == value


def test_a_drag_whose_step_something_closed_stays_one_step_to_its_end(window):
    panel, doc = window.anatomy_panel, window.document
    slider = panel.fan_sliders["width"]
    steps = len(doc.history)
    held_drag(slider, 2, lambda: doc.fill(1, 1, 3), [1] * 5)  # another edit closed the step mid-drag
    assert len(doc.history) == steps + 3 and doc.history.undo_description == "anatomy: fan width"


def test_a_fan_beyond_the_slider_ranges_is_shown_as_it_is_and_nudged_from_there(qtbot):
    """A fan fitted to a traced image or read from a file may open wider (or reach deeper)
    than the sliders' usual ranges: the sliders sat at their ends, and the first nudge
    jumped the fan to the slider's value."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = LabelDocument(np.zeros((64, 64), np.uint8))
    wide = doc.fan.with_shape(width=130.0, depth=1.6, tilt=-20.0)
    assert wide.problem() is None
    doc.fan = wide  # as opening a file sets it
    panel.bind(doc)
    width, depth, tilt = (panel.fan_sliders[k] for k in ("width", "depth", "tilt"))
    assert (width.value(), depth.value(), tilt.value()) == (130, 160, -20)
    assert "130" in width.toolTip() and "beyond" in width.toolTip()
    width.setValue(width.value() - 1)  # a key press: one step down from the real fan
    assert doc.fan.width == pytest.approx(129.0) and doc.fan.depth == pytest.approx(1.6)
    assert doc.fan.tilt == pytest.approx(-20.0)
    depth.setValue(depth.value() - 1)
    assert doc.fan.depth == pytest.approx(1.59) and doc.fan.width == pytest.approx(129.0)
    doc.undo()
    doc.undo()
    assert doc.fan == wide and width.value() == 130
    doc.fan = wide.with_shape(width=60.0, depth=1.0, tilt=0.0)  # back inside: the usual ranges
    assert (width.minimum(), width.maximum()) == (30, 100) and (depth.maximum(), tilt.minimum()) == (130, -25)
    assert "beyond" not in width.toolTip()


def test_switching_tools_while_the_mouse_holds_a_slider_leaves_the_drag_one_step(window):
    panel, doc = window.anatomy_panel, window.document
    slider = panel.sliders["atrium"]
    steps = len(doc.history)

    def switch_tools():  # E then B, while the mouse still holds the handle
        window.commands["tool_eraser"].trigger()
        window.commands["tool_brush"].trigger()
        assert doc.in_stroke

    held_drag(slider, 10, switch_tools, [10])
    assert len(doc.history) == steps + 1


def test_a_slider_drag_with_a_brush_stroke_inside_it_undoes_step_by_step(qtbot):
    """The panel holds its drag's step by its token: a brush stroke made while the slider is
    held closes the drag so far; the drag goes on as a step of its own, and undo takes back
    each step in turn, heart and pixels together."""
    from cardigan_app.editing.tools import BrushTool, ToolSettings
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = NewMaskChoice(True, "4CH", "ED", 3, 64).document()
    panel.bind(doc)
    brush = BrushTool(ToolSettings(active_label=3, brush_diameter=5))
    brush.activate(doc)
    slider = panel.sliders["wall"]
    start, states = slider.value(), [(doc.labels.copy(), doc.anatomy)]

    def paint():
        states.append((doc.labels.copy(), doc.anatomy))
        brush.press(10.5, 10.5)
        brush.drag(20.5, 10.5)
        brush.release(20.5, 10.5)
        states.append((doc.labels.copy(), doc.anatomy))
        assert not doc.in_stroke

    held_drag(slider, 10, paint, [10, 10])
    assert [e.description for e in doc.history.undo_steps()] == ["anatomy: wall", "brush stroke",
                                                                 "anatomy: wall"]
    assert heart(doc) != Heart.from_dict(states[-1][1]["heart"])  # the drag went on after the stroke
    for labels, record in reversed(states):
        assert doc.undo() and (doc.labels == labels).all() and doc.anatomy == record
    assert not doc.undo() and slider.value() == start


def status_writes(panel, monkeypatch) -> list[str]:
    """The texts the panel's status line is given from now on, in order."""
    written: list[str] = []
    set_text = panel.status.setText
    monkeypatch.setattr(panel.status, "setText", lambda text: (written.append(text), set_text(text)))
    return written


@pytest.mark.parametrize("name", ["wall", "ef", "phase", "fan:width"])
def test_a_key_press_on_a_slider_writes_the_status_line_once(qtbot, monkeypatch, name):
    """A key press moved the heart, wrote the status line, then closed its step and wrote the
    whole panel again, status line included: two writes for one press. A drag writes it at
    each position and once more at the release, where the rest of the panel follows."""
    from PySide6.QtWidgets import QSlider

    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    panel.bind(NewMaskChoice(True, "4CH", "ED", 3, 64).document())
    slider = panel.findChild(QSlider, name)
    step = 3 if slider.value() < (slider.minimum() + slider.maximum()) / 2 else -3  # toward the middle
    written = status_writes(panel, monkeypatch)
    slider.setValue(slider.value() + step)  # what a key press does
    assert len(written) == 1 and written[0] == panel.status.text()
    written.clear()
    drag_slider(slider, [slider.value() + step, slider.value() + 2 * step])
    assert len(written) == 3 and written[-1] == panel.status.text()


def test_the_target_ef_slider_stops_at_the_last_drawable_heart_and_says_so(qtbot, monkeypatch):
    """Like the other heart sliders, the target EF stops where the heart can no longer be
    drawn: here a fit check that takes no biplane EF above 60 % stands in for a heart too large
    for its fan (no shipped heart reaches that limit at the EF slider's ends)."""
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = NewMaskChoice(True, "4CH", "ED", 3, 64).document()
    panel.bind(doc)
    model, start = panel.model, heart(doc)
    assert model.ejection_fraction(start, None) < 55
    monkeypatch.setattr(panel, "_drawable", lambda h, record, fan=None: model.ejection_fraction(h, None) <= 60)
    panel.target_ef.setValue(75)
    ef = model.ejection_fraction(heart(doc), None)
    assert 55 < ef <= 60 and panel.target_ef.value() < 75
    beyond = model.with_ejection_fraction(start, panel.target_ef.value() + 1.0, None)
    assert model.ejection_fraction(beyond, None) > 60  # the limit, not short of it
    assert f"Target EF stops at {ef:.0f} %: beyond it this heart does not fit the fan" in panel.status.text()
    panel.target_ef.setValue(panel.target_ef.value() - 2)
    assert f"End-systole moved to EF {model.ejection_fraction(heart(doc), None):.0f} % (biplane)" in \
        panel.status.text()


@pytest.mark.parametrize("how", ["alt_letter", "popup_menu", "tooltip"])
def test_a_menu_opened_from_the_keyboard_mid_drag_leaves_the_drag_one_closed_step(window, qtbot, how):
    """Alt+F in the middle of a slider drag opened the File menu, a popup that took the
    mouse: the release went to the menu, and the drag's step stayed open (Undo, Save and New
    did nothing) until the slider was next taken. A popup now ends the drag where it is, as
    a modal dialog does; a tooltip, which takes nothing, leaves it held."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QToolTip

    panel, doc = window.anatomy_panel, window.document
    slider, steps, before, value, at, screen = hold_slider(window, "wall", 30)
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:
        if how == "alt_letter":
            QTest.keyClick(screen, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
        elif how == "popup_menu":
            window.menus.recent.popup(window.mapToGlobal(QPoint(10, 10)))
        else:
            QToolTip.showText(window.mapToGlobal(at), "a tooltip", slider)
        popup = QApplication.activePopupWidget()
        assert (popup is not None) == (how != "tooltip") and QToolTip.isVisible() == (how == "tooltip")
        held = slider.isSliderDown(), panel.dragging, doc.in_stroke
        QTest.mouseRelease(screen, left, none, at + QPoint(30, 0))  # to the popup, when there is one
    finally:
        if QApplication.activePopupWidget() is not None:
            QApplication.activePopupWidget().close()
        slider.setSliderDown(False)
    if how == "tooltip":
        assert held == (True, True, True)
    else:
        assert held == (False, False, False)
        assert all(window.commands[c].isEnabled() for c in ("save", "new", "open"))
    assert len(doc.history) == steps + 1
    window.undo()
    assert (doc.labels == before).all() and slider.value() == value


@pytest.mark.parametrize("name", ["wall", "ef", "fan:depth"])
def test_a_slider_move_draws_the_heart_once(qtbot, monkeypatch, name):
    """A move asks the shape model three times for its heart (is it drawable, its mask, the
    heart the mask shows for the EF line); the model's memo of drawn hearts makes that one
    drawing, the cost of a move. Counted in rasterised label maps: the move draws as many
    as drawing its heart once does."""
    from PySide6.QtWidgets import QSlider

    from cardigan_app.panels import AnatomyPanel
    from engine.anatomy import shape_model

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    doc = NewMaskChoice(True, "4CH", "ED", 3, 64).document()
    panel.bind(doc)
    drawn: list[int] = []
    draw_labels = shape_model.draw_labels
    monkeypatch.setattr(shape_model, "draw_labels", lambda *args: drawn.append(1) or draw_labels(*args))
    slider = panel.findChild(QSlider, name)
    shape_model._fitted_view.cache_clear()
    slider.setValue(slider.value() + 2)
    assert "stops" not in panel.status.text()
    by_the_move = len(drawn)
    shape_model._fitted_view.cache_clear()
    drawn.clear()
    assert panel.model.view_scale(heart(doc), "4CH", 64, doc.fan) is not None
    assert by_the_move == len(drawn) > 0


@pytest.mark.parametrize("how", ["action", "ctrl_m", "ctrl_m_focused"])
def test_the_mask_tools_window_opened_mid_drag_leaves_the_drag_one_closed_step(window, qtbot, how):
    """Ctrl+M in the middle of a slider drag opens Mask tools, a window of its own that takes
    no mouse: the drag goes on to the release (mouse moves after it still move the heart, in
    the same step), even when the window has the keyboard focus, and ends as one closed step
    with Save, New and Open back."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    panel, doc = window.anatomy_panel, window.document
    slider, steps, before, value, at, screen = hold_slider(window, "wall", 20)
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:
        if how == "action":
            window.commands["mask_tools"].trigger()
        else:
            QTest.keyClick(screen, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
        tools = window.mask_dialogs.tools
        assert tools is not None and tools.isVisible() and not tools.isModal()
        if how == "ctrl_m_focused":
            tools.activateWindow()
            qtbot.waitUntil(lambda: QApplication.activeWindow() is tools, timeout=5_000)
        assert slider.isSliderDown() and panel.dragging and doc.in_stroke  # the drag goes on
        assert not any(window.commands[c].isEnabled() for c in ("save", "new", "open"))
        moved = slider.value()
        QTest.mouseMove(screen, at + QPoint(40, 0))
        assert slider.value() != moved and len(doc.history) == steps
        QTest.mouseRelease(screen, left, none, at + QPoint(40, 0))
        held = slider.isSliderDown(), panel.dragging, doc.in_stroke
    finally:
        slider.setSliderDown(False)
        if window.mask_dialogs.tools is not None:
            window.mask_dialogs.tools.close()
    assert held == (False, False, False)
    assert len(doc.history) == steps + 1 and doc.history.undo_description == "anatomy: wall"
    assert all(window.commands[c].isEnabled() for c in ("save", "new", "open"))
    window.undo()
    assert (doc.labels == before).all() and slider.value() == value


def test_mask_tools_apply_waits_while_the_mouse_holds_a_slider(window):
    """Apply in Mask tools (Enter in its focused window) in the middle of a slider drag
    replaced the whole mask under the drag and split its step in three, as Clear mask did
    before it waited: Apply now waits for the release, like the other whole-mask edits."""
    panel, doc = window.anatomy_panel, window.document
    slider = panel.sliders["wall"]
    steps = len(doc.history)

    def open_tools_and_apply():
        window.commands["mask_tools"].trigger()
        tools = window.mask_dialogs.tools
        tools.operation.setCurrentIndex(tools.operation.count() - 1)  # another operation: still waits
        assert not tools.apply_button.isEnabled() and "waits" in tools.note.text()
        tools.apply_button.click()  # what Enter or a click would do, were it enabled
        assert doc.in_stroke and len(doc.history) == steps

    try:
        held_drag(slider, 10, open_tools_and_apply, [10])
        assert len(doc.history) == steps + 1 and doc.history.undo_description == "anatomy: wall"
        assert window.mask_dialogs.tools.apply_button.isEnabled()
        slider.setSliderDown(True)  # a tools window already open: its Apply waits too
        assert not window.mask_dialogs.tools.apply_button.isEnabled()
        slider.setSliderDown(False)
        assert window.mask_dialogs.tools.apply_button.isEnabled()
    finally:  # let go in any case: a step left open would stop the window closing
        slider.setSliderDown(False)
        if window.mask_dialogs.tools is not None:
            window.mask_dialogs.tools.close()


def test_the_panel_fits_a_1280_by_800_window_down_to_the_fans_last_slider(window, qtbot):
    """At 1280 x 800 the bottom of the Probe fan group (Depth, Width, Tilt) lay under the
    panel's scroll bar: with the key-frame EF line and a slider's stop note shown, every
    slider is in view without scrolling."""
    from PySide6.QtWidgets import QApplication, QScrollArea, QSlider

    panel = window.anatomy_panel
    window.set_document(widened_heart_document(7, 12))
    window.resize(1280, 800)
    width = panel.fan_sliders["width"]
    width.setValue(width.minimum())  # a wide heart stops the fan short of its narrowest
    panel.set_key_frame_ef(40.0)
    QApplication.processEvents()
    assert "Fan width stops at" in panel.status.text() and panel.key_frame_ef.isVisible()
    scroll = window.anatomy_dock.widget()
    assert isinstance(scroll, QScrollArea) and scroll.widget() is panel
    viewport = scroll.viewport().rect()
    fan = panel.fan_box
    assert viewport.contains(fan.mapTo(scroll.viewport(), fan.rect().bottomRight()))
    sliders = panel.findChildren(QSlider)
    assert len(sliders) == 1 + len(panel.sliders) + 1 + len(panel.fan_sliders)
    for slider in sliders:
        assert slider.isVisible(), slider.objectName()
        place = slider.rect().translated(slider.mapTo(scroll.viewport(), slider.rect().topLeft()))
        assert viewport.contains(place), slider.objectName()
        value = panel.values[slider.objectName()]  # and its value beside it, not cut short
        place = value.rect().translated(value.mapTo(scroll.viewport(), value.rect().topLeft()))
        assert value.isVisible() and viewport.contains(place), value.objectName()
        assert value.fontMetrics().horizontalAdvance(value.text()) <= value.width(), value.text()


def test_the_ef_line_is_the_ef_of_the_masks_when_not_even_the_mean_heart_fits_the_fan(qtbot):
    """In a fan the mean heart does not fit at the usual shrink (a 14-degree one at 64 px, as
    a file may hold), ED and ES were drawn each on its own and heart #7's masks measured 3 %
    against its 34 %, so the line showed no EF. Both are now drawn from one heart: the line
    shows that heart's EF, which is what its masks measure."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel
    from engine.anatomy.measures import ejection_fraction_by_area

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    model, made = panel.model, NewMaskChoice(True, "4CH", "ED", 7, 64).document()
    narrow = made.fan.with_shape(width=14.0)
    assert narrow.problem() is None and model.view_scale(model.mean_heart(), "4CH", 64, narrow) is None
    seven = heart(made)
    drawn_heart = model.drawn_heart(seven, "4CH", 64, narrow)
    shown = model.ejection_fraction(drawn_heart, "4CH")
    drawn = ejection_fraction_by_area(*(model.mask(seven, "4CH", phase, 64, fan=narrow) for phase in ("ED", "ES")))
    assert drawn == pytest.approx(shown, abs=3.0)  # the masks show the EF of the line
    doc = LabelDocument(made.labels)
    doc.anatomy, doc.fan = made.anatomy, narrow
    panel.bind(doc)
    assert panel.ef.isVisibleTo(panel) and f"<b>{shown:.0f} %</b> by area (4CH)" in panel.ef.text()
    assert "biplane" in panel.ef.text() and panel.target_ef.value() == round(model.ejection_fraction(drawn_heart, None))


def test_the_ef_line_says_it_is_the_heart_model_s_and_how_that_differs_from_the_painted_masks(qtbot):
    """The panel's "EF 36 % by area (4CH)" sat beside the timeline's EF of the painted loop
    with nothing saying that one is the shape model's heart and the other the masks as painted."""
    panel, doc = panel_on_a_heart(qtbot)
    assert panel.ef.text().startswith("Heart model: <b>EF ")
    tip = panel.ef.toolTip()
    assert tip.startswith("The shape model's heart") and "timeline" in tip and "as painted" in tip


def test_a_slider_that_moves_the_heart_off_its_preset_clears_the_preset_box(qtbot):
    """After "Dilated LV" was applied and the wall slider then thinned that heart, the box still
    said "Dilated LV" beside a heart that no longer was. Applying a preset moves the sliders
    itself and keeps the name; a slider moved after it clears the box; a preset chosen but
    not yet applied stays chosen."""
    from cardigan_app.panels.heart_presets import NO_PRESET

    panel, doc = panel_on_a_heart(qtbot)
    panel.preset.setCurrentIndex(panel.preset.findData("dilated_lv"))
    panel.apply.click()  # its own slider moves keep the name
    assert heart(doc) == panel.model.preset("dilated_lv") and panel.preset.currentText() == "Dilated LV"
    panel.phase.setValue(panel.phase.maximum())  # the same heart at ES: still the preset
    assert panel.preset.currentText() == "Dilated LV"
    wall = panel.sliders["wall"]
    drag_slider(wall, [wall.value() - 5, wall.value() - 10])
    assert heart(doc) != panel.model.preset("dilated_lv")
    assert panel.preset.currentIndex() == -1 and panel.preset.placeholderText() == NO_PRESET
    assert not panel.apply.isEnabled()
    panel.preset.setCurrentIndex(panel.preset.findData("enlarged_atrium"))  # chosen, not applied
    panel.target_ef.setValue(panel.target_ef.value() - 5)
    assert panel.preset.currentData() == "enlarged_atrium" and panel.apply.isEnabled()
    panel.apply.click()
    panel.target_ef.setValue(panel.target_ef.value() - 5)  # Target EF moves the heart too
    assert panel.preset.currentIndex() == -1



def test_the_dilated_lv_preset_has_a_reduced_ef_on_its_masks(qtbot):
    """"Dilated LV" was applied at a normal EF (54 % biplane). Its masks (this one and the
    other three of the heart at this size) now measure a reduced EF, as the EF line and the
    Target EF slider say."""
    from engine.anatomy.clinical_presets import DILATED_EF_RANGE
    from engine.anatomy.landmarks import find_landmarks
    from engine.anatomy.measures import simpson_biplane_ef

    panel, doc = panel_on_a_heart(qtbot)
    panel.preset.setCurrentIndex(panel.preset.findData("dilated_lv"))
    panel.apply.click()
    masks = {(view, phase): panel.model.mask(heart(doc), view, phase, 64, fan=doc.fan if view == "4CH" else None)
             for view in ("2CH", "4CH") for phase in ("ED", "ES")}
    assert np.array_equal(masks[("4CH", "ED")], doc.labels)
    ef = simpson_biplane_ef(*(find_landmarks(labels).endo for labels in masks.values()))
    low, high = DILATED_EF_RANGE
    assert low <= ef <= high and low <= panel.target_ef.value() <= high
    assert f"EF {panel.target_ef.value()} %</b> biplane" in panel.ef.text()


def test_undoing_a_preset_clears_its_name_and_redo_names_it_again(qtbot):
    """After Ctrl+Z took back "Dilated LV", the box still named it beside the heart before it.
    The box names a preset only while the heart is that preset's; one chosen, not applied,
    stays chosen through an undo."""
    panel, doc = panel_on_a_heart(qtbot)
    panel.preset.setCurrentIndex(panel.preset.findData("dilated_lv"))
    panel.apply.click()
    assert panel.preset.currentText() == "Dilated LV"
    assert doc.undo() and heart(doc) != panel.model.preset("dilated_lv")
    assert panel.preset.currentIndex() == -1 and not panel.apply.isEnabled()
    assert doc.redo() and heart(doc) == panel.model.preset("dilated_lv")
    assert panel.preset.currentText() == "Dilated LV"
    panel.preset.setCurrentIndex(panel.preset.findData("enlarged_atrium"))  # chosen, not applied
    assert doc.undo() and panel.preset.currentData() == "enlarged_atrium" and panel.apply.isEnabled()

def panel_on_a_heart(qtbot):
    """An Anatomy panel alone, bound to a new 4CH ED heart's mask (seed 3, 64 px): (panel, document)."""
    from cardigan_app.editing import LabelDocument
    from cardigan_app.panels import AnatomyPanel

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    made = NewMaskChoice(True, "4CH", "ED", 3, 64).document()
    doc = LabelDocument(made.labels)
    doc.anatomy, doc.fan = made.anatomy, made.fan
    panel.bind(doc)
    return panel, doc


def test_an_ef_a_hair_below_zero_reads_zero_not_minus_zero(qtbot):
    """Key frames painted alike gave an EF of -0.3 %, shown as "EF -0 %"."""
    from cardigan_app.cine.timeline import loop_status

    panel, _ = panel_on_a_heart(qtbot)
    panel.set_key_frame_ef(-0.3)
    assert panel.key_frame_ef.text() == "Key frames ED\u2192ES: EF 0 % by area"
    assert loop_status(12, -0.4) == "12 frames, painted: EF 0 % by area"
    assert loop_status(12, 30.6) == "12 frames, painted: EF 31 % by area"


def test_mask_tools_obey_the_paint_over_rule_and_the_fan(window):
    """Growing the wall with "Over: Background" ate into the cavity and the atrium, and a
    grown class spread onto the black outside the fan; an Apply that changed nothing said
    "0 pixels changed" with no reason. Now the tools change what the brush could."""
    from engine.fan import edge_distance

    doc, state = window.document, window.state
    window.commands["mask_tools"].trigger()
    tools = window.mask_dialogs.tools
    try:
        state.set("paint_over", 0)
        assert "Changes only background pixels (Over: Background only)" in tools.rule.text()
        outside = edge_distance(doc.fan, *doc.shape) < -0.5
        stroke = doc.begin_stroke()
        doc.stroke_to(stroke, 2.5, 2.5, 3, 2)  # a dab of wall in the corner, outside the fan
        doc.end_stroke(stroke)
        assert outside[2, 2] and doc.labels[2, 2] == 2
        before, steps = doc.labels.copy(), len(doc.history)
        assert window.mask_dialogs.apply_tool("grow", 2, 3) > 0 and len(doc.history) == steps + 1
        moved = doc.labels != before
        assert (before[moved] == 0).all() and (doc.labels[moved] == 2).all()  # only background became wall
        assert not moved[outside].any()  # and none of it outside the fan
        assert "kept by Over: Background only" in tools.note.text() and "kept by the fan" in tools.note.text()
        window.undo()
        assert window.mask_dialogs.apply_tool("shrink", 2, 2) == 0  # the wall's pixels are not background
        assert len(doc.history) == steps and np.array_equal(doc.labels, before)  # no empty step
        assert "changed nothing" in tools.note.text() and "Over: Background only" in tools.note.text()
        state.set("paint_over", None)
        assert "Over: Every class" in tools.rule.text()
        assert window.mask_dialogs.apply_tool("shrink", 2, 2) > 0
    finally:
        tools.close()



def test_a_mask_with_a_pixel_spacing_shows_its_lv_size_in_mm(qtbot, tmp_path):
    """A NIfTI mask at 0.3 mm pixels, read as the studio opens it: the LV's length as the engine
    measures it, x 0.3 mm per pixel, and its area; followed through an edit and its undo; none
    for a mask without a recorded spacing."""
    import SimpleITK as sitk

    from cardigan_app.editing import LabelDocument
    from cardigan_app.mask_reading import read_mask_file
    from cardigan_app.panels import AnatomyPanel
    from engine.anatomy import template_mask
    from engine.anatomy.descriptors import describe

    panel = AnatomyPanel()
    qtbot.addWidget(panel)
    labels = template_mask("2CH", "ED", seed=4, size=64)
    panel.bind(LabelDocument(labels))
    assert panel.lv_size.isHidden()  # no spacing known: no mm made up
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing((0.3, 0.3))
    path = tmp_path / "mask.nii.gz"
    sitk.WriteImage(image, str(path))
    read = read_mask_file(path)
    doc = LabelDocument(read.labels, path=path)
    doc.geometry = read.geometry
    panel.bind(doc)
    length = describe(labels)["lv_length"] * 64 * 0.3
    area = (labels == 1).sum() * 0.09 / 100
    line = f"LV length {length:.1f} mm \u00b7 area {area:.1f} cm\u00b2 (as painted)"
    assert not panel.lv_size.isHidden() and panel.lv_size.text() == line
    y, x = np.argwhere(labels == 1)[0]
    doc.fill(x, y, 2)  # the cavity painted over: nothing to measure
    assert panel.lv_size.isHidden()
    doc.undo()
    assert panel.lv_size.text() == line and not panel.lv_size.isHidden()
