"""One interface over the source layouts ``prepare`` reads.

:func:`detect_format` names the layout; :func:`scan_source` lists the patients (with the
source's own split where it has one); a :class:`FrameReader` (one per worker process)
returns a patient's frames as uint8 image / label map pairs at their native size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..fileio import sha256_file
from ..progress import StopCheck, never_stop
from . import camus, nnunet_source, pair_folders
from .imaging import check_pair, to_uint8_image
from .layout import parse_stem
from .seed_hdf5 import FRAME_INDEX, SeedHdf5Reader, is_hdf5

FORMATS = ("hdf5", "camus2019", "camus2023", "folders", "nnunet")
FORMAT_NAMES = {"hdf5": "seed HDF5", "camus2019": "CAMUS 2019 release (.mhd)",
                "camus2023": "CAMUS 2023 release (NIfTI)",
                "folders": "image and label folders (NVlabs SPADE custom)",
                "nnunet": "nnU-Net v2 raw dataset (imagesTr, labelsTr, dataset.json)"}


def detect_format(source: Path | str) -> str:
    """``hdf5`` | ``camus2019`` | ``camus2023`` | ``folders`` | ``nnunet`` for the file or folder ``source``."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        if is_hdf5(path):
            return "hdf5"
        raise DataError(f"{path}: not an HDF5 file (a single-file source must be the seed's "
                        "HDF5; CAMUS releases are folders)")
    if camus.looks_like_2023(path):
        return "camus2023"
    if camus.looks_like_2019(path):
        return "camus2019"
    if nnunet_source.looks_like_nnunet(path):
        return "nnunet"
    if pair_folders.looks_like_pair_folders(path):
        return "folders"
    inside = hdf5_inside(path)
    if inside is not None:
        raise DataError(f"{path}: a folder holding the HDF5 file {inside.name} (an HDF5 export or phantom); "
                        f"prepare from the file itself: {inside}")
    raise DataError(f"{path}: unknown layout (expected a seed HDF5 file, a CAMUS 2019 folder with "
                    "training/ or testing/ holding patientNNNN/*.mhd, a CAMUS 2023 folder with "
                    "database_nifti/patientNNNN/*.nii.gz, image and label folders such as "
                    "train_img and train_label, or an nnU-Net raw dataset with dataset.json, imagesTr and labelsTr)")


