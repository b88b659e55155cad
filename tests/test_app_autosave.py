"""Autosave and crash recovery: the latest edits of both key frames survive a kill, a save of one
frame keeps the other's autosave, and a damaged autosave is kept aside, never deleted."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent

import cardigan_app.autosave as autosave
import cardigan_app.crash_recovery as crash_recovery
from cardigan_app.autosave import Autosaver
from cardigan_app.testing import drag, image_to_widget, send_mouse
from engine.maskio import read_label_png, write_label_png


def labels_with(value: int, size: int = 64) -> np.ndarray:
    labels = np.zeros((size, size), np.uint8)
    labels[10:30, 10 + value:30 + value] = value
    return labels


def left_by_a_dead_app(root, *saves) -> Autosaver:
    """An autosaver that autosaved ``saves`` (arguments of :meth:`Autosaver.save`) in turn and
    then died: its lock let go, its folder left."""
    saver = Autosaver(root)
    for args in saves:
        assert saver.save(*args)
    saver._lock.unlock()
    saver._lock = None
    return saver


def truncated(path) -> None:
    path.write_bytes(path.read_bytes()[:60])


def test_an_edit_is_autosaved_soon_without_waiting_for_the_timer(window, qtbot):
    window.recovery._timer.stop()  # the periodic autosave plays no part
    window.recovery.after_edit.setInterval(10)
    assert window.autosaver.mask_path is None
    drag(window.canvas, [(5, 5), (30, 5)])
    qtbot.waitUntil(lambda: window.autosaver.mask_path is not None, timeout=5000)
    assert (read_label_png(window.autosaver.mask_path) == window.document.labels).all()


def test_saving_one_key_frame_keeps_the_autosave_of_the_other(window, tmp_path):
    from cardigan_app.dialogs.new_mask import NewMaskChoice

    window.set_document(NewMaskChoice(True, "4CH", "ED", 5, 64).document())
    ed = window.document
    ed.fill(2, 2, 3)
    window.commands["key_frame"].trigger()
    es = window.document
    es.fill(60, 60, 1)
    assert window.autosave_now()
    assert window.files._write(tmp_path / "p_4CH_ED.png", ed)
    # ES's edits are still only in memory: its autosave stays, alone now
    assert es.modified and (read_label_png(window.autosaver.mask_path) == es.labels).all()


def test_a_kill_in_the_middle_of_an_autosave_leaves_the_last_whole_one(tmp_path, monkeypatch):
    ed, es = labels_with(1), labels_with(2)
    saver = Autosaver(tmp_path)
    assert saver.save(ed, None, (1,), None, None, "ED")
    written = []
    real_write = autosave.write_label_png

    def killed_after_one_file(path, labels, text=None):
        if written:
            raise SystemExit("killed")  # the process dies between the two files
        written.append(path)
        real_write(path, labels, text)

    monkeypatch.setattr(autosave, "write_label_png", killed_after_one_file)
    with pytest.raises(SystemExit):
        saver.save(es, None, (2,), None, ("ED", ed + 0, None, {}), "ES")
    saver._lock.unlock()
    saver._lock = None
    [found] = Autosaver(tmp_path).find_recoveries()
    assert found.frame == "ED" and found.other is None and (found.load()[0] == ed).all()
    assert "its ED key frame" in found.describe()


def test_a_damaged_autosave_is_kept_aside_and_said_in_one_line(window, tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr(crash_recovery.QMessageBox, "warning", lambda parent, title, text: warned.append(text))
    monkeypatch.setattr(crash_recovery, "ask_recovery", lambda parent, text: crash_recovery.Choice.SAVE)
    root = window.autosaver.root
    dead = left_by_a_dead_app(root, (labels_with(1), None, (1,), None, None, "ED"))
    truncated(dead.mask_path)
    assert not window.offer_recovery()
    aside = root / dead.folder.name.replace("session-", "damaged-")
    assert len(warned) == 1 and "\n" not in warned[0] and str(aside) in warned[0]
    assert aside.is_dir() and not dead.folder.exists() and window.autosaver.find_recoveries() == []

    # a pair whose other key frame is damaged: the readable one comes back, the other is kept
    ed, es = labels_with(1), labels_with(2)
    dead = left_by_a_dead_app(root, (es, None, (2,), None, ("ED", ed, None, {}), "ES"))
    truncated(dead.folder / "other-1.png")
    assert window.offer_recovery()
    assert (window.document.labels == es).all() and window.document.modified
    assert window.document is window.key_frames.frames["ES"]  # beside an ED frame made for it, and why
    said = window.statusBar().currentMessage()
    assert "; its ED key frame could not be recovered, so the ED key frame is a copy" in said
    aside = root / dead.folder.name.replace("session-", "damaged-")
    assert len(warned) == 2 and "ED key frame" in warned[1] and str(aside) in warned[1]
    assert (aside / "other-1.png").is_file() and not dead.folder.exists()


def as_if_crashed(window) -> None:
    """The window's autosave left as a crashed app leaves it (its lock let go), the window going
    on as the next start, its own autosave in a new folder, editing another mask."""
    from cardigan_app.dialogs.new_mask import NewMaskChoice

    saver = window.autosaver
    saver._lock.unlock()
    saver._lock, saver.saved_revision = None, None
    saver.folder = saver.root / f"{saver.folder.name}-next"
    for frame in window.key_frames.frames.values():
        if frame is not None:
            frame.mark_saved()
    window.set_document(NewMaskChoice(True, "4CH", "ED", 7, 64).document())


@pytest.fixture
def es_edited_beside_saved_ed(window, tmp_path, monkeypatch):
    """``window`` with ``p_4CH_ED.png`` saved and its ES frame (no file yet) edited, autosaved
    and crashed: returns the ED file, the ES frame's labels and the recovery offers asked."""
    ed_path = tmp_path / "p_4CH_ED.png"
    es_labels = ed_saved_es_painted(window, ed_path)
    assert window.autosave_now()
    as_if_crashed(window)
    asked = []
    monkeypatch.setattr(crash_recovery, "ask_recovery",
                        lambda parent, text: asked.append(text) or crash_recovery.Choice.SAVE)
    return ed_path, es_labels, asked


