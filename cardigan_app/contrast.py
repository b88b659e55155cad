"""Window and level: which grey values of the real image span the screen's black to white.

A :class:`Window` of ``width`` grey values centred on ``level`` covers the values from
``level - width / 2`` (its low end) up to ``level + width / 2`` (its high end). That span is
cut into 256 equal steps and the n-th step is shown as grey n; values below the window are
black, values above it white. So an 8-bit image shown at width 256, level 128 looks exactly
as it is (its own values, :func:`own_window`), and width 1 at level L is a threshold: values
below L are black, L itself mid-grey, values above L white. Float images hold values in
[0, 1], as everywhere in the project: their own window is width 1, level 0.5.

Auto (:func:`auto_window`) stretches the image's 1st to 99th percentiles to black and white,
taken inside the scan (:func:`scan_support`) where the image has one: an echo's fan without
the black around it, which would otherwise pin the low end at 0 and leave the fan dim.
Finding the fan and its percentiles takes a moment on a large image, so the studio keeps Auto's
window for the last images it was worked out for (:class:`AutoWindowCache`): pressing Auto
again, or on a loop's frame seen before, costs nothing.

This is display only: the image is never changed, and no mask, file or undo step sees it.
No Qt here.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

STEPS = 256  # screen grey levels a window is cut into
AUTO_CONTRAST = "Auto"  # how the status bar names a window Auto chose
AUTO_PERCENTILES = (1.0, 99.0)  # Auto stretches these percentiles of the image to black and white
WIDEST = 4.0  # a drag widens the window up to this many times the image's own range
# the share of the image a scan's support must cover for Auto to look only inside it: at least
# a quarter (not a few bright specks in the dark), at most nearly all (else it is the whole image)
SUPPORT_SHARE = (0.25, 0.95)


@dataclass(frozen=True)
class Window:
    """``width`` grey values (> 0) centred on ``level``, in the image's own units."""

    width: float
    level: float

    @property
    def low(self) -> float:
        return self.level - self.width / 2

    @property
    def high(self) -> float:
        return self.level + self.width / 2

    def describe(self) -> str:
        """"W 120 · L 64", as the panes and the status bar write it."""
        return f"W {self.width:.4g} \u00b7 L {self.level:.4g}"


def own_window(image: np.ndarray) -> Window:
    """The window that shows ``image`` as it is: 0..255 for integers, [0, 1] for floats."""
    if np.asarray(image).dtype.kind == "f":
        return Window(1.0, 0.5)
    return Window(float(STEPS), STEPS / 2)


def narrowest(own: Window) -> float:
    """The narrowest window: one grey value of an 8-bit image (1/256 of a float one's range)."""
    return own.width / STEPS


def scan_support(image: np.ndarray) -> np.ndarray | None:
    """(H, W) bool: where a (H, W) image holds its scan (an echo's fan, dark pools inside it
    included: the largest lit piece with its holes filled, :func:`engine.fan.image_support`),
    or None where it has none to tell from the rest: a support outside :data:`SUPPORT_SHARE`
    of the image, or an image that is not one plane."""
    from engine.fan import image_support

    image = np.asarray(image)
    if image.ndim != 2 or image.size == 0:
        return None
    support = image_support(apply_window(image, own_window(image)))  # its grey values as shown
    return support if usable_support(support) else None


def usable_support(support: np.ndarray | None) -> bool:
    """Whether ``support`` leaves out a clear part of the image yet covers a good part of it."""
    if support is None or support.size == 0:
        return False
    low, high = SUPPORT_SHARE
    return low <= float(np.mean(support)) <= high


def auto_window(image: np.ndarray, percentiles: tuple[float, float] = AUTO_PERCENTILES,
                support: np.ndarray | None = None) -> Window:
    """A robust stretch: the ``percentiles`` (lower, upper) of the image's values become black
    and white, so a few saturated or dead pixels do not set the contrast. They are taken inside
    ``support`` ((H, W) bool: the image's fan record drawn) when it is usable
    (:func:`usable_support`), else inside the scan the image shows (:func:`scan_support`), else
    over the whole image.
    An integer image's window covers whole grey values; a flat image gets the narrowest window
    at its value."""
    image = np.asarray(image)
    own = own_window(image)
    if image.size == 0:
        return own
    if not (usable_support(support) and np.shape(support) == image.shape):
        support = scan_support(image)
    values = image if support is None else image[support]
    lo, hi = (float(v) for v in np.percentile(values, percentiles))
    if image.dtype.kind != "f":  # whole values lo..hi, each a full step wide
        lo, hi = float(np.floor(lo)), float(np.ceil(hi)) + 1.0
    width = max(hi - lo, narrowest(own))
    return Window(width, lo + width / 2)


class AutoWindowCache:
    """Auto's window (:func:`auto_window`) for the last few images (``size``) it was worked out
    for, each found again by its values (:func:`fingerprint`): asked again for one of them, the
    same array or another holding the same values (a loop's frame gone back to, an image opened
    again), it is not worked out again. Hashing the image's bytes costs far less than finding
    its fan and percentiles."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._windows: OrderedDict[tuple, Window] = OrderedDict()

    def window_for(self, image: np.ndarray) -> Window:
        key = fingerprint(image)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = auto_window(image)
            while len(self._windows) > self.size:
                self._windows.popitem(last=False)  # the one asked for longest ago
        else:
            self._windows.move_to_end(key)
        return window


def fingerprint(image: np.ndarray) -> tuple:
    """What tells images apart by their values: shape, dtype and a hash of the bytes."""
    image = np.ascontiguousarray(image)
    return image.shape, image.dtype.str, hashlib.blake2b(image.data, digest_size=16).digest()


def apply_window(image: np.ndarray, window: Window) -> np.ndarray:
    """``image`` (H, W) of uint8, other integers or floats, shown through ``window``: a new
    (H, W) uint8 image (module docstring). A width that is not a positive finite number, or a
    level that is not finite, is a ValueError."""
    width, level = float(window.width), float(window.level)
    if not (np.isfinite(width) and width > 0):
        raise ValueError(f"window width must be a positive number, got {window.width!r}")
    if not np.isfinite(level):
        raise ValueError(f"window level must be a finite number, got {window.level!r}")
    image = np.asarray(image)
    if image.dtype == np.uint8:  # one table of 256 entries, looked up per pixel
        return _to_grey(np.arange(STEPS, dtype=np.float64), width, level)[image]
    return _to_grey(image.astype(np.float64), width, level)


def _to_grey(values: np.ndarray, width: float, level: float) -> np.ndarray:
    steps = np.floor((values - (level - width / 2)) * (STEPS / width))
    steps = np.nan_to_num(steps, nan=0.0)
    return np.clip(steps, 0, STEPS - 1).astype(np.uint8)


def dragged(start: Window, dx: float, dy: float, own: Window) -> Window:
    """The window a contrast drag reaches ``dx``, ``dy`` screen pixels from where it began at
    ``start``: sideways widens (right) or narrows (left) the window, down raises the level (a
    darker image) and up lowers it (a brighter one); one pixel moves an 8-bit image by one grey
    value. The width stays between one grey value and :data:`WIDEST` times the image's range,
    the level within that range."""
    step = own.width / STEPS
    width = float(np.clip(start.width + dx * step, narrowest(own), WIDEST * own.width))
    level = float(np.clip(start.level + dy * step, own.low, own.high))
    return Window(width, level)
