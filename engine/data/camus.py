"""The CAMUS releases: 2019 (``.mhd``/``.raw``) and 2023 (NIfTI) folder layouts.

2019: ``<root>/{training,testing}/patientNNNN/patientNNNN_<2CH|4CH>_<ED|ES>[_gt].mhd``.
2023: ``<root>/database_nifti/patientNNNN/patientNNNN_<2CH|4CH>_<ED|ES>[_gt].nii.gz`` and
optional split lists ``<root>/database_split/subgroup_{training,validation,testing}.txt``.
Both have ``Info_2CH.cfg``/``Info_4CH.cfg`` (``key: value`` lines) per patient. Frames are read
with SimpleITK, which gives ``.mhd`` and NIfTI in the same (row, column) orientation with the
apex at the top. The writer helpers produce the 2023 layout (used by batch export).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, itk_reason
from ..fileio import is_disk_full
from ..maskio import Geometry, VolumeHeader, images_path_for, mask_path_for, pixel_spacing_mm
from .metaimage import native_stderr_silenced
from .volume_checks import check_written_volume, readable_volume
from .layout import SPLITS

PATIENT_DIR = re.compile(r"^patient\d+$", re.IGNORECASE)
FRAME_SUFFIXES = (".mhd", ".nii.gz", ".nii")
RELEASE_2019_SPLITS = {"training": None, "testing": "test"}  # None: split by seed later
SPLIT_LISTS = {"train": "subgroup_training.txt", "valid": "subgroup_validation.txt",
               "test": "subgroup_testing.txt"}


@dataclass(frozen=True)
class CamusPatient:
    name: str
    folder: Path
    split: str | None  # from the release's own split information; None when it has none


def patient_dirs(folder: Path, listed: Collection[str] = ()) -> list[Path]:
    """The patient folders in ``folder``: named ``patientNNNN``, or named in ``listed`` (the
    release's split lists, which name the patients of an export: ``patient0001_v2``, ``alice``)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and (PATIENT_DIR.match(p.name) or p.name in listed))


def _has_frames(folder: Path, suffixes: tuple[str, ...], listed: Collection[str] = ()) -> bool:
    """True if the first patient folder holds at least one frame with one of ``suffixes``."""
    for patient in patient_dirs(folder, listed)[:3]:
        for entry in patient.iterdir():
            name = entry.name.lower()
            if name.startswith(patient.name.lower() + "_") and name.endswith(suffixes):
                return True
    return False


def looks_like_2019(root: Path) -> bool:
    if any(_has_frames(root / sub, (".mhd",)) for sub in RELEASE_2019_SPLITS):
        return True
    return _has_frames(root, (".mhd",))


def same_patients(found: list[CamusPatient]) -> list[str]:
    """Names of patients found twice: by name regardless of case (``PATIENT0001`` and
    ``patient0001`` are one patient) or as one folder reached twice (a link)."""
    keys: dict = {}
    for patient in found:
        for key in (patient.name.casefold(), patient.folder.resolve()):
            keys.setdefault(key, []).append(patient.name)
    return sorted({name for names in keys.values() if len(names) > 1 for name in names})


def looks_like_2023(root: Path) -> bool:
    listed = _listed_patients(root)
    if _has_frames(root / "database_nifti", (".nii", ".nii.gz"), listed):
        return True
    return _has_frames(root, (".nii", ".nii.gz"), listed)  # the database_nifti folder itself


def scan_2019(root: Path) -> tuple[list[CamusPatient], str]:
    """Patients of a 2019 release: ``testing/`` is the test split, ``training/`` is split later.
    Also accepts a single folder of patient folders (all split later)."""
    found = []
    for sub, split in RELEASE_2019_SPLITS.items():
        found += [CamusPatient(p.name, p, split) for p in patient_dirs(root / sub)]
    twice = same_patients(found)
    if twice:  # one patient in two splits would leak test images into training
        raise DataError(f"{root}: {', '.join(twice[:3])}{' ...' if len(twice) > 3 else ''} "
                        f"{'is' if len(twice) == 1 else 'are'} in both training/ and testing/; "
                        "keep each patient in one folder")
    if found:
        return found, "release folders (testing -> test)"
    return [CamusPatient(p.name, p, None) for p in patient_dirs(root)], "none"


def read_split_lists(folder: Path) -> dict[str, str]:
    """patient -> split from the 2023 ``subgroup_*.txt`` lists in ``folder`` (may be empty)."""
    assignment: dict[str, str] = {}
    for split, name in SPLIT_LISTS.items():
        path = folder / name
        if not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise DataError(f"{path}: unreadable split list ({exc.strerror or exc})") from None
        for line in lines:
            patient = line.strip()
            if not patient:
                continue
            if assignment.get(patient, split) != split:
                raise DataError(f"{path}: {patient} is also listed in the {assignment[patient]} split")
            assignment[patient] = split
    return assignment


def _split_dir(root: Path) -> Path | None:
    """The 2023 split lists' folder: beside database_nifti, also when ``root`` is database_nifti."""
    return next((d for d in (root / "database_split", root.parent / "database_split") if d.is_dir()), None)


def _listed_patients(root: Path) -> set[str]:
    """The patients the split lists of ``root`` name (none when it has no readable lists)."""
    split_dir = _split_dir(root)
    try:
        return set(read_split_lists(split_dir)) if split_dir is not None else set()
    except DataError:
        return set()


def scan_2023(root: Path) -> tuple[list[CamusPatient], str, list[str]]:
    """Patients of a 2023 release with their split from the lists when present.

    Returns (patients, split source, patients left out because no list names them).
    """
    data = root / "database_nifti" if (root / "database_nifti").is_dir() else root
    split_dir = _split_dir(root)
    lists = read_split_lists(split_dir) if split_dir is not None else {}
    dirs = patient_dirs(data, lists)
    if not lists:
        return [CamusPatient(p.name, p, None) for p in dirs], "none", []
    patients = [CamusPatient(p.name, p, lists[p.name]) for p in dirs if p.name in lists]
    unlisted = [p.name for p in dirs if p.name not in lists]
    return patients, f"split lists ({split_dir})", unlisted


def find_frame(folder: Path, patient: str, view: str, instant: str, gt: bool) -> Path | None:
    return _first_file(folder, f"{patient}_{view}_{instant}", FRAME_SUFFIXES, gt)


def _first_file(folder: Path, base: str, suffixes: tuple[str, ...], gt: bool) -> Path | None:
    """The first of ``base`` + each suffix in ``folder`` that exists, or of its ground truth's
    name (:func:`engine.maskio.mask_path_for`, CAMUS's ``_gt``) with ``gt``."""
    for suffix in suffixes:
        path = folder / f"{base}{suffix}"
        path = mask_path_for(path) if gt else path
        if path.is_file():
            return path
    return None


def read_volume(path: Path, what: str) -> np.ndarray:
    """The array SimpleITK reads from a CAMUS file (MetaImage headers checked first, ITK's
    own messages kept off the terminal); one line for anything unreadable."""
    return read_volume_and_header(path, what)[0]


def read_volume_and_header(path: Path, what: str) -> tuple[np.ndarray, VolumeHeader]:
    """(:func:`read_volume`, the file's header read with it)."""
    import SimpleITK as sitk

    try:
        # a short NIfTI or MetaImage file is refused before ITK zero-fills it
        with readable_volume(path) as readable, native_stderr_silenced():
            image = sitk.ReadImage(str(readable))
        return sitk.GetArrayFromImage(image), VolumeHeader.of(image)
    except RuntimeError as exc:
        raise DataError(f"{path}: cannot read the {what} ({itk_reason(exc, 'unreadable')})") from None


def read_frame(path: Path) -> np.ndarray:
    """One 2-D frame as SimpleITK gives it: (rows, columns), apex at the top."""
    array = np.squeeze(read_volume(path, "frame"))
    if array.ndim != 2:
        raise DataError(f"{path}: expected a single 2-D frame, got shape {array.shape}")
    return array


SEQUENCE_NAME = "half_sequence"  # CAMUS 2023: <patient>_<view>_half_sequence[_gt].nii.gz, ED to ES


def find_sequence(folder: Path, patient: str, view: str, gt: bool) -> Path | None:
    return _first_file(folder, f"{patient}_{view}_{SEQUENCE_NAME}", (".nii.gz", ".nii", ".mhd"), gt)


def read_sequence(path: Path) -> np.ndarray:
    """A 2D+t volume as (frames, rows, columns), apex at the top."""
    array = read_volume(path, "sequence")
    if array.ndim != 3 or array.shape[0] < 2:
        raise DataError(f"{path}: expected a 2D+t sequence of at least 2 frames, got shape {array.shape}")
    return array


def read_cfg(path: Path) -> dict[str, str]:
    """``key: value`` lines of an ``Info_<view>.cfg`` file ({} when missing or unreadable)."""
    info: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return info
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            info[key.strip()] = value.strip()
    return info


# -- writing the 2023 layout (batch export) ---------------------------------------------
def write_frame(path: Path, array: np.ndarray, geometry: Geometry | None = None) -> None:
    """Write one 2-D frame (uint8 image or label map) as NIfTI/MHD, by the file's suffix, with
    the pixel spacing every other export writes (:func:`engine.maskio.pixel_spacing_mm`), so a
    viewer lays a batch's frames over the studio's at the same size; with the ``geometry`` of
    the volume its mask was read from (when it fits), as that volume's slice instead: one
    slice with its spacing, origin and direction, over the image the mask was drawn on. A
    frame is 2-D, as the CAMUS release's are, unless its geometry needs the third axis (a slice
    tilted out of, or lying off, the z = 0 plane): then one slice of a 3-D volume."""
    import SimpleITK as sitk

    if geometry is not None and geometry.fits(array) and in_plane(geometry):
        image = sitk.GetImageFromArray(np.ascontiguousarray(array))
        image.SetSpacing(geometry.spacing[:2])
        image.SetOrigin(geometry.origin[:2])
        image.SetDirection(np.reshape(geometry.direction, (3, 3))[:2, :2].ravel().tolist())
    elif geometry is not None and geometry.fits(array):
        image = sitk.GetImageFromArray(np.ascontiguousarray(array)[None])
        geometry.apply(image)
    else:
        image = sitk.GetImageFromArray(np.ascontiguousarray(array))
        image.SetSpacing((pixel_spacing_mm(array.shape[-1]),) * image.GetDimension())
    try:
        with native_stderr_silenced():  # a full disk is said by the check below, in one line
            sitk.WriteImage(image, str(path), useCompression=str(path).endswith(".gz"))
        check_written_volume(path, path)
    except RuntimeError as exc:
        if is_disk_full(exc):
            raise  # the dataset writer names the output folder
        raise DataError(f"{path}: cannot write ({itk_reason(exc, 'failed')})") from None


def in_plane(geometry: Geometry) -> bool:
    """True when ``geometry`` says no more than a 2-D header can: its slice lies in the
    z = 0 plane, unit-spaced along z (what :func:`engine.maskio.volume_geometry` makes of a
    2-D file's header), so a 2-D frame written with it reads back with the same geometry."""
    direction = np.reshape(geometry.direction, (3, 3))
    return (np.allclose(direction[2], (0.0, 0.0, 1.0)) and np.allclose(direction[:, 2], (0.0, 0.0, 1.0))
            and geometry.origin[2] == 0.0 and geometry.spacing[2] == 1.0)


def write_cfg(path: Path, info: dict[str, object]) -> None:
    path.write_text("".join(f"{key}: {value}\n" for key, value in info.items()), encoding="utf-8")


def write_2023_patient(root: Path, patient: str, frames: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
                       info: dict[str, dict[str, object]] | None = None,
                       geometry: dict[tuple[str, str], Geometry] | None = None) -> Path:
    """Write one patient into ``<root>/database_nifti/<patient>/``.

    ``frames`` maps (view, instant) to (image uint8 (H, W), labels uint8 (H, W)); ``info``
    maps a view to its cfg content (ED/ES frame numbers are filled in when absent);
    ``geometry`` maps a (view, instant) to the geometry of the volume its mask was read from,
    which that pair is written with (:func:`write_frame`).
    """
    folder = root / "database_nifti" / patient
    folder.mkdir(parents=True, exist_ok=True)
    for (view, instant), (image, labels) in frames.items():
        image_path = folder / f"{patient}_{view}_{instant}.nii.gz"
        placed = (geometry or {}).get((view, instant))
        write_frame(image_path, np.asarray(image, dtype=np.uint8), placed)
        write_frame(mask_path_for(image_path), np.asarray(labels, dtype=np.uint8), placed)
    for view in sorted({view for view, _ in frames}):
        content = {"ED": 1, "ES": 2, "NbFrame": 2}
        content.update((info or {}).get(view, {}))
        write_cfg(folder / f"Info_{view}.cfg", content)
    return folder


def write_2023_split_lists(root: Path, splits: dict[str, list[str]]) -> None:
    folder = root / "database_split"
    folder.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        names = sorted(splits.get(split, []))
        (folder / SPLIT_LISTS[split]).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")


def has_ground_truth(folder: Path) -> bool:
    """True if the patient folder holds any frame or sequence named as ground truth
    (:func:`engine.maskio.images_path_for`: ``*_gt``)."""
    return any(images_path_for(entry) is not None for entry in folder.iterdir()
               if entry.name.lower().endswith(FRAME_SUFFIXES))
