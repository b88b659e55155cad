"""Tab in the training wizard's pages and the Export batch dialog (its Cine loops row shown)
follows what is on screen, top to bottom and left to right, from the first field, which has
the focus when the page or the dialog opens."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QRadioButton, QWidget

from cardigan_app.data_tools import ExportDialog
from cardigan_app.training import TrainingWizard


def on_screen(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


def tab_walk(area: QWidget, top: QWidget) -> list[QWidget]:
    """The widgets of ``area`` Tab visits from the one with the focus, in their order."""
    first = QApplication.focusWidget()
    assert first is not None and area.isAncestorOf(first), "no field of the page has the focus"
    visited = [first]
    for _ in range(100):
        visited[-1].focusNextChild()
        QApplication.processEvents()
        widget = QApplication.focusWidget()
        if widget is None or widget is visited[0] or not area.isAncestorOf(widget):
            break
        visited.append(widget)
    return visited


def fields(area: QWidget) -> list[QWidget]:
    """The widgets of ``area`` that Tab should reach: shown, enabled, taking the focus by Tab
    (a radio button only when checked: Tab skips the others of its group)."""
    return [widget for widget in area.findChildren(QWidget)
            if widget.isVisibleTo(area) and widget.isEnabled() and widget.focusProxy() is None
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not (isinstance(widget, QRadioButton) and not widget.isChecked())]


def missed(visited: list[QWidget], area: QWidget) -> list[str]:
    """The fields of ``area`` Tab never reached."""
    return [type(widget).__name__ for widget in fields(area) if not any(widget is seen for seen in visited)]


def out_of_order(visited: list[QWidget], top: QWidget) -> list[str]:
    """Each step of ``visited`` that goes up a row, or left along one."""
    wrong = []
    for before, after in zip(visited, visited[1:]):
        a, b = on_screen(before, top), on_screen(after, top)
        same_row = b.top() <= a.bottom() and a.top() <= b.bottom()
        if (b.top() < a.top() and not same_row) or (same_row and b.left() < a.left()):
            wrong.append(f"{type(before).__name__} at {a.topLeft().toTuple()} -> "
                         f"{type(after).__name__} at {b.topLeft().toTuple()}")
    return wrong


def active(qtbot, widget: QWidget) -> QWidget:
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5000)
    QApplication.processEvents()
    return widget


@pytest.fixture(scope="module")
def wizard():
    wiz = TrainingWizard()
    yield wiz
    wiz.close()
    wiz.deleteLater()


@pytest.mark.parametrize("page_id", [0, 1, 2, 3], ids=["data", "preset", "device", "run"])
def test_tab_follows_each_training_wizard_page_from_its_first_field(qtbot, wizard, page_id):
    wizard.setStartId(page_id)
    wizard.restart()
    active(qtbot, wizard)
    page = wizard.page(page_id)
    if page is wizard.data_page:
        page.use_raw.setChecked(True)  # every field of the page in use
    visited = tab_walk(page, wizard)
    assert len(visited) > 1 and not out_of_order(visited, wizard) and not missed(visited, page)


def test_tab_follows_the_export_dialog_with_its_cine_loops_row(qtbot, tiny_model):
    dialog = ExportDialog(None, str(tiny_model), "cpu")
    qtbot.addWidget(dialog)
    active(qtbot, dialog)
    dialog.cine.enabled.setChecked(True)
    QApplication.processEvents()
    assert QApplication.focusWidget() is dialog.model
    visited = tab_walk(dialog, dialog)
    assert any(widget is dialog.cine.cycle for widget in visited)
    assert not out_of_order(visited, dialog) and not missed(visited, dialog)
