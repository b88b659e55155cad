"""Reading and writing label maps: 8-bit label PNGs and CAMUS ground-truth volumes (and NIfTI
frames of images or masks, as ITK-SNAP and 3D Slicer open them)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import Advice, CardiganError, MaskError, Message, itk_reason
from .fileio import atomic_path, atomic_paths, restore_mixed_pair
from .labels import LABELS, in_sentence, validate_label_map

EXPECTED = ("an 8-bit single-channel label map with values "
            + ", ".join(f"{lab.id} ({in_sentence(lab.name)})" for lab in LABELS))

CAMUS_SUFFIXES = (".mhd", ".nii", ".nii.gz")
# label maps SimpleITK reads: CAMUS's, and NRRD / MetaImage as 3D Slicer and ITK-SNAP save them
VOLUME_SUFFIXES = CAMUS_SUFFIXES + (".nrrd", ".nhdr", ".mha")
PNG_SUFFIXES = (".png",)
NIFTI_SUFFIXES = (".nii.gz", ".nii")
PIXEL_SPACING_MM = 0.6  # in-plane spacing of a 256-pixel-wide frame (it spans ~15 cm)
SPACING_WIDTH = 256  # the width PIXEL_SPACING_MM is for


def pixel_spacing_mm(width: int) -> float:
    """The in-plane spacing written for a frame ``width`` pixels wide: the same ~15 cm field
    at any size (0.6 mm at 256, 0.3 mm at 512), so a viewer's rulers read the same heart
    whatever size it was drawn at."""
    return PIXEL_SPACING_MM * SPACING_WIDTH / max(int(width), 1)


def is_camus_file(path: Path | str) -> bool:
    name = str(path).lower()
    return any(name.endswith(suffix) for suffix in CAMUS_SUFFIXES)


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HDF5_SIGNATURE_OFFSETS = (0, 512, 1024, 2048)  # where the format puts it after a user block
HDF5_MASKS = Advice("hdf5 masks", "`cardigan prepare --source FILE --out FOLDER` writes its masks as PNG label maps")


def hdf5_masks(path) -> Advice:
    """:data:`HDF5_MASKS` for the file at ``path``: the command that writes its masks out."""
    return Advice(HDF5_MASKS.key, f"`cardigan prepare --source {path} --out FOLDER` writes its masks as PNG "
                                  "label maps")


def is_hdf5_file(path: Path | str) -> bool:
    """Whether the file at ``path`` begins (or, after a user block, continues) with HDF5's signature."""
    try:
        with open(path, "rb") as handle:
            for offset in HDF5_SIGNATURE_OFFSETS:
                handle.seek(offset)
                if handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
                    return True
    except OSError:
        return False
    return False


SEGMENTATION_SUFFIXES = (".seg.nrrd",)  # a 3D Slicer segmentation: an NRRD with named segments
MASK_FILE_SUFFIXES = SEGMENTATION_SUFFIXES + VOLUME_SUFFIXES + PNG_SUFFIXES  # a longer suffix first
# the files a folder of label maps is read for, as a help or an error lists them
MASK_FILE_PATTERNS = ", ".join(f"*{suffix}" for suffix in PNG_SUFFIXES + VOLUME_SUFFIXES + SEGMENTATION_SUFFIXES)


def mask_name_stem(name: str) -> str:
    """A label file's name without its suffix (``case.seg.nrrd``, ``case.nii.gz`` -> ``case``;
    any case); a name with none of them is returned as it is."""
    lower = name.lower()
    suffix = next((s for s in MASK_FILE_SUFFIXES if lower.endswith(s)), "")
    return name[: len(name) - len(suffix)]


def is_volume_file(path: Path | str) -> bool:
    """Whether ``path`` names a label map SimpleITK reads (CAMUS, NIfTI, NRRD, MetaImage)."""
    name = str(path).lower()
    return any(name.endswith(suffix) for suffix in VOLUME_SUFFIXES)


def unreadable_reason(exc: BaseException) -> str:
    """Why Pillow could not read a file, in words: not an image format it knows, or what it
    said of a damaged one ("image file is truncated"), never the exception's class name."""
    if isinstance(exc, UnidentifiedImageError):
        return "no image format known here, or damaged"
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return said[:120] or "damaged"


def read_label_png(path: Path | str, stored_as: list[str] | None = None) -> np.ndarray:
    """Read a label PNG into a (H, W) uint8 array of label ids, refusing colour images.
    ``stored_as``, where given, gets how the file holds the ids appended when that is not 8-bit
    grey (:func:`stored_format`)."""
    return read_label_png_and_text(path, stored_as=stored_as)[0]


# how a label map may hold its ids besides 8-bit grey, by Pillow's mode (RGB: all channels equal,
# else it is refused as a colour image; a PNG's "I" is its 16-bit grey)
STORED_FORMATS = {"P": "palette", "RGB": "RGB", "RGBA": "RGBA", "LA": "grey and alpha", "I;16": "16-bit",
                  "I;16B": "16-bit", "I": "16-bit", "1": "1-bit"}


