"""The window's status bar: a temporary message is always readable.

A message (``showMessage``) is drawn left of the permanent fields (busy, synthesis time,
device, cursor, class), and Qt clips what does not fit there, mid-word, without a sign. Here,
while a message is shown, the permanent fields give way to it one by one, in the order of
:attr:`StatusBar.give_way_order` (the least urgent first), until it fits; they come back when
it ends or the bar widens. A message too long even for the whole bar ends in an ellipsis, and
the bar's tooltip holds the whole text, as it does whenever any of it is hidden, each of its
parts (a note on the file just opened, what a background message added) beginning a line of
its own, rather than wrapped as one block of text. A fixed field
(:meth:`StatusBar.add_fixed`, a running job's progress and its Cancel button) never gives way:
the message keeps left of it.

A note about what the user just did (:meth:`StatusBar.show_note`: the file just opened and
what reading it found) stays until the user's next message replaces it: a message from work
running on its own (:meth:`StatusBar.show_background`: a model ready, its file changed on
disk, the models named along that were not loaded) is added after it, never over it, and a toolbar or menu entry's tip, shown while the
pointer is over it, gives it back when the pointer leaves.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent, QStatusTipEvent
from PySide6.QtWidgets import QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

LEFT_MARGIN, RIGHT_MARGIN, GAP = 6, 12, 2  # as QStatusBar places its message
AFTER_NOTE = " \u00b7 "  # between a note and a background message added after it
TIP_CHARACTERS = 100  # a long message's tooltip is this many average characters wide


def wrapped_tip(message: str, width: int) -> str:
    """``message`` as a rich-text tooltip ``width`` pixels wide that Qt wraps to lines, each of
    its parts (what it joins with "; " or :data:`AFTER_NOTE`) beginning a line of its own."""
    parts = re.split(rf"(?<=;) | (?={AFTER_NOTE[1:]})", message)
    return f'<table width="{width}"><tr><td>' + "<br>".join(html.escape(part) for part in parts) + "</td></tr></table>"



class StatusBar(QStatusBar):
    """A status bar whose permanent fields give way to a long message (see the module)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ranks: dict[QWidget, int] = {}  # the permanent fields and their give-way ranks
        self._fixed: list[QWidget] = []  # the permanent fields that never give way
        self._given_way: list[QWidget] = []
        self._note: str | None = None  # the note kept until the user's next message (show_note)
        self._background = ""  # the latest background message shown after it
        self._tip_over_note = False  # a toolbar or menu entry's tip shown over the note
        self.messageChanged.connect(self._make_room)
        self.messageChanged.connect(self._note_replaced)
        if parent is not None:  # the window's status tips reach it, not the bar
            parent.installEventFilter(self)

    def show_note(self, message: str) -> None:
        """Show ``message`` until the user's next message replaces it (see the module)."""
        self._note, self._background, self._tip_over_note = message, "", False
        self.showMessage(message)

    def show_background(self, message: str, timeout: int = 0) -> None:
        """Show a message from work running on its own for ``timeout`` ms; while a note is kept,
        after the note (in place of the last one added so), until the note is replaced."""
        if self._note is None:
            self.showMessage(message, timeout)
            return
        self._background = message
        if not self._tip_over_note:
            self.showMessage(self.held_message())

    def held_message(self) -> str | None:
        """The note kept (with the background message after it), or None when none is."""
        if self._note is None:
            return None
        return f"{self._note}{AFTER_NOTE}{self._background}" if self._background else self._note

    def _note_replaced(self, message: str) -> None:
        if self._note is not None and not self._tip_over_note and message != self.held_message():
            self._note, self._background = None, ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """While a note is kept, a toolbar or menu entry's tip is shown over it, and the note
        comes back when the tip ends (Qt would leave the line empty)."""
        if event.type() != QEvent.Type.StatusTip or self._note is None:
            return False
        tip = event.tip() if isinstance(event, QStatusTipEvent) else ""
        self._tip_over_note = bool(tip)
        self.showMessage(tip or self.held_message())
        return True

    def add_field(self, widget: QWidget, give_way_rank: int) -> None:
        """Add a permanent field; a lower ``give_way_rank`` gives way to a long message sooner."""
        self.addPermanentWidget(widget)
        self._ranks[widget] = give_way_rank

    def add_fixed(self, widget: QWidget) -> None:
        """Add a permanent field that never gives way to a message (it shows and hides itself)."""
        self.addPermanentWidget(widget)
        self._fixed.append(widget)

    def _fields_shown(self) -> list[QWidget]:
        return [widget for widget in (*self.give_way_order, *self._fixed) if widget.isVisible()]

    @property
    def give_way_order(self) -> list[QWidget]:
        """The permanent fields, the first to give way first."""
        return sorted(self._ranks, key=self._ranks.get)

    def message_rect(self) -> QRect:
        """Where the message is drawn: from the left edge to the first permanent field shown."""
        right = self.width() - RIGHT_MARGIN
        grip = self.findChild(QSizeGrip)
        if grip is not None and grip.isVisible():
            right = min(right, grip.x() - GAP)
        shown = [widget.x() for widget in self._fields_shown()]
        if shown:
            right = min(right, min(shown) - GAP)
        return QRect(LEFT_MARGIN, 0, max(0, right - LEFT_MARGIN), self.height())

    def message_fits(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.currentMessage()) <= self.message_rect().width()

    def _make_room(self, message: str = "") -> None:
        """Bring back every field given way, then hide them in order until ``message`` fits."""
        for widget in self._given_way:
            widget.show()
        self._given_way = []
        self.layout().activate()
        if message and self.isVisible():
            for widget in self.give_way_order:
                if self.message_fits():
                    break
                if widget.isVisible():
                    widget.hide()
                    self._given_way.append(widget)
                    self.layout().activate()
        self.setToolTip("" if not message or self.message_fits() else wrapped_tip(message, self.fontMetrics().averageCharWidth() * TIP_CHARACTERS))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._make_room(self.currentMessage())

    def paintEvent(self, event: QPaintEvent) -> None:
        """As QStatusBar paints, with a message too long for its room cut off with an ellipsis."""
        message = self.currentMessage()
        if not message or self.message_fits():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for widget in self._fields_shown():
            frame = QStyleOption()
            frame.rect = widget.geometry().adjusted(-2, -1, 2, 1)
            frame.palette = self.palette()
            frame.state = QStyle.StateFlag.State_None
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, frame, painter, widget)
        room = self.message_rect()
        painter.setPen(self.palette().windowText().color())
        painter.drawText(room, Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine,
                         self.fontMetrics().elidedText(message, Qt.TextElideMode.ElideRight, room.width()))
