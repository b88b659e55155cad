"""Pathology presets as a cardiologist reads them.

A model's statistics hold each preset's position: the mean of the tenth of real patients at
one end of one measure (:data:`engine.anatomy.model_building.PRESETS`). One measure alone
does not make a diagnosis: the patients with the largest ED cavities have a normal ejection
fraction on average, and those with the thickest walls have large hearts (walls scale with
the heart). :data:`CLINICAL` moves such a position to the picture its name gives:

- Dilated LV (dilated cardiomyopathy): the large ED cavity kept, the walls of normal thickness
  (thin for the cavity), and end-systole moved to a reduced EF (30 % by Simpson's biplane
  method, in the 20-35 % such patients typically have), as the Target EF slider moves it;
- Hypertrophic wall (concentric hypertrophy): walls +2.5 SD, an LV shorter and narrower than
  the mean heart's (a small cavity), the EF the model gives it (normal to high).

:func:`clinical_preset` makes the heart, :func:`clinical_meaning` says so after the data's
own description. The other presets (enlarged atrium, reduced ejection, hyperdynamic LV)
already read as their names say and are kept as the data defines them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .heart import Heart

if TYPE_CHECKING:
    from .shape_model import ShapeModel


class Adjustment(NamedTuple):
    """Where a preset is moved: ``positions`` along slider directions (SDs from the mean, None:
    where the preset is; the least change of the heart that reaches them all), then its end-systole to ``ef`` (percent,
    Simpson's biplane; None: kept), and what that means in words."""

    positions: dict[str, float | None]
    ef: float | None
    meaning: str


DILATED_EF = 30.0
DILATED_EF_RANGE = (20.0, 35.0)  # what dilated cardiomyopathy typically shows, biplane
HYPERTROPHY = {"wall": 2.5, "lv_length": -0.5, "lv_width": -1.0}

CLINICAL = {
    "dilated_lv": Adjustment(
        {"wall": 0.0, "lv_length": None, "lv_width": None}, DILATED_EF,
        f"walls of mean thickness and end-systole moved to EF {DILATED_EF:.0f} % (biplane), as in dilated "
        f"cardiomyopathy (typically {DILATED_EF_RANGE[0]:.0f}-{DILATED_EF_RANGE[1]:.0f} %)"),
    "hypertrophy": Adjustment(
        HYPERTROPHY, None,
        "moved to walls +2.5 SD around a shorter, narrower LV (a small cavity) with a normal to high EF, "
        "as in concentric hypertrophy"),
}


def clinical_preset(model: "ShapeModel", name: str, heart: Heart) -> Heart:
    """Preset ``name``'s ``heart`` (its position in the data) moved as :data:`CLINICAL` says;
    ``heart`` itself for a preset it does not name."""
    adjustment = CLINICAL.get(name)
    if adjustment is None:
        return heart
    if adjustment.positions:
        heart = at_positions(model, heart, adjustment.positions)
    if adjustment.ef is not None:
        heart = model.with_ejection_fraction(heart, adjustment.ef, None)
    return heart


def clinical_meaning(name: str, description: str) -> str:
    """A preset's meaning: the data's ``description``, then how :data:`CLINICAL` moves it."""
    adjustment = CLINICAL.get(name)
    return description if adjustment is None else f"{description}, {adjustment.meaning}"


def at_positions(model: "ShapeModel", heart: Heart, positions: dict[str, float | None]) -> Heart:
    """``heart`` moved the least (in the model's latent space) to sit at ``positions``
    ({direction: SDs, or None: where it is}) along those slider directions (every coefficient
    kept within +-3 SD)."""
    latent = model._latent(heart)
    rows = np.array([model._direction(name) for name in positions])
    wanted = np.array([rows[i] @ latent if sds is None else sds for i, sds in enumerate(positions.values())])
    change = np.linalg.pinv(rows) @ (wanted - rows @ latent)
    return Heart.from_latent(latent + change, model.shapes, model.fingerprint)
