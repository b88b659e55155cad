"""Export the current pair: the synthesized image, the mask, both, or a side-by-side figure.

The image, the mask and the pair go to an 8-bit PNG or to NIfTI (``.nii.gz``, for ITK-SNAP
and 3D Slicer), by the name's suffix or the file dialog's filter; the synthesized image records
where it came from (model, checksum, seed, style scale, device, version: :mod:`.export_provenance`); the mask alone may also go
to a 3D Slicer segmentation (``.seg.nrrd``: its classes named and coloured, as the user's own
segments were when the mask was opened from one). A pair's mask is
named by the one rule of :func:`engine.maskio.mask_path_for`, as CAMUS names its ground truth and
the cine export its masks: ``<name>.png`` with ``<name>_gt.png``, or ``<name>.nii.gz`` with
``<name>_gt.nii.gz`` and ``<name>.itksnap``, an ITK-SNAP workspace that opens the two with the
classes named and coloured. Opening the mask again brings its image along, under it
(:func:`engine.maskio.images_path_for`). A PNG pair's mask was once ``<name>_mask.png``: a pair
exported over such an earlier one asks whether to remove the old mask (:func:`old_pair_mask`),
which is kept unless the user agrees. The figure is a colour PNG; its real image is shown at
the contrast set on screen (:mod:`cardigan_app.contrast`), as the user sees it.

The cine loop is written on a :class:`~cardigan_app.tasks.BackgroundTask` (an MP4 or DICOM of
a long loop takes seconds): the window stays live, shows a busy cursor, a status line and, in
the status bar, how far the writing is with a Cancel button (Esc that nothing else takes
cancels too); it refuses a second loop export until the first ends, and ends with one line, the
paths written, that it was cancelled, or why not. Closing the window while a loop is written
asks whether to stop it and close, close once it is written, or stay open. The engine's writers write under temporary
names, so a failed or cancelled export leaves nothing half-written and a file that was at its
name (and a NIfTI loop's masks beside it) as it was."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.errors import CardiganError
from engine.fileio import atomic_path
from engine.fan import FAN_KEY
from engine.maskio import (Geometry, mask_path_for, nifti_suffix, read_label_map, read_png_text,
                           write_grey_png, write_label_png, write_nifti)
from engine.files_together import write_together
from engine.itksnap_workspace import WORKSPACE_SUFFIX, workspace_text
from engine.provenance import nifti_description, png_text
from engine.slicer_segments import SEGMENTATION_SUFFIX, KeptSegment, write_segmentation

from . import folders
from .contrast import Window, apply_window
from .dialogs.prompts import CloseChoice, ask_stop_loop_for_close, confirm_overwrite, confirm_remove_old_mask, show_error
from .document_names import file_stem, loop_stem
from .export_provenance import image_record
from .imaging import PALETTE, grey_to_rgb
from .mask_files import MaskFiles
from .tasks import BackgroundTask
from .wording import studio_line

if TYPE_CHECKING:
    from .job_progress import JobProgress
    from .main_window import MainWindow

PNG_FILTER = "PNG image (*.png)"
NIFTI_FILTER = "NIfTI (*.nii.gz)"
SLICER_FILTER = "3D Slicer segmentation (*.seg.nrrd)"
CINE_FILTER = ("Animated GIF (*.gif);;MP4 video (*.mp4);;NIfTI 2D+t, masks beside it (*.nii.gz);;"
               "HDF5 (*.h5);;DICOM for viewers and PACS (*.dcm);;PNG frames (a folder name) (*)")
GAP = 8


def side_by_side(labels: np.ndarray, image: np.ndarray, reference: np.ndarray | None = None,
                 gap: int = GAP, contrast: Window | None = None) -> np.ndarray:
    """An RGB figure: coloured mask | synthesized image [| real image], white gaps between.
    The real image is shown through ``contrast`` (the window/level it is seen at; None: its
    own values); the mask and the synthesized image never are."""
    panels = [PALETTE[labels], grey_to_rgb(image)]
    if reference is not None and reference.shape == labels.shape:
        panels.append(grey_to_rgb(reference if contrast is None else apply_window(reference, contrast)))
    height = labels.shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for panel in panels:
        parts += [panel, spacer]
    return np.concatenate(parts[:-1], axis=1)


def _png_path(name: str) -> Path:
    path = Path(name)
    return path if path.suffix.lower() == ".png" else path.with_name(path.name + ".png")


def is_segmentation_name(name: str | Path) -> bool:
    return str(name).lower().endswith(SEGMENTATION_SUFFIX)


def chosen_path(name: str, chosen_filter: str = "") -> Path:
    """The file a save dialog's answer names: a NIfTI, Slicer segmentation or PNG name as
    typed, else the chosen filter's suffix added (PNG when none was chosen)."""
    if nifti_suffix(name) or is_segmentation_name(name):
        return Path(name)
    if chosen_filter == NIFTI_FILTER and Path(name).suffix.lower() != ".png":
        return Path(name + ".nii.gz")
    if chosen_filter == SLICER_FILTER and Path(name).suffix.lower() != ".png":
        return Path(name + SEGMENTATION_SUFFIX)
    return _png_path(name)


