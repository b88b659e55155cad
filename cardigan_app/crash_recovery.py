"""Edits kept safe from a crash: the key frames with unsaved edits autosaved as the user works,
and offered back at the next start.

:class:`CrashRecovery` owns the autosave timers (every :data:`~cardigan_app.autosave.INTERVAL_MS`,
and :data:`AFTER_EDIT_MS` after an edit, so a crash right after a stroke loses at most those
seconds), what is autosaved (the key frame on screen, and the other one of the pair when it has edits
too, each with its fan and heart), and when: never while a key frame's undo step is still open
(a slider or a brush held down: the pair is then half-way, the frame on screen moved and the
other not yet given its heart), but as soon as it is let go (:meth:`CrashRecovery.let_go`), telling once in the status bar of each new autosave
problem, and the recovery: asking about each mask a crashed app left, and opening the one
the user takes back (a pair as a pair) with its edits unsaved; an ED frame autosaved alone
brings its saved ES file along, as opening its file does. An ES frame autosaved alone,
its ED frame saved, comes back as the ES frame of that ED file, opened again, while the file
is as it was autosaved (:class:`~cardigan_app.autosave.SavedFile`). Else (the file moved or
changed, or an ED frame with no edits and no label PNG: a new heart's, a volume's slice) it
still comes back as the ES key frame, never as the ED frame of a new pair: beside an ED frame
made for it (:func:`~cardigan_app.cine.key_frames.ed_frame_of`: its heart at end-diastole, or
a copy of it), and the status line says so, and why. It relies on the window's
:class:`~cardigan_app.autosave.Autosaver` (``autosaver``: the session folders on disk), its
key frames and document, :class:`~cardigan_app.mask_files.MaskFiles` (``files``: the PNG's
text chunks, the unsaved-edits question) and ``set_document``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from engine.anatomy.heart import heart_in_record
from engine.errors import CardiganError

from .autosave import INTERVAL_MS, SavedFile
from .cine.key_frames import ed_frame_of
from .dialogs.prompts import Choice, ask_recovery
from .editing import LabelDocument
from .mask_reading import read_mask_file
from .wording import studio_line

if TYPE_CHECKING:
    from .main_window import MainWindow

AFTER_EDIT_MS = 2_000  # an edit is autosaved this long after it (once for a burst of edits)


class CrashRecovery:
    """Autosave of the window's key frames on a timer, and their recovery after a crash."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._error_shown = ""  # the autosave problem the status bar last told of
        self._timer = QTimer(window, interval=INTERVAL_MS)
        self._timer.timeout.connect(self.autosave_now)
        self._timer.start()
        self.after_edit = QTimer(window, interval=AFTER_EDIT_MS, singleShot=True)
        self.after_edit.timeout.connect(self.autosave_now)
        self._waiting = False  # an autosave came due while a drag was held: made when it is let go

    @property
    def autosaver(self):
        return self.window.autosaver

    def stop(self) -> None:
        """No more autosaves (the window is closing)."""
        self._timer.stop()
        self.after_edit.stop()

    def edited(self) -> None:
        """A key frame changed: autosave it shortly (a burst of edits, a stroke or a slider
        drag, is autosaved once, :data:`AFTER_EDIT_MS` after its first change)."""
        if not self.after_edit.isActive():
            self.after_edit.start()

    def held(self) -> bool:
        """Whether a key frame's undo step is open: a slider or a brush held down, mid-drag."""
        frames = [self.window.document, *self.window.key_frames.frames.values()]
        return any(doc is not None and doc.in_stroke for doc in frames)

    def let_go(self) -> None:
        """A drag may have ended: the autosave that came due while it was held is made now,
        the pair whole again (the other key frame has taken the heart)."""
        if self._waiting and not self.held():
            self.autosave_now()

    def autosave_now(self) -> bool:
        """Autosave the key frame with unsaved edits (the one on screen first), with its fan and
        heart; with none, forget the last autosave (its edits were saved or undone). While a
        drag is held nothing is written (False) until :meth:`let_go`: the last autosave stays
        in force."""
        window = self.window
        self._waiting = self.held()
        if self._waiting:
            return False
        edited = window.key_frames.edited(window.document)  # the one on screen first
        if not edited:
            self.autosaver.discard()
            return False
        (frame, doc), others = edited[0], edited[1:]
        other = None
        if others:  # both key frames have edits: both are kept
            key, o = others[0]
            other = (key, o.labels, o.path, window.files.png_text(o))
        state = tuple((d.id, d.revision) for _, d in edited)
        frames = window.key_frames.frames
        paired = frames["ES"] is not None
        names = (window.files.frame_name(doc), window.files.frame_name(others[0][1]) if others else None)
        ed = frames["ED"]
        saved_ed = (SavedFile.of(ed.path) if paired and frame == "ES" and not others and ed.path is not None
                    and ed.path.suffix.lower() == ".png" else None)
        saved = self.autosaver.save(doc.labels, doc.path, state, window.files.png_text(doc), other,
                                    frame if paired else None, names, saved_ed)
        error = self.autosaver.last_error
        if error and error != self._error_shown:  # said once per new problem, not every 20 s
            window.statusBar().showMessage(f"Autosave failed: {error}", 15000)
        self._error_shown = error
        return saved

    def offer(self) -> bool:
        """Offer back masks autosaved by an app that crashed; True when one was recovered."""
        window = self.window
        for recovery in self.autosaver.find_recoveries():
            choice = ask_recovery(window, recovery.describe())
            if choice == Choice.CANCEL:
                continue
            if choice == Choice.DISCARD:
                recovery.discard()
                continue
            if not window.files.confirm_discard("recovering the autosaved mask"):
                return False
            try:
                labels, text = recovery.load()
            except Exception as exc:  # noqa: BLE001 - a damaged autosave is reported, not fatal
                kept = recovery.keep_aside()  # never offered again, never deleted
                QMessageBox.warning(window, "Cannot recover", f"{studio_line(exc, 'recovering the autosaved mask')}; "
                                    f"what was autosaved is kept in {kept}")
                continue
            document = self._recovered(labels, text, recovery.source, recovery.saved_at, recovery.mask_path)
            other, other_problem = None, ""
            if recovery.other is not None:
                try:
                    other_labels, other_text = recovery.other.load()
                except CardiganError as exc:
                    other_labels, other_problem = None, studio_line(exc)
                if other_labels is not None and other_labels.shape != labels.shape:
                    other_problem = (f"{recovery.other.mask_path}: {other_labels.shape[1]} \u00d7 "
                                     f"{other_labels.shape[0]}, not the size of the key frame recovered")
                elif other_labels is not None:
                    other = self._recovered(other_labels, other_text, recovery.other.source, recovery.saved_at,
                                            recovery.other.mask_path)
            made = ""  # what the ED frame made for an ES frame recovered alone is, and why it was made
            es_notes: list[str] = []  # what opening an ED frame's saved ES file found
            if other is not None and recovery.other.key == "ED":  # the pair's ED frame starts the pair
                window.set_document(other)
                window.key_frames.frames["ES"] = document
            elif other is None and recovery.frame == "ES":
                made = self._beside_saved_ed(document, recovery.saved_ed,
                                             "its ED key frame could not be recovered" if other_problem else None)
            else:
                window.set_document(document)
                if other is not None:
                    window.key_frames.frames["ES"] = other
                elif recovery.frame == "ED" and document.path is not None:  # its ES frame was saved
                    window.files.open_es_beside(document.path, document, es_notes.append)
            if other is not None:
                window.key_frames_changed()
            if other_problem:  # the frame that could not be read is kept, never deleted
                QMessageBox.warning(window, "Cannot recover the other key frame",
                                    f"The {recovery.other.key} key frame was not recovered: {other_problem}; "
                                    f"what was autosaved is kept in {recovery.keep_aside()}")
            else:
                recovery.discard()
            self.autosave_now()
            if made:
                window.statusBar().show_note(f"Recovered {recovery.describe()}; {made}")
            else:
                said = "".join(f"; {note}" for note in es_notes)
                window.statusBar().showMessage(f"Recovered {recovery.describe()}{said}", 10000)
            return True
        return False

    def _beside_saved_ed(self, es: LabelDocument, saved: SavedFile | None, lost: str | None = None) -> str:
        """Open the ED file ``saved`` again with the recovered ``es`` as its ES key frame, shown,
        and return "". With no such file, or one no longer as it was autosaved (moved, changed,
        unreadable or of another size), ``es`` comes back as the ES key frame beside an ED
        frame made for it (:meth:`_beside_made_ed`); returns what happened, and why, in words
        (``lost``: why no ED frame came back, when its autosave was there but unreadable)."""
        window = self.window
        problem = saved.change() if saved is not None else lost or "its ED key frame had no edits to autosave"
        if not problem:
            try:
                read = read_mask_file(saved.path)
            except CardiganError as exc:
                read, problem = None, studio_line(exc)
            if read is not None and read.labels.shape != es.shape:
                problem = f"{saved.path.name} is no longer the size of the ES key frame"
        if problem:
            return f"{problem}, so {self._beside_made_ed(es, saved and f'pair of {saved.path.name}')}"
        window.files.show_mask(saved.path, read)
        window.key_frames.frames["ES"] = es  # in place of an ES file opened beside it: the edits are newer
        window.key_frames_changed()
        window.state.set("key_frame", "ES")
        return ""

    def _beside_made_ed(self, es: LabelDocument, origin: str | None = None) -> str:
        """Show ``es`` as the ES key frame of an ED frame made for it (its heart at end-diastole,
        or a copy of it), the pair named by ``origin`` while it holds no heart (default: the
        recovered mask's); returns what that ED frame is, in words."""
        window = self.window
        ed = ed_frame_of(es)
        ed.origin = origin or ed.origin
        window.set_document(ed)
        window.key_frames.frames["ES"] = es
        window.key_frames_changed()
        window.state.set("key_frame", "ES")
        if heart_in_record(ed.anatomy) is not None:
            return "the ED key frame was made again from its heart"
        return "the ED key frame is a copy of it, to widen to end-diastole"

    def _recovered(self, labels, text: dict[str, str], source: str | None, saved_at: float,
                   autosaved: Path) -> LabelDocument:
        """A recovered mask: its fan and heart as autosaved (``text``, the PNG's text chunks read
        with ``labels``), its edits unsaved, and Save going
        to ``source`` only when that is a label PNG not written since the autosave (else Save
        asks for a name: a newer file is never overwritten)."""
        path = Path(source) if source else None
        if path is not None and (path.suffix.lower() != ".png"
                                 or (path.exists() and path.stat().st_mtime > saved_at)):
            path = None
        document = LabelDocument(labels, path=path, origin="recovered mask")
        self.window.files.take_png_text(document, text, autosaved.name)
        document.mark_modified()
        return document