def hdf5_inside(folder: Path) -> Path | None:
    """The one HDF5 file directly in ``folder`` (``export --format hdf5`` writes
    ``synthetic.hdf5`` with its manifest beside it), or None."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".hdf5", ".h5")
             and not p.name.startswith(".") and is_hdf5(p)]
    return files[0] if len(files) == 1 else None


@dataclass(frozen=True)
class SourcePatient:
    name: str
    split: str | None  # the source's own split; None: assign by seeded split
    ref: str  # where the reader finds it: the HDF5 split group, or the patient folder


@dataclass
class SourceListing:
    patients: list[SourcePatient]
    split_source: str  # how splits were decided ("hdf5 groups", "split lists (...)", "none")
    notes: list[dict] = field(default_factory=list)  # patients left out, with reasons


def scan_source(path: Path, fmt: str) -> SourceListing:
    if fmt == "hdf5":
        with SeedHdf5Reader(path) as reader:
            pairs = reader.patients()
            ignored = reader.ignored_entries()
        names = [name.casefold() for _, name in pairs]  # PATIENT0001 is patient0001
        dupes = sorted({name for _, name in pairs if names.count(name.casefold()) > 1})
        if dupes:
            raise DataError(f"{path}: patient {' and '.join(dupes[:2])} appears in more than one split")
        notes = [{"patient": f"/{name}", "reason": f"top-level entry outside train/valid/test, "
                  f"{count} item(s) not read"} for name, count in ignored]
        return SourceListing([SourcePatient(name, split, split) for split, name in pairs], "hdf5 groups",
                             notes)
    if fmt == "camus2019":
        found, how = camus.scan_2019(path)
        return SourceListing([SourcePatient(p.name, p.split, str(p.folder)) for p in found], how)
    if fmt == "camus2023":
        found, how, unlisted = camus.scan_2023(path)
        notes = [{"patient": name, "reason": "not named in any split list"} for name in unlisted]
        return SourceListing([SourcePatient(p.name, p.split, str(p.folder)) for p in found], how, notes)
    if fmt in ("folders", "nnunet"):
        scan = pair_folders.scan_pair_folders if fmt == "folders" else nnunet_source.scan_nnunet
        found, notes, how = scan(path)
        ordered = sorted(found.items(), key=lambda item: (item[0][0], item[0][1] or ""))
        return SourceListing([SourcePatient(name, split, pair_folders.encode_ref(files))
                              for (name, split), files in ordered], how, notes)
    raise DataError(f"unknown source format {fmt!r} (use one of {', '.join(FORMATS)})")


def source_checksum(path: Path, fmt: str, patients: list[SourcePatient],
                    should_stop: StopCheck = never_stop) -> dict:
    """SHA-256 of the HDF5 file; for folders, of the listing (relative names and sizes), each
    patient's files under the split the source puts it in (``patients`` as the source lists
    them, not as a seeded split assigns them: the checksum is the source's, not the run's).
    :class:`~engine.progress.Cancelled` when ``should_stop()`` turns true while the file is read."""
    if fmt == "hdf5":
        return {"algorithm": "sha256", "of": "file", "value": sha256_file(path, should_stop=should_stop)}
    digest = hashlib.sha256()
    if fmt in ("folders", "nnunet"):
        for patient in sorted(patients, key=lambda p: (p.name, p.split or "")):
            for line in pair_folders.pair_files_checksum(pair_folders.decode_ref(patient.ref)):
                digest.update(f"{patient.split or ''}/{line}".encode())
        return {"algorithm": "sha256", "of": "file listing (names and sizes)", "value": digest.hexdigest()}
    for patient in sorted(patients, key=lambda p: p.name):
        folder = Path(patient.ref)
        for entry in sorted(folder.iterdir()):
            if entry.is_file():
                digest.update(f"{patient.split or ''}/{patient.name}/{entry.name}\t{entry.stat().st_size}\n".encode())
    return {"algorithm": "sha256", "of": "file listing (names and sizes)", "value": digest.hexdigest()}


@dataclass
class PatientFrames:
    frames: list[tuple[str | None, str | None, np.ndarray, np.ndarray]]  # (view, instant, image, labels)
    missing: list[str]  # why requested frames are absent ("no ground truth for 2CH ES", ...)
    info: dict[str, dict[str, str]]  # per view cfg content (CAMUS)
    stems: list[str] | None = None  # each frame's own stem, where the source names it (folders)
    # how label PNGs that are not 8-bit grey held their ids, one entry a frame ("palette", ...)
    label_formats: list[str] = field(default_factory=list)


@dataclass
class PatientSequences:
    sequences: list[tuple[str, np.ndarray, np.ndarray]]  # (view, images (T, H, W), labels (T, H, W))
    missing: list[str]


class FrameReader:
    """Reads patients' frames from one source; keeps the HDF5 file open between calls."""

    def __init__(self, path: Path | str, fmt: str) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self._hdf5: SeedHdf5Reader | None = None
        self._labels: np.ndarray | None = None  # an nnU-Net dataset's values -> ours

    def close(self) -> None:
        if self._hdf5 is not None:
            self._hdf5.close()
            self._hdf5 = None

    def read(self, patient: SourcePatient, views: tuple[str, ...], instants: tuple[str, ...]) -> PatientFrames:
        if self.fmt == "hdf5":
            return self._read_hdf5(patient, views, instants)
        if self.fmt in ("folders", "nnunet"):
            return self._read_folders(patient, views, instants)
        return self._read_camus(patient, views, instants)

    def read_sequences(self, patient: SourcePatient, views: tuple[str, ...]) -> PatientSequences:
        """The patient's half sequences (ED to ES) with their per-frame ground truth, where
        the source has them (the full CAMUS 2023 release)."""
        sequences, missing = [], []
        if self.fmt != "camus2023":
            return PatientSequences(sequences, missing)
        folder = Path(patient.ref)
        for view in views:
            gt_path = camus.find_sequence(folder, patient.name, view, gt=True)
            image_path = camus.find_sequence(folder, patient.name, view, gt=False)
            if gt_path is None or image_path is None:
                if image_path is not None:
                    missing.append(f"no ground truth for the {view} sequence")
                continue
            images = camus.read_sequence(image_path)
            labels = camus.read_sequence(gt_path)
            if images.shape != labels.shape:
                raise DataError(f"{gt_path}: {labels.shape[0]} frames of {labels.shape[2]}x{labels.shape[1]}, "
                                f"its images {images.shape[0]} of {images.shape[2]}x{images.shape[1]}")
            frames = [to_uint8_image(frame, str(image_path)) for frame in images]
            masks = [check_pair(image, mask, str(gt_path)) for image, mask in zip(frames, labels)]
            sequences.append((view, np.stack(frames), np.stack(masks)))
        return PatientSequences(sequences, missing)

    def _read_hdf5(self, patient, views, instants) -> PatientFrames:
        if self._hdf5 is None:
            self._hdf5 = SeedHdf5Reader(self.path)
        present = self._hdf5.views(patient.ref, patient.name)
        frames, missing = [], []
        for view in views:
            if view not in present:
                missing.append(f"no {view} group")
                continue
            images, labels = self._hdf5.read(patient.ref, patient.name, view)
            for instant in instants:
                k = FRAME_INDEX[instant]
                frames.append((view, instant, images[k], labels[k]))
        return PatientFrames(frames, missing, {})

    def _read_folders(self, patient, views, instants) -> PatientFrames:
        """The pairs of a patient in image / label folders: CAMUS-named ones as the views and
        instants asked for, any other name as it is (its view unknown)."""
        frames, stems, formats = [], [], []
        for entry in pair_folders.decode_ref(patient.ref):
            parsed = parse_stem(entry.stem)
            if parsed and (parsed[1] not in views or parsed[2] not in instants):
                continue
            image, labels = self._read_pair(entry, formats)
            frames.append((parsed[1] if parsed else None, parsed[2] if parsed else None, image, labels))
            stems.append(entry.stem)
        return PatientFrames(frames, [], {}, stems, formats)

    def _read_pair(self, entry: pair_folders.PairFile, stored_as: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.fmt != "nnunet":
            return pair_folders.read_pair(entry, stored_as)
        if self._labels is None:
            document = nnunet_source.read_dataset_json(self.path)
            self._labels = nnunet_source.label_lookup(document, str(self.path / nnunet_source.DATASET_JSON))
        return nnunet_source.read_case(entry, self._labels)

    def _read_camus(self, patient, views, instants) -> PatientFrames:
        folder = Path(patient.ref)
        frames, missing, info = [], [], {}
        for view in views:
            cfg = camus.read_cfg(folder / f"Info_{view}.cfg")
            if cfg:
                info[view] = cfg
            for instant in instants:
                gt_path = camus.find_frame(folder, patient.name, view, instant, gt=True)
                if gt_path is None:
                    missing.append(f"no ground truth for {view} {instant}")
                    continue
                image_path = camus.find_frame(folder, patient.name, view, instant, gt=False)
                if image_path is None:
                    raise DataError(f"{gt_path}: ground truth without its image "
                                    f"({patient.name}_{view}_{instant} + .mhd/.nii.gz)")
                image = to_uint8_image(camus.read_frame(image_path), str(image_path))
                labels = check_pair(image, camus.read_frame(gt_path), str(gt_path))
                frames.append((view, instant, image, labels))
        return PatientFrames(frames, missing, info)
