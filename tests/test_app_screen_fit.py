"""The studio fits a laptop screen in every state: its least size stays within 1260 x 740, room
for a 1280 x 800 or 1366 x 768 screen's window frame and task bar, whatever is open (a real
image, a loop's frames with their slider, an ITK-SNAP workspace, the training panel, every
panel, a played loop on the timeline)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QDockWidget, QScrollArea, QWidget

from cardigan_app.contrast import Window
from cardigan_app.editing import LabelDocument
from cardigan_app.panels.narrow import COLUMN_WIDTH

FITS = (1260, 740)  # a 1280 x 800 screen less the window frame and a task bar


def least_size(window) -> tuple[int, int]:
    QApplication.processEvents()
    hint, set_ = window.minimumSizeHint(), window.minimumSize()
    return max(hint.width(), set_.width()), max(hint.height(), set_.height())


def echo_loop(count: int = 20, size: int = 64) -> np.ndarray:
    """A made-up loop: a bright band that moves frame by frame (no real pixels)."""
    frames = np.zeros((count, size, size), np.uint8)
    for t in range(count):
        frames[t, :, (t * 3) % size:(t * 3) % size + 8] = 200
    return frames


def traced_over_a_loop(window, qtbot, tmp_path=None) -> None:
    """A mask over a loop's real frames, both key frames, the contrast chosen, blending, busy."""
    document = LabelDocument(window.document.labels.copy(), origin="traced over a test loop")
    window.set_document(document, frames=echo_loop(), source="loop.nii.gz")
    window.state.set("key_frame", "ES")  # the mask pane names the key frame edited
    window.under_image.set_contrast(Window(123.5, 64.25))  # the header says the window/level
    window.state.set("echo_mode", "blend")  # the blend slider shows too
    window.live.busyChanged.emit(True)


def fresh_start(window, qtbot, tmp_path) -> None:
    pass


def dataset_pair(window, qtbot, tmp_path) -> None:
    window.set_document(LabelDocument(window.document.labels.copy(), origin="a dataset pair"),
                        reference=np.full(window.document.shape, 90, np.uint8))
    window.show_dataset_panel()


def itksnap_workspace(window, qtbot, tmp_path) -> None:
    from engine.itksnap_workspace import write_workspace
    from engine.maskio import write_nifti

    write_nifti(tmp_path / "loop.nii.gz", echo_loop(7))
    write_nifti(tmp_path / "loop_seg.nii.gz", window.document.labels)
    write_workspace(tmp_path / "case.itksnap", tmp_path / "loop.nii.gz", tmp_path / "loop_seg.nii.gz")
    window.document.mark_saved()
    assert window.open_any(tmp_path / "case.itksnap")
    qtbot.waitUntil(lambda: window.workspace.reference_frame.isVisibleTo(window), timeout=10_000)


def training_panel(window, qtbot, tmp_path) -> None:
    window.training.dock.show()


def every_panel(window, qtbot, tmp_path) -> None:
    traced_over_a_loop(window, qtbot)
    for dock in window.findChildren(QDockWidget):
        dock.show()


def mask_alone(window, qtbot, tmp_path) -> None:
    traced_over_a_loop(window, qtbot)
    window.state.set("side_by_side", False)


def played_loop(window, qtbot, tmp_path=None) -> None:
    traced_over_a_loop(window, qtbot)
    window.live.busyChanged.emit(False)
    window.state.set("cine_fps", 10)
    window.timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: window.timeline.frames is not None, timeout=60_000)
    window.timeline.play_button.setChecked(False)


STATES = {"fresh start": fresh_start, "a dataset pair": dataset_pair, "a loop's real frames": traced_over_a_loop,
          "an ITK-SNAP workspace": itksnap_workspace, "the training panel": training_panel,
          "every panel over a loop": every_panel, "the mask alone over a loop": mask_alone,
          "a played loop": played_loop}


