"""Persistent settings: typed preferences, recent files and models, window layout.

Stored with QSettings. ``SETTINGS_VERSION`` is bumped when the window layout changes in a
way an old saved layout would break; a different stored version drops the saved layout
(geometry and dock state) but keeps preferences and recent lists.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

SETTINGS_VERSION = 1
MAX_RECENT_FILES = 10
MAX_RECENT_MODELS = 8
ORGANIZATION = "cardiGAN"
APPLICATION = "cardiGAN Studio"


@dataclass
class Preferences:
    """User choices remembered between sessions (one field per setting, with its default)."""

    model: str = ""  # '' = the demo model if bundled, else the simulator
    device: str = "auto"
    seed: int = 0
    brush_diameter: int = 12
    overlay_opacity: float = 0.6
    show_synthesis_under_mask: bool = False
    paint_over: int = -1  # -1: paint over every class; else only over this class id
    square_brush: bool = False
    side_by_side: bool = True
    echo_mode: str = "echo"
    blend: float = 0.4
    variations: bool = True
    template_view: str = "4CH"
    template_phase: str = "ED"
    template_size: int = 256
    dataset_dir: str = ""
    dataset_split: str = "train"


class AppSettings:
    """QSettings with typed access. ``path`` gives an INI file (tests, portable installs)."""

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                       ORGANIZATION, APPLICATION)
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        stored = self.qsettings.value("settings_version", None)
        if stored is not None and str(stored) != str(SETTINGS_VERSION):
            self.qsettings.remove("window")
        self.qsettings.setValue("settings_version", SETTINGS_VERSION)

    @property
    def file_name(self) -> str:
        return self.qsettings.fileName()

    # -- preferences ---------------------------------------------------------------------
    def load_preferences(self) -> Preferences:
        prefs = Preferences()
        for f in dataclasses.fields(Preferences):
            raw = self.qsettings.value(f"prefs/{f.name}", None)
            if raw is None:
                continue
            default = getattr(prefs, f.name)
            try:
                if isinstance(default, bool):
                    value = raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
                else:
                    value = type(default)(raw)
            except (TypeError, ValueError):
                continue  # a damaged entry: keep the default
            setattr(prefs, f.name, value)
        return prefs

    def save_preferences(self, prefs: Preferences) -> None:
        for f in dataclasses.fields(Preferences):
            self.qsettings.setValue(f"prefs/{f.name}", getattr(prefs, f.name))
        self.qsettings.sync()

    # -- recent lists --------------------------------------------------------------------
    def _list(self, key: str) -> list[str]:
        raw = self.qsettings.value(key, "[]")
        try:
            items = json.loads(raw) if isinstance(raw, str) else list(raw)
        except (TypeError, ValueError):
            return []
        return [str(item) for item in items if isinstance(item, str)]

    def _push(self, key: str, item: str, limit: int) -> list[str]:
        items = [item] + [i for i in self._list(key) if i != item]
        self.qsettings.setValue(key, json.dumps(items[:limit]))
        return items[:limit]

    def recent_files(self) -> list[str]:
        return self._list("recent/files")

    def add_recent_file(self, path: Path | str) -> list[str]:
        return self._push("recent/files", str(Path(path).resolve()), MAX_RECENT_FILES)

    def remove_recent_file(self, path: str) -> None:
        self.qsettings.setValue("recent/files", json.dumps([p for p in self.recent_files() if p != path]))

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("recent/files", "[]")

    def recent_models(self) -> list[str]:
        return self._list("recent/models")

    def add_recent_model(self, spec: str) -> list[str]:
        return self._push("recent/models", spec, MAX_RECENT_MODELS)

    def remove_recent_model(self, spec: str) -> None:
        self.qsettings.setValue("recent/models", json.dumps([m for m in self.recent_models() if m != spec]))

    # -- window --------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def splitter_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/splitter")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.setValue("window/splitter", splitter)
        self.qsettings.sync()
