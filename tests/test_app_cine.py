"""The studio's cine loop: ED and ES key frames, each with its own undo, and a timeline."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cardigan_app.cine.key_frames import heart_as_drawn
from cardigan_app.dialogs.new_mask import NewMaskChoice
from cardigan_app.mask_reading import reference_frames
from cardigan_app.testing import close_window, open_window
from hearts_in_fans import assert_in_its_fan


@pytest.fixture
def window(qtbot, tmp_path, tiny_model):
    win = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    win.set_document(NewMaskChoice(True, "4CH", "ED", 5, 64).document())
    qtbot.waitUntil(win.live.up_to_date, timeout=20_000)
    yield win
    close_window(win)


def exported(window, qtbot, path) -> bool:
    """Export the loop to ``path`` and wait until it is written; whether it started."""
    started = window.exporter.export_cine(path)
    qtbot.waitUntil(lambda: not window.exporter.writing_cine, timeout=60_000)
    return started


def test_the_key_frame_switch_says_where_you_are_and_where_k_goes(window):
    """It read "Edit ES key frame" as a check box, odd while on ES since K switches both
    ways: it is the ES key frame, checked there, and its tooltip says where K goes."""
    action = window.commands["key_frame"]
    assert action.text().replace("&", "") == "ES key frame" and not action.isChecked()
    assert action.toolTip() == "Editing the ED key frame of the cine loop; K switches to ES (end-systole) (K)"
    action.trigger()
    assert window.state.key_frame == "ES" and action.isChecked()
    assert action.toolTip() == "Editing the ES key frame of the cine loop; K switches to ED (end-diastole) (K)"
    action.trigger()
    assert window.state.key_frame == "ED" and not action.isChecked() and "switches to ES" in action.toolTip()


def test_key_frames_switch_with_their_own_undo_and_the_ef_follows(window, qtbot):
    ed = window.document
    assert window.key_frames.frames["ES"] is None and window.anatomy_panel.key_frame_ef.text() == ""
    window.commands["key_frame"].trigger()  # K: edit ES
    assert window.state.key_frame == "ES"
    es = window.document
    assert es is not ed and es.anatomy["phase"] == 1.0 and es.fan == ed.fan
    assert (es.labels == 1).sum() < (ed.labels == 1).sum()  # the same heart, contracted
    qtbot.waitUntil(lambda: "EF" in window.anatomy_panel.key_frame_ef.text(), timeout=5_000)
    ef_before = window.key_frames.ejection_fraction()
    es.replace(np.where(es.labels == 1, 2, es.labels).astype(np.uint8), "cavity to wall")  # ES much smaller
    assert window.key_frames.ejection_fraction() > ef_before
    window.commands["key_frame"].trigger()  # back to ED: its history is its own
    assert window.document is ed and not ed.history.can_undo
    window.commands["key_frame"].trigger()
    assert window.document is es and es.history.can_undo
    window.undo()
    assert window.key_frames.ejection_fraction() == pytest.approx(ef_before)
    assert "ES" in window.windowTitle()


def test_the_mask_pane_names_the_key_frame_edited(window):
    """The key frame edited is named over the mask itself, not only in the window's title."""
    title = window.workspace.mask_pane.title
    assert "key frame" not in title.text()  # one mask, no loop: nothing to tell apart
    window.commands["key_frame"].trigger()
    assert "ES key frame" in title.text()
    window.commands["key_frame"].trigger()
    assert "ED key frame" in title.text()


def test_the_fan_set_on_either_key_frame_is_both_frames_fan(window):
    ed = window.document
    window.commands["key_frame"].trigger()
    es = window.document
    deeper = es.fan.with_shape(depth=0.8)
    es.set_meta("fan", fan=deeper)  # set on ES: the loop and the ES still's anchor use ED's
    assert es.fan == deeper and ed.fan == deeper
    assert ed.modified and ed.history.can_undo  # an edit of ED as well: its file is saved with it
    window.undo()
    assert es.fan != deeper and ed.fan == es.fan
    window.commands["key_frame"].trigger()
    ed.set_meta("fan", fan=ed.fan.with_shape(width=60.0))
    assert es.fan == ed.fan and abs(es.fan.width - 60.0) < 1e-9



def test_a_fan_slider_drag_is_one_step_on_the_other_key_frame_too(window):
    ed = window.document
    window.commands["key_frame"].trigger()
    es = window.document
    window.commands["key_frame"].trigger()
    assert window.document is ed and not es.history.can_undo
    slider = window.anatomy_panel.fan_sliders["width"]
    start = slider.value()
    slider.sliderPressed.emit()
    for value in range(start - 1, start - 12, -1):
        slider.setValue(value)
    slider.sliderReleased.emit()
    assert ed.fan.width == pytest.approx(start - 11, abs=0.5) and es.fan == ed.fan
    assert len(ed.history) == 1 and len(es.history) == 1  # not one step per position passed
    window.undo()
    assert es.fan == ed.fan and ed.fan.width == pytest.approx(start, abs=0.5)


@pytest.mark.parametrize("undone_on", ["ED", "ES"])
def test_undo_and_redo_of_a_fan_slider_drag_give_both_key_frames_their_fan_exactly(window, undone_on):
    """A fan drag on ED is one step on each key frame; undoing it (on either frame) gives
    both frames the fan they had, to the last digit, and redo gives both the dragged fan."""
    ed = window.document
    window.commands["key_frame"].trigger()
    es = window.document
    window.commands["key_frame"].trigger()
    start = ed.fan
    assert es.fan == start
    slider = window.anatomy_panel.fan_sliders["depth"]
    slider.sliderPressed.emit()
    for value in range(slider.value() - 1, slider.value() - 15, -1):
        slider.setValue(value)
    slider.sliderReleased.emit()
    dragged = ed.fan
    assert dragged != start and es.fan == dragged and len(ed.history) == len(es.history) == 1
    if undone_on == "ES":
        window.commands["key_frame"].trigger()
    window.undo()
    assert ed.fan == start and es.fan == start
    assert window.anatomy_panel.fan_sliders["depth"].value() == round(start.depth * 100)
    window.redo()
    assert ed.fan == dragged and es.fan == dragged
    assert window.anatomy_panel.fan_sliders["depth"].value() == round(dragged.depth * 100)


def _fan_drag_on_ed(window):
    """Both key frames made, ED edited; its depth slider dragged once: (ED, ES, start, dragged)."""
    ed = window.document
    window.commands["key_frame"].trigger()
    es = window.document
    window.commands["key_frame"].trigger()
    start = ed.fan
    slider = window.anatomy_panel.fan_sliders["depth"]
    slider.sliderPressed.emit()
    for value in range(slider.value() - 1, slider.value() - 15, -1):
        slider.setValue(value)
    slider.sliderReleased.emit()
    return ed, es, start, ed.fan


@pytest.mark.parametrize("undone_on", ["ED", "ES"])
def test_undo_and_redo_of_a_shared_fan_change_move_both_histories_as_one_step(window, undone_on):
    """Undoing the shared fan change on either key frame undoes the paired step on the other
    instead of adding a step there that hands the old fan back; redo brings both back. Neither
    history grows, and neither loses what it could redo."""
    ed, es, start, dragged = _fan_drag_on_ed(window)
    assert es.fan == dragged and len(ed.history) == len(es.history) == 1
    if undone_on == "ES":
        window.commands["key_frame"].trigger()
    for _ in range(2):  # a second round trip: no step gained on the way
        window.commands["undo"].trigger()  # Ctrl+Z
        assert ed.fan == start and es.fan == start
        assert len(ed.history) == len(es.history) == 0
        assert ed.history.can_redo and es.history.can_redo
        assert window.commands["redo"].isEnabled() and not window.commands["undo"].isEnabled()
        window.commands["redo"].trigger()  # Ctrl+Y
        assert ed.fan == dragged and es.fan == dragged
        assert len(ed.history) == len(es.history) == 1
        assert not ed.history.can_redo and not es.history.can_redo
    window.commands["key_frame"].trigger()  # the other frame: its step is the same change
    window.commands["undo"].trigger()
    assert ed.fan == start and es.fan == start and len(ed.history) == len(es.history) == 0


