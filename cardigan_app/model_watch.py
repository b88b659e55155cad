"""Notice when the model file the studio draws with is rewritten on disk.

A training run writes its ``model.safetensors`` again at every checkpoint, and ``cardigan
tune`` may rewrite a model in place; the studio then reloads it, as an editor reloads a file
changed behind it, so a run's model can be watched improving while it trains. Files are
written by renaming a finished temporary file over the old one, which takes the old file
out of a file watch: the folder is watched as well, and a change counts once the file's
size and modification time differ from the loaded one's and have stayed so for a moment
(a copy still being written is not loaded half-way). The loaded file's stamp is the one
taken before it was read, so a file replaced while it was loading is loaded again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from .synthesis.jobs import file_stamp as stamp

SETTLE_MS = 400  # the file must look the same for this long before it is reloaded


class ModelFileWatcher(QObject):
    changed = Signal(str)  # the watched model file, rewritten and settled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._poke)
        self._watcher.directoryChanged.connect(self._poke)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._check)
        self.path: Path | None = None
        self._loaded: tuple[int, int] | None = None
        self._seen: tuple[int, int] | None = None

    def watch(self, path: Path | str | None, loaded: tuple[int, int] | None = None) -> None:
        """Watch ``path`` (the model file just loaded), or nothing for None or a built-in;
        ``loaded`` is the file's stamp when it was read (None: as it is now)."""
        self._settle.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        self.path = Path(path) if path is not None else None
        now = stamp(self.path) if self.path is not None else None
        if now is None:
            self.path = None
            return
        self._loaded = loaded if loaded is not None else now
        self._watcher.addPath(str(self.path))
        self._watcher.addPath(str(self.path.parent))
        if now != self._loaded:  # rewritten while it was loading
            self._poke(str(self.path))

    def _poke(self, _changed: str) -> None:
        if self.path is not None:
            self._seen = stamp(self.path)
            self._settle.start()

    def _check(self) -> None:
        if self.path is None:
            return
        now = stamp(self.path)
        if now != self._seen:  # still being written: look again a moment later
            self._seen = now
            self._settle.start()
            return
        if str(self.path) not in self._watcher.files() and now is not None:
            self._watcher.addPath(str(self.path))  # a rename took the old file out of the watch
        if now is not None and now != self._loaded:
            self._loaded = now
            self.changed.emit(str(self.path))
