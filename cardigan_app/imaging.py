"""Small conversions between label maps, numpy images and QImages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.labels import BACKGROUND, LABELS

PALETTE = np.array([label.color for label in LABELS], dtype=np.uint8)


def overlay_lut(visible: Sequence[bool]) -> np.ndarray:
    """(classes, 4) RGBA colours for the mask overlay: background and hidden classes clear."""
    lut = np.zeros((len(LABELS), 4), dtype=np.uint8)
    for label in LABELS:
        if label.id != BACKGROUND and visible[label.id]:
            lut[label.id, :3] = label.color
            lut[label.id, 3] = 255
    return lut


def boundary(labels: np.ndarray) -> np.ndarray:
    """Pixels of a class other than background that touch a different label (4-neighbours)."""
    edge = np.zeros(labels.shape, dtype=bool)
    edge[:-1] |= labels[:-1] != labels[1:]
    edge[1:] |= labels[1:] != labels[:-1]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    return edge & (labels != BACKGROUND)


def grey_to_rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(np.asarray(image, dtype=np.uint8)[..., None], 3, axis=2)


def with_contours(image: np.ndarray, labels: np.ndarray, visible: Sequence[bool] | None = None) -> np.ndarray:
    """An RGB copy of a grey ``image`` with the class boundaries of ``labels`` drawn in colour."""
    rgb = grey_to_rgb(image)
    edge = boundary(labels)
    if visible is not None:
        edge &= np.asarray(visible, dtype=bool)[labels]
    rgb[edge] = PALETTE[labels[edge]]
    return rgb


def blend(image: np.ndarray, labels: np.ndarray, alpha: float,
          visible: Sequence[bool] | None = None) -> np.ndarray:
    """``image`` with the classes of ``labels`` laid over it at opacity ``alpha`` (0-1)."""
    rgb = grey_to_rgb(image).astype(np.float32)
    painted = labels != BACKGROUND
    if visible is not None:
        painted &= np.asarray(visible, dtype=bool)[labels]
    colours = PALETTE[labels].astype(np.float32)
    rgb[painted] = (1.0 - alpha) * rgb[painted] + alpha * colours[painted]
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def grey_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of a (H, W) uint8 image."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_Grayscale8).copy()


def rgb_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of a (H, W, 3) uint8 image."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w, _ = image.shape
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_RGB888).copy()


def wrap_rgba(buffer: np.ndarray) -> QImage:
    """A QImage over a (H, W, 4) uint8 buffer, without copying: keep ``buffer`` alive and
    unchanged while the QImage is used (e.g. within one paint event)."""
    h, w, _ = buffer.shape
    return QImage(buffer.data, w, h, buffer.strides[0], QImage.Format.Format_RGBA8888)


def thumbnail(image: np.ndarray | None, labels: np.ndarray | None, size: int, alpha: float = 0.35) -> QImage:
    """A square preview: an image with its mask blended in, or the coloured mask alone."""
    if image is not None and labels is not None and image.shape == labels.shape:
        picture = rgb_qimage(blend(image, labels, alpha))
    elif image is not None:
        picture = grey_qimage(image)
    elif labels is not None:
        picture = rgb_qimage(PALETTE[labels])
    else:
        picture = QImage(size, size, QImage.Format.Format_RGB888)
        picture.fill(0)
    return picture.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
