"""Loading a model and rendering label maps with it, whatever the map's size (no Qt here).

Both backends use this: the child process of :mod:`.server` and the in-process threads.
"""

from __future__ import annotations

import sys
import time
import traceback

import numpy as np
from PIL import Image

from engine.devices import device_name
from engine.errors import CardiganError, MaskError
from engine.synthesizer import Synthesizer, to_uint8

from .jobs import ModelInfo


def one_line(exc: BaseException, what: str) -> str:
    """A user-facing line for an exception; unexpected ones are also logged in full."""
    if isinstance(exc, CardiganError):
        return str(exc)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{what} failed ({type(exc).__name__}{': ' + text[:160] if text else ''})"


def trained_size(synthesizer: Synthesizer) -> tuple[int, int] | None:
    """(height, width) the model was trained at, if it has one."""
    size = getattr(synthesizer.model, "image_size", None)
    return tuple(size) if isinstance(size, (tuple, list)) and len(size) == 2 else None  # type: ignore[return-value]


def render(synthesizer: Synthesizer, labels: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    """Synthesize ``labels`` -> ((H, W) uint8 image, note).

    A map the model cannot take as it is (a CAMUS frame of 549 x 778, say) is resampled to
    the model's training size (nearest, as prepared data is) and the image resized back,
    so the picture always lines up with the mask; ``note`` then says so.
    """
    height, width = labels.shape
    problem = synthesizer.model.check_input_size(height, width)
    if problem is None:
        return synthesizer.preview(labels, seed), ""
    target = trained_size(synthesizer)
    if target is None:
        raise MaskError(f"label map: {problem}")
    th, tw = target
    small = np.asarray(Image.fromarray(labels).resize((tw, th), Image.Resampling.NEAREST))
    image = to_uint8(synthesizer.synthesize(small, seed))
    back = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))
    return back, f"synthesized at {tw}\u00d7{th} and resized to the mask"


class ModelHost:
    """One loaded model, ready to render."""

    def __init__(self, synthesizer: Synthesizer, info: ModelInfo) -> None:
        self.synthesizer = synthesizer
        self.info = info

    @classmethod
    def open(cls, model_id: int, spec: str, device: str) -> ModelHost:
        """Load ``spec`` on ``device`` (raises :class:`CardiganError` with a one-line message)."""
        start = time.perf_counter()
        synthesizer = Synthesizer(spec, device=device)
        info = ModelInfo(model_id, spec, device, device_name(synthesizer.device), bool(synthesizer.stochastic),
                         synthesizer.model.summary(), time.perf_counter() - start)
        return cls(synthesizer, info)

    def render(self, labels: np.ndarray, seed: int) -> tuple[np.ndarray, str, float]:
        start = time.perf_counter()
        image, note = render(self.synthesizer, labels, seed)
        return image, note, time.perf_counter() - start
