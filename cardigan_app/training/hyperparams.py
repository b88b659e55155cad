"""An editable table of a preset's hyper-parameters (the fields of ``TrainConfig``).

The rows a newcomer changes (the run's length, how often it logs, previews and saves) come
first, under "Common"; the networks, losses and the rest follow under "Advanced", in the
config's order. Each row shows a field, its value (edited as text, a checkbox for yes/no fields, or a list
for fields with fixed choices), the preset's own value and what the field means. Values are
parsed by the field's type here; the wizard then hands them to ``resolve_config``, whose
``validate`` has the final word, so the rules live in one place (the engine).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QStyledItemDelegate,
                               QStyleOptionViewItem, QTableWidget, QTableWidgetItem, QWidget)

from engine.training.config import PRESET_SUMMARIES, PRESETS, TrainConfig, resolve_config

# Fields chosen on other pages of the wizard, or not meant for editing here.
HIDDEN = {"preset", "device", "amp", "batch_size"}
# the rows shown first, in this order: the run's length, its learning rate and what it writes how often
COMMON = ("iters", "epochs", "lr", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
          "tensorboard", "image_size", "augment", "seed", "workers")
# what each field means and the values it may take come from the engine's description
CHOICES: dict[str, tuple[str, ...]] = {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig)
                                       if f.metadata.get("choices")}


def table_words(text: str) -> str:
    """A field's help as the table says it: an option of the command line that is a row of the
    table (``--iters``) goes by the row's name (``iters``)."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}

    def row_name(match: re.Match) -> str:
        name = match[1].replace("-", "_")
        return name if name in names else match[0]

    return re.sub(r"--([a-z][a-z0-9-]*)", row_name, text)


MEANING = {f.name: table_words(f.metadata["help"]) for f in dataclasses.fields(TrainConfig) if f.metadata.get("help")}
CHANGED = QColor(255, 214, 102)


@dataclass(frozen=True)
class Field:
    name: str
    kind: type  # bool, int, float or str
    optional: bool


def editable_fields() -> list[Field]:
    hints = typing.get_type_hints(TrainConfig)
    fields = []
    for f in dataclasses.fields(TrainConfig):
        if f.name in HIDDEN:
            continue
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = type(None) in typing.get_args(hint)
        kind = args[0] if args else hint
        fields.append(Field(f.name, kind, optional))
    return sorted(fields, key=lambda field: COMMON.index(field.name) if field.name in COMMON else len(COMMON))


def group_labels(fields: list[Field]) -> list[str]:
    """The table's row headers: each group named on its first row only."""
    labels = []
    for index, field in enumerate(fields):
        common = field.name in COMMON
        first = index == 0 or (fields[index - 1].name in COMMON) != common
        labels.append(("Common" if common else "Advanced") if first else "")
    return labels


def format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value) if isinstance(value, float) else str(value)


def parse_value(field: Field, text: str):
    """The typed value of ``text`` for ``field``; ValueError with a readable message."""
    text = text.strip()
    if not text or text.lower() == "none":
        if field.optional:
            return None
        raise ValueError(f"{field.name}: a value is needed")
    if field.kind is bool:
        lowered = text.lower()
        if lowered in ("yes", "true", "1", "on"):
            return True
        if lowered in ("no", "false", "0", "off"):
            return False
        raise ValueError(f"{field.name}: {text!r} is not yes or no")
    if field.kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{field.name}: {text!r} is not a whole number") from None
    if field.kind is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{field.name}: {text!r} is not a number") from None
    if field.name in CHOICES and text not in CHOICES[field.name]:
        raise ValueError(f"{field.name}: {text!r} is not one of {', '.join(CHOICES[field.name])}")
    return text


class ChoiceDelegate(QStyledItemDelegate):
    """A drop-down editor for fields with fixed choices; plain text for the others."""

    def __init__(self, table: HyperParameterTable) -> None:
        super().__init__(table)
        self.table = table

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        name = self.table.fields[index.row()].name
        if name in CHOICES:
            combo = QComboBox(parent)
            combo.addItems(CHOICES[name])
            return combo
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor: QWidget, index) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(index.data())
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model, index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        else:
            super().setModelData(editor, model, index)


