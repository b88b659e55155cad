"""What the window asks of the synthesis backend and what comes back (no Qt here).

The same records travel over the pipe to the synthesis child process (:mod:`.server`):
:class:`LoadRequest`, :class:`RenderRequest`, :class:`CancelRequest`, :class:`CineRequest` and
:class:`StopRequest` go in; :class:`ModelInfo`, :class:`LoadFailure`, :class:`RenderedImage`,
:class:`RenderCancelled`, :class:`CineFrames` and :class:`RenderFailure` come out. Nobody unpacks a message by position.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SynthesisJob:
    """Synthesize ``labels`` with ``seed``, then (if nothing newer came in) each variation seed;
    without ``main``, the variations only (the main image is at hand already), but those of
    ``kept_seeds`` (their pictures are at hand too)."""

    serial: int
    document: int  # which document the mask belongs to
    revision: int  # the document revision the mask was copied at
    labels: np.ndarray
    seed: int
    variation_seeds: tuple[int, ...] = ()
    fan: object = None  # the probe's fan (engine.fan.Fan); None: the median
    anchor: np.ndarray | None = None  # the ED key frame's labels, when this is the ES key frame
    style_scale: float | None = None  # a noise model's style spread; None: the model's own
    main: bool = True  # make the main image (else only the variations)
    kept_seeds: frozenset[int] = frozenset()  # variation seeds not to make again (their pictures are kept)

    def seeds_to_render(self) -> list[tuple[int | None, int]]:
        """(variation index or None for the main image, seed) in the order they are made:
        the main image, then each variation whose seed differs from it and is not kept."""
        out: list[tuple[int | None, int]] = [(None, self.seed)] if self.main else []
        out += [(i, s) for i, s in enumerate(self.variation_seeds)
                if (s != self.seed or not self.main) and s not in self.kept_seeds]
        return out

    def request(self, seed: int, variation: bool = False) -> "RenderRequest":
        return RenderRequest(self.serial, self.labels, seed, self.fan, self.anchor, self.style_scale, variation)


# -- the pipe to the synthesis process ---------------------------------------------------------
@dataclass(frozen=True)
class LoadRequest:
    model_id: int
    spec: str
    device: str


@dataclass(frozen=True)
class RenderRequest:
    serial: int
    labels: np.ndarray
    seed: int
    fan: object = None
    anchor: np.ndarray | None = None  # see SynthesisJob.anchor
    style_scale: float | None = None  # see SynthesisJob.style_scale
    variation: bool = False  # a variation: a CancelRequest sent while it is made stops it


@dataclass(frozen=True)
class CancelRequest:
    """Stop the variation being made (an edit's image is waiting); ignored when none is."""


@dataclass(frozen=True)
class RenderCancelled:
    """The answer to a variation stopped by a :class:`CancelRequest`."""
    serial: int
    model_id: int


@dataclass(frozen=True)
class StopRequest:
    pass


@dataclass(frozen=True)
class RenderedImage:
    serial: int
    model_id: int
    image: np.ndarray
    note: str
    elapsed_s: float
    first: bool = False  # the model's first image: its warm-up is in elapsed_s (host.Rendering)


@dataclass(frozen=True)
class RenderFailure:
    serial: int
    model_id: int
    message: str


@dataclass(frozen=True)
class CineFailure:
    """A loop that was not made (an error, or a newer loop asked for first); apart from
    :class:`RenderFailure` because images are made while a loop is."""
    serial: int
    model_id: int
    message: str


@dataclass(frozen=True)
class SynthesisResult:
    serial: int
    model_id: int  # the load request whose model made it
    document: int
    revision: int
    seed: int
    image: np.ndarray  # (H, W) uint8, the size of the mask
    labels: np.ndarray  # the mask it was made from
    elapsed_s: float
    note: str = ""
    first: bool = False  # the first image its model made (shown or not): its warm-up is in elapsed_s
    style_scale: float | None = None  # as asked (None: the model's own)
    fan: object = None  # the probe's fan it was drawn in (None: the median)
    anchor: np.ndarray | None = None  # the ED key frame's labels it took its far field from
    kept: bool = False  # shown again from the live synthesis's keeping, not made now


@dataclass(frozen=True)
class VariationResult:
    serial: int
    model_id: int
    index: int
    seed: int
    image: np.ndarray


@dataclass(frozen=True)
class SynthesisFailure:
    serial: int
    model_id: int
    message: str


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model, as the window sees it."""

    model_id: int
    spec: str
    device: str  # as asked: auto, cpu, cuda:0 ...
    device_label: str  # what it runs on, readable
    stochastic: bool
    summary: dict = field(default_factory=dict)
    load_s: float = 0.0
    file_stamp: tuple[int, int] | None = None  # the model file's stamp before it was read
    own_style_scale: float | None = None  # the model file's style scale; None: it has no style channels
    runs_on: str = ""  # the torch device it runs on (cpu, cuda:0 ...)


def file_stamp(path: str | os.PathLike) -> tuple[int, int] | None:
    """(size, modification time in ns) of the file ``path``, or None when it is not a file
    (a built-in model's name, a checkpoints folder, a missing path)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_size, info.st_mtime_ns) if os.path.isfile(path) else None


@dataclass(frozen=True)
class LoadFailure:
    model_id: int
    spec: str
    device: str
    message: str


@dataclass(frozen=True)
class CineRequest:
    """A loop between two key frames of one document (newest request wins)."""

    serial: int
    document: int
    ed: np.ndarray
    es: np.ndarray
    fan: object
    seed: int
    bpm: float
    fps: float
    style_scale: float | None = None  # see SynthesisJob.style_scale


@dataclass(frozen=True)
class CineFrames:
    serial: int
    model_id: int
    images: np.ndarray  # (T, H, W) uint8
    masks: np.ndarray  # (T, H, W) uint8
    phases: np.ndarray  # (T,)
    ejection_fraction: float  # by area, percent, of the loop's masks
    fps: float
    elapsed_s: float