@pytest.mark.parametrize("state", list(STATES))
def test_the_window_fits_a_laptop_screen(window, qtbot, tmp_path, state):
    STATES[state](window, qtbot, tmp_path)
    width, height = least_size(window)
    assert width <= FITS[0] and height <= FITS[1], f"{state}: at least {width} x {height}"


def place_in(widget, ancestor) -> QRect:
    """Where ``widget`` lies in ``ancestor``'s coordinates."""
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def overlapping(widgets, ancestor) -> list[tuple[str, str]]:
    """Pairs of ``widgets`` that overlap on screen."""
    places = [(type(w).__name__, place_in(w, ancestor)) for w in widgets]
    return [(a, b) for i, (a, ra) in enumerate(places) for b, rb in places[i + 1:] if ra.intersects(rb)]


def test_at_1280_by_800_over_a_loop_every_header_control_shows_whole_inside_its_pane(window, qtbot, tmp_path):
    """Three panes on a 1280-pixel screen are too narrow for a title and its controls on one
    line: the controls take a second line, none squashed or overlapping, none out of the pane;
    the timeline's status takes a line of its own and shows whole."""
    played_loop(window, qtbot)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    window.workspace.balance()
    QApplication.processEvents()
    ws = window.workspace
    for pane in (ws.mask_pane, ws.echo_pane, ws.reference_pane):
        widgets = pane.header_widgets()
        assert pane.header.wraps(pane.width() - 12), pane.title.text()
        assert overlapping(widgets, pane) == [], pane.title.text()
        for widget in widgets:
            assert pane.rect().contains(place_in(widget, pane)) and widget.width() >= widget.minimumSizeHint().width()
    assert ws.reference_frame.width() >= ws.reference_frame.minimumWidth()
    status, strip = window.timeline.status, window.timeline.parentWidget()
    assert status.width() >= status.fontMetrics().horizontalAdvance(status.text())
    assert strip.rect().contains(place_in(status, strip))  # not under the strip's edge


def test_a_window_and_level_cut_short_ends_in_an_ellipsis_and_tells_itself_whole(qtbot):
    """Clipped, "W 159 · L 79.5" read "W 159 · L 7": another number. Cut short it ends in "…"
    and its tooltip gives it whole."""
    from cardigan_app.elided_label import ElidedLabel

    label = ElidedLabel("W 159 \u00b7 L 79.5", about="The contrast")
    qtbot.addWidget(label)
    label.show()
    label.resize(label.sizeHint())
    assert label.shown_text() == label.text() and label.toolTip() == "The contrast"
    label.resize(label.fontMetrics().horizontalAdvance("W 159 \u00b7 L"), label.height())
    assert label.shown_text().endswith("\u2026") and label.text().startswith(label.shown_text()[:-1])
    assert label.toolTip() == "W 159 \u00b7 L 79.5\nThe contrast"
    assert label.minimumSizeHint().width() <= 1


# -- the side columns: narrow enough to leave the images the screen ------------------------

PANES_AT_1280 = 800  # the three panes' least total width at 1280 x 800 (they had 700 at first start)


def every_side_panel(window) -> list[QDockWidget]:
    """Every side panel shown: a heart's sliders and both key frames' EF line, the variations'
    thumbnails, the dataset, the model's output settings."""
    window.anatomy_panel.start_from_anatomy(ask=False)
    window.state.set("key_frame", "ES")
    QApplication.processEvents()
    assert window.anatomy_panel.key_frame_ef.isVisibleTo(window.anatomy_panel)
    window.synthesis_panel.set_stochastic(True)
    window.show_dataset_panel()
    window.model_panel.show_settings(True)
    docks = [dock for dock in window.findChildren(QDockWidget)
             if window.dockWidgetArea(dock) in (Qt.DockWidgetArea.LeftDockWidgetArea,
                                                Qt.DockWidgetArea.RightDockWidgetArea)]
    for dock in docks:
        dock.show()
    QApplication.processEvents()
    return docks


