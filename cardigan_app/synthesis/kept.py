"""Each document's last image, kept to be shown again at once (no Qt here).

Switching between the ED and ES key frames (or back to a mask edited before) would otherwise
say "Synthesizing…" and wait for an image the studio already had. The live synthesis keeps
the newest image made for each of the last few documents, with the variations shown for it,
and takes it again only when it was made from exactly what is asked now: the same model
(its load), seed, style scale, label map, fan and ED anchor (:meth:`KeptImages.matching`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .jobs import SynthesisResult

KEPT_DOCUMENTS = 4  # documents whose last image is kept (a key-frame pair and a little more)


@dataclass
class KeptImage:
    result: SynthesisResult
    variations: dict[int, np.ndarray] = field(default_factory=dict)  # seed -> picture of that seed


def same_map(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b))


class KeptImages:
    """The last image made for each of the last :data:`KEPT_DOCUMENTS` documents."""

    def __init__(self, limit: int = KEPT_DOCUMENTS) -> None:
        self.limit = limit
        self._kept: dict[int, KeptImage] = {}  # by document, the most recently kept last

    def keep(self, result: SynthesisResult, variations: dict[int, np.ndarray] | None = None) -> None:
        """``result`` is its document's image now, with ``variations`` (none yet by default)."""
        self._kept.pop(result.document, None)
        self._kept[result.document] = KeptImage(result, dict(variations or {}))
        while len(self._kept) > self.limit:
            self._kept.pop(next(iter(self._kept)))

    def newer_than_kept(self, result: SynthesisResult) -> bool:
        kept = self._kept.get(result.document)
        return kept is None or result.serial > kept.result.serial

    def add_variation(self, result: SynthesisResult, seed: int, image: np.ndarray) -> None:
        """A variation shown for ``result`` (ignored unless ``result`` is the one kept)."""
        kept = self._kept.get(result.document)
        if kept is not None and kept.result is result:
            kept.variations[seed] = image

    def matching(self, document: int, model_id: int, seed: int, style_scale: float | None, labels: np.ndarray,
                 fan, anchor: np.ndarray | None) -> KeptImage | None:
        """The kept image of ``document`` when it was made from all of these, else None."""
        kept = self._kept.get(document)
        if kept is None:
            return None
        made = kept.result
        if (made.model_id, made.seed, made.style_scale) != (model_id, seed, style_scale) or made.fan != fan:
            return None
        return kept if same_map(made.labels, labels) and same_map(made.anchor, anchor) else None

    def clear(self) -> None:
        self._kept.clear()