def stored_format(image: Image.Image) -> str | None:
    """How the label map ``image`` holds its ids ("palette", "16-bit", ...), None for 8-bit grey."""
    return STORED_FORMATS.get(image.mode)


# how to open a DICOM echo named as a picture, in the command line's words
TRACE_THE_ECHO = Advice("trace the echo", "rename it .dcm: it is an echo to trace over")


class DicomNamedAsPicture(MaskError):
    """A DICOM file under a picture's name (``scan.png``), told by its marker: an echo to
    trace over, refused as a label map."""


def read_label_png_and_text(path: Path | str, otherwise: Callable[[Image.Image, MaskError], Any] | None = None,
                            by_description: bool = False, notify=None,
                            stored_as: list[str] | None = None) -> tuple[np.ndarray, dict[str, str]] | Any:
    """(:func:`read_label_png`, the PNG's text chunks as :func:`read_png_text` gives them),
    the file opened once: the check of its rows (:func:`check_png_rows`) reads the same handle
    again from its start. ``otherwise``: what a file refused as a label map (a picture: an
    echo of many grey levels, a colour image) is instead, made from the image as it was opened
    and decoded here, given with the refusal (which it raises when the file is nothing else),
    so that a file of either kind is decoded once. A DICOM file under a PNG's name, told by its
    marker as it is opened, is :class:`DicomNamedAsPicture` before any decoding. With ``by_description``, its values are
    read by an ITK-SNAP label description beside it (:func:`png_labels_by_description`, the
    mapping told to ``notify``). ``stored_as``: as :func:`read_label_png` takes it."""
    from .data.dicom_echo import marked_as_dicom

    path = Path(path)
    check_mask_path(path)
    try:
        with open(path, "rb") as handle:
            if marked_as_dicom(handle):  # an echo saved under a picture's name: not decoded as one
                raise DicomNamedAsPicture(Message(f"{path}: a DICOM file, not a label map, though named "
                                                  f"{path.suffix}; ", TRACE_THE_ECHO))
            with Image.open(handle) as image:
                try:
                    read = _label_png(handle, image, path, by_description, notify)
                except MaskError as refusal:
                    if otherwise is None:
                        raise
                    return otherwise(image, refusal)
                if stored_as is not None and (stored := stored_format(image)):
                    stored_as.append(stored)
                return read
    except Image.DecompressionBombError:
        raise MaskError(f"{path}: the image claims to be far larger than any label map (at most "
                        f"{MAX_SIDE}x{MAX_SIDE}); resize it first") from None
    except ValueError as exc:  # Pillow's limits on text chunks (a zTXt/iTXt decompression bomb)
        raise MaskError(f"{path}: its text chunks are far larger than a label map's ({exc}); "
                        "refusing to read it") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        if is_hdf5_file(path):  # a dataset of many masks (the seed's file, an export), not one
            raise MaskError(Message(f"{path}: an HDF5 dataset, not a single label map; ", hdf5_masks(path))) from None
        raise MaskError(f"{path}: not a readable image ({unreadable_reason(exc)})") from None


def _label_png(handle: BinaryIO, image: Image.Image, path: Path, by_description: bool = False,
               notify=None) -> tuple[np.ndarray, dict[str, str]]:
    """The label map and text chunks of the PNG ``image`` opened from ``handle`` (with
    ``by_description``, its values read by a label description beside it:
    :func:`png_labels_by_description`); a :class:`MaskError` for an image that is no label map."""
    if image.width * image.height > MAX_PIXELS:
        raise MaskError(f"{path}: {image.width}x{image.height} is far larger than any label map "
                        f"(at most {MAX_SIDE}x{MAX_SIDE}); resize it first")
    image.load()
    text = {k: v for k, v in getattr(image, "text", {}).items() if isinstance(v, str)}
    if image.format == "PNG":
        where = handle.tell()  # where Pillow goes on from to an animated PNG's next frame
        handle.seek(0)
        check_png_rows(handle, path, image.width, image.height)
        handle.seek(where)
    mode = image.mode
    if mode == "P":
        array = palette_labels(image)
    elif mode in ("L", "I", "I;16", "1"):
        array = np.asarray(image)
    elif mode == "LA":
        array = np.asarray(image)[..., 0]
    elif mode in ("RGB", "RGBA"):
        rgb = np.asarray(image)[..., :3]
        if not ((rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])).all():
            raise MaskError(f"{path}: this is a colour image; expected {EXPECTED}")
        array = rgb[..., 0]
    else:
        raise MaskError(f"{path}: unsupported image mode {mode}; expected {EXPECTED}")
    if by_description:
        array = png_labels_by_description(array, text, path, notify)
    return validate_label_map(array, str(path)), text