def leaves(panel: QWidget) -> list[QWidget]:
    """The widgets ``panel`` shows that hold no other shown widget (a scroll area counts as one)."""
    found = []
    for widget in panel.findChildren(QWidget):
        if not widget.isVisibleTo(panel) or any(isinstance(a, QAbstractScrollArea) for a in ancestors(widget, panel)):
            continue
        if isinstance(widget, QAbstractScrollArea) or not any(c.isVisibleTo(widget) for c in widget.findChildren(QWidget)):
            found.append(widget)
    return found


def ancestors(widget: QWidget, panel: QWidget) -> list[QWidget]:
    parents, parent = [], widget.parentWidget()
    while parent is not None and parent is not panel:
        parents.append(parent)
        parent = parent.parentWidget()
    return parents


def least_width(widget: QWidget) -> int:
    """The width a layout may give ``widget`` at least: its minimum width where one is set,
    else the least of its minimum size hint and its size hint (Qt's own rule)."""
    if widget.minimumWidth() > 0:
        return widget.minimumWidth()
    return min(widget.minimumSizeHint().width(), widget.sizeHint().width())


def at_1280_by_800(window, qtbot) -> None:
    """The window maximized on a 1280 x 800 screen, its panels laid out as at first start."""
    window.resize(1280, FITS[1])
    qtbot.waitUntil(lambda: window.width() == 1280)
    window.lay_out_panels()
    QApplication.processEvents()
    window.workspace.balance()
    QApplication.processEvents()


def test_each_side_panel_needs_at_most_a_narrow_column(window, qtbot):
    """The side columns took about 525 px of a 1280-pixel screen (Labels 234, Anatomy 253, Model
    247, Seed and variations 260): each panel now needs at most 215."""
    assert COLUMN_WIDTH <= 215
    widths = {dock.windowTitle(): dock.minimumSizeHint().width() for dock in every_side_panel(window)}
    assert set(widths) >= {"Labels", "Anatomy", "Model", "Seed and variations", "Dataset"}
    assert all(width <= COLUMN_WIDTH for width in widths.values()), widths
    scroll = window.anatomy_dock.widget()  # and what scrolls in it fits across, its scroll bar shown
    inner = scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
    assert inner <= COLUMN_WIDTH and scroll.minimumWidth() >= inner


def test_at_1280_by_800_the_panes_get_the_room_the_columns_left(window, qtbot):
    traced_over_a_loop(window, qtbot)
    window.live.busyChanged.emit(False)
    at_1280_by_800(window, qtbot)
    ws = window.workspace
    panes = (ws.mask_pane, ws.echo_pane, ws.reference_pane)
    assert sum(pane.width() for pane in panes) >= PANES_AT_1280, [pane.width() for pane in panes]
    for dock in (window.palette_dock, window.model_dock):
        assert dock.width() <= COLUMN_WIDTH, dock.windowTitle()


def test_at_1280_by_800_no_side_panel_squashes_or_overlaps_its_controls(window, qtbot):
    """Each shown control of each side panel lies whole inside its panel, at least as wide as
    it needs, and on no other; the variations' thumbnails are square and shrink with the panel."""
    every_side_panel(window)
    window.dataset_dock.hide()
    at_1280_by_800(window, qtbot)
    for dock in (window.palette_dock, window.anatomy_dock, window.model_dock, window.synthesis_dock):
        panel = dock.widget()
        panel = panel.widget() if isinstance(panel, QScrollArea) else panel
        widgets = leaves(panel)
        assert overlapping(widgets, panel) == [], dock.windowTitle()
        for widget in widgets:
            place = place_in(widget, panel)
            assert panel.rect().contains(place), (dock.windowTitle(), type(widget).__name__, place)
            assert widget.width() >= least_width(widget), (dock.windowTitle(), type(widget).__name__)
    thumbs = window.synthesis_panel.thumbs
    assert all(t.width() == t.height() == thumbs[0].width() for t in thumbs)
    assert thumbs[0].width() < 72  # the 64-pixel pictures' old buttons would not fit three a row