def test_undoing_a_shared_fan_change_on_es_keeps_what_ed_could_redo(window):
    """An undone stroke on ED stays redoable after the fan change is undone on ES: the ES undo
    no longer gives ED a new step (which cleared ED's redo list)."""
    ed, es, start, dragged = _fan_drag_on_ed(window)
    stroke = ed.begin_stroke()
    ed.stroke_to(stroke, 30.5, 30.5, 5, 0)
    ed.end_stroke(stroke)
    stroked = ed.labels.copy()
    window.commands["undo"].trigger()  # the stroke, on ED only
    assert ed.history.redo_description == "brush stroke" and len(ed.history) == 1
    window.commands["key_frame"].trigger()
    window.commands["undo"].trigger()  # the fan, on ES: ED's step goes too
    assert ed.fan == start and es.fan == start and len(ed.history) == len(es.history) == 0
    window.commands["redo"].trigger()
    assert ed.fan == dragged and es.fan == dragged and len(ed.history) == 1
    window.commands["key_frame"].trigger()
    window.commands["redo"].trigger()  # the stroke is still there to redo
    assert ed.history.undo_description == "brush stroke" and (ed.labels == stroked).all()


def test_a_shared_fan_change_edited_over_on_the_other_frame_is_handed_back_as_a_step(window):
    """The other frame was edited after the shared fan change: its fan step is no longer on top,
    so undoing the change hands the old fan back as a new step there (the edit on top kept), as
    before; the pair stays in one fan, and the new step is undone with the change again."""
    ed, es, start, dragged = _fan_drag_on_ed(window)
    window.commands["key_frame"].trigger()
    before = es.labels.copy()
    stroke = es.begin_stroke()
    es.stroke_to(stroke, 30.5, 30.5, 5, 0)
    es.end_stroke(stroke)
    painted = es.labels != before
    assert painted.any()
    window.commands["key_frame"].trigger()
    window.commands["undo"].trigger()  # on ED: ES's fan step lies under the stroke
    assert ed.fan == start and es.fan == start
    assert len(es.history) == 3 and es.history.undo_description == "fan of the other key frame"
    assert (es.labels[painted] == 0).all()  # the stroke on top kept
    window.commands["redo"].trigger()
    assert ed.fan == dragged and es.fan == dragged and len(es.history) == 4
    window.commands["undo"].trigger()  # the step handed over by the redo goes with it
    assert ed.fan == start and es.fan == start and len(es.history) == 3


def test_the_other_key_frames_heart_is_drawn_again_in_the_shared_fan(window):
    """The fan handed to the other key frame left that frame's heart as drawn in the old
    fan: pieces of it stuck out of a shallower fan, and back on that frame the anatomy panel
    took the difference for painted pixels, which its sliders then kept. The heart is now
    drawn again in the shared fan (pixels painted on top kept), in the same one step, and
    undo gives back the frame as it was."""
    from engine.anatomy.heart import Heart

    ed = window.document
    window.commands["key_frame"].trigger()
    es = window.document
    window.commands["key_frame"].trigger()
    model, record = window.anatomy_panel.model, es.anatomy
    stroke = es.begin_stroke()
    es.stroke_to(stroke, 20.5, 12.5, 3, 3)  # a blob painted on ES, beside the apex
    es.end_stroke(stroke)
    painted, before = es.labels != model.mask(Heart.from_dict(record["heart"]), "4CH", 1.0, 64, fan=es.fan), \
        es.labels.copy()
    assert painted.any()
    slider = window.anatomy_panel.fan_sliders["depth"]
    slider.sliderPressed.emit()
    for value in range(slider.value() - 1, slider.value() - 25, -1):
        slider.setValue(value)
    slider.sliderReleased.emit()
    assert es.fan == ed.fan and len(es.history) == 2
    redrawn = model.mask(Heart.from_dict(record["heart"]), "4CH", 1.0, 64, fan=es.fan)
    assert (es.labels[~painted] == redrawn[~painted]).all() and (es.labels[painted] == before[painted]).all()
    assert_in_its_fan(redrawn, es.fan)  # the heart runs past the fan no further than real ones
    window.undo()
    assert (es.labels == before).all() and es.fan == ed.fan


def test_a_view_switched_on_either_key_frame_is_both_frames_view(window):
    """An ES frame edited (here by a heart slider) no longer follows ED's heart, and it used
    to keep its view too: ED switched to 2CH left ES in 4CH, a loop between two views saved as
    ``p_2CH_ES.png``. The view is the pair's, as the fan is: the other frame takes it (its own
    heart and painted pixels kept) as one step undone with the switch."""
    ed, panel = window.document, window.anatomy_panel
    window.commands["key_frame"].trigger()
    es = window.document
    atrium = panel.sliders["atrium"]
    atrium.setValue(atrium.value() + 20)  # ES's heart is its own from now on
    es_heart = es.anatomy["heart"]
    stroke = es.begin_stroke()
    es.stroke_to(stroke, 4.5, 60.5, 3, 3)  # a blob painted in a corner, away from the heart
    es.end_stroke(stroke)
    painted = es.labels[57:64, 2:8].copy()
    window.commands["key_frame"].trigger()
    panel.view.setCurrentText("2CH")
    assert ed.anatomy["view"] == es.anatomy["view"] == "2CH" and es.history.undo_description == \
        "view of the other key frame"
    assert es.anatomy["heart"] == es_heart and es.anatomy["phase"] == 1.0 and (es.labels[57:64, 2:8] == painted).all()
    assert window.key_frames.frames["ES"] is es
    window.undo()
    assert ed.anatomy["view"] == es.anatomy["view"] == "4CH"
    window.commands["key_frame"].trigger()
    panel.view.setCurrentText("2CH")  # switched on ES: ED takes it
    assert ed.anatomy["view"] == "2CH" and ed.anatomy["phase"] == 0.0


def test_the_es_key_frame_follows_a_new_heart_at_ed_until_it_is_edited(window):
    ed = window.document
    window.commands["key_frame"].trigger()  # ES made from ED's heart
    window.commands["key_frame"].trigger()  # back to ED
    first_heart = ed.anatomy["heart"]
    window.anatomy_panel.new_heart.click()  # another patient at ED
    assert ed.anatomy["heart"] != first_heart
    es = window.key_frames.frames["ES"]
    assert es.anatomy["heart"] == ed.anatomy["heart"] and es.anatomy["phase"] == 1.0
    assert (es.labels == 1).sum() < (ed.labels == 1).sum()  # the new heart, contracted
    window.undo()  # the first heart again, at both key frames
    assert window.key_frames.frames["ES"].anatomy["heart"] == first_heart
    # an ES frame painted by hand is the user's: a new heart at ED is not made again over it,
    # it takes the new patient's heart with its paint kept
    window.commands["key_frame"].trigger()
    painted = window.document
    painted.fill(2, 2, 3)
    blob, by_hand = painted.labels != heart_as_drawn(painted), painted.labels.copy()
    window.commands["key_frame"].trigger()
    window.anatomy_panel.new_heart.click()
    assert window.key_frames.frames["ES"] is painted and painted.anatomy["heart"] == ed.anatomy["heart"]
    assert blob.any() and (painted.labels[blob] == by_hand[blob]).all() and painted.anatomy["phase"] == 1.0



def test_the_es_key_frame_still_follows_ed_after_taking_its_fan(window):
    """Taking ED's fan draws ES's heart again in it: that is not an edit by hand, so a new
    heart at ED is still followed at ES."""
    ed = window.document
    window.commands["key_frame"].trigger()  # ES made from ED's heart
    window.commands["key_frame"].trigger()  # back to ED
    slider = window.anatomy_panel.fan_sliders["depth"]
    slider.sliderPressed.emit()
    for value in range(slider.value() - 1, slider.value() - 15, -1):
        slider.setValue(value)
    slider.sliderReleased.emit()
    es = window.key_frames.frames["ES"]
    assert es.fan == ed.fan and len(es.history) == 1  # the fan taken, as a step of ES's own
    window.anatomy_panel.new_heart.click()
    follower = window.key_frames.frames["ES"]
    assert follower.anatomy["heart"] == ed.anatomy["heart"] and follower.fan == ed.fan
    assert follower.anatomy["phase"] == 1.0