def palette_labels(image: Image.Image) -> np.ndarray:
    """The label ids of a palette PNG: the grey levels a viewer shows when every entry it uses
    is grey and those are label ids (a grey map a palette optimiser reordered), else the indices
    (a palette that colours the classes, as Pascal VOC's; or greys scaled for viewing)."""
    indices = np.asarray(image)
    palette = image.getpalette() or []
    entries = np.asarray(palette[: len(palette) - len(palette) % 3], np.int64).reshape(-1, 3)
    used = np.unique(indices)
    if used.size and used.max() < len(entries):
        colours = entries[used]
        grey = (colours[:, 0] == colours[:, 1]).all() and (colours[:, 1] == colours[:, 2]).all()
        if grey and colours[:, 0].max() < len(LABELS):
            return entries[:, 0].astype(np.uint8)[indices]
    return indices


MAX_SIDE = 8192
MAX_PIXELS = MAX_SIDE * MAX_SIDE
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_data_size(width: int, height: int, depth: int, colour: int, interlaced: bool) -> int:
    """Bytes of filtered scanlines a PNG of this header must hold."""
    bits = depth * PNG_CHANNELS.get(colour, 1)
    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * (1 + -(-columns * bits // 8))
    return total


def check_png_rows(handle: BinaryIO, path: Path, width: int, height: int) -> None:
    """Refuse a PNG whose compressed data is complete but holds fewer rows than its header
    claims (Pillow reads the missing rows as 0: background in a label map). ``handle`` reads
    the PNG from its start (the handle Pillow read it from, rewound: the file is opened once),
    ``path`` names it in the error."""
    import struct
    import zlib

    expected, produced = None, 0
    inflate = zlib.decompressobj()
    if handle.read(8) != PNG_SIGNATURE:
        return
    while expected is None or produced < expected:
        head = handle.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        body = handle.read(length)
        handle.seek(4, 1)  # the chunk's CRC (Pillow checked it)
        if kind == b"IHDR" and len(body) >= 13:
            depth, colour, _, _, interlace = struct.unpack(">BBBBB", body[8:13])
            expected = png_data_size(width, height, depth, colour, bool(interlace))
        elif kind == b"IDAT":
            while body and (expected is None or produced < expected):
                produced += len(inflate.decompress(body, 1 << 20))
                body = inflate.unconsumed_tail
        elif kind == b"IEND":
            break
    if expected is not None and produced < expected:
        raise MaskError(f"{path}: the image data ends early ({produced * 100 // expected} % of its "
                        f"{height} rows are there); the file is truncated or damaged")



def check_mask_path(path: Path) -> None:
    """One line for a path that is not a file to read."""
    if path.is_dir():
        raise MaskError(f"{path}: is a folder, not a label map file")
    if path.exists() and not path.is_file():  # a FIFO, a socket, a device
        raise MaskError(f"{path}: not a regular file (a pipe or a device?), not a label map file")
    if not path.is_file():
        raise MaskError(f"{path}: no such file" + (" (a broken link)" if path.is_symlink() else ""))


@dataclass(frozen=True)
class VolumeHeader:
    """What a volume's header says, as SimpleITK read it (with its voxels or alone): its
    dimension and size, spacing, origin and direction (ITK's order), its metadata (a Slicer
    segmentation's segments) and its values per voxel (several: Slicer's overlapping layers).
    Read once with the labels, it is passed along for the geometry and the segments' names."""

    dimension: int
    size: tuple[int, ...]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]
    metadata: dict[str, str]
    components: int

    @classmethod
    def of(cls, source) -> VolumeHeader:
        """The header of a SimpleITK ``Image`` or of an ``ImageFileReader`` that has read it."""
        components = (source.GetNumberOfComponentsPerPixel() if hasattr(source, "GetNumberOfComponentsPerPixel")
                      else source.GetNumberOfComponents())
        return cls(source.GetDimension(), tuple(source.GetSize()), tuple(source.GetSpacing()),
                   tuple(source.GetOrigin()), tuple(source.GetDirection()),
                   {key: source.GetMetaData(key) for key in source.GetMetaDataKeys()}, int(components))


def read_volume_header(path: Path | str) -> VolumeHeader | None:
    """The header of the volume at ``path`` (its voxels are not read), or None when it cannot be read."""
    import SimpleITK as sitk

    from .data.metaimage import native_stderr_silenced

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with native_stderr_silenced():
            reader.ReadImageInformation()
    except RuntimeError:
        return None
    return VolumeHeader.of(reader)


def read_volume_label(path: Path | str, loop: bool = False, notify=None) -> np.ndarray:
    """:func:`read_volume_label_and_header` without the header."""
    return read_volume_label_and_header(path, loop, notify)[0]


def read_volume_label_and_header(path: Path | str, loop: bool = False, notify=None
                                 ) -> tuple[np.ndarray, VolumeHeader]:
    """Read a label map SimpleITK reads (CAMUS ground truth ``.mhd``+``.raw`` or NIfTI, NRRD,
    MetaImage) as a (H, W) label map.

    The pixels are taken in the file's storage order, row 0 at the top: as CAMUS stores its
    frames (apex at the top) and as this project writes NIfTI and NRRD (identity direction).
    The direction matrix is not applied, so a file whose direction turns or flips the picture
    (a NIfTI written from an identity RAS affine, which viewers show turned by 180 degrees)
    opens as stored, not as a viewer turns it (:func:`engine.volume_alignment.orientation_note` says so);
    CAMUS images and masks are read alike. A 3D
    Slicer segmentation (``.seg.nrrd``) has its segments mapped to our classes by their
    standard terminology or names (:mod:`engine.slicer_segments`; a segment read by its
    terminology, which its name does not say, told to ``notify`` in one line:
    :func:`engine.slicer_segments.reading_note`); any other file holds label ids 0-3, or other values named
    by an ITK-SNAP label description beside it (mapped by those names, the mapping told to
    ``notify``: :func:`engine.itksnap_workspace.labels_by_description`; ids 0-3 that such a
    description names otherwise, as an ITK-SNAP user who painted 1 as the wall has it, are
    mapped by their names too). With ``loop``,
    a 2D+t volume's every frame comes back, (T, H, W) (a cine export's ``x_gt.nii.gz``, a CAMUS
    half sequence's ground truth); a 2-D map is then one frame. The file's header comes with
    its labels (:class:`VolumeHeader`), read with them: what needs it (:func:`volume_geometry`,
    :func:`engine.slicer_segments.read_kept_segments`) reads the file no more. A NIfTI pair
    that a write stopped between its two files left mixed is put back as the old pair first,
    told to ``notify`` (:func:`restore_nifti_pair`; in a read-only folder read as the old pair
    where it lies: :func:`nifti_pair_file`).
    """
    import SimpleITK as sitk

    from .data.metaimage import native_stderr_silenced
    from .data.volume_checks import readable_volume
    from .slicer_segments import labels_from_segments, reading_note, segment_layers, segments_of

    path = Path(path)
    check_mask_path(path)
    try:
        # a pair a stopped write left mixed is read as the old pair; a short NIfTI would be read
        # with its missing rows background: refused first; ITK's MetaImage reader prints its complaints
        with nifti_pair_file(path, notify) as source, readable_volume(source, MaskError) as readable, \
                native_stderr_silenced():
            image = sitk.ReadImage(str(readable))
        array = sitk.GetArrayFromImage(image)
        header = VolumeHeader.of(image)
    except RuntimeError as exc:
        raise MaskError(f"{path}: cannot read the volume ({itk_reason(exc, 'unreadable')})") from None
    metadata = header.metadata
    layered = header.components > 1
    segments = segments_of(metadata, str(path), layered)
    if segments:
        told: list = []
        if loop:  # a loop loaded in Slicer as a volume, painted on one frame or several
            slices = segment_layers(array, layered, metadata, str(path), every_slice=True)
            labels = np.stack([labels_from_segments(slices[:, k], segments, str(path), told)
                               for k in range(slices.shape[1])])
        else:
            labels = labels_from_segments(segment_layers(array, layered, metadata, str(path)), segments,
                                          str(path), told)
        line = reading_note(told)
        if line and notify is not None:
            notify(f"{path.name}: {line}")
        return labels, header
    if layered:  # a colour image, or overlapping layers without a Slicer header: no way to tell what they hold
        raise MaskError(f"{path}: holds {header.components} values per pixel (a colour "
                        "image, or segment layers without 3D Slicer's segment names); a label map holds one: "
                        "export it from Slicer as a labelmap volume or a .seg.nrrd")
    if loop:
        frames = np.squeeze(array)
        frames = frames[None] if frames.ndim == 2 else frames
        if frames.ndim != 3:
            raise MaskError(f"{path}: expected 2-D frames, got shape {array.shape}")
        return named_labels(frames, path, notify), header
    array = one_painted_frame(np.squeeze(array), str(path))
    if array.ndim != 2:
        raise MaskError(f"{path}: expected a single 2-D frame, got shape {array.shape}")
    return named_labels(array, path, notify), header


def named_labels(values: np.ndarray, path: Path, notify=None) -> np.ndarray:
    """A plain label map's ``values`` as label ids: as they are, or mapped by an ITK-SNAP
    label description beside ``path`` when they hold other values."""
    from .itksnap_workspace import labels_by_description

    mapped = labels_by_description(values, path, str(path), notify)
    return validate_label_map(values if mapped is None else mapped, str(path))


def one_painted_frame(array: np.ndarray, where: str) -> np.ndarray:
    """Of a stack of frames (T, H, W), the one frame that holds labels (a loop opened in
    ITK-SNAP or Slicer as a volume with one frame painted, as a Slicer segmentation of it is
    read); anything else is returned as it is. Labels on several frames are refused in one line."""
    if array.ndim != 3:
        return array
    painted = painted_frames(array)
    if len(painted) > 1:
        raise MaskError(f"{where}: labels on {len(painted)} frames (of {array.shape[0]}); a mask is one "
                        "2-D frame: keep the labels of one frame")
    return array[painted[0] if painted else 0]


def painted_frames(frames: np.ndarray) -> list[int]:
    """The indices of the frames of a stack (T, H, W) that hold any label."""
    return np.flatnonzero(frames.reshape(len(frames), -1).any(axis=1)).tolist()


@dataclass(frozen=True)
class Geometry:
    """Where a frame's pixels lie in space, as the volume it was read from records it (ITK's
    order: x along columns, y along rows, z across slices): spacing (mm), origin, direction
    (3 x 3, row-major), for a frame of ``shape`` (rows, columns). Written back with a mask of
    that frame, it lays the mask over the image the volume was drawn on, in ITK-SNAP and
    3D Slicer."""

    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    shape: tuple[int, int]

    def fits(self, array: np.ndarray) -> bool:
        return tuple(np.shape(array)[-2:]) == self.shape

    def apply(self, image) -> None:
        """Give the SimpleITK 3-D ``image`` (one slice) this geometry."""
        image.SetSpacing(self.spacing)
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)


