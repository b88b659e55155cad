"""The pairs an output-setting fit compares: a prepared split's real images and a model's
images of the same masks and fans (:mod:`.tone_fit`, :mod:`.depth_fit`, :mod:`.speckle_fit`).

Mask i is drawn with seed 100,000 + i on the CPU, so a fit gives the same answer every time.

The model applies its output settings at its own size, before its images are resampled to a
mask of another size; a setting measured in pixels (the tip gain, the speckle shape, the fine
filter, the pool detail, the ring-down's arc bins, the border softening) fitted on images of
another size would be applied at the wrong scale. Those fits refuse a split whose images are
not the model's size; the tone, the depth gain and the shading, measured per region, per
share of the depth and per cell of the fan's grid, take any size (``any_size``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..progress import ProgressCallback, StopCheck, never_stop, no_progress

FIT_SEED = 100_000


def fan_model_with(model, what: str, **settings):
    """A copy of ``model`` (a loaded generator model) with the output ``settings`` (the one
    about to be fitted, switched off); CardiganError saying ``what`` needs a fan for a model
    without one, or for one without a generator (:func:`~engine.models.tuning.tune_model`)."""
    from ..errors import CardiganError
    from ..models.tuning import tune_model

    model = tune_model(model, **settings)
    if not model.config.fan:
        raise CardiganError(f"{what} needs a model that takes the fan (this one draws its own)")
    return model


def real_and_drawn(data: Path | str, model, split: str, every: int = 1, stage: str = "synthesizing",
                   progress: ProgressCallback = no_progress,
                   should_stop: StopCheck = never_stop,
                   any_size: bool = False) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """(real images, labels, fans, the model's images) for every ``every``-th pair of a
    prepared dataset's ``split``, each (N, H, W) uint8 but the fans. CardiganError, before
    anything is drawn, for images of another size than the model's unless ``any_size``."""
    from ..synthesizer import Synthesizer
    from .evaluate import load_split_with_fans, synthesize_all

    images, labels, _stems, fans = load_split_with_fans(Path(data), split, None)
    images, labels, fans = images[::every], labels[::every], fans[::every]
    if not any_size:
        check_model_size(data, split, images, model)
    synthetic = synthesize_all(Synthesizer(model, device="cpu"), labels, FIT_SEED, stage, progress, should_stop,
                               fans=fans)
    return images, labels, fans, synthetic


def check_model_size(data, split: str, images: np.ndarray, model) -> None:
    """CardiganError unless ``images`` (N, H, W) are ``model``'s own size (module docstring)."""
    from ..errors import CardiganError

    height, width = model.image_size
    if tuple(images.shape[-2:]) != (height, width):
        raise CardiganError(f"{data}: its {split} images are {images.shape[-1]}x{images.shape[-2]}; the model "
                            f"draws {width}x{height}, and works at its own size (prepare the dataset at the "
                            "model's size)")
