"""Fitting a fan model's fine filter (:mod:`engine.nets.fine_filter`) to real images.

The power spectrum of real images and of the model's images of the same masks and fans
(drawn with the filter off) is summed over every 64 x 64 window (at 256 x 256; in proportion
for other sizes) lying wholly inside the fan (mean removed, Hann-tapered, as evaluate's
spectrum takes it). The filter's target response
at each frequency is the square root of real over model power, averaged over the 3 x 3
neighbouring frequencies, and 1 below :data:`COARSE` cycles per pixel, where the spectra
differ by what the images show rather than by their grain. A point-symmetric kernel of
``size`` taps a side (its response is real: a sum of cosines) is fitted to that target by
least squares, the coarse frequencies weighted :data:`COARSE_WEIGHT` times. Fit on the valid
split, as the other output settings are (:mod:`.tone_fit`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

DEFAULT_SIZE = 7
COARSE = 0.15  # cycles per pixel: below this the target is 1
COARSE_WEIGHT = 4.0
WINDOW = 64


def window_size(height: int) -> int:
    """The spectrum's window for images ``height`` pixels tall: :data:`WINDOW` at 256, in
    proportion to the height otherwise (at least 16), so a small image still has windows
    inside its fan."""
    return max(16, WINDOW * height // 256 // 2 * 2)


def window_power(images: np.ndarray, fans: list, window: int | None = None) -> tuple[np.ndarray, int]:
    """(the (window, window) power spectrum summed over every window of (N, H, W) images
    lying inside their fans, the number of windows); ``window`` defaults to
    :func:`window_size` of the images."""
    from ..fan import fan_mask
    from .texture import tapered_windows

    window = window_size(images.shape[1]) if window is None else window
    total, count = np.zeros((window, window)), 0
    for image, fan in zip(images, fans):
        for patch in tapered_windows(image, fan_mask(fan, *image.shape), window):
            total += np.abs(np.fft.fft2(patch)) ** 2
            count += 1
    return total, count


def _offsets(size: int) -> list[tuple[int, int]]:
    """One tap offset of each point-symmetric pair (and the centre) of a size x size kernel."""
    half = size // 2
    return [(u, v) for u in range(-half, half + 1) for v in range(-half, half + 1) if (u, v) >= (0, 0)]


def kernel_response(kernel: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The (window, window) frequency response of a point-symmetric kernel, on fft2's grid."""
    half = kernel.shape[0] // 2
    fy = np.fft.fftfreq(window)[:, None]
    fx = np.fft.fftfreq(window)[None, :]
    response = np.zeros((window, window))
    for u in range(-half, half + 1):
        for v in range(-half, half + 1):
            response += kernel[u + half, v + half] * np.cos(2 * np.pi * (fy * u + fx * v))
    return response


def fit_kernel(real_power: np.ndarray, model_power: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The point-symmetric size x size kernel whose response best matches the square root of
    ``real_power`` over ``model_power`` (module docstring)."""
    from scipy.ndimage import uniform_filter

    if size % 2 == 0 or not 3 <= size <= 9:
        raise ValueError("size must be odd, from 3 to 9")
    window = real_power.shape[0]
    fy = np.fft.fftfreq(window)[:, None]
    fx = np.fft.fftfreq(window)[None, :]
    coarse = np.hypot(fx, fy) < COARSE
    ratio = np.sqrt(np.maximum(real_power, 1e-12) / np.maximum(model_power, 1e-12))
    target = np.where(coarse, 1.0, uniform_filter(ratio, 3, mode="wrap"))
    offsets = _offsets(size)
    columns = [np.broadcast_to((1.0 if (u, v) == (0, 0) else 2.0) * np.cos(2 * np.pi * (fy * u + fx * v)),
                               (window, window)).ravel() for u, v in offsets]
    weight = np.where(coarse, COARSE_WEIGHT, 1.0).ravel()
    coefficients, *_ = np.linalg.lstsq(np.stack(columns, 1) * weight[:, None], target.ravel() * weight,
                                       rcond=None)
    half = size // 2
    kernel = np.zeros((size, size))
    for (u, v), c in zip(offsets, coefficients):
        kernel[half + u, half + v] = kernel[half - u, half - v] = c
    return kernel


def fit_fine_filter(real: np.ndarray, synthetic: np.ndarray, fans: list, size: int = DEFAULT_SIZE) -> dict:
    """{"fine_filter": the kernel as rows of rounded numbers, "windows": how many windows the
    spectra summed, "finest_octave": evaluate's figures (:func:`~.texture.finest_octave`) for
    the real, the model's and the model's filtered images} for ``real`` and ``synthetic``
    images of the same masks and ``fans``."""
    from ..errors import CardiganError
    from ..nets.fine_filter import filter_problem

    real_power, count = window_power(real, fans)
    model_power, _ = window_power(synthetic, fans)
    if count == 0:
        side = window_size(real.shape[1])
        raise CardiganError(f"no {side} x {side} window lies inside any fan; the fine filter needs larger images")
    kernel = tuple(tuple(round(float(v), 4) for v in row) for row in fit_kernel(real_power, model_power, size))
    problem = filter_problem(kernel)
    if problem:
        raise CardiganError(f"the fitted fine filter {problem}; the model's images are too far from real to filter")
    return {"fine_filter": kernel, "windows": count,
            "finest_octave": {"real": _octave(real, fans), "model": _octave(synthetic, fans),
                              "filtered": _octave(filtered(synthetic, fans, kernel), fans)}}


def filtered(images: np.ndarray, fans: list, kernel) -> np.ndarray:
    """(N, H, W) uint8 images with their detail filtered by ``kernel`` in their fans, as the
    Synthesizer filters its output (before the fan's cut there; here the images are cut)."""
    from ..nets.fine_filter import apply_fine_filter

    as_float = images[:, None].astype(np.float32) / 127.5 - 1.0
    out = apply_fine_filter(as_float, fans, kernel)[:, 0]
    return np.clip(np.rint((out + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _octave(images: np.ndarray, fans: list) -> dict:
    from ..fan import fan_mask
    from .texture import finest_octave

    return finest_octave(images, np.stack([fan_mask(fan, *image.shape) for image, fan in zip(images, fans)]))


def fit_model_fine_filter(data: Path | str, model, split: str = "valid", size: int = DEFAULT_SIZE,
                          every: int = 1, progress: ProgressCallback = no_progress,
                          should_stop: StopCheck = never_stop) -> dict:
    """:func:`fit_fine_filter` for ``model`` (a loaded fan model) on a prepared dataset's
    ``split``; adds "images", the number of pairs used. ``model`` is left as it was;
    CardiganError for a model without a generator or without a fan."""
    from .fit_images import fan_model_with, real_and_drawn

    model = fan_model_with(model, "the fine filter", fine_filter=())
    images, _labels, fans, synthetic = real_and_drawn(data, model, split, every, "fitting the fine filter",
                                                      progress, should_stop)
    return {**fit_fine_filter(images, synthetic, fans, size), "images": len(images)}
