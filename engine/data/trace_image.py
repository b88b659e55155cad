"""An echocardiogram of one's own, made ready to trace a label map over it.

The studio's File › Open image to trace reads a grey image (PNG, JPEG, BMP, TIFF or GIF; NIfTI
or MetaImage; a scanner's DICOM file, cut to its ultrasound region, :mod:`.dicom_echo`), every
frame of a loop (a 2D+t volume, a DICOM cine, an animated GIF such as ``cardigan cine --out
x.gif`` writes, a multi-page TIFF), squashes it to the square size the masks are painted at, as ``cardigan prepare`` does with CAMUS frames, and fits the probe's
fan to it, so that the mask traced over it is synthesized in that image's own sector.

Images that are not 8-bit are scaled from their own darkest to their brightest value; 8-bit
ones keep their grey levels. A dim image, one whose bright end (the 99.5th percentile of its
pixels above black: the sector's, not the black around it, measured on a sample) lies in the
bottom quarter of that range, would be shown nearly black: it is stretched so that its bright
end is white, its black kept black and the few pixels brighter than that end clipped (an
8-bit one at most 16-fold: one darker than that holds little but noise). So an 8-bit frame of
grey levels 0..60 is traced over as 0..255, and a 16-bit one whose echoes use a small part of
the range beside a few saturated pixels (a burnt-in marker) is not lost in black. A DICOM
echo's frames are measured as read (cut to their ultrasound region, through their window), a
loop's all alike. A dataset's images (``cardigan prepare`` of image and label folders) are
not stretched: their grey levels are what a model learns. A colour image is read as its luminance. A file is
read as what it holds where its name says otherwise: a DICOM file named ``.png`` or ``.jpg`` by
its marker, a picture named ``.dcm`` as the picture. A NIfTI loop with its masks' file
beside it (a cine export's ``x.nii.gz`` and ``x_gt.nii.gz``) that a stopped write left mixed
is put back as the old pair first, as its masks' readers do
(:func:`engine.maskio.restore_nifti_pair`; in a read-only folder read as the old pair where
it lies: :func:`engine.maskio.nifti_pair_file`), and said in one line. Anything unreadable is a
one-line :class:`~engine.errors.DataError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fan import Fan
from ..maskio import VolumeHeader, nifti_pair_file
from .camus import read_volume_and_header
from .dicom_echo import (DICOM_SUFFIXES, decoded_bytes_of, has_dicom_marker, is_dicom_file, marked_as_dicom,
                         read_dicom_frames)
from .imaging import resize_image

VOLUME_SUFFIXES = (".nii.gz", ".nii", ".mhd", ".mha", ".nrrd", ".nhdr")
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".bmp", ".tif", ".tiff")  # pictures never a label map (PNG may be either)
LOOP_PICTURE_SUFFIXES = (".gif",)  # a still or an animated loop (`cardigan cine`), never a label map
# what opens to trace over by its name alone: pictures, GIF loops and DICOM echoes (.dicom_echo),
# which are cut to their ultrasound region and so are not paired with label maps drawn on the
# whole frame
TRACE_SUFFIXES = PICTURE_SUFFIXES + LOOP_PICTURE_SUFFIXES + DICOM_SUFFIXES
# pictures by their names, not opened to look for a DICOM marker
NOT_DICOM_NAMES = (".png",) + PICTURE_SUFFIXES + LOOP_PICTURE_SUFFIXES
DIM_SHARE = 0.25  # an image whose bright end lies within this share of its range is dim
BRIGHT_END = 99.5  # percentile of the pixels above black taken as an image's bright end
BRIGHT_SAMPLE = 250_000  # about how many pixels the bright end is measured on
DIMMEST_END = 16  # an 8-bit image is brightened as if its bright end were at least this


@dataclass
class TraceImage:
    """An image to trace over: ``image`` (size, size) uint8; ``fan`` fitted to it (the view's
    median fan when no sector was found, ``fit`` 0); ``original`` its (height, width);
    ``frames`` (T, size, size) every frame of a loop, squashed alike (``image`` is the first;
    one frame for a picture); ``notes`` what reading it told (a mixed pair put back)."""

    image: np.ndarray
    fan: Fan
    fit: float
    original: tuple[int, int]
    frames: np.ndarray | None = None
    notes: tuple[str, ...] = ()


def read_grey_image(path: Path | str, stretch_dim: bool = True) -> np.ndarray:
    """A 2-D uint8 image from a picture, a NIfTI/MetaImage/NRRD file or a DICOM echo (the
    first frame of a loop); ``stretch_dim`` False keeps a dim image as dim as it is (a
    dataset's image, whose grey levels are what a model learns)."""
    return read_grey_frames(path, first_only=True, stretch_dim=stretch_dim)[0]


def read_grey_frames(path: Path | str, first_only: bool = False, stretch_dim: bool = True,
                     notify: Callable[[str], None] | None = None) -> np.ndarray:
    """(T, H, W) uint8: a picture's one frame, or every frame of a 2D+t volume or a DICOM cine
    (``first_only``: the first alone), all scaled alike to 8 bits. A NIfTI pair a stopped
    write left mixed is put back first, told to ``notify``."""
    return read_grey_frames_and_header(path, first_only, stretch_dim, notify)[0]


def read_grey_frames_and_header(path: Path | str, first_only: bool = False, stretch_dim: bool = True,
                                notify: Callable[[str], None] | None = None
                                ) -> tuple[np.ndarray, VolumeHeader | None]:
    """(:func:`read_grey_frames`, the header of a volume read with its frames, else None)."""
    path = Path(path)
    header = None
    if path.is_dir():
        raise DataError(f"{path}: is a folder; give one image file from it (a DICOM, PNG, NIfTI or MHD)")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(VOLUME_SUFFIXES):
        with nifti_pair_file(path, notify) as source:  # a pair a stopped write left mixed is read as the old pair
            frames, header = _volume_frames(source)
        frames = frames[:1] if first_only else frames
    elif not name.endswith(NOT_DICOM_NAMES) and is_dicom_file(path):  # a scanner's file, any name
        frames = _dicom_else_picture(path, first_only)
    else:
        frames = _picture_else_dicom(path, first_only)
    return _to_grey(frames, path, stretch_dim), header


def _picture_else_dicom(path: Path, first_only: bool) -> np.ndarray:
    """A picture's frames; a DICOM file named as a picture (``scan.png``), told by its marker
    as the file is opened (:func:`_picture_frames`), read as the DICOM file it is, never
    decoded as a picture. Its name said nothing of
    its size: under :func:`engine.cine.writers.decoded_at_most` it is sized by its header
    first, as any DICOM file is, and a cine that decodes to more is refused before its frames
    are decoded (:class:`engine.cine.writers.LoopTooLarge`)."""
    try:
        return _picture_frames(path, first_only)
    except _MarkedAsDicom:
        return _dicom_frames_sized(path, first_only)


class _MarkedAsDicom(Exception):
    """A file opened as a picture holds the DICOM marker: it is read as DICOM, not decoded."""


def read_dicom_grey_frames(path: Path | str) -> np.ndarray:
    """:func:`read_grey_frames` of a file known to be DICOM by its marker, whatever its name
    (``scan.png``): read as DICOM at once, sized first as :func:`_picture_else_dicom` sizes it."""
    path = Path(path)
    return _to_grey(_dicom_frames_sized(path, False), path, True)


def _dicom_frames_sized(path: Path, first_only: bool) -> np.ndarray:
    """A DICOM file's frames, a cine's sized by its header before they are decoded, in the
    open that reads them (under a limit the studio reads at once only files whose size on
    disk is within it, so reading one whole first costs little)."""
    from ..cine.writers import within_decoded_limit

    if first_only:
        return read_dicom_frames(path, True)
    return read_dicom_frames(path, before_decoding=lambda header: within_decoded_limit(
        path, lambda: decoded_bytes_of(header)))


def _dicom_else_picture(path: Path, first_only: bool) -> np.ndarray:
    """A DICOM file's frames; a picture named as DICOM (``echo.dcm`` holding a PNG), which has
    no DICOM marker, read as the picture it is. When it is neither, the DICOM refusal stands."""
    try:
        return read_dicom_frames(path, first_only)
    except DataError as refusal:
        if has_dicom_marker(path):
            raise
        try:
            return _picture_frames(path, first_only)
        except DataError:
            raise refusal from None


def _picture_frames(path: Path, first_only: bool = False) -> np.ndarray:
    """A picture's frames (T, H, W): one for a still, every frame of an animated GIF (a cine
    loop ``cardigan cine --out x.gif`` wrote) or of a multi-page TIFF (``first_only``: the first
    alone), each turned upright as the file records; frames of unequal sizes are one line. A
    file with the DICOM marker (told by the same open) is :class:`_MarkedAsDicom`, not decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as handle:
            if marked_as_dicom(handle):
                raise _MarkedAsDicom(path)
            with Image.open(handle) as picture:
                return _frames_of(picture, path, first_only)
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not an image that can be read ({exc.__class__.__name__})") from None


def grey_frames_of_picture(picture, path: Path | str, stretch_dim: bool = True) -> np.ndarray:
    """:func:`read_grey_frames` of the picture at ``path`` from ``picture``, the PIL image it
    was opened as (and perhaps decoded as, by a reader that tried it as a label map first):
    the file is not read again."""
    from PIL import UnidentifiedImageError

    path = Path(path)
    try:
        frames = _frames_of(picture, path)
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not an image that can be read ({exc.__class__.__name__})") from None
    return _to_grey(frames, path, stretch_dim)


def _frames_of(picture, path: Path, first_only: bool = False) -> np.ndarray:
    """The frames (T, H, W) of the open PIL image ``picture`` (:func:`_picture_frames`)."""
    from itertools import islice

    from PIL import ImageSequence

    sequence = ImageSequence.Iterator(picture)
    frames = [_picture_frame(frame) for frame in (islice(sequence, 1) if first_only else sequence)]
    shapes = {frame.shape for frame in frames}
    if len(shapes) > 1:
        raise DataError(f"{path}: its {len(frames)} frames are not all one size ({' and '.join(map(str, sorted(shapes)[:2]))})")
    return np.stack(frames)


def _picture_frame(frame) -> np.ndarray:
    """One frame of a picture as a 2-D array: 16-bit and float kept wide, anything else as
    8-bit luminance, a photo turned as its camera recorded it."""
    from PIL import ImageOps

    upright = ImageOps.exif_transpose(frame)
    mode = upright.mode
    wide = mode.startswith("I;16") or mode in ("I", "F")  # 16-bit either byte order: not clipped to 255
    return np.asarray(upright if wide else upright.convert("L"))


def _volume_frames(path: Path) -> tuple[np.ndarray, VolumeHeader]:
    """(A NIfTI or MetaImage file's frames (T, H, W): read as CAMUS files are (headers checked,
    one line for anything unreadable); a colour picture as its mean, the file's header)."""
    array, header = read_volume_and_header(path, "volume")
    array = np.squeeze(array)
    if array.ndim == 3 and array.shape[-1] in (3, 4):  # a colour picture stored as a volume
        array = array[..., :3].mean(axis=-1)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise DataError(f"{path}: expected an image or a 2D+t sequence, got shape {array.shape}")
    return array, header


def _to_grey(frames: np.ndarray, path: Path, stretch_dim: bool = True) -> np.ndarray:
    """(T, H, W) uint8 from frames of any value type, a dim image stretched when
    ``stretch_dim`` (module docstring)."""
    if frames.ndim != 3 or min(frames.shape[1:]) < 8:
        raise DataError(f"{path}: expected a 2-D image of at least 8 x 8 pixels, got shape {frames.shape[1:]}")
    if frames.dtype == np.uint8:
        if not stretch_dim:
            return frames
        bright = _bright_end(frames, 0)
        if bright is None or bright >= DIM_SHARE * 255:
            return frames
        gain = 255.0 / max(bright, DIMMEST_END)
        table = np.round(np.minimum(np.arange(256) * gain, 255)).astype(np.uint8)
        return table[frames]
    values = frames if frames.dtype == np.float32 else frames.astype(np.float64)  # a colour echo's luminance: no copy
    if not np.isfinite(values).all():
        raise DataError(f"{path}: the image holds NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(frames.shape, np.uint8)
    bright = _bright_end(values, lo) if stretch_dim else None
    if bright is not None and bright - lo < DIM_SHARE * (hi - lo):
        hi = bright
    scaled = values - lo
    scaled *= 255.0 / (hi - lo)
    np.minimum(scaled, 255, out=scaled)
    return np.round(scaled, out=scaled).astype(np.uint8)


def _bright_end(values: np.ndarray, black: float) -> float | None:
    """The :data:`BRIGHT_END` percentile of the pixels of ``values`` above ``black``, taken on
    an even sample of about :data:`BRIGHT_SAMPLE` of them (every frame, row and column alike);
    None when no pixel is above black."""
    stride = max(1, int(np.ceil((values.size / BRIGHT_SAMPLE) ** (1 / 3))))
    sample = values[::stride, ::stride, ::stride]
    lit = sample[sample > black]
    return float(np.percentile(lit, BRIGHT_END)) if lit.size else None


def squashed_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W) grey frames squashed to (T, size, size), as an image opened to trace over is
    (and so, opened again under the mask traced over it, it lies as it did then)."""
    return np.stack([resize_image(frame, size) for frame in frames])


def image_to_trace(path: Path | str, size: int = 256, view: str | None = None,
                   image: np.ndarray | None = None, first_only: bool = False) -> TraceImage:
    """``path``'s image at ``size`` x ``size`` with the fan fitted to it (``view`` names the
    median fan used when the image holds no sector); a loop's frames come squashed alike
    (``first_only``: its first frame alone, for the fan). ``image`` is that file's grey image
    (H, W) or frames (T, H, W) when the caller has read them already
    (:func:`read_grey_frames`), so the file is not read twice."""
    from .image_fans import fit_image_fan

    notes: list[str] = []
    if image is None:
        frames = read_grey_frames(path, first_only, notify=notes.append)
    else:
        frames = image[None] if image.ndim == 2 else image
    squashed = squashed_frames(frames, size)
    fan, fit = fit_image_fan(squashed[0], view)
    return TraceImage(squashed[0], fan, fit, frames.shape[1:], squashed, tuple(notes))