def ink_at_right_edge(label: QWidget) -> int:
    """How many pixels of ``label``'s rightmost column are not its background: text cut at its edge."""
    image = label.grab().toImage()
    x = image.width() - 1
    background = image.pixelColor(x, 0)
    return sum(image.pixelColor(x, y) != background for y in range(image.height()))


def test_the_model_panel_cuts_no_value_at_its_edge_in_a_narrow_column(window, qtbot):
    """At 1280 x 800 the Model panel's column opened at 164 px and its table cut its values at the
    edge ("SPADE \u00b7 ngf 4 instance norm", "no (deterministic)", "64 \u00d7 64 (other sizes"): where they
    do not fit beside their keys, each key goes above its value; where they do, the table stays."""
    window.resize(1280, FITS[1])
    qtbot.waitUntil(lambda: window.width() == 1280)
    panel, widths, cut, stacked = window.model_panel, (COLUMN_WIDTH, 164, 150), [], []
    for width in widths:
        window.resizeDocks([window.model_dock], [width], Qt.Orientation.Horizontal)
        QApplication.processEvents()
        QApplication.processEvents()  # the summary laid out again for its new width
        assert window.model_dock.width() == width and "no (deterministic)" in panel.info.text()
        cut.append(ink_at_right_edge(panel.info))
        stacked.append(getattr(panel, "stacked", None))
    assert cut == [0, 0, 0]
    assert stacked == [False, True, True]


def test_a_narrow_combo_ends_a_long_entry_in_an_ellipsis_and_tells_it_whole(qtbot):
    from cardigan_app.panels.narrow import NarrowCombo

    combo = NarrowCombo(8, "What it picks")
    qtbot.addWidget(combo)
    combo.addItems(["An entry far longer than eight characters", "Short"])
    combo.show()
    combo.resize(combo.minimumSizeHint())
    assert combo.minimumSizeHint().width() < combo.fontMetrics().horizontalAdvance(combo.itemText(0))
    assert combo.shown_text().endswith("\u2026") and combo.itemText(0).startswith(combo.shown_text()[:-1])
    assert combo.toolTip() == "An entry far longer than eight characters\nWhat it picks"
    combo.setCurrentIndex(1)
    assert combo.shown_text() == "Short" and combo.toolTip() == "What it picks"

    named = NarrowCombo(8, "The model", Qt.TextElideMode.ElideMiddle)  # a file name keeps its suffix
    qtbot.addWidget(named)
    named.addItem("a model file with a long name.safetensors")
    named.setItemData(0, "/models/a model file with a long name.safetensors", Qt.ItemDataRole.ToolTipRole)
    named.show()
    named.resize(named.minimumSizeHint())
    start, _, end = named.shown_text().partition("\u2026")
    assert start and end and named.currentText().startswith(start) and named.currentText().endswith(end)
    assert named.toolTip() == ("a model file with a long name.safetensors\n"
                               "/models/a model file with a long name.safetensors\nThe model")


def test_a_class_share_keeps_a_decimal_only_where_it_tells_small_classes_apart():
    from cardigan_app.panels.palette import WIDEST_SHARE, share_text

    assert [share_text(n, 1000) for n in (0, 4, 99, 100, 734, 1000)] == \
        ["0.0 %", "0.4 %", "9.9 %", "10 %", "73 %", "100 %"]
    assert share_text(9996, 100_000) == "10 %"  # not "10.0 %", wider than the column allows
    assert max(len(share_text(n, 1000)) for n in range(1001)) == len(WIDEST_SHARE)


def anatomy_needs_no_scroll_bar(window, qtbot) -> int:
    """How far the Anatomy panel scrolls at 1280 x 800 (0: all of it shows)."""
    at_1280_by_800(window, qtbot)
    QApplication.processEvents()
    return window.anatomy_dock.widget().verticalScrollBar().maximum()