def volume_geometry(path: Path | str, slice_index: int = 0, header: VolumeHeader | None = None) -> Geometry | None:
    """The geometry of slice ``slice_index`` of the volume at ``path`` (its header only is
    read, or ``header`` taken when it was read already), or None when it has none to keep (not
    a 2-D or 3-D volume, unreadable). Of a segmentation Slicer saved cropped to its segments,
    whose header describes the saved block, it is the geometry of its reference image's
    frame, where the block is put back (:func:`engine.slicer_segments.reference_block`)."""
    from .slicer_segments import reference_block

    header = read_volume_header(path) if header is None else header
    if header is None:
        return None
    dimension, size = header.dimension, header.size
    if dimension not in (2, 3):
        return None
    spacing, origin = list(header.spacing) + [1.0], list(header.origin) + [0.0]
    direction = np.eye(3)
    direction[:dimension, :dimension] = np.reshape(header.direction, (dimension, dimension))
    try:
        block = reference_block(header.metadata, str(path))
    except MaskError:
        block = None
    if block is not None:  # the saved block's first voxel lies ``start`` voxels into the full frame
        start, size = block
        origin = np.asarray(origin[:3]) - direction @ (np.asarray(spacing[:3]) * np.asarray(start, float))
    origin = np.asarray(origin[:3]) + direction[:, 2] * spacing[2] * slice_index
    return Geometry(tuple(float(v) for v in spacing[:3]), tuple(float(v) for v in origin),
                    tuple(float(v) for v in direction.ravel()), (int(size[1]), int(size[0])))


