"""The prepared dataset layout (SPADE ``custom`` compatible) and patient-level splits.

``<root>/<split>/img/<stem>.png`` (8-bit greyscale) and ``<root>/<split>/label/<stem>.png``
(8-bit label map) with ``stem = <patient>_<view>_<instant>``, plus ``<root>/manifest.json``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..anatomy import PHASES, VIEWS
from ..errors import Advice, DataError

# how a dataset whose images are not 8-bit gets an 8-bit copy (:func:`eight_bit_copy` puts the
# folder in place of FOLDER; a front end's words go by the key)
EIGHT_BIT_COPY = Advice("8-bit copy", "`cardigan prepare --source FOLDER --out NEW_FOLDER` makes an 8-bit copy")
# how a folder that is not a prepared dataset becomes one
MAKE_DATASET = Advice("make a dataset", "make one with `cardigan prepare` or `cardigan phantom`")


def eight_bit_copy(folder) -> Advice:
    """:data:`EIGHT_BIT_COPY` for the dataset at ``folder``: the command that copies it."""
    return Advice(EIGHT_BIT_COPY.key, EIGHT_BIT_COPY.cli.replace("FOLDER", str(folder), 1))


SPLITS = ("train", "valid", "test")
IMAGE_DIR = "img"
LABEL_DIR = "label"
MANIFEST_NAME = "manifest.json"
INSTANTS = PHASES  # CAMUS calls the phases "instants"
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)

_STEM = re.compile(r"^(?P<patient>.+)_(?P<view>2CH|4CH)_(?P<instant>ED|ES)$")


def make_stem(patient: str, view: str, instant: str) -> str:
    assert view in VIEWS and instant in INSTANTS, (view, instant)
    return f"{patient}_{view}_{instant}"


def parse_stem(stem: str) -> tuple[str, str, str] | None:
    """(patient, view, instant) of a stem, or None if it does not follow the pattern."""
    match = _STEM.match(stem)
    return (match["patient"], match["view"], match["instant"]) if match else None


_FRAME_STEM = re.compile(r"^(?P<patient>.+)_(?P<view>2CH|4CH)_f(?P<frame>\d+)$")


def stem_patient(stem: str) -> str:
    """The patient a stem belongs to: ``<patient>`` of ``<patient>_<view>_<instant>`` and of
    a sequence frame ``<patient>_<view>_f<k>`` (what ``prepare --sequences`` and cine exports
    write), else the stem itself. Pairs of one patient must stay in one split."""
    match = _STEM.match(stem) or _FRAME_STEM.match(stem)
    return match["patient"] if match else stem


def stem_view(stem: str) -> str | None:
    """The view (2CH, 4CH) of ``<patient>_<view>_<instant>`` and of a sequence frame
    ``<patient>_<view>_f<k>``, else None."""
    match = _STEM.match(stem) or _FRAME_STEM.match(stem)
    return match["view"] if match else None


_VARIATION = re.compile(r"^(?P<source>.+)_v(?P<variation>[2-9]|[1-9]\d+)$")


def variation_source(patient: str, patients) -> str:
    """The patient whose variation ``patient`` is, when ``patients`` holds it: ``P`` for
    ``P_v2`` (``export --variations`` names a patient's further variations so, the first
    keeping its name), else ``patient``. A mask's variations must stay in one split."""
    match = _VARIATION.match(patient)
    return match["source"] if match and match["source"] in patients else patient


def image_path(root: Path, split: str, stem: str) -> Path:
    return Path(root) / split / IMAGE_DIR / f"{stem}.png"


def label_path(root: Path, split: str, stem: str) -> Path:
    return Path(root) / split / LABEL_DIR / f"{stem}.png"


def is_dataset_label(path: Path) -> bool:
    """Whether ``path`` is where a prepared dataset keeps a pair's label map
    (``<root>/<split>/label/<stem>.png``), by its place alone: no file is opened."""
    path = Path(path)
    return path.suffix.lower() == ".png" and path.parent.name == LABEL_DIR and path.parent.parent.name in SPLITS


def is_dataset_image(path: Path) -> bool:
    """Whether ``path`` is where a prepared dataset keeps a pair's image
    (``<root>/<split>/img/<stem>.png``), by its place alone: no file is opened."""
    path = Path(path)
    return path.suffix.lower() == ".png" and path.parent.name == IMAGE_DIR and path.parent.parent.name in SPLITS


