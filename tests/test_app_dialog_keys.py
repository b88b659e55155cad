"""Enter and Escape in the studio's dialogs: Enter presses the button the dialog is for (Make,
Prepare, Export, Apply) wherever the focus has been, and never a Browse… button left behind."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cardigan_app.data_tools import ExportDialog
from cardigan_app.data_tools.phantom_dialog import PhantomDialog
from cardigan_app.data_tools.prepare_dialog import PrepareDialog
from cardigan_app.dialogs.mask_tools import MaskToolsDialog


def shown_active(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    return dialog


@pytest.mark.parametrize("make", [lambda model: PhantomDialog(), lambda model: PrepareDialog(),
                                  lambda model: ExportDialog(None, model, "cpu")], ids=["phantom", "prepare", "export"])
def test_enter_in_a_data_dialog_starts_its_job_after_the_focus_passed_a_browse_button(qtbot, tiny_model, make):
    """Start was made the default before it was in the dialog, so the first Browse… button
    to take the focus kept the default: Enter in the typed output opened a file dialog."""
    dialog = shown_active(qtbot, make(str(tiny_model)))
    pressed = []
    dialog.start_button.clicked.disconnect()
    dialog.start_button.clicked.connect(lambda: pressed.append("start"))
    browse = dialog.output.buttons[0]
    browse.clicked.disconnect()
    browse.clicked.connect(lambda: pressed.append("browse"))
    dialog.start_button.setEnabled(True)  # as a valid output leaves it
    browse.setFocus()
    dialog.output.edit.setFocus()
    QApplication.processEvents()
    assert dialog.start_button.isDefault()
    qtbot.keyClick(dialog.output.edit, Qt.Key.Key_Return)
    assert pressed == ["start"]


@pytest.mark.parametrize("make, first", [
    (lambda model: PhantomDialog(), lambda dialog: dialog.count),
    (lambda model: PrepareDialog(), lambda dialog: dialog.form.source.edit),
    (lambda model: ExportDialog(None, model, "cpu"), lambda dialog: dialog.model)], ids=["phantom", "prepare", "export"])
def test_a_data_dialog_opens_with_the_focus_on_its_first_field(qtbot, tiny_model, make, first):
    """The focus went to the scroll area around the fields: Tab had to be pressed first."""
    dialog = shown_active(qtbot, make(str(tiny_model)))
    QApplication.processEvents()
    assert QApplication.focusWidget() is first(dialog)


def test_enter_in_mask_tools_applies_the_tool(qtbot):
    """Mask tools had no default button: Enter pressed Close, the dialog's first button."""
    dialog = shown_active(qtbot, MaskToolsDialog())
    applied = []
    dialog.apply_button.clicked.connect(lambda: applied.append(dialog.choice()))
    dialog.size.setFocus()
    qtbot.keyClick(dialog.size, Qt.Key.Key_Return)
    assert applied and dialog.isVisible()
    qtbot.keyClick(dialog.size, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
