"""An nnU-Net v2 raw dataset as a ``prepare`` source (what ``cardigan export --format nnunet`` writes).

The folder holds ``dataset.json``, ``imagesTr/<case>_0000<ending>`` with ``labelsTr/<case><ending>``
and, for a held-out test set, ``imagesTs`` with ``labelsTs`` (nnU-Net itself never reads the
latter). ``file_ending`` is ``.png`` (nnU-Net's 2-D natural-image reader) or a NIfTI ending
holding one 2-D frame: a 2-D image, or a volume of one slice (SimpleITK size (W, H, 1), nnU-Net's
way of storing 2-D cases in NIfTI), whose pixel at column x, row y is the PNG's, as nnU-Net's
SimpleITK reader gives it (its direction is not applied, as nnU-Net does not apply it); a
label map stored as floats is read when its values are whole numbers, as nnU-Net reads it.
The cases of ``imagesTs`` keep the test split. Those of ``imagesTr`` are split into train and
valid by the dataset's own ``splits_final.json`` where it holds one beside ``dataset.json``
(nnU-Net's list of folds ``{"train": [cases], "val": [cases]}``; fold 0's ``train`` and ``val``
are our train and valid, as ``export --format nnunet`` writes its fold 0; a case it names in
neither is left out with a note; a patient whose cases it puts on both sides, as nnU-Net's own
case-by-case folds do, goes whole to the side holding most of them, as the split's source
says; without ``imagesTs``, a seeded test split is drawn from fold 0's train patients, as
``prepare`` draws one, its valid kept), else by the seeded split. nnU-Net keeps the folds it draws
itself in its preprocessed folder (``nnUNet_preprocessed/DatasetNNN_Name/``), which is not
looked at: copy the file beside ``dataset.json`` to prepare by them. An export written before
its fold 0 was its valid split prepares by that fold all the same (its patients dealt to the
folds in name order, the first fold's as valid), a patient's cases still together. Either way a patient's cases stay together (stems group into
patients as in :mod:`.pair_folders`, and a patient's further variations, ``<patient>_v2``,
``_v3``... as ``export --variations`` names them, go with it: :func:`.layout.variation_source`),
and a damaged file or one naming a case not in ``imagesTr`` (or one case on both sides) is
refused in one line.

``dataset.json``'s ``labels`` name each value; they are mapped to ours (:mod:`engine.labels`)
by name, case and ``_``/``-`` aside (``background``, ``LV cavity``/``lv``/``left ventricle``,
``Myocardium``/``myo``, ``Left atrium``/``la``), so a dataset numbered in another order is read
right. A label of any other name, a region-based one (a list of values), or a dataset with
more than one input channel is refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..labels import LABELS
from .pair_folders import PairFile
from .layout import stem_patient, variation_source

DATASET_JSON = "dataset.json"
SPLITS_JSON = "splits_final.json"  # nnU-Net's folds; fold 0 gives train and valid
PARTS = {"Tr": None, "Ts": "test"}  # imagesTr: split by seed into train and valid; imagesTs: test
CHANNEL = "_0000"  # the one input channel's suffix on an image case

# the names a dataset.json may give each of our labels, normalised (:func:`_normal`)
_NAMES = {lab.id: {lab.key, lab.name.lower(), lab.camus_name.lower()} - {""} for lab in LABELS}
_NAMES[1] |= {"left ventricle", "lv endo", "lv endocardium", "lv blood pool"}
_NAMES[3] |= {"atrium"}


def _normal(name: str) -> str:
    return " ".join(str(name).replace("_", " ").replace("-", " ").lower().split())


def looks_like_nnunet(root: Path) -> bool:
    return (root / DATASET_JSON).is_file() and (root / "imagesTr").is_dir() and (root / "labelsTr").is_dir()


def read_dataset_json(root: Path) -> dict:
    path = root / DATASET_JSON
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not readable as JSON ({exc})") from None
    if not isinstance(document, dict):
        raise DataError(f"{path}: not an nnU-Net dataset.json (no object at the top)")
    return document


def label_lookup(document: dict, where: str = DATASET_JSON) -> np.ndarray:
    """A 256-entry table from the dataset's label values to ours (255: not declared), from
    ``document["labels"]`` mapped by name; one line for labels that are not the cardiac ones."""
    labels = document.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise DataError(f"{where}: no \"labels\" naming the dataset's label values")
    table = np.full(256, 255, np.uint8)
    taken: dict[int, str] = {}
    for name, value in labels.items():
        ours = next((lab_id for lab_id, names in _NAMES.items() if _normal(name) in names), None)
        if ours is None:
            known = ", ".join(lab.name for lab in LABELS)
            raise DataError(f"{where}: label {name!r} is not a cardiac label of ours ({known}); "
                            "only datasets of those classes can be prepared")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
            raise DataError(f"{where}: label {name!r} has the value {value!r}; a whole number 0-255 is "
                            "needed (region-based labels are not read)")
        if ours in taken:
            raise DataError(f"{where}: labels {taken[ours]!r} and {name!r} are both {LABELS[ours].name}")
        taken[ours] = name
        table[value] = ours
    if 0 not in taken:
        raise DataError(f"{where}: no background label")
    return table


def check_channels(document: dict, where: str = DATASET_JSON) -> None:
    channels = document.get("channel_names", {"0": "image"})
    if not isinstance(channels, dict) or len(channels) != 1:
        raise DataError(f"{where}: {len(channels) if isinstance(channels, dict) else 'no'} input channels; "
                        "a dataset of one grey channel is needed")


def file_ending(document: dict, where: str = DATASET_JSON) -> str:
    ending = document.get("file_ending", ".png")
    if ending not in (".png", ".nii.gz", ".nii"):
        raise DataError(f"{where}: file_ending {ending!r} is not read (use .png, .nii.gz or .nii)")
    return ending


def scan_nnunet(root: Path) -> tuple[dict[tuple[str, str | None], list[PairFile]], list[dict], str]:
    """Patients (name, split) with their cases; notes on files left out; how splits came.
    Checks ``dataset.json`` (labels, channels, file ending) first."""
    document = read_dataset_json(root)
    where = str(root / DATASET_JSON)
    label_lookup(document, where)
    check_channels(document, where)
    ending = file_ending(document, where)
    patients: dict[tuple[str, str | None], list[PairFile]] = {}
    notes: list[dict] = []
    split_of: dict[str, str | None] = {}
    sources: list[str] = []  # where the splits came from
    for part, split in PARTS.items():
        images_dir, labels_dir = root / f"images{part}", root / f"labels{part}"
        if not images_dir.is_dir():
            continue
        images = _cases(images_dir, CHANNEL + ending)
        labels = _cases(labels_dir, ending) if labels_dir.is_dir() else {}
        for case in sorted(set(images) - set(labels)):
            notes.append({"patient": case, "reason": f"{images[case].name} in {images_dir.name}/ has no label "
                          f"map {case}{ending} in {labels_dir.name}/"})
        for case in sorted(set(labels) - set(images)):
            notes.append({"patient": case, "reason": f"{labels[case].name} in {labels_dir.name}/ has no image "
                          f"{case}{CHANNEL}{ending} in {images_dir.name}/"})
        cases = sorted(set(images) & set(labels))
        fold = read_fold(root, set(images)) if part == "Tr" and (root / SPLITS_JSON).is_file() else None
        if fold is not None:
            for case in [case for case in cases if case not in fold]:
                notes.append({"patient": case, "reason": f"not named in fold 0 of {SPLITS_JSON}"})
            cases = [case for case in cases if case in fold]
        names = {stem_patient(case) for case in cases}
        owner = {case: variation_source(stem_patient(case), names) for case in cases}  # variations: one patient
        side, moved = fold_sides(owner, fold) if fold is not None else ({}, "")
        for case in cases:
            patient = owner[case]
            case_split = side.get(patient, split)
            if split_of.setdefault(patient, case_split) != case_split:
                raise DataError(f"{root}: patient {patient} has cases in both imagesTr and imagesTs")
            patients.setdefault((patient, case_split), []).append(
                PairFile(case, str(images[case]), str(labels[case])))
        if fold is not None:
            sources.append(f"{SPLITS_JSON} fold 0 (train/valid{moved})")
        if split == "test" and cases:
            sources.append("imagesTs (test)")
    if (root / SPLITS_JSON).is_file() and not any(split == "test" for _, split in patients):
        # no test cases: fold 0's train patients are left for prepare's seeded train/test split
        patients = {(name, None if split == "train" else split): files for (name, split), files in patients.items()}
    return patients, notes, " + ".join(sources) or "imagesTs (test)"


def fold_sides(owner: dict[str, str], fold: dict[str, str]) -> tuple[dict[str, str], str]:
    """Patient -> ``train`` or ``valid`` from fold 0 (``fold``: case -> side) for the cases of
    ``owner`` (case -> patient), and what was done to follow it. nnU-Net draws its own folds
    case by case, so its fold 0 may put a patient's cases on both sides: such a patient goes
    whole to the side holding most of its cases (``valid`` on a tie), as a prepared dataset
    keeps a patient in one split; the second value names them ("" when none)."""
    counts: dict[str, dict[str, int]] = {}
    for case, patient in owner.items():
        counts.setdefault(patient, {"train": 0, "valid": 0})[fold[case]] += 1
    side = {patient: "train" if sides["train"] > sides["valid"] else "valid" for patient, sides in counts.items()}
    parted = sorted(patient for patient, sides in counts.items() if sides["train"] and sides["valid"])
    if not parted:
        return side, ""
    shown = ", ".join(f"{patient} to {side[patient]}" for patient in parted[:3])
    more = f" and {len(parted) - 3} more" if len(parted) > 3 else ""
    return side, (f"; {len(parted)} patient(s) it parts moved whole to the side of most of their cases: "
                  f"{shown}{more}")


def read_fold(root: Path, known: set[str]) -> dict[str, str]:
    """Case -> ``train`` or ``valid`` from fold 0 of ``root``'s ``splits_final.json``; one line
    for a file that is not nnU-Net's list of folds, or that names a case not in ``known``."""
    path = root / SPLITS_JSON
    try:
        folds = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not readable as JSON ({' '.join(str(exc).split())})") from None
    first = folds[0] if isinstance(folds, list) and folds else None
    if not isinstance(first, dict) or not all(
            isinstance(first.get(side), list) and all(isinstance(case, str) for case in first[side])
            for side in ("train", "val")):
        raise DataError(f"{path}: not nnU-Net's folds (a list whose first entry is "
                        "{\"train\": [case names], \"val\": [case names]})")
    fold: dict[str, str] = {}
    for side, split in (("train", "train"), ("val", "valid")):
        for case in first[side]:
            if fold.setdefault(case, split) != split:
                raise DataError(f"{path}: fold 0 names case {case} in both train and val")
    unknown = sorted(set(fold) - known)
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise DataError(f"{path}: fold 0 names case(s) not in imagesTr: {', '.join(unknown[:3])}{more}")
    return fold


