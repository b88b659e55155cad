"""The whole meaning of the hyper-parameter table's current row, under the table.

The table's Meaning column cuts most meanings short at the wizard's size; this label shows
the current row's field in bold, its whole meaning and, when the row's value is not the
preset's, the preset's value. It follows the current row whether the mouse or the keyboard
moves it, and an edit of the row's value.

It is as tall as the tallest of the table's descriptions at the width it has (each counted
with its preset's value), not as its own text: moving from a short meaning to a long one does
not move the note and buttons below it. Its height changes only with its width.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from ..fitted_label import FittedLabel
from .hyperparams import MEANING, HyperParameterTable

PROMPT = "Choose a row to read what its parameter does."


def describe(name: str, preset: str, preset_value: str | None) -> str:
    """The rich text for field ``name``; ``preset_value`` (the preset's own value as the table
    shows it) is named when it is not None."""
    text = f"<b>{html.escape(name)}</b> \u2014 {html.escape(MEANING.get(name, ''))}"
    if preset_value is not None:
        text += f"<br>The {html.escape(preset)} preset's value: {html.escape(preset_value or 'empty')}"
    return text


class RowDescription(FittedLabel):
    """What the current row of a :class:`HyperParameterTable` means (module docstring)."""

    def __init__(self, table: HyperParameterTable, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.table = table
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._measure = QLabel()  # never shown: the height of texts this label is not showing
        self._measure.setTextFormat(Qt.TextFormat.RichText)
        self._measure.setWordWrap(True)
        self._heights: dict[tuple, int] = {}
        table.currentCellChanged.connect(self.follow)
        table.edited.connect(self.follow)
        self.follow()

    def candidates(self) -> list[str]:
        """Every text this label may show with the table's preset (the preset's value named)."""
        table = self.table
        return [PROMPT] + [describe(field.name, table.preset, table.item(row, table.PRESET).text())
                           for row, field in enumerate(table.fields)]

    def preset_loaded(self) -> None:
        """The table shows another preset: its values may wrap to another height."""
        self.updateGeometry()
        self.follow()

    def follow(self, *_args) -> None:
        table, row = self.table, self.table.currentRow()
        if row < 0:
            self.setText(PROMPT)
            return
        name = table.fields[row].name
        preset_value = table.item(row, table.PRESET).text()
        differs = table.text(name) != preset_value
        self.setText(describe(name, table.preset, preset_value if differs else None))

    def text_height(self, width: int) -> int:
        """The tallest candidate's height at ``width``, margins included."""
        key = (width, self.table.preset, self.font().toString())
        if key not in self._heights:
            self._measure.setFont(self.font())
            self._measure.setContentsMargins(self.contentsMargins())
            self._measure.setIndent(self.indent())
            self._measure.setMargin(self.margin())
            heights = []
            for text in self.candidates():
                self._measure.setText(text)
                heights.append(self._measure.heightForWidth(width))
            self._heights[key] = max(heights)
        return self._heights[key]
