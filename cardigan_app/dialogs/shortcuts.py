"""Help > Keyboard shortcuts: every action's shortcut, plus the canvas gestures.

The dialog opens as tall as its list, within the screen: a screen tall enough shows every
shortcut without a scroll bar; a shorter one scrolls the list."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QHeaderView, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from ..actions import keys_in_words

CANVAS_GESTURES = (
    ("Canvas", "Paint with the current tool", "Left button"),
    ("Canvas", "Pan", "Middle button drag, or Space + drag"),
    ("Canvas", "Zoom about the pointer", "Mouse wheel"),
    ("Canvas", "Brush smaller / larger", "[  /  ]"),
    ("Canvas", "Select a class", "0  1  2  3"),
    ("Canvas", "Back to painting from a field", "Enter or Esc"),
    ("Polygon fill", "Add a corner", "Click"),
    ("Polygon fill", "Fill the polygon", "Double-click or Enter"),
    ("Polygon fill", "Remove the last corner", "Backspace, right-click or Ctrl+Z"),
    ("Polygon fill", "Cancel", "Esc"),
    ("Image panes", "Pan / fit", "Drag / double-click"),
    ("Real image", "Contrast: sideways window width, up and down level", "Right-button drag, or Ctrl + drag"),
    ("Cine loop export", "Cancel the loop being written", "Esc (or Cancel in the status bar)"),
)
WIDTH = 560
FRAME_ALLOWANCE = 48  # pixels of a window manager's title bar and frame


def shortcut_rows(actions: Iterable[tuple[str, QAction]]) -> list[tuple[str, str, str]]:
    """(section, what, keys) for every action that has a shortcut, in the menus' order: Help
    last, as its menu is (menus added later, Data and Train, go before it)."""
    rows = []
    for section, action in actions:
        keys = keys_in_words(action)
        if keys:
            name = action.whatsThis() or action.text().replace("&", "").rstrip(".\u2026")
            rows.append((section, name, keys))
    return sorted(rows, key=lambda row: row[0] == "Help")


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self._fitted = False
        tree = QTreeWidget()
        tree.setHeaderLabels(["Action", "Keys"])
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        sections: dict[str, QTreeWidgetItem] = {}
        for section, what, keys in list(rows) + list(CANVAS_GESTURES):
            parent_item = sections.get(section)
            if parent_item is None:
                parent_item = QTreeWidgetItem(tree, [section])
                font = parent_item.font(0)
                font.setBold(True)
                parent_item.setFont(0, font)
                parent_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                parent_item.setFirstColumnSpanned(True)  # a heading across the list, not an action
                sections[section] = parent_item
            QTreeWidgetItem(parent_item, [what, keys])
        tree.expandAll()
        tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree = tree
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tree)
        layout.addWidget(buttons)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted:  # the style's row heights are known only now
            self._fitted = True
            self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """As tall as the whole list, or as the screen allows (a taller list scrolls), on the screen."""
        tree = self.tree
        last = tree.topLevelItem(tree.topLevelItemCount() - 1)
        while last.childCount():
            last = last.child(last.childCount() - 1)
        rows = tree.visualItemRect(last).bottom() - tree.visualItemRect(tree.topLevelItem(0)).top() + 1
        height = self.height() + rows - tree.viewport().height()  # the header, frame and buttons as laid out
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        centre = self.frameGeometry().center()
        self.resize(WIDTH, min(height, screen.height() - FRAME_ALLOWANCE))
        frame = self.frameGeometry()  # grown about where it was placed, and kept on the screen
        frame.moveCenter(centre)
        self.move(max(screen.left(), min(frame.x(), screen.right() + 1 - frame.width())),
                  max(screen.top(), min(frame.y(), screen.bottom() + 1 - frame.height())))
