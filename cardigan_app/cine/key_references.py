"""The real image under each key frame (ED and ES).

A picture opened to trace over lies under the ED key frame only; a dataset pair's ES image,
when its ES mask comes along as the ES key frame, lies under that one (:meth:`KeyReferences.add_picture`).
A loop opened to trace over (a 2D+t NIfTI, a scanner's DICOM cine) gives each key frame a frame
of its own, which the real-image pane's frame slider chooses while that key frame is edited:
ED starts at the loop's first frame; ES at its last for a CAMUS half sequence (which runs from
ED to ES), and a third of the way through any other loop (where a cycle that starts at ED
ends its ejection). The contrast the images are shown at (:mod:`cardigan_app.contrast`) is
kept here too, so it lasts exactly as long as the images opened: a view setting, never the mask's.
No Qt here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..contrast import Window

KEYS = ("ED", "ES")


def default_es_frame(count: int, name: str = "") -> int:
    """The frame ES starts at in a loop of ``count`` frames named ``name``."""
    if count <= 1:
        return 0
    if "half_sequence" in name.lower():
        return count - 1
    return min(count - 1, round(count / 3))


class KeyReferences:
    """What lies under each key frame: ``image`` (ED's) and ``es_image`` (ES's, None when it has
    none), or ``frames`` (T, H, W), of which ``index[key]`` is each key frame's; ``source`` is
    the file they were read from (None: none, or not said)."""

    def __init__(self, image: np.ndarray | None = None, frames: np.ndarray | None = None,
                 source: Path | str = "") -> None:
        if frames is not None and len(frames) > 1:
            self.frames: np.ndarray | None = frames
            self.index = {"ED": 0, "ES": default_es_frame(len(frames), Path(source).name)}
            image = frames[0]
        else:
            self.frames = None
            self.index = {"ED": 0, "ES": 0}
        self.image = image
        self.source = Path(source) if source and image is not None else None
        self.es_image: np.ndarray | None = None
        self.contrast: Window | None = None  # the window/level they are shown at; None: their own values

    @property
    def count(self) -> int:
        """Frames to choose from: 0 with no image, 1 for a picture."""
        if self.frames is not None:
            return len(self.frames)
        return 0 if self.image is None else 1

    def image_for(self, key: str) -> np.ndarray | None:
        if self.frames is not None:
            return self.frames[self.index[key]]
        return self.image if key == "ED" else self.es_image

    def add_picture(self, key: str, image: np.ndarray) -> bool:
        """Put a picture of its own under key frame ``key`` (a dataset pair's ES image beside
        its ED one); refused (False) under a loop, whose key frames choose among its frames."""
        if self.frames is not None:
            return False
        if key == "ED":
            self.image = image
        else:
            self.es_image = image
        return True

    def choose(self, key: str, frame: int) -> int:
        """Put frame ``frame`` (clamped to the loop) under key frame ``key``; returns it."""
        if self.frames is None:
            return 0
        self.index[key] = int(np.clip(frame, 0, len(self.frames) - 1))
        return self.index[key]
