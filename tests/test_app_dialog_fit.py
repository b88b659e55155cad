"""The Data menu's dialogs fit a laptop screen: a 1280 x 800 screen shows a finished export's
or phantom dataset's Result without scrolling, a note that appears in an open dialog adds no
scroll bar, and number boxes (the training wizard's batch size too) are as wide as their
values, not as the form; a plan note that wraps keeps each split with its count. Check
topology says a plausible heart on one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QAbstractSpinBox, QApplication

from cardigan_app.data_tools import ExportDialog
from cardigan_app.data_tools.phantom_dialog import PhantomDialog
from cardigan_app.data_tools.prepare_dialog import PrepareDialog
from cardigan_app.dialogs.topology import PLAUSIBLE, TopologyDialog
from cardigan_app.training.wizard import TrainingWizard
from engine.data.manifest import read_manifest
from engine.data.phantom import write_phantom

LAPTOP = QRect(0, 0, 1280, 760)  # a 1280 x 800 screen less a task bar


@pytest.fixture
def laptop_screen(monkeypatch):
    """Every screen is a 1280 x 800 laptop's (the offscreen one is 800 x 800)."""
    monkeypatch.setattr(QScreen, "availableGeometry", lambda screen: QRect(LAPTOP))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> Path:
    """A small written dataset, as an export leaves one (2 patients, 2 views, 2 instants)."""
    folder = tmp_path_factory.mktemp("export") / "out"
    write_phantom(folder, count=2, size=64, seed=0)
    return folder


def visible_in_viewport(dialog, widget) -> bool:
    """Whether ``widget`` lies whole within the part of the dialog's scroll area shown."""
    viewport = dialog.scroll.viewport()
    return viewport.rect().contains(QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()))


def test_a_finished_export_shows_its_result_without_scrolling_on_a_1280_by_800_screen(qtbot, laptop_screen,
                                                                                     tiny_model, pairs):
    """The options and the Result box (counts and thumbnails) were 981 px tall, one above the
    other, in a 660-pixel view: the result needed a scroll to be seen."""
    dialog = ExportDialog(None, str(tiny_model), "cpu")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.model.setCurrentIndex(dialog.model.count() - 1)  # the model file row shows too
    dialog.show_result(pairs, read_manifest(pairs), "Exported 8 pairs", pairs, "export \u2192 out")
    QApplication.processEvents()
    frame = dialog.frameGeometry()
    assert LAPTOP.contains(frame), frame
    assert dialog.summary.thumbnails and dialog.scroll.verticalScrollBar().maximum() == 0
    for widget in (dialog.summary_box, dialog.options_box, dialog.status):
        assert visible_in_viewport(dialog, widget), widget
    assert not dialog.summary_box.geometry().intersects(dialog.options_box.geometry())


def test_a_finished_phantom_dataset_shows_its_result_without_scrolling_on_a_1280_by_800_screen(
        qtbot, laptop_screen, pairs):
    """The options, the written-by-the-last-run note and the Result box one above the other
    were taller than the screen: the dialog opened a scroll bar and cut its title off."""
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.output.set_path(pairs)
    dialog.show_result(pairs, read_manifest(pairs), "Made 8 pairs", pairs, "phantom \u2192 out")
    QApplication.processEvents()
    assert LAPTOP.contains(dialog.frameGeometry()), dialog.frameGeometry()
    assert dialog.summary.thumbnails and dialog.scroll.verticalScrollBar().maximum() == 0
    for widget in (dialog.summary_box, dialog.output_note, dialog.status):
        assert visible_in_viewport(dialog, widget), widget


def test_a_note_appearing_in_the_open_phantom_dialog_grows_it_instead_of_adding_a_scroll_bar(qtbot, tmp_path):
    """A non-empty output chosen after the dialog opened put a two-line note under it, and the
    dialog, sized to its content when it opened, showed a 34-pixel scroll bar."""
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    bar, opened_at = dialog.scroll.verticalScrollBar(), dialog.height()
    assert not bar.isVisible()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("someone else's")
    dialog.output.set_path(tmp_path / "full")  # as Browse… sets it
    assert dialog.output_note.isVisibleTo(dialog) and "not empty" in dialog.output_note.text()
    dialog.count.setValue(2)  # the plan warns of empty splits, on more lines
    assert "no patient in" in dialog.plan.text()
    qtbot.waitUntil(lambda: dialog.height() > opened_at, timeout=2000)  # grown, not scrolled
    QApplication.processEvents()
    assert not bar.isVisible() and bar.maximum() == 0, bar.maximum()
    assert dialog.scroll.viewport().height() >= dialog.scroll.widget().sizeHint().height()