def test_a_loop_made_for_key_frames_since_changed_is_not_shown(window, qtbot):
    import threading

    from cardigan_app.cine.timeline import MAKING

    timeline, backend = window.timeline, window.live.backend
    host, gate = backend._host, threading.Event()
    make = host.render_cine
    host.render_cine = lambda *args: gate.wait() and make(*args)  # held until the edit is made
    shown, made = [], []
    window.live.cineShown.connect(shown.append)
    backend.cineReady.connect(made.append)
    timeline.play_button.setChecked(True)  # asks for the loop
    assert timeline.status.text() == MAKING
    timeline.play_button.setChecked(False)  # paused while it is made
    window.document.fill(2, 2, 3)  # then an edit: that loop no longer shows these key frames
    assert timeline.stale and timeline.status.text() == ""
    gate.set()
    qtbot.waitUntil(lambda: len(made) == 1, timeout=60_000)
    qtbot.wait(50)  # the queued signal reaches the window
    assert shown == [] and timeline.frames is None and timeline.stale
    timeline.play_button.setChecked(True)  # play makes one for the key frames as they are
    qtbot.waitUntil(lambda: timeline.frames is not None, timeout=60_000)
    assert (timeline.frames.masks[0] == window.key_frames.ed.labels).all()
    timeline.play_button.setChecked(False)


def test_a_new_mask_clears_the_last_pairs_loop_from_the_timeline(window, qtbot):
    timeline = window.timeline
    window.state.set("cine_fps", 10)
    timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: timeline.frames is not None, timeout=60_000)
    timeline.play_button.setChecked(False)
    timeline.slider.setValue(4)
    assert "frames, painted: EF" in timeline.status.text()
    window.set_document(NewMaskChoice(True, "2CH", "ED", 8, 64).document())
    # the old loop's frame count, EF and position do not stay beside another mask
    assert timeline.frames is None and timeline.status.text() == ""
    assert timeline.slider.maximum() == 0 and timeline.slider.value() == 0


def test_a_loop_made_by_another_model_or_seed_is_out_of_date_and_made_again(window, qtbot, tiny_model):
    """The loop asked for before the model changed was made by the old model and dropped when
    it came; nothing asked again, so the timeline said "making the loop..." for ever. And the
    old model's (or seed's) loop on the timeline stayed current: played again and exported as
    if the model and seed now shown had made it."""
    timeline, live = window.timeline, window.live
    host, gate = live.backend._host, threading.Event()
    make = host.render_cine
    host.render_cine = lambda *args: gate.wait() and make(*args)  # held until the new model is in
    window.state.set("cine_fps", 10)
    timeline.play_button.setChecked(True)
    old = live.generation
    with qtbot.waitSignal(live.modelLoaded, timeout=30_000):
        live.load(str(tiny_model))
    gate.set()
    qtbot.waitUntil(lambda: timeline.frames is not None, timeout=30_000)
    assert live.generation != old and timeline.frames.model_id == live.generation
    timeline.play_button.setChecked(False)
    assert not timeline.stale
    window.set_seed(window.state.seed + 1)
    assert timeline.stale
    loop_made(window, qtbot)
    with qtbot.waitSignal(live.modelLoaded, timeout=30_000):
        live.load(str(tiny_model))
    assert timeline.stale


def refusals_told(monkeypatch) -> list[str]:
    """What the window refuses to open, as it would show it in a box."""
    import cardigan_app.mask_files as mask_files

    refused = []
    monkeypatch.setattr(mask_files, "show_error", lambda parent, title, text: refused.append(text))
    return refused


def loop_made(window, qtbot):
    """The cine loop of the window's key frames, made by pressing play (at 10 fps)."""
    timeline = window.timeline
    window.state.set("cine_fps", 10)
    timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: timeline.frames is not None, timeout=60_000)
    timeline.play_button.setChecked(False)
    return timeline.frames


def test_a_cine_loops_nifti_masks_open_again_as_its_key_frames(window, qtbot, tmp_path, monkeypatch):
    refused = refusals_told(monkeypatch)
    loop = loop_made(window, qtbot)
    assert exported(window, qtbot, tmp_path / "loop.nii.gz")
    masks = tmp_path / "loop_gt.nii.gz"
    assert masks.is_file()
    window.document.mark_saved()
    assert window.files.open_path(masks, confirmed=True), refused  # was refused: "labels on 9 frames"
    cavity = (loop.masks == 1).sum(axis=(1, 2))
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert window.document is ed and ed.path == masks
    assert (ed.labels == loop.masks[int(cavity.argmax())]).all()
    assert (es.labels == loop.masks[int(cavity.argmin())]).all()
    # each key frame over its own frame of the exported images
    references = window.references
    assert references.count == len(loop.images)
    assert references.index == {"ED": int(cavity.argmax()), "ES": int(cavity.argmin())}
    assert "ES" in window.statusBar().currentMessage()


def test_a_cine_loops_hdf5_file_opens_again_as_its_key_frames(window, qtbot, tmp_path, monkeypatch):
    """It was refused with advice to prepare it as a dataset, which prepare refuses too."""
    refused = refusals_told(monkeypatch)
    loop = loop_made(window, qtbot)
    assert exported(window, qtbot, tmp_path / "loop.h5")
    window.document.mark_saved()
    assert window.files.open_path(tmp_path / "loop.h5", confirmed=True), refused
    cavity = (loop.masks == 1).sum(axis=(1, 2))
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert window.document is ed and ed.path == tmp_path / "loop.h5"
    assert (ed.labels == loop.masks[int(cavity.argmax())]).all()
    assert (es.labels == loop.masks[int(cavity.argmin())]).all()
    assert window.references.count == len(loop.images)  # its images, one under each key frame


def test_a_cine_loops_nifti_export_asks_before_replacing_the_masks_beside_it(window, qtbot, tmp_path,
                                                                            monkeypatch):
    """The save dialog asks about ``loop.nii.gz`` alone; ``loop_gt.nii.gz`` beside it may hold
    masks painted by hand, and was replaced without a word."""
    import cardigan_app.export as export

    masks = tmp_path / "loop_gt.nii.gz"
    masks.write_bytes(b"painted by hand")
    asked = []
    monkeypatch.setattr(export, "confirm_overwrite", lambda parent, paths: asked.append(paths) or False)
    window.state.set("cine_fps", 10)
    window.timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: window.timeline.frames is not None, timeout=60_000)
    window.timeline.play_button.setChecked(False)
    assert not window.exporter.export_cine(tmp_path / "loop.nii.gz")
    assert asked == [[str(masks)]]
    assert masks.read_bytes() == b"painted by hand" and not (tmp_path / "loop.nii.gz").exists()
    monkeypatch.setattr(export, "confirm_overwrite", lambda parent, paths: True)  # agreed: both written
    assert exported(window, qtbot, tmp_path / "loop.nii.gz")
    assert masks.read_bytes() != b"painted by hand" and (tmp_path / "loop.nii.gz").is_file()


def test_a_new_mask_starts_a_new_pair(window):
    window.commands["key_frame"].trigger()
    window.set_document(NewMaskChoice(True, "2CH", "ED", 8, 64).document())
    assert window.state.key_frame == "ED" and window.key_frames.frames["ES"] is None


def test_the_timeline_plays_the_loop_made_in_the_background(window, qtbot):
    timeline = window.timeline
    window.state.set("cine_fps", 10)  # a short loop: 65 bpm at 10 fps is 9 frames
    timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: timeline.frames is not None, timeout=60_000)
    frames = timeline.frames
    assert len(frames.images) == 9 and frames.images.shape[1:] == window.document.shape
    assert (frames.masks[0] == window.key_frames.ed.labels).mean() > 0.97
    assert "EF" in timeline.status.text()
    shown = []
    timeline.frameShown.connect(lambda image, mask: shown.append(image))
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=5_000)  # it plays
    timeline.play_button.setChecked(False)
    assert not timeline.timer.isActive()
    # painting a key frame makes the loop stale; playing makes it again
    doc = window.document
    stroke = doc.begin_stroke()
    doc.stroke_to(stroke, 32, 32, 5, 3)
    doc.end_stroke(stroke)
    assert timeline.stale


