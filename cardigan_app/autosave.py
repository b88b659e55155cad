"""Autosave of the mask being edited, and recovery after a crash.

Each running app owns a session folder ``<root>/session-<id>/`` holding a lock file,
``mask.png`` and ``info.json``. A clean exit removes the folder. A folder whose lock can
be taken belongs to an app that is no longer running (it crashed or was killed): its mask
is offered back at the next start.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QLockFile, QStandardPaths

from engine.errors import CardiganError
from engine.fileio import atomic_path
from engine.maskio import read_label_map_and_text, write_label_png

from .wording import studio_line

INTERVAL_MS = 20_000


def default_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".cardigan") / "autosave"


@dataclass
class OtherFrame:
    """The other key frame of an autosaved pair: ``key`` (ED or ES), its mask and its file."""

    key: str
    mask_path: Path
    source: str | None

    def load(self) -> tuple[np.ndarray, dict[str, str]]:
        """Its label map and the text chunks autosaved with it (fan, heart), the file opened once."""
        return read_label_map_and_text(self.mask_path)


@dataclass
class Recovery:
    """An autosave left behind by an app that did not exit cleanly."""

    folder: Path
    mask_path: Path
    source: str | None  # the file the mask was opened from or saved to, if any
    saved_at: float
    other: "OtherFrame | None" = None  # the pair's other key frame, when it had edits too

    def load(self) -> tuple[np.ndarray, dict[str, str]]:
        """The label map and the text chunks autosaved with it (fan, heart), the file opened once."""
        return read_label_map_and_text(self.mask_path)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        name = Path(self.source).name if self.source else "an unsaved mask"
        both = " with its other key frame" if self.other is not None else ""
        return f"{name}{both}, autosaved {when}"


class Autosaver:
    """Writes the current mask into this app's session folder on request."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_folder()
        self.folder = self.root / f"session-{uuid.uuid4().hex[:12]}"
        self._lock: QLockFile | None = None
        self.saved_revision: tuple[int, int] | None = None
        self.last_error = ""

    def _ensure_folder(self) -> bool:
        if self._lock is not None:
            return True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.last_error = f"{self.folder}: cannot autosave ({exc.strerror})"
            return False
        self._lock = QLockFile(str(self.folder / "lock"))
        self._lock.setStaleLockTime(0)  # a lock is only stale when its owner is gone
        if not self._lock.tryLock(100):
            self._lock = None
            self.last_error = f"{self.folder}: cannot lock the autosave folder"
            return False
        return True

    def save(self, labels: np.ndarray, source: Path | None, key: tuple, text: dict[str, str] | None = None,
             other: tuple | None = None) -> bool:
        """Write ``labels`` unless ``key`` (what identifies this state of the documents) was
        already saved; ``text`` (the fan and the heart, as Save writes them) goes into the PNG
        with it. ``other`` is the pair's other key frame with edits, as (key frame, labels,
        source, text), kept beside it."""
        if key == self.saved_revision:
            return True
        if not self._ensure_folder():
            return False
        try:
            write_label_png(self.folder / "mask.png", labels, text)
            if other is not None:
                write_label_png(self.folder / "other.png", other[1], other[3])
            else:
                (self.folder / "other.png").unlink(missing_ok=True)
            with atomic_path(self.folder / "info.json") as tmp:
                tmp.write_text(json.dumps({
                    "source": str(source) if source else None, "saved_at": time.time(),
                    "shape": list(labels.shape),
                    "other": None if other is None else {"frame": other[0],
                                                         "source": str(other[2]) if other[2] else None}}))
        except CardiganError as exc:
            self.last_error = studio_line(exc, "autosaving")
            return False
        self.saved_revision = key
        self.last_error = ""
        return True

    def discard(self) -> None:
        """Forget the autosaved mask (it was saved for real, or the document was closed)."""
        for name in ("mask.png", "other.png", "info.json"):
            (self.folder / name).unlink(missing_ok=True)
        self.saved_revision = None

    def close(self) -> None:
        """A clean exit: remove the session folder."""
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def find_recoveries(self) -> list[Recovery]:
        """Autosaves of apps that are no longer running, newest first."""
        found = []
        if not self.root.is_dir():
            return found
        for folder in self.root.glob("session-*"):
            if folder == self.folder or not folder.is_dir():
                continue
            lock = QLockFile(str(folder / "lock"))
            lock.setStaleLockTime(0)
            if not lock.tryLock(0):
                continue  # another running app owns it
            lock.unlock()
            mask = folder / "mask.png"
            if not mask.is_file():
                shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                info = json.loads((folder / "info.json").read_text())
            except (OSError, ValueError):
                info = {}
            other = info.get("other") if isinstance(info.get("other"), dict) else None
            other_frame = None
            if other is not None and (folder / "other.png").is_file() and other.get("frame") in ("ED", "ES"):
                other_frame = OtherFrame(other["frame"], folder / "other.png", other.get("source"))
            found.append(Recovery(folder, mask, info.get("source"),
                                  float(info.get("saved_at") or mask.stat().st_mtime), other_frame))
        return sorted(found, key=lambda r: r.saved_at, reverse=True)
