"""The live-synthesis controller: which model is loaded, which seed and style scale, what is shown.

It hands every mask change to a backend (:mod:`.backends`) and filters what comes back: a
result is shown only if it was made by the current model for the current document, seed
and style scale, and is newer than the image on screen. During a long stroke the picture therefore
keeps catching up with the brush, and an answer that arrives after a newer one is dropped.

Switching to another document (the other key frame) shows the image kept for it at once,
with its variations, when it was made from what is asked now (:mod:`.kept`); only a
change (an edit, another seed, style or model) asks the backend for a new one.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.models.registry import builtin_models, display_name

from .backends import Backend, ProcessBackend, ThreadBackend
from .jobs import (CineFrames, CineRequest, LoadFailure, ModelInfo, SynthesisFailure, SynthesisJob,
                   SynthesisResult, VariationResult)
from .kept import KeptImage, KeptImages

DEFAULT_VARIATIONS = 6
CRASH_WINDOW_S = 30.0
BACKENDS = {"process": ProcessBackend, "thread": ThreadBackend}


def fallback_after(spec: str) -> str | None:
    """The model to draw with when ``spec`` failed and no model is loaded: the default one
    (the bundled demo model when there is one), then the simulator; None after the last."""
    chain = builtin_models()
    rest = chain[chain.index(spec) + 1:] if spec in chain else chain
    return rest[0] if rest else None


def default_backend() -> str:
    """``process`` unless $CARDIGAN_SYNTHESIS says ``thread``."""
    choice = os.environ.get("CARDIGAN_SYNTHESIS", "process").strip().lower()
    return choice if choice in BACKENDS else "process"


class LiveSynthesis(QObject):
    imageShown = Signal(object)  # SynthesisResult
    variationShown = Signal(object)  # VariationResult
    synthesisFailed = Signal(str)
    busyChanged = Signal(bool)
    modelLoading = Signal(str)  # spec
    modelLoaded = Signal(object)  # ModelInfo
    modelFailed = Signal(str, str)  # spec, one-line message
    cineShown = Signal(object)  # CineFrames of the newest loop request, made by the current model
    cineFailed = Signal(str)

    def __init__(self, backend: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        kind = backend or default_backend()
        try:
            self.backend: Backend = BACKENDS[kind](self)
        except Exception as exc:  # noqa: BLE001 - no child processes here: run in threads
            reason = " ".join(str(exc).split())[:160]
            print(f"cardigan: cannot start the synthesis process ({reason}); using threads", file=sys.stderr)
            self.backend = ThreadBackend(self)
        self.backend.imageReady.connect(self._on_result)
        self.backend.variationReady.connect(self._on_variation)
        self.backend.renderFailed.connect(self._on_failure)
        self.backend.modelLoaded.connect(self._on_loaded)
        self.backend.modelFailed.connect(self._on_load_failed)
        self.backend.crashed.connect(self._on_crash)
        self.backend.cineReady.connect(self._on_cine)
        self.backend.cineFailed.connect(self._on_cine_failed)
        self._cine_serial = 0

        self.model: ModelInfo | None = None
        self.device_spec = "auto"
        self.seed = 0
        self.style_scale: float | None = None  # a noise model's style spread; None: the model's own
        self.variations_enabled = True
        self.variation_count = DEFAULT_VARIATIONS
        self.variation_base = 1
        self.last_result: SynthesisResult | None = None
        self.last_error = ""
        self._serial = 0
        self._handled = 0  # newest serial answered (shown, dropped or failed)
        self._load_id = 0
        self._loading: tuple[str, str] | None = None  # (spec, device) being loaded
        self._document = 0
        self._fan = None  # the probe's fan of the newest request
        self._anchor = None  # the ED key frame's labels when the newest request is the ES key frame
        self._revision = 0
        self._labels: np.ndarray | None = None
        self._busy = False
        self._crashes: list[float] = []
        self._shut_down = False
        self.kept = KeptImages()  # each document's last image, shown again on switching back

    # -- state ---------------------------------------------------------------------------
    @property
    def model_spec(self) -> str | None:
        return self.model.spec if self.model else None

    @property
    def generation(self) -> int:
        """Identifies the model in use (results made by another one are dropped)."""
        return self.model.model_id if self.model else 0

    @property
    def stochastic(self) -> bool:
        return bool(self.model and self.model.stochastic)

    @property
    def summary(self) -> dict:
        return self.model.summary if self.model else {}

    @property
    def device_label(self) -> str:
        return self.model.device_label if self.model else ""

    @property
    def loading(self) -> bool:
        return self._loading is not None

    @property
    def synthesis_count(self) -> int:
        """Main images the backend has computed so far."""
        return self.backend.computed

    def up_to_date(self) -> bool:
        """Whether the image shown belongs to the newest mask, seed and model."""
        result = self.last_result
        return result is not None and result.serial == self._serial and result.model_id == self.generation

    def current_variation_seeds(self) -> tuple[int, ...]:
        if not (self.variations_enabled and self.stochastic):
            return ()
        return tuple(range(self.variation_base, self.variation_base + self.variation_count))

    # -- requests ------------------------------------------------------------------------
    def request(self, labels: np.ndarray, document: int, revision: int, fan=None,
                anchor: np.ndarray | None = None) -> None:
        """Ask for an image of ``labels`` (copied now; the caller may keep editing) in the
        probe's ``fan`` (None: the median); ``anchor``, the ED key frame's labels when
        ``labels`` is the ES key frame, whose still lends it its far field."""
        if self._shut_down:
            return
        switched = document != self._document
        if switched:
            self.last_result = None
        self._labels = np.array(labels, dtype=np.uint8, copy=True)
        self._document, self._revision, self._fan = document, revision, fan
        self._anchor = None if anchor is None else np.array(anchor, dtype=np.uint8, copy=True)
        kept = self.kept.matching(document, self.generation, self.seed, self.style_scale, self._labels, fan,
                                  self._anchor) if switched and self.model is not None else None
        if kept is not None:
            self._show_kept(kept)
        else:
            self._submit()

    def _job(self, main: bool = True, kept_seeds: frozenset[int] = frozenset()) -> SynthesisJob:
        return SynthesisJob(self._serial, self._document, self._revision, self._labels, self.seed,
                            self.current_variation_seeds(), self._fan, self._anchor, self.style_scale, main,
                            kept_seeds)

    def _submit(self) -> None:
        if self._labels is None or self.model is None or self._shut_down:
            return
        self._serial += 1
        self.backend.submit(self._job())
        self._set_busy(True)

    def _show_kept(self, kept: KeptImage) -> None:
        """Show the image kept for the document switched to, and the variations kept with it;
        only the variations missing are asked for."""
        self._serial += 1
        self._handled = self._serial  # no image to wait for
        self._set_busy(self._handled < self._serial)
        shown = dataclasses.replace(kept.result, serial=self._serial, kept=True)
        self.kept.keep(shown, kept.variations)
        self.last_result, self.last_error = shown, ""
        self.imageShown.emit(shown)
        seeds = self.current_variation_seeds()
        for index, seed in enumerate(seeds):
            if seed in kept.variations:
                self.variationShown.emit(VariationResult(self._serial, shown.model_id, index, seed,
                                                         kept.variations[seed]))
        if any(seed not in kept.variations for seed in seeds):
            self.backend.submit(self._job(main=False, kept_seeds=frozenset(kept.variations)))

    def request_cine(self, ed: np.ndarray, es: np.ndarray, document: int, fan, bpm: float, fps: float) -> int:
        """Ask for a loop between two key frames (copied now); returns its serial. Only the
        newest request's loop is shown, and only when the current model made it."""
        if self._shut_down or self.model is None:
            return 0
        self._cine_serial += 1
        self.backend.submit_cine(CineRequest(self._cine_serial, document, np.array(ed, np.uint8),
                                             np.array(es, np.uint8), fan, self.seed, float(bpm), float(fps),
                                             self.style_scale))
        return self._cine_serial

    def drop_cine(self) -> None:
        """Forget the loop asked for last: made for key frames that have changed since, it is
        dropped when it comes, and so is a failure to make it."""
        self._cine_serial += 1

    def _on_cine(self, frames: CineFrames) -> None:
        if frames.serial == self._cine_serial and frames.model_id == self.generation:
            self.cineShown.emit(frames)

    def _on_cine_failed(self, serial: int, message: str) -> None:
        if serial == self._cine_serial:
            self.cineFailed.emit(message)

    def set_seed(self, seed: int) -> None:
        if seed != self.seed:
            self.seed = int(seed)
            self._submit()

    def set_style_scale(self, style_scale: float | None) -> None:
        """The spread of a noise model's style channels, in (0, 1]; None: the model's own."""
        style_scale = None if style_scale is None else float(style_scale)
        if style_scale != self.style_scale:
            self.style_scale = style_scale
            self._submit()

    def set_variations(self, enabled: bool, base: int | None = None) -> None:
        self.variations_enabled = enabled
        if base is not None:
            self.variation_base = base
        self._submit()

    def refresh(self) -> None:
        """Synthesize the current mask again (e.g. after an error)."""
        self._submit()

    # -- models --------------------------------------------------------------------------
    def load(self, spec: str, device: str | None = None) -> None:
        """Open ``spec`` on ``device`` in the background; the current model stays until it is ready."""
        if self._shut_down:
            return
        device = device or self.device_spec
        self._load_id += 1
        self._loading = (str(spec), device)
        self.backend.load(self._load_id, str(spec), device)
        self.modelLoading.emit(str(spec))

    def _on_loaded(self, info: ModelInfo) -> None:
        if info.model_id != self._load_id or self._shut_down:
            return  # a newer load was asked for meanwhile
        self._loading = None
        self.model = info
        self.device_spec = info.device
        self.last_error = ""
        self.kept.clear()  # the last model's images
        self.modelLoaded.emit(info)
        self._submit()

    def _on_load_failed(self, failure: LoadFailure) -> None:
        if failure.model_id != self._load_id or self._shut_down:
            return
        self._loading = None
        self.modelFailed.emit(failure.spec, failure.message)
        fallback = fallback_after(failure.spec)
        if self.model is None and fallback is not None:
            self.load(fallback, failure.device if failure.device in ("auto", "cpu") else "auto")

    def _on_crash(self, message: str) -> None:
        """The model's process died and was restarted empty: load the model again, unless it
        keeps crashing. A model being loaded when it died may be what killed it: that load
        is reported as failed and the model in use is loaded again instead."""
        now = time.monotonic()
        self._crashes = [t for t in self._crashes if now - t < CRASH_WINDOW_S] + [now]
        self.last_error = message
        self.synthesisFailed.emit(message)
        in_use = (self.model.spec, self.model.device) if self.model else None
        suspect = self._loading if self._loading != in_use else None
        target = in_use if suspect else self._loading or in_use
        self.model = None
        self._set_busy(False)
        if suspect is not None:
            self._loading = None
            if target is None and fallback_after(suspect[0]) is not None:
                target = (fallback_after(suspect[0]), "auto")
            instead = f", so {display_name(target[0])} is loaded instead" if target else ""
            self.modelFailed.emit(suspect[0], f"the synthesis process stopped while loading "
                                              f"{display_name(suspect[0])}{instead}")
        if target is None:
            return
        if len(self._crashes) > 1:
            self.modelFailed.emit(target[0], f"{message}; it crashed again with this model, so it was not "
                                             "reloaded: pick another model")
            self._loading = None
            return
        self.load(*target)

    # -- results -------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _on_result(self, result: SynthesisResult) -> None:
        self._handled = max(self._handled, result.serial)
        self._set_busy(self._handled < self._serial)
        current = (result.model_id == self.generation and result.document == self._document
                   and result.seed == self.seed and result.style_scale == self.style_scale)
        shown = self.last_result
        if result.model_id == self.generation and result.document != self._document and self.kept.newer_than_kept(result):
            self.kept.keep(result)  # the image of a document switched away from, for when it comes back
        if not current or (shown is not None and shown.model_id == self.generation and result.serial <= shown.serial):
            return  # made by another model, for another mask, seed or style, or older than the image shown
        self.kept.keep(result)
        self.last_result = result
        self.last_error = ""
        self.imageShown.emit(result)

    def _on_variation(self, variation: VariationResult) -> None:
        """A variation of the image shown, unless a newer request came since (an edit: it
        would be taken for the mask now)."""
        if (variation.model_id == self.generation and self.last_result is not None
                and variation.serial == self.last_result.serial == self._serial):
            self.kept.add_variation(self.last_result, variation.seed, variation.image)
            self.variationShown.emit(variation)

    def _on_failure(self, failure: SynthesisFailure) -> None:
        self._handled = max(self._handled, failure.serial)
        self._set_busy(self._handled < self._serial)
        if failure.model_id not in (0, self.generation):
            return
        self.last_error = failure.message
        self.synthesisFailed.emit(failure.message)

    def shutdown(self) -> None:
        """Stop the backend (waits for a computation in progress to finish)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.backend.stop()
