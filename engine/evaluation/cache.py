"""A cache of segmenters trained on real data.

The real-trained U-Net (the ceiling and the fidelity instrument) depends only on the real
training pairs and the settings, never on the model being evaluated, so it is trained once
per (data, settings) and reused. The key hashes the very arrays it is trained on (so any
change to the data gives a new key) together with the settings and this module's version.
Files are safetensors (no pickle) written atomically; an unreadable entry is retrained.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import CardiganError
from ..fileio import atomic_path
from .segmenter import UNet

CACHE_VERSION = 1  # bump when the segmenter or its training changes


def default_cache_dir() -> Path:
    """``$CARDIGAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/cardigan``, else ``~/.cache/cardigan``."""
    if os.environ.get("CARDIGAN_CACHE_DIR"):
        return Path(os.environ["CARDIGAN_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cardigan"


def segmenter_key(images: np.ndarray, labels: np.ndarray, settings: dict) -> str:
    """A hex key for a segmenter trained on ``images``/``labels`` with ``settings``."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": CACHE_VERSION, **settings}, sort_keys=True).encode())
    for array in (images, labels):
        array = np.ascontiguousarray(array)
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()[:32]


class SegmenterCache:
    """Segmenters stored as ``<dir>/segmenters/<key>.safetensors``."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory if directory is not None else default_cache_dir()) / "segmenters"

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.safetensors"

    def load(self, key: str, width: int) -> UNet | None:
        """The cached segmenter for ``key`` in eval mode, or None (absent or unreadable)."""
        path = self.path(key)
        if not path.is_file():
            return None
        model = UNet(width=width)
        try:
            model.load_state_dict(load_file(str(path)), strict=True)
        except (SafetensorError, OSError, RuntimeError, ValueError):
            return None
        return model.eval()

    def store(self, key: str, model: UNet) -> Path | None:
        """Save ``model`` under ``key``; a cache that cannot be written is skipped (None)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
            with atomic_path(self.path(key)) as tmp:
                save_file(state, str(tmp), metadata={"format": "cardigan-segmenter"})
        except (OSError, CardiganError):
            return None
        return self.path(key)

