"""The folder each kind of file dialog last used, remembered between sessions.

Masks, images to trace, models, prepared datasets, exports, run folders and CAMUS sources
each open where the user last went for that kind of file, not in the home folder. The window
installs its settings at start-up; before that (and in scripts) the memory lasts for the
process only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

KINDS = ("masks", "images", "models", "datasets", "exports", "runs", "sources")
_settings: QSettings | None = None
_memory: dict[str, str] = {}


def install(settings: QSettings | None) -> None:
    """Keep remembered folders in ``settings`` (None: in this process only)."""
    global _settings
    _settings = settings


def start_folder(kind: str) -> str:
    """Where a dialog for ``kind`` opens: the last folder used for it, if it still exists."""
    assert kind in KINDS, kind
    stored = _settings.value(f"folders/{kind}", None) if _settings is not None else _memory.get(kind)
    if stored and Path(str(stored)).is_dir():
        return str(stored)
    return str(Path.home())


def remember(kind: str, path: Path | str) -> None:
    """Note the folder of ``path`` (the path itself when it is a folder) for ``kind``."""
    assert kind in KINDS, kind
    path = Path(path)
    folder = str(path if path.is_dir() else path.parent)
    if _settings is not None:
        _settings.setValue(f"folders/{kind}", folder)
    else:
        _memory[kind] = folder