def ed_saved_es_painted(window, ed_path):
    """A new pair in ``window``: its ED frame saved as ``ed_path``, then its ES frame shown and
    painted (not saved); returns the ES frame's labels."""
    window.set_document(labels_document())
    assert window.files._write(ed_path)
    window.commands["key_frame"].trigger()
    window.document.fill(60, 60, 1)
    return window.document.labels.copy()


def labels_document():
    from cardigan_app.dialogs.new_mask import NewMaskChoice

    return NewMaskChoice(True, "4CH", "ED", 5, 64).document()


def test_an_es_frame_autosaved_alone_comes_back_beside_its_saved_ed_file(window, es_edited_beside_saved_ed,
                                                                        monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    ed_path, es_labels, asked = es_edited_beside_saved_ed
    assert window.offer_recovery()
    assert asked[0].startswith("p_4CH_ED.png \u00b7 ES, autosaved ")
    frames = window.key_frames.frames
    assert frames["ED"].path == ed_path and not frames["ED"].modified
    assert window.document is frames["ES"] and frames["ES"].modified and (frames["ES"].labels == es_labels).all()
    assert window.windowTitle().startswith("p_4CH_ED.png \u00b7 ES")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda parent, title, suggestion, *a: (suggestion, "")))
    assert window.files.save()  # the ES file goes beside its ED file
    assert (read_label_png(ed_path.with_name("p_4CH_ES.png")) == es_labels).all() and not window.key_frames.modified()


@pytest.mark.parametrize("since", ["changed", "moved"])
def test_an_es_frame_whose_ed_file_changed_or_moved_comes_back_alone_and_says_why(
        window, es_edited_beside_saved_ed, since):
    ed_path, es_labels, asked = es_edited_beside_saved_ed
    if since == "changed":
        write_label_png(ed_path, labels_with(3))
    else:
        ed_path.rename(ed_path.with_name("elsewhere.png"))
    assert window.offer_recovery()
    frames = window.key_frames.frames
    assert window.document is frames["ES"] and window.state.key_frame == "ES" and window.document.path is None
    assert (window.document.labels == es_labels).all() and window.document.modified
    assert frames["ED"].path is None and not frames["ED"].modified  # made again from the heart
    assert frames["ED"].anatomy == {**frames["ES"].anatomy, "phase": 0.0}
    said = window.statusBar().currentMessage()
    why = "p_4CH_ED.png changed on disk since the autosave" if since == "changed" else (
        f"p_4CH_ED.png is no longer in {ed_path.parent}")
    assert f"; {why}, so the ED key frame was made again from its heart" in said and "\n" not in said
    frames["ED"].anatomy = None  # named by the file it went with, without a heart to name it by
    assert window.files.frame_name(window.document) == "Untitled pair of p_4CH_ED.png \u00b7 ES"