def fitting_geometry(path: Path | str, labels: np.ndarray, slice_index: int = 0,
                     header: VolumeHeader | None = None) -> tuple[Geometry | None, str | None]:
    """(:func:`volume_geometry` of the volume ``labels`` were read from (``header``: its header,
    when read with them), when it fits them; one line saying it was dropped when the volume
    records a geometry that does not fit)."""
    geometry = volume_geometry(path, slice_index, header)
    if geometry is None or geometry.fits(labels):
        return geometry, None
    (rows, columns), (held_rows, held_columns) = np.shape(labels)[-2:], geometry.shape
    return None, (f"{Path(path).name}: its header describes {held_columns} \u00d7 {held_rows} pixels, not the "
                  f"mask's {columns} \u00d7 {rows}: its spacing and origin were dropped (exports use the "
                  "default grid)")


def read_label_map(path: Path | str, notify=None) -> np.ndarray:
    """Read any supported label file (PNG; CAMUS ``.mhd``/``.nii[.gz]``, NRRD (3D Slicer's
    ``.seg.nrrd`` included), MetaImage ``.mha``, an ITK-SNAP workspace ``.itksnap``); labels
    mapped by the names of an ITK-SNAP label description beside it (or a workspace's label
    table), and a NIfTI pair a stopped write left mixed put back, are told to ``notify``."""
    if is_volume_file(path):
        return read_volume_label(path, notify=notify)
    from .itksnap_workspace import is_workspace_file, read_workspace_label_map

    if is_workspace_file(path):  # an ITK-SNAP workspace: its segmentation layer
        return read_workspace_label_map(path, notify)
    return read_label_map_and_text(path, notify)[0]


