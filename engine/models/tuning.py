"""A generator model's output settings: what a model file carries for inference that training
does not set (``cardigan tune``).

- ``style_scale``: the spread of the noise map's style channels (:mod:`engine.nets.noise`);
- ``grain``: white per-pixel grain added after the network (:mod:`engine.nets.grain`);
- ``tone``: a gamma curve on the output's grey levels (:mod:`engine.nets.tone`);
- ``depth_gain``: grey-level gains along the fan's depth (:mod:`engine.nets.depth_gain`);
- ``tip_gain``: grey-level gains over the fan's first pixels below the probe
  (:mod:`engine.nets.tip_gain`);
- ``speckle_shape``: the speckle's size along and across the beam by depth
  (:mod:`engine.nets.speckle_shape`);
- ``fine_filter``: a small kernel the detail is filtered with, so the finest speckle's
  spectrum matches real images' (:mod:`engine.nets.fine_filter`);
- ``shading``: the image's large-scale brightness layout, drawn per seed
  (:mod:`engine.nets.shading`);
- ``pool_detail``: the speckle's strength inside the blood pools by depth
  (:mod:`engine.nets.pool_detail`);
- ``ring_down``: bands along the arcs of the near field, drawn per seed
  (:mod:`engine.nets.ring_down`);
- ``border_soften``: the edges the network draws on the mask's borders, faded in patches
  (:mod:`engine.nets.border_soften`);
- ``beam``: how far apart, in degrees, a beam model's noise nodes lie along the arcs
  (:mod:`engine.nets.beam`). Training set it; at inference a closer spacing draws shorter
  grain along the arcs from the same weights. Only a model trained with a beam may change it,
  and not to 0: switching the arcs' noise on or off is a change the network must be trained for.

The style scale changes only a model that draws a noise map: one without (a deterministic model,
an NVlabs checkpoint) is refused any value but 1, as the grain is, rather than carry a setting
that does nothing.

Changing them keeps the network's weights (shared with the model it came from, which is left
as it was); the new configuration is checked as any model file's is (a value out of range is
a one-line :class:`~engine.errors.ModelFileError`).
"""

from __future__ import annotations

import dataclasses

from ..errors import CardiganError

OUTPUT_SETTINGS = ("style_scale", "grain", "tone", "depth_gain", "tip_gain", "speckle_shape", "fine_filter",
                   "shading", "pool_detail", "ring_down", "border_soften", "beam")


def tune_model(model, **settings):
    """A copy of ``model`` (a loaded generator model) with the given output settings; the
    weights are shared, not copied, and ``model`` itself is unchanged. CardiganError for a model without a generator (the simulator) or an
    unknown setting."""
    unknown = sorted(set(settings) - set(OUTPUT_SETTINGS))
    if unknown:
        raise CardiganError(f"not an output setting: {', '.join(unknown)} (use {', '.join(OUTPUT_SETTINGS)})")
    config = getattr(model, "config", None)
    if config is None or getattr(model, "generator", None) is None or not hasattr(config, "tone"):
        raise CardiganError("only a generator model has output settings (not the simulator)")
    if "beam" in settings and settings["beam"] != config.beam and not (config.beam and settings["beam"]):
        raise CardiganError("the beam's node spacing can change only on a model trained with one, and not to 0 "
                            f"(this one was trained with beam {config.beam:g})")
    if settings.get("style_scale", 1.0) != 1.0 and not config.noise_nc:
        raise CardiganError("the style scale needs a model with a noise input (this one has none: its images "
                            "do not change with the seed)")
    config = dataclasses.replace(config, **settings)  # GeneratorConfig checks the values
    return dataclasses.replace(model, config=config)  # the network copied to run with it
