"""Output layouts for exported pairs. Each writer works inside a staging folder.

What each layout promises the tool it is fed to, unchanged:

- ``png`` (NVlabs SPADE ``--dataset_mode custom``, and ``cardigan prepare``): per split,
  ``img/<stem>.png`` 8-bit grey and ``label/<stem>.png`` 8-bit labels 0-3 of the same size and
  stem (SPADE pairs the sorted folders by name; give it ``--label_nc 4``);
- ``hdf5`` (the seed's reader): ``<split>/<patient>/<2CH|4CH>/im`` float32 (2, H, W, 1) in
  [0, 1] and ``gt`` uint8 (2, H, W), index 0 ED, 1 ES, for the three splits;
- ``nifti`` (a loader for the CAMUS 2023 release): ``database_nifti/patientNNNN/`` with 2-D
  uint8 ``<patient>_<view>_<ED|ES>.nii.gz`` and ``_gt`` (labels 0-3) of one geometry,
  ``Info_<view>.cfg`` (``ED``, ``ES``, ``NbFrame``, and ``LVef`` as CAMUS gives it: one EF per
  patient, in both views' files, Simpson's biplane rule on the ED and ES cavities of the
  exported masks, :func:`engine.anatomy.measures.masks_biplane_ef`; left out where a patient
  lacks one of its four masks or a cavity cannot be traced) and
  ``database_split/subgroup_*.txt``. CAMUS's ``ImageQuality``, ``Sex`` and ``Age`` are not
  written: a synthetic image has no graded quality and a generated patient no sex or age, and
  none is made up;
- ``nnunet`` (nnU-Net v2's raw dataset, as ``verify_dataset_integrity`` checks it):
  ``dataset.json`` with ``channel_names``, ``labels`` (background 0, then consecutive),
  ``numTraining`` (the cases in ``imagesTr``) and ``file_ending`` ``.png`` (its 2-D
  natural-image reader); ``imagesTr/<case>_0000.png`` 8-bit grey and ``labelsTr/<case>.png``
  of the same size with only the declared labels. ``numTest``, ``imagesTs``' labels in
  ``labelsTs`` and ``manifest.json`` are extras nnU-Net does not read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..anatomy import PHASES
from ..anatomy.heart import ANATOMY_KEY
from ..data.camus import write_2023_patient, write_2023_split_lists
from ..data.export_layouts import layout_contents
from ..data.imaging import save_png
from ..data.layout import SPLITS, image_path, label_path
from ..data.seed_hdf5 import SeedHdf5Writer
from ..data.staging import (HDF5_FILE, NIFTI_FOLDER, NNUNET_FOLDERS, SPLIT_LIST_FOLDER, check_folder_name,
                            named_as_file)
from ..errors import DataError, Message
from ..fan import FAN_KEY
from .sources import PatientMasks

HDF5_NAME = HDF5_FILE  # the one file of the HDF5 layout


class PngWriter:
    """The prepared layout (:mod:`engine.data.layout`): ``<split>/img|label/<stem>.png``."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging

    def check(self, patients: list[PatientMasks]) -> None:
        pass

    def write(self, split: str, patient: str, pairs, source: str | None = None) -> None:
        """``pairs``: (stem, image, labels, view, instant, fan, anatomy, geometry) tuples; the fan goes
        into the label PNG's text chunk, so training on the export reads it back, and so does
        the mask's anatomy record (a generated mask's, or the one its source PNG carried;
        None: no record), so the mask opens in the studio with its heart. Labels are written
        as given (never jittered or resized), so the record redraws them exactly."""
        for stem, image, labels, _, _, fan, anatomy, _ in pairs:
            text = {FAN_KEY: fan.to_json()}
            if anatomy is not None:
                text[ANATOMY_KEY] = json.dumps(anatomy)
            save_png(image_path(self.staging, split, stem), image)
            save_png(label_path(self.staging, split, stem), labels, text=text)

    def close(self, splits: dict[str, list[str]], failed: bool) -> None:
        pass


def require_named(patients: list[PatientMasks], what: str, both_phases: bool) -> None:
    """Refuse masks whose names do not say patient, view and phase (or lack a phase)."""
    bad = [item.source for p in patients for item in p.items if item.view is None]
    if bad:
        raise DataError(f"{what} export needs masks named <patient>_<2CH|4CH>_<ED|ES>; not so: "
                        + ", ".join(Path(b).name for b in bad[:4]) + (" ..." if len(bad) > 4 else ""))
    if both_phases:
        for patient in patients:
            for view in {item.view for item in patient.items}:
                have = {item.instant for item in patient.items if item.view == view}
                if have != set(PHASES):
                    raise DataError(f"{what} export needs both ED and ES for each view: "
                                    f"{patient.patient} {view} has only {', '.join(sorted(have))}")


