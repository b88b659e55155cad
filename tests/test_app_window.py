"""The main window as a whole: layout, keyboard shortcuts, tooltips, help, extension points."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QApplication, QDockWidget, QLabel, QMenu, QToolBar, QWidget

from cardigan_app.dialogs.shortcuts import ShortcutsDialog, shortcut_rows
from cardigan_app.window_chrome import PAINT_OVER_CHOICES
from cardigan_app.testing import drag, send_mouse


@pytest.fixture
def window(active_window):
    return active_window


def test_undo_and_redo_say_which_step_they_took_in_place_of_what_was_said_of_it(window, qtbot):
    """A fill outside the fan says "Undo takes the fill back"; that line stayed on after Ctrl+Z
    had taken the fill back. Undo and redo say the step they took instead."""
    canvas, status = window.canvas, window.statusBar()
    window.set_tool("fill")
    window.set_active_label(3)
    drag(canvas, [(1, 1)])
    assert "Undo takes the fill back" in status.currentMessage()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert status.currentMessage() == "Undone: fill" and not (window.document.labels == 3).all()
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert status.currentMessage() == "Redone: fill"


def test_main_window_layout(window):
    assert "cardiGAN Studio" in window.windowTitle() and "test" in window.windowTitle()
    assert window.centralWidget() is window.workspace and window.canvas.isVisible() and window.echo_view.isVisible()
    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    assert {"Labels", "Model", "Seed and variations", "Dataset"} <= set(docks)
    assert window.dockWidgetArea(docks["Labels"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.status_widgets.device.text().startswith("CPU")
    assert [window.palette.buttons[i].text() for i in range(4)] == ["Background", "LV cavity", "Myocardium",
                                                                    "Left atrium"]
    for dock in docks.values():  # the title bar's icon-only buttons say what they do
        close = dock.findChild(QAbstractButton, "qt_dockwidget_closebutton")
        assert "Hide the panel" in close.toolTip(), dock.windowTitle()
    float_button = docks["Model"].findChild(QAbstractButton, "qt_dockwidget_floatbutton")
    assert float_button.toolTip().startswith("Float the panel")
    docks["Model"].setFloating(True)
    assert float_button.toolTip().startswith("Dock the panel")
    docks["Model"].setFloating(False)


def test_keyboard_undo_redo_classes_brush_opacity_and_tools(window, qtbot):
    canvas, doc = window.canvas, window.document
    before = doc.labels.copy()
    qtbot.keyClick(canvas, Qt.Key.Key_3)
    assert window.state.active_label == 3 and window.palette.buttons[3].isChecked()
    size = window.state.brush_diameter
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert window.state.brush_diameter > size and window.tool_widgets.brush_spin.value() == window.state.brush_diameter
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert window.state.brush_diameter == size
    window.state.set("overlay_opacity", 0.85)  # D and F: the mask's opacity 10 % down and up, within 0-100 %
    for key, opacity in [(Qt.Key.Key_F, 0.95), (Qt.Key.Key_F, 1.0), (Qt.Key.Key_F, 1.0), (Qt.Key.Key_D, 0.9)]:
        qtbot.keyClick(canvas, key)
        assert window.state.overlay_opacity == opacity and canvas.opacity == opacity
    assert window.workspace.opacity.value() == 90
    assert window.statusBar().currentMessage() == "Mask opacity 90 %"  # the slider shows no number
    window.state.set("overlay_opacity", 0.05)
    qtbot.keyClick(canvas, Qt.Key.Key_D)
    qtbot.keyClick(canvas, Qt.Key.Key_D)
    assert window.state.overlay_opacity == 0.0
    assert window.statusBar().currentMessage() == "Mask opacity 0 % (hidden: F shows it again)"
    drag(canvas, [(5, 60), (60, 60)])
    painted = doc.labels.copy()
    assert (painted != before).any() and window.commands["undo"].isEnabled()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (doc.labels == before).all() and window.commands["redo"].isEnabled()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (doc.labels == painted).all()
    for key, tool in [(Qt.Key.Key_G, "fill"), (Qt.Key.Key_P, "polygon"), (Qt.Key.Key_E, "eraser"),
                      (Qt.Key.Key_B, "brush")]:
        qtbot.keyClick(canvas, key)
        assert canvas.tool.key == tool and window.commands[f"tool_{tool}"].isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert not doc.labels.any()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (doc.labels == painted).all()


def test_paint_over_background_only_from_the_toolbar(window):
    doc = window.document
    window.commands["paint_over"].trigger()
    assert window.state.paint_over_background
    window.set_active_label(3)
    before = doc.labels.copy()
    drag(window.canvas, [(0, 32), (63, 32)])
    changed = doc.labels != before
    assert changed.any() and (before[changed] == 0).all()


def test_every_tool_has_a_tooltip_with_its_shortcut(window):
    toolbar = window.findChildren(QToolBar)[0]
    actions = [a for a in toolbar.actions() if not a.isSeparator() and a.text()]
    assert len(actions) >= 14
    for action in actions:
        assert action.toolTip(), action.text()
        if action.shortcut().toString():
            assert action.shortcut().toString() in action.toolTip().replace("Ctrl", "Ctrl")
    assert "(B)" in window.commands["tool_brush"].toolTip()
    for widget in (window.tool_widgets.brush_slider, window.tool_widgets.brush_spin, window.workspace.opacity, window.workspace.mode,
                   window.model_panel.model_combo, window.model_panel.device_combo, window.synthesis_panel.seed):
        assert widget.toolTip()


def test_the_clear_buttons_in_text_fields_say_what_they_do(qtbot):
    """Qt's clear button, an icon alone, showed no tooltip in the path fields and the dataset filter."""
    from PySide6.QtWidgets import QToolButton

    from cardigan_app.panels.dataset_browser import DatasetBrowser
    from cardigan_app.path_field import PathField

    field, browser = PathField("folder", "Run folder"), DatasetBrowser()
    qtbot.addWidget(field)
    qtbot.addWidget(browser)
    for edit in (field.edit, browser.filter):
        edit.setText("x")  # the button shows only over some text
        buttons = [button for button in edit.findChildren(QToolButton) if not button.text()]
        assert buttons and all(button.toolTip() == "Clear" for button in buttons), edit


