"""The image a 3D Slicer segmentation was saved beside.

Slicer saves a scene's volume and its segmentation side by side: ``case.nrrd`` (or
``.nhdr``, ``.nii.gz``, ``.nii``, ``.mha``, ``.mhd``) next to ``case.seg.nrrd``, or, under
Slicer's default names, ``Case.nrrd`` next to ``Segmentation.seg.nrrd``. A segmentation's
header records the geometry of the image it was drawn on (its conversion parameters'
"Reference image geometry"), never that image's file or node name, so the image is found by
its name (:func:`image_beside_segmentation`): the volume of the segmentation's own stem when
there is exactly one; else, when the segmentation's stem names no volume, the folder's one
image volume (other segmentations, masks named ``x_gt`` and Slicer's labelmap exports
``x-label`` are not images). Two candidates are never guessed between: no image is taken, and
one line says why. Whether the image found fits the mask (its grid, or where it lies in
space) is for the reader to tell (:func:`engine.volume_alignment.frames_on_mask_grid`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .maskio import images_path_for
from .slicer_segments import SEGMENTATION_SUFFIX

# the volumes Slicer saves a scene's image as, a longer suffix first
IMAGE_SUFFIXES = (".nii.gz", ".nrrd", ".nhdr", ".nii", ".mha", ".mhd")
LABELMAP_MARK = "-label"  # Slicer names a labelmap volume exported from a segmentation "<name>-label"
MAX_LISTED = 4096  # folder entries looked at for the one image beside a segmentation


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
    """(the image the Slicer segmentation ``path`` was saved beside, or None; one line when
    several lie there and none was taken, else None): the one volume named as it is
    (``case.nrrd`` for ``case.seg.nrrd``, looked up by name); when it names none, the folder's
    one image volume (:func:`is_image_volume`). None for any other file."""
    path = Path(path)
    if not is_slicer_segmentation(path):
        return None, None
    stem = path.name[: len(path.name) - len(SEGMENTATION_SUFFIX)]
    named = [path.with_name(stem + suffix) for suffix in IMAGE_SUFFIXES
             if path.with_name(stem + suffix).is_file()]
    if not named:
        named = _images_in(path.parent)
    if len(named) == 1:
        return named[0], None
    if len(named) > 1:
        return None, (f"{path.name}: {' and '.join(sorted(file.name for file in named[:2]))} lie beside it; "
                      "which one it was drawn on cannot be told, so no image was brought under it")
    return None, None


def _images_in(folder: Path) -> list[Path]:
    """The image volumes in ``folder`` (:func:`is_image_volume`), listed until a second is
    found; none in a folder of more than :data:`MAX_LISTED` entries, which is not all looked at."""
    found: list[Path] = []
    try:
        with os.scandir(folder) as entries:
            for looked, entry in enumerate(entries):
                if looked >= MAX_LISTED:  # not every file looked at: none is taken for the only one
                    return []
                if is_image_volume(entry.name) and entry.is_file():
                    found.append(Path(entry.path))
                    if len(found) > 1:
                        break
    except OSError:
        return []
    return found