def test_l_plays_and_pauses_the_loop_as_the_timeline_button_does(window, qtbot):
    from PySide6.QtCore import Qt

    from cardigan_app.dialogs.shortcuts import shortcut_rows

    timeline, play = window.timeline, window.commands["play"]
    window.state.set("cine_fps", 10)
    window.activateWindow()
    qtbot.keyClick(window.canvas, Qt.Key.Key_L)
    assert timeline.playing and play.isChecked()
    qtbot.waitUntil(lambda: timeline.frames is not None and timeline.timer.isActive(), timeout=60_000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_L)
    assert not timeline.playing and not timeline.timer.isActive()
    timeline.play_button.click()  # the button and the menu's check mark are one switch
    assert play.isChecked()
    timeline.play_button.click()
    assert not play.isChecked()
    assert ("View", "Play cine loop", "L") in shortcut_rows(window.commands.sections)
    assert "(L)" in timeline.play_button.toolTip()  # the key the tooltip names is the one that works


def test_the_loop_on_the_timeline_exports_as_a_gif(window, qtbot, tmp_path, monkeypatch):
    import imageio.v3 as iio
    from PySide6.QtWidgets import QMessageBox

    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: told.append(args[2]))
    assert not window.exporter.export_cine(tmp_path / "none.gif")  # no loop yet: it says so
    assert told and "Play the loop first" in told[0] and not (tmp_path / "none.gif").exists()
    window.state.set("cine_fps", 8)
    window.timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: window.timeline.frames is not None, timeout=60_000)
    assert exported(window, qtbot, tmp_path / "loop.gif")
    frames = iio.imread(tmp_path / "loop.gif", index=None)
    # (a GIF writer merges frames that repeat the one before, as a still tiny model's may)
    assert 2 <= frames.shape[0] <= len(window.timeline.frames.images)
    # File > Export > Cine loop asks where (its ``checked`` flag once went in as the path)
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args: (str(tmp_path / "menu.gif"), "")))
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: told.append(args[2]))
    window.commands["export_cine"].trigger()
    qtbot.waitUntil(lambda: not window.exporter.writing_cine, timeout=60_000)
    assert (tmp_path / "menu.gif").is_file() and len(told) == 1


def test_the_es_key_frame_is_drawn_with_the_ed_stills_far_field(window, qtbot, tiny_model):
    from cardigan_app.synthesis.host import ModelHost, render
    from cardigan_app.synthesis.jobs import SynthesisJob
    from engine.cine.steady import hold_far_field

    ed = window.document
    assert window.live._anchor is None  # the ED key frame is drawn as it is
    window.commands["key_frame"].trigger()
    es = window.document
    assert np.array_equal(window.live._anchor, ed.labels)  # the ES key frame's request names ED
    qtbot.waitUntil(window.live.up_to_date, timeout=20_000)
    window.commands["key_frame"].trigger()
    assert window.live._anchor is None
    job = SynthesisJob(1, 1, 1, es.labels, 7, (8, 9), None, ed.labels)
    assert all(np.array_equal(job.request(seed).anchor, ed.labels) for seed in (7, 8))  # variations too
    host = ModelHost.open(1, str(tiny_model), "cpu")
    held = host.render(es.labels, 7, None, ed.labels).image
    raw, _ = render(host.synthesizer, es.labels, 7)
    ed_still, _ = render(host.synthesizer, ed.labels, 7)
    assert np.array_equal(held, hold_far_field(raw, es.labels, ed_still, reference_mask=ed.labels))
    assert not np.array_equal(held, raw)
    assert np.array_equal(host.render(es.labels, 7)[0], raw)  # without an anchor, as drawn
    other = host.render(es.labels, 8, None, ed.labels).image  # a variation: held to its own seed's ED still
    assert np.array_equal(other, hold_far_field(render(host.synthesizer, es.labels, 8)[0], es.labels,
                                                render(host.synthesizer, ed.labels, 8)[0], reference_mask=ed.labels))
    assert len(host._anchors) == 2



def test_an_image_is_made_while_a_loop_is(window, qtbot):
    """The loop's first batch of frames waits at a gate until the image asked for meanwhile
    waits for the synthesizer: the image must come first, whatever the threads' timing."""
    live, timeline, host = window.live, window.timeline, window.live.backend._host
    window.state.set("cine_bpm", 60)
    window.state.set("cine_fps", 12)  # 12 frames: two batches
    drawing, gate, draw = threading.Event(), threading.Event(), host.synthesizer.synthesize
    loop_thread: list[int] = []

    def gated(*args, **kwargs):
        if kwargs.get("one_seed") and not drawing.is_set():  # the loop's first batch
            loop_thread.append(threading.get_ident())
            drawing.set()
            assert gate.wait(60)
        return draw(*args, **kwargs)

    host.synthesizer.synthesize = gated
    order: list[str] = []
    live.backend.cineReady.connect(lambda frames: order.append("loop"))
    live.backend.cineFailed.connect(lambda serial, message: order.append("failed: " + message))
    live.backend.imageReady.connect(lambda result: order.append("image"))
    try:
        timeline.play_button.setChecked(True)
        qtbot.waitUntil(drawing.is_set, timeout=20_000)  # the loop holds the synthesizer
        host.lock = WatchedLock(host.lock, loop_thread[0])
        timeline.play_button.setChecked(False)
        window.document.fill(2, 2, 3)  # painting goes on
        qtbot.waitUntil(host.lock.other_waits.is_set, timeout=20_000)  # its image waits for it
    finally:
        gate.set()
    qtbot.waitUntil(lambda: "loop" in order or any(o.startswith("failed") for o in order), timeout=60_000)
    assert order[:2] == ["image", "loop"], order


class GatedSynthesizer:
    """A stand-in for the synthesizer (no network: one call per loop frame) that records
    who drew what, and stops at the loop's second frame until the test lets it go."""

    network = None
    model = None

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.at_gate, self.gate = threading.Event(), threading.Event()

    def synthesize(self, labels, seed=0, fan=None, should_stop=None):
        who = "loop" if threading.current_thread().name == "loop" else "image"
        self.calls.append(who)
        if who == "loop" and self.calls.count("loop") == 2:
            self.at_gate.set()
            assert self.gate.wait(30)
        return np.zeros((1, *labels.shape), np.float32)


class WatchedLock:
    """A lock that says when a thread other than ``owner`` (the loop's) starts waiting for it."""

    def __init__(self, lock, owner: int) -> None:
        self.lock, self.owner, self.other_waits = lock, owner, threading.Event()

    def acquire(self) -> bool:
        if threading.get_ident() != self.owner:
            self.other_waits.set()
        return self.lock.acquire()

    def release(self) -> None:
        self.lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def test_an_image_asked_for_while_a_loop_is_drawn_goes_before_its_next_frame(monkeypatch):
    """The loop lets a waiting image take the synthesizer between two frames, and waits for
    it on a condition: it used to poll every 2 ms with time.sleep until the image took over."""
    from types import SimpleNamespace

    from cardigan_app.synthesis import host as host_module
    from cardigan_app.synthesis.jobs import CineRequest, ModelInfo

    def polled(seconds):
        raise AssertionError("the loop polled for the image to take its turn")

    monkeypatch.setattr(host_module, "time", SimpleNamespace(perf_counter=time.perf_counter, sleep=polled))
    synth = GatedSynthesizer()
    host = host_module.ModelHost(synth, ModelInfo(1, "gated", "cpu", "CPU", False))
    ed = np.zeros((32, 32), np.uint8)
    ed[8:24, 10:22] = 1
    es = ed.copy()
    es[8:12] = 0
    request = CineRequest(1, 1, ed, es, None, 0, 60.0, 6.0)  # 6 frames, one call each
    answers: dict[str, object] = {}

    def run(name, work):
        try:
            answers[name] = work()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            answers[name] = exc

    loop = threading.Thread(target=run, args=("loop", lambda: host.render_cine(request)), name="loop")
    image = threading.Thread(target=run, args=("image", lambda: host.render(ed, 3)), name="image")
    loop.start()
    assert synth.at_gate.wait(30)  # the loop is drawing its second frame, holding the synthesizer
    host.lock = WatchedLock(host.lock, loop.ident)
    image.start()
    assert host.lock.other_waits.wait(30)  # the image waits for the synthesizer
    synth.gate.set()
    loop.join(30)
    image.join(30)
    assert not isinstance(answers["loop"], BaseException), answers["loop"]
    assert not isinstance(answers["image"], BaseException), answers["image"]
    assert synth.calls == ["loop", "loop", "image", "loop", "loop", "loop", "loop"]
    assert not answers["image"].first  # the loop's first frames took the model's warm-up
    assert len(answers["loop"].images) == 6 and answers["image"][0].shape == ed.shape