def png_labels_by_description(values: np.ndarray, text: dict[str, str], path: Path | str,
                              notify=None) -> np.ndarray:
    """A label PNG's ``values`` mapped by the names of an ITK-SNAP label description beside it,
    as a volume's are (:func:`engine.itksnap_workspace.labels_by_description`, the mapping told
    to ``notify``): values ITK-SNAP numbers labels with (4-6), and ids 0-3 it names otherwise.
    As they are when there is none (values that are not our ids are then refused as a label
    PNG's always were: :func:`engine.labels.validate_label_map`), and for a PNG the studio
    wrote (its fan record among its text chunks ``text``: it holds our ids, whatever a
    description beside it says)."""
    from .fan import FAN_KEY
    from .itksnap_workspace import labels_by_description

    if FAN_KEY in text:
        return values
    values = values.astype(np.uint8) if values.dtype == bool else values  # a 1-bit map's 0 and 1
    mapped = labels_by_description(values, Path(path), str(path), notify, refuse_unnamed=False)
    return values if mapped is None else mapped


def read_label_slice_and_header(path: Path | str, notify=None
                                ) -> tuple[np.ndarray, tuple[int, int] | None, VolumeHeader | None]:
    """(:func:`read_label_map`, which slice of a volume of several it is: (its index, the
    volume's slice count), else None, a volume's header (an ITK-SNAP workspace's
    segmentation's) read with its labels for :func:`fitting_geometry`, else None): the file is
    read once, for the caller to say which slice it took; how a volume's labels were mapped by
    their names is told to ``notify``."""
    from .itksnap_workspace import is_workspace_file, labels_and_header_from_workspace, read_workspace

    if is_workspace_file(path):
        frames, header = labels_and_header_from_workspace(read_workspace(path), loop=True, notify=notify)
    elif not is_volume_file(path):
        return read_label_map(path, notify), None, None
    else:
        frames, header = read_volume_label_and_header(path, loop=True, notify=notify)
    labels = one_painted_frame(frames, str(path))
    if len(frames) == 1:
        return labels, None, header
    return labels, (next(iter(painted_frames(frames)), 0), len(frames)), header


def read_label_map_and_text(path: Path | str, notify=None) -> tuple[np.ndarray, dict[str, str]]:
    """(:func:`read_label_map`, the text chunks a label PNG carries (its fan, its anatomy
    record), empty for any other file), a PNG opened once; labels mapped by the names of an
    ITK-SNAP label description beside it are told to ``notify``."""
    from .itksnap_workspace import is_workspace_file

    if is_volume_file(path) or is_workspace_file(path):
        return read_label_map(path, notify), {}
    return read_label_png_and_text(path, by_description=True, notify=notify)


TRACED_FRAME_KEY = "cardigan-frame"  # PNG text chunk: the loop frame (from 0) a mask was traced over


def traced_frame_in_text(text: dict[str, str], count: int) -> tuple[int | None, str | None]:
    """(the frame of a loop of ``count`` frames that a label PNG's text chunks ``text`` record
    its mask was traced over, or None; why a record there was not taken, or None)."""
    record = text.get(TRACED_FRAME_KEY)
    if record is None:
        return None, None
    frame = int(record) if record.strip().isdigit() else -1
    if not 0 <= frame < count:
        return None, (f"its record of the frame it was traced over ({record[:20]!r}) is not one of the loop's "
                      f"{count}: shown over its first")
    return frame, None


def write_label_png(path: Path | str, labels: np.ndarray, text: dict[str, str] | None = None) -> None:
    """Write a label map as an 8-bit single-channel PNG (atomically); ``text`` goes into PNG
    text chunks (e.g. the anatomy a mask was drawn from)."""
    from PIL.PngImagePlugin import PngInfo

    labels = validate_label_map(labels, str(path))
    if labels.ndim != 2:
        raise MaskError(f"{path}: can only write a single 2-D label map, got {labels.shape}")
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    with atomic_path(path) as tmp:
        Image.fromarray(labels).save(tmp, format="PNG", pnginfo=info)


def read_png_text(path: Path | str) -> dict[str, str]:
    """The text chunks of a PNG (empty for anything unreadable or not a PNG)."""
    try:
        with Image.open(path) as image:
            return {k: v for k, v in getattr(image, "text", {}).items() if isinstance(v, str)}
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return {}  # ValueError: text chunks over Pillow's limits (a decompression bomb)


def write_grey_png(path: Path | str, image: np.ndarray, text: dict[str, str] | None = None) -> None:
    """Write a (H, W) uint8 image as an 8-bit greyscale PNG (atomically); ``text`` goes into
    PNG text chunks (a synthesized image's provenance, :mod:`engine.provenance`)."""
    from PIL.PngImagePlugin import PngInfo

    image = np.asarray(image)
    assert image.ndim == 2 and image.dtype == np.uint8, (image.shape, image.dtype)
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG", pnginfo=info)


def nifti_suffix(path: Path | str) -> str | None:
    """``.nii.gz`` or ``.nii`` when ``path`` names a NIfTI file (any case), else None."""
    name = Path(path).name.lower()
    return next((suffix for suffix in NIFTI_SUFFIXES if name.endswith(suffix)), None)


