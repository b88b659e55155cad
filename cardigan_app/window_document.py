"""The mask the window edits: which key frame is on screen, what lies under it, and what
follows each change to it.

:class:`WindowDocument` is a base class of :class:`~cardigan_app.main_window.MainWindow` that
holds :meth:`WindowDocument.set_document` (a new, opened or recovered mask becomes the ED key
frame of a new pair, with its real image or the loop it was traced over), the switch between
the key frames (each over its own real image, :class:`~cardigan_app.cine.key_references.KeyReferences`),
the listeners on the document edited (a new image asked of the live synthesis, the loop
marked out of date, the fan shared with the other key frame), and what tells of the document:
the window title, the mask pane's title, the key frames' ejection fraction, the class counts
and Undo and Redo named for their steps. It relies on the window's state, key frames,
timeline, live synthesis, views, panels, commands, autosaver, mask files and real image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QAction

from .actions import keys_in_words
from .cine.key_references import KeyReferences
from .document_names import key_frame_name
from .editing import LabelDocument
from .editing.document import Dirty

APP_NAME = "cardiGAN Studio"


def name_step(action: QAction, verb: str, step: str | None) -> None:
    """Undo or Redo says which step it takes back, in the menu and in the tool bar's tooltip
    alike ("Undo brush stroke (Ctrl+Z)")."""
    words = f"{verb} {step}" if step else verb
    action.setText(f"&{words}")
    keys = keys_in_words(action)
    action.setToolTip(f"{words} ({keys})" if keys else words)


class WindowDocument:
    """The document edited and its key frames, and what follows its changes (a base class of
    the main window)."""

    def set_document(self, document: LabelDocument, reference: np.ndarray | None = None,
                     frames: np.ndarray | None = None, source: Path | None = None) -> None:
        """Edit ``document`` (a new, opened or recovered mask; it becomes the ED key frame of a
        new pair); ``reference`` is its real image, or ``frames`` (T, H, W) the loop it was
        traced over, read from ``source`` (each key frame then has a frame of its own)."""
        if not self.key_frames.owns(document):
            self.files.reader.drop()  # a newer mask wins over a file still being read
            self.key_frames.start(document)
            self.timeline.forget_loop()
        self.references = KeyReferences(reference, frames, source or document.path or "")
        self._edit(document, self.references.image_for(self.key_of(document)))

    def key_of(self, document: LabelDocument) -> str:
        """The key frame ``document`` is: ES when it is the pair's ES frame, else ED."""
        return "ES" if document is self.key_frames.frames["ES"] else "ED"

    def _show_key_frame(self, document: LabelDocument) -> None:
        """The state switched key frames: edit that one (the other keeps its own history),
        over its own real image."""
        self._edit(document, self.references.image_for(self.key_of(document)))

    def _choose_reference_frame(self, frame: int) -> None:
        """The real-image pane's slider: this frame of the loop lies under the key frame edited."""
        key = self.key_of(self.document)
        if self.references.frames is None or self.references.index[key] == frame:
            return
        self.references.choose(key, frame)
        self.under_image.show(self.references.image_for(key))

    def _close_reference(self) -> None:
        self.references = KeyReferences()
        self.under_image.show(None)

    def _edit(self, document: LabelDocument, reference: np.ndarray | None) -> None:
        if document is not self.document:
            self.document.remove_listener(self._mask_changed)
            self.document.remove_history_listener(self._history_changed)
            self.document.remove_meta_listener(self._meta_changed)
            key_frames = getattr(self, "key_frames", None)
            if key_frames is None or document not in key_frames.frames.values():
                self.autosaver.discard()  # another mask; a key-frame switch keeps the pair's autosave
        self.document = document
        self.state.set_document(document)
        document.remove_listener(self._mask_changed)
        document.add_listener(self._mask_changed)
        document.remove_history_listener(self._history_changed)
        document.add_history_listener(self._history_changed)
        document.remove_meta_listener(self._meta_changed)
        document.add_meta_listener(self._meta_changed)
        self.canvas.set_document(document)
        self.anatomy_panel.bind(document)
        for view in (self.echo_view, self.workspace.reference_view):
            view.set_labels(document.labels, list(self.state.visible))
        if self.live.last_result is None or self.live.last_result.document != document.id:
            self.echo_view.set_image(None)
            self.echo_view.set_placeholder("Synthesizing\u2026" if self.live.model else "Loading the model\u2026")
            self.synthesis_panel.clear_variations()  # the last mask's pictures are not this one's
        self.under_image.show(reference)
        self.live.request(document.labels, document.id, document.revision, document.fan, self._anchor_of(document))
        self._refresh_document_ui()
        self.fit_views()

    def _anchor_of(self, document: LabelDocument):
        """The ED key frame's labels when ``document`` is the ES key frame (its still then takes
        the ED still's far field, as the loop between them does), else None."""
        key_frames = getattr(self, "key_frames", None)
        if key_frames is None:
            return None
        frames = key_frames.frames
        if document is frames["ES"] and frames["ED"] is not None and frames["ED"].shape == document.shape:
            return frames["ED"].labels
        return None

    def _mask_changed(self, dirty: Dirty) -> None:
        doc = self.document
        self.live.request(doc.labels, doc.id, doc.revision, doc.fan, self._anchor_of(doc))
        self.timeline.mark_stale()
        self.synthesis_panel.mark_stale()  # the variations shown are of the mask before
        self.echo_view.labels_changed()
        self.workspace.reference_view.labels_changed()
        self.recovery.edited()
        if not self._ui_timer.isActive():
            self._ui_timer.start()

    def _meta_changed(self) -> None:
        """The heart or the fan changed: a new image (the fan is an input), a new title; an
        ES frame not edited yet is made again from ED's new heart."""
        doc = self.document
        self.live.request(doc.labels, doc.id, doc.revision, doc.fan, self._anchor_of(doc))
        self.timeline.mark_stale()
        self.recovery.edited()
        self.synthesis_panel.mark_stale()  # the fan is an input: the variations shown are of the one before
        if doc is self.key_frames.frames["ED"]:
            self.key_frames.follow_ed()  # first: an ES frame made again takes ED's fan and view with it
        self._share_with_other_frame()
        if not self._ui_timer.isActive():
            self._ui_timer.start()

    def _share_with_other_frame(self) -> None:
        """One acquisition of one patient: both key frames share the fan, the view of their
        hearts and the heart itself, whichever sets it. The other frame takes it as an edit of
        its own (saved, undoable; its heart drawn again, at its own phase, its paint kept), once
        the change is done: a slider drag is one step there too, not one per position passed.
        Undo and redo of the change take the other frame's paired step with them
        (:meth:`KeyFrames.share`). A pair that held two hearts and is made one patient says so
        in the status line. What the other frame took is autosaved soon, as an edit of its own
        (the step closed, a slider let go, may hand it over with no change on screen)."""
        if not self.document.in_stroke:
            other = self.key_frames.other_of(self.document)
            revision = other.revision if other is not None else None
            note = self.key_frames.share(self.document)
            if other is not None and other.revision != revision:
                self.recovery.edited()
            if note:  # said once: kept until the user's next message, not covered by a model ready
                self.statusBar().show_note(note)

    def _refresh_document_ui(self) -> None:
        doc = self.document
        paired = self.key_frames.frames["ES"] is not None
        self.setWindowTitle(f"{key_frame_name(doc, self.key_frames.frames)}[*] \u2014 {APP_NAME}")
        # the key frame edited, where the eye is (a window title is easy to miss)
        self.workspace.mask_pane.set_title("Mask", f"{self.state.key_frame} key frame" if paired else "")
        self.anatomy_panel.set_key_frame_ef(self.key_frames.ejection_fraction(), self.key_frames.shared_phase())
        self.anatomy_panel.set_key_frame(self.key_of(doc) if paired else None)
        self.setWindowModified(doc.modified)
        self._history_changed()
        self.palette.set_counts(doc.counts())

    def _history_changed(self) -> None:
        """Undo/Redo follow the history at once, so Ctrl+Z right after a stroke works; a
        stroke that moved the fan or the heart hands it to the other key frame."""
        self._share_with_other_frame()
        doc = self.document
        undo, redo = self.commands["undo"], self.commands["redo"]
        # a polygon being placed: undo takes back its last corner, and says so
        undoes = self.canvas.tool.take_back_description or doc.history.undo_description
        undo.setEnabled(undoes is not None)
        redo.setEnabled(doc.history.can_redo)
        name_step(undo, "Undo", undoes)
        name_step(redo, "Redo", doc.history.redo_description if doc.history.can_redo else None)
        self.recovery.let_go()  # a drag that ended here is autosaved now, the other frame's share with it

    def key_frames_changed(self) -> None:
        """A key frame was given from outside (an ES frame opened beside its ED frame)."""
        self.timeline.mark_stale()
        self._refresh_document_ui()

    def document_saved(self) -> None:
        """A key frame was saved: the autosave keeps only what is still unsaved (the pair's
        other frame), or goes."""
        self.recovery.autosave_now()
        self._refresh_document_ui()