def require_same_size(patients: list[PatientMasks]) -> None:
    """Refuse a view whose ED and ES masks differ in size: the seed's HDF5 stacks them into one
    (2, H, W) array."""
    for patient in patients:
        for view in sorted({item.view for item in patient.items}):
            sizes = {item.instant: item.labels.shape for item in patient.items if item.view == view}
            if len(set(sizes.values())) > 1:
                shown = ", ".join(f"{h}x{w} at {phase}" for phase, (h, w) in sorted(sizes.items()))
                raise DataError(f"HDF5 export needs ED and ES of a view at one size: {patient.patient} {view} "
                                f"is {shown}")


class Hdf5Writer:
    """The seed's HDF5 layout in ``<out>/synthetic.hdf5`` (all three splits present)."""

    def __init__(self, staging: Path) -> None:
        self.writer = SeedHdf5Writer(staging / HDF5_NAME)
        self.writer.__enter__()

    def check(self, patients: list[PatientMasks]) -> None:
        require_named(patients, "HDF5", both_phases=True)
        require_same_size(patients)

    def write(self, split: str, patient: str, pairs, source: str | None = None) -> None:
        by_view: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        for _, image, labels, view, instant, _, _, _ in pairs:
            by_view.setdefault(view, {})[instant] = (image, labels)
        for view, frames in by_view.items():
            images = np.stack([frames[p][0] for p in PHASES])
            labels = np.stack([frames[p][1] for p in PHASES])
            self.writer.add(split, patient, view, images, labels)

    def close(self, splits: dict[str, list[str]], failed: bool) -> None:
        if failed:
            error = RuntimeError("export failed")
            self.writer.__exit__(RuntimeError, error, None)
        else:
            self.writer.__exit__(None, None, None)


# what the manifest and the command line say of a frame's spacing when its mask recorded none
DEFAULT_SPACING_FROM = "default (the mask records none): a 15 cm wide field, 0.6 mm at 256 px"
VOLUME_SPACING_FROM = "the mask's volume"


def spacing_record(spacings: dict[tuple[tuple[float, float], str], int]) -> list[dict]:
    """The manifest's ``output.pixel_spacing`` of a NIfTI export: per (spacing, where it came
    from) the number of pairs written with it; ``mm`` is (x, y), as the header holds it."""
    return [{"mm": [round(x, 6), round(y, 6)], "from": origin, "pairs": count}
            for ((x, y), origin), count in sorted(spacings.items())]


def frame_spacing(labels: np.ndarray, geometry) -> tuple[tuple[float, float], str]:
    """The in-plane spacing :func:`engine.data.camus.write_frame` gives a frame of ``labels``'
    shape written over ``geometry`` (None: none), and where it comes from."""
    from ..maskio import pixel_spacing_mm

    if geometry is not None and geometry.fits(labels):
        return (float(geometry.spacing[0]), float(geometry.spacing[1])), VOLUME_SPACING_FROM
    side = pixel_spacing_mm(labels.shape[-1])
    return (side, side), DEFAULT_SPACING_FROM


def spacing_line(record: list[dict]) -> str | None:
    """The command line's note on the spacing a NIfTI export wrote where its masks recorded
    none (None when every mask did), so a reader's millimetres are not taken for measured ones."""
    assumed = [entry for entry in record if entry["from"] == DEFAULT_SPACING_FROM]
    if not assumed:
        return None
    shown = ", ".join(f"{entry['mm'][0]:g} mm ({entry['pairs']} pairs)" for entry in assumed)
    return (f"NIfTI pixel spacing {shown} is a default, not a measurement: the masks record none, so a "
            "15 cm wide field is assumed (0.6 mm at 256 px; manifest.json: output.pixel_spacing)")


