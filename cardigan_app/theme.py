"""A dark Fusion palette: images read better on a dark surround, as in imaging viewers."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# text colours for states, used by every panel and dialog (style sheets take the hex names)
MUTED = "#9aa0a6"  # hints, notes, secondary values
BUSY = "#9ecbff"  # work in progress
OK = "#8fd19e"  # finished well
WARNING = "#e0a040"  # works, but look at this
CAUTION = "#ffd666"  # a choice with a cost (e.g. a slow device)
ERROR = "#ff8a80"  # failed


def text_style(colour: str) -> str:
    """A style sheet that sets the text colour."""
    return f"color: {colour};"


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    base, window, text = QColor(30, 32, 35), QColor(44, 46, 50), QColor(222, 225, 230)
    disabled = QColor(120, 124, 130)
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor(38, 40, 44),
        QPalette.ColorRole.ToolTipBase: QColor(250, 250, 235), QPalette.ColorRole.ToolTipText: QColor(20, 20, 20),
        QPalette.ColorRole.Text: text, QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text, QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Highlight: QColor(42, 110, 180), QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 170, 240), QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Mid: QColor(60, 62, 66), QPalette.ColorRole.Dark: QColor(24, 25, 28),
        QPalette.ColorRole.Light: QColor(70, 72, 76),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(palette)
