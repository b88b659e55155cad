"""Pixel grain: the finest speckle, added to the generator's output.

A SPADE generator builds its image from smoothly upsampled feature maps and a last 3x3
convolution; even with per-pixel noise fed to that convolution (:mod:`.texture`) its images
hold several times less power at the highest frequencies than a B-mode image, whose speckle
changes from one pixel to the next (the fine-detail figure of
:mod:`engine.evaluation.texture`). ``grain`` (grey levels, in a model's
:class:`~engine.nets.GeneratorConfig`) adds that last octave directly:

    image + grain / 127.5 * min(1, brightness / GRAIN_KNEE) * n

- ``n`` is the noise map's last per-pixel channel as drawn (:mod:`.noise`), before the beam
  transform (:mod:`.beam`) reads it, so the grain is white: one independent N(0, 1) value
  per pixel. With a beam the network only reads that channel at its arc nodes, so the grain
  is independent of what the network saw everywhere else;
- ``brightness`` is the output in grey levels (0-255). The grain fades out below
  ``GRAIN_KNEE`` (dark blood pools speckle less in a log-compressed image) and is zero where
  the image is black, so the outside of the fan stays exactly black;
- the result is clamped to the output's range [-1, 1].

It is a fixed function of the output and the noise map: one seed still gives one image, a
region's redrawn noise changes the grain only there, a cine loop carries the grain with the
tissue as it carries the noise, and incremental synthesis applies it after the cached network
output. Training applies it too, so a model trained or fine-tuned with ``grain`` sees it
(the discriminator judges the grained image). Models without it (``grain`` 0) are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the limits below are read by configs, which need not load torch
    import torch

GRAIN_KNEE = 60.0  # grey level at and above which the grain has its full amplitude
MAX_GRAIN = 20.0  # grey levels: the largest amplitude a model may ask for


def add_grain(image: torch.Tensor, noise: torch.Tensor | None, grain: float) -> torch.Tensor:
    """``image`` (N, C, H, W) in [-1, 1] with the grain of ``grain`` grey levels drawn from
    the last channel of ``noise`` (N, noise_nc, H, W), the map as drawn; returns ``image``
    itself when ``grain`` is 0 or there is no noise."""
    if not grain or noise is None:
        return image
    assert noise.shape[0] == image.shape[0] and noise.shape[-2:] == image.shape[-2:], \
        (tuple(noise.shape), tuple(image.shape))
    n = noise[:, -1:].to(device=image.device, dtype=image.dtype)
    brightness = (image + 1.0) * 127.5
    gain = (brightness / GRAIN_KNEE).clamp(0.0, 1.0)
    return (image + n * gain * (grain / 127.5)).clamp(-1.0, 1.0)