def test_the_key_frames_undo_a_shared_fan_change_as_one_without_a_window():
    """The pairing lives in the key frames, not in the window: the document that changed calls
    share, whichever it is and however it changed."""
    from cardigan_app.cine.key_frames import KeyFrames
    from cardigan_app.editing import LabelDocument
    from cardigan_app.state import StudioState

    ed = LabelDocument(np.zeros((32, 32), np.uint8))
    frames = KeyFrames(StudioState(), ed, show=lambda document: None)
    es, start = frames.es, ed.fan
    deeper = start.with_shape(depth=0.8)
    ed.set_meta("fan", fan=deeper)
    frames.share(ed)
    assert es.fan == deeper and es.history.top.link == ed.history.top.link
    assert es.undo() and es.fan == start
    frames.share(es)
    assert ed.fan == start and len(ed.history) == len(es.history) == 0
    assert ed.redo() and ed.fan == deeper
    frames.share(ed)
    assert es.fan == deeper and len(ed.history) == len(es.history) == 1
    frames.share(ed)  # in one fan already: nothing to do
    assert len(ed.history) == len(es.history) == 1 and not es.history.can_redo


def test_a_dataset_pairs_es_image_lies_under_its_es_key_frame(window, tmp_path):
    """Opening a prepared pair's ED mask brings its ES mask as the ES key frame, and K then
    shows the ES real image beside it, not the ED one and not an empty pane."""
    from PIL import Image

    from engine.maskio import write_label_png

    (tmp_path / "img").mkdir()
    (tmp_path / "label").mkdir()
    ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1))
    pictures = {"ED": ramp, "ES": ramp.T.copy()}  # two images told apart however they are scaled
    for key, picture in pictures.items():
        Image.fromarray(picture).save(tmp_path / "img" / f"p_4CH_{key}.png")
        write_label_png(tmp_path / "label" / f"p_4CH_{key}.png", window.document.labels)
        pictures[key] = reference_frames(tmp_path / "img" / f"p_4CH_{key}.png")[0]  # as the pane shows it
    assert window.files.open_path(tmp_path / "label" / "p_4CH_ED.png", reference=tmp_path / "img" / "p_4CH_ED.png",
                                  confirmed=True)
    assert window.key_frames.frames["ES"] is not None
    assert (window.reference_image == pictures["ED"]).all()
    window.commands["key_frame"].trigger()  # K: the ES key frame, over the ES image
    assert window.state.key_frame == "ES" and window.reference_image is not None
    assert (window.reference_image == pictures["ES"]).all() and not window.workspace.reference_pane.isHidden()
    window.commands["key_frame"].trigger()
    assert (window.reference_image == pictures["ED"]).all()


def test_the_cine_export_writes_off_the_gui_thread_with_a_busy_state(window, qtbot, tmp_path, monkeypatch):
    """A long MP4 or DICOM froze the window: the loop was written on the GUI thread."""
    import threading

    import engine.cine
    from PySide6.QtWidgets import QMessageBox

    loop_made(window, qtbot)
    release, threads = threading.Event(), []

    def slow_write(path, images, masks, fps, info=None, **_progress_and_stop):
        threads.append(threading.current_thread())
        assert release.wait(30)
        path.write_bytes(b"loop")
        return [path]

    told = []
    monkeypatch.setattr(engine.cine, "write_loop", slow_write)
    monkeypatch.setattr(QMessageBox, "information", lambda *args: told.append(args[2]))
    assert window.exporter.export_cine(tmp_path / "loop.mp4")  # returns while the loop is written
    qtbot.waitUntil(lambda: bool(threads), timeout=10_000)
    assert threads[0] is not threading.main_thread()
    assert window.exporter.writing_cine and "Writing the loop to loop.mp4" in window.statusBar().currentMessage()
    assert not window.exporter.export_cine(tmp_path / "other.mp4")  # one at a time, said
    assert told and "loop.mp4 is still being written" in told[0]
    release.set()
    qtbot.waitUntil(lambda: not window.exporter.writing_cine, timeout=10_000)
    assert window.statusBar().currentMessage() == f"Exported {tmp_path / 'loop.mp4'}"
    assert not (tmp_path / "other.mp4").exists()


def paused_at_first_step(monkeypatch):
    """The loop's real writer, held after its first step until the export is cancelled; the
    steps it reported."""
    import engine.cine

    real, steps, paused = engine.cine.write_loop, [], threading.Event()

    def write_loop(path, images, masks, fps, info=None, progress=None, should_stop=None):
        def step(progress_now):
            progress(progress_now)
            steps.append(progress_now.done)
            if progress_now.done == 1:
                paused.set()
                deadline = time.monotonic() + 30
                while not should_stop() and time.monotonic() < deadline:
                    time.sleep(0.01)

        return real(path, images, masks, fps, info, progress=step, should_stop=should_stop)

    monkeypatch.setattr(engine.cine, "write_loop", write_loop)
    return steps, paused


def progress_shown(window, monkeypatch) -> list[tuple[int, int]]:
    """(done, total) as the status bar's progress field is told it, from now on."""
    job, shown = window.status_widgets.job, []
    show = job.show_progress
    monkeypatch.setattr(job, "show_progress", lambda progress: (shown.append((progress.done, progress.total)),
                                                                show(progress)))
    return shown


@pytest.mark.parametrize("name,cancel", [("loop.gif", "button"), ("loop.nii.gz", "Esc"), ("frames", "button")])
def test_a_cine_export_shows_its_progress_and_cancelling_it_leaves_what_was_there(window, qtbot, tmp_path,
                                                                                   monkeypatch, name, cancel):
    """The user saw a busy cursor and nothing else: no progress and no way to stop a long
    export. The status bar shows how far it is with a Cancel button (Esc cancels too); a
    cancelled export leaves the files that were there byte for byte and nothing else."""
    import cardigan_app.export as export
    import engine.cine
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    loop_made(window, qtbot)
    monkeypatch.setattr(export, "confirm_overwrite", lambda parent, paths: True)
    path = tmp_path / name
    if name != "frames":
        path.write_bytes(b"an older loop")
        (tmp_path / "loop_gt.nii.gz").write_bytes(b"masks painted by hand")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_write = engine.cine.write_loop
    steps, paused = paused_at_first_step(monkeypatch)
    job = window.status_widgets.job
    assert job.isHidden()
    assert window.exporter.export_cine(path)
    assert paused.wait(30)
    qtbot.waitUntil(lambda: job.bar.value() == 1, timeout=10_000)
    assert job.isVisible() and job.cancel_button.isEnabled() and job.bar.maximum() > 1
    if cancel == "Esc":
        qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)  # the brush does not take it: it reaches the window
    else:
        qtbot.mouseClick(job.cancel_button, Qt.MouseButton.LeftButton)
    assert not job.cancel_button.isEnabled() and "Cancelling" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.exporter.writing_cine, timeout=30_000)
    assert window.statusBar().currentMessage() == f"Loop export cancelled; nothing was written to {name}"
    assert job.isHidden() and QGuiApplication.overrideCursor() is None
    assert steps == [0, 1]  # it stopped at the next step, mid-write
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporaries, nothing half-written

    monkeypatch.setattr(engine.cine, "write_loop", real_write)
    shown = progress_shown(window, monkeypatch)
    assert exported(window, qtbot, path if name != "frames" else tmp_path / "again")
    assert window.statusBar().currentMessage().startswith("Exported ")
    done = [d for d, _ in shown]
    assert done == sorted(set(done)) and done[-1] == shown[-1][1] > 1  # increasing, up to the total
    assert job.isHidden()