def test_shortcuts_dialog_lists_actions_and_gestures(window, qtbot):
    rows = shortcut_rows(window.commands.sections)
    lookup = {what: keys for _, what, keys in rows}
    assert lookup["Undo"] == "Ctrl+Z" and "Ctrl+Shift+Z" in lookup["Redo"]
    assert lookup["Brush"] == "B" and lookup["2 Myocardium"] == "2"
    assert lookup["Mask opacity down"] == "D" and lookup["Mask opacity up"] == "F"
    assert lookup["Export the synthesized image"] == "Ctrl+E"
    assert [section for section, _, _ in rows][-1:] == ["Help"] and len({s for s, _, _ in rows}) >= 8
    dialog = ShortcutsDialog(rows, window)
    qtbot.addWidget(dialog)
    texts = []
    for i in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(i)
        texts += [top.child(j).text(0) + " " + top.child(j).text(1) for j in range(top.childCount())]
    assert any("Pan" in t and "Space" in t for t in texts) and any("Undo" in t for t in texts)
    dialog.show()
    qtbot.waitExposed(dialog)
    heading = dialog.tree.topLevelItem(0)  # a section's heading spans the list, as its current-item frame does
    assert dialog.tree.visualRect(dialog.tree.indexFromItem(heading, 0)).width() == dialog.tree.viewport().width()


def test_f1_names_the_dataset_and_opacity_keys_as_their_menus_do(window, qtbot):
    """F1 listed Data › Next pair as "Open the next dataset pair": a keyboard user looking
    for it in the Data menu found another name there."""
    from PySide6.QtCore import QTimer

    listed = {}

    def read_and_close() -> None:
        dialog = QApplication.activeModalWidget()
        for i in range(dialog.tree.topLevelItemCount()):
            section = dialog.tree.topLevelItem(i)
            for j in range(section.childCount()):
                listed[(section.text(0), section.child(j).text(0))] = section.child(j).text(1)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    QTimer.singleShot(0, read_and_close)
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)
    for name, section in (("next_pair", "Data"), ("previous_pair", "Data"), ("opacity_down", "View"),
                          ("opacity_up", "View")):
        action = window.commands[name]
        menu_name = action.text().replace("&", "")
        assert listed.get((section, menu_name)) == action.shortcut().toString(), (menu_name, listed)


@pytest.mark.parametrize("screen", [(2560, 1400), (1280, 760)])
def test_the_shortcuts_dialog_is_as_tall_as_its_list_within_the_screen(qtbot, monkeypatch, screen):
    """The dialog opened 620 pixels tall whatever the screen: a tall one, with room for the
    whole list, showed a third of it behind a scroll bar."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen

    available = QRect(0, 0, *screen)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(available))
    rows = [(f"Section {n // 10}", f"Action {n}", f"Ctrl+{n}") for n in range(50)]  # as many as the studio has
    dialog = ShortcutsDialog(rows)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    bar = dialog.tree.verticalScrollBar()
    assert available.contains(dialog.frameGeometry()), dialog.frameGeometry()
    if available.height() > 1200:
        assert bar.maximum() == 0, bar.maximum()
    else:  # the list scrolls within a dialog as tall as the screen allows
        assert dialog.height() >= available.height() - 48 and bar.maximum() > 0


def test_only_keys_a_keyboard_has_are_listed(window):
    """On X11 the platform's Quit keys are Ctrl+Q and the Exit key (so are other standard
    keys: Redo's own Redo key): the shortcuts dialog and the tooltips said "Ctrl+Q, Exit"."""
    from PySide6.QtGui import QAction, QKeySequence

    from cardigan_app.actions import keys_in_words

    quit_action = QAction("Quit", window)
    quit_action.setShortcuts([QKeySequence("Ctrl+Q"), QKeySequence(Qt.Key.Key_Exit)])
    assert keys_in_words(quit_action) == "Ctrl+Q"
    quit_action.setShortcuts([QKeySequence(Qt.Key.Key_Exit)])
    assert keys_in_words(quit_action) == ""  # listed nowhere: no key to press
    quit_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Redo))
    assert "Ctrl+Shift+Z" in keys_in_words(quit_action) and "Redo" not in keys_in_words(quit_action).split(", ")


