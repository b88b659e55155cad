"""A path entry with Browse buttons: type a path or pick a file or folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from . import folders
from .icons import icon


# room beside the text: the frame, the text margins and the clear button
EDIT_PADDING = 36


def placeholder_width(edit: QLineEdit) -> int:
    """The least width at which ``edit`` shows its whole placeholder: the placeholder says
    what the field takes (a file, which folders), so an empty field never cuts it short."""
    return edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + EDIT_PADDING


def with_clear_button(edit: QLineEdit) -> QLineEdit:
    """Give ``edit`` Qt's clear button, with a tooltip (Qt's own has none: an icon alone)."""
    edit.setClearButtonEnabled(True)
    for action in edit.findChildren(QAction):
        action.setToolTip("Clear")
    return edit


class PathField(QWidget):
    """``mode``: ``folder``, ``file`` (open), ``save`` or ``file+folder`` (both buttons: a path
    that may be a file or a folder, a model say). ``folder_caption``: the folder dialog's title
    when it differs from the file dialog's. ``folder_is_item``: a chosen folder is one item among
    its neighbours (a model's run folder), so the next dialog opens beside it, not inside it."""

    pathChanged = Signal(str)  # the text, whenever it changes

    def __init__(self, mode: str = "folder", caption: str = "Choose", file_filter: str = "All files (*)",
                 placeholder: str = "", parent: QWidget | None = None, kind: str | None = None,
                 folder_caption: str | None = None, folder_is_item: bool = False) -> None:
        super().__init__(parent)
        self.mode, self.caption, self.file_filter = mode, caption, file_filter
        self.folder_caption = folder_caption or caption
        self.folder_is_item = folder_is_item
        self.kind = kind  # which remembered folder an empty field starts from (see folders.py)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        with_clear_button(self.edit)
        self.edit.setMinimumWidth(placeholder_width(self.edit))
        self.edit.textChanged.connect(self.pathChanged)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        self.buttons: list[QPushButton] = []
        if mode in ("file", "save", "file+folder"):
            self._button("File\u2026" if mode == "file+folder" else "Browse\u2026", "file-outline", self.pick_file)
        if mode in ("folder", "file+folder"):
            self._button("Folder\u2026" if mode == "file+folder" else "Browse\u2026", "folder-outline",
                         self.pick_folder)

    def _button(self, text: str, icon_name: str, slot) -> None:
        button = QPushButton(icon(icon_name), text)
        button.clicked.connect(slot)
        self.layout().addWidget(button)
        self.buttons.append(button)

    def text(self) -> str:
        return self.edit.text().strip()

    def path(self) -> Path | None:
        text = self.text()
        return Path(text).expanduser() if text else None

    def set_path(self, path: Path | str | None) -> None:
        self.edit.setText("" if path is None else str(path))

    def _start(self) -> str:
        path = self.path()
        if path is None:
            return folders.start_folder(self.kind) if self.kind else ""
        return str(path if path.is_dir() and not self.folder_is_item else path.parent)

    def pick_file(self) -> None:
        if self.mode == "save":
            name, _ = QFileDialog.getSaveFileName(self, self.caption, self._start(), self.file_filter)
        else:
            name, _ = QFileDialog.getOpenFileName(self, self.caption, self._start(), self.file_filter)
        if name:
            self.set_path(name)
            if self.kind:
                folders.remember(self.kind, name)

    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.folder_caption, self._start())
        if folder:
            self.set_path(folder)
            if self.kind:
                folders.remember(self.kind, Path(folder).parent if self.folder_is_item else folder)
