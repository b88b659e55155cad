"""The image a 3D Slicer segmentation was saved beside.

Slicer saves a scene's volume and its segmentation side by side: ``case.nrrd`` (or
``.nhdr``, ``.nii.gz``, ``.nii``, ``.mha``, ``.mhd``) next to ``case.seg.nrrd``, or, under
Slicer's default names, ``Case.nrrd`` next to ``Segmentation.seg.nrrd``. A segmentation's
header records the geometry of the image it was drawn on (its conversion parameters'
"Reference image geometry"), never that image's file or node name, so the image is found by
its name and its geometry (:func:`image_beside_segmentation`): the volumes of the
segmentation's own stem, or, when it names none, the folder's image volumes (other
segmentations, masks named ``x_gt`` and Slicer's labelmap exports ``x-label`` are not images).
A volume whose voxels are a few small whole numbers is a label map saved under an image's name
(``case.nrrd`` exported from the segmentation), never the echo (:func:`holds_labels`). Of
several, the one whose size, spacing, origin and direction are the segmentation's is taken;
when more than one is (or none is), the first by name, those named after the segmentation
first, and one line names it and the others left. Whether the image taken fits the mask (its
grid, or where it lies in space) is for the reader to tell
(:func:`engine.volume_alignment.frames_on_mask_grid`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .labels import joined
from .maskio import Geometry, images_path_for, read_volume_header, volume_geometry
from .slicer_segments import SEGMENTATION_SUFFIX
from .volume_alignment import DIRECTION_TOLERANCE, ORIGIN_TOLERANCE_MM, SPACING_TOLERANCE

# the volumes Slicer saves a scene's image as, a longer suffix first
IMAGE_SUFFIXES = (".nii.gz", ".nrrd", ".nhdr", ".nii", ".mha", ".mhd")
LABELMAP_MARK = "-label"  # Slicer names a labelmap volume exported from a segmentation "<name>-label"
MAX_LISTED = 4096  # folder entries looked at for the images beside a segmentation
MAX_CANDIDATES = 8  # image volumes beside a segmentation whose headers are read to choose one
LABEL_VALUES = 16  # a volume whose first slice (or middle one) holds only whole numbers 0 to this holds labels


def is_slicer_segmentation(path: Path | str) -> bool:
    return Path(path).name.lower().endswith(SEGMENTATION_SUFFIX)


def image_suffix(name: str) -> str | None:
    """The image volume suffix ``name`` ends in (any case), or None."""
    lower = name.lower()
    return next((suffix for suffix in IMAGE_SUFFIXES if lower.endswith(suffix)), None)


def is_image_volume(name: str) -> bool:
    """Whether a file named ``name`` may be a scene's image: a volume that is no segmentation,
    no mask named as masks are (``x_gt.nii.gz``) and no labelmap Slicer exported (``x-label.nrrd``)."""
    suffix = image_suffix(name)
    if suffix is None or name.lower().endswith(SEGMENTATION_SUFFIX):
        return False
    stem = name[: len(name) - len(suffix)]
    return not stem.lower().endswith(LABELMAP_MARK) and images_path_for(Path(name)) is None


def image_beside_segmentation(path: Path | str) -> tuple[Path | None, str | None]:
    """(the image the Slicer segmentation ``path`` was saved beside, or None; one line naming
    the volumes beside it that were passed over and why, else None): of the volumes named as
    it is (``case.nrrd`` for ``case.seg.nrrd``), or when none is an image, of the folder's
    image volumes (:func:`is_image_volume`), those that are no label map (:func:`holds_labels`);
    of several, the one on the segmentation's grid (:func:`same_place`), else the first by
    name, those whose names start with the segmentation's stem first. None for any other file."""
    path = Path(path)
    if not is_slicer_segmentation(path):
        return None, None
    stem = path.name[: len(path.name) - len(SEGMENTATION_SUFFIX)]
    named = [path.with_name(stem + suffix) for suffix in IMAGE_SUFFIXES if path.with_name(stem + suffix).is_file()]
    labelmaps = [file for file in named if holds_labels(file)]
    images = [file for file in named if file not in labelmaps]
    if not images:
        listed = _images_in(path.parent)
        if len(listed) > MAX_CANDIDATES:
            return None, (f"{path.name}: {len(listed)} image volumes lie beside it; which one it was drawn on "
                          "cannot be told, so no image was brought under it")
        found = [file for file in listed if file not in labelmaps]
        labelmaps += [file for file in found if holds_labels(file)]
        images = [file for file in found if file not in labelmaps]
    images.sort(key=lambda file: (not file.name.lower().startswith(stem.lower()), file.name))
    left = (f"{_names(labelmaps)} beside it {'hold' if len(labelmaps) > 1 else 'holds'} labels, not an echo: "
            "left") if labelmaps else None
    if len(images) <= 1:
        return (images[0] if images else None), (f"{path.name}: {left}" if left else None)
    taken, why = _chosen(path, images)
    others = [file for file in images if file != taken]
    line = f"{path.name}: {taken.name} taken, {why}; {_names(others)} left"
    return taken, line + (f"; {left}" if left else "")