def test_an_es_frame_autosaved_alone_with_no_saved_ed_comes_back_as_the_es_frame(window, monkeypatch):
    """A new heart's ES frame painted, its ED frame untouched (nothing of ED to autosave), came
    back after a crash as the ED frame of a new pair. It comes back as the ES frame, its ED
    frame made again from the heart as it was; a hand-painted ES frame gets a copy of itself."""
    window.set_document(labels_document())
    ed_labels = window.document.labels.copy()
    window.commands["key_frame"].trigger()
    window.document.fill(60, 60, 1)
    es_labels = window.document.labels.copy()
    assert window.autosave_now() and not window.key_frames.frames["ED"].modified
    as_if_crashed(window)
    monkeypatch.setattr(crash_recovery, "ask_recovery", lambda parent, text: crash_recovery.Choice.SAVE)
    assert window.offer_recovery()
    frames = window.key_frames.frames
    assert window.document is frames["ES"] and window.state.key_frame == "ES"
    assert (frames["ES"].labels == es_labels).all() and frames["ES"].modified
    assert (frames["ED"].labels == ed_labels).all() and frames["ED"].anatomy["phase"] == 0.0
    assert window.windowTitle().startswith("Untitled heart #5, 4CH \u00b7 ES")
    assert ("its ED key frame had no edits to autosave, so the ED key frame was made again from its heart"
            in window.statusBar().currentMessage())
    from cardigan_app.cine.key_frames import ed_frame_of

    frames["ES"].anatomy = None
    copy = ed_frame_of(frames["ES"])
    assert (copy.labels == es_labels).all() and copy.fan == frames["ES"].fan and not copy.modified


def autosaved_hearts(saver) -> list:
    """The hearts of the masks the autosave in force holds (the frame shown first)."""
    import json

    from engine.anatomy.heart import ANATOMY_KEY
    from engine.maskio import read_label_map_and_text

    info = json.loads((saver.folder / "info.json").read_text())
    names = [info["mask"]] + ([info["other"]["mask"]] if info["other"] else [])
    return [json.loads(read_label_map_and_text(saver.folder / name)[1][ANATOMY_KEY])["heart"] for name in names]


def test_a_drag_held_down_is_autosaved_only_once_it_is_let_go(window):
    """An autosave taken mid-drag held ED's new heart beside ES's old one (the other frame takes
    the heart at the release): a crash then brought back a pair of two patients. An autosave
    that comes due mid-drag now waits, and is made as soon as the slider is let go, the two
    hearts one; a brush stroke held down waits the same way."""
    window.recovery._timer.stop()
    window.set_document(labels_document())
    ed = window.document
    window.commands["key_frame"].trigger()
    window.document.fill(60, 60, 1)  # ES edited too: autosaved beside ED
    window.commands["key_frame"].trigger()
    slider = window.anatomy_panel.sliders["lv_length"]
    slider.sliderPressed.emit()
    slider.setValue(slider.value() + 10)
    window.recovery.after_edit.stop()  # as if it fired now, mid-drag
    mid_drag = window.autosave_now(), window.autosaver.mask_path
    slider.sliderReleased.emit()  # let go before any assert: a failure leaves no drag held
    assert mid_drag == (False, None)
    assert window.key_frames.es.anatomy["heart"] == ed.anatomy["heart"]
    assert autosaved_hearts(window.autosaver) == [ed.anatomy["heart"]] * 2
    before = read_label_png(window.autosaver.mask_path)
    tool = window.canvas.tool  # the brush, pressed and dragged, not let go
    tool.press(5, 5)
    tool.drag(30, 5)
    mid_stroke = window.autosave_now(), read_label_png(window.autosaver.mask_path)
    tool.release(30, 5)
    assert not mid_stroke[0] and (mid_stroke[1] == before).all()
    assert (read_label_png(window.autosaver.mask_path) == window.document.labels).all()
    assert not (window.document.labels == before).all()
    # a stroke over what it paints already changes nothing: its release still makes the
    # autosave that waited for it (the fill before it was left to the 20 s timer)
    window.document.fill(60, 5, 3)
    window.recovery.after_edit.stop()
    at = image_to_widget(window.canvas, 30, 5)
    send_mouse(window.canvas, QEvent.Type.MouseButtonPress, at)
    assert not window.autosave_now()
    send_mouse(window.canvas, QEvent.Type.MouseButtonRelease, at)
    assert (read_label_png(window.autosaver.mask_path) == window.document.labels).all()


def test_an_ed_frame_autosaved_alone_comes_back_with_its_saved_es_file(window, tmp_path, monkeypatch):
    """The ED frame recovered alone left its saved ES file out: K then made a new ES frame,
    and saving it offered to write over the ES file, as opening the ED file never does."""
    ed_path, es_path = tmp_path / "p_4CH_ED.png", tmp_path / "p_4CH_ES.png"
    es_labels = ed_saved_es_painted(window, ed_path)
    assert window.files._write(es_path)
    window.commands["key_frame"].trigger()
    window.document.fill(2, 2, 3)
    ed_labels = window.document.labels.copy()
    assert window.autosave_now()
    as_if_crashed(window)
    monkeypatch.setattr(crash_recovery, "ask_recovery", lambda parent, text: crash_recovery.Choice.SAVE)
    assert window.offer_recovery()
    frames = window.key_frames.frames
    assert window.document is frames["ED"] and frames["ED"].modified and (frames["ED"].labels == ed_labels).all()
    assert frames["ES"] is not None and frames["ES"].path == es_path and not frames["ES"].modified
    assert (frames["ES"].labels == es_labels).all()