def not_drawn_from_anatomy(window, qtbot) -> None:
    pass


def a_heart(window, qtbot) -> None:
    window.anatomy_panel.start_from_anatomy(ask=False)


def a_moved_heart_at_both_key_frames(window, qtbot) -> None:
    """The status's two lines (the heart, what the last move did) and the key frames' EF line."""
    panel = window.anatomy_panel
    panel.start_from_anatomy(ask=False)
    window.state.set("key_frame", "ES")
    panel.sliders["wall"].setValue(panel.sliders["wall"].value() + 10)
    qtbot.waitUntil(lambda: panel.key_frame_ef.isVisibleTo(panel))
    assert "Wall thickness" in panel.status.text()


ANATOMY_STATES = {"a mask not drawn from anatomy": not_drawn_from_anatomy, "a heart": a_heart,
                  "a moved heart at both key frames": a_moved_heart_at_both_key_frames}


@pytest.mark.parametrize("state", list(ANATOMY_STATES))
def test_at_1280_by_800_the_anatomy_panel_shows_its_last_fan_slider_without_scrolling(window, qtbot, state):
    """In the narrow column the Anatomy panel needed its scroll bar to reach the fan's last
    slider (18 px more for a mask not drawn from anatomy, 30 for a moved heart at both key
    frames); with tighter rows and a shorter hint it shows whole, with room to spare."""
    ANATOMY_STATES[state](window, qtbot)
    assert anatomy_needs_no_scroll_bar(window, qtbot) == 0, state
    tilt = window.anatomy_panel.fan_sliders["tilt"]
    viewport = window.anatomy_dock.widget().viewport()
    assert viewport.rect().contains(place_in(tilt, viewport))


def room_under(panel: QWidget) -> int:
    """How many pixels ``panel`` has beyond what its content needs at its width."""
    return panel.height() - panel.layout().heightForWidth(panel.width())


def test_the_model_details_get_the_height_the_seed_panel_does_not_need(window, qtbot):
    """The Seed and variations panel was laid out before the window was shown and grew with the
    window, leaving empty room under its content while the model's details scrolled: it is as
    tall as it needs, at first start and when the window grows, and the details take the rest."""
    panel, details = window.synthesis_panel, window.model_panel.findChild(QScrollArea)
    qtbot.waitUntil(lambda: room_under(panel) == 0, timeout=2000)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.height() == 800)
    QApplication.processEvents()
    assert room_under(panel) == 0
    assert details.verticalScrollBar().maximum() == 0
    panel.set_stochastic(True)  # the thumbnails instead of the deterministic model's note
    at_1280_by_800(window, qtbot)
    assert room_under(panel) == 0
    assert all(panel.rect().contains(place_in(thumb, panel)) for thumb in panel.thumbs)


def test_at_the_least_size_the_tool_bar_keeps_the_paint_over_list_beside_its_label(window, qtbot):
    """At the window's least size the "Over" list went into the tool bar's overflow menu and left
    its label behind, saying "Over" before nothing. The list shows there, its label with it, and
    the overflow holds only commands the menus have with their keys."""
    from PySide6.QtWidgets import QLabel, QToolBar

    window.resize(*least_size(window))
    qtbot.waitUntil(lambda: window.width() == least_size(window)[0], timeout=2000)
    QApplication.processEvents()
    bar = window.findChild(QToolBar, "toolbar_main")
    over, label = window.tool_widgets.paint_over, next(label for label in bar.findChildren(QLabel)
                                                       if label.text().strip() == "Over")
    assert over.isVisible() and label.isVisible() and label.parentWidget() is over.parentWidget()
    left_over = [action for action in bar.actions() if bar.widgetForAction(action) is not None
                 and not bar.widgetForAction(action).isVisible() and not action.isSeparator()]
    assert all(action.shortcuts() and action in window.commands.actions.values() for action in left_over), \
        [action.text() for action in left_over]
