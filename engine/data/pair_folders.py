"""Image / label folder pairs as a ``prepare`` source: the data NVlabs SPADE trains on.

SPADE's ``--dataset_mode custom`` reads a folder of label maps and a folder of images; a
cardiac dataset made for it (or exported by another tool, or prepared by us earlier) comes
in one of three layouts, looked for in this order:

- ``<root>/<split>_label/`` beside ``<root>/<split>_img/`` (pix2pixHD's and SPADE's own
  naming: ``train_label``, ``train_img``, ``val_label``, ``val_img``, ``test_…``);
- ``<root>/<split>/label/`` beside ``<root>/<split>/img/`` (the prepared layout: preparing it
  again changes its size or views);
- ``<root>/label/`` beside ``<root>/img/``, without splits (patients are split 80/10/10).

``images`` and ``labels`` are taken for ``img`` and ``label``, ``val`` and ``validation``
for ``valid``. A label map pairs with the image of the same stem (PNG, JPEG, BMP or TIFF):
SPADE pairs them by sorted order, which silently shifts every pair after a missing file, so
here a file without its partner is named in the manifest's ``skipped`` instead. Stems of the
CAMUS form ``<patient>_<view>_<instant>`` group into patients (a patient stays in one split,
and ``--views`` / ``--instants`` choose among them), as do sequence frames
``<patient>_<view>_f<k>``; any other stem is a patient of its own. Stems that are not of the
CAMUS form are kept whatever the views asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .layout import stem_patient
from .trace_image import PICTURE_SUFFIXES, read_grey_image

LABEL_NAMES = ("label", "labels")
IMAGE_NAMES = ("img", "image", "images")
SPLIT_NAMES = {"train": "train", "training": "train", "val": "valid", "valid": "valid",
               "validation": "valid", "test": "test", "testing": "test"}
IMAGE_SUFFIXES = (".png",) + PICTURE_SUFFIXES


@dataclass(frozen=True)
class FolderPair:
    split: str | None  # None: the layout has no splits
    labels: Path
    images: Path


def find_pairs(root: Path) -> list[FolderPair]:
    """The label / image folder pairs under ``root`` (empty when it has none)."""
    def first(candidates) -> Path | None:
        return next((c for c in candidates if c.is_dir()), None)

    found = []
    for name, split in SPLIT_NAMES.items():  # <split>_label beside <split>_img
        labels = first(root / f"{name}_{word}" for word in LABEL_NAMES)
        images = first(root / f"{name}_{word}" for word in IMAGE_NAMES)
        if labels and images:
            found.append(FolderPair(split, labels, images))
    if not found:  # <split>/label beside <split>/img
        for name, split in SPLIT_NAMES.items():
            labels = first(root / name / word for word in LABEL_NAMES)
            images = first(root / name / word for word in IMAGE_NAMES)
            if labels and images:
                found.append(FolderPair(split, labels, images))
    if not found:
        labels = first(root / word for word in LABEL_NAMES)
        images = first(root / word for word in IMAGE_NAMES)
        if labels and images:
            found.append(FolderPair(None, labels, images))
    splits = [pair.split for pair in found]
    if len(set(splits)) != len(splits):
        twice = sorted({s for s in splits if splits.count(s) > 1 and s})
        raise DataError(f"{root}: more than one folder pair for the {twice[0]} split "
                        "(e.g. val_label and valid_label); keep one")
    return found


def looks_like_pair_folders(root: Path) -> bool:
    return root.is_dir() and bool(find_pairs(root))


def _files(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """Stem -> file, for the files of ``folder`` with one of ``suffixes`` (any case)."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in suffixes:
            files.setdefault(path.stem, path)
    return files


@dataclass(frozen=True)
class PairFile:
    stem: str
    image: str
    label: str


def scan_pair_folders(root: Path) -> tuple[dict[tuple[str, str | None], list[PairFile]], list[dict], str]:
    """Patients (name, split) with their pairs; notes on files left out; how splits came."""
    pairs = find_pairs(root)
    if not pairs:
        raise DataError(f"{root}: no label folder beside an image folder (train_label and train_img, "
                        "train/label and train/img, or label and img)")
    patients: dict[tuple[str, str | None], list[PairFile]] = {}
    notes: list[dict] = []
    split_of: dict[str, str | None] = {}
    for pair in pairs:
        labels = _files(pair.labels, (".png",))
        images = _files(pair.images, IMAGE_SUFFIXES)
        for stem in sorted(set(labels) - set(images)):
            notes.append({"patient": stem, "reason": f"{labels[stem].name} in {pair.labels.name}/ has no image "
                          f"of the same name in {pair.images.name}/"})
        other_labels = _files(pair.labels, IMAGE_SUFFIXES)  # a label map saved as JPEG, TIFF ...: named
        for stem in sorted(set(images) - set(labels)):
            if stem in other_labels:
                reason = (f"has no PNG label map ({other_labels[stem].name} in {pair.labels.name}/ is not "
                          "one: label maps are read from PNG files only)")
            else:
                reason = f"has no label map of the same name in {pair.labels.name}/"
            notes.append({"patient": stem, "reason": f"{images[stem].name} in {pair.images.name}/ {reason}"})
        for stem in sorted(set(labels) & set(images)):
            patient = stem_patient(stem)
            if patient != stem and split_of.setdefault(patient, pair.split) != pair.split:
                raise DataError(f"{root}: patient {patient} appears in more than one split "
                                f"({split_of[patient]} and {pair.split})")
            patients.setdefault((patient, pair.split), []).append(
                PairFile(stem, str(images[stem]), str(labels[stem])))
    how = ("folder names (" + ", ".join(sorted({p.labels.name for p in pairs})) + ")"
           if pairs[0].split is not None else "none")
    return patients, notes, how


def encode_ref(files: list[PairFile]) -> str:
    """A patient's pairs as the text a :class:`~engine.data.sources.SourcePatient` carries."""
    return json.dumps([[f.stem, f.image, f.label] for f in files])


def decode_ref(ref: str) -> list[PairFile]:
    return [PairFile(*entry) for entry in json.loads(ref)]


def read_pair(entry: PairFile, stored_as: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A pair's image (uint8, grey) and label map, checked against each other; ``stored_as``
    gets how the label PNG holds its ids when not as 8-bit grey (:func:`engine.maskio.stored_format`)."""
    from ..maskio import read_label_png
    from .imaging import check_pair

    image = read_grey_image(entry.image, stretch_dim=False)  # a dataset's grey levels as they are
    labels = read_label_png(entry.label, stored_as)
    return image, check_pair(image, labels, entry.label)


def pair_files_checksum(files: list[PairFile]) -> list[str]:
    """Lines naming every file of a patient with its size, for the source's checksum."""
    lines = []
    for entry in files:
        for path in (Path(entry.image), Path(entry.label)):
            lines.append(f"{path.parent.name}/{path.name}\t{path.stat().st_size}\n")
    return lines


__all__ = ["FolderPair", "PairFile", "decode_ref", "encode_ref", "find_pairs",
           "looks_like_pair_folders", "pair_files_checksum", "read_pair", "scan_pair_folders"]
