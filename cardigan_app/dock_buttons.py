"""Tooltips for the two buttons on a panel's title bar.

Qt draws a dock widget's float and close buttons as bare icons without a tooltip; each is
given one saying what it does, the float button's following whether the panel floats.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QDockWidget

FLOAT_TIP = "Float the panel in a window of its own"
DOCK_TIP = "Dock the panel back into the main window"
CLOSE_TIP = "Hide the panel (View \u203a Panels shows it again)"


def explain_title_buttons(dock: QDockWidget) -> None:
    """Give ``dock``'s float and close buttons their tooltips."""
    close = dock.findChild(QAbstractButton, "qt_dockwidget_closebutton")
    if close is not None:
        close.setToolTip(CLOSE_TIP)
    float_button = dock.findChild(QAbstractButton, "qt_dockwidget_floatbutton")
    if float_button is not None:
        def follow(floating: bool) -> None:
            float_button.setToolTip(DOCK_TIP if floating else FLOAT_TIP)

        follow(dock.isFloating())
        dock.topLevelChanged.connect(follow)
