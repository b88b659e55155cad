"""Edit > Mask tools: whole-mask operations as in Slicer's Segment Editor, each one undo step.

Smoothing (median, opening, closing), removing small islands or keeping the largest piece,
and growing or shrinking a class by N pixels. The work is :mod:`engine.mask_tools`; this
dialog picks the operation, the class and the size, and previews nothing it has not done:
Apply changes the mask (undoable) and the echo follows. Like the brush, the tools change only
the pixels the toolbar's "Over" rule lets painting change, and paint no class onto the black
outside the fan; the dialog says which rule applies, and after Apply what changed, or why
nothing did.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from engine import mask_tools
from engine.labels import LABELS, in_sentence

from .. import theme
from ..data_tools.spin_width import as_wide_as_its_values

ALL = -1  # "every class" in the class picker

# name: (label, what the size means, size range, default size, function(labels, class, size))
OPERATIONS: dict[str, tuple[str, str, tuple[int, int], int, Callable[[np.ndarray, int, int], np.ndarray]]] = {
    "median": ("Smooth (median)", "radius (px)", (1, 15), 2,
               lambda m, c, n: mask_tools.smooth(m, n, None if c == ALL else c, "median")),
    "open": ("Smooth: remove spurs (opening)", "radius (px)", (1, 15), 2,
             lambda m, c, n: mask_tools.smooth(m, n, None if c == ALL else c, "open")),
    "close": ("Smooth: fill gaps (closing)", "radius (px)", (1, 15), 2,
              lambda m, c, n: mask_tools.smooth(m, n, None if c == ALL else c, "close")),
    "islands": ("Remove small islands", "smaller than (pixels)", (1, 100000), 50,
                lambda m, c, n: mask_tools.remove_islands(m, n, (1, 2, 3) if c == ALL else (c,))),
    "largest": ("Keep the largest piece", "", (0, 0), 0,
                lambda m, c, n: mask_tools.keep_largest(m, (1, 2, 3) if c == ALL else (c,))),
    "grow": ("Grow (margin)", "margin (px)", (1, 50), 2, lambda m, c, n: mask_tools.margin(m, c, n)),
    "shrink": ("Shrink (margin)", "margin (px)", (1, 50), 2, lambda m, c, n: mask_tools.margin(m, c, -n)),
}
ONE_CLASS = ("grow", "shrink")  # these need a single class


def apply_operation(labels: np.ndarray, name: str, label: int, size: int) -> np.ndarray:
    """The mask after one operation (labels stay 0-3), before the painting rule confines it
    (:func:`engine.mask_tools.confine`)."""
    return OPERATIONS[name][4](labels, label, size)


def rule_name(over: int | None) -> str:
    """The paint-over rule as the toolbar's Over box names it."""
    return "Every class" if over is None else f"{LABELS[over].name} only"


def rule_text(over: int | None) -> str:
    """What the paint-over rule lets the tools change, in one line."""
    if over is None:
        return "Changes any class (Over: Every class); Edit \u203a Paint over to limit it"
    return (f"Changes only {in_sentence(LABELS[over].name)} pixels (Over: {rule_name(over)}); "
            "Edit \u203a Paint over to change")


class MaskToolsDialog(QDialog):
    def __init__(self, label: int = 1, parent: QWidget | None = None, over: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mask tools")
        self.operation = QComboBox()
        for name, (text, *_rest) in OPERATIONS.items():
            self.operation.addItem(text, name)
        self.label = QComboBox()
        self.label.addItem("All classes", ALL)
        for lab in LABELS[1:]:
            self.label.addItem(lab.name, lab.id)
        self.label.setCurrentIndex(max(0, self.label.findData(label)))
        self.size = as_wide_as_its_values(QSpinBox())
        self.size_label = QLabel("")
        self.waiting = False  # a slider drag under way: Apply would split its undo step
        self.note = QLabel("One undo step; the echo follows.")
        self.note.setStyleSheet(theme.text_style(theme.MUTED))
        self.note.setWordWrap(True)
        self.rule = QLabel(rule_text(over))  # the paint-over rule the tools obey
        self.rule.setToolTip("As for the brush; no tool paints a class outside the fan, where the image is black")
        self.form = form = QFormLayout()
        form.addRow("Operation", self.operation)
        form.addRow("Class", self.label)
        form.addRow(self.size_label, self.size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close)
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.rule)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.apply_button.setDefault(True)  # Enter applies the tool (made so once in the dialog, or it would not hold)
        self.operation.currentIndexChanged.connect(self._update)
        self.label.currentIndexChanged.connect(self._update)
        self.size.valueChanged.connect(self._update)
        self._update()

    def set_rule(self, over: int | None) -> None:
        self.rule.setText(rule_text(over))

    def show_result(self, text: str) -> None:
        """Say what the last Apply did (until the choice changes)."""
        self.note.setText(text)

    def set_waiting(self, waiting: bool) -> None:
        """Apply waits (off, and says why) while the mouse holds an anatomy slider, as the
        window's other whole-mask edits do."""
        self.waiting = waiting
        self._update()

    def choice(self) -> tuple[str, int, int]:
        return self.operation.currentData(), int(self.label.currentData()), self.size.value()

    def _update(self) -> None:
        name = self.operation.currentData()
        _, what, (low, high), default, _ = OPERATIONS[name]
        self.size_label.setText(what.capitalize() if what else "")
        self.form.setRowVisible(self.size, bool(what))  # no empty row where the size means nothing
        if (low, high) != (self.size.minimum(), self.size.maximum()):
            self.size.setRange(low, high)
            self.size.setValue(default)
        needs_class = name in ONE_CLASS and self.label.currentData() == ALL
        self.apply_button.setEnabled(not needs_class and not self.waiting)
        if self.waiting:
            self.note.setText("Apply waits until the slider is let go.")
        else:
            self.note.setText("Choose one class to grow or shrink." if needs_class
                              else "One undo step; the echo follows.")
