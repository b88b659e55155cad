"""Icons: qtawesome glyphs for actions, and the app icon shipped in resources/icons."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

ICON_COLOR = "#d0d4da"


@lru_cache(maxsize=None)
def icon(name: str, color: str = ICON_COLOR) -> QIcon:
    """A Material Design icon by name (e.g. ``brush``); an empty icon if it cannot be drawn."""
    try:
        import qtawesome

        return qtawesome.icon(f"mdi6.{name}", color=color, color_disabled="#6a6e75")
    except Exception:  # noqa: BLE001 - icons are decoration; never fail the UI over one
        return QIcon()


def app_icon() -> QIcon:
    from engine.resources import resource_path

    result = QIcon()
    for name in ("cardigan.svg", "cardigan.png"):
        path = resource_path("icons", name)
        if path.is_file():
            result.addFile(str(path))
    return result