def test_a_failed_cine_export_says_one_line_and_leaves_nothing(window, qtbot, tmp_path, monkeypatch):
    import cardigan_app.export as export

    loop_made(window, qtbot)
    errors = []
    monkeypatch.setattr(export, "show_error", lambda parent, title, text: errors.append(text))
    out = tmp_path / "out"
    out.mkdir()
    (out / "full").write_text("a file where the folder should be")
    target = out / "full" / "loop.dcm"
    assert exported(window, qtbot, target)
    assert len(errors) == 1 and "\n" not in errors[0] and "loop.dcm" in errors[0], errors
    assert sorted(p.name for p in out.iterdir()) == ["full"]
    assert not window.exporter.writing_cine
    assert exported(window, qtbot, tmp_path / "loop.xyz") is False  # a name no writer takes: said at once
    assert len(errors) == 2 and ".xyz" in errors[1]


@pytest.mark.parametrize("opened", ["label frame", "folder"])
def test_a_cine_loops_png_frames_open_again_as_its_key_frames(window, qtbot, tmp_path, monkeypatch, opened):
    """Opening the folder said it is a folder, and a label frame came without the loop or its image."""
    refused = refusals_told(monkeypatch)
    loop = loop_made(window, qtbot)
    out = tmp_path / "loop_frames"
    assert exported(window, qtbot, out)
    window.document.mark_saved()
    path = out / "label" / "frame_000.png" if opened == "label frame" else out
    assert window.files.open_path(path, confirmed=True), refused
    cavity = (loop.masks == 1).sum(axis=(1, 2))
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert window.document is ed and ed.path == out  # Save asks for a name: the frame is never replaced
    assert (ed.labels == loop.masks[int(cavity.argmax())]).all()
    assert (es.labels == loop.masks[int(cavity.argmin())]).all()
    assert window.references.count == len(loop.images)  # its images, one under each key frame
    assert window.references.index == {"ED": int(cavity.argmax()), "ES": int(cavity.argmin())}
    assert (window.references.image_for("ED") == loop.images[int(cavity.argmax())]).all()


def test_a_png_frames_loop_with_mismatched_folders_is_one_line(tmp_path):
    import numpy as np

    from engine.cine import write_loop
    from engine.cine.writers import frames_loop_folder, read_frames_loop
    from engine.errors import CardiganError

    masks = np.zeros((3, 16, 16), np.uint8)
    masks[:, 4:12, 4:12] = 1
    out = tmp_path / "loop"
    write_loop(out, np.full((3, 16, 16), 90, np.uint8), masks, 10.0)
    assert frames_loop_folder(out / "label" / "frame_001.png") == out == frames_loop_folder(out)
    assert frames_loop_folder(out / "img" / "frame_001.png") is None  # an image frame is a picture
    images, read = read_frames_loop(out)
    assert (read == masks).all() and images.shape == masks.shape
    (out / "img" / "frame_002.png").unlink()
    with pytest.raises(CardiganError, match="do not hold the same frames"):
        read_frames_loop(out)


def test_a_png_frames_loop_is_sized_by_all_its_frames_before_it_is_read(tmp_path, monkeypatch):
    """Its folder (4 KB) or one label frame (a few hundred bytes) was taken as small, so a long
    loop of frames was read on the window's thread whatever its length."""
    import numpy as np

    import cardigan_app.file_reading as file_reading
    from engine.cine import write_loop
    from engine.cine.writers import frames_loop_bytes

    masks = np.zeros((6, 16, 24), np.uint8)
    masks[:, 4:12, 4:12] = 1
    out = tmp_path / "loop"
    write_loop(out, np.full(masks.shape, 90, np.uint8), masks, 10.0)
    assert frames_loop_bytes(out) == 2 * 6 * 16 * 24  # images and masks, decoded
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 2 * 6 * 16 * 24 - 1)
    assert not file_reading.read_at_once(out) and not file_reading.read_at_once(out / "label" / "frame_000.png")
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 2 * 6 * 16 * 24)
    assert file_reading.read_at_once(out) and file_reading.read_at_once(out / "label" / "frame_000.png")


def test_a_loops_readers_decode_only_the_part_asked_for(tmp_path, monkeypatch):
    """Opening a loop read its images and masks twice each: once for the masks, once for the
    images under them."""
    import numpy as np

    import engine.maskio as maskio
    from engine.cine import write_loop
    from engine.cine.writers import read_frames_loop, read_hdf5_loop

    masks = np.zeros((3, 16, 16), np.uint8)
    masks[:, 4:12, 4:12] = 1
    images = np.full(masks.shape, 90, np.uint8)
    write_loop(tmp_path / "loop.h5", images, masks, 10.0)
    write_loop(tmp_path / "frames", images, masks, 10.0)
    grey, none = read_hdf5_loop(tmp_path / "loop.h5", masks=False)
    assert none is None and (grey == images).all()
    none, labels = read_hdf5_loop(tmp_path / "loop.h5", images=False)
    assert none is None and (labels == masks).all()
    monkeypatch.setattr(maskio, "read_label_map", None)  # the label frames are not decoded for the images
    grey, none = read_frames_loop(tmp_path / "frames", masks=False)
    assert none is None and (grey == images).all()


def test_opening_a_loops_hdf5_file_opens_it_once(window, tmp_path, monkeypatch):
    """File > Open of a loop's HDF5 file opened it six times: to tell it is a loop and to read
    its masks, again for the images beside them, and once more to size those images. Dropped
    on the window, it was opened for its masks and again for its images."""
    import h5py

    from engine.cine import write_loop

    masks = np.zeros((4, 64, 64), np.uint8)
    for frame, size in enumerate((20, 16, 12, 16)):
        masks[frame, 10:10 + size, 10:10 + size] = 1
    images = np.full(masks.shape, 90, np.uint8)
    write_loop(tmp_path / "loop.h5", images, masks, 10.0)
    window.document.mark_saved()
    opened = []
    real_init = h5py.File.__init__

    def counted(self, name, *args, **kwargs):
        if not isinstance(name, h5py.h5f.FileID):  # a file's own object handle opens nothing
            opened.append(name)
        real_init(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.File, "__init__", counted)
    assert window.files.open_path(tmp_path / "loop.h5", confirmed=True)
    assert len(opened) == 1
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert (ed.labels == masks[0]).all() and (es.labels == masks[2]).all()
    assert window.references.count == len(images)  # its images, read in that same open
    opened.clear()
    window.document.mark_saved()
    assert window.files.open_or_trace(tmp_path / "loop.h5")  # dropped: its masks and images in one open too
    assert len(opened) == 1
    ed, es = window.key_frames.frames["ED"], window.key_frames.frames["ES"]
    assert (ed.labels == masks[0]).all() and (es.labels == masks[2]).all()
    assert window.references.count == len(images)


def held_at_first_step(monkeypatch):
    """The loop's real writer, held after its first step until it is asked to stop or
    ``release`` is set; (release, held)."""
    import engine.cine

    real, release, held = engine.cine.write_loop, threading.Event(), threading.Event()

    def write_loop(path, images, masks, fps, info=None, progress=None, should_stop=None):
        def step(progress_now):
            progress(progress_now)
            if progress_now.done == 1:
                held.set()
                deadline = time.monotonic() + 30
                while not (should_stop() or release.is_set()) and time.monotonic() < deadline:
                    time.sleep(0.01)

        return real(path, images, masks, fps, info, progress=step, should_stop=should_stop)

    monkeypatch.setattr(engine.cine, "write_loop", write_loop)
    return release, held