def test_status_bar_shows_cursor_position_and_label(window):
    window.document.fill(0.5, 0.5, 0)
    pos = window.canvas.to_widget(QPointF(20.5, 9.5))
    send_mouse(window.canvas, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert window.status_widgets.cursor.text() == "x 20, y 9"
    assert window.status_widgets.label.text() == f"{window.document.labels[9, 20]} \u00b7 " + \
        ["Background", "LV cavity", "Myocardium", "Left atrium"][window.document.labels[9, 20]]


def tip_lines(tip: str) -> list[str]:
    """The lines a rich-text tooltip shows."""
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText().strip().splitlines()


def test_long_status_messages_are_readable_at_1280_by_800(window, qtbot, tmp_path):
    """The permanent fields on the right left a message some 730 px at 1280 px wide, and Qt
    cut the rest off mid-word. Now they give way while a long message shows, come back after
    it, and a message too long for the whole bar ends in an ellipsis with its text as tooltip,
    each of the notes it joins beginning a line of its own."""
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    bar, fields = window.statusBar(), window.status_widgets
    fields.cursor.setText("x 255, y 255")
    fields.label.setText("2 \u00b7 Myocardium")
    folder = tmp_path / "exports" / "a study of synthetic four-chamber views"
    messages = [  # the longest forms of what the studio says (showMessage across cardigan_app)
        "Opened patient0042_4CH_sequence_half_sequence.mp4 to trace over (1016 \u00d7 708 \u2192 256 \u00d7 256, "
        "47 frames), no sector found in it, so the usual 4CH fan is used (the Probe fan sliders move it)",
        "patient0042_4CH_half_sequence_gt.nii.gz was read, but another mask was opened meanwhile: it was not opened",
        "1843 pixels of LV cavity and myocardium painted outside the fan, where the image is black "
        "(Undo takes the polygon fill back)",
        f"Exported {folder / 'patient0042_4CH_ED.png'}, {folder / 'patient0042_4CH_ED_gt.png'}",
    ]

    def shown_whole(message: str) -> bool:
        fields_left = min((f.x() for f in vars(fields).values() if f.isVisible() and f.width() > 0),
                          default=bar.width() - 12)
        return bar.fontMetrics().horizontalAdvance(message) <= fields_left - 8

    for message in messages:
        bar.showMessage(message, 60_000)
        qtbot.waitUntil(lambda: shown_whole(message) or tip_lines(bar.toolTip()) == [message], timeout=5_000)
    bar.showMessage("; ".join(messages[:2]), 60_000)  # a file's line and its note, each a line of the tooltip
    qtbot.waitUntil(lambda: tip_lines(bar.toolTip()) == [f"{messages[0]};", messages[1]], timeout=5_000)
    for message in messages[:3]:  # these fit in 1280 px, once the fields make room
        bar.showMessage(message, 60_000)
        qtbot.waitUntil(lambda: shown_whole(message), timeout=5_000)
    bar.clearMessage()
    qtbot.waitUntil(lambda: all(f.isVisible() for f in bar.give_way_order) and bar.toolTip() == "", timeout=5_000)
    assert fields.label.text() == "2 \u00b7 Myocardium"
    bar.showMessage("Saved mask.png", 60_000)  # a short message leaves every field in place
    assert all(f.isVisible() for f in bar.give_way_order)
    assert fields.job.isHidden()  # shown only while a loop is written
    fields.job.start("Writing the loop", "Stop writing the loop")
    bar.showMessage(messages[-1] * 2, 60_000)  # too long for the bar: its progress and Cancel stay
    qtbot.waitUntil(lambda: fields.job.isVisible() and bar.message_rect().right() < fields.job.x(), timeout=5_000)
    fields.job.stop()


def test_extension_points_for_later_menus_and_panels(window):
    menu = QMenu("&Plugins", window)
    window.add_menu(menu)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Plugins") == titles.index("&Help") - 1
    dock = window.add_panel("Plugin output", QLabel("output"), Qt.DockWidgetArea.BottomDockWidgetArea)
    assert dock.objectName() == "dock_plugin_output"
    assert dock.toggleViewAction() in window.panels_menu.actions()


def test_side_by_side_and_blend_views(window, qtbot):
    under = window.workspace.under_mask
    window.state.set("show_synthesis_under_mask", False)
    assert not under.isChecked() and under.isEnabled() and not window.canvas.show_background
    window.set_side_by_side(False)
    assert not window.workspace.echo_pane.isVisible() and window.canvas.show_background
    # the synthesis lies under the mask, and "Image under" says so, and why it cannot be unticked
    assert under.isChecked() and not under.isEnabled() and "side by side off" in under.toolTip()
    assert not window.state.show_synthesis_under_mask  # the choice is kept for side by side
    window.set_side_by_side(True)
    assert window.workspace.echo_pane.isVisible()
    assert not under.isChecked() and under.isEnabled() and not window.canvas.show_background
    window.workspace.mode.setCurrentIndex(window.workspace.mode.findData("contours"))
    assert window.echo_view.mode == "contours" and not window.workspace.blend.isVisible()
    picture = window.echo_view._compose()
    assert picture.format() != picture.Format.Format_Grayscale8  # coloured outlines drawn on it
    window.workspace.mode.setCurrentIndex(window.workspace.mode.findData("blend"))
    assert window.workspace.blend.isVisible()
    window.workspace.blend.setValue(80)
    assert window.echo_view.blend_alpha == pytest.approx(0.8)


def test_typing_in_fields_is_not_taken_by_single_key_shortcuts(window, qtbot):
    field = window.dataset_browser.filter
    window.show_dataset_panel()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    qtbot.keyClicks(field, "PBE2 4CH")
    assert field.text() == "PBE2 4CH"
    assert window.state.active_label == 1 and window.canvas.tool.key == "brush"
    size = window.tool_widgets.brush_spin
    size.setFocus()
    size.selectAll()
    qtbot.keyClicks(size, "3")
    assert size.text().startswith("3") and window.state.active_label == 1


def test_enter_or_esc_in_a_field_hands_the_keys_back_to_the_canvas(window, qtbot):
    """After typing a brush size (or a filter) and pressing Enter or Esc, the focus stayed in
    the field: the class keys and [ ] typed into it instead of painting."""
    from PySide6.QtWidgets import QApplication

    size, field = window.tool_widgets.brush_spin, window.dataset_browser.filter
    window.show_dataset_panel()
    for widget, typed, leave, key, label in [(size, "9", Qt.Key.Key_Return, Qt.Key.Key_2, 2),
                                             (field, "4CH", Qt.Key.Key_Escape, Qt.Key.Key_3, 3)]:
        widget.setFocus()
        qtbot.waitUntil(widget.hasFocus, timeout=2000)
        if widget is size:
            size.selectAll()
        qtbot.keyClicks(widget, typed)
        assert typed in widget.text() and window.state.active_label == 1
        qtbot.keyClick(widget, leave)
        assert QApplication.focusWidget() is window.canvas, widget
        qtbot.keyClick(QApplication.focusWidget(), key)
        assert window.state.active_label == label
        window.state.set("active_label", 1)
    assert window.state.brush_diameter == 9


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12: its count never moves")
def test_qt_calls_keep_none_alive(qtbot):
    """Guards against the PySide6 release that leaked a reference to None per void call
    (fatal on CPython < 3.12 after ~50k calls: minutes of painting)."""
    from PySide6.QtWidgets import QLabel

    label = QLabel("x")
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(20000):
        label.setText("y")
        label.update()
    assert abs(sys.getrefcount(None) - before) < 1000


def test_paint_over_rule_and_square_brush_from_menu_toolbar_and_keys(window, qtbot):
    doc = window.document
    window.commands["paint_over_2"].trigger()  # Edit > Paint over > Myocardium only
    assert window.state.paint_over == 2
    combo = window.tool_widgets.paint_over
    targets = [target for target, _ in PAINT_OVER_CHOICES]  # the combo lists the state's values in order
    assert targets[combo.currentIndex()] == 2 and not window.commands["paint_over"].isChecked()
    window.set_active_label(1)
    before = doc.labels.copy()
    drag(window.canvas, [(0, 32), (63, 32)])
    changed = doc.labels != before
    assert changed.any() and (before[changed] == 2).all()
    combo.setCurrentIndex(targets.index(None))
    assert window.state.paint_over is None and window.commands["paint_over_all"].isChecked()
    qtbot.keyClick(window.canvas, Qt.Key.Key_O)
    assert window.state.paint_over == 0 and targets[combo.currentIndex()] == 0
    qtbot.keyClick(window.canvas, Qt.Key.Key_Q)
    assert window.state.square_brush and window.commands["square_brush"].isChecked()
    assert window.state.preferences()["paint_over"] == 0


def test_an_actions_keys_read_the_same_in_its_tooltip_and_the_shortcuts_list(window):
    """F1 gave Redo as "Ctrl+Shift+Z, Ctrl+Y" while its tooltip gave Ctrl+Shift+Z alone: the
    tooltip lists every key as the list does (the menu shows the primary one, first in both)."""
    lookup = {what: keys for _, what, keys in shortcut_rows(window.commands.sections)}
    redo = window.commands["redo"]
    assert lookup["Redo"] == "Ctrl+Shift+Z, Ctrl+Y" and redo.shortcut().toString() == "Ctrl+Shift+Z"
    assert redo.toolTip().endswith("(Ctrl+Shift+Z, Ctrl+Y)"), redo.toolTip()
    window.document.replace(np.full(window.document.shape, 2, np.uint8), "fill")
    window.undo()  # Redo now names its step, and still every key
    assert redo.toolTip() == "Redo fill (Ctrl+Shift+Z, Ctrl+Y)"
    for section, what, keys in shortcut_rows(window.commands.sections):
        action = next(a for s, a in window.commands.sections
                      if s == section and (a.whatsThis() or a.text().replace("&", "").rstrip(".\u2026")) == what)
        assert action.toolTip().endswith(f"({keys})"), (what, keys, action.toolTip())


def test_the_data_menus_batch_export_has_a_shortcut_beside_the_one_image_export(window):
    data = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Data")
    export = window.commands["export_batch"]
    assert export in data.actions() and export.shortcut().toString() == "Ctrl+Shift+E"
    assert window.commands["export_image"].shortcut().toString() == "Ctrl+E"
    assert "(Ctrl+Shift+E)" in export.toolTip()


def test_every_key_the_window_answers_is_listed_in_f1(window):
    """A key bound outside the registry (a dock's own action, a QShortcut) would work unlisted."""
    from PySide6.QtGui import QShortcut

    listed = {id(action) for _, action in window.commands.sections}
    unlisted = [action.text() for action in window.findChildren(QAction) if action.shortcuts() and id(action) not in listed]
    assert not unlisted and not window.findChildren(QShortcut), unlisted


def test_no_two_commands_share_a_shortcut(window):
    seen = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            text = sequence.toString()
            assert text not in seen or seen[text] is action, f"{text}: {seen[text].text()} and {action.text()}"
            seen[text] = action


def test_every_menu_entry_has_an_accelerator_of_its_own(window, tmp_path):
    """Edit's tools, classes and paint-over rules, and View's panels, had no Alt+letter, and
    View's Play cine loop and Panels shared P."""
    def accelerator(text):
        parts = text.replace("&&", "").split("&", 1)
        return parts[1][:1].lower() if len(parts) == 2 else ""

    for name in ("a.png", "b.png"):
        window.settings.add_recent_file(tmp_path / name)
    missing, shared, menus = [], [], [(a.text(), a.menu()) for a in window.menuBar().actions()]
    assert all(accelerator(text) for text, _ in menus), [text for text, _ in menus]
    while menus:
        where, menu = menus.pop()
        menu.aboutToShow.emit()  # File > Open recent is filled as it opens
        letters = {}
        for action in menu.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            letter = accelerator(action.text())
            if not letter:
                missing.append(f"{where} > {action.text()}")
            elif letter in letters:
                shared.append(f"{where}: {letters[letter]} and {action.text()}")
            letters[letter] = action.text()
            if action.menu() is not None:
                menus.append((f"{where} > {action.text()}", action.menu()))
    assert not missing and not shared, (missing, shared)


def test_an_accelerator_goes_on_a_free_initial_else_a_free_letter():
    from cardigan_app.actions import with_accelerator

    taken = {"l"}
    assert with_accelerator("left atrium only", taken) == "left &atrium only" and "a" in taken
    assert with_accelerator("Labels", taken) == "La&bels"
    assert with_accelerator("Sa&ve", taken) == "Sa&ve"
    assert with_accelerator("ab", {"a", "b"}) == "ab"


def test_plus_minus_zoom_and_comma_period_step_through_the_traced_loop(window, qtbot):
    """The painter's keys ITK-SNAP has: + and - zoom without Ctrl, , and . step a loop's frames
    (here the loop traced over: the frame under the key frame)."""
    from PySide6.QtWidgets import QApplication

    from cardigan_app.editing import LabelDocument

    canvas = window.canvas
    scale = canvas.scale
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.scale > scale
    qtbot.keyClick(canvas, Qt.Key.Key_Equal)  # the + key's own, unshifted
    assert canvas.scale > scale
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert canvas.scale < scale
    frames = np.stack([np.full((64, 64), 20 * i, np.uint8) for i in range(4)])
    window.set_document(LabelDocument(np.zeros((64, 64), np.uint8), origin="test"), frames=frames,
                        source="loop.nii.gz")
    QApplication.processEvents()
    slider = window.workspace.reference_frame
    start = slider.value()
    qtbot.keyClick(canvas, Qt.Key.Key_Period)
    qtbot.keyClick(canvas, Qt.Key.Key_Period)
    assert slider.value() == start + 2
    qtbot.keyClick(canvas, Qt.Key.Key_Comma)
    assert slider.value() == start + 1
    assert (window.reference_image == frames[start + 1]).all()


def test_model_panel_wraps_checksums_and_paths_inside_a_narrow_panel(qtbot):
    import re

    from cardigan_app.panels.model_panel import ModelPanel
    from cardigan_app.panels.model_summary import LONGEST_UNBROKEN, breakable

    checksum = "13e9a3195a731823c0a356f817eab04a96c668d2429159ed792d18016ee6b3aa"
    text = breakable(f"/very/long/folder_name/{checksum}.safetensors")
    assert max(len(run) for run in re.split(r"&#8203;|\s", text)) <= LONGEST_UNBROKEN
    assert text.replace("&#8203;", "") == f"/very/long/folder_name/{checksum}.safetensors"
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.resize(280, 600)
    panel.show()
    summary = {"kind": "native", "name": "m", "parameters": 1_650_000, "image_size": [256, 256],
               "provenance": {"data_manifest_sha256": checksum, "data": "cardigan phantom --count 300 --size 256"},
               "path": f"/work/runs/a_rather_long_run_folder_name/{checksum}/model.safetensors"}
    panel.set_loaded("m", summary, "CPU")
    assert panel.info.sizeHint().width() <= panel.width()


def test_a_path_in_the_model_details_wraps_only_between_the_names_that_fit_a_line(qtbot):
    """"scripts/build_camus_model.sh" wrapped as "scripts/build_" above "camus_model.sh": a path
    breaks at its separators where its names fit the panel's line, and a name too long for
    the line still wraps, so none is cut at the panel's edge."""
    import re

    from PySide6.QtGui import QTextDocument

    from cardigan_app.panels.model_panel import ModelPanel
    from cardigan_app.panels.narrow import COLUMN_WIDTH

    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.resize(COLUMN_WIDTH, 600)
    panel.show()
    too_long = "a_name_far_too_long_for_any_line_of_the_panel.safetensors"
    summary = {"kind": "native", "name": "m", "parameters": 1_650_000, "image_size": [256, 256],
               "provenance": {"started_from": "stage 5 of scripts/build_camus_model.sh"},
               "path": f"/home/someone/camus_runs/{too_long}"}
    panel.set_loaded("m", summary, "CPU")
    shown = QTextDocument()
    shown.setHtml(panel.info.text())
    pieces = re.split(r"[\s\u200b]+", shown.toPlainText())  # between the places a line may break
    for name in ("scripts/", "build_camus_model.sh", "/", "home/", "someone/", "camus_runs/"):
        assert name in pieces, name
    assert too_long not in pieces and too_long in shown.toPlainText().replace("\u200b", "")
    assert panel.info.sizeHint().width() <= panel.width()


# -- what a new user hit at 1280 x 800 ------------------------------------------------------
def header_widgets(pane):
    return pane.header_widgets()


def clear_of_the_title(title, controls, gap: int) -> bool:
    """Each control lies at least ``gap`` pixels right of the title, or on a line below it."""
    return all(w.geometry().top() > title.geometry().bottom() or w.geometry().left() - title.geometry().right() > gap
               for w in controls)


def test_the_busy_note_keeps_its_distance_and_never_moves_the_panes(window):
    from PySide6.QtWidgets import QApplication

    from cardigan_app.workspace import TITLE_GAP

    ws = window.workspace
    places = lambda: [ws.echo_pane.geometry(), window.echo_view.geometry(), window.canvas.geometry()]  # noqa: E731
    before = places()
    for busy in (True, False, True):
        window.live.busyChanged.emit(busy)
        QApplication.processEvents()
        assert places() == before
    title, note = ws.echo_pane.title, ws.busy
    assert note.text() and note.geometry().left() - title.geometry().right() > TITLE_GAP
    assert note.width() >= note.fontMetrics().horizontalAdvance(note.text())


def test_the_window_fits_a_1280_by_800_screen_with_the_dataset_and_the_real_image(window):
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from cardigan_app.workspace import TITLE_GAP

    assert window.minimumSizeHint().width() <= 1280 - 60 and window.minimumSizeHint().height() <= 800 - 100
    window.show_reference(np.zeros((64, 64), np.uint8))
    window.show_dataset_panel()
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1280 and window.minimumSizeHint().height() <= 800 - 100
    assert window.tabifiedDockWidgets(window.anatomy_dock) == [window.dataset_dock]  # the column's height
    ws = window.workspace
    ws.setSizes([1, 10_000, 10_000])  # the mask pane at its narrowest
    QApplication.processEvents()
    title, *controls = header_widgets(ws.mask_pane)
    assert clear_of_the_title(title, controls, TITLE_GAP)
    assert all(w.width() >= w.minimumSizeHint().width() for w in controls)  # none squashed
    combo = window.anatomy_panel.preset  # no preset name cut short
    longest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert combo.minimumSizeHint().width() >= longest + 16


def test_first_start_gives_the_model_details_the_room_the_seeds_do_not_need(window):
    assert window.palette_dock.height() <= window.palette_dock.sizeHint().height() + 24
    assert window.anatomy_dock.height() > window.palette_dock.height()
    assert window.model_dock.height() > window.synthesis_dock.height()


def test_the_palette_hint_follows_the_brush_shape(window):
    window.state.set("tool", "brush")
    assert "round brush" in window.palette.hint.text()
    window.commands["square_brush"].trigger()  # Q
    assert "square brush" in window.palette.hint.text() and "round" not in window.palette.hint.text()


def test_quit_has_a_shortcut_on_every_platform(window, qtbot):
    keys = [k.toString() for k in window.commands["quit"].shortcuts()]
    assert keys and all(keys)
    from PySide6.QtGui import QKeySequence

    platform = [k.toString() for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)]
    assert keys == (platform or ["Ctrl+Q"])
    from cardigan_app.dialogs.shortcuts import shortcut_rows

    assert any(what == "Quit" for _, what, _ in shortcut_rows(window.commands.sections))
    from PySide6.QtTest import QTest

    # the key itself closes the window (nothing unsaved, so nothing is asked)
    window.document.mark_saved()
    QTest.keySequence(window, QKeySequence(keys[0]))
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_the_brush_size_slider_reaches_every_size_the_box_and_keys_do(window, qtbot):
    """The slider stopped at 64 while the box and ] went on to 128: it then sat at its end,
    showing a smaller brush than the one in hand."""
    slider, spin = window.tool_widgets.brush_slider, window.tool_widgets.brush_spin
    assert (slider.minimum(), slider.maximum()) == (spin.minimum(), spin.maximum())
    spin.setValue(100)
    assert window.state.brush_diameter == 100 and slider.value() == 100
    for _ in range(20):
        qtbot.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.state.brush_diameter == spin.maximum() == slider.value()
    slider.setValue(90)
    assert window.state.brush_diameter == spin.value() == 90