def write_picture(path: Path, image: np.ndarray, geometry: Geometry | None = None,
                  record: dict | None = None) -> None:
    """A grey image as NIfTI or as an 8-bit PNG, by ``path``'s suffix (a Slicer segmentation's
    name is refused: it holds masks, and PNG bytes under it would open nowhere); a synthesized
    image's ``record`` (:mod:`engine.provenance`) goes into the PNG's text, or in short into
    the NIfTI's description."""
    if is_segmentation_name(path):
        raise CardiganError(f"{path.name}: a 3D Slicer segmentation holds a mask, not an image; "
                            "save the image as .png or .nii.gz")
    if nifti_suffix(path):
        write_nifti(path, image, geometry=geometry, description=nifti_description(record) if record else "")
    else:
        write_grey_png(path, image, png_text(record) if record else None)


def write_mask(path: Path, labels: np.ndarray, text: dict[str, str] | None = None,
               geometry: Geometry | None = None, segments: dict[int, KeptSegment] | None = None) -> None:
    """A label map as NIfTI, a Slicer segmentation or a label PNG, by ``path``'s suffix; a PNG
    carries ``text`` (the fan and heart a saved mask carries), so the image drawn from it again,
    or training on the pair, uses the fan the exported image was drawn in. A volume takes the
    ``geometry`` of the volume the mask was read from, so it lies over that volume's image; a
    Slicer segmentation names, colours and tags the classes that had them as ``segments``
    (those of the segmentation the mask was read from), the others as ours."""
    if nifti_suffix(path):
        write_nifti(path, labels, geometry=geometry)
    elif is_segmentation_name(path):
        write_segmentation(path, labels, geometry, segments)
    else:
        write_label_png(path, labels, text)


def pair_mask_path(path: Path) -> Path:
    """Where a pair's mask goes beside its image: ``x_gt.nii.gz`` or ``x_gt.png`` (one rule,
    :func:`engine.maskio.mask_path_for`)."""
    return mask_path_for(path)


OLD_PAIR_MASK_MARK = "_mask"  # a PNG pair's mask was x_mask.png before it followed mask_path_for


