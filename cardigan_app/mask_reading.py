"""Reading a mask file for the studio, apart from the window: a label PNG with its text chunks
(its fan and heart), a volume (NIfTI, MetaImage, NRRD, a 3D Slicer segmentation) one slice or a
loop's frames, a cine loop's HDF5 file or PNG-frames folder, and the images found beside a mask;
a dropped file of unknown kind read once as a mask or an image to trace. Nothing here asks the
user anything: :mod:`cardigan_app.mask_files` shows what these read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.anatomy.heart import anatomy_in_text
from engine.cine.writers import frames_loop_folder, read_frames_loop, read_if_hdf5_loop
from engine.data.dicom_echo import is_dicom_file
from engine.data.layout import dataset_image_of
from engine.data.trace_image import TRACE_SUFFIXES, VOLUME_SUFFIXES, squashed_frames
from engine.errors import CardiganError
from engine.itksnap_workspace import Workspace, labels_and_header_from_workspace
from engine.labels import LOOKS_LIKE_AN_IMAGE, LV_CAVITY, bad_values
from engine.maskio import (MASK_FILE_SUFFIXES, DicomNamedAsPicture, Geometry, VolumeHeader, images_path_for,
                           is_hdf5_file, is_volume_file, painted_frames, read_label_map_and_text,
                           read_label_png_and_text, read_png_text, read_volume_label_and_header, fitting_geometry,
                           one_look_per_pair, restore_nifti_pair, traced_frame_in_text, volume_geometry)
from engine.slicer_images import image_beside_segmentation, is_slicer_segmentation
from engine.slicer_segments import KeptSegment, read_kept_segments
from engine.volume_alignment import frames_on_mask_grid, orientation_note

from .file_reading import NOT_DICOM_SUFFIXES


def anatomy_in_png_text(text: dict[str, str]) -> tuple[dict | None, str | None]:
    """(the anatomy a label PNG's text chunks carry, or None; why it was refused, or None), as
    :func:`engine.anatomy.heart.anatomy_in_text` reads it for the shipped shape model."""
    from engine.anatomy import ShapeModel

    return anatomy_in_text(text, ShapeModel.default())


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
    return reference_frames_and_geometry(path)[0]


def reference_frames_and_geometry(path: Path | None, notify: Callable[[str], None] | None = None
                                  ) -> tuple[np.ndarray | None, Geometry | None]:
    """(:func:`reference_frames`, where a volume's frames lie in space, from its header read
    with them (None for anything else)). A NIfTI pair the volume is half of, which a stopped
    write left mixed, is put back first and told to ``notify``."""
    from engine.data.trace_image import read_grey_frames_and_header

    if path is None:
        return None, None
    try:
        loop = read_if_hdf5_loop(path, masks=False)  # a loop's own images, in the file with its masks
        if loop is not None:
            return loop[0], None
        if frames_loop_folder(path) is not None:  # a PNG-frames loop's img/ frames
            return read_frames_loop(path, masks=False)[0], None
        frames, header = read_grey_frames_and_header(path, notify=notify)
    except CardiganError:
        return None, None
    return frames, (volume_geometry(path, 0, header) if header is not None else None)


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
    frame: int | None = None  # the frame of ``frames`` a label PNG records it was traced over


@one_look_per_pair()  # a NIfTI pair of the mask and its images settled once, and said once
def read_mask_file(path: Path, labels: np.ndarray | None = None, reference: Path | None = None,
                   text: dict[str, str] | None = None, volume: Path | None = None,
                   notes: list[str] | None = None, header: VolumeHeader | None = None) -> MaskRead:
    """Everything opening the mask ``path`` reads (``labels``: its label map or a volume's
    frames, when the caller has read them already, ``text`` the text chunks read with them),
    each file once: a label PNG with its text chunks; a volume with labels on several frames
    as a loop's masks, one frame each; a label map, or a volume's one painted slice, over the
    frames of ``reference``, or else of the image it was written beside (``x.png`` under
    ``x_gt.png``, as File > Export names a pair; a Slicer scene's volume beside its
    segmentation, said in a note whether it was shown under it or not: :func:`images_beside`), with the geometry of that slice of
    ``volume`` (by default ``path``, when it is a volume) and, of a Slicer segmentation, the
    name, colour and tags of each class's segment (:func:`engine.slicer_segments.read_kept_segments`),
    both from the header read with the labels (``header``, when the caller read ``labels``
    from ``volume``, or else ``path``, with it: a Slicer segmentation, a workspace's
    segmentation is read once). ``notes``: what reading the labels already told (a
    workspace's labels mapped by name), kept with what reading them here tells."""
    notes = list(notes or [])
    named_beside = reference is None and not is_slicer_segmentation(path)  # x.png (or x.jpg) under x_gt.png
    known: np.ndarray | None = None  # the frames of ``path`` read with its labels (a loop's HDF5 file)
    read_from = volume or path  # the volume ``header`` was read from with the labels
    if labels is None:
        labels, text, known, header = read_labels(path, notes.append, images=reference is None)
        read_from = path
    if labels.ndim not in (2, 3):
        raise CardiganError(f"{path}: expected one 2-D label map, got shape {labels.shape}")
    found_by_name = reference is None and is_slicer_segmentation(path)  # said whether it fits or not
    chosen = None  # of a segmentation, what was passed over in finding the image beside it
    if found_by_name:
        reference, chosen = image_beside_segmentation(path)
    elif reference is None:
        reference = images_beside(path)
    if chosen and reference is None:
        notes.append(chosen)

    def frames_of(file: Path | None) -> tuple[np.ndarray | None, Geometry | None]:
        # the image's pair, when the mask's read did not look at it, settled and said here
        return (known, None) if known is not None and file == path else reference_frames_and_geometry(file,
                                                                                                      notes.append)

    volume = volume or (path if is_volume_file(path) else None)
    header = header if volume == read_from else None  # the volume's header, when read with the labels
    if labels.ndim == 3 and len(painted_frames(labels)) >= 2:
        frames, placed = frames_of(reference)
        told_at = len(notes)  # the image found beside a segmentation is told before how it was laid
        loop_geometry = volume_geometry(volume, 0, header) if volume is not None and header is not None else None
        if frames is not None and placed is not None and loop_geometry is not None:
            frames = laid_on_mask(frames, placed, loop_geometry, reference, volume, notes)
        fitting = frames is not None and frames.shape == labels.shape
        if found_by_name and reference is not None:
            notes[told_at:told_at] = [image_beside_line(reference, frames, fitting, labels.shape)] + \
                [chosen] * bool(chosen)
        turned = orientation_note(loop_geometry, volume.name) if volume is not None else None  # as a frame's
        return MaskRead(labels, frames if fitting else None, reference if fitting else None,
                        notes=tuple(notes) + ((turned,) if turned else ()))
    taken = None
    if labels.ndim == 3:
        taken = (next(iter(painted_frames(labels)), 0), len(labels))
        labels = labels[taken[0]]
    frames, placed = frames_of(reference)
    told_at = len(notes)
    geometry, dropped = (fitting_geometry(volume, labels, taken[0] if taken else 0, header) if volume is not None
                         else (None, None))
    if frames is not None and placed is not None and geometry is not None:
        frames = laid_on_mask(frames, placed, geometry, reference, volume, notes)
    turned = orientation_note(geometry, volume.name) if volume is not None else None
    if named_beside and reference is not None and reference != path:
        # a PNG lies nowhere in space: a volume under it comes squashed, as it was traced over
        frames = beside_as_traced(reference, frames, placed if volume is not None else None, labels.shape,
                                  notes)
    fitting = frames if frames is not None and frames.shape[1:] == labels.shape else None
    if found_by_name and reference is not None:
        notes[told_at:told_at] = [image_beside_line(reference, frames, fitting is not None, labels.shape)] + \
            [chosen] * bool(chosen)
    segments = read_kept_segments(volume, header) if volume is not None else {}
    text = mask_png_text(path, text)
    frame, refused = traced_frame_in_text(text, len(fitting)) if fitting is not None and len(fitting) > 1 else (
        None, None)
    return MaskRead(labels, fitting, reference, text, taken, geometry, segments,
                    tuple(notes) + tuple(line for line in (dropped, turned, refused) if line), frame)


def read_workspace_mask(workspace: Workspace) -> MaskRead:
    """What opening an ITK-SNAP workspace reads: its segmentation as the mask (labels mapped by
    their names, every frame read for :func:`read_mask_file` to take one or a loop's) over its
    main image, each file once. A NIfTI pair of the two that a write stopped between its files
    left mixed is settled once, and said once."""
    notes: list[str] = []
    with one_look_per_pair():  # the image's read after the segmentation's takes the pair as settled
        labels, header = labels_and_header_from_workspace(workspace, loop=True, notify=notes.append)
        return read_mask_file(workspace.path, labels, workspace.main_image, volume=workspace.segmentation,
                              notes=notes, header=header)


def laid_on_mask(frames: np.ndarray, placed: Geometry, mask: Geometry | None, image_path: Path, mask_path: Path,
                 notes: list[str]) -> np.ndarray:
    """``frames`` of the image at ``image_path`` (whose header records ``placed``) on the
    pixels of the mask at ``mask_path`` (whose header records ``mask``), as a viewer lays them
    (:func:`engine.volume_alignment.frames_on_mask_grid`); what that did is added to ``notes``."""
    if mask is None:
        return frames
    frames, note = frames_on_mask_grid(frames, placed, mask, image_path.name, mask_path.name)
    if note:
        notes.append(note)
    return frames


def beside_as_traced(image: Path, frames: np.ndarray | None, placed: Geometry | None, mask_shape: tuple[int, int],
                     notes: list[str]) -> np.ndarray | None:
    """The ``frames`` of the ``image`` found beside a label map by its name (``echo.png`` under
    ``echo_gt.png``), to lie under the map of ``mask_shape``. A picture of another size under a
    square map comes squashed to it, as opening it to trace over squashed it (Save offers to put
    the traced mask beside it so), and ``notes`` say so; one that cannot lie there (unread, a
    map not square, a volume placed in space elsewhere) gets a note saying why it is not shown."""
    if frames is not None and frames.shape[1:] == mask_shape:
        return frames
    if frames is not None and placed is None and mask_shape[0] == mask_shape[1]:
        notes.append(f"{image.name} beside it shown under it squashed from {frames.shape[-1]} \u00d7 "
                     f"{frames.shape[-2]} to the mask's {mask_shape[1]} \u00d7 {mask_shape[0]}, as when it was "
                     "opened to trace over")
        return squashed_frames(frames, mask_shape[0])
    notes.append(image_beside_line(image, frames, False, mask_shape))
    return frames


def image_beside_line(image: Path, frames: np.ndarray | None, fitting: bool, mask_shape: tuple[int, ...]) -> str:
    """One line saying whether the ``image`` found beside a mask (a Slicer segmentation's,
    :func:`engine.slicer_images.image_beside_segmentation`, or one named for it; its ``frames``,
    laid on the mask's pixels, None when it could not be read) was brought under the mask of
    ``mask_shape``."""
    if fitting:
        return f"{image.name}, the image saved beside it, shown under it"
    if frames is None:
        return f"{image.name} beside it could not be read as an image: no image shown under it"
    return (f"{image.name} beside it is {frames.shape[-1]} \u00d7 {frames.shape[-2]} pixels"
            + (f" in {len(frames)} frames" if len(mask_shape) == 3 and len(frames) != mask_shape[0] else "")
            + f" and does not lie on the mask's {mask_shape[-1]} \u00d7 {mask_shape[-2]}: not shown under it")


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
    truth: :func:`engine.maskio.images_path_for`; for ``x_gt.png``, ``x.jpg`` or another picture
    or echo when there is no ``x.png``, :func:`traced_picture_beside`), or, of a 3D Slicer segmentation, the volume
    it was saved beside (:func:`engine.slicer_images.image_beside_segmentation`), or, of a
    prepared dataset's label map, its image in the split's ``img`` folder, when it is
    there; a loop's HDF5 file holds
    its images itself, and a PNG-frames loop's folder holds them beside its label frames. An
    HDF5 file is not opened here: reading it says whether it is a loop."""
    if not Path(path).name.lower().endswith(MASK_FILE_SUFFIXES) and is_hdf5_file(path):
        return path
    folder = frames_loop_folder(path)
    if folder is not None:
        return folder
    images = images_path_for(path)
    if images is None and is_slicer_segmentation(path):  # a Slicer scene's volume saved beside it
        return image_beside_segmentation(path)[0]
    if images is None:  # a prepared dataset's label map: its image in the split's img folder
        return dataset_image_of(path)
    if images.is_file():
        return images
    return traced_picture_beside(images) if images.suffix.lower() == ".png" else None


def traced_picture_beside(png: Path) -> Path | None:
    """The picture, echo or volume of ``png``'s name in another format (``echo.jpg``,
    ``echo.dcm``, ``echo.nii.gz``, ``echo.mhd`` for ``echo.png``): Save offers ``echo_gt.png``
    for a mask traced over any of them."""
    for suffix in TRACE_SUFFIXES + VOLUME_SUFFIXES:
        for spelled in (suffix, suffix.upper()):
            picture = png.with_name(png.stem + spelled)
            if picture.is_file():
                return picture
    return None


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
    with one_look_per_pair():  # the readers below take the pair as settled here, and say nothing of it
        restored = restore_nifti_pair(path, {})  # said whichever the file turns out to be
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