def corners(canvas) -> list[tuple[int, int]]:
    """The polygon's corners, each at the nearest pixel corner (a click places a corner at the
    centre of the screen pixel under the pointer, a fraction of an image pixel on)."""
    return [(round(x), round(y)) for x, y in canvas.tool.points]


def test_undo_while_placing_a_polygon_takes_back_its_last_corner_only(window, qtbot):
    """Ctrl+Z with a polygon half placed used to drop the polygon and undo the edit before
    it: it removes the last corner, and only with no corner left undoes an edit."""
    canvas, doc = window.canvas, window.document
    drag(canvas, [(5, 60), (60, 60)])
    painted, steps = doc.labels.copy(), len(doc.history)
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    for x, y in [(10, 10), (30, 10), (30, 30)]:
        drag(canvas, [(x, y)])
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert corners(canvas) == [(10, 10), (30, 10)]
    assert (doc.labels == painted).all() and len(doc.history) == steps
    drag(canvas, [(10, 30)])
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert doc.labels[15, 15] != painted[15, 15] and len(doc.history) == steps + 1
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # no corners: the fill
    assert (doc.labels == painted).all()


def test_a_note_on_the_file_just_opened_stays_until_the_user_replaces_it(window, qtbot, tmp_path):
    """On first open the "Model ... ready" line replaced a note on the mask just opened (the
    image found beside it) before it could be read, and so did a toolbar button's tip, leaving
    the line empty. The note stays, the model's line added after it; a tip gives it back."""
    import SimpleITK as sitk
    from PySide6.QtGui import QStatusTipEvent

    from engine.slicer_segments import write_segmentation

    write_segmentation(tmp_path / "case.seg.nrrd", window.document.labels)
    image = sitk.GetImageFromArray(np.full((1, *window.document.labels.shape), 90, np.uint8))
    image.SetSpacing(sitk.ReadImage(str(tmp_path / "case.seg.nrrd")).GetSpacing())  # the mask's grid
    sitk.WriteImage(image, str(tmp_path / "case.nrrd"))
    sitk.WriteImage(sitk.GetImageFromArray(np.full((1, 8, 8), 90, np.uint8)), str(tmp_path / "case.nii.gz"))
    bar = window.statusBar()
    assert window.files.open_path(tmp_path / "case.seg.nrrd", confirmed=True)
    note = bar.currentMessage()
    assert note.startswith("Opened case.seg.nrrd") and "case.nrrd, the image saved beside it, shown under it" in note
    assert "case.nrrd taken, the one beside it on its grid; case.nii.gz left" in note  # another image beside it
    for _ in range(2):  # the model loaded (a second time: its file rewritten), work the user did not just ask for
        window.live.modelLoaded.emit(window.live.model)
        assert bar.currentMessage().startswith(f"{note} \u00b7 Model tiny.safetensors ready on ")
        assert bar.currentMessage().count("ready on") == 1
    held = bar.currentMessage()
    QApplication.sendEvent(window, QStatusTipEvent("Undo the last edit"))  # the pointer over a toolbar button
    assert bar.currentMessage() == "Undo the last edit"
    QApplication.sendEvent(window, QStatusTipEvent(""))  # and off it
    assert bar.currentMessage() == held
    bar.showMessage("Saved case.png", 5000)  # what the user did next
    window.live.modelLoaded.emit(window.live.model)
    assert bar.currentMessage().startswith("Model tiny.safetensors ready on ")