@pytest.mark.parametrize("choice", ["stop", "wait", "cancel"])
def test_closing_the_window_while_a_loop_is_written_asks_what_to_do(window, qtbot, tmp_path, monkeypatch, choice):
    """Closing the window waited, frozen, for the whole loop to be written, without a word.
    It asks: stop the loop and close (nothing half-written, the file that was there as it
    was), close once the loop is written, or do not close."""
    import cardigan_app.export as export
    from cardigan_app.dialogs.prompts import CloseChoice

    loop_made(window, qtbot)
    window.document.mark_saved()
    monkeypatch.setattr(export, "confirm_overwrite", lambda parent, paths: True)
    (tmp_path / "loops").mkdir()
    path = tmp_path / "loops" / "loop.gif"
    path.write_bytes(b"an older loop")
    asked = []
    monkeypatch.setattr(export, "ask_stop_loop_for_close",
                        lambda parent, name: asked.append(name) or CloseChoice(choice))
    release, held = held_at_first_step(monkeypatch)
    assert window.exporter.export_cine(path)
    assert held.wait(30)
    window.close()
    assert asked == ["loop.gif"]
    if choice == "stop":
        assert not window.isVisible()
        assert not window.exporter.cine_task.running  # the close waited for the writer to stop
        assert [p.name for p in path.parent.iterdir()] == ["loop.gif"]
        assert path.read_bytes() == b"an older loop"
        return
    assert window.isVisible() and window.exporter.writing_cine  # still open, still writing
    if choice == "wait":
        assert "closes once loop.gif is written" in window.statusBar().currentMessage()
    release.set()
    qtbot.waitUntil(lambda: not window.exporter.writing_cine, timeout=30_000)
    assert path.read_bytes()[:3] == b"GIF"  # written in full
    if choice == "wait":
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    else:
        qtbot.wait(50)
        assert window.isVisible()


def test_a_cancel_after_the_last_frame_says_the_loop_was_written_anyway(window, qtbot, tmp_path, monkeypatch):
    """Cancel pressed as the last step finished: the loop was written and the status bar said
    "Exported ..." as if no cancel had been asked for."""
    import engine.cine

    loop_made(window, qtbot)
    real = engine.cine.write_loop

    def cancelled_once_written(path, images, masks, fps, info=None, progress=None, should_stop=None):
        written = real(path, images, masks, fps, info, progress=progress, should_stop=should_stop)
        window.exporter.cine_task.cancel()  # as a press that lands after the writer's last check
        return written

    monkeypatch.setattr(engine.cine, "write_loop", cancelled_once_written)
    path = tmp_path / "loop.gif"
    assert exported(window, qtbot, path)
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Exported {path}") and path.is_file()
    assert message.endswith("(written in full; the cancel came after the last frame)")


def test_the_timeline_says_its_ef_is_the_painted_loop_s_and_why_it_differs_from_the_heart_model_s(qtbot):
    """After paint over the cavity the Anatomy panel showed the heart model's EF and the
    timeline "37 frames, EF 31 %" of the painted masks, with nothing saying which was which:
    the timeline names what it measures and its tooltip tells the two apart."""
    from cardigan_app.cine.timeline import Timeline
    from cardigan_app.state import StudioState
    from cardigan_app.synthesis.jobs import CineFrames

    timeline = Timeline(StudioState())
    qtbot.addWidget(timeline)
    masks = np.zeros((37, 16, 16), np.uint8)
    frames = CineFrames(1, 1, masks.copy(), masks, np.linspace(0, 1, 37), 31.2, 25.0, 0.1)
    timeline.show_loop(frames)
    assert timeline.status.text() == "37 frames, painted: EF 31 % by area"
    tip = timeline.status.toolTip()
    assert "as painted" in tip and '"Heart model"' in tip and "shape model" in tip


def test_play_after_a_loop_played_to_its_end_starts_it_again_from_the_first_frame(qtbot):
    """With Loop off the loop stopped on its last frame; play then stopped again at once, on
    that frame, and the loop could not be played again without scrubbing back."""
    from cardigan_app.cine.timeline import Timeline
    from cardigan_app.state import StudioState
    from cardigan_app.synthesis.jobs import CineFrames

    timeline = Timeline(StudioState())
    qtbot.addWidget(timeline)
    masks = np.zeros((4, 8, 8), np.uint8)
    timeline.show_loop(CineFrames(1, 1, masks.copy(), masks, np.linspace(0, 1, 4), 0.0, 10.0, 0.1))
    timeline.loop.setChecked(False)
    timeline.slider.setValue(3)  # where a play to the end stops
    shown = []
    timeline.frameShown.connect(lambda image, mask: shown.append(image))
    timeline.play_button.setChecked(True)
    timeline._advance()  # the timer's first tick
    assert timeline.playing and timeline.slider.value() == 1 and len(shown) == 2
    timeline.play_button.setChecked(False)


def test_a_playing_loop_made_again_after_an_edit_says_so_while_the_old_one_plays(qtbot):
    """Painting (or a new heart or frame rate) while the loop played left "37 frames, painted:
    EF 32 %" of the old loop on the timeline for the seconds the new one took, with nothing
    saying another was coming."""
    from cardigan_app.cine.timeline import MAKING, Timeline
    from cardigan_app.state import StudioState
    from cardigan_app.synthesis.jobs import CineFrames

    timeline = Timeline(StudioState())
    qtbot.addWidget(timeline)
    masks = np.zeros((4, 8, 8), np.uint8)
    frames = CineFrames(1, 1, masks.copy(), masks, np.linspace(0, 1, 4), 32.0, 10.0, 0.1)
    asked = []
    timeline.loopRequested.connect(lambda: asked.append(timeline.status.text()))
    timeline.play_button.setChecked(True)
    timeline.show_loop(frames)
    assert timeline.status.text().startswith("4 frames")
    timeline.mark_stale(remake_now=True)  # a new frame rate (a stroke waits for the painting to stop)
    assert timeline.playing and timeline.timer.isActive()  # the old loop plays on
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=5_000)  # the play, then the remake
    assert asked[-1] == MAKING and timeline.status.text() == MAKING
    timeline.show_loop(frames)
    assert timeline.status.text().startswith("4 frames")
    timeline.play_button.setChecked(False)


def drag_slider(slider, steps) -> None:
    slider.sliderPressed.emit()
    for value in steps:
        slider.setValue(value)
    slider.sliderReleased.emit()


def test_a_heart_slider_moved_on_es_moves_eds_heart_too_keeping_eds_paint_and_one_undo_brings_both_back(window):
    """The heart is the patient's: LV length moved on ES made ES another patient than ED, the
    loop between them morphing one into the other. ED now takes the same heart as one linked
    step, drawn at its own phase with its own paint kept."""
    from engine.anatomy.heart import Heart

    ed, panel = window.document, window.anatomy_panel
    stroke = ed.begin_stroke()
    ed.stroke_to(stroke, 4.5, 60.5, 3, 3)  # a blob painted on ED, in a corner away from the heart
    ed.end_stroke(stroke)
    painted, ed_before, ed_record = ed.labels != heart_as_drawn(ed), ed.labels.copy(), ed.anatomy
    window.commands["key_frame"].trigger()
    es = window.document
    length = panel.sliders["lv_length"]
    drag_slider(length, range(length.value() + 1, length.value() + 16))
    assert es.anatomy["heart"] == ed.anatomy["heart"] != ed_record["heart"]
    assert panel.model.position(Heart.from_dict(ed.anatomy["heart"]), "lv_length") > \
        panel.model.position(Heart.from_dict(ed_record["heart"]), "lv_length") + 0.5
    assert ed.anatomy["phase"] == 0.0 and es.anatomy["phase"] == 1.0
    assert painted.any() and (ed.labels[painted] == ed_before[painted]).all()
    assert (ed.labels[~painted] == heart_as_drawn(ed)[~painted]).all() and not (ed.labels == ed_before).all()
    assert len(ed.history) == 2 and ed.history.top.link == es.history.top.link
    window.undo()
    assert ed.anatomy == ed_record and (ed.labels == ed_before).all() and es.anatomy["heart"] == ed_record["heart"]
    assert len(ed.history) == 1 and ed.history.can_redo


