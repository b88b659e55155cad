"""A physics-flavoured apical echocardiography simulator: label map -> B-mode image.

Stages, one module each: :mod:`.geometry` (the fan and the polar grid), :mod:`.heart` (the
LV's pose measured from the labels), :mod:`.scene` (echogenicity, with the structures the
labels leave out), :mod:`.acoustics` (speckle, point-spread function, envelope, log
compression), :mod:`.style` (per-patient look) and :mod:`.render` (the pipeline).
"""

from .geometry import OPENING_DEG, sector_mask
from .render import simulate

__all__ = ["simulate", "sector_mask", "OPENING_DEG"]