def _chosen(path: Path, images: list[Path]) -> tuple[Path, str]:
    """(the one of several ``images``, in the order they are taken in, to show under the
    segmentation ``path``; why it was taken)."""
    grid = segmentation_grid(path)
    on_grid = [file for file in images if grid is not None and same_place(_image_grid(file), grid)]
    if len(on_grid) == 1:
        return on_grid[0], "the one beside it on its grid"
    if on_grid:
        return on_grid[0], f"the first by name of the {len(on_grid)} on its grid (those named after it first)"
    return images[0], "the first by name (those named after it first), none lying on its grid"


def holds_labels(path: Path) -> bool:
    """Whether the volume at ``path`` is a label map, not an image: its first slice holds only
    whole numbers from 0 to :data:`LABEL_VALUES`, as Slicer numbers a labelmap's segments (an
    echo, even one mostly black, has many grey levels, and brighter ones). A first slice of one
    value (a 3-D echo's black edge, a labelmap's empty slice) tells nothing: the middle slice is
    read in its place, and a volume of one value there too is no label map. An unreadable
    volume is no label map."""
    import SimpleITK as sitk

    from .data.metaimage import native_stderr_silenced

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with native_stderr_silenced():
            reader.ReadImageInformation()
            size = list(reader.GetSize())
            if reader.GetNumberOfComponents() != 1 or len(size) not in (2, 3):
                return False
            values = _slice_values(reader, size, 0)
            if len(values) == 1 and len(size) == 3 and size[2] > 1:
                values = _slice_values(reader, size, size[2] // 2)
    except RuntimeError:
        return False
    return bool(len(values) > 1 and values.min() >= 0 and values.max() <= LABEL_VALUES
                and np.all(np.mod(values, 1) == 0))


def _slice_values(reader, size: list[int], index: int) -> np.ndarray:
    """The distinct values of slice ``index`` of the volume ``reader`` (information read) holds."""
    import SimpleITK as sitk

    if len(size) == 3:
        reader.SetExtractIndex([0, 0, index])
        reader.SetExtractSize(size[:2] + [1])
    return np.unique(sitk.GetArrayFromImage(reader.Execute()))


def segmentation_grid(path: Path) -> tuple[Geometry, int] | None:
    """(the geometry of the first slice of the image the segmentation ``path`` was drawn on,
    its slice count), from its header (:func:`engine.maskio.volume_geometry`; a segmentation
    saved cropped to its segments gives its reference image's), or None when unreadable."""
    from .errors import MaskError
    from .slicer_segments import reference_block

    header = read_volume_header(path)
    geometry = volume_geometry(path, 0, header) if header is not None else None
    if geometry is None:
        return None
    try:
        block = reference_block(header.metadata, str(path))
    except MaskError:
        block = None
    return geometry, (block[1][2] if block is not None else _depth(header.size))


def _image_grid(path: Path) -> tuple[Geometry, int] | None:
    header = read_volume_header(path)
    geometry = volume_geometry(path, 0, header) if header is not None else None
    return (geometry, _depth(header.size)) if geometry is not None else None


def _depth(size: tuple[int, ...]) -> int:
    return int(size[2]) if len(size) > 2 else 1


def same_place(first: tuple[Geometry, int] | None, second: tuple[Geometry, int] | None) -> bool:
    """Whether two volumes' voxels lie at the same places: the same size, spacing, origin and direction."""
    if first is None or second is None:
        return False
    (a, a_depth), (b, b_depth) = first, second
    return (a.shape == b.shape and a_depth == b_depth
            and np.allclose(a.spacing, b.spacing, rtol=SPACING_TOLERANCE, atol=0)
            and np.allclose(a.origin, b.origin, rtol=0, atol=ORIGIN_TOLERANCE_MM)
            and np.allclose(a.direction, b.direction, rtol=0, atol=DIRECTION_TOLERANCE))


def _names(files: list[Path]) -> str:
    return joined([file.name for file in files])


def _images_in(folder: Path) -> list[Path]:
    """The image volumes in ``folder`` (:func:`is_image_volume`), listed until one more than
    :data:`MAX_CANDIDATES` is found; none in a folder of more than :data:`MAX_LISTED` entries,
    which is not all looked at."""
    found: list[Path] = []
    try:
        with os.scandir(folder) as entries:
            for looked, entry in enumerate(entries):
                if looked >= MAX_LISTED:  # not every file looked at: none is taken for the only one
                    return []
                if is_image_volume(entry.name) and entry.is_file():
                    found.append(Path(entry.path))
                    if len(found) > MAX_CANDIDATES:
                        break
    except OSError:
        return []
    return found
