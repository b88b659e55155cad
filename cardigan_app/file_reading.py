"""Reading a large file (a DICOM cine, a NIfTI loop) off the GUI thread.

A file of up to :data:`READ_AT_ONCE_BYTES` (a DICOM file: its frames decoded; a NIfTI or
MetaImage file: its voxels; a loop's HDF5 file: its datasets) is read where it is asked for: it
takes a blink, and the caller gets its answer at once. A larger one is read on a worker thread
while the window stays live, with a busy cursor and a status line that gives its size on
disk (a MetaImage header's with its data file's) and, when known and larger, what it holds
decoded (:func:`reading_line`). An HDF5 file is not opened
to be sized: :func:`read_here` reads it under :func:`engine.cine.writers.decoded_at_most`, so
the open that reads a small loop is the one that finds a large one too large, which then goes
to the worker thread. A DICOM file named as a picture (``scan.png``: its name says no DICOM,
so its file alone sized it) is sized by its header once the read finds it is DICOM, and a
cine that decodes to more goes to the worker thread alike. One read runs at a time; asking
for another supersedes it, and the older result is dropped when it arrives.

The mask may change while a file is read. Opening or making another mask meanwhile (a small
file read at once, File > New) wins: the window calls :meth:`FileReader.drop`, so the busy
cursor and the read's status line end with it and the read's result, when it comes, is ignored.
A caller also takes a :class:`Stamp` of the mask (both key frames) as it was; when the result
arrives, :meth:`Stamp.same_document` says whether another mask came meanwhile all the same
(the result is then dropped) and :meth:`Stamp.edited` whether the user edited either key frame
(the caller asks again before replacing it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from engine.cine.writers import LoopTooLarge, decoded_at_most, frames_loop_bytes, frames_loop_folder
from engine.data.dicom_echo import decoded_bytes, is_dicom_file
from engine.data.metaimage import data_file_size
from engine.data.volume_checks import volume_data_bytes
from engine.errors import Words
from engine.units import format_bytes

from .tasks import BackgroundTask
from .wording import studio_words

if TYPE_CHECKING:
    from .editing import LabelDocument
    from .main_window import MainWindow

READ_AT_ONCE_BYTES = 8 * 1000**2  # 8 MB, as the status line and the README say sizes (engine.units)
# files named as one of these formats are not looked into for a DICOM marker (one open less)
NOT_DICOM_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".nii", ".nii.gz", ".nrrd", ".nhdr",
                      ".mhd", ".mha", ".h5", ".hdf5", ".itksnap")


def read_at_once(path: Path, sizes: Callable[[Path], int | None] | None = None) -> bool:
    """True when ``path`` is small enough to read on the GUI thread (or cannot be sized: the
    read itself then says what is wrong). A DICOM file is sized by its decoded frames (a
    JPEG cine of a few megabytes decodes to hundreds), a NIfTI file by the voxels its header
    gives (a compressed loop's masks, a few megabytes, can hold hundreds), a MetaImage ``.mhd``
    by the voxels it describes (the header is tiny; its ``.raw`` or ``.zraw`` holds them), a
    loop's PNG frames (its folder or one of its label frames) by all its frames together. A
    loop's HDF5 file passes by its size on disk: the read itself sizes its datasets
    (:func:`read_here`). ``sizes`` finds what a file holds decoded (default
    :func:`decoded_size`; :class:`DecodedSizes` to find it once for the status line too)."""
    if frames_loop_folder(path) is None:
        try:
            if path.stat().st_size > READ_AT_ONCE_BYTES:
                return False
        except OSError:
            return True
    decoded = (sizes or decoded_size)(path)
    return decoded is None or decoded <= READ_AT_ONCE_BYTES


def decoded_size(path: Path) -> int | None:
    """How many bytes ``path`` holds once decoded, told without reading its data: a PNG-frames
    loop's frames (its folder or one of its label frames), a NIfTI or MetaImage file's voxels,
    a DICOM file's frames; None for anything else (an HDF5 loop is sized by the read itself,
    :func:`read_here`) or a file that cannot be sized."""
    loop = frames_loop_folder(path)
    if loop is not None:
        return frames_loop_bytes(loop)
    decoded = volume_data_bytes(path)
    if decoded is None and not path.name.lower().endswith(NOT_DICOM_SUFFIXES) and is_dicom_file(path):
        decoded = decoded_bytes(path)
    return decoded


class DecodedSizes:
    """:func:`decoded_size` of each file one open reads, found once however often it is asked
    (by :func:`read_at_once`, then by a background read's :func:`reading_line`); a loop's label
    frame and its folder are one loop."""

    def __init__(self) -> None:
        self._found: dict[Path, int | None] = {}

    def __call__(self, path: Path) -> int | None:
        key = frames_loop_folder(path) or Path(path)
        if key not in self._found:
            self._found[key] = decoded_size(key)
        return self._found[key]


def size_on_disk(path: Path) -> int:
    """The bytes ``path`` takes on disk: a file's, all the frames of a PNG-frames loop's
    folder, a MetaImage header's with its ``.raw`` or ``.zraw`` data file's; 0 for what
    cannot be sized."""
    try:
        if path.is_dir():
            return sum(file.stat().st_size for file in path.rglob("*.png") if file.is_file())
        size = path.stat().st_size
    except OSError:
        return 0
    return size + (data_file_size(path) or 0) if path.name.lower().endswith(".mhd") else size


def reading_line(path: Path, files: list[Path], decoded: int | None = None,
                 sizes: Callable[[Path], int | None] | None = None) -> str:
    """The status line of a background read of ``files`` for ``path``: their size on disk,
    and what they hold decoded when that is known and more (a compressed loop of a few
    megabytes can decode to hundreds). ``decoded``: what the read found already (an HDF5
    loop's datasets), else each file is sized by ``sizes`` (default :func:`decoded_size`)."""
    files = list(dict.fromkeys(frames_loop_folder(file) or file for file in files))  # a loop's file or folder once
    on_disk = sum(size_on_disk(file) for file in files)
    if decoded is None:
        found = [(sizes or decoded_size)(file) for file in files]
        if any(size is not None for size in found):
            decoded = sum(size_on_disk(file) if size is None else size for size, file in zip(found, files))
    if decoded is None or decoded <= on_disk or format_bytes(decoded) == format_bytes(on_disk):
        return f"Reading {path.name} ({format_bytes(on_disk)})\u2026"
    return f"Reading {path.name} ({format_bytes(on_disk)} on disk, {format_bytes(decoded)} decoded)\u2026"


class TooLargeHere(Exception):
    """A read tried at once found a file too large for the window's thread (an HDF5 loop
    whose datasets :func:`read_at_once` could not size without opening it; ``decoded``: the
    bytes they hold)."""

    def __init__(self, decoded: int | None = None) -> None:
        super().__init__(decoded)
        self.decoded = decoded


def read_here(work: Callable[[], Any]) -> Any:
    """``work()`` on this thread, for files :func:`read_at_once` passed; :class:`TooLargeHere`,
    before its data is read, when an HDF5 loop it opens holds more than
    :data:`READ_AT_ONCE_BYTES`."""
    try:
        with decoded_at_most(READ_AT_ONCE_BYTES):
            return work()
    except LoopTooLarge as exc:
        raise TooLargeHere(exc.decoded) from None


@dataclass(frozen=True)
class Stamp:
    """The mask a read was asked over (its key frames, ED and ES when there is one) and their
    revisions then: the read's file replaces both, so an edit of either counts."""

    frames: tuple[tuple[str, LabelDocument, int], ...]

    @classmethod
    def of(cls, window) -> Stamp:
        key_frames = window.key_frames.frames
        return cls(tuple((key, doc, doc.revision) for key, doc in key_frames.items() if doc is not None))

    def same_document(self, window) -> bool:
        """Whether the window still shows the same mask (either of its key frames)."""
        ed = next(doc for key, doc, _ in self.frames if key == "ED")
        return window.key_frames.frames.get("ED") is ed

    def edited(self, window) -> bool:
        """Whether either key frame was edited since (an ES made since counts when it has edits)."""
        then = {key: (doc, revision) for key, doc, revision in self.frames}
        for key, doc in window.key_frames.frames.items():
            if doc is None:
                continue
            if key not in then or then[key][0] is not doc:
                if doc.modified:
                    return True
            elif doc.revision != then[key][1]:
                return True
        return False


class FileReader:
    """The window's one background read."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._task: BackgroundTask | None = None
        self._token = 0
        self._busy_cursor = False
        self._message = ""  # the status line the read in progress shows
        # what waits for the read in progress to be shown, and what follows instead when it is not
        # and what is told when the read is let go for another file
        self._then_shown: list[tuple[Callable[[], Any], Callable[[], Any] | None, Callable[[], Any] | None]] = []
        self.reading: Path | None = None

    @property
    def busy(self) -> bool:
        return self.reading is not None

    @property
    def current_read(self) -> int | None:
        """Which read is in progress (a number no other read has), None when none is."""
        return self._token if self.busy else None

    def when_shown(self, then: Callable[[], Any], otherwise: Callable[[], Any] | None = None,
                   let_go: Callable[[], Any] | None = None) -> None:
        """Call ``then()`` once the read in progress has ended well: its result read and shown
        (``done`` answered True); ``otherwise()`` instead when the read fails or its result is
        not shown (another mask came meanwhile, the user kept their edits); ``let_go()``
        instead when the read is superseded by another or dropped for another mask (not when
        the window closes)."""
        self._then_shown.append((then, otherwise, let_go))

    def _let_go(self) -> None:
        """Forget what waits for the read in progress, telling each ``let_go`` it will not come."""
        waiting, self._then_shown = self._then_shown, []
        for _then, _otherwise, let_go in waiting:
            if let_go is not None:
                let_go()

    def read(self, path: Path, work: Callable[[], Any], done: Callable[[Any], None],
             failed: Callable[[str], None], files: list[Path] | None = None, decoded: int | None = None,
             words: Words | None = None, sizes: Callable[[Path], int | None] | None = None) -> None:
        """Run ``work()`` on a worker thread; ``done(result)`` or ``failed(one_line)`` follows
        on the GUI thread, unless another read was asked for meanwhile; the line says advice in
        the studio's words, with ``words`` first. The status line names ``path`` and the size of
        ``files`` (default: ``path``) as :func:`reading_line` gives it (``sizes``: how a file's
        decoded size is found, :class:`DecodedSizes` when the caller sized them already)."""
        self._token += 1
        token = self._token
        if self._task is not None:
            self._task.cancel()
        task = BackgroundTask(lambda _progress, _stop: work(), f"reading {path.name}", self.window,
                              studio_words(words))
        task.succeeded.connect(lambda result: self._finish(token, lambda: done(result)))
        task.failed.connect(lambda message: self._finish(token, lambda: failed(message), shown=False))
        self._let_go()
        self._task, self.reading = task, path
        if not self._busy_cursor:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._busy_cursor = True
        self._message = reading_line(path, files or [path], decoded, sizes)
        self.window.statusBar().showMessage(self._message)
        task.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running read's thread ends (tests); its result still comes queued."""
        return self._task.wait(timeout) if self._task is not None else True

    def _finish(self, token: int, then: Callable[[], Any], shown: bool = True) -> None:
        """``then()`` for the read ``token`` unless it was superseded; what waits for it to
        be shown follows when ``shown`` (it succeeded) and ``then`` answered True."""
        if token != self._token:
            return  # superseded: a newer read owns the cursor and the status line
        waiting, self._then_shown = self._then_shown, []
        self._task, self.reading = None, None
        self._restore_cursor()
        self._clear_message()
        ended_well = bool(then()) and shown
        for after, otherwise, _let_go in waiting:
            if ended_well:
                after()
            elif otherwise is not None:
                otherwise()

    def _clear_message(self) -> None:
        """Take the read's status line away, unless something newer has replaced it."""
        if self._message and self.window.statusBar().currentMessage() == self._message:
            self.window.statusBar().clearMessage()
        self._message = ""

    def _restore_cursor(self) -> None:
        if self._busy_cursor:
            QGuiApplication.restoreOverrideCursor()
            self._busy_cursor = False

    def drop(self) -> None:
        """Let the read in progress go (a newer mask was opened or made, or the window is
        closing): its result is ignored when it arrives; the busy cursor and the read's status
        line end now."""
        self._token += 1
        if self._task is not None:
            self._task.cancel()
        self._task, self.reading = None, None
        self._restore_cursor()
        self._clear_message()
        self._let_go()

    def shutdown(self) -> None:
        """Let the read in progress go as the window closes: what waits for it is not told."""
        self._then_shown = []
        self.drop()
