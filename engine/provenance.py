"""Where a synthesized image came from, recorded in the image file itself.

A synthesized PNG carries one text chunk, :data:`SYNTHESIS_KEY`, holding a JSON record (as a
mask carries its fan under :data:`engine.fan.FAN_KEY`): the model's name and the SHA-256 of
its file (the checksum an export's manifest records, :func:`model_identity`), the seed, the
style scale applied (None for a model without style channels), the device and the software
version. A NIfTI image's header has an 80-character description field: it takes the same
record in short (:func:`nifti_description`: the checksum's first 8 digits, the model's name
cut to fit). ``cardigan synthesize`` and the studio's File › Export write both the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import __version__
from .fileio import sha256_file

SYNTHESIS_KEY = "cardigan-synthesis"  # PNG text chunk of a synthesized image
SOFTWARE = f"cardiGAN {__version__}"
DESCRIPTION_LIMIT = 80  # characters in a NIfTI header's description field
SHORT_CHECKSUM = 8  # hex digits of the model's checksum a NIfTI description keeps


def model_identity(synth) -> dict:
    """The model a :class:`~engine.synthesizer.Synthesizer` draws with: its name, kind, file
    and the file's SHA-256 (None for a built-in model without a file)."""
    path = getattr(synth.model, "path", None)
    return {"name": synth.model.name, "kind": synth.model.kind,
            "path": str(path) if path else None,
            "sha256": sha256_file(path) if path else None}


def synthesis_record(model: str, model_sha256: str | None, seed: int, style_scale: float | None,
                     device: str) -> dict:
    """The record of one synthesized image (see the module docstring)."""
    return {"software": SOFTWARE, "model": str(model), "model_sha256": model_sha256, "seed": int(seed),
            "style_scale": None if style_scale is None else round(float(style_scale), 6), "device": str(device)}


def synthesizer_record(synth, seed: int, **more) -> dict:
    """:func:`synthesis_record` of an image ``synth`` drew with ``seed``, with ``more`` (a
    region resampled with another seed, say)."""
    identity = model_identity(synth)
    return {**synthesis_record(identity["name"], identity["sha256"], seed,
                               synth.style_scale if synth.takes_style_scale else None, str(synth.device)), **more}


def png_text(record: dict) -> dict[str, str]:
    """The PNG text chunks carrying ``record``."""
    return {SYNTHESIS_KEY: json.dumps(record, sort_keys=True)}


def read_synthesis_record(path: Path | str) -> dict | None:
    """The record a synthesized PNG carries, or None (no record, not a PNG, unreadable)."""
    from .maskio import read_png_text

    try:
        record = json.loads(read_png_text(path).get(SYNTHESIS_KEY, ""))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def nifti_description(record: dict) -> str:
    """``record`` in at most :data:`DESCRIPTION_LIMIT` ASCII characters, for a NIfTI header:
    ``cardiGAN 0.1.0; demo sha256:1a2b3c4d; seed 7; style 0.4; cpu`` (the checksum's first
    :data:`SHORT_CHECKSUM` digits), the model's name shortened when the whole would not fit."""
    checksum = record.get("model_sha256")
    style = record.get("style_scale")
    tail = "".join([f" sha256:{checksum[:SHORT_CHECKSUM]}" if checksum else "",
                    f"; seed {record['seed']}", f"; style {style:.4g}" if style is not None else "",
                    f"; {record['device']}"])
    head = f"{record['software']}; "
    room = DESCRIPTION_LIMIT - len(head) - len(tail)
    name = record["model"].encode("ascii", "replace").decode("ascii")
    if len(name) > room:
        name = name[:max(room - 1, 0)] + "~"
    return (head + name + tail)[:DESCRIPTION_LIMIT]
