"""Mask sources for batch export, yielding one patient's masks at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..anatomy import PHASES, VIEWS, make_mask, random_patient
from ..data.layout import parse_stem, patient_name
from ..data.phantom import derive_seed
from ..errors import DataError, MaskError
from ..maskio import CAMUS_SUFFIXES, read_label_map


@dataclass
class MaskItem:
    """One label map: its output name, (view, instant) when known, and where it came from."""

    name: str
    labels: np.ndarray
    source: str
    view: str | None = None
    instant: str | None = None


@dataclass
class PatientMasks:
    patient: str
    items: list[MaskItem] = field(default_factory=list)


def random_plan(count: int, seed: int, views: int = len(VIEWS), phases: int = len(PHASES)) -> tuple[str, list[str]]:
    """What ``count`` generated patients make, in words ("3 patients x 2 views x 2 phases =
    12 pairs; patients per split: train 1, valid 1, test 1"), and the splits left empty."""
    from ..data.layout import split_patients

    def counted(n: int, noun: str) -> str:
        return f"{n} {noun}{'' if n == 1 else 's'}"

    splits = split_patients([patient_name(i + 1, count) for i in range(count)], seed)
    text = (f"{counted(count, 'patient')} \u00d7 {counted(views, 'view')} \u00d7 {counted(phases, 'phase')} "
            f"= {counted(count * views * phases, 'pair')}; patients per split: "
            + ", ".join(f"{split} {len(members)}" for split, members in splits.items()))
    return text, [split for split, members in splits.items() if not members]


def random_patients(count: int, size: int, seed: int) -> Iterator[PatientMasks]:
    """``count`` generated patients, each with 2CH and 4CH masks at ED and ES."""
    for index in range(count):
        name = patient_name(index + 1, count)
        anatomy = random_patient(derive_seed(seed, "export", index))
        items = [MaskItem(f"{name}_{view}_{phase}", make_mask(anatomy, view, phase, size),
                          f"generated:patient_seed={derive_seed(seed, 'export', index)}", view, phase)
                 for view in VIEWS for phase in PHASES]
        yield PatientMasks(name, items)


def masks_like(like: Path, count: int, size: int, seed: int) -> Iterator[PatientMasks]:
    """``count`` new patients made from the masks in ``like`` (a prepared dataset's train
    split, or a folder of masks): each takes a random source patient and moves all of its
    maps by one smooth random deformation that keeps the heart's topology
    (:func:`engine.data.deform.deform_masks`)."""
    from ..data.deform import deform_masks
    from ..data.imaging import resize_labels
    from ..mask_tools import keep_largest

    sources = source_patients(like)
    for index in range(count):
        name = patient_name(index + 1, count)
        rng = np.random.default_rng([int(seed) & (2**63 - 1), 0x11CE, index])
        source = sources[int(rng.integers(len(sources)))]
        maps = [keep_largest(resize_labels(item.labels, size)) for item in source.items]
        deformed = deform_masks(maps, rng)
        note = "deformed"
        if deformed[0] is None:  # every draw broke the topology: keep the source's shapes
            deformed, note = maps, "undeformed (no topology-preserving draw)"
        items = [MaskItem(f"{name}_{item.view}_{item.instant}" if item.view else f"{name}_{k}", labels,
                          f"{note}:{item.source}", item.view, item.instant)
                 for k, (item, labels) in enumerate(zip(source.items, deformed))]
        yield PatientMasks(name, items)


def source_patients(like: Path) -> list[PatientMasks]:
    """Patients of a prepared dataset (its train split) or of a folder of masks."""
    from ..data.layout import LABEL_DIR

    like = Path(like)
    folder = like / "train" / LABEL_DIR if (like / "manifest.json").is_file() else like
    patients = folder_masks(folder)
    if not patients:
        raise DataError(f"{like}: no masks to make new ones from")
    return patients


def mask_stem(path: Path) -> str:
    name = path.name
    for suffix in CAMUS_SUFFIXES + (".png",):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name[:-3] if name.endswith("_gt") else name


def folder_masks(folder: Path) -> list[PatientMasks]:
    """The label maps in ``folder`` (PNG, CAMUS .mhd/.nii[.gz]), grouped by patient.

    Names of the form ``<patient>_<2CH|4CH>_<ED|ES>`` group into patients; any other name is a
    patient of its own. All files are read and checked first; the error lists the bad ones.
    """
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of masks")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.name.lower().endswith((".png",) + CAMUS_SUFFIXES))
    if not files:
        raise DataError(f"{folder}: no label maps (*.png, *_gt.mhd, *_gt.nii.gz) in this folder")
    patients: dict[str, PatientMasks] = {}
    problems = []
    for path in files:
        try:
            labels = read_label_map(path)
        except MaskError as exc:
            problems.append(str(exc))
            continue
        stem = mask_stem(path)
        parsed = parse_stem(stem)
        patient, view, instant = parsed if parsed else (stem, None, None)
        patients.setdefault(patient, PatientMasks(patient)).items.append(
            MaskItem(stem, labels, str(path), view, instant))
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise DataError(f"{folder}: {len(problems)} unusable mask(s): {shown}")
    return list(patients.values())