class NiftiWriter:
    """The CAMUS 2023 layout: ``database_nifti/<patient>/...nii.gz`` and split lists. A pair
    is written over its mask's volume where it was read from one, else with the default
    spacing (:func:`engine.maskio.pixel_spacing_mm`); ``spacings`` counts the pairs of each
    (:func:`spacing_record`)."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.spacings: dict[tuple[tuple[float, float], str], int] = {}

    def check(self, patients: list[PatientMasks]) -> None:
        require_named(patients, "NIfTI", both_phases=False)

    def write(self, split: str, patient: str, pairs, source: str | None = None) -> None:
        frames = {(view, instant): (image, labels) for _, image, labels, view, instant, _, _, _ in pairs}
        placed = {(view, instant): geometry for _, _, _, view, instant, _, _, geometry in pairs if geometry is not None}
        write_2023_patient(self.staging, patient, frames, info=patient_info(frames),
                           geometry=placed)  # over the masks' volumes
        for _, _, labels, _, _, _, _, geometry in pairs:
            key = frame_spacing(labels, geometry)
            self.spacings[key] = self.spacings.get(key, 0) + 1

    def close(self, splits: dict[str, list[str]], failed: bool) -> None:
        if not failed:
            from ..labels import ITKSNAP_LABELS_NAME, itksnap_label_descriptions

            write_2023_split_lists(self.staging, splits)
            (self.staging / ITKSNAP_LABELS_NAME).write_text(itksnap_label_descriptions(), encoding="utf-8")


def patient_info(frames: dict) -> dict[str, dict[str, object]]:
    """Each view's extra ``Info_<view>.cfg`` lines of a patient's ``frames`` {(view, instant):
    (image, labels)}: ``LVef``, the biplane EF of its masks (CAMUS's one per patient, in both
    views), when it has all four and they can be measured; else nothing."""
    from ..anatomy.measures import masks_biplane_ef
    from ..anatomy.patients import EF_DIGITS

    ef = masks_biplane_ef({key: labels for key, (_, labels) in frames.items()})
    if ef is None:
        return {}
    return {view: {"LVef": round(ef, EF_DIGITS)} for view, _ in frames}


class NnunetWriter:
    """nnU-Net v2's raw dataset layout for 2-D data: ``imagesTr/<case>_0000.png`` and
    ``labelsTr/<case>.png`` (the train and valid splits: nnU-Net draws its own folds from
    them), ``imagesTs`` / ``labelsTs`` (the test split, for scoring the trained network), and
    ``dataset.json`` naming the channel, the labels and the file type. nnU-Net reads the
    folder when it is named ``DatasetNNN_Name`` under its ``nnUNet_raw``.

    ``splits_final.json`` holds five folds of the training cases in nnU-Net's format (a list
    of ``{"train": [...], "val": [...]}``) with every case of one source patient, its
    variations included, on one side of each fold: nnU-Net's own folds are drawn case by case,
    so two variations of one mask could meet across a fold. Fold 0 is the export's own train
    and valid split (``prepare`` reads it back so). nnU-Net reads the file from its
    preprocessed folder (``nnUNet_preprocessed/DatasetNNN_Name/``): copy it there before
    training. Fewer than two source patients give no file."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.cases = {"Tr": 0, "Ts": 0}
        self.training_cases: dict[str, list[str]] = {}  # source patient -> its training cases
        self.valid_sources: set[str] = set()  # the source patients of the valid split
        for part in ("Tr", "Ts"):
            (staging / f"images{part}").mkdir()
            (staging / f"labels{part}").mkdir()

    def check(self, patients: list[PatientMasks]) -> None:
        pass

    def write(self, split: str, patient: str, pairs, source: str | None = None) -> None:
        part = "Ts" if split == "test" else "Tr"
        for stem, image, labels, _, _, _, _, _ in pairs:
            save_png(self.staging / f"images{part}" / f"{stem}_0000.png", image)
            save_png(self.staging / f"labels{part}" / f"{stem}.png", labels)
            self.cases[part] += 1
            if part == "Tr":
                self.training_cases.setdefault(source or patient, []).append(stem)
                if split == "valid":
                    self.valid_sources.add(source or patient)

    def close(self, splits: dict[str, list[str]], failed: bool) -> None:
        if failed:
            return
        from ..labels import LABELS

        document = {
            "name": self.staging.name[1:].removesuffix(".partial").rsplit(".", 1)[0],  # the out folder's
            "description": "synthetic echocardiograms and the masks they were drawn from (cardiGAN Studio)",
            "channel_names": {"0": "ultrasound"},
            "labels": {("background" if lab.id == 0 else lab.name): lab.id for lab in LABELS},
            "numTraining": self.cases["Tr"],
            "numTest": self.cases["Ts"],
            "file_ending": ".png",
        }
        (self.staging / "dataset.json").write_text(json.dumps(document, indent=2) + "\n")
        folds = patient_folds(self.training_cases, held_first=self.valid_sources)
        if folds:
            (self.staging / "splits_final.json").write_text(json.dumps(folds, indent=1) + "\n")


NNUNET_FOLDS = 5  # nnU-Net's default cross-validation