def old_pair_mask(path: Path) -> Path | None:
    """The mask an earlier export of a PNG pair to ``path`` wrote under the name it had then
    (``x_mask.png`` beside ``x.png``), when it is there: a label PNG carrying the fan a
    studio mask carries, of the size of the image ``path`` holds. None for anything else (a
    NIfTI pair, a file that is not such a mask)."""
    if path.suffix.lower() != ".png":
        return None
    old = path.with_name(path.stem + OLD_PAIR_MASK_MARK + path.suffix)
    if not (old.is_file() and path.is_file()) or FAN_KEY not in read_png_text(old):
        return None
    try:
        labels = read_label_map(old)
        with Image.open(path) as image:
            width, height = image.size
    except (CardiganError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return old if labels.shape == (height, width) else None


def pair_workspace_path(path: Path) -> Path | None:
    """The ITK-SNAP workspace written beside a NIfTI pair (``x.itksnap``), or None for PNG."""
    suffix = nifti_suffix(path)
    return path.with_name(path.name[: -len(suffix)] + WORKSPACE_SUFFIX) if suffix else None


def loop_masks_path(path: Path) -> Path | None:
    """The masks' file a cine loop exported to ``path`` is written beside (``x_gt.nii.gz`` for
    a NIfTI loop, :func:`engine.maskio.mask_path_for`), or None for a format that keeps its masks
    inside (HDF5, PNG frames) or has none."""
    return mask_path_for(path) if nifti_suffix(path) else None


def write_pair(path: Path, image: np.ndarray, labels: np.ndarray,
               text: dict[str, str] | None = None, geometry: Geometry | None = None,
               record: dict | None = None) -> list[Path]:
    """The image at ``path`` (with its ``record``, see :func:`write_picture`), its mask beside
    it (a PNG mask with ``text``, see :func:`write_mask`) and, for NIfTI, an ITK-SNAP workspace
    that opens both with the classes named (``itksnap -w x.itksnap``), put in place together
    (:func:`engine.files_together.write_together`: a disk that fills part way leaves the pair
    that was there, never a new image beside an old mask); returns the paths written."""
    mask_path, workspace = pair_mask_path(path), pair_workspace_path(path)
    paths = [path, mask_path] if workspace is None else [path, mask_path, workspace]

    def write(staged: list[Path]) -> None:
        write_picture(staged[0], image, geometry, record)
        write_mask(staged[1], labels, text, geometry)
        if workspace is not None:
            staged[2].write_text(workspace_text(workspace.parent, path, mask_path), encoding="utf-8")

    write_together(paths, write)
    return paths


class Exporter:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.cine_task: BackgroundTask | None = None  # the loop being written, until its end is shown
        self._close_when_written = False  # the user chose to close the window once the loop is written

    def _stem(self) -> str:
        """The stem of the names suggested for the key frame on screen (:func:`file_stem`)."""
        return file_stem(self.window.document, self.window.key_frames.frames)

    def _current(self):
        """The shown synthesis if it matches the mask now on the canvas, else None (and say why)."""
        live = self.window.live
        result = live.last_result
        if result is None or not live.up_to_date() or result.document != self.window.document.id:
            QMessageBox.information(self.window, "Export",
                                    "The image is still being synthesized for the latest edit; "
                                    "export again when it has updated.")
            return None
        return result

    def _ask(self, title: str, suffix: str, nifti: bool = True, slicer: bool = False) -> Path | None:
        """The file to write, from a save dialog offering PNG (and NIfTI when ``nifti``, a
        Slicer segmentation when ``slicer``)."""
        folder = Path(folders.start_folder("exports"))
        filters = f"{PNG_FILTER};;{NIFTI_FILTER}" if nifti else PNG_FILTER
        if slicer:
            filters += f";;{SLICER_FILTER}"
        name, chosen = QFileDialog.getSaveFileName(self.window, title, str(folder / f"{self._stem()}{suffix}.png"),
                                                   filters)
        if not name:
            return None
        path = chosen_path(name, chosen) if nifti else _png_path(name)
        folders.remember("exports", path)
        return path

    def _record(self, result) -> dict | None:
        """Where the synthesized ``result`` came from (:mod:`.export_provenance`)."""
        model = self.window.live.model
        return image_record(model, result) if model is not None and model.model_id == result.model_id else None

    def _mask_text(self) -> dict[str, str]:
        """The text chunks of the document's mask as File > Save writes them (fan, heart)."""
        return MaskFiles.png_text(self.window.document)

    def _done(self, *paths: Path) -> None:
        self.window.statusBar().showMessage("Exported " + ", ".join(str(p) for p in paths), 8000)

    def export_image(self) -> bool:
        result = self._current()
        path = self._ask("Export synthesized image", "_synthetic") if result is not None else None
        geometry = self.window.document.geometry  # a NIfTI image lies where the mask exported alone lies
        return path is not None and self._write(lambda: write_picture(path, result.image, geometry,
                                                                      self._record(result)), path)

    def export_mask(self) -> bool:
        path = self._ask("Export mask", "_mask", slicer=True)
        document = self.window.document
        labels, text, geometry = document.labels.copy(), self._mask_text(), document.geometry
        segments = document.segments
        return path is not None and self._write(lambda: write_mask(path, labels, text, geometry, segments), path)

    def export_pair(self) -> bool:
        """``<name>.png`` (image) and ``<name>_gt.png`` (label map) side by side on disk, or
        ``<name>.nii.gz``, ``<name>_gt.nii.gz`` and the ITK-SNAP workspace ``<name>.itksnap``."""
        result = self._current()
        path = self._ask("Export image and mask", "") if result is not None else None
        if path is None:
            return False
        beside = [p for p in (pair_mask_path(path), pair_workspace_path(path)) if p is not None]
        existing = [str(p) for p in beside if p.exists()]
        if existing and not confirm_overwrite(self.window, existing):
            return False
        old = old_pair_mask(path)
        if old is not None and not confirm_remove_old_mask(self.window, old, pair_mask_path(path)):
            old = None
        text, geometry, record = self._mask_text(), self.window.document.geometry, self._record(result)
        if not self._write(lambda: write_pair(path, result.image, result.labels, text, geometry, record),
                           path, *beside):
            return False
        if old is not None:
            self._remove_old_mask(old)
        return True

    def _remove_old_mask(self, old: Path) -> None:
        """Remove the old-named mask the user agreed to remove, the pair now written; said after
        what was exported."""
        try:
            old.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            said = f"; {old.name} was not removed: {exc.strerror or exc}"
        else:
            said = f"; removed the old mask {old.name}"
        bar = self.window.statusBar()
        bar.showMessage(bar.currentMessage() + said, 8000)

    def export_figure(self) -> bool:
        result = self._current()
        path = self._ask("Export side-by-side figure", "_figure", nifti=False) if result is not None else None
        if path is None:
            return False
        figure = side_by_side(result.labels, result.image, self.window.reference_image,
                              contrast=self.window.references.contrast)  # the real image as seen

        def write() -> None:
            with atomic_path(path) as tmp:
                Image.fromarray(figure).save(tmp, format="PNG")

        return self._write(write, path)

    def _write(self, job, *paths: Path) -> bool:
        self.window.statusBar().clearMessage()  # an earlier "Exported" would contradict an error
        try:
            job()
        except CardiganError as exc:
            show_error(self.window, "Export failed", studio_line(exc, "the export"))
            return False
        except OSError as exc:
            show_error(self.window, "Export failed", f"{paths[0]}: {exc.strerror or exc}")
            return False
        self._done(*paths)
        return True

    def export_cine(self, path: Path | None = None) -> bool:
        """The loop on the timeline as a GIF, MP4, NIfTI (with its masks), HDF5 or PNG frames; a
        NIfTI loop's masks file that exists (``x_gt.nii.gz``, perhaps masks painted by hand) is
        replaced only when the user agrees, as a pair's is. It is written in the background:
        True once the writing has started (:meth:`write_cine`)."""
        frames = self.window.timeline.frames
        if frames is None or self.window.timeline.stale:
            QMessageBox.information(self.window, "Export cine loop",
                                    "Play the loop first (the timeline under the synthesis): the loop is "
                                    "made from the ED and ES key frames.")
            return False
        if path is None:
            folder = Path(folders.start_folder("exports"))
            name, chosen = QFileDialog.getSaveFileName(self.window, "Export cine loop",
                                                       str(folder / f"{loop_stem(self.window.key_frames.frames)}_loop.gif"), CINE_FILTER)
            if not name:
                return False
            path = Path(name)
            folders.remember("exports", path)
        masks = loop_masks_path(path)  # the save dialog asked about the loop's file alone
        if masks is not None and masks.exists() and not confirm_overwrite(self.window, [str(masks)]):
            return False
        info = {"ejection_fraction_area": round(float(frames.ejection_fraction), 2),
                "bpm": round(60.0 * frames.fps / len(frames.images), 1),  # the studio's loops are one whole beat
                "phases": [round(float(p), 4) for p in frames.phases]}
        return self.write_cine(path, frames.images.copy(), frames.masks.copy(), frames.fps, info)

    @property
    def writing_cine(self) -> bool:
        """Whether a cine loop is being written (until its end is shown)."""
        return self.cine_task is not None

    def write_cine(self, path: Path, images: np.ndarray, masks: np.ndarray, fps: float, info: dict) -> bool:
        """Start writing the loop to ``path`` in the background; False (and why) when its name
        cannot be written or a loop is being written already."""
        from engine.cine import write_loop
        from engine.cine.writers import output_kind

        if self.writing_cine:
            QMessageBox.information(self.window, "Export cine loop",
                                    f"{self.cine_task.objectName()} is still being written; export again when it is done.")
            return False
        try:
            output_kind(path)  # a name no writer takes is said now, not from the background
        except CardiganError as exc:
            show_error(self.window, "Export failed", studio_line(exc, "the export"))
            return False
        task = BackgroundTask(lambda progress, stop: write_loop(path, images, masks, fps, info, progress=progress,
                                                                should_stop=stop),
                              "loop export", self.window)
        task.setObjectName(path.name)
        task.progressed.connect(self._job.show_progress)
        task.succeeded.connect(lambda written: self._cine_written(written))
        task.failed.connect(lambda message: self._cine_failed(path, message))
        task.cancelled.connect(lambda: self._cine_cancelled(path))
        self.cine_task = task
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self.window.statusBar().showMessage(f"Writing the loop to {path.name}\u2026")
        self._job.start(f"Writing the loop to {path}", "Stop writing the loop; nothing is left half-written (Esc)")
        task.start()
        return True

    @property
    def _job(self) -> JobProgress:
        """The status bar's progress and Cancel field (:class:`~cardigan_app.job_progress.JobProgress`)."""
        return self.window.status_widgets.job

    def cancel_cine(self) -> bool:
        """Ask the loop being written to stop; True when one was (its end follows, queued)."""
        task = self.cine_task
        if task is None or not task.running or task.cancel_requested:
            return False
        task.cancel()
        self._job.cancelling()
        self.window.statusBar().showMessage(f"Cancelling the loop export to {task.objectName()}\u2026")
        return True

    def confirm_close(self) -> bool:
        """True when the window may close now: no loop is being written, or the user chose to
        stop it (it stops at its next frame and leaves nothing half-written). Waiting for it
        keeps the window open and closes it once the loop is written in full; Cancel keeps it
        open."""
        task = self.cine_task
        if task is None or not task.running:
            return True
        choice = ask_stop_loop_for_close(self.window, task.objectName())
        if choice == CloseChoice.STOP:
            self.cancel_cine()
            return True
        if choice == CloseChoice.WAIT:
            self._close_when_written = True
            self.window.statusBar().showMessage(f"The window closes once {task.objectName()} is written…")
        return False

    def wait_cine(self, timeout: float | None = None) -> bool:
        """Block until the loop's thread ends (tests, shutdown); its end still comes queued."""
        return self.cine_task.wait(timeout) if self.cine_task is not None else True

    def _cine_ended(self) -> None:
        self._close_when_written = False  # a cancelled or failed loop keeps the window open to say so
        if self.cine_task is not None:
            self.cine_task.deleteLater()
            self.cine_task = None
            self._job.stop()
            QGuiApplication.restoreOverrideCursor()

    def _cine_cancelled(self, path: Path) -> None:
        self._cine_ended()
        self.window.statusBar().showMessage(f"Loop export cancelled; nothing was written to {path.name}", 8000)

    def _cine_written(self, written: list[Path]) -> None:
        close = self._close_when_written
        too_late = self.cine_task is not None and self.cine_task.cancel_requested
        self._cine_ended()
        self._done(*written)
        if too_late:  # the cancel came once the last frame was written: say why it is there anyway
            self.window.statusBar().showMessage(self.window.statusBar().currentMessage()
                                                + " (written in full; the cancel came after the last frame)", 8000)
        if close:  # the user asked to close once it was written
            QTimer.singleShot(0, self.window.close)

    def _cine_failed(self, path: Path, message: str) -> None:
        self._cine_ended()
        self.window.statusBar().clearMessage()
        show_error(self.window, "Export failed", message if path.name in message else f"{path.name}: {message}")
