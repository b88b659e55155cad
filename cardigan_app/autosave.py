"""Autosave of the mask being edited, and recovery after a crash.

Each running app owns a session folder ``<root>/session-<id>/`` holding a lock file,
the autosaved masks (``mask-<n>.png``, and ``other-<n>.png`` for the pair's other key frame)
and ``info.json``, which names them, with each key frame's name as the studio gave it and,
for an ES frame autosaved alone beside its saved ED file, that file as it was on disk
(:class:`SavedFile`: recovery opens the two as a pair again while the file is unchanged). ``info.json`` is written last, in one step: a kill in the
middle of an autosave leaves the last whole autosave in force, never a mix of two. A clean
exit removes the folder. A folder whose lock can be taken belongs to an app that is no longer
running (it crashed or was killed): its masks are offered back at the next start. An autosave
found damaged is moved aside to ``<root>/damaged-<id>/``, never deleted.
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

from .document_names import both_names
from .wording import studio_line

INTERVAL_MS = 20_000


def default_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".cardigan") / "autosave"


@dataclass(frozen=True)
class SavedFile:
    """A file as it was on disk: its path, size and time of last change."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path | str) -> "SavedFile | None":
        """``path`` as it is now; None when it cannot be read."""
        try:
            found = Path(path).stat()
        except OSError:
            return None
        return cls(Path(path), found.st_size, found.st_mtime_ns)

    def as_json(self) -> dict:
        return {"path": str(self.path), "size": self.size, "mtime_ns": self.mtime_ns}

    @classmethod
    def from_json(cls, data) -> "SavedFile | None":
        """The file an ``info.json`` records; None when it records none, or nothing usable."""
        try:
            return cls(Path(data["path"]), int(data["size"]), int(data["mtime_ns"]))
        except (KeyError, TypeError, ValueError):
            return None

    def change(self) -> str | None:
        """Why the file is no longer as it was, in words; None when it is."""
        now = SavedFile.of(self.path)
        if now is None:
            return f"{self.path.name} is no longer in {self.path.parent}"
        return None if now == self else f"{self.path.name} changed on disk since the autosave"


