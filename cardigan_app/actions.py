"""Creating actions with their icon, shortcut and tooltip in one call, and keeping a
registry of them for the shortcuts dialog.

An action's keys are named the same everywhere (:func:`keys_in_words`): its tooltip and the
shortcuts dialog list every key that triggers it ("Ctrl+Shift+Z, Ctrl+Y"); a menu shows the
first, its primary one, as Qt menus do. Only keys an ordinary keyboard has are named: a
platform's standard keys (Quit, New, Open, ...) also bind the media and launch keys some
keyboards have ("Ctrl+Q, Exit"); those still work but are not listed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from .icons import icon


# Qt numbers the keys every keyboard has (letters, digits, F-keys, arrows, Esc, Delete, ...)
# below its media, browser, launch, keypad-navigation and phone keys (Back, Open, Exit, ...)
FIRST_SPECIAL_KEY = Qt.Key.Key_Back.value


def keys_in_words(action: QAction) -> str:
    """Every key of ``action`` that a keyboard has (:func:`on_keyboard`), primary first, as
    the platform writes them ("" for none)."""
    return ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts()
                     if on_keyboard(key))


def menu_route(action: QAction) -> str:
    """Where ``action`` is in the menu bar, with its primary key, as the menus write them:
    "File \u203a Open image to trace\u2026 (Ctrl+Shift+I)"."""
    names, item = [], action
    while item is not None:
        names.insert(0, item.text().replace("&&", "\0").replace("&", "").replace("\0", "&"))
        menu = next((owner for owner in item.associatedObjects() if isinstance(owner, QMenu)), None)
        item = menu.menuAction() if menu is not None else None
    key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return " \u203a ".join(names) + (f" ({key})" if key else "")


def on_keyboard(sequence: QKeySequence) -> bool:
    """Whether every key of ``sequence`` is one an ordinary keyboard has (not Exit, Open, ...)."""
    return all(sequence[i].key().value < FIRST_SPECIAL_KEY for i in range(sequence.count()))


def with_accelerator(text: str, taken: set[str]) -> str:
    """``text`` with a menu accelerator ("&") before the first of its words' initials that no
    other entry of its menu has taken, else before its first such letter anywhere; the letter
    is added to ``taken``. Text that has one already, or whose letters are all taken, is
    returned as it is."""
    if "&" in text.replace("&&", ""):
        return text
    initials = [i for i, c in enumerate(text) if c.isalnum() and (i == 0 or not text[i - 1].isalnum())]
    for i in initials + [i for i, c in enumerate(text) if c.isalnum()]:
        if text[i].lower() not in taken:
            taken.add(text[i].lower())
            return text[:i] + "&" + text[i:]
    return text


def accelerator(text: str) -> str:
    """The letter after the "&" of a menu entry's text, lower case ("" for none)."""
    parts = text.replace("&&", "").split("&", 1)
    return parts[1][:1].lower() if len(parts) == 2 else ""


def accelerators_in(menu: QMenu) -> set[str]:
    """The accelerators ``menu``'s entries have taken."""
    return {accelerator(action.text()) for action in menu.actions()} - {""}


class ActionRegistry:
    """All the window's actions by name, each filed under a section for the help dialog."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.actions: dict[str, QAction] = {}
        self.sections: list[tuple[str, QAction]] = []

    def add(self, name: str, section: str, text: str, slot: Callable | None = None, *,
            shortcut: str | QKeySequence.StandardKey | list | None = None, icon_name: str | None = None,
            tip: str | None = None, checkable: bool = False, checked: bool = False,
            help_text: str | None = None) -> QAction:
        """``help_text`` names the action in the shortcuts dialog when its menu text needs the
        menu for context (e.g. "Synthesized image..." under Export)."""
        action = QAction(text, self.parent)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setCheckable(checkable)
        if checkable:
            action.setChecked(checked)
        description = tip or text.replace("&", "").rstrip(".\u2026")
        keys = keys_in_words(action)
        action.setToolTip(f"{description} ({keys})" if keys else description)
        action.setStatusTip(description)
        if help_text:
            action.setWhatsThis(help_text)
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(slot)
        self.parent.addAction(action)  # shortcuts work even when no menu shows the action
        self.actions[name] = action
        self.sections.append((section, action))
        return action

    def __getitem__(self, name: str) -> QAction:
        return self.actions[name]
