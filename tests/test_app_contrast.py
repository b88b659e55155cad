"""The real image's contrast in the studio: a right-drag (or Ctrl + drag) on its pane, Auto and
Reset set the window/level it is shown at, in its pane and under the mask alike; a view
setting that never reaches the mask, its undo history or its file, kept while the image stays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from cardigan_app.contrast import Window, apply_window, auto_window
from cardigan_app.export import side_by_side
from cardigan_app.imaging import PALETTE
from cardigan_app.editing import LabelDocument
from cardigan_app.testing import drag, send_mouse

RIGHT, LEFT, NONE = Qt.MouseButton.RightButton, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(active_window):
    return active_window


def dim_echo(size: int, seed: int = 0) -> np.ndarray:
    """A dim picture: grey values 10..70, a gradient with speckle (no real pixels)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(10, 60, size)[None, :] + rng.integers(0, 11, size=(size, size))
    return ramp.astype(np.uint8)


def trace_over(window, image: np.ndarray) -> LabelDocument:
    """A blank mask over ``image`` beside the synthesis, the image under the mask too (as
    File › Open image to trace leaves it)."""
    document = LabelDocument(np.zeros(image.shape[-2:], np.uint8), origin="traced over a test image")
    if image.ndim == 3:
        window.set_document(document, frames=image, source="loop.nii.gz")
    else:
        window.set_document(document, reference=image)
    window.state.set("side_by_side", True)
    window.state.set("show_synthesis_under_mask", True)
    QApplication.processEvents()
    return document


def pane_grey(window, x: int, y: int) -> int:
    """The grey the real-image pane paints at image pixel (x, y)."""
    return window.workspace.reference_view._compose().pixelColor(x, y).red()


def under_mask_grey(window, x: int, y: int) -> int:
    return window.canvas._background.pixelColor(x, y).red()


