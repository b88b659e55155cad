"""Saving the window's mask as a label PNG: Save and Save As, the name suggested for a pair's ES
key frame beside its ED frame, and the text chunks (fan and heart) a label PNG carries and gives
back. Save never writes over a prepared dataset's label map (its ground truth) without asking
first, once per file; Save As suggests the masks folder rather than the dataset's. :class:`MaskSaving` is the saving half of :class:`cardigan_app.mask_files.MaskFiles`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from engine.anatomy.heart import ANATOMY_KEY
from engine.data.layout import is_dataset_image, is_dataset_label
from engine.errors import CardiganError
from engine.fan import FAN_KEY, fan_from_text, view_of_name
from engine.maskio import MASKS_MARK, TRACED_FRAME_KEY, is_volume_file, mask_name_stem, write_label_png

from .dialogs.prompts import DatasetSave, ask_overwrite_dataset_label, show_error
from .document_names import es_stem, file_stem, key_frame_name, key_of
from .editing import LabelDocument
from .mask_reading import anatomy_in_png_text
from .wording import studio_line

if TYPE_CHECKING:
    from .main_window import MainWindow

PNG_FILTER = "Label PNG (*.png)"


def spacing_dropped_note(document: LabelDocument) -> str | None:
    """What saving ``document`` as a label PNG loses, said once: the spacing of the volume it
    was read from (a PNG records none), when it is saved from that volume rather than from a
    PNG saved before; None when nothing is lost."""
    geometry = document.geometry
    if geometry is None or (document.path is not None and document.path.suffix.lower() == ".png"):
        return None
    across, down = geometry.spacing[:2]
    return f"PNG keeps no spacing: export as NIfTI to keep {across:.2f} \u00d7 {down:.2f} mm"


def traced_mask_stem(image: Path, es: bool = False) -> str:
    """The stem Save first offers for a mask traced over ``image``: the image's with ``_gt``, as
    CAMUS names its ground truth and as opening a mask looks for its image beside it
    (``echo.png`` -> ``echo_gt``); for the ES key frame, where Save puts a pair's ES frame beside
    that ED file (``echo_gt_ES``)."""
    name = image.name
    stem = mask_name_stem(name)
    stem = f"{Path(stem).stem if stem == name else stem}{MASKS_MARK}"
    return es_stem(Path(f"{stem}.png")) if es else stem


class MaskSaving:
    """Save and Save As for :class:`~cardigan_app.mask_files.MaskFiles`, which gives them the
    ``window``, its ``document`` and the masks folder (``_start_dir``, ``_remember_dir``)."""

    window: MainWindow
    document: LabelDocument
    dataset_labels_to_overwrite: set[Path]  # dataset label maps the user chose to write over

    def save(self, document: LabelDocument | None = None) -> bool:
        """Save ``document`` (the key frame on screen by default) to its PNG, or ask for a name.
        A prepared dataset's label map is written over only when the user says so (asked once
        for each file); they may save it elsewhere instead."""
        document = self.document if document is None else document
        path = document.path
        if path is None or is_volume_file(path) or path.suffix.lower() != ".png":
            return self.save_as(document)
        if is_dataset_label(path) and path not in self.dataset_labels_to_overwrite:
            choice = ask_overwrite_dataset_label(self.window, path)
            if choice == DatasetSave.SAVE_AS:
                return self.save_as(document)
            if choice == DatasetSave.CANCEL:
                return False
            self.dataset_labels_to_overwrite.add(path)
        return self._write(path, document)

    def save_as(self, document: LabelDocument | None = None) -> bool:
        """Ask where to save ``document`` (the key frame on screen by default), suggesting its
        name (:func:`file_stem`) beside its file, an ES frame's beside its ED frame's; in the
        masks folder when that file is a prepared dataset's label map (the dataset stays as it is)."""
        document = self.document if document is None else document
        frames = self.window.key_frames.frames
        beside = document if document.path is not None or key_of(document, frames) != "ES" else frames["ED"]
        mine = beside.path is not None and not is_dataset_label(beside.path)
        folder = beside.path.parent if mine else Path(self._start_dir())  # ES beside its ED
        stem = file_stem(document, frames)
        traced = self.window.references.source if beside.path is None else None
        if traced is not None:  # a mask traced over an image of one's own: beside that image
            folder = Path(self._start_dir()) if is_dataset_image(traced) else traced.parent
            stem = traced_mask_stem(traced, key_of(document, frames) == "ES")
        suggestion = str(folder / f"{stem}.png")
        title = f"Save {key_frame_name(document, frames)} as"
        name, _ = QFileDialog.getSaveFileName(self.window, title, suggestion, PNG_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        return self._write(path, document)

    @staticmethod
    def _es_name(ed_path: Path) -> str:
        """Where a pair's ES frame goes beside its ED frame ``ed_path``: ED replaced by ES in
        the name (``p_4CH_ED.png`` -> ``p_4CH_ES.png``), else ``_ES`` added."""
        return str(ed_path.parent / f"{es_stem(ed_path)}.png")

    @staticmethod
    def png_text(document: LabelDocument) -> dict[str, str]:
        """The text chunks a label PNG of ``document`` carries: its fan and, when it has one, its heart."""
        text = {FAN_KEY: document.fan.to_json()}
        if document.anatomy:
            text[ANATOMY_KEY] = json.dumps(document.anatomy)
        return text

    @staticmethod
    def take_png_text(document: LabelDocument, text: dict[str, str], name: str) -> None:
        """Give ``document`` the fan and heart of a label PNG's text chunks ``text`` (the file
        ``name``: a fan it does not carry is its view's)."""
        document.anatomy, _ = anatomy_in_png_text(text)
        document.fan, _ = fan_from_text(text, view_of_name(name))

    def _traced_frame_text(self, document: LabelDocument) -> dict[str, str]:
        """The text chunk recording the frame of the loop under the window that ``document``, a
        key frame, was traced over (opening the mask again shows it over that frame); none when
        no loop lies under it."""
        frames, references = self.window.key_frames.frames, self.window.references
        key = key_of(document, frames) or ("ED" if document is frames.get("ED") else None)
        if key is None or references.frames is None:
            return {}
        return {TRACED_FRAME_KEY: str(references.index[key])}

    def _write(self, path: Path, document: LabelDocument | None = None) -> bool:
        document = self.document if document is None else document
        text = self.png_text(document) | self._traced_frame_text(document)
        dropped = spacing_dropped_note(document)
        try:
            write_label_png(path, document.labels, text)
        except CardiganError as exc:
            line = studio_line(exc)
            self.window.statusBar().showMessage(line, 10000)  # not an earlier "Saved" beside the error
            show_error(self.window, "Cannot save the mask", line)
            return False
        document.mark_saved(path)
        self.window.settings.add_recent_file(path)
        self._remember_dir(path)
        self.window.document_saved()
        self.window.statusBar().showMessage(f"Saved {path}" + (f"; {dropped}" if dropped else ""),
                                            10000 if dropped else 5000)
        return True
