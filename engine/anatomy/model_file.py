"""The shape model's statistics file (``resources/anatomy/shape_model.json``).

One JSON object, one field a line: ``format``, ``terms`` (the data's licence and citation),
``source``, then the statistics of :func:`engine.anatomy.model_building.build_statistics`.
Numbers keep 6 significant digits; the principal modes, the one large array, are stored as
base64 int8 rows with one scale per row (``modes``, ``mode_scales``), which is far finer
than a pixel at any size. :func:`quantised` applies the same rounding to statistics in memory,
so a built model and its saved copy draw the same hearts.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from ..errors import CardiganError

FORMAT = "cardigan-shape-model"
FIRST = ("format", "terms", "source")


class ShapeModelError(CardiganError):
    """A shape model file that is missing or damaged."""


def _pack(array: np.ndarray) -> tuple[str, list[float]]:
    """Rows of ``array`` as base64 int8, each row scaled by its largest magnitude / 127."""
    array = np.atleast_2d(np.asarray(array, np.float64))
    scales = [float(f"{s:.6g}") for s in np.maximum(np.abs(array).max(axis=1), 1e-12) / 127.0]
    codes = np.clip(np.round(array / np.asarray(scales)[:, None]), -127, 127).astype(np.int8)
    return base64.b64encode(codes.tobytes()).decode("ascii"), scales


def _unpack(text: str, scales: list[float]) -> np.ndarray:
    codes = np.frombuffer(base64.b64decode(text, validate=True), np.int8).astype(np.float64)
    return codes.reshape(len(scales), -1) * np.asarray(scales, np.float64)[:, None]


def _rounded(value):
    """``value`` with every number rounded to 6 significant digits (arrays become lists)."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_rounded(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.6g}")
    return value


def quantised(stats: dict) -> dict:
    """``stats`` rounded as a save and a load would round them."""
    out = {k: _rounded(v) for k, v in stats.items() if k != "modes"}
    out["modes"] = _unpack(*_pack(stats["modes"]))
    return out


def write_statistics(stats: dict, path: Path | str) -> None:
    data = {k: _rounded(v) for k, v in stats.items() if k != "modes"}
    data["modes"], data["mode_scales"] = _pack(stats["modes"])
    data["format"] = FORMAT
    order = [k for k in FIRST if k in data] + sorted(k for k in data if k not in FIRST)
    lines = [f"{json.dumps(k)}: {json.dumps(data[k], separators=(',', ':'))}" for k in order]
    Path(path).write_text("{\n" + ",\n".join(lines) + "\n}\n")


def read_statistics(path: Path | str) -> dict:
    """The statistics in a model file; ShapeModelError (one line) when missing or damaged."""
    try:
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise ValueError("not a shape model file")
        data["modes"] = _unpack(data["modes"], data.pop("mode_scales"))
        data["mean"] = np.asarray(data["mean"], np.float64)
        return data
    except OSError as exc:
        raise ShapeModelError(f"{path}: cannot read the shape model ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ShapeModelError(f"{path}: not a usable shape model ({exc})") from None
