"""One heart drawn from the shape model: a short list of numbers that a mask PNG can carry.

A :class:`Heart` is a position in the model's space, every number in standard deviations:
``shape`` holds the coefficients of the principal modes (both views, ED and ES together),
``pose`` the whitened pose of the two views (where each sits, how big, how tilted). A draw
keeps every number within +-3 SD, and so do sliders and presets. ``model`` names the shape
model it belongs to (a fingerprint of its statistics; every heart names one, and a record
naming none is refused: no model can tell it is its own), ``seed`` the draw it came from
(None for a heart fitted to masks or moved by hand).

``to_dict`` / ``from_dict`` give and read a small JSON-able record; a damaged record raises
:class:`HeartError` whose message is one line.

A label PNG drawn from a heart carries it as JSON in the text chunk :data:`ANATOMY_KEY`: the
mask's anatomy record (:func:`anatomy_record`: the view, the phase from ED (0) to ES (1), and
the heart's record), which the studio reads back to shape the heart with its sliders.

:func:`heart_name` is how a heart is named to a user: "heart #89" for a seed one can type
into the studio's New mask dialog (below :data:`TYPED_SEEDS`), and "random heart" with a short
stable id for the 63-bit seeds that phantom, export and cine runs derive, which no one could
type or read. The record keeps the full seed either way.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from ..errors import CardiganError

FORMAT = "cardigan-heart"
VERSION = 1
LIMIT = 3.0  # every coefficient stays within this many SDs
MAX_NUMBERS = 256
ANATOMY_KEY = "cardigan-anatomy"  # PNG text chunk: the anatomy record of the heart a mask shows
TYPED_SEEDS = 1_000_000  # seeds 0 .. TYPED_SEEDS - 1 are the ones a user picks or types


class HeartError(CardiganError):
    """A heart record that cannot be used (damaged, or made with another shape model)."""


@dataclass(frozen=True)
class Heart:
    shape: tuple[float, ...]
    pose: tuple[float, ...]
    model: str
    seed: int | None = None

    @property
    def latent(self) -> np.ndarray:
        """Shape and pose coefficients as one vector (what slider directions act on)."""
        return np.array(self.shape + self.pose, np.float64)

    @classmethod
    def from_latent(cls, latent: np.ndarray, shapes: int, model: str, seed: int | None = None) -> "Heart":
        """A heart from one vector of ``shapes`` shape then pose coefficients, clipped to +-3 SD."""
        z = np.clip(np.asarray(latent, np.float64), -LIMIT, LIMIT)
        return cls(tuple(round(float(v), 6) for v in z[:shapes]),
                   tuple(round(float(v), 6) for v in z[shapes:]), model, seed)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "model": self.model, "seed": self.seed,
                "shape": list(self.shape), "pose": list(self.pose)}

    @classmethod
    def from_dict(cls, data) -> "Heart":
        """The heart a record describes; HeartError (one line) for a damaged record."""
        if not isinstance(data, dict):
            raise HeartError("the heart record is not an object")
        if data.get("format") != FORMAT:
            raise HeartError(f"the record is not a heart (format {str(data.get('format'))[:40]!r})")
        if data.get("version") != VERSION:
            raise HeartError(f"the heart record has version {str(data.get('version'))[:20]}, "
                             f"this version reads {VERSION}")
        unknown = sorted(set(data) - {"format", "version", "model", "seed", "shape", "pose"})
        if unknown:
            raise HeartError(f"the heart record has unknown fields: {', '.join(map(str, unknown[:4]))}")
        model, seed = data.get("model"), data.get("seed")
        if model is None or isinstance(model, str) and not model.strip():
            raise HeartError("the heart record names no shape model")
        if not isinstance(model, str) or len(model) > 64:
            raise HeartError("the heart record's model is not a short text")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise HeartError("the heart record's seed is not a whole number")
        return cls(_numbers(data.get("shape"), "shape"), _numbers(data.get("pose"), "pose"), model, seed)


def heart_name(seed: int | None) -> str:
    """A short, stable name for the heart drawn from ``seed`` (None: a heart fitted or moved
    by hand, no longer any draw): "heart #89" for a seed a user can type, else "random heart"
    and six letters and digits folded from the seed (the same seed always gives the same)."""
    if seed is None:
        return "heart"
    if 0 <= seed < TYPED_SEEDS:
        return f"heart #{seed}"
    digest = hashlib.blake2b(str(int(seed)).encode(), digest_size=3).hexdigest()
    return f"random heart {digest}"


def anatomy_record(heart: Heart, view: str, phase: float) -> dict:
    """The record of a mask drawn from ``heart`` in ``view`` at ``phase`` (0 for ED, 1 for ES,
    or between), as a label PNG carries it under :data:`ANATOMY_KEY`."""
    return {"view": view, "phase": float(phase), "heart": heart.to_dict()}


def heart_in_record(record: dict | None) -> Heart | None:
    """The heart of a mask's anatomy record (``{"view", "phase", "heart"}``, as the studio saves
    it), or None for no record or one whose heart cannot be used."""
    if not record:
        return None
    try:
        return Heart.from_dict(record["heart"])
    except (HeartError, KeyError, TypeError):
        return None


def record_as_drawn(record: dict | None, model, size: int, fan=None) -> np.ndarray | None:
    """The mask of a mask's anatomy record (``{"view", "phase", "heart"}``) as ``model`` (a
    :class:`engine.anatomy.ShapeModel`) draws it, ``size`` pixels square, in ``fan`` (None: the
    view's median fan); None for no record or one whose heart cannot be used."""
    heart = heart_in_record(record)
    if heart is None:
        return None
    return model.mask(heart, record["view"], record["phase"], size, fan=fan)


def keep_painted(labels: np.ndarray, drawn_before: np.ndarray, drawn_now: np.ndarray) -> np.ndarray:
    """``drawn_now`` (a heart drawn again: another heart, phase or fan) with the pixels of
    ``labels`` painted on top of the heart as it was drawn before (those that differ from
    ``drawn_before``) kept as painted; a new array."""
    out = drawn_now.copy()
    painted = labels != drawn_before
    out[painted] = labels[painted]
    return out


def anatomy_record_problem(data, model) -> str | None:
    """Why ``data``, a mask's saved anatomy record, cannot be the heart of that mask as
    ``model`` (a :class:`engine.anatomy.ShapeModel`) draws it, in one line ("its anatomy
    record's ..."), or None: the view, a phase between 0 and 1, a heart record, and a heart of
    ``model`` (its fingerprint, its number of shape modes and of pose coefficients, as the model
    checks them when it draws; a heart naming no model is refused by :meth:`Heart.from_dict`).
    A heart of another model would be drawn as another heart."""
    from .model_building import VIEWS

    if not isinstance(data, dict) or not isinstance(data.get("heart"), dict):
        return "its anatomy record has no heart"
    phase = data.get("phase")
    if data.get("view") not in VIEWS or isinstance(phase, bool) or not isinstance(phase, (int, float)) \
            or not math.isfinite(phase) or not 0 <= phase <= 1:
        return "its anatomy record's view or phase is not valid"
    try:
        heart = Heart.from_dict(data["heart"])
    except HeartError as exc:
        return f"its anatomy record's heart is not usable ({exc})"
    if heart.model != model.fingerprint:
        return (f"its anatomy record's heart belongs to another shape model ({heart.model[:12]}, "
                f"this one is {model.fingerprint[:12]})")
    if len(heart.shape) != model.shapes:
        return (f"its anatomy record's heart has {len(heart.shape)} shape coefficients, this shape model "
                f"has {model.shapes}")
    if len(heart.pose) != len(model.pose_mean):
        return (f"its anatomy record's heart has {len(heart.pose)} pose coefficients, this shape model "
                f"has {len(model.pose_mean)}")
    return None


def anatomy_in_text(text: dict[str, str], model) -> tuple[dict | None, str | None]:
    """(the anatomy record a label PNG's text chunks carry, or None; why a record it carries
    is refused (:func:`anatomy_record_problem` for ``model``, in one line), or None). A record
    kept holds what :func:`anatomy_record` writes and nothing else (the view, the phase as a
    float, the heart): whoever reads a mask, the studio or an export, keeps the same fields."""
    carried = text.get(ANATOMY_KEY)
    if not carried:
        return None, None
    try:
        data = json.loads(carried)
    except (ValueError, RecursionError):
        return None, "its anatomy record is not readable JSON"
    problem = anatomy_record_problem(data, model)
    if problem:
        return None, problem
    return {"view": data["view"], "phase": float(data["phase"]), "heart": data["heart"]}, None


def _numbers(values, name: str) -> tuple[float, ...]:
    if not isinstance(values, list) or not values or len(values) > MAX_NUMBERS:
        raise HeartError(f"the heart record's {name} is not a list of numbers")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise HeartError(f"the heart record's {name} holds something other than finite numbers")
        if abs(v) > LIMIT + 1e-6:
            raise HeartError(f"the heart record's {name} holds {v:.3g}, beyond the +-{LIMIT:g} SD a heart may reach")
        out.append(float(v))
    return tuple(out)