MASKS_MARK = "_gt"  # the masks of images ``x.nii.gz`` are ``x_gt.nii.gz``, as CAMUS names its ground truth


def _split_suffix(path: Path) -> tuple[str, str]:
    """(``path``'s name without its suffix, the suffix): ``.nii.gz`` whole, else the last one."""
    nifti = nifti_suffix(path)
    suffix = path.name[len(path.name) - len(nifti):] if nifti else path.suffix
    return path.name[: len(path.name) - len(suffix)], suffix


def mask_path_for(path: Path) -> Path:
    """The masks' file beside an images' file: ``x.nii.gz`` -> ``x_gt.nii.gz`` (the one naming
    rule; :func:`images_path_for` goes back)."""
    stem, suffix = _split_suffix(path)
    return path.with_name(stem + MASKS_MARK + suffix)


def images_path_for(path: Path) -> Path | None:
    """The images' file a masks' file was named for (``x_gt.nii.gz`` -> ``x.nii.gz``, the mark
    in any case), or None when ``path`` is not named as masks are."""
    stem, suffix = _split_suffix(path)
    if not stem.lower().endswith(MASKS_MARK) or len(stem) == len(MASKS_MARK):
        return None
    return path.with_name(stem[: -len(MASKS_MARK)] + suffix)


def restore_nifti_pair(path: Path | str, read_from: dict[Path, Path] | None = None) -> str | None:
    """Put back the old pair of NIfTI images and masks (``x.nii.gz`` and ``x_gt.nii.gz``,
    either named) that a write stopped between its two files left mixed
    (:func:`engine.fileio.restore_mixed_pair`, which lists their folder: only when both are
    there); one line saying so, or None. Not NIfTI, or not both there: None (a kill that left
    new images where there were no masks is undone by the pair's next write). A reader passes
    ``read_from``: in a folder that may not be changed, the old file is read from its copy
    kept aside (:func:`nifti_pair_file`). Within :func:`one_look_per_pair`, a pair is looked
    at once: later calls take what the first found and say nothing."""
    path = Path(path)
    if nifti_suffix(path) is None:
        return None
    images = images_path_for(path) or path
    masks = mask_path_for(images)
    looked = _LOOKED_AT.get()
    pair = Path(os.path.abspath(images))
    if looked is not None and pair in looked:  # settled by this read already, and said then
        if read_from is not None:
            read_from.update(looked[pair])
        return None
    if not (images.is_file() and masks.is_file()):  # no pair to read: its folder is not listed
        return None
    restored = restore_mixed_pair([images, masks], read_from)
    if looked is not None:
        looked[pair] = dict(read_from or {})
    return restored


# the NIfTI pairs looked at in the current :func:`one_look_per_pair` block, each with the old
# files its look left to be read from their copies kept aside (None outside such a block)
_LOOKED_AT: ContextVar[dict[Path, dict[Path, Path]] | None] = ContextVar("nifti_pairs_looked_at", default=None)


@contextlib.contextmanager
def one_look_per_pair() -> Iterator[None]:
    """Within the block (one read: a mask and the images beside it, or a file tried as a mask
    then as an image), :func:`restore_nifti_pair` looks at each NIfTI pair once: a mixed pair
    is waited on to settle once, and its line is given at that first look alone; a later look
    gives None and the old files the first one left to be read from their copies kept aside (a
    read-only folder). Blocks nest: an inner one shares the looks of the outer one. Usable as
    a decorator."""
    if _LOOKED_AT.get() is not None:
        yield
        return
    token = _LOOKED_AT.set({})
    try:
        yield
    finally:
        _LOOKED_AT.reset(token)


@contextlib.contextmanager
def nifti_pair_file(path: Path | str, notify=None) -> Iterator[Path]:
    """The file to read for ``path``, for the block, once a NIfTI pair a stopped write left
    mixed is put back as the old pair (:func:`restore_nifti_pair`, told to ``notify``):
    ``path`` itself; or, where the folder is read-only and ``path``'s old content is only in
    the copy kept aside, a copy of that under ``path``'s name in a temporary folder (a volume
    is read by what its name ends in), nothing beside ``path`` changed."""
    import shutil
    import tempfile

    path = Path(path)
    read_from: dict[Path, Path] = {}
    restored = restore_nifti_pair(path, read_from)
    if restored and notify is not None:
        notify(restored)
    kept = next((copy for name, copy in read_from.items() if name.name.lower() == path.name.lower()), None)
    if kept is None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="cardigan-") as folder:
        named = Path(folder) / path.name
        try:
            shutil.copyfile(kept, named)
        except OSError as exc:
            raise CardiganError(f"{kept}: cannot be read ({exc.strerror or exc}); it is the old file of "
                                f"{path}, which a stopped write left mixed in a read-only folder") from None
        yield named