def test_a_polygon_that_fills_nothing_stays_placed_and_the_status_bar_says_why(window, qtbot):
    canvas, doc = window.canvas, window.document
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    window.state.set("active_label", int(doc.labels[2, 2]))  # the class already under the polygon
    steps, before = len(doc.history), doc.labels.copy()
    for x, y in [(1, 1), (5, 1), (5, 5)]:
        drag(canvas, [(x, y)])
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert corners(canvas) == [(1, 1), (5, 1), (5, 5)] and len(doc.history) == steps
    assert (doc.labels == before).all() and "changed no pixel" in window.statusBar().currentMessage()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.tool.points == []


def test_undo_takes_back_a_polygon_corner_with_nothing_in_the_history(window, qtbot):
    canvas, doc = window.canvas, window.document
    doc.history.clear()
    window._history_changed()
    assert not window.commands["undo"].isEnabled()
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    for x, y in [(10, 10), (30, 10)]:
        drag(canvas, [(x, y)])
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert corners(canvas) == [(10, 10)]


def test_the_undo_command_names_the_polygon_corner_it_takes_back(window, qtbot):
    """With a polygon half placed, Ctrl+Z removes its last corner, but the Undo command
    still named (and was greyed out with) the edit of the history."""
    canvas, undo = window.canvas, window.commands["undo"]
    drag(canvas, [(5, 60), (60, 60)])
    assert undo.text() == "&Undo brush stroke"
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    drag(canvas, [(10, 10)])
    assert undo.text() == "&Undo polygon corner" and undo.isEnabled()
    drag(canvas, [(30, 10)])
    undo.trigger()
    assert corners(canvas) == [(10, 10)] and undo.text() == "&Undo polygon corner"
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)
    assert not canvas.tool.points and undo.text() == "&Undo brush stroke"
    for x, y in [(10, 10), (30, 10), (30, 30)]:
        drag(canvas, [(x, y)])
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert undo.text() == "&Undo brush stroke"
    window.document.history.clear()
    window._history_changed()
    assert not undo.isEnabled() and undo.text() == "&Undo"
    drag(canvas, [(10, 10)])
    assert undo.isEnabled() and undo.text() == "&Undo polygon corner"
    for x, y in [(30, 10), (30, 30)]:
        drag(canvas, [(x, y)])
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert undo.text() == "&Undo polygon fill"
    drag(canvas, [(40, 40)])
    assert undo.text() == "&Undo polygon corner"
    qtbot.keyClick(canvas, Qt.Key.Key_B)  # another tool drops the corners
    assert undo.text() == "&Undo polygon fill"


