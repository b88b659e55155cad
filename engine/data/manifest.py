"""``manifest.json``: what a prepared dataset holds and where it came from.

Written last into the staging folder, so a folder with a manifest is a finished dataset.
Fields (version 1)::

    kind            "cardigan-prepared-dataset"
    version         1
    created_by      "cardiGAN Studio <version>"
    created         ISO 8601 time (UTC)
    source          {"path", "format", "checksum": {"algorithm", "of", "value"}, ...}
    options         {"views", "instants", "size", "seed", ...}
    splits          {"train": [patients], "valid": [...], "test": [...]}
    counts          {"train": pairs, "valid": pairs, "test": pairs} (a cine export: frames)
    patients        {"train": n, "valid": n, "test": n}
    label_values    label ids present in the label maps
    labels          the label table (engine.labels)
    skipped         [{"patient", "reason"}] patients or frames left out
    patient_info    {patient: {cfg key: value}} when the source has it (CAMUS cfg files)
    hearts          {patient: {"ejection_fraction": {"2CH", "4CH", "biplane"}, "heart"}} for
                    generated patients (phantom, export --random): EF in percent by area per
                    view, Simpson biplane when both views are made, of the hearts the masks
                    show; the shape-model heart, and "shown" {view: heart} for a view whose
                    masks show one nearer the mean (too extreme to draw at that size and fan)
    anatomy         {"shape_model": fingerprint, "source": in words} the model they were drawn from
    fans            {"split/stem": fan record} the fan in each label PNG (prepare)
    sequences       a cine export's loops (options "cine": true; engine.export.cine), each
                    {"patient", "view", "split", "frames", "fps", "bpm", "cycle",
                    "ejection_fraction_area", "invalid_frames", "files"}; prepare's (options
                    "sequences": true) list the source's sequences, each frame of them a pair
    fan_fit         {"fitted", "median_iou", "lowest_iou", "fallback", "shared_only"} how well
                    the fans fitted (engine.data.prepare.fan_fit_summary): "fallback" frames
                    carry their view's median fan, "shared_only" ones their acquisition's;
                    older manifests count both in "fallback" and lack "shared_only"
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from .. import __version__
from ..errors import DataError
from ..fileio import atomic_path, make_public, sha256_file
from ..labels import label_table
from .layout import MANIFEST_NAME, SPLITS

KIND = "cardigan-prepared-dataset"
VERSION = 1


def build_manifest(*, source: dict, options: dict, splits: dict[str, list[str]],
                   counts: dict[str, int], label_values: list[int], skipped: list[dict] | None = None,
                   patient_info: dict | None = None) -> dict:
    manifest = {
        "kind": KIND,
        "version": VERSION,
        "created_by": f"cardiGAN Studio {__version__}",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "source": source,
        "options": options,
        "splits": {split: sorted(splits.get(split, [])) for split in SPLITS},
        "counts": {split: int(counts.get(split, 0)) for split in SPLITS},
        "patients": {split: len(splits.get(split, [])) for split in SPLITS},
        "label_values": sorted(int(v) for v in label_values),
        "labels": label_table(),
        "skipped": list(skipped or []),
    }
    if patient_info:
        manifest["patient_info"] = patient_info
    return manifest


def write_manifest(root: Path | str, manifest: dict) -> Path:
    path = Path(root) / MANIFEST_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        make_public(tmp)
    return path


def read_manifest(root: Path | str, required: bool = True) -> dict | None:
    """The manifest of the prepared dataset at ``root``.

    Missing: DataError when ``required``, else None. Damaged or of another kind: DataError.
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        if required:
            raise DataError(f"{root}: not a prepared dataset (no {MANIFEST_NAME}); "
                            "make one with `cardigan prepare` or `cardigan phantom`")
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise DataError(f"{path}: not a cardiGAN dataset manifest")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise DataError(f"{path}: manifest version {manifest.get('version')} is newer than this "
                        f"cardiGAN Studio understands ({VERSION}); update the app")
    return manifest


def dataset_origin(manifest: dict) -> str:
    """Which command made a dataset: ``export`` (synthetic pairs from a model), ``phantom``
    (simulated patients) or ``prepared`` (a real source, by ``cardigan prepare``)."""
    source = manifest.get("source") if isinstance(manifest.get("source"), dict) else {}
    if "model" in source:
        return "export"
    if source.get("format") == "phantom":
        return "phantom"
    return "prepared"


def manifest_checksum(root: Path | str) -> str:
    """SHA-256 of ``manifest.json`` (recorded in trained models' provenance)."""
    return sha256_file(Path(root) / MANIFEST_NAME)