class HyperParameterTable(QTableWidget):
    edited = Signal()
    NAME, VALUE, PRESET, MEANING = range(4)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.fields = editable_fields()
        self.preset = "seed"
        self.setHorizontalHeaderLabels(["Parameter", "Value", "Preset", "Meaning"])
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.SelectedClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setItemDelegateForColumn(self.VALUE, ChoiceDelegate(self))
        header = self.horizontalHeader()
        header.setSectionResizeMode(self.NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.VALUE, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(self.PRESET, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.MEANING, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(self.VALUE, 130)
        self.setRowCount(len(self.fields))
        for row, field in enumerate(self.fields):
            name = QTableWidgetItem(field.name)
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            name.setToolTip(MEANING.get(field.name, ""))
            self.setItem(row, self.NAME, name)
            value = QTableWidgetItem("")
            if field.kind is bool:
                value.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                               | Qt.ItemFlag.ItemIsUserCheckable)
            self.setItem(row, self.VALUE, value)
            preset = QTableWidgetItem("")
            preset.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.setItem(row, self.PRESET, preset)
            meaning = QTableWidgetItem(MEANING.get(field.name, ""))
            meaning.setFlags(Qt.ItemFlag.ItemIsEnabled)
            meaning.setToolTip(MEANING.get(field.name, ""))  # the column cuts long ones short
            meaning.setForeground(QBrush(QColor(154, 160, 166)))
            self.setItem(row, self.MEANING, meaning)
        self.setWordWrap(False)
        self.setVerticalHeaderLabels(group_labels(self.fields))
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.itemChanged.connect(self._item_changed)

    # -- access --------------------------------------------------------------------------
    def row_of(self, name: str) -> int:
        for row, field in enumerate(self.fields):
            if field.name == name:
                return row
        raise KeyError(name)

    def text(self, name: str) -> str:
        item = self.item(self.row_of(name), self.VALUE)
        field = self.fields[self.row_of(name)]
        if field.kind is bool:
            return "yes" if item.checkState() == Qt.CheckState.Checked else "no"
        return item.text()

    def set_text(self, name: str, text: str) -> None:
        """Set a value as if typed (``yes``/``no`` for checkboxes)."""
        row = self.row_of(name)
        item = self.item(row, self.VALUE)
        if self.fields[row].kind is bool:
            on = text.strip().lower() in ("yes", "true", "1", "on")
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        else:
            item.setText(text)

    def load(self, preset: str, config: TrainConfig | None = None, defaults: TrainConfig | None = None) -> None:
        """Show ``config`` (default: the preset's values) against the preset's values
        ``defaults`` (default: ``preset``'s own; the wizard fits its image size to the data)."""
        self.preset = preset
        defaults = defaults or resolve_config(preset)
        config = config or defaults
        self.blockSignals(True)
        for row, field in enumerate(self.fields):
            value = getattr(config, field.name)
            self.item(row, self.PRESET).setText(format_value(getattr(defaults, field.name)))
            item = self.item(row, self.VALUE)
            if field.kind is bool:
                item.setCheckState(Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
            else:
                item.setText(format_value(value))
        self.blockSignals(False)
        self._mark_all()

    def set_preset_value(self, name: str, value) -> None:
        """Make ``value`` the preset's value of ``name``; the value shown follows it unless it
        was changed from the preset's."""
        row = self.row_of(name)
        preset = self.item(row, self.PRESET)
        unchanged = self._shown(row) == preset.text()
        preset.setText(format_value(value))
        if unchanged:
            self.set_text(name, format_value(value))
        self._mark(row)

    def values(self) -> tuple[dict, list[str]]:
        """(parsed values by field name, problems); a field with a problem is left out."""
        values, problems = {}, []
        for field in self.fields:
            try:
                values[field.name] = parse_value(field, self.text(field.name))
            except ValueError as exc:
                problems.append(str(exc))
        return values, problems

    def changed_fields(self) -> list[str]:
        return [f.name for row, f in enumerate(self.fields)
                if self._shown(row) != self.item(row, self.PRESET).text()]

    # -- marking -------------------------------------------------------------------------
    def _shown(self, row: int) -> str:
        return self.text(self.fields[row].name)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == self.VALUE:
            self._mark(item.row())
            self.edited.emit()

    def _mark_all(self) -> None:
        for row in range(len(self.fields)):
            self._mark(row)

    def _mark(self, row: int) -> None:
        """Bold and highlighted when changed from the preset; red when it cannot be parsed."""
        self.blockSignals(True)
        item = self.item(row, self.VALUE)
        field = self.fields[row]
        font = QFont(item.font())
        changed = self._shown(row) != self.item(row, self.PRESET).text()
        font.setBold(changed)
        item.setFont(font)
        if field.kind is bool:
            item.setText(self.text(field.name))
        try:
            parse_value(field, self.text(field.name))
            item.setBackground(QBrush())
            item.setForeground(QBrush(CHANGED) if changed else QBrush())
            item.setToolTip("changed from the preset" if changed else MEANING.get(field.name, ""))
        except ValueError as exc:
            item.setBackground(QBrush(QColor(120, 30, 30)))
            item.setToolTip(str(exc))
        self.blockSignals(False)


def preset_description(name: str) -> str:
    values = PRESETS[name]
    return PRESET_SUMMARIES.get(name, ", ".join(f"{k} {v}" for k, v in list(values.items())[:4]))