def test_redo_while_placing_a_polygon_keeps_its_corners(window, qtbot):
    canvas, doc = window.canvas, window.document
    drag(canvas, [(5, 60), (60, 60)])
    painted = doc.labels.copy()
    window.undo()
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    for x, y in [(10, 10), (30, 10)]:
        drag(canvas, [(x, y)])
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (doc.labels == painted).all() and corners(canvas) == [(10, 10), (30, 10)]


def test_no_empty_line_takes_room_in_the_side_panels(window):
    """An empty status or note line still takes its height and spacing: at 1280 x 800 that
    pushed the anatomy sliders and the model's details under a scroll bar."""
    from PySide6.QtWidgets import QApplication

    window.resize(1280, 800)
    QApplication.processEvents()
    panels = (window.model_panel, window.anatomy_panel, window.synthesis_panel)
    empty = [(type(panel).__name__, label.objectName() or label.toolTip()[:30])
             for panel in panels for label in panel.findChildren(QLabel)
             if label.isVisibleTo(panel) and not label.text() and label.pixmap().isNull()]
    assert empty == []
    window.model_panel.set_error("the file is not a model")
    assert window.model_panel.status.isVisibleTo(window.model_panel)  # a message is shown when there is one


def test_class_names_keep_their_capitals_in_menus_and_tooltips(window):
    """"LV cavity" reads so inside every sentence that names it, never "lv cavity", and the
    paint-over entries say "only" once."""
    actions = window.commands.actions.values()
    texts = [text.replace("&", "") for action in actions for text in (action.text(), action.toolTip())]
    texts += [widget.toolTip() for widget in window.palette.findChildren(QWidget)]
    assert not [text for text in texts if "lv cavity" in text]
    assert not [text for text in texts if text.count(" only") > 1]
    assert window.commands["paint_over_1"].text().replace("&", "") == "Paint over LV cavity only"
    assert window.commands["paint_over_1"].toolTip() == "Painting changes only LV cavity pixels"
    assert window.commands["paint_over_0"].toolTip() == "Painting changes only background pixels"
    assert window.commands["class_1"].toolTip().startswith("Paint LV cavity (class 1)")