def widest_texts(box: QAbstractSpinBox) -> list[str]:
    """What ``box`` may show at its widest: its extremes with prefix and suffix, its special value text."""
    shown = [box.prefix() + box.textFromValue(value) + box.suffix() for value in (box.minimum(), box.maximum())]
    return shown + [box.specialValueText()]


@pytest.mark.parametrize("make", [lambda model: PhantomDialog(), lambda model: PrepareDialog(),
                                  lambda model: ExportDialog(None, model, "cpu")], ids=["phantom", "prepare", "export"])
def test_number_boxes_are_as_wide_as_their_values_at_the_left_of_their_rows(qtbot, laptop_screen, tiny_model, make):
    """Patients, Size and Seed stretched 500 pixels and more across the form for values of three digits."""
    dialog = make(str(tiny_model))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    column = dialog.output  # a field that takes the form's whole field column
    boxes = dialog.findChildren(QAbstractSpinBox)
    assert len(boxes) >= 2
    for box in boxes:
        assert box.width() < column.width() / 2, (box.suffix(), box.width(), column.width())
        room = box.lineEdit().contentsRect().width() - 4  # a line edit keeps 2 px each side
        for text in widest_texts(box):
            assert box.fontMetrics().horizontalAdvance(text) <= room, (text, room)
    row_starts = {box: (dialog.plan if box is getattr(dialog, "random_count", None) else column)
                  for box in boxes if box.parent() is not getattr(dialog, "cine", None)}
    for box, start in row_starts.items():
        assert box.mapTo(dialog, QPoint(0, 0)).x() == start.mapTo(dialog, QPoint(0, 0)).x(), box.suffix()


def test_the_training_wizard_s_batch_size_box_is_as_wide_as_its_values(qtbot, laptop_screen):
    """The device page's batch size stretched across the 830-pixel form for four digits."""
    wizard = TrainingWizard()
    qtbot.addWidget(wizard)
    page = wizard.device_page
    wizard.setStartId(wizard.pageIds()[2])  # data, preset, device, run
    wizard.show()
    qtbot.waitExposed(wizard)
    QApplication.processEvents()
    assert wizard.currentPage() is page
    box = page.batch
    assert box.width() < page.device.width() / 2, (box.width(), page.device.width())
    room = box.lineEdit().contentsRect().width() - 4
    for text in widest_texts(box):
        assert box.fontMetrics().horizontalAdvance(text) <= room, (text, room)


def test_the_plan_note_keeps_each_split_with_its_count_when_it_wraps(qtbot):
    """The phantom plan wrapped between "valid" and "10" at the dialog's opening width."""
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    text = dialog.plan.text()
    assert "per split: train\u00a080, valid\u00a010, test\u00a010" in text, text
    assert not re.search(r"(train|valid|test)[^\S\u00a0]+\d", text), text


def test_check_topology_says_a_plausible_heart_on_one_line(qtbot):
    """The verdict wrapped at the dialog's 460 pixels, leaving "it." alone on its second line."""
    dialog = TopologyDialog()
    qtbot.addWidget(dialog)
    dialog.show_report([], [])
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    assert dialog.headline.text() == PLAUSIBLE
    assert dialog.headline.fontMetrics().horizontalAdvance(PLAUSIBLE) <= dialog.headline.contentsRect().width()


def test_mask_tools_shows_a_narrow_size_box_only_where_the_size_means_something(qtbot):
    """The size box stretched across the form for two digits, and "Keep the largest piece",
    which has no size, left an empty row where it was."""
    from cardigan_app.dialogs.mask_tools import MaskToolsDialog

    dialog = MaskToolsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.size.width() < dialog.operation.width() / 2
    dialog.operation.setCurrentIndex(dialog.operation.findData("largest"))
    assert not dialog.form.isRowVisible(dialog.size) and not dialog.size_label.isVisible()
    dialog.operation.setCurrentIndex(dialog.operation.findData("islands"))
    assert dialog.form.isRowVisible(dialog.size) and dialog.size_label.text() == "Smaller than (pixels)"