def patient_folds(cases: dict[str, list[str]], folds: int = NNUNET_FOLDS,
                  held_first: set[str] = frozenset()) -> list[dict[str, list[str]]]:
    """nnU-Net folds over ``cases`` ({source patient: its case names}): the patients, in name
    order, dealt to the folds in turn (``folds`` of them, fewer when there are fewer patients),
    so a patient's cases are all in one fold's ``val`` and in the others' ``train``; [] for
    fewer than two patients. When ``held_first`` names some of the patients but not all (an
    export's valid split), fold 0 holds out just those and the others are dealt to the rest."""
    patients = sorted(cases)
    first = [p for p in patients if p in held_first]
    others = [p for p in patients if p not in held_first]
    if first and others:
        count = min(folds, 1 + len(others))
        groups = [first] + [others[k::count - 1] for k in range(count - 1)]
    else:
        count = min(folds, len(patients))
        if count < 2:
            return []
        groups = [patients[k::count] for k in range(count)]
    held = [[case for p in group for case in sorted(cases[p])] for group in groups]
    return [{"train": sorted(case for other, val in enumerate(held) if other != fold for case in val),
             "val": held[fold]} for fold in range(count)]


NNUNET_NAME = re.compile(r"^Dataset\d{3}_.+$")  # what nnU-Net v2 looks for under nnUNet_raw


def nnunet_name_problem(out: Path) -> str | None:
    """A note when nnU-Net would not find ``out`` as a raw dataset (its name is not
    ``DatasetNNN_Name``), else None. Advice, not a refusal: the export is sound, and the
    folder is named as nnU-Net wants when it is moved into ``nnUNet_raw``; said before any
    work starts (the command line's first note, the export dialog's note on its output)."""
    if NNUNET_NAME.match(out.name):
        return None
    return (f"nnU-Net finds a raw dataset only in a folder named DatasetNNN_Name (e.g. Dataset501_Echo): "
            f"rename {out.name} when moving it into nnUNet_raw")


# what each layout puts in the output folder, beside its manifest.json
FOLDER_CONTENTS = {"png": "train, valid and test image/label folders", "hdf5": HDF5_NAME,
                   "nifti": f"{NIFTI_FOLDER} and {SPLIT_LIST_FOLDER}", "nnunet": ", ".join(NNUNET_FOLDERS)}


def main_output(out: Path, format: str) -> Path:
    """What a user opens first of an export in ``format`` into ``out``: the HDF5 layout's file,
    the NIfTI layout's patient folder, else the folder itself."""
    return {"hdf5": out / HDF5_NAME, "nifti": out / NIFTI_FOLDER}.get(format, out)


def layout_line(out: Path, format: str, cine: bool = False) -> str:
    """What an export in ``format`` writes into ``out``, and where, in one line (``cine``: loops)."""
    return f"Will write {'loops ' if cine else ''}in {out.name}/: {layout_contents(format, cine)}"


# for what --out is a folder, in the refusal of a name that is a file's (:func:`file_name_problem`)
FOLDER_FOR = " for an export"


def written_in_folder(format: str) -> str:
    """What an export in ``format`` writes in its folder, said after the folder to give
    instead of a file's name."""
    if format == "hdf5":
        return f" (the export writes {HDF5_NAME} in it, with manifest.json beside it)"
    return f" (the export writes its {FOLDER_CONTENTS[format]} and manifest.json in it)"


def file_name_problem(out: Path, format: str, by_name: bool = False) -> Message | None:
    """Why a new ``out`` should not become the export's folder: it is named as a file
    (``out.h5``, ``out.jpg``: any name :func:`engine.data.staging.named_as_file` refuses for
    ``phantom`` and ``prepare``), which an export never writes alone. The line names the
    folder to give instead and what the export writes in it. From the name alone, as
    :func:`.staging.named_as_file` (``by_name`` too); :func:`check_export_folder` is the
    engine's check."""
    return named_as_file(out, FOLDER_FOR, written_in_folder(format), by_name=by_name)


def check_export_folder(out: Path, format: str) -> None:
    """Refuse, before any work, an export folder ``out`` that is a file or is named as one
    (:func:`file_name_problem`), as ``phantom`` and ``prepare`` refuse theirs."""
    check_folder_name(out, FOLDER_FOR, written_in_folder(format))


WRITERS = {"png": PngWriter, "hdf5": Hdf5Writer, "nifti": NiftiWriter, "nnunet": NnunetWriter}
assert set(SPLITS) == {"train", "valid", "test"}
