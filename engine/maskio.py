"""Reading and writing label maps: 8-bit label PNGs and CAMUS ground-truth volumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import MaskError
from .fileio import atomic_path
from .labels import LABELS, validate_label_map

EXPECTED = ("an 8-bit single-channel label map with values "
            + ", ".join(f"{lab.id} ({lab.name.lower()})" for lab in LABELS))

CAMUS_SUFFIXES = (".mhd", ".nii", ".nii.gz")
PNG_SUFFIXES = (".png",)


def is_camus_file(path: Path | str) -> bool:
    name = str(path).lower()
    return any(name.endswith(suffix) for suffix in CAMUS_SUFFIXES)


def read_label_png(path: Path | str) -> np.ndarray:
    """Read a label PNG into a (H, W) uint8 array of label ids, refusing colour images."""
    path = Path(path)
    check_mask_path(path)
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise MaskError(f"{path}: {image.width}x{image.height} is far larger than any label map "
                                f"(at most {MAX_SIDE}x{MAX_SIDE}); resize it first")
            image.load()
            mode = image.mode
            if mode in ("L", "P", "I", "I;16", "1"):
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
    except Image.DecompressionBombError:
        raise MaskError(f"{path}: the image claims to be far larger than any label map (at most "
                        f"{MAX_SIDE}x{MAX_SIDE}); resize it first") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise MaskError(f"{path}: not a readable image ({exc.__class__.__name__})") from None
    return validate_label_map(array, str(path))


MAX_SIDE = 8192
MAX_PIXELS = MAX_SIDE * MAX_SIDE


def check_mask_path(path: Path) -> None:
    """One line for a path that is not a file to read."""
    if path.is_dir():
        raise MaskError(f"{path}: is a folder, not a label map file")
    if not path.is_file():
        raise MaskError(f"{path}: no such file")


def read_camus_label(path: Path | str) -> np.ndarray:
    """Read a CAMUS ground-truth file (``.mhd``+``.raw`` or NIfTI) as a (H, W) label map.

    SimpleITK gives both formats in the same (row, column) orientation, apex at the top.
    """
    import SimpleITK as sitk

    path = Path(path)
    check_mask_path(path)
    try:
        array = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise MaskError(f"{path}: cannot read the volume ({first[:120]})") from None
    array = np.squeeze(array)
    if array.ndim != 2:
        raise MaskError(f"{path}: expected a single 2-D frame, got shape {array.shape}")
    return validate_label_map(array, str(path))


def read_label_map(path: Path | str) -> np.ndarray:
    """Read any supported label file (PNG, CAMUS ``.mhd``/``.nii[.gz]``)."""
    if is_camus_file(path):
        return read_camus_label(path)
    return read_label_png(path)


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
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return {}


def write_grey_png(path: Path | str, image: np.ndarray) -> None:
    """Write a (H, W) uint8 image as an 8-bit greyscale PNG (atomically)."""
    image = np.asarray(image)
    assert image.ndim == 2 and image.dtype == np.uint8, (image.shape, image.dtype)
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")