@pytest.mark.parametrize("real_image", [False, True])
def test_the_timeline_shows_its_scrubber_and_its_status_whole_at_1280_by_800(window, real_image):
    """At 1280 x 800 the synthesis pane is about 350 pixels wide (less beside a real image):
    the timeline's frame slider keeps a width one can scrub with, its status line shows whole,
    and the row needs no sideways scroll bar."""
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from cardigan_app.cine.timeline import loop_status

    window.resize(1280, 800)
    if real_image:
        window.show_reference(np.zeros((64, 64), np.uint8))
    QApplication.processEvents()
    timeline = window.timeline
    timeline.set_status(loop_status(37, 39.0))
    QApplication.processEvents()
    strip = timeline.parentWidget().parentWidget()  # the footer strip the timeline lies in
    assert strip.horizontalScrollBar().maximum() == 0
    assert timeline.slider.width() >= 100
    status = timeline.status
    assert status.width() >= status.fontMetrics().horizontalAdvance(status.text())


def test_undo_and_redo_name_their_step_in_the_tool_bars_tooltip_too(window):
    """Hovering the tool bar's Undo says what it takes back, as Edit > Undo does."""
    undo, redo = window.commands["undo"], window.commands["redo"]
    assert undo.toolTip() == "Undo (Ctrl+Z)"
    drag(window.canvas, [(5, 60), (60, 60)])
    assert undo.text() == "&Undo brush stroke" and undo.toolTip() == "Undo brush stroke (Ctrl+Z)"
    window.undo()
    assert redo.toolTip() == "Redo brush stroke (Ctrl+Shift+Z, Ctrl+Y)" and undo.toolTip() == "Undo (Ctrl+Z)"


def test_a_fan_drag_on_a_mask_without_a_heart_marks_the_window_modified(window, qtbot):
    """A fan slider moved on a mask with no heart changes only the fan: the title read the
    document as unchanged while the drag was open, and nothing read it again after, so the
    window said there was nothing to save."""
    doc, slider = window.document, window.anatomy_panel.fan_sliders["tilt"]
    doc.mark_saved()
    window._refresh_document_ui()
    assert doc.anatomy is None and not window.isWindowModified()
    slider.sliderPressed.emit()
    slider.setValue(slider.value() + 6)
    qtbot.waitUntil(lambda: not window._ui_timer.isActive())  # the title follows the drag
    assert doc.in_stroke and window.isWindowModified()
    slider.sliderReleased.emit()
    qtbot.waitUntil(lambda: not window._ui_timer.isActive())
    assert doc.modified and window.isWindowModified()
