"""The schema of a native model file's description, checked before anything is built.

A model file is untrusted input: its JSON document could ask for a network of 92 TB, give
a width of 10.5 or a label table of the wrong shape. Every field is checked here for its
type and a sane range, with one plain line naming the first problem; only then is a network
(on the meta device first, so its tensor shapes can be compared with the file's header
without allocating anything) built.
"""

from __future__ import annotations

import math

from ..errors import ModelFileError
from ..nets.config import LAYER_NORMS
from ..nets.refiner_limits import MAX_NEAR_FIELD, MAX_WIDTH, MIN_NEAR_FIELD, MIN_WIDTH

# field: (type, minimum, maximum); bools are never accepted as ints
ARCHITECTURE = {
    "ngf": (int, 2, 1024), "label_nc": (int, 1, 64), "output_nc": (int, 1, 4),
    "upsampling": (str, None, None), "norm": (str, None, None), "modulation": (str, None, None),
    "spectral": (bool, None, None), "kernel_size": (int, 1, 9), "hidden": (int, 1, 2048),
    "use_vae": (bool, None, None), "z_dim": (int, 1, 4096), "noise_nc": (int, 0, 256),
    "image_size": (int, 32, 4096), "aspect_ratio": (float, 0.1, 10.0),
    "fan": (bool, None, None), "upsample": (str, None, None), "texture": (bool, None, None),
    "beam": (float, 0.0, 30.0), "grain": (float, 0.0, 20.0), "style_scale": (float, 0.01, 1.0),
    "tone": (float, 0.5, 2.0),
    "depth_gain": (list, None, None),
    "speckle_shape": (tuple, None, None),
    "tip_gain": (list, None, None),
    "fine_filter": ("rows", None, None),
    "shading": ("rows", None, None),
    "pool_detail": (list, None, None),
    "ring_down": ("rows", None, None),
    "border_soften": (list, None, None),
}
REFINER = {"width": (int, MIN_WIDTH, MAX_WIDTH), "near_field": (float, MIN_NEAR_FIELD, MAX_NEAR_FIELD)}
ENCODER = {"ngf": (int, 1, 1024), "input_nc": (int, 1, 4), "image_size": (int, 32, 4096),
           "z_dim": (int, 1, 4096), "norm": (str, None, None)}


def _check_value(where: str, name: str, value, kind: type, low, high) -> None:
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif kind is list:  # of numbers; their range is the architecture's to check
        ok = isinstance(value, (list, tuple)) and len(value) <= 64 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    elif kind is tuple:  # of number triples; their range is the architecture's to check
        ok = isinstance(value, (list, tuple)) and len(value) <= 64 and all(
            isinstance(p, (list, tuple)) and len(p) == 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in p)
            for p in value)
    elif kind == "rows":  # of equal-length lists of numbers; their shape is the architecture's to check
        ok = isinstance(value, (list, tuple)) and len(value) <= 64 and all(
            isinstance(row, (list, tuple)) and len(row) <= 4096 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in row)
            for row in value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ModelFileError(f"{where} {name} is {_short(value)}; it must be {_kind_name(kind)}")
    if low is not None and value < low or high is not None and value > high:
        raise ModelFileError(f"{where} {name} is {value!r}; it must be between {low} and {high}")


def _short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (a file's value may be megabytes long)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _kind_name(kind) -> str:
    return {int: "a whole number", float: "a number", bool: "true or false", str: "text",
            list: "a list of numbers", tuple: "a list of [number, number, number] triples",
            "rows": "a list of lists of numbers"}[kind]


def check_fields(data, table: dict, where: str) -> dict:
    if not isinstance(data, dict):
        raise ModelFileError(f"{where} must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(table))
    if unknown:
        raise ModelFileError(f"{where} has unknown fields: {', '.join(unknown)}")
    for name, value in data.items():
        _check_value(where, name, value, *table[name])
    return data


def check_document(document: dict) -> None:
    """Raise ModelFileError for the first field of a model document that is not valid."""
    check_fields(document.get("architecture"), ARCHITECTURE, "the architecture")
    encoder = document.get("encoder")
    if encoder is not None:
        check_fields(encoder, ENCODER, "the style encoder")
        if encoder.get("norm", "spectralinstance") not in LAYER_NORMS:
            raise ModelFileError(f"the style encoder norm is {encoder['norm']!r}; it must be one of "
                                 + ", ".join(LAYER_NORMS))
    refiner = document.get("refiner")
    if refiner is not None:
        check_fields(refiner, REFINER, "the texture refiner")
        if "width" not in refiner:
            raise ModelFileError("the texture refiner has no width")
    labels = document.get("labels")
    if labels is not None:
        if not isinstance(labels, list) or not all(
                isinstance(lab, dict) and isinstance(lab.get("id"), int) and not isinstance(lab.get("id"), bool)
                and isinstance(lab.get("name"), str) for lab in labels):
            raise ModelFileError("the label table must be a list of {\"id\": number, \"name\": text} entries")
        if sorted(lab["id"] for lab in labels) != list(range(len(labels))):
            raise ModelFileError("the label table's ids must be 0, 1, 2, ... once each")
    provenance = document.get("provenance")
    if provenance is not None and not isinstance(provenance, dict):
        raise ModelFileError("the provenance must be a JSON object")