def test_after_a_preset_on_es_the_key_frames_ef_is_the_heart_models(window):
    """A preset applied on ES left ED the old patient: the key frames' EF (the masks) and the
    panel's (the model) told two stories."""
    panel = window.anatomy_panel
    window.commands["key_frame"].trigger()
    es = window.document
    panel.preset.setCurrentIndex(panel.preset.findData("dilated_lv"))
    panel.apply.click()
    model, heart = panel.model, panel.heart
    shown = model.drawn_heart(heart, "4CH", 64, es.fan)
    assert window.key_frames.frames["ED"].anatomy["heart"] == es.anatomy["heart"]
    assert window.key_frames.ejection_fraction() == pytest.approx(model.ejection_fraction(shown, "4CH"), abs=3)


def test_the_phase_slider_keeps_each_key_frame_on_its_side_of_the_cycle(window):
    """ED<->ES dragged to ED on the ES key frame made it a second ED frame, silently: the loop
    beat nowhere and the key-frame EF read 0 %. Each frame keeps to its half of the cycle, short
    of mid-cycle (both at 50 % beat no more), and New heart and Fit to mask keep the ES frame
    at end-systole."""
    from cardigan_app.panels.anatomy_sliders import STEPS

    panel = window.anatomy_panel
    assert (panel.phase.minimum(), panel.phase.maximum()) == (0, STEPS)  # a mask alone: the whole cycle
    window.commands["key_frame"].trigger()
    es = window.document
    assert "ES key frame" in panel.phase.toolTip() and "stay 10 % of the cycle apart" in panel.phase.toolTip()
    panel.phase.setValue(0)
    assert es.anatomy["phase"] == 0.55 and panel.values["phase"].text() == "55 %"
    panel.phase.setValue(STEPS)
    panel.new_heart.click()
    assert es.anatomy["phase"] == 1.0 and window.key_frames.frames["ED"].anatomy["heart"] == es.anatomy["heart"]
    window.commands["key_frame"].trigger()
    panel.phase.setValue(STEPS)
    assert window.document.anatomy["phase"] == 0.45
    panel.phase.setValue(0)
    assert window.key_frames.ejection_fraction() > 5


def test_key_frames_saved_at_one_phase_say_why_their_ef_is_0(window):
    """A pair saved with both frames at mid-cycle reads EF 0 %: the EF line says why."""
    ed = window.document
    window.commands["key_frame"].trigger()
    es = window.document
    for doc in (es, ed):  # as a file saved so holds them
        doc.set_meta("phase", anatomy={**doc.anatomy, "phase": 0.5})
        doc.replace(heart_as_drawn(doc), "phase")
        window.commands["key_frame"].trigger()
    line = window.anatomy_panel.key_frame_ef.text()
    assert line.startswith("Key frames ED\u2192ES: EF 0 % by area: both are drawn at 50 % of the cycle")
    ed.undo()
    ed.undo()
    window.key_frames_changed()
    assert "drawn at" not in window.anatomy_panel.key_frame_ef.text()


def test_a_pair_saved_in_two_fans_opens_as_saved_and_its_first_fan_change_makes_one(window, tmp_path):
    """Opening a pair whose frames hold two fans added a "fan of the other key frame" step: the
    pair opened modified, with an undo the user had not made. It opens as saved; the first fan
    change gives both frames that fan, and undo brings both back."""
    from engine.fan import FAN_KEY, Fan, default_fan
    from engine.maskio import write_label_png

    fans = {key: Fan.from_json(fan.to_json())  # as read back
            for key, fan in (("ED", default_fan("4CH")), ("ES", default_fan("4CH").with_shape(depth=0.8)))}
    for key, fan in fans.items():
        write_label_png(tmp_path / f"p_4CH_{key}.png", window.document.labels, {FAN_KEY: fan.to_json()})
    assert window.files.open_path(tmp_path / "p_4CH_ED.png", confirmed=True)
    frames = window.key_frames.frames
    ed, es = frames["ED"], frames["ES"]
    for key, doc in frames.items():
        assert doc.fan == fans[key] and not doc.modified and not doc.history.can_undo
    assert not window.isWindowModified()
    window.commands["key_frame"].trigger()
    assert not es.history.can_undo and ed.fan == fans["ED"]
    wider = es.fan.with_shape(width=60.0)
    es.set_meta("fan", fan=wider)
    assert ed.fan == wider and ed.history.undo_description == "fan of the other key frame"
    window.undo()
    assert es.fan == fans["ES"] and ed.fan == fans["ED"] and not ed.history.can_undo


def test_an_older_pair_with_two_hearts_opens_as_saved_and_its_first_heart_move_makes_one_patient(window, tmp_path):
    """A pair saved before the heart was shared may hold two patients: it opens untouched, and
    the first heart change makes the frame shown's heart both frames', said once."""
    import json

    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import ANATOMY_KEY, anatomy_record
    from engine.fan import FAN_KEY, default_fan
    from engine.maskio import write_label_png

    model, fan = ShapeModel.default(), default_fan("4CH")
    hearts = {"ED": model.draw(11), "ES": model.draw(12)}
    for key, phase in (("ED", 0.0), ("ES", 1.0)):
        write_label_png(tmp_path / f"p_4CH_{key}.png", model.mask(hearts[key], "4CH", phase, 64, fan=fan),
                        {FAN_KEY: fan.to_json(), ANATOMY_KEY: json.dumps(anatomy_record(hearts[key], "4CH", phase))})
    assert window.files.open_path(tmp_path / "p_4CH_ED.png", confirmed=True)
    frames, bar = window.key_frames.frames, window.statusBar()
    ed, es = frames["ED"], frames["ES"]
    assert es is not None and "heart" not in bar.currentMessage()
    window.commands["key_frame"].trigger()
    for key, doc in frames.items():
        assert doc.anatomy["heart"] == hearts[key].to_dict() and not doc.modified and not doc.history.can_undo
    wall = window.anatomy_panel.sliders["wall"]
    wall.setValue(wall.value() + 5)  # on ES: ES's heart wins
    assert ed.anatomy["heart"] == es.anatomy["heart"] != hearts["ES"].to_dict()
    assert "one patient" in bar.currentMessage() and "ED key frame held another heart" in bar.currentMessage()
    bar.show_background("Model ready")  # said once, it is not covered by work running on its own
    assert "one patient" in bar.currentMessage() and bar.currentMessage().endswith("Model ready")
    bar.clearMessage()
    wall.setValue(wall.value() + 5)
    assert bar.currentMessage() == "" and ed.anatomy["heart"] == es.anatomy["heart"]
    window.undo()
    window.undo()
    assert ed.anatomy["heart"] == hearts["ED"].to_dict() and es.anatomy["heart"] == hearts["ES"].to_dict()


def test_a_new_heart_on_es_undone_and_redone_on_ed_stays_one_step_es_can_undo(window):
    """New heart on the ES frame as it was made, undone and redone on ED: the redo made the ES
    frame again from ED's heart, a frame with no history, so undo on ES no longer brought the
    old heart back to either frame."""
    ed, panel, frames = window.document, window.anatomy_panel, window.key_frames.frames
    old = ed.anatomy["heart"]
    window.commands["key_frame"].trigger()
    es = window.document
    panel.new_heart.click()
    new = es.anatomy["heart"]
    window.commands["key_frame"].trigger()
    window.undo()
    assert ed.anatomy["heart"] == es.anatomy["heart"] == old
    window.redo()
    assert frames["ES"] is es and ed.anatomy["heart"] == es.anatomy["heart"] == new
    window.commands["key_frame"].trigger()
    window.undo()
    assert ed.anatomy["heart"] == es.anatomy["heart"] == old
