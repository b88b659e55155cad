"""Frames from any source -> the prepared form: 8-bit images, label maps, one size.

Images are resized with an antialiased (area-like) bilinear filter, label maps with nearest
neighbour, each axis independently (CAMUS frames are not square). PNG writing here is not
atomic on purpose: it writes into a staging folder that becomes the dataset as a whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DataError
from ..labels import NUM_CLASSES, validate_label_map

PNG_COMPRESS_LEVEL = 1  # fast; label maps still shrink ~50x, speckle barely compresses anyway


def to_uint8_image(array: np.ndarray, where: str) -> np.ndarray:
    """An image as uint8: uint8 as is, floats in [0, 1] scaled by 255, integers in 0..255.

    Anything else (negative values, floats above 1, 16-bit ranges) is refused, not clipped.
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype == np.uint8:
        return array
    if array.size == 0:
        raise DataError(f"{where}: empty image")
    if array.dtype.kind == "f":
        lo, hi = float(array.min()), float(array.max())  # NaN and inf show up here too
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise DataError(f"{where}: image holds NaN or infinite values")
        if lo < -1e-3 or hi > 1.0 + 1e-3:
            raise DataError(f"{where}: float image values must lie in [0, 1], found {lo:g}..{hi:g}")
        scaled = array * np.float32(255.0)
        scaled += np.float32(0.5)  # round half up; the tolerance above keeps it in 0..255.75
        return np.clip(scaled, 0.0, 255.0).astype(np.uint8)
    if array.dtype.kind in "iub":
        lo, hi = int(array.min()), int(array.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{where}: integer image values must lie in 0..255, found {lo}..{hi}")
        return array.astype(np.uint8)
    raise DataError(f"{where}: unsupported image data type {array.dtype}")


def check_pair(image: np.ndarray, labels: np.ndarray, where: str) -> np.ndarray:
    """Validate a label map against its image; returns the labels as uint8."""
    if image.ndim != 2:
        raise DataError(f"{where}: expected a 2-D image, got shape {image.shape}")
    labels = np.asarray(labels)
    if not (labels.dtype == np.uint8 and labels.ndim == 2 and labels.size and labels.max() < NUM_CLASSES):
        labels = validate_label_map(labels, where)  # the slow path names the bad values
    if labels.shape != image.shape:
        raise DataError(f"{where}: mismatched sizes, image {image.shape[1]}x{image.shape[0]} "
                        f"but label map {labels.shape[1]}x{labels.shape[0]}")
    return labels


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W) uint8 -> (size, size) uint8, antialiased bilinear (area-like when shrinking)."""
    if image.shape == (size, size):
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))


def resize_labels(labels: np.ndarray, size: int) -> np.ndarray:
    """(H, W) label map -> (size, size), nearest neighbour (no new values appear)."""
    if labels.shape == (size, size):
        return labels
    return np.asarray(Image.fromarray(labels).resize((size, size), Image.Resampling.NEAREST))


def save_png(path: Path, array: np.ndarray, text: dict[str, str] | None = None) -> None:
    """Write a 2-D uint8 array as an 8-bit greyscale PNG (non-atomic, see module doc);
    ``text`` goes into text chunks (a label map's fan)."""
    info = None
    if text:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        for key, value in text.items():
            info.add_text(key, value)
    Image.fromarray(np.ascontiguousarray(array)).save(path, format="PNG", pnginfo=info,
                                                     compress_level=PNG_COMPRESS_LEVEL)


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        if image.mode not in ("L", "P"):
            image = image.convert("L")
        return np.asarray(image)
