"""File actions on the mask: new, open, save, recent files, and the unsaved-changes guard."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu

from engine.anatomy.heart import ANATOMY_KEY, anatomy_in_text
from engine.cine.writers import frames_loop_folder, read_frames_loop, read_if_hdf5_loop
from engine.data.dicom_echo import is_dicom_file
from engine.data.trace_image import TRACE_SUFFIXES
from engine.errors import CardiganError, Words
from engine.fan import FAN_KEY, fan_from_text, view_of_name
from engine.itksnap_workspace import is_workspace_file, labels_and_header_from_workspace, read_workspace
from engine.labels import LOOKS_LIKE_AN_IMAGE, LV_CAVITY, bad_values
from engine.maskio import (MASK_FILE_SUFFIXES, TRACE_THE_ECHO, DicomNamedAsPicture, Geometry, VolumeHeader,
                           images_path_for, is_hdf5_file, is_volume_file, mask_name_stem, painted_frames,
                           read_label_map, read_label_map_and_text, read_label_png_and_text, read_png_text,
                           read_volume_label_and_header, fitting_geometry, restore_nifti_pair, write_label_png)
from engine.slicer_segments import KeptSegment, read_kept_segments

from . import folders
from .actions import menu_route
from .dialogs.new_mask import FIRST_HEART_SEED, NewMaskDialog
from .dialogs.prompts import Choice, ask_unsaved, show_error
from .editing import LabelDocument
from .file_reading import (NOT_DICOM_SUFFIXES, DecodedSizes, FileReader, Stamp, TooLargeHere, read_at_once,
                           read_here)
from .wording import studio_line


def anatomy_in_png_text(text: dict[str, str]) -> tuple[dict | None, str | None]:
    """(the anatomy a label PNG's text chunks carry, or None; why it was refused, or None), as
    :func:`engine.anatomy.heart.anatomy_in_text` reads it for the shipped shape model."""
    from engine.anatomy import ShapeModel

    return anatomy_in_text(text, ShapeModel.default())


def anatomy_record_problem(data) -> str | None:
    """Why a saved anatomy record cannot be the heart of a mask drawn from the shipped shape
    model (:func:`engine.anatomy.heart.anatomy_record_problem`), or None."""
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import anatomy_record_problem as record_problem

    return record_problem(data, ShapeModel.default())


if TYPE_CHECKING:
    from .main_window import MainWindow

MASK_FILTER = ("Label maps (*.png *.mhd *.nii *.nii.gz *.nrrd *.nhdr *.mha *.itksnap *.h5 *.hdf5);;Label PNG (*.png);;"
               "CAMUS ground truth (*_gt.mhd *_gt.nii.gz *.mhd *.nii *.nii.gz);;"
               "3D Slicer segmentation or NRRD (*.seg.nrrd *.nrrd *.nhdr);;ITK-SNAP workspace (*.itksnap);;"
               "All files (*)")
PNG_FILTER = "Label PNG (*.png)"
IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.gif *.nii *.nii.gz *.mhd *.mha *.nrrd *.nhdr *.dcm *.dicom);;"
                "Pictures and GIF loops (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.gif);;"
                "NIfTI, MetaImage or NRRD (*.nii *.nii.gz *.mhd *.mha *.nrrd *.nhdr);;"
                "DICOM from a scanner (*.dcm *.dicom);;All files: a scanner's DICOM files often have no suffix (*)")
# what a drag over the window is taken for by its name: a mask, a loop's masks (an HDF5 loop
# as File > Export > Cine loop writes it), a workspace, or an image to trace
MASK_SUFFIXES = (".png", ".mhd", ".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".itksnap", ".h5", ".hdf5")


def is_mask_file(path: Path | str) -> bool:
    return str(path).lower().endswith(MASK_SUFFIXES)


def is_picture_file(path: Path | str) -> bool:
    """A file the studio can open to trace over that cannot be a label map: a picture by its
    name, or a DICOM echo by its name or, a scanner's with no suffix, by its content. A file
    named as another format (a label PNG, a volume, a loop's HDF5 file) is not opened to be
    told."""
    name = str(path).lower()
    if name.endswith(TRACE_SUFFIXES):
        return True
    return not name.endswith(NOT_DICOM_SUFFIXES) and is_dicom_file(path)


def reference_frames(path: Path | None) -> np.ndarray | None:
    """The image shown under a mask (a dataset pair's, a workspace's main image) as (T, H, W)
    frames, one for a picture; None when there is none or it cannot be read."""
    from engine.data.trace_image import read_grey_frames

    if path is None:
        return None
    try:
        loop = read_if_hdf5_loop(path, masks=False)  # a loop's own images, in the file with its masks
        if loop is not None:
            return loop[0]
        if frames_loop_folder(path) is not None:  # a PNG-frames loop's img/ frames
            return read_frames_loop(path, masks=False)[0]
        return read_grey_frames(path)
    except CardiganError:
        return None


def read_labels(path: Path, notify: Callable[[str], None] | None = None, images: bool = False
                ) -> tuple[np.ndarray, dict[str, str], np.ndarray | None, VolumeHeader | None]:
    """A label file read once: (its label map (H, W), or a volume's every frame (T, H, W) (a
    cine export's ``x_gt.nii.gz``, a CAMUS half sequence's ground truth, a loop painted in
    ITK-SNAP or 3D Slicer as a 3-D volume); the text chunks a label PNG carries, {} for a
    volume; the loop's images when ``images`` and the file holds them beside its masks, else
    None; a volume's header, read with its labels, else None). A loop's HDF5 file (opened
    once for both) or PNG-frames folder (File › Export › Cine loop), or one of that folder's
    label frames, gives the loop's masks; how a file's labels were mapped by their names is
    told to ``notify``. :func:`read_mask_file` takes the painted frames."""
    loop = read_if_hdf5_loop(path, images=images)
    if loop is not None:
        grey, masks = loop
        return (masks[0] if len(masks) == 1 else masks), {}, grey, None
    folder = frames_loop_folder(path)
    if folder is not None:
        masks = read_frames_loop(folder, images=False)[1]
        return (masks[0] if len(masks) == 1 else masks), {}, None, None
    if not is_volume_file(path):
        return (*read_label_map_and_text(path, notify), None, None)
    masks, header = read_volume_label_and_header(path, loop=True, notify=notify)
    return (masks[0] if len(masks) == 1 else masks), {}, None, header


@dataclass(frozen=True)
class MaskRead:
    """What opening a mask file reads: its label map (H, W) or a loop's masks (T, H, W), and
    the frames (T, H, W) shown under it with the file they came from (None when there are
    none, or they do not fit the mask). A label map taken from one slice of a volume of
    several has ``slice`` (its index, the volume's slice count): of frames as many, that one
    goes under it."""

    labels: np.ndarray
    frames: np.ndarray | None = None
    source: Path | None = None
    text: dict[str, str] | None = None  # a label PNG's text chunks read with it (None: not read)
    slice: tuple[int, int] | None = None
    geometry: Geometry | None = None  # a volume's spacing, origin and direction, for exports
    # a Slicer segmentation's segment names, colours and tags by class, for exports
    segments: dict[int, KeptSegment] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what reading it did that the user is told (labels mapped by name)


def read_mask_file(path: Path, labels: np.ndarray | None = None, reference: Path | None = None,
                   text: dict[str, str] | None = None, volume: Path | None = None,
                   notes: list[str] | None = None, header: VolumeHeader | None = None) -> MaskRead:
    """Everything opening the mask ``path`` reads (``labels``: its label map or a volume's
    frames, when the caller has read them already, ``text`` the text chunks read with them),
    each file once: a label PNG with its text chunks; a volume with labels on several frames
    as a loop's masks, one frame each; a label map, or a volume's one painted slice, over the
    frames of ``reference``, or else of the image it was written beside (``x.png`` under
    ``x_gt.png``, as File > Export names a pair), with the geometry of that slice of
    ``volume`` (by default ``path``, when it is a volume) and, of a Slicer segmentation, the
    name, colour and tags of each class's segment (:func:`engine.slicer_segments.read_kept_segments`),
    both from the header read with the labels (``header``, when the caller read ``labels``
    from ``volume``, or else ``path``, with it: a Slicer segmentation, a workspace's
    segmentation is read once). ``notes``: what reading the labels already told (a
    workspace's labels mapped by name), kept with what reading them here tells."""
    notes = list(notes or [])
    known: np.ndarray | None = None  # the frames of ``path`` read with its labels (a loop's HDF5 file)
    read_from = volume or path  # the volume ``header`` was read from with the labels
    if labels is None:
        labels, text, known, header = read_labels(path, notes.append, images=reference is None)
        read_from = path
    if labels.ndim not in (2, 3):
        raise CardiganError(f"{path}: expected one 2-D label map, got shape {labels.shape}")
    if reference is None:
        reference = images_beside(path)

    def frames_of(file: Path | None) -> np.ndarray | None:
        return known if known is not None and file == path else reference_frames(file)

    if labels.ndim == 3 and len(painted_frames(labels)) >= 2:
        frames = frames_of(reference)
        fitting = frames is not None and frames.shape == labels.shape
        return MaskRead(labels, frames if fitting else None, reference if fitting else None, notes=tuple(notes))
    taken = None
    if labels.ndim == 3:
        taken = (next(iter(painted_frames(labels)), 0), len(labels))
        labels = labels[taken[0]]
    frames = frames_of(reference)
    fitting = frames if frames is not None and frames.shape[1:] == labels.shape else None
    volume = volume or (path if is_volume_file(path) else None)
    header = header if volume == read_from else None  # the volume's header, when read with the labels
    geometry, dropped = (fitting_geometry(volume, labels, taken[0] if taken else 0, header) if volume is not None
                         else (None, None))
    segments = read_kept_segments(volume, header) if volume is not None else {}
    return MaskRead(labels, fitting, reference, mask_png_text(path, text), taken, geometry, segments,
                    tuple(notes) + ((dropped,) if dropped else ()))


def spacing_dropped_note(document: LabelDocument) -> str | None:
    """What saving ``document`` as a label PNG loses, said once: the spacing of the volume it
    was read from (a PNG records none), when it is saved from that volume rather than from a
    PNG saved before; None when nothing is lost."""
    geometry = document.geometry
    if geometry is None or (document.path is not None and document.path.suffix.lower() == ".png"):
        return None
    across, down = geometry.spacing[:2]
    return f"PNG keeps no spacing: export as NIfTI to keep {across:.2f} \u00d7 {down:.2f} mm"


def loop_key_frames(masks: np.ndarray) -> tuple[int, int]:
    """The ED and ES frames of a loop's masks: the painted frames of the largest and the
    smallest LV cavity (the first of equals; without a cavity, the first and last painted)."""
    painted = np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1))
    areas = (masks[painted] == LV_CAVITY).sum(axis=(1, 2))
    if not areas.any():
        return int(painted[0]), int(painted[-1])
    return int(painted[np.argmax(areas)]), int(painted[np.argmin(areas)])


def images_beside(path: Path) -> Path | None:
    """The image (or loop) a mask was written beside (``x.png`` for ``x_gt.png``, ``x.nii.gz``
    for ``x_gt.nii.gz``, as File > Export names a pair and a cine loop, and CAMUS its ground
    truth: :func:`engine.maskio.images_path_for`), when it is there; a loop's HDF5 file holds
    its images itself, and a PNG-frames loop's folder holds them beside its label frames. An
    HDF5 file is not opened here: reading it says whether it is a loop."""
    if not Path(path).name.lower().endswith(MASK_FILE_SUFFIXES) and is_hdf5_file(path):
        return path
    folder = frames_loop_folder(path)
    if folder is not None:
        return folder
    images = images_path_for(path)
    return images if images is not None and images.is_file() else None


def notes_of_both(notes: list[str], name: str, es_notes: list[str], es_name: str) -> list[str]:
    """What reading a pair's ED frame ``name`` told (``notes``) and its ES frame ``es_name``
    (``es_notes``): a note the ES frame shares with the ED frame, but for the name it begins
    with (the labels of both mapped the same way), said once for both."""
    notes = list(notes)
    for note in es_notes:
        said = note.removeprefix(f"{es_name}: ")
        if said != note and f"{name}: {said}" in notes:
            notes[notes.index(f"{name}: {said}")] = f"{name} and {es_name}: {said}"
        else:
            notes.append(note)
    return notes


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


def read_mask_or_image(path: Path, notes: list[str] | None = None) -> MaskRead | np.ndarray:
    """A file of unknown kind, read once: what opening it as a mask reads
    (:func:`read_mask_file`: a label PNG with its text chunks, a loop's masks with its images,
    a loop's HDF5 file in one open for both), or the grey frames of an image of many grey
    levels (a loop's every frame, to trace over any of them) or of a DICOM echo named
    ``.png``, told by its marker as the file is opened and read as DICOM, never decoded as a
    PNG. Anything else, a mask in other
    values (0/85/170/255) included, is the one line opening it as a mask gives. A PNG is
    opened and decoded once, whichever it turns out to be. A NIfTI pair a stopped write left
    mixed is put back first, said in a mask's notes or, for an image, appended to ``notes``."""
    from engine.data.trace_image import grey_frames_of_picture, read_dicom_grey_frames, read_grey_frames

    def image_else(grey: Callable[[], np.ndarray], not_a_mask: CardiganError) -> np.ndarray:
        try:
            frames = grey()
        except CardiganError:
            raise not_a_mask from None
        if len(bad_values(frames[0])) > LOOKS_LIKE_AN_IMAGE:
            return frames
        raise not_a_mask from None

    if path.suffix.lower() == ".png" and frames_loop_folder(path) is None:  # a label PNG or a picture
        notes: list[str] = []
        try:
            read = read_label_png_and_text(
                path, lambda picture, refusal: image_else(lambda: grey_frames_of_picture(picture, path), refusal),
                by_description=True, notify=notes.append)
        except DicomNamedAsPicture:  # a scanner's DICOM file named .png, told by its marker: an echo to trace over
            return read_dicom_grey_frames(path)
        if isinstance(read, np.ndarray):
            return read
        labels, text = read
        return read_mask_file(path, labels, text=text, notes=notes)
    restored = restore_nifti_pair(path)  # said whichever the file turns out to be
    try:
        return read_mask_file(path, notes=[restored] if restored else None)
    except CardiganError as exc:
        if restored and notes is not None:
            notes.append(restored)
        return image_else(lambda: read_grey_frames(path), exc)


def mask_png_text(path: Path, text: dict[str, str] | None = None) -> dict[str, str]:
    """The text chunks of the label PNG at ``path`` (``text``, when they were read with its
    labels); empty for a file that is no PNG (a volume carries no fan or heart)."""
    if path.suffix.lower() != ".png":
        return {}
    return read_png_text(path) if text is None else text


class MaskFiles:
    """Creates, opens and saves the window's document; asks before unsaved work is dropped."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.next_template_seed = FIRST_HEART_SEED + 1  # File > New offers the next heart after the last one
        self.reader = FileReader(window)  # a large loop is read on a worker thread

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
        folders.remember("masks", path)

    # -- the guard -----------------------------------------------------------------------
    def confirm_discard(self, action: str) -> bool:
        """True when the current mask (both key frames of a loop) may be replaced: saved, or
        the user saved or discarded it. Save saves every key frame with unsaved edits."""
        unsaved = self._unsaved_frames()
        if not unsaved:
            return True
        name = " and ".join(self._frame_name(doc, key) for key, doc in unsaved)
        choice = ask_unsaved(self.window, name, action)
        if choice == Choice.SAVE:
            return all(self.save(doc, key) for key, doc in unsaved)
        return choice == Choice.DISCARD

    def _unsaved_frames(self) -> list[tuple[str | None, LabelDocument]]:
        """(key frame or None, document) of every document with unsaved edits, the one on
        screen first."""
        key_frames = getattr(self.window, "key_frames", None)
        if key_frames is None or key_frames.frames.get("ES") is None:
            return [(None, self.document)] if self.document.modified else []
        return key_frames.edited(self.document)

    @staticmethod
    def _frame_name(document: LabelDocument, key: str | None) -> str:
        name = document.path.name if document.path is not None else document.display_name
        return name if key is None or (document.path is not None and key == "ED") else f"{name} ({key} key frame)"

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

    def new_deformed(self, labels: np.ndarray | None = None, name: str = "this mask") -> bool:
        """A new mask: ``labels`` (default: the current mask) smoothly deformed, keeping the
        heart's topology (the same deformation as ``cardigan export --random N --like``)."""
        import random

        from engine.data.deform import deform_mask
        from engine.mask_tools import keep_largest

        if not self.confirm_discard("creating a new mask"):
            return False
        source = self.window.document.labels if labels is None else labels
        seed = random.randrange(1_000_000)
        deformed = deform_mask(keep_largest(source), np.random.default_rng(seed))
        if deformed is None:
            message = (f"No deformation of {name} kept a plausible heart (cavity inside its wall, "
                       "atrium below): check it with Edit › Check topology")
            show_error(self.window, "Cannot deform the mask", message)
            return False
        self.window.set_document(LabelDocument(deformed, origin=f"{name}, deformed #{seed}"))
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
                  notes: list[str] | None = None) -> bool:
        """Open a label PNG, CAMUS ground truth or NRRD / Slicer segmentation, or a loop's masks
        (``labels``: its label map or masks, when the caller has read them already, ``text`` the
        text chunks and ``notes`` what reading them told), over the frames of ``reference`` (a
        dataset pair's image); a problem is reported in one line. A label PNG is read once, its
        fan and heart with it. A large file is read on a worker thread: True then means the
        read has started."""
        path = Path(path)
        if labels is None and is_workspace_file(path):
            return self.open_workspace(path, confirmed)
        if not confirmed and not self.confirm_discard("opening another mask"):
            return False
        files = [path] if labels is None else []
        files += [file for file in (reference, images_beside(path)) if file is not None]
        return self._read_then(path, files, lambda: read_mask_file(path, labels, reference, text, notes=notes),
                               lambda read: self._show_mask(path, read), "Cannot open the mask")

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

    def _show_mask(self, path: Path, read: MaskRead) -> bool:
        labels = read.labels
        if labels.ndim == 3:
            return self._open_loop_masks(path, read)
        # a CAMUS volume, NIfTI or NRRD cannot be written back as it is: Save asks for a PNG name
        document = LabelDocument(labels, path=path)
        document.geometry = read.geometry
        document.segments = read.segments
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
        self.window.settings.add_recent_file(path)
        self._remember_dir(path)
        es_notes: list[str] = []
        es = self._open_es_beside(path, document, es_notes.append)
        if es is not None and frames is not None:  # a pair's image under ED: its ES image under ES
            self._add_es_reference(read.source, labels.shape)
        taken = (f", the labels of slice {read.slice[0] + 1} of {read.slice[1]}"
                 if read.slice is not None and read.slice[1] > 1 else "")
        notes = notes_of_both(list(read.notes), path.name, es_notes, Path(self._es_name(path)).name)
        said = "".join(f"; {note}" for note in notes)
        self.window.statusBar().showMessage(f"Opened {path.name} ({labels.shape[1]} \u00d7 {labels.shape[0]}{taken})"
                                            + (f" with its ES key frame {es.name} (K switches)" if es else "") + said,
                                            10000 if taken or said else 5000)
        return True

    def _open_loop_masks(self, path: Path, read: MaskRead) -> bool:
        """A loop's masks: the frames of the largest and the smallest LV cavity become the ED
        and ES key frames, over the loop's own images when they lie beside the masks."""
        masks, frames, images = read.labels, read.frames, read.source
        path = frames_loop_folder(path) or path  # a label frame stands for its loop: Save never writes over it
        ed_index, es_index = loop_key_frames(masks)
        fan, _ = fan_from_text({}, view_of_name(path.name))
        ed = LabelDocument(masks[ed_index], path=path)
        es = LabelDocument(masks[es_index], origin=f"{path.name} \u00b7 ES")
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
        window.statusBar().showMessage(f"Opened {path.name}: frames {ed_index + 1} (ED) and {es_index + 1} (ES) of "
                                       f"{len(masks)} as the key frames (K switches){under}"
                                       + "".join(f"; {note}" for note in read.notes), 10000)
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
            return self._show_mask(path, read)
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

        def read() -> MaskRead:
            notes: list[str] = []
            labels, header = labels_and_header_from_workspace(workspace, loop=True, notify=notes.append)
            return read_mask_file(path, labels, workspace.main_image, volume=workspace.segmentation, notes=notes,
                                  header=header)

        return self._read_then(path, files, read, lambda read: self._show_mask(path, read), "Cannot open the workspace")

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
        document = LabelDocument(np.zeros((size, size), np.uint8), origin=f"traced over {path.name}")
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
        self.window.statusBar().showMessage(
            f"Opened {path.name} to trace over ({width} \u00d7 {height} \u2192 {size} \u00d7 {size}{loop}), {fan}"
            + "".join(f"; {note}" for note in [*notes, *traced.notes]), 10000)
        return True

    # -- save ----------------------------------------------------------------------------
    def save(self, document: LabelDocument | None = None, key: str | None = None) -> bool:
        """Save ``document`` (the one on screen by default; ``key`` its key frame) to its PNG,
        or ask for a name."""
        document = self.document if document is None else document
        path = document.path
        if path is None or is_volume_file(path) or path.suffix.lower() != ".png":
            return self.save_as(document, key)
        return self._write(path, document)

    def save_as(self, document: LabelDocument | None = None, key: str | None = None) -> bool:
        document = self.document if document is None else document
        current = document.path
        if current is not None:
            suggestion = str(current.parent / f"{mask_name_stem(current.name)}.png")
        else:
            suggestion = self._es_suggestion(document) or str(Path(self._start_dir()) / "mask.png")
        title = "Save label map as" if key is None else f"Save the {key} key frame as"
        name, _ = QFileDialog.getSaveFileName(self.window, title, suggestion, PNG_FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        return self._write(path, document)

    def _open_es_beside(self, path: Path, document: LabelDocument, notify: Callable[[str], None]) -> Path | None:
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

    @staticmethod
    def _es_name(ed_path: Path) -> str:
        """Where a pair's ES frame goes beside its ED frame ``ed_path``: ED replaced by ES in
        the name (``p_4CH_ED.png`` -> ``p_4CH_ES.png``), else ``_ES`` added."""
        stem = mask_name_stem(ed_path.name)
        if stem.upper().endswith("_ED"):
            name = stem[:-2] + ("es" if stem[-2:] == "ed" else "ES")  # the name's own case kept
        else:
            name = stem + "_ES"
        return str(ed_path.parent / f"{name}.png")

    def _es_suggestion(self, document: LabelDocument) -> str | None:
        """For an ES key frame without a file: its ED frame's name with ES for ED
        (``p_4CH_ED.png`` -> ``p_4CH_ES.png``, else ``case_ES.png``), beside it."""
        key_frames = getattr(self.window, "key_frames", None)
        ed = key_frames.frames.get("ED") if key_frames is not None else None
        if ed is None or key_frames.frames.get("ES") is not document or ed.path is None:
            return None
        return self._es_name(ed.path)

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

    def _write(self, path: Path, document: LabelDocument | None = None) -> bool:
        document = self.document if document is None else document
        text = self.png_text(document)
        dropped = spacing_dropped_note(document)
        try:
            write_label_png(path, document.labels, text)
        except CardiganError as exc:
            show_error(self.window, "Cannot save the mask", studio_line(exc))
            return False
        document.mark_saved(path)
        self.window.settings.add_recent_file(path)
        self._remember_dir(path)
        self.window.document_saved()
        self.window.statusBar().showMessage(f"Saved {path}" + (f"; {dropped}" if dropped else ""),
                                            10000 if dropped else 5000)
        return True

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
            menu.addAction("Clear recent files", self.window.settings.clear_recent_files)
        else:
            menu.addAction("No recent files").setEnabled(False)

    def _open_recent(self, name: str) -> None:
        """A recent mask: a file, or a cine loop's PNG-frames folder (remembered as the loop)."""
        if not (Path(name).is_file() or frames_loop_folder(name) is not None):
            self.window.settings.remove_recent_file(name)
            show_error(self.window, "Cannot open the mask", f"{name}: the file no longer exists")
            return
        self.open_path(Path(name))

    def replace_labels(self, labels: np.ndarray, origin: str) -> None:
        """Start a new untitled document (no guard: callers ask first)."""
        self.window.set_document(LabelDocument(labels, origin=origin))