def write_nifti(path: Path | str, array: np.ndarray, spacing_mm: float | None = None,
                geometry: Geometry | None = None, description: str = "") -> None:
    """Write a 2-D frame (H, W) or a stack of frames (T, H, W) as NIfTI, compressed for
    ``.nii.gz``, with ``spacing_mm`` between pixels (by default :func:`pixel_spacing_mm` of
    the frame's width; 1 between frames), atomically: a file
    that was there is kept whole until the new one is complete. Its rows and columns are the
    array's, as :func:`read_volume_label` reads them back. A frame with the ``geometry`` of
    the volume it was read from (when it fits) is written as that volume's slice: one slice
    with its spacing, origin and direction. ``description`` (at most 80 characters, the
    header's field) says where the image came from (:func:`engine.provenance.nifti_description`)."""
    if geometry is not None and np.ndim(array) == 2 and geometry.fits(array):
        image, _ = _nifti_image(Path(path), np.asarray(array)[None], None)
        geometry.apply(image)
    elif description:
        image, _ = _nifti_image(Path(path), array, spacing_mm)
    else:
        write_nifti_files([(Path(path), array)], spacing_mm)
        return
    if description:
        image.SetMetaData("ITK_FileNotes", description[:80])  # ITK's name for the NIfTI description
    write_itk_image(Path(path), image, nifti_suffix(path), compress=nifti_suffix(path) == ".nii.gz")


def write_nifti_files(files: list[tuple[Path, np.ndarray]], spacing_mm: float | None = None,
                      checkpoint: Callable[[int], None] | None = None) -> None:
    """Several NIfTI files written as one (a loop's images and its masks): each is written as
    :func:`write_nifti` writes it, none replaces its file before all are complete, and if one
    cannot replace its file the ones that did are put back (:func:`engine.fileio.atomic_paths`):
    the paths hold all the new files or all the old ones. ``checkpoint(done)`` is called before
    each file is written and once all are (``done`` of them complete under temporary names);
    if it raises, none replaces its file."""
    images = [(Path(path), *_nifti_image(Path(path), array, spacing_mm)) for path, array in files]
    if len(images) > 1:  # files a stopped write of them left mixed are whole again, then replaced
        restore_mixed_pair([path for path, _, _ in images])
    with atomic_paths([path for path, _, _ in images]) as tmps:
        for done, (tmp, (path, image, suffix)) in enumerate(zip(tmps, images)):
            if checkpoint is not None:
                checkpoint(done)
            _write_itk_into(tmp, path, image, suffix, compress=suffix == ".nii.gz")
        if checkpoint is not None:
            checkpoint(len(images))


def _nifti_image(path: Path, array: np.ndarray, spacing_mm: float | None):
    """(SimpleITK image, NIfTI suffix) for ``array`` going to ``path``; one line if either is wrong."""
    import SimpleITK as sitk

    suffix = nifti_suffix(path)
    if suffix is None:
        raise CardiganError(f"{path}: a NIfTI file name ends in .nii.gz or .nii")
    array = np.ascontiguousarray(array)
    if array.ndim not in (2, 3):
        raise CardiganError(f"{path}: expected a frame or a stack of frames, got shape {array.shape}")
    image = sitk.GetImageFromArray(array)  # (T, H, W) -> columns x rows x frames
    spacing_mm = pixel_spacing_mm(array.shape[-1]) if spacing_mm is None else spacing_mm
    image.SetSpacing((spacing_mm, spacing_mm, 1.0)[: array.ndim])
    image.SetOrigin((0.0,) * array.ndim)
    return image, suffix


def write_itk_image(path: Path, image, suffix: str, compress: bool) -> None:
    """Write a SimpleITK ``image`` to ``path`` atomically (a file that was there is kept whole
    until the new one is complete); ``suffix`` picks ITK's writer (``.nii.gz``, ``.nrrd``),
    whatever ``path`` is called. A failure is one line naming ``path``."""
    with atomic_path(path) as tmp:
        _write_itk_into(tmp, path, image, suffix, compress)


def _write_itk_into(tmp: Path, path: Path, image, suffix: str, compress: bool) -> None:
    """``image`` written to the temporary file ``tmp`` (for ``path``)."""
    import shutil

    import SimpleITK as sitk

    # ITK picks its writer by the file's suffix, so it writes into a hidden folder of its own:
    # whatever a killed write leaves is never a file beside ``path`` that ends like a volume
    # (and goes with the next write of ``path``: :func:`engine.files_together.new_staging_folder`)
    from .data.metaimage import native_stderr_silenced
    from .data.volume_checks import check_written_volume
    from .files_together import new_staging_folder

    staging = new_staging_folder(tmp.parent, path.name)
    try:
        named = staging / f"volume{suffix}"
        with native_stderr_silenced():  # a full disk is said by the check below, in one line
            sitk.WriteImage(image, str(named), compress)
        check_written_volume(named, path)
        named.replace(tmp)
    except RuntimeError as exc:
        raise CardiganError(f"{path}: cannot write ({itk_reason(exc, 'failed')})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
