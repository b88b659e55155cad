"""Persistent settings: the studio state's preferences, recent files and models, window layout,
the training run started last.

Stored with QSettings. ``SETTINGS_VERSION`` is bumped when the window layout changes in a
way an old saved layout would break; an older stored version drops the saved layout
(geometry and dock state) but keeps preferences and recent lists. A newer stored version
(the file shared with a later release) keeps its layout and its version: this release
neither uses nor overwrites them. A recent list holds at
most its limit, whatever a settings file written by hand or by another version stores.

A settings file that cannot be written (its folder read-only, or on a read-only filesystem) is
said once, at start (:meth:`AppSettings.unwritable`): the studio runs as usual, its preferences,
recent files and layout lasting until it closes, and the file that was there is left as it was.
One that could be written at start but not later (a disk that filled since) is said as the
studio closes (:meth:`AppSettings.not_saved`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from engine.fileio import describe_os_error

from .state import StudioState

SETTINGS_VERSION = 1
MAX_RECENT_FILES = 10
MAX_RECENT_MODELS = 8
ORGANIZATION = "cardiGAN"
APPLICATION = "cardiGAN Studio"


def _version_of(stored) -> int | None:
    """The stored settings version as a number (None when absent; 0 when unreadable, which
    counts as older than any)."""
    if stored is None:
        return None
    try:
        return int(str(stored))
    except ValueError:
        return 0


class AppSettings:
    """QSettings with typed access. ``path`` gives an INI file (tests, portable installs)."""

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            self.qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                       ORGANIZATION, APPLICATION)
        else:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        stored = _version_of(self.qsettings.value("settings_version", None))
        # a newer version's layout is neither read nor replaced, and its version number stays,
        # so that version still finds its own layout when it runs again
        self.layout_is_newer = stored is not None and stored > SETTINGS_VERSION
        if not self.layout_is_newer:
            if stored != SETTINGS_VERSION:
                self.qsettings.remove("window")
            self.qsettings.setValue("settings_version", SETTINGS_VERSION)
        self.said_unwritable = False  # :meth:`unwritable` has said so: closing need not say it again

    def unwritable(self) -> str | None:
        """One line when the settings file cannot be written, naming it and why; None when it can."""
        if self.qsettings.isWritable():
            return None
        self.said_unwritable = True
        file = Path(self.qsettings.fileName())
        return (f"Settings are not kept: {why_not_writable(file)}; preferences, recent files and the "
                "window layout last until the studio closes")

    def not_saved(self) -> str | None:
        """One line, after the last save, when the settings file could not be written, naming
        it and why; None when it was written, or when :meth:`unwritable` said so. QSettings
        keeps the first error it met for good, so a write that failed earlier (a disk full for
        a while) is tried again through a fresh QSettings, whose status is this write's alone."""
        if self.said_unwritable or self.qsettings.status() != QSettings.Status.AccessError:
            return None
        if self._written_afresh():
            return None
        file = Path(self.qsettings.fileName())
        return (f"Settings were not saved: {why_not_writable(file)}; this session's preferences, recent files "
                "and window layout are lost")

    def _written_afresh(self) -> bool:
        """Whether the settings, written again by a new QSettings on the same file, were written."""
        fresh = QSettings(self.qsettings.fileName(), self.qsettings.format())
        mine = set(self.qsettings.allKeys())
        for key in fresh.allKeys():
            if key not in mine:
                fresh.remove(key)
        for key in mine:
            fresh.setValue(key, self.qsettings.value(key))
        fresh.sync()
        return fresh.status() == QSettings.Status.NoError

    # -- preferences: the persisted fields of the studio state ---------------------------
    def stored_preferences(self) -> dict:
        """The stored preference values, as stored (``StudioState.restore`` checks them)."""
        out = {}
        for name in StudioState().preferences():
            raw = self.qsettings.value(f"prefs/{name}", None)
            if raw is not None:
                out[name] = raw
        return out

    def restore_state(self, state: StudioState) -> list[str]:
        """Give ``state`` the stored preferences; returns the damaged entries' names."""
        return state.restore(self.stored_preferences())

    def save_state(self, state: StudioState) -> None:
        for name, value in state.preferences().items():
            self.qsettings.setValue(f"prefs/{name}", value)
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
        return self._list("recent/files")[:MAX_RECENT_FILES]

    def add_recent_file(self, path: Path | str) -> list[str]:
        return self._push("recent/files", str(Path(path).resolve()), MAX_RECENT_FILES)

    def remove_recent_file(self, path: str) -> None:
        self.qsettings.setValue("recent/files", json.dumps([p for p in self.recent_files() if p != path]))

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("recent/files", "[]")

    def recent_models(self) -> list[str]:
        return self._list("recent/models")[:MAX_RECENT_MODELS]

    def add_recent_model(self, spec: str) -> list[str]:
        return self._push("recent/models", spec, MAX_RECENT_MODELS)

    def remove_recent_model(self, spec: str) -> None:
        self.qsettings.setValue("recent/models", json.dumps([m for m in self._list("recent/models") if m != spec]))

    # -- the last training run -----------------------------------------------------------
    def last_training_run(self) -> tuple[Path, Path, float | None] | None:
        """(run folder, data folder, time limit in seconds) of the run the studio started
        last, or None: none, or an entry that is not one."""
        raw = self.qsettings.value("training/last_run", None)
        try:
            entry = json.loads(raw)
            limit = entry.get("time_limit")
            if not (isinstance(entry["run"], str) and isinstance(entry["data"], str)
                    and (limit is None or isinstance(limit, (int, float)))):
                return None
        except (TypeError, ValueError, KeyError, AttributeError):
            return None
        return Path(entry["run"]), Path(entry["data"]), limit

    def set_last_training_run(self, run: Path, data: Path, time_limit: float | None) -> None:
        entry = {"run": str(run), "data": str(data), "time_limit": time_limit}
        self.qsettings.setValue("training/last_run", json.dumps(entry))
        self.qsettings.sync()

    def forget_last_training_run(self) -> None:
        self.qsettings.remove("training/last_run")
        self.qsettings.sync()

    # -- window --------------------------------------------------------------------------
    def _window_value(self, key: str) -> QByteArray | None:
        value = None if self.layout_is_newer else self.qsettings.value(f"window/{key}")
        return value if isinstance(value, QByteArray) else None

    def window_geometry(self) -> QByteArray | None:
        return self._window_value("geometry")

    def window_state(self) -> QByteArray | None:
        return self._window_value("state")

    def splitter_state(self) -> QByteArray | None:
        return self._window_value("splitter")

    def save_window(self, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
        if self.layout_is_newer:
            return
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.setValue("window/splitter", splitter)
        self.qsettings.sync()


def why_not_writable(file: Path) -> str:
    """Why ``file`` cannot be written, as :func:`engine.fileio.describe_os_error` says it:
    found by making its folder and opening it, then writing a file of its size beside it (a
    full disk refuses that)."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        size = file.stat().st_size if file.exists() else 0
        if file.exists():
            file.open("r+b").close()
        with tempfile.TemporaryFile(dir=file.parent) as probe:
            probe.write(b"\0" * max(size, 4096))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return describe_os_error(exc, file)
    return f"{file}: not writable"

