"""``simulate``: label map -> simulated apical B-mode image."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..anatomy import PHASES, VIEWS
from ..errors import MaskError
from ..labels import validate_label_map
from .acoustics import echo_intensity, log_compress, smooth_display, speckle_smoothing
from .geometry import sector_for, to_cartesian
from .heart import guess_view, measure_heart
from .scene import reflectivity
from .style import draw_style

MIN_SIZE = 32


def simulate(labels: np.ndarray, seed: int = 0, view: str | None = None,
             patient_seed: int | None = None, phase: str | None = None, fan=None) -> np.ndarray:
    """Simulate the echo of a (H, W) label map; returns (H, W) uint8, 0 outside the fan.

    ``seed`` fixes everything random (same seed, same image). ``view`` (2CH/4CH) decides
    whether a right heart is added; None guesses it from where the ventricle sits.
    ``patient_seed``, when given, fixes the per-patient look (gain, tissue levels, dropout)
    separately, so all views and phases of one synthetic patient look alike while their
    speckle differs. ``phase`` (ED/ES), when known, sets the mitral and tricuspid valves:
    closed in systole, closing at end-diastole; None leaves it to the seed. ``fan``
    (:class:`engine.fan.Fan`) gives the probe's sector; None keeps the simulator's own
    (64 degrees, the full height); an unusable fan (no width or depth, outside the
    picture) is refused with :class:`engine.fan.FanError`.
    """
    labels = validate_label_map(labels, "label map")
    if labels.ndim != 2:
        raise MaskError(f"the simulator takes one 2-D label map, got shape {labels.shape}")
    height, width = labels.shape
    if height < MIN_SIZE or width < MIN_SIZE:
        raise MaskError(f"the simulator needs label maps of at least {MIN_SIZE}x{MIN_SIZE}, "
                        f"got {width}x{height}")
    if view is not None and view not in VIEWS:
        raise MaskError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    if phase is not None and phase not in PHASES:
        raise MaskError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    if fan is not None:
        fan = fan.checked()
    style_seed = seed if patient_seed is None else patient_seed
    style = draw_style(np.random.default_rng(np.random.SeedSequence([int(style_seed) & (2**63 - 1), 17])))
    if phase is not None:
        style = replace(style, valve_open=style.valve_open * (0.15 if phase == "ES" else 0.5))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & (2**63 - 1), 29]))

    sector = sector_for(height, width, fan)
    frame = measure_heart(labels)
    view = view or guess_view(frame, width)
    refl = reflectivity(labels, sector, frame, view, style, rng)
    intensity = echo_intensity(refl, sector, rng)
    depth = (sector.depth / sector.radius)[:, None]
    gain_db = (style.gain_db - style.depth_falloff_db * depth
               - style.near_field_db * np.exp(-depth / 0.08)).astype(np.float32)
    grey = smooth_display(log_compress(speckle_smoothing(intensity), gain_db, style.dynamic_range_db))
    image = to_cartesian(grey.astype(np.float32), height, width, fan)
    return np.round(image).astype(np.uint8)