def contrast_drag(view, dx: float, dy: float, button=RIGHT, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press in the pane's middle, move by (dx, dy) screen pixels in two steps, release."""
    start = QPointF(view.width() / 2, view.height() / 2)
    send_mouse(view, QEvent.Type.MouseButtonPress, start, button, modifiers=modifiers)
    for part in (0.5, 1.0):
        send_mouse(view, QEvent.Type.MouseMove, start + QPointF(dx * part, dy * part), NONE, button,
                   modifiers=modifiers)
    send_mouse(view, QEvent.Type.MouseButtonRelease, start + QPointF(dx, dy), button, NONE, modifiers=modifiers)


def test_a_right_drag_sets_the_contrast_of_the_pane_and_of_the_image_under_the_mask(window):
    image = dim_echo(64)
    doc = trace_over(window, image)
    view, header = window.workspace.reference_view, window.workspace.contrast_label
    x, y = 40, 20
    assert pane_grey(window, x, y) == under_mask_grey(window, x, y) == image[y, x]  # its own values at first
    assert not header.isVisible()
    history = (doc.history.undo_description, doc.history.can_redo, doc.revision, doc.modified)
    labels = doc.labels.copy()
    scale, centre = view.view_state()

    contrast_drag(view, -200, -60)  # narrower (more contrast), brighter
    window_now = window.references.contrast
    assert window_now == Window(56, 68)
    assert view.contrast() == window_now and not view.is_adjusting_contrast()
    expected = int(np.clip(np.floor((int(image[y, x]) - 40) * 256 / 56), 0, 255))
    assert pane_grey(window, x, y) == under_mask_grey(window, x, y) == expected != image[y, x]
    assert header.isVisible() and header.text() == "W 56 \u00b7 L 68"
    assert "Real image contrast: W 56" in window.statusBar().currentMessage()
    # the view's own business: no pan, no zoom, nothing in the mask or its history
    assert view.view_state()[0] == scale and view.view_state()[1] == centre
    assert (doc.labels == labels).all()
    assert (doc.history.undo_description, doc.history.can_redo, doc.revision, doc.modified) == history
    assert not window.commands["undo"].isEnabled()

    # Ctrl + left drag does the same (a touchpad has no right button); a plain left drag pans
    contrast_drag(view, 20, 0, LEFT, CTRL)
    assert window.references.contrast == Window(76, 68)
    drag(view, [(10, 10), (30, 30)])
    assert window.references.contrast == Window(76, 68) and view.view_state()[1] != centre


def exported_figure(window, qtbot, monkeypatch, path) -> np.ndarray:
    """File › Export side-by-side figure to ``path`` once the synthesis shows the mask: the figure."""
    qtbot.waitUntil(lambda: window.live.up_to_date() and window.live.last_result.document == window.document.id,
                    timeout=20_000)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    assert window.exporter.export_figure()
    return np.asarray(Image.open(path))


def counted_percentiles(monkeypatch) -> list[int]:
    """Count each percentile computation from now on (Auto takes one per window worked out)."""
    calls: list[int] = []
    percentile = np.percentile

    def counting(*args, **kwargs):
        calls.append(1)
        return percentile(*args, **kwargs)

    monkeypatch.setattr(np, "percentile", counting)
    return calls


def test_the_figure_shows_the_real_image_through_the_contrast_and_the_rest_as_they_are():
    labels = np.zeros((4, 4), np.uint8)
    labels[1:3, 1:3] = 1
    image = (np.arange(16, dtype=np.uint8) * 5).reshape(4, 4)
    plain = side_by_side(labels, image, image)  # the same grey values in both panels
    seen = side_by_side(labels, image, image, contrast=Window(20, 40))
    assert seen.shape == plain.shape == (4, 4 * 3 + 8 * 2, 3)
    assert (plain[:, 24:, 0] == image).all()  # no contrast: the real image as it is
    assert (seen[:, 24:, 0] == apply_window(image, Window(20, 40))).all() and (seen[:, 24:] != plain[:, 24:]).any()
    assert (seen[:, :24] == plain[:, :24]).all()  # the mask and the synthesized image untouched
    assert (seen[:, :4] == PALETTE[labels]).all() and (seen[:, 12:16, 0] == image).all()


def test_auto_and_reset_from_the_keys_and_the_panes_buttons(window, qtbot, monkeypatch, tmp_path):
    """... and the side-by-side figure exported shows the real image as the pane does."""
    image = dim_echo(64)
    doc = trace_over(window, image)
    auto, reset = window.commands["contrast_auto"], window.commands["contrast_reset"]
    assert auto.isEnabled() and reset.isEnabled()
    assert auto.toolTip().endswith("(A)") and reset.toolTip().endswith("(Shift+A)")
    assert window.workspace.contrast_auto.defaultAction() is auto
    assert window.workspace.contrast_reset.defaultAction() is reset

    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    window_now = window.references.contrast
    # the status bar says the window was Auto's, as Shift+A says "its own values"
    assert window.statusBar().currentMessage() == f"Real image contrast: {window_now.describe()} (Auto)"
    low, high = np.percentile(image, (1, 99))
    assert window_now.low == np.floor(low) and window_now.high == np.ceil(high) + 1
    shown = window.workspace.reference_view.shown_image()
    assert shown.min() == 0 and shown.max() >= 250  # the dim image now spans black to white
    assert under_mask_grey(window, 5, 5) == shown[5, 5]
    assert window.workspace.contrast_label.isVisible()
    figure = exported_figure(window, qtbot, monkeypatch, tmp_path / "auto.png")
    result = window.live.last_result
    assert (figure[:, 144:, 0] == shown).all()  # the real image as seen
    assert (figure[:, 72:136, 0] == result.image).all() and (figure[:, :64] == PALETTE[result.labels]).all()

    qtbot.keyClick(window.canvas, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert window.references.contrast is None
    assert (window.workspace.reference_view.shown_image() == image).all()
    assert under_mask_grey(window, 5, 5) == image[5, 5]
    assert not window.workspace.contrast_label.isVisible()
    assert "its own values" in window.statusBar().currentMessage()
    assert not doc.modified and doc.history.undo_description is None
    assert (exported_figure(window, qtbot, monkeypatch, tmp_path / "own.png")[:, 144:, 0] == image).all()

    window._close_reference()  # with no real image, nothing to set
    assert not auto.isEnabled() and not reset.isEnabled()
    window.auto_contrast()
    assert window.references.contrast is None


def test_the_contrast_stays_with_the_loops_frames_and_a_new_image_starts_at_its_own_values(window, monkeypatch):
    frames = np.stack([dim_echo(64, seed) for seed in range(4)])
    trace_over(window, frames)
    narrowest = window.minimumSizeHint().width()
    view = window.workspace.reference_view
    contrast_drag(view, -100, 0)
    chosen = window.references.contrast
    assert chosen is not None
    window.workspace.reference_frame.setValue(2)  # another frame of the same loop: same contrast
    assert view.contrast() == chosen and (view.shown_image() != frames[2]).any()
    window.state.set("key_frame", "ES")  # the other key frame, over the same loop
    assert view.contrast() == chosen and window.workspace.contrast_label.isVisible()
    window.state.set("key_frame", "ED")
    QApplication.processEvents()  # the window/level in the header makes the window no wider (1 pixel)
    assert window.workspace.contrast_label.isVisible() and window.minimumSizeHint().width() <= narrowest + 1

    other = dim_echo(64, 9)
    trace_over(window, other)  # a new image: its own values
    assert window.references.contrast is None and view.contrast() is None
    assert (view.shown_image() == other).all() and under_mask_grey(window, 7, 3) == other[3, 7]
    assert not window.workspace.contrast_label.isVisible()

    # Auto's window is worked out once per image shown: pressed again (after a reset too), it is kept
    brightening = frames + (np.arange(4, dtype=np.uint8) * 20)[:, None, None]
    expected = auto_window(other), auto_window(brightening[0]), auto_window(brightening[3])
    assert expected[1] != expected[2]
    calls = counted_percentiles(monkeypatch)
    window.auto_contrast()
    window.under_image.reset_contrast()
    window.auto_contrast()
    assert len(calls) == 1 and window.references.contrast == expected[0]
    trace_over(window, brightening)  # another image, then another frame of it: worked out again, once each
    window.auto_contrast()
    assert len(calls) == 2 and view.contrast() == expected[1]
    window.workspace.reference_frame.setValue(3)
    window.auto_contrast()
    window.auto_contrast()
    assert len(calls) == 3 and view.contrast() == expected[2]
    window.workspace.reference_frame.setValue(0)  # back to a frame seen before: kept, not worked out again
    window.auto_contrast()
    assert len(calls) == 3 and view.contrast() == expected[1]
    trace_over(window, other.copy())  # an image shown before, opened again as another array: kept too
    window.auto_contrast()
    assert len(calls) == 3 and view.contrast() == expected[0]


def test_the_shortcuts_dialog_lists_the_contrast_keys_and_drag(window):
    from cardigan_app.dialogs.shortcuts import CANVAS_GESTURES, shortcut_rows

    rows = shortcut_rows(window.commands.sections)
    assert ("View", "Real image contrast: auto", "A") in rows
    assert ("View", "Real image contrast: reset", "Shift+A") in rows
    assert any(section == "Real image" and "Right-button drag" in keys for section, _, keys in CANVAS_GESTURES)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    contrast = next(a.menu() for a in view_menu.actions() if a.menu() and "contrast" in a.text())
    assert contrast.actions() == [window.commands["contrast_auto"], window.commands["contrast_reset"]]
