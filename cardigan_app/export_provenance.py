"""The record File › Export writes into a synthesized image: where the image came from.

The same record ``cardigan synthesize`` writes (:mod:`engine.provenance`): the model's name,
its file's SHA-256, the seed, the style scale the image was drawn with, the device and the
version. The checksum is of the file as it was loaded: a file rewritten since (its stamp no
longer the one taken before it was read) is not checksummed, the record says None (the
studio loads the rewritten file again, and its images record its checksum). Checksums
are remembered per file and stamp, so exporting again costs no second read of a large model.
"""

from __future__ import annotations

from functools import lru_cache

from engine.fileio import sha256_file
from engine.provenance import synthesis_record

from .synthesis.jobs import ModelInfo, SynthesisResult, file_stamp


@lru_cache(maxsize=8)
def _checksum(path: str, stamp: tuple[int, int]) -> str:
    return sha256_file(path)


def model_checksum(info: ModelInfo) -> str | None:
    """The SHA-256 of the model file ``info`` was loaded from (None: a built-in model, or a
    file changed or gone since)."""
    path = info.summary.get("path")
    stamp = file_stamp(path) if path else None
    # the stamp taken before the load, when the model was given as its file (not as a run folder)
    if stamp is None or (info.file_stamp is not None and stamp != info.file_stamp):
        return None
    try:
        return _checksum(str(path), stamp)
    except OSError:
        return None


def image_record(info: ModelInfo, result: SynthesisResult) -> dict:
    """The record of ``result``, an image the model ``info`` made."""
    style = None if info.own_style_scale is None else (result.style_scale or info.own_style_scale)
    return synthesis_record(info.summary.get("name", info.spec), model_checksum(info), result.seed, style,
                            info.runs_on)