def _cases(folder: Path, suffix: str) -> dict[str, Path]:
    """Case name -> file, for the files of ``folder`` ending in ``suffix``."""
    return {path.name[:-len(suffix)]: path for path in sorted(folder.iterdir())
            if path.is_file() and not path.name.startswith(".") and path.name.endswith(suffix)
            and len(path.name) > len(suffix)}


def read_case(entry: PairFile, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A case's image (uint8, grey) and label map, its values mapped to ours by ``table``
    (:func:`label_lookup`)."""
    from .camus import read_frame
    from .imaging import check_pair
    from .trace_image import read_grey_image

    image = read_grey_image(entry.image, stretch_dim=False)
    if entry.label.endswith(".png"):
        from PIL import Image

        with Image.open(entry.label) as picture:
            values = np.asarray(picture)
    else:
        values = read_frame(Path(entry.label))
    if values.ndim != 2 or values.dtype.kind not in "uif" or values.size == 0:
        raise DataError(f"{entry.label}: not a 2-D map of whole-number labels")
    if values.dtype.kind == "f":  # a NIfTI label map saved as floats, as nnU-Net reads it: whole numbers
        whole = np.isfinite(values) & (values == np.round(values))
        if not whole.all():
            raise DataError(f"{entry.label}: holds {values[~whole].flat[0]:g}, not a whole-number label")
        values = values.astype(np.int64)
    if values.min() < 0 or values.max() > 255 or (table[values.astype(np.int64)] == 255).any():
        found = sorted(set(np.unique(values).tolist()) - set(np.flatnonzero(table != 255).tolist()))
        raise DataError(f"{entry.label}: values {', '.join(map(str, found[:4]))} are not labels dataset.json names")
    return image, check_pair(image, table[values.astype(np.int64)], entry.label)
