"""Loading a model and rendering label maps with it, whatever the map's size (no Qt here).

Both backends use this: the child process of :mod:`.server` and the in-process threads.
A loaded model's first use of its synthesizer carries its warm-up (lazy set-up, the first
full pass of the incremental synthesizer, kernels picked on a GPU); the host marks the
image that paid it (:attr:`Rendering.first`), so the window need not guess it from the
images it shows (the first one made may never be shown).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import NamedTuple

import numpy as np

from engine.devices import device_name
from engine.nets.config import style_scale_problem
from engine.progress import StopCheck
from engine.synthesizer import Synthesizer, to_uint8

from .jobs import CineFrames, ModelInfo, file_stamp

ANCHORS = 16  # ED stills kept for the ES key frame: the main image's and every variation's


def render(synthesizer: Synthesizer, labels: np.ndarray, seed: int, fan=None,
           should_stop: StopCheck | None = None) -> tuple[np.ndarray, str]:
    """Synthesize ``labels`` (in ``fan``, for models that take one) -> ((H, W) uint8 image, note);
    ``should_stop`` as :meth:`engine.synthesizer.Synthesizer.synthesize` takes it.

    Exactly what ``cardigan synthesize`` makes of the same mask: a map of another size than
    the model's is resampled by the synthesizer itself (nearest there, bilinear back), and
    ``note`` says so.
    """
    height, width = labels.shape
    image = to_uint8(synthesizer.synthesize(labels, seed, fan=fan, should_stop=should_stop))
    native = getattr(synthesizer.model, "image_size", None)
    note = ""
    if synthesizer.network is not None and native is not None and tuple(native) != (height, width):
        note = f"synthesized at {native[1]}\u00d7{native[0]} and resized to the mask"
    return image, note


def checked_style_scale(style_scale: float | None) -> None:
    """Refuse a style scale the synthesizer would not take (ValueError, one line)."""
    if style_scale is not None and style_scale_problem(style_scale):
        raise ValueError(f"the style scale {style_scale_problem(style_scale)}")


class Rendering(NamedTuple):
    """One image a :class:`ModelHost` made."""

    image: np.ndarray  # (H, W) uint8
    note: str  # see :func:`render`
    elapsed_s: float  # waiting for the synthesizer included
    first: bool  # the first use of the loaded model's synthesizer: its warm-up is in elapsed_s


class ModelHost:
    """One loaded model, ready to render."""

    def __init__(self, synthesizer: Synthesizer, info: ModelInfo) -> None:
        self.synthesizer = synthesizer
        self.info = info
        self.lock = threading.Lock()  # held by whoever runs the synthesizer (and its incremental cache)
        self._waiting = 0  # images waiting for the lock: a loop being made lets them go first
        self._turns = threading.Condition()  # guards _waiting; told whenever it changes
        self._anchors: dict[tuple, np.ndarray] = {}  # ED stills drawn for the ES key frame, by map, seed and fan
        self._warmed_up = False  # the synthesizer has made an image or a loop (under ``lock``)

    @classmethod
    def open(cls, model_id: int, spec: str, device: str) -> ModelHost:
        """Load ``spec`` on ``device`` (raises :class:`CardiganError` with a one-line message)."""
        start = time.perf_counter()
        # incremental: the live loop sends one map after another, each a small edit of the
        # last; the synthesizer keeps the last map and recomputes only what an edit reaches
        # (CARDIGAN_INCREMENTAL=0 turns it off, for benchmarks/paint_stall.py comparisons)
        incremental = os.environ.get("CARDIGAN_INCREMENTAL", "1") != "0"
        stamp = file_stamp(spec)  # before reading: a file rewritten meanwhile is not taken for the one read
        synthesizer = Synthesizer(spec, device=device, incremental=incremental)
        own_style = synthesizer.style_scale if synthesizer.takes_style_scale else None
        info = ModelInfo(model_id, spec, device, device_name(synthesizer.device), bool(synthesizer.stochastic),
                         synthesizer.model.summary(), time.perf_counter() - start, stamp, own_style,
                         str(synthesizer.device))
        return cls(synthesizer, info)

    def render(self, labels: np.ndarray, seed: int, fan=None,
               anchor: np.ndarray | None = None, style_scale: float | None = None,
               should_stop: StopCheck | None = None) -> Rendering:
        """``labels`` drawn with ``seed`` (and a noise model's style channels spread by
        ``style_scale``, None: the model's own); with ``anchor`` (the ED key frame's labels, for the
        ES key frame) its far field's brightness is the ED still's, as a loop between the two
        draws it (:func:`engine.cine.steady.hold_far_field`). Marked ``first`` when it is the
        first thing this model made (a loop made before it took the warm-up). ``should_stop``
        is asked between the network's layers: a True raises :class:`engine.progress.Cancelled`."""
        checked_style_scale(style_scale)
        start = time.perf_counter()
        with self._turns:
            self._waiting += 1  # a loop being made lets this image go first (:meth:`render_cine`)
            self._turns.notify_all()
        try:
            self.lock.acquire()
        finally:
            with self._turns:
                self._waiting -= 1
                self._turns.notify_all()
        try:
            first = not self._warmed_up
            self.synthesizer.chosen_style_scale = style_scale
            image, note = render(self.synthesizer, labels, seed, fan, should_stop)
            if anchor is not None and anchor.shape == labels.shape and self.synthesizer.network is not None:
                image = self._held(image, labels, anchor, seed, fan)
            self._warmed_up = True
        finally:
            self.lock.release()
        return Rendering(image, note, time.perf_counter() - start, first)

    def _held(self, image: np.ndarray, labels: np.ndarray, anchor: np.ndarray, seed: int, fan) -> np.ndarray:
        """``image`` with the far field of ``anchor``'s still for the same seed, drawn once per
        map, seed and fan (the main image's and each variation's; the newest :data:`ANCHORS` kept)."""
        from engine.cine.steady import hold_far_field
        from engine.fan import default_fan, fan_mask

        key = (hashlib.sha1(np.ascontiguousarray(anchor, np.uint8).tobytes()).hexdigest(), anchor.shape, seed,
               None if fan is None else fan.to_json(), self.synthesizer.style_scale)
        if key not in self._anchors:
            while len(self._anchors) >= ANCHORS:
                self._anchors.pop(next(iter(self._anchors)))
            self._anchors[key] = render(self.synthesizer, anchor, seed, fan)[0]
        support = None
        if getattr(self.synthesizer.model.config, "fan", False):  # the fan the image was cut to
            support = fan_mask(fan if fan is not None else default_fan(), *labels.shape)
        return hold_far_field(image, labels, self._anchors[key], support, reference_mask=anchor)

    def render_cine(self, request, between_batches=None) -> CineFrames:
        """A cine loop between the request's key frames (masks, motion and every frame).

        Images come first: between two batches of frames the synthesizer is let go, an image
        another thread is waiting to render (:meth:`render`) is made (the loop waits on a
        condition until every waiting image has taken the synthesizer), and ``between_batches()``
        is called (the synthesis process makes the images sent meanwhile there); it returns
        True when the loop should give way (a newer one was asked for), and then
        :class:`engine.progress.Cancelled` is raised."""
        from engine.cine import Timing, loop_from_key_frames, synthesize_loop

        start = time.perf_counter()
        timing = Timing(bpm=request.bpm, fps=request.fps, cycle="full").checked()
        loop = loop_from_key_frames(request.ed, request.es, timing, fan=request.fan)

        first_batch = True

        def give_way() -> bool:  # called holding the lock, before each batch of frames
            nonlocal first_batch
            if not first_batch:  # a batch was made: an image let in now is not the model's first use
                self._warmed_up = True
            first_batch = False
            self.lock.release()
            try:
                with self._turns:  # every image waiting takes the lock before the loop goes on
                    self._turns.wait_for(lambda: not self._waiting)
                return bool(between_batches()) if between_batches is not None else False
            finally:
                self.lock.acquire()
                self.synthesizer.chosen_style_scale = request.style_scale  # an image let in set its own

        checked_style_scale(request.style_scale)
        with self.lock:  # one user of the synthesizer (and its incremental cache) at a time
            self.synthesizer.chosen_style_scale = request.style_scale
            images = synthesize_loop(self.synthesizer, loop, seed=request.seed, should_stop=give_way)
            self._warmed_up = True
        return CineFrames(request.serial, self.info.model_id, images, loop.masks, loop.phases,
                          loop.ejection_fraction(), timing.playback_fps, time.perf_counter() - start)