def dataset_image_of(label: Path) -> Path | None:
    """The image a prepared dataset keeps beside the label map ``label``
    (``<root>/<split>/img/<stem>.png``), when ``label`` is one and the image is there."""
    if not is_dataset_label(label):
        return None
    image = Path(label).parent.parent / IMAGE_DIR / Path(label).name
    return image if image.is_file() else None


def wrong_folder_hint(root: Path) -> str:
    """What ``root``, not a dataset, looks like instead, as a clause to end a refusal with:
    one split of a dataset (its parent is the dataset), a dataset's image or label folder, or
    a training run's folder, or image and label folders as NVlabs SPADE reads them (which
    ``cardigan prepare`` turns into a dataset); empty when it looks like none of them."""
    root = Path(root)
    try:
        if spade_pair_folders(root):
            return (f": it holds image and label folders as NVlabs SPADE reads them; prepare them first, "
                    f"cardigan prepare --source {root} --out DIR, and give DIR")
        if (root / IMAGE_DIR).is_dir() and (root / LABEL_DIR).is_dir():
            return f": it is one split of a dataset; choose the folder above it, {root.parent}"
        if root.name in (IMAGE_DIR, LABEL_DIR) and (root.parent / IMAGE_DIR).is_dir() \
                and (root.parent / LABEL_DIR).is_dir():
            return f": it is a split's {root.name} folder; choose the dataset, {root.parent.parent}"
        if (root / "stats.jsonl").is_file() or ((root / "config.json").is_file() and (root / "checkpoints").is_dir()):
            return ": it is a training run's folder; choose the dataset the run was trained on"
    except OSError:
        pass
    return ""


def spade_pair_folders(root: Path) -> bool:
    """Whether ``root`` holds ``<split>_label`` beside ``<split>_img`` (SPADE's and pix2pixHD's
    naming) or ``labels`` beside ``images``."""
    if (root / "labels").is_dir() and (root / "images").is_dir():
        return True
    return any(child.is_dir() and (root / (child.name[:-len("_label")] + "_img")).is_dir()
               for child in root.glob("*_label"))


def patient_name(index: int, count: int) -> str:
    """CAMUS-style names: patient0001 ... (more digits past 9999)."""
    return f"patient{index:0{max(4, len(str(count)))}d}"


def split_patients(patients: list[str], seed: int,
                   fractions: tuple[float, float, float] = SPLIT_FRACTIONS) -> dict[str, list[str]]:
    """Deterministic patient-level split (train, valid, test) for ``seed``.

    A split whose fraction is non-zero gets at least one patient once there are enough
    patients for every such split to have one; each list is sorted.
    """
    names = sorted(set(patients))
    order = np.random.default_rng(np.random.SeedSequence([int(seed) & (2**63 - 1), 0x5EED])).permutation(len(names))
    shuffled = [names[i] for i in order]
    n = len(names)
    wanted = [k for k, f in enumerate(fractions) if f > 0]
    counts = [int(round(f * n)) for f in fractions]
    if n >= len(wanted):
        for k in wanted:
            counts[k] = max(counts[k], 1)
    # the first split (train) takes whatever the others leave
    counts[0] = n - sum(counts[1:])
    while counts[0] < (1 if fractions[0] > 0 and n else 0):
        k = max(range(1, 3), key=lambda j: counts[j])
        counts[k] -= 1
        counts[0] += 1
    out, start = {}, 0
    for split, count in zip(SPLITS, counts):
        out[split] = sorted(shuffled[start:start + count])
        start += count
    return out


def parse_choices(values: Sequence[str] | str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Validate a list of choices (or a comma-separated string), case-insensitively;
    returns them in the table's order without repeats."""
    if isinstance(values, str):
        values = [v for v in values.replace(" ", "").split(",") if v]
    chosen = []
    for value in values:
        match = next((a for a in allowed if a.lower() == str(value).lower()), None)
        if match is None:
            raise DataError(f"unknown {what} {value!r} (choose from {', '.join(allowed)})")
        if match not in chosen:
            chosen.append(match)
    if not chosen:
        raise DataError(f"no {what}s chosen (choose from {', '.join(allowed)})")
    return tuple(a for a in allowed if a in chosen)