@dataclass
class OtherFrame:
    """The other key frame of an autosaved pair: ``key`` (ED or ES), its mask and its file, and
    its name as the studio gave it (None in an autosave that records none)."""

    key: str
    mask_path: Path
    source: str | None
    name: str | None = None

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

    frame: str | None = None  # the key frame ``mask_path`` holds, when it is one of a pair
    name: str | None = None  # its name as the studio gave it (None in an autosave that records none)
    saved_ed: SavedFile | None = None  # an ES frame's saved ED file, when it was autosaved alone beside it

    def load(self) -> tuple[np.ndarray, dict[str, str]]:
        """The label map and the text chunks autosaved with it (fan, heart), the file opened once."""
        return read_label_map_and_text(self.mask_path)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def keep_aside(self) -> Path:
        """Move the autosave (found damaged) out of the way of later starts, under
        ``damaged-<id>`` beside it; returns where it is now (where it was, if it cannot move)."""
        aside = self.folder.with_name("damaged-" + self.folder.name.removeprefix("session-"))
        try:
            self.folder.rename(aside)
        except OSError:
            return self.folder
        return aside

    def describe(self) -> str:
        """What is offered back: the key frames by their names, and when."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        if self.name:
            other = self.other.name if self.other is not None else None
            return f"{both_names(self.name, other) if other else self.name}, autosaved {when}"
        name = Path(self.source).name if self.source else "an unsaved mask"
        if self.other is not None:
            frames = ", its ED and ES key frames"
        elif self.frame is not None:
            frames = f", its {self.frame} key frame"
        else:
            frames = ""
        return f"{name}{frames}, autosaved {when}"


class Autosaver:
    """Writes the current mask into this app's session folder on request."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_folder()
        self.folder = self.root / f"session-{uuid.uuid4().hex[:12]}"
        self._lock: QLockFile | None = None
        self.saved_revision: tuple[int, int] | None = None
        self.last_error = ""
        self._generation = 0  # numbers each autosave's files, so a new one never overwrites the last

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
             other: tuple | None = None, frame: str | None = None, names: tuple[str, str | None] | None = None,
             saved_ed: SavedFile | None = None) -> bool:
        """Write ``labels`` unless ``key`` (what identifies this state of the documents) was
        already saved; ``text`` (the fan and the heart, as Save writes them) goes into the PNG
        with it, ``frame`` is its key frame (ED or ES) when it is one of a pair. ``other`` is the
        pair's other key frame with edits, as (key frame, labels, source, text), kept beside it.
        ``names`` are the two frames' names as the studio gives them (the other's None without
        one), ``saved_ed`` an ES frame's saved ED file when ED has no edits. The files are new
        ones, put in force by ``info.json`` once all are written."""
        if key == self.saved_revision:
            return True
        if not self._ensure_folder():
            return False
        self._generation += 1
        mask, other_mask = f"mask-{self._generation}.png", f"other-{self._generation}.png"
        try:
            write_label_png(self.folder / mask, labels, text)
            if other is not None:
                write_label_png(self.folder / other_mask, other[1], other[3])
            with atomic_path(self.folder / "info.json") as tmp:
                tmp.write_text(json.dumps({
                    "source": str(source) if source else None, "saved_at": time.time(),
                    "shape": list(labels.shape), "mask": mask, "frame": frame, "name": names and names[0],
                    "saved_ed": saved_ed.as_json() if saved_ed is not None else None,
                    "other": None if other is None else {"frame": other[0], "mask": other_mask,
                                                         "source": str(other[2]) if other[2] else None,
                                                         "name": names and names[1]}}))
        except CardiganError as exc:
            self.last_error = studio_line(exc, "autosaving")
            for name in (mask, other_mask):  # the last whole autosave stays in force
                (self.folder / name).unlink(missing_ok=True)
            self._generation -= 1  # the next try writes the same names: a full disk is one message, not one per try
            return False
        self._remove_masks(keep={mask, other_mask})
        self.saved_revision = key
        self.last_error = ""
        return True

    def _remove_masks(self, keep) -> None:
        """Remove the autosaved masks not named in ``keep`` (those of earlier autosaves)."""
        for path in self.folder.glob("*.png"):
            if path.name not in keep:
                path.unlink(missing_ok=True)

    @property
    def mask_path(self) -> Path | None:
        """The mask of the autosave in force, if any."""
        try:
            return self.folder / json.loads((self.folder / "info.json").read_text())["mask"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def discard(self) -> None:
        """Forget the autosaved mask (it was saved for real, or the document was closed)."""
        if self.folder.is_dir():
            self._remove_masks(keep=())  # first: a kill before info.json goes leaves nothing to offer
        (self.folder / "info.json").unlink(missing_ok=True)
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
            try:
                info = json.loads((folder / "info.json").read_text())
            except (OSError, ValueError):
                info = {}
            info = info if isinstance(info, dict) else {}
            mask = _named_mask(folder, info.get("mask"), "mask")
            if mask is None:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            other = info.get("other") if isinstance(info.get("other"), dict) else None
            other_frame = None
            other_mask = _named_mask(folder, other.get("mask"), "other") if other is not None else None
            if other_mask is not None and other.get("frame") in ("ED", "ES"):
                other_frame = OtherFrame(other["frame"], other_mask, other.get("source"), _text(other.get("name")))
            frame = info.get("frame") if info.get("frame") in ("ED", "ES") else None
            found.append(Recovery(folder, mask, info.get("source"),
                                  float(info.get("saved_at") or mask.stat().st_mtime), other_frame, frame,
                                  _text(info.get("name")), SavedFile.from_json(info.get("saved_ed"))))
        return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _text(value) -> str | None:
    """A name ``info.json`` records, when it is one (else None)."""
    return value if isinstance(value, str) and value else None


def _named_mask(folder: Path, name, kind: str) -> Path | None:
    """The autosaved mask ``info.json`` names, else (no ``info.json``: the app died during its
    first autosave; or one written by an earlier release) the newest ``<kind>*.png`` there."""
    if isinstance(name, str) and Path(name).name == name and (folder / name).is_file():
        return folder / name
    found = [path for path in folder.glob(f"{kind}*.png") if path.is_file()]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None
