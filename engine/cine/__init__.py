"""Cine loops: a heart that beats, from two key frames or a shape-model heart.

- :mod:`.timing`: when each frame falls in the cycle (physiological, seamless loops);
- :mod:`.motion`: masks between ED and ES, and the displacement field tissue moves along;
- :mod:`.loop`: :class:`CineLoop` and the images a model draws for it (one noise map,
  carried with the tissue);
- :mod:`.writers`: GIF, MP4, 2D+t NIfTI with per-frame masks, HDF5 or PNG frames;
- :mod:`.steady`: brightness that does not jump from frame to frame;
- :mod:`.measures`: flicker, speckle tracking and the loop's ejection fraction.
"""

from .loop import CineLoop, loop_from_heart, loop_from_key_frames, synthesize_loop
from .timing import Timing
from .writers import write_loop

__all__ = ["CineLoop", "Timing", "loop_from_heart", "loop_from_key_frames", "synthesize_loop", "write_loop"]
