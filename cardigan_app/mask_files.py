"""File actions on the mask: new, open, recent files, and the unsaved-changes guard; Save and
Save As come from :class:`cardigan_app.mask_saving.MaskSaving`, and what a mask file holds is
read by :mod:`cardigan_app.mask_reading`. This module is the dialog glue: it asks, reads (a large
file on a worker thread) and shows what was read in the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu

from engine.cine.writers import frames_loop_folder
from engine.data.layout import is_dataset_label
from engine.errors import CardiganError, Words
from engine.fan import fan_from_text, view_of_name
from engine.itksnap_workspace import is_workspace_file, read_workspace
from engine.maskio import TRACE_THE_ECHO, images_path_for, mask_name_stem, read_label_map, read_label_map_and_text

from . import folders
from .actions import menu_route
from .dialogs.new_mask import FIRST_HEART_SEED, NewMaskDialog
from .dialogs.prompts import Choice, ask_unsaved, show_error
from .document_names import both_names, key_frame_name
from .editing import LabelDocument
from .file_reading import DecodedSizes, FileReader, Stamp, TooLargeHere, read_at_once, read_here
from .mask_reading import (MaskRead, anatomy_in_png_text, images_beside, is_picture_file, loop_key_frames,
                           mask_png_text, notes_of_both, read_mask_file, read_mask_or_image, read_workspace_mask,
                           reference_frames)
from .mask_saving import MaskSaving
from .wording import studio_line

if TYPE_CHECKING:
    from .main_window import MainWindow

MASK_FILTER = ("Label maps (*.png *.mhd *.nii *.nii.gz *.nrrd *.nhdr *.mha *.itksnap *.h5 *.hdf5);;Label PNG (*.png);;"
               "CAMUS ground truth (*_gt.mhd *_gt.nii.gz *.mhd *.nii *.nii.gz);;"
               "3D Slicer segmentation or NRRD (*.seg.nrrd *.nrrd *.nhdr);;ITK-SNAP workspace (*.itksnap);;"
               "All files (*)")
IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.gif *.nii *.nii.gz *.mhd *.mha *.nrrd *.nhdr *.dcm *.dicom);;"
                "Pictures and GIF loops (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.gif);;"
                "NIfTI, MetaImage or NRRD (*.nii *.nii.gz *.mhd *.mha *.nrrd *.nhdr);;"
                "DICOM from a scanner (*.dcm *.dicom);;All files: a scanner's DICOM files often have no suffix (*)")


def opened_along(path: Path) -> set[Path]:
    """The files opening the mask ``path`` may bring along: the image it was written beside
    (:func:`images_beside`), and a label PNG's ES frame (:meth:`MaskFiles._es_name`) with the
    image beside that. Dropped with the mask, they ask for nothing more than the mask does."""
    path = Path(path)
    along = {images_beside(path)}
    if path.suffix.lower() == ".png":
        es = Path(MaskFiles._es_name(path))
        along |= {es, images_path_for(es)}
    return {file for file in along if file is not None and file != path}


class MaskFiles(MaskSaving):
    """Creates, opens and saves the window's document; asks before unsaved work is dropped."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.next_template_seed = FIRST_HEART_SEED + 1  # File > New offers the next heart after the last one
        self.reader = FileReader(window)  # a large loop is read on a worker thread
        self.dataset_labels_to_overwrite: set[Path] = set()

    def words(self) -> Words:
        """The studio's words for a mask's advice: a DICOM echo named as a picture is opened with
        the menu's Open image to trace, or renamed."""
        return {TRACE_THE_ECHO: f"it is an echo to trace over: open it with "
                                f"{menu_route(self.window.commands['trace'])}, or rename it .dcm"}

    @property
    def document(self) -> LabelDocument:
        return self.window.document

    def _start_dir(self) -> str:
        return folders.start_folder("masks")

    def _remember_dir(self, path: Path) -> None:
        """Note ``path``'s folder as the masks folder; a prepared dataset's label folder is not one
        (the dataset browser remembers datasets), so Save As of a dataset's mask suggests no place in it."""
        if not is_dataset_label(path):
            folders.remember("masks", path)

    # -- the guard -----------------------------------------------------------------------
    def confirm_discard(self, action: str) -> bool:
        """True when the current mask (both key frames of a loop) may be replaced: saved, or
        the user saved or discarded it. Save saves every key frame with unsaved edits."""
        unsaved = self._unsaved_frames()
        if not unsaved:
            return True
        name = both_names(*(self.frame_name(doc) for _, doc in unsaved)) if len(unsaved) == 2 else \
            self.frame_name(unsaved[0][1])
        choice = ask_unsaved(self.window, name, action)
        if choice == Choice.SAVE:
            return all(self.save(doc) for _, doc in unsaved)
        return choice == Choice.DISCARD

    def _unsaved_frames(self) -> list[tuple[str | None, LabelDocument]]:
        """(key frame or None, document) of every document with unsaved edits, the one on
        screen first."""
        key_frames = getattr(self.window, "key_frames", None)
        if key_frames is None or key_frames.frames.get("ES") is None:
            return [(None, self.document)] if self.document.modified else []
        return key_frames.edited(self.document)

    def frame_name(self, document: LabelDocument) -> str:
        """``document``'s name, as the key frame of the window's pair it is (:mod:`~cardigan_app.document_names`)."""
        return key_frame_name(document, self.window.key_frames.frames)

    # -- new / open ----------------------------------------------------------------------
    def new_mask(self) -> bool:
        if not self.confirm_discard("creating a new mask"):
            return False
        state = self.window.state
        dialog = NewMaskDialog(state.template_view, state.template_phase, self.next_template_seed,
                               state.template_size, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        choice = dialog.choice()
        if choice.template:
            state.set("template_view", choice.view)
            state.set("template_phase", choice.phase)
            self.next_template_seed = choice.seed + 1
        state.set("template_size", choice.size)
        self.window.set_document(choice.document())
        return True

    def new_deformed(self, labels: np.ndarray | None = None, name: str | None = None) -> bool:
        """A new mask: ``labels`` (default: the current mask) smoothly deformed, keeping the
        heart's topology (the same deformation as ``cardigan export --random N --like``);
        ``name`` is the file they came from (default: the current mask's, if it has one)."""
        import random

        from engine.data.deform import deform_mask
        from engine.mask_tools import keep_largest

        if not self.confirm_discard("creating a new mask"):
            return False
        source = self.window.document.labels if labels is None else labels
        document = self.window.document
        origin = name or (document.path.name if document.path is not None else None)  # never a name in a name
        seed = random.randrange(1_000_000)
        deformed = deform_mask(keep_largest(source), np.random.default_rng(seed))
        if deformed is None:
            message = (f"No deformation of {name or 'this mask'} kept a plausible heart (cavity inside its wall, "
                       "atrium below): check it with Edit › Check topology")
            show_error(self.window, "Cannot deform the mask", message)
            return False
        self.window.set_document(LabelDocument(deformed, origin=f"deformation #{seed}" + (f" of {origin}" if origin else "")))
        return True

    def new_deformed_from(self, path: Path) -> bool:
        try:
            labels = read_label_map(path)
        except CardiganError as exc:
            show_error(self.window, "Cannot open the mask", studio_line(exc))
            return False
        return self.new_deformed(labels, Path(path).name)

    def open_dialog(self) -> bool:
        if not self.confirm_discard("opening another mask"):
            return False
        name, _ = QFileDialog.getOpenFileName(self.window, "Open label map", self._start_dir(), MASK_FILTER)
        return self.open_path(Path(name), confirmed=True) if name else False

    def open_path(self, path: Path | str, reference: Path | None = None, confirmed: bool = False,
                  labels: np.ndarray | None = None, text: dict[str, str] | None = None,
                  notes: list[str] | None = None, key_frame: str = "ED") -> bool:
        """Open a label PNG, CAMUS ground truth or NRRD / Slicer segmentation, or a loop's masks
        (``labels``: its label map or masks, when the caller has read them already, ``text`` the
        text chunks and ``notes`` what reading them told), over the frames of ``reference`` (a
        dataset pair's image); a problem is reported in one line. A label PNG is read once, its
        fan and heart with it. ``key_frame`` "ES" edits the ES frame it brings along
        (:meth:`open_es_beside`) once open. A large file is read on a worker thread: True then
        means the read has started."""
        path = Path(path)
        if labels is None and is_workspace_file(path):
            return self.open_workspace(path, confirmed)
        if not confirmed and not self.confirm_discard("opening another mask"):
            return False
        files = [path] if labels is None else []
        files += [file for file in (reference, images_beside(path)) if file is not None]
        return self._read_then(path, files, lambda: read_mask_file(path, labels, reference, text, notes=notes),
                               lambda read: self.show_mask(path, read, key_frame), "Cannot open the mask")

    def _read_then(self, path: Path, files: list[Path], work: Callable[[], Any], show: Callable[[Any], bool],
                   title: str) -> bool:
        """``show(work())`` at once when every file ``work`` reads is small (an HDF5 loop: found
        too large by the read itself, :func:`read_here`), else ``work`` on the
        reader's worker thread and ``show`` its result when it arrives, unless a newer action
        won meanwhile (:meth:`_when_still_wanted`); a problem is one line under ``title``.
        True when shown, or when the read has started."""
        decoded = None  # what the files hold decoded, when a read tried here found it
        sizes = DecodedSizes()  # each file sized once, for the choice and for the status line
        if all(read_at_once(file, sizes) for file in files):
            try:
                result = read_here(work)
            except TooLargeHere as exc:  # an HDF5 loop that decodes to far more than its file holds
                decoded = exc.decoded
            except CardiganError as exc:
                self._read_failed(title, studio_line(exc, extra=self.words()))
                return False
            else:
                return show(result)
        stamp = Stamp.of(self.window)
        self.reader.read(path, work, lambda result: self._when_still_wanted(stamp, path, lambda: show(result)),
                         lambda message: self._read_failed(title, message), files, decoded, self.words(), sizes)
        return True

    def show_mask(self, path: Path, read: MaskRead, key_frame: str = "ED") -> bool:
        """Edit the mask file ``path`` as :func:`read_mask_file` read it (a loop's masks as the
        key frames; a label PNG with its ES frame beside it, that frame edited when
        ``key_frame`` is "ES"), and say it opened."""
        labels = read.labels
        if labels.ndim == 3:
            return self._open_loop_masks(path, read)
        # a CAMUS volume, NIfTI or NRRD cannot be written back as it is: Save asks for a PNG name
        document = LabelDocument(labels, path=path)
        document.geometry = read.geometry
        document.segments = read.segments
        document.slice = read.slice
        text = mask_png_text(path, read.text)
        document.anatomy, problem = anatomy_in_png_text(text)
        fan, fan_problem = fan_from_text(text, view_of_name(path.name))
        document.fan = fan
        if problem:
            show_error(self.window, "The mask opened without its anatomy",
                       f"{path.name}: {problem}; the mask opened as plain labels.")
        if fan_problem:
            self.window.statusBar().showMessage(f"{path.name}: {fan_problem}", 10000)
        frames = read.frames
        self.window.set_document(document, reference=None if frames is None else frames[0],
                                 frames=frames, source=read.source)
        if read.slice is not None and frames is not None and len(frames) == read.slice[1]:
            self.window.references.choose("ED", read.slice[0])  # the image of the slice painted
            self.window.under_image.show(self.window.references.image_for("ED"))
        if read.frame is not None:  # the loop frame the mask was traced over, as its PNG records
            self.window.references.choose("ED", read.frame)
            self.window.under_image.show(self.window.references.image_for("ED"))
        self.window.settings.add_recent_file(path)
        self._remember_dir(path)
        es_notes: list[str] = []
        es = self.open_es_beside(path, document, es_notes.append)
        if es is not None and frames is not None:  # a pair's image under ED: its ES image under ES
            self._add_es_reference(read.source, labels.shape)
        on_es = es is not None and key_frame == "ES"
        if on_es:
            self.window.state.set("key_frame", "ES")
        taken = (f", the labels of slice {read.slice[0] + 1} of {read.slice[1]}"
                 if read.slice is not None and read.slice[1] > 1 else "")
        if read.frame is not None and frames is not None:
            taken += f", over frame {read.frame + 1} of {len(frames)} as traced"
        notes = notes_of_both(list(read.notes), path.name, es_notes, Path(self._es_name(path)).name)
        said = "".join(f"; {note}" for note in notes)
        if es is None:
            shown, along = path.name, ""
        elif on_es:  # the ES frame asked for, with its ED frame
            shown, along = es.name, f" with its ED key frame {path.name} (K switches)"
        else:
            shown, along = path.name, f" with its ES key frame {es.name} (K switches)"
        line = f"Opened {shown} ({labels.shape[1]} \u00d7 {labels.shape[0]}{taken}){along}{said}"
        self._say_opened(line, bool(said), 10000 if taken else 5000)
        return True

    def _say_opened(self, line: str, noted: bool, timeout: int = 10000) -> None:
        """The status line of a file just opened: kept until the user's next message when it
        carries notes of what reading the file found (:meth:`StatusBar.show_note`), else shown
        for ``timeout`` ms."""
        if noted:
            self.window.statusBar().show_note(line)
        else:
            self.window.statusBar().showMessage(line, timeout)

    def _open_loop_masks(self, path: Path, read: MaskRead) -> bool:
        """A loop's masks: the frames of the largest and the smallest LV cavity become the ED
        and ES key frames, over the loop's own images when they lie beside the masks."""
        masks, frames, images = read.labels, read.frames, read.source
        path = frames_loop_folder(path) or path  # a label frame stands for its loop: Save never writes over it
        ed_index, es_index = loop_key_frames(masks)
        fan, _ = fan_from_text({}, view_of_name(path.name))
        ed = LabelDocument(masks[ed_index], path=path)
        es = LabelDocument(masks[es_index], origin=f"frame {es_index + 1} of {path.name}")
        ed.fan = es.fan = fan
        window = self.window
        window.set_document(ed, frames=frames, source=images)
        window.key_frames.frames["ES"] = es
        if frames is not None:
            window.references.choose("ED", ed_index)
            window.references.choose("ES", es_index)
            window.under_image.show(window.references.image_for("ED"))
        window.key_frames_changed()
        window.settings.add_recent_file(path)
        self._remember_dir(path)
        under = f", over {images.name}" if images is not None else ""
        self._say_opened(f"Opened {path.name}: frames {ed_index + 1} (ED) and {es_index + 1} (ES) of "
                         f"{len(masks)} as the key frames (K switches){under}"
                         + "".join(f"; {note}" for note in read.notes), bool(read.notes))
        return True

    def trace_dialog(self) -> bool:
        return self._pick_to_trace(Path(folders.start_folder("images")))

    def trace_from_folder(self, folder: Path) -> bool:
        """A scanner's or PACS export opened as a folder (a disc's, with a DICOMDIR, searched
        below): its one DICOM file opens to trace over at once; of several, the user picks one,
        from their folder when they share one (all files shown: such files often have no
        suffix)."""
        from engine.data.dicom_echo import dicom_files_in

        scans = dicom_files_in(folder)
        if len(scans) == 1:
            return self.trace_path(scans[0])
        where = {scan.parent for scan in scans}  # a disc's export: its one series' folder
        return self._pick_to_trace(where.pop() if len(where) == 1 else folder,
                                   IMAGE_FILTER.split(";;")[-1] if scans else "")

    def _pick_to_trace(self, start: Path, chosen_filter: str = "") -> bool:
        if not self.confirm_discard("opening an image to trace"):
            return False
        name, _ = QFileDialog.getOpenFileName(self.window, "Open an image to trace", str(start), IMAGE_FILTER,
                                              chosen_filter)
        return self.trace_path(Path(name), confirmed=True) if name else False

    def open_or_trace(self, path: Path | str) -> bool:
        """A dropped file: a label map opens as the mask, an image of many grey levels opens to
        trace over (a CAMUS frame, an exported echo); anything else, a mask with wrong label
        values included, is reported as a mask would be. A large file (a loop) is read on a
        worker thread: True then means the read has started."""
        path = Path(path)
        # asked before the file is read: saving the current mask may write this very file
        if not self.confirm_discard(f"opening {path.name}"):
            return False
        if is_picture_file(path):
            return self.trace_path(path, confirmed=True)
        if is_workspace_file(path):
            return self.open_workspace(path, confirmed=True)
        files = [file for file in (path, images_beside(path)) if file is not None]  # as File > Open reads
        notes: list[str] = []  # what reading an image told
        return self._read_then(path, files, lambda: read_mask_or_image(path, notes),
                               lambda read: self._open_read(path, read, notes), "Cannot open the file")

    def _open_read(self, path: Path, read: MaskRead | np.ndarray, notes: list[str]) -> bool:
        """A dropped file as it was read: a mask (with its images) opens, an image opens to
        trace, with what reading it told (``notes``)."""
        if isinstance(read, MaskRead):
            return self.show_mask(path, read)
        return self.trace_path(path, confirmed=True, image=read, notes=notes)

    def _when_still_wanted(self, stamp: Stamp, path: Path, show: Callable[[], bool]) -> bool:
        """``show()`` a file read in the background, unless the user opened or made another
        mask while it was read (dropped, with a status line), or edited this one and will not
        let it go."""
        if not stamp.same_document(self.window):
            self.window.statusBar().showMessage(f"{path.name} was read, but another mask was opened meanwhile: "
                                                "it was not opened", 10000)
            return False
        if stamp.edited(self.window) and not self.confirm_discard(f"opening {path.name}"):
            return False
        return show()

    def _read_failed(self, title: str, message: str) -> None:
        show_error(self.window, title, message)
        self.window.statusBar().showMessage(message, 10000)

    def open_workspace(self, path: Path | str, confirmed: bool = False) -> bool:
        """An ITK-SNAP workspace: its segmentation opens as the mask (labels mapped by their
        names), its main image under it when the sizes agree. The two are read as a mask file's
        are (:meth:`open_path`): a large one on the reader's worker thread."""
        path = Path(path)
        if not confirmed and not self.confirm_discard("opening an ITK-SNAP workspace"):
            return False
        try:
            workspace = read_workspace(path)  # the workspace file itself: a few lines of text
        except CardiganError as exc:
            self._read_failed("Cannot open the workspace", studio_line(exc))
            return False
        files = [file for file in (workspace.segmentation, workspace.main_image) if file is not None]

        return self._read_then(path, files, lambda: read_workspace_mask(workspace),
                               lambda read: self.show_mask(path, read), "Cannot open the workspace")

    def trace_path(self, path: Path | str, confirmed: bool = False, image: np.ndarray | None = None,
                   notes: list[str] | None = None) -> bool:
        """A new blank mask over an echocardiogram of the user's own: the image squashed to
        the mask size (as prepare does), shown under the mask and beside it, with the fan
        fitted to it (``image``: its grey image or a loop's frames, when the caller has read
        them already, ``notes`` what reading them told; each key frame of a loop gets a frame of
        its own); a problem is reported in one line. A large file is read on a worker thread:
        True then means the read has started."""
        from engine.data.trace_image import image_to_trace

        path = Path(path)
        if not confirmed and not self.confirm_discard("opening an image to trace"):
            return False
        size, view = self.window.state.template_size, view_of_name(path.name)
        return self._read_then(path, [path] if image is None else [], lambda: image_to_trace(path, size, view, image),
                               lambda traced: self._show_traced(path, traced, notes or []), "Cannot open the image")

    def _show_traced(self, path: Path, traced, notes: list[str]) -> bool:
        state = self.window.state
        size = traced.image.shape[0]
        document = LabelDocument(np.zeros((size, size), np.uint8), origin=f"tracing of {path.name}")
        document.fan = traced.fan
        self.window.set_document(document, reference=traced.image, frames=traced.frames, source=path)
        if not state.side_by_side:
            state.set("side_by_side", True)  # the synthesis in its pane, the image under the mask
        state.set("show_synthesis_under_mask", True)
        folders.remember("images", path)
        height, width = traced.original
        view = view_of_name(path.name) or "4CH"
        fan = (f"the fan fitted to it (IoU {traced.fit:.2f})" if traced.fit > 0
               else f"no sector found in it, so the usual {view} fan is used (the Probe fan sliders move it)")
        loop = f", {len(traced.frames)} frames" if traced.frames is not None and len(traced.frames) > 1 else ""
        self._say_opened(
            f"Opened {path.name} to trace over ({width} \u00d7 {height} \u2192 {size} \u00d7 {size}{loop}), {fan}"
            + "".join(f"; {note}" for note in [*notes, *traced.notes]), bool(notes or traced.notes))
        return True

    # -- save ----------------------------------------------------------------------------
    def open_es_beside(self, path: Path, document: LabelDocument, notify: Callable[[str], None]) -> Path | None:
        """A label PNG saved as a pair's ED frame brings its ES frame along: the file Save
        names for it (``p_4CH_ES.png`` beside ``p_4CH_ED.png``, ``case_ES.png`` beside
        ``case.png``; a prepared dataset's pairs are named so too) becomes the ES key frame,
        its labels read as the ED frame's are (how they were mapped by their names told to
        ``notify``, as is why it was not opened). Returns its path, or None when there is none
        of the mask's size."""
        if path.suffix.lower() != ".png" or mask_name_stem(path.name).upper().endswith("_ES"):
            return None
        sibling = Path(self._es_name(path))
        if not sibling.is_file():
            return None
        told: list[str] = []
        try:
            labels, text = read_label_map_and_text(sibling, told.append)
        except CardiganError as exc:
            # said in the line that says the ED frame opened, which would cover it
            notify(f"{sibling.name} was not opened as the ES key frame: {studio_line(exc)}")
            return None
        key_frames = self.window.key_frames
        if labels.shape != document.shape or key_frames.frames["ED"] is not document:
            return None
        es = LabelDocument(labels, path=sibling)
        self.take_png_text(es, text, sibling.name)
        for line in told:
            notify(line)
        key_frames.frames["ES"] = es
        self.window.key_frames_changed()
        return sibling

    def _add_es_reference(self, reference: Path, shape: tuple[int, ...]) -> None:
        """A dataset pair's ES image, named beside its ED image as the ES mask is beside the ED
        mask, goes under the ES key frame (no image of its size there: the ES frame has none)."""
        frames = reference_frames(Path(reference).parent / self._es_name(Path(reference)))
        if frames is not None and len(frames) == 1 and frames.shape[1:] == shape:
            self.window.references.add_picture("ES", frames[0])

    # -- recent files --------------------------------------------------------------------
    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        recent = self.window.settings.recent_files()
        for index, name in enumerate(recent):
            action = menu.addAction(f"&{index + 1 if index < 9 else 0}  {Path(name).name}")
            action.setToolTip(name)
            action.setStatusTip(name)
            action.triggered.connect(lambda _=False, p=name: self._open_recent(p))
        if recent:
            menu.addSeparator()
            menu.addAction("&Clear recent files", self.window.settings.clear_recent_files)
        else:
            menu.addAction("No recent files").setEnabled(False)

    def _open_recent(self, name: str) -> None:
        """A recent mask: a file, or a cine loop's PNG-frames folder (remembered as the loop)."""
        if not (Path(name).is_file() or frames_loop_folder(name) is not None):
            self.window.settings.remove_recent_file(name)
            show_error(self.window, "Cannot open the mask", f"{name}: the file no longer exists")
            return
        self.open_path(Path(name))
