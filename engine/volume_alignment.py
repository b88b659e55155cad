"""An image laid on its mask's pixels by where both lie in space, as ITK-SNAP and 3D Slicer lay
a segmentation over its image.

Volumes are read in their storage order (:func:`engine.maskio.read_volume_label`), so an
image and a mask whose files record the same geometry line up pixel for pixel. Two files that
record different ones do not: an image whose direction runs its rows upwards (stored upside
down, as some DICOM converters write) beside a mask stored upright with an identity direction
describes one picture that a viewer shows aligned, while their stored pixels are flipped
against each other. :func:`frames_on_mask_grid` resamples the image's frames onto the mask's
grid in that case (nearest neighbour: a flip or a transpose moves whole pixels, grey levels
unchanged), and says so in one line; frames whose files record the same geometry come back
untouched.

A mask and image that agree, both stored upside down with a direction that flips their rows
back (ITK-SNAP and 3D Slicer show them upright), are read as stored: the studio shows the
heart upside down and ``synthesize`` draws it so in the fan, and :func:`orientation_note`
says so. Showing them as they lie in space was weighed and left for now, for three reasons.
The model and CAMUS are apex-at-top in storage order, and a NIfTI written from an identity
RAS affine carries a direction that turns it by 180 degrees: applying directions in general
would turn such files over, so only a pure row flip could be honoured, one rule for one
direction. Every reader would have to flip alike (mask volumes, image volumes, an ITK-SNAP
workspace's pair, a loop's frames, a Slicer segmentation's cropped block put back), or an
image and its mask would part. And for a saved file's pixels and header to round-trip, the
:class:`engine.maskio.Geometry` read with such a mask would have to carry that its rows were
flipped, and each writer given a geometry (:func:`engine.maskio.write_nifti`,
:func:`engine.slicer_segments.write_segmentation`, :func:`engine.data.camus.write_frame`)
flip them back before writing; a reader or writer missed would misplace a mask over its image
in those viewers, a worse fault than the upside-down view the status line already names.
"""

from __future__ import annotations

import numpy as np

from .maskio import Geometry

SPACING_TOLERANCE = 1e-4  # relative: NIfTI keeps spacing as float32
ORIGIN_TOLERANCE_MM = 1e-3
DIRECTION_TOLERANCE = 1e-4


def in_plane(geometry: Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(spacing, origin, direction) of the frame's two axes in the x-y plane, or None when
    its rows or columns leave that plane (an oblique slice: not resampled)."""
    direction = np.reshape(geometry.direction, (3, 3))
    if np.abs(direction[2, :2]).max() > DIRECTION_TOLERANCE or np.abs(direction[:2, 2]).max() > DIRECTION_TOLERANCE:
        return None
    return np.asarray(geometry.spacing[:2], float), np.asarray(geometry.origin[:2], float), direction[:2, :2]


def same_grid(first: Geometry, second: Geometry) -> bool:
    """Whether two frames' pixels lie at the same places in the x-y plane."""
    a, b = in_plane(first), in_plane(second)
    if a is None or b is None:
        return True  # not compared: frames are shown as stored
    return (first.shape == second.shape and np.allclose(a[0], b[0], rtol=SPACING_TOLERANCE, atol=0)
            and np.allclose(a[1], b[1], rtol=0, atol=ORIGIN_TOLERANCE_MM)
            and np.allclose(a[2], b[2], rtol=0, atol=DIRECTION_TOLERANCE))


def _plane_image(array: np.ndarray, plane):
    """A 2-D SimpleITK image of ``array`` at ``plane`` (spacing, origin, direction)."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    spacing, origin, direction = plane
    image.SetSpacing(tuple(float(v) for v in spacing))
    image.SetOrigin(tuple(float(v) for v in origin))
    image.SetDirection(tuple(float(v) for v in direction.ravel()))
    return image


def frames_on_mask_grid(frames: np.ndarray, image: Geometry, mask: Geometry, image_name: str,
                        mask_name: str) -> tuple[np.ndarray, str | None]:
    """``frames`` (T, H, W) of the image whose file records ``image``, on the pixels of the mask
    whose file records ``mask``: as they are when both record the same grid (or either is
    oblique, or they do not fit their geometry), else resampled onto the mask's grid, with one
    line saying so (or, when they do not overlap at all, as they are, with one line saying
    that)."""
    import SimpleITK as sitk

    if frames.ndim != 3 or not image.fits(frames) or same_grid(image, mask):
        return frames, None
    source, target = in_plane(image), in_plane(mask)
    rows, columns = mask.shape
    grid = _plane_image(np.zeros((rows, columns), frames.dtype), target)
    covered = sitk.Resample(_plane_image(np.ones(frames.shape[1:], np.uint8), source), grid,
                            sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    if not sitk.GetArrayViewFromImage(covered).any():
        return frames, (f"{image_name} and {mask_name} lie apart in space (their spacing, origin or direction "
                        "place them nowhere near each other): the image is shown as stored")
    placed = np.stack([sitk.GetArrayFromImage(sitk.Resample(_plane_image(frame, source), grid, sitk.Transform(),
                                                            sitk.sitkNearestNeighbor, 0))
                       for frame in frames])
    return placed, (f"{image_name} laid on the pixels of {mask_name} as ITK-SNAP and 3D Slicer lay them "
                    "(their headers place them differently)")


def shown_turned(geometry: Geometry) -> str | None:
    """How ITK-SNAP and 3D Slicer show a frame of ``geometry`` against its storage order (row 0
    at the top, as it is read here): "flipped top to bottom", "flipped left to right", "turned
    by 180°", "with its rows and columns swapped", "at an angle"; None when they show it as
    stored (the frame's rows run down the screen and its columns to the right: x and y of ITK's
    space, in their axial view)."""
    plane = in_plane(geometry)
    if plane is None:
        return "at an angle"
    direction = np.round(plane[2], 6)
    if not np.allclose(np.abs(direction), np.round(np.abs(direction)), atol=DIRECTION_TOLERANCE):
        return "at an angle"
    if abs(direction[0, 0]) < 0.5:
        return "with its rows and columns swapped"
    across, down = direction[0, 0] > 0, direction[1, 1] > 0
    return {(True, True): None, (True, False): "flipped top to bottom", (False, True): "flipped left to right",
            (False, False): "turned by 180\u00b0"}[(across, down)]


def orientation_note(geometry: Geometry | None, name: str) -> str | None:
    """One line for a volume ``name`` whose direction makes ITK-SNAP and 3D Slicer show it
    otherwise than it is read here (:func:`shown_turned`); None when they show it alike."""
    turned = shown_turned(geometry) if geometry is not None else None
    if turned is None:
        return None
    return (f"{name}: read as stored, row 0 at the top; its direction has ITK-SNAP and 3D Slicer show it "
            f"{turned}")
