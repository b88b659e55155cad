"""The image size a new run trains at when none is given: its preset's, or the data's when
the data is smaller.

A preset's ``image_size`` (256) suits CAMUS prepared at its default size. Data prepared
smaller (a 64-pixel phantom for a first try on a CPU) would be upsampled to it: sixteen times
the work for no detail the data has. So when no size is given, a new run trains at the
data's size instead, the largest multiple of 32 not above the train split's largest side,
and never below what the generator's upsampling needs (``2 ** n_up``). Data as large as the
preset's size or larger keeps the preset's size (pairs are resized down to it while
training). An explicit size (``--size``, the wizard's image_size row) is always kept, and a
resumed run keeps its own. The size chosen is the run's ``image_size`` in its config.json and
in the model file, like any other. A resumed run on data smaller than its size is told so
(:func:`resumed_on_smaller_data`), on the command line and in the wizard alike.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..nets.config import UPSAMPLING_LAYERS
from .config import TrainConfig, resolve_config

SIZE_STEP = 32  # image_size is a multiple of this


def data_side(data_dir: Path | str) -> int | None:
    """The largest side of the train split's images (read from their headers), or None when
    the folder has none that can be read (the data check says why)."""
    from ..data.dataset import IMAGE_SUFFIXES
    from ..data.layout import IMAGE_DIR

    folder = Path(data_dir).expanduser() / "train" / IMAGE_DIR
    sides = []
    try:
        files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    except OSError:
        return None
    for path in files:
        try:
            with Image.open(path) as image:
                sides.append(max(image.size))
        except (UnidentifiedImageError, OSError):
            continue
    return max(sides) if sides else None


def size_for_data(config: TrainConfig, side: int | None) -> int:
    """The image size ``config`` trains at on data whose largest side is ``side`` (None:
    not known) when no size was given: the data's, when smaller than ``config``'s."""
    if not side or side >= config.image_size:
        return config.image_size
    smallest = 2 ** UPSAMPLING_LAYERS.get(config.upsampling, 5)
    fitted = max(smallest, side // SIZE_STEP * SIZE_STEP)
    return min(fitted, config.image_size)


def fitted_to_data(config: TrainConfig, side: int | None) -> TrainConfig:
    """``config`` with :func:`size_for_data`'s image size."""
    return dataclasses.replace(config, image_size=size_for_data(config, side))


def size_given_none(config: TrainConfig, side: int | None) -> int:
    """The image size a new run with ``config``'s other values (its upsampling) trains at on
    data whose largest side is ``side`` when no size is given: its preset's size, fitted by
    :func:`size_for_data`. The command line and the wizard both ask this."""
    preset_size = resolve_config(config.preset).image_size
    return size_for_data(dataclasses.replace(config, image_size=preset_size), side)


def preset_on_data(preset: str, side: int | None) -> TrainConfig:
    """Preset ``preset``'s values on data whose largest side is ``side`` (None: its own)."""
    return fitted_to_data(resolve_config(preset), side)


def resumed_on_smaller_data(config: TrainConfig, side: int | None) -> str | None:
    """For a run stored with ``config`` resumed on data whose largest side is ``side``: when a
    new run would train smaller there, what the resume does instead ("at 256 px, the run's
    size: the data's 64-px pairs are resized to it"), else None."""
    if side and size_given_none(config, side) < config.image_size:
        return f"at {config.image_size} px, the run's size: the data's {side}-px pairs are resized to it"
    return None
