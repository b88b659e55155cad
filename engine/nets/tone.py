"""Output tone: a gamma curve on the generator's grey levels, calibrated against real images.

A GAN's images can come out a few grey levels darker or brighter than the images it learned
from, everywhere at once (a fine-tune with another objective shifts them; the region losses
pull the means back only as far as their weight allows). ``tone`` (in a model's
:class:`~engine.nets.GeneratorConfig`) corrects that at the output, the way a scanner's gain
curve would:

    grey' = 255 * (grey / 255) ** tone

- below 1 it brightens the mid-greys, above 1 it darkens them; black stays exactly black
  (the outside of the fan is untouched) and white stays white, and the curve is monotone, so
  no edge appears or disappears;
- it is one number for the whole image, not a value per label: a per-label shift would draw
  the mask's borders into the picture;
- it is applied before the pixel grain (:mod:`.grain`), whose amplitude is in the grey levels
  of the finished image;
- training draws at 1 (a training config has no tone); a shipped model's tone is fitted on
  the train split's grey levels by ``benchmarks/tone_calibration.py``. Models without it (tone 1)
  are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the limits below are read by configs, which need not load torch
    import torch

MIN_TONE, MAX_TONE = 0.5, 2.0  # the curves a model may ask for
_FLOOR = 1e-4  # the pow's input is kept above this where the image is not black (finite gradients)


def apply_tone(image: torch.Tensor, tone: float) -> torch.Tensor:
    """``image`` (N, C, H, W) in [-1, 1] under the curve ``grey ** tone`` (on grey / 255);
    returns ``image`` itself when ``tone`` is 1."""
    if tone == 1.0:
        return image
    grey = ((image + 1.0) * 0.5).clamp(0.0, 1.0)
    curved = grey.clamp_min(_FLOOR).pow(tone) * (grey > 0)  # black stays black
    return curved * 2.0 - 1.0


def tone_grey(grey, tone: float):
    """The same curve on grey levels 0-255 (a NumPy array or a number), for calibration."""
    return 255.0 * (grey / 255.0) ** tone
