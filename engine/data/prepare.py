"""``prepare``: a CAMUS source (seed HDF5, 2019 or 2023 release, or image and label folders as
NVlabs SPADE reads them) -> the prepared layout.

Patients are processed independently (read, check, resize, encode PNGs) on all cores into
a staging folder that becomes the output only when everything succeeded (see
:mod:`.staging`). Splits are per patient: the HDF5's own groups; the 2023 split lists when
present; the 2019 ``testing`` folder as the test split; otherwise a seeded 80/10/10.

Every pair's label PNG and the manifest record the probe's fan (:mod:`engine.fan`). The
frames of one view of a patient (ED and ES: one probe position, one scan setting) share one
fan fitted to all of them (:func:`acquisition_fans`), so the two do not differ by fitting
noise; a frame alone keeps its own fit. A half sequence (``sequences``) is the same
acquisition (its first and last frames are ED and ES) and carries the fan its ED and ES frames
share (:func:`sequence_fans`). Each frame records its own IoU with the fan it carries.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..anatomy import VIEWS
from ..errors import DataError, Message, option
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from . import camus
from ..fan import DEFAULT_FANS, FAN_KEY, Fan, fan_overlaps
from ..labels import NUM_CLASSES
from ..units import counted
from .image_fans import fit_frames_fan, fitting_picture, frames_with_fan
from .imaging import resize_image, resize_labels, save_png
from .layout import (INSTANTS, SPLIT_FRACTIONS, SPLITS, image_path, label_path, make_stem,
                     parse_choices, split_patients)
from .manifest import build_manifest, write_manifest
from .parallel import default_workers, run_batches
from .sources import FORMAT_NAMES, FORMATS, FrameReader, SourcePatient, detect_format, scan_source, source_checksum
from .staging import check_folder_name, check_output, staged_dataset

__all__ = ["prepare_dataset", "detect_format", "FORMATS", "PrepareOptions"]

MIN_SIZE, MAX_SIZE = 32, 4096
SEQUENCE_FORMAT = "camus2023"  # the only source with half sequences and their ground truth


@dataclass
class _PatientResult:
    name: str
    split: str
    pairs: int = 0
    label_values: set[int] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    fans: dict = field(default_factory=dict)  # "split/stem" -> (fan record, IoU of the fit)
    sequences: list = field(default_factory=list)  # half sequences written as frame pairs
    label_formats: list[str] = field(default_factory=list)  # label PNGs not 8-bit grey (PatientFrames)


@dataclass(frozen=True)
class _Job:
    patients: tuple[SourcePatient, ...]  # split already decided
    views: tuple[str, ...]
    instants: tuple[str, ...]
    size: int
    staging: str
    sequences: bool = False


_READER: FrameReader | None = None


def _open_reader(path: str, fmt: str) -> None:
    global _READER
    if _READER is not None:
        _READER.close()
    _READER = FrameReader(path, fmt)


def _close_reader() -> None:
    global _READER
    if _READER is not None:
        _READER.close()
        _READER = None


def _run_job(job: _Job) -> list[_PatientResult]:
    assert _READER is not None
    staging = Path(job.staging)
    results = []
    for patient in job.patients:
        read = _READER.read(patient, job.views, job.instants)
        result = _PatientResult(patient.name, patient.split or "train", missing=read.missing, info=read.info,
                                label_formats=read.label_formats)
        stems = read.stems or [make_stem(patient.name, view, instant) for view, instant, _, _ in read.frames]
        pictures = [resize_image(image, job.size) for _, _, image, _ in read.frames]
        fans = acquisition_fans(read.frames, pictures)
        for stem, (view, instant, _, labels), picture, fitted in zip(stems, read.frames, pictures, fans):
            _write_pair(result, staging, stem, picture, labels, job.size, fitted)
        if job.sequences:
            _write_sequences(patient, result, job, staging, shared_fans(read.frames, fans))
        results.append(result)
    return results


def acquisition_fans(frames: list, pictures: list[np.ndarray]) -> list[tuple[Fan, float]]:
    """The fan and its fit of each of a patient's frames ((view, instant, image, labels) as
    read), fitted to ``pictures``, their images at the dataset's size: the frames of one view
    (one probe position, one scan setting) share one fan fitted to all of them; a frame whose
    view is unknown, or whose view has no other frame of its size, is fitted alone."""
    groups: dict = {}
    for index, (view, _, image, _) in enumerate(frames):
        key = (view, image.shape) if view is not None else ("alone", index)
        groups.setdefault(key, []).append(index)
    fans: list = [None] * len(frames)
    for indices in groups.values():
        view = frames[indices[0]][0]
        for i, fitted in zip(indices, fit_frames_fan([pictures[i] for i in indices], view)):
            fans[i] = fitted
    return fans


def shared_fans(frames: list, fans: list) -> dict:
    """The one fan each acquisition's frames carry, by (view, native size), from a patient's
    frames as read and their fans (:func:`acquisition_fans`); an acquisition whose frames carry
    different fans (each fitted alone), or with a frame the fan was not fitted to (IoU 0: a
    blank frame, a median fan), is left out and its sequence fitted on its own frames."""
    carried: dict = {}
    for (view, _, image, _), (fan, fit) in zip(frames, fans):
        if view is not None:
            carried.setdefault((view, image.shape), []).append(fan if fit > 0 else None)
    return {key: got[0] for key, got in carried.items() if got[0] is not None and got.count(got[0]) == len(got)}


def sequence_fans(pictures: list[np.ndarray], view: str | None, shared: Fan | None) -> list[tuple[Fan, float]]:
    """The fan and its fit of each frame of a half sequence (uint8 pictures of one size): the
    fan ``shared`` by its acquisition's ED and ES frames, with each frame's own IoU with it (a
    frame it fits below :data:`.image_fans.POOR_FIT` is treated as a frame of a pair is:
    :func:`frames_with_fan`); with no such fan the sequence's frames are fitted together
    (:func:`fit_frames_fan`)."""
    if shared is None:
        return fit_frames_fan(pictures, view)
    small = [fitting_picture(picture) for picture in pictures]
    return frames_with_fan(shared, small, fan_overlaps(shared, small), view)


def _write_pair(result: "_PatientResult", staging: Path, stem: str, picture: np.ndarray, labels: np.ndarray,
                size: int, fitted: tuple) -> None:
    """Write one pair: ``picture`` (its image already at ``size``), its labels resized, and
    ``fitted``'s fan (fan, IoU) in the label PNG."""
    small = resize_labels(labels, size)
    fan, fit = fitted
    save_png(image_path(staging, result.split, stem), picture)
    save_png(label_path(staging, result.split, stem), small, text={FAN_KEY: fan.to_json()})
    result.fans[f"{result.split}/{stem}"] = (fan.to_dict(), round(fit, 4))
    result.label_values.update(np.flatnonzero(np.bincount(small.ravel(), minlength=4)).tolist())
    result.pairs += 1


def _write_sequences(patient: SourcePatient, result: "_PatientResult", job: "_Job", staging: Path,
                     shared: dict) -> None:
    """The patient's half sequences as one pair per frame, ``<patient>_<view>_f<k>``, each
    carrying the fan of its acquisition (``shared``: :func:`shared_fans`; :func:`sequence_fans`)."""
    read = _READER.read_sequences(patient, job.views)
    result.missing += read.missing
    for view, images, labels in read.sequences:
        pictures = [resize_image(image, job.size) for image in images]
        fans = sequence_fans(pictures, view, shared.get((view, images.shape[1:])))
        for k, (picture, mask, fitted) in enumerate(zip(pictures, labels, fans)):
            _write_pair(result, staging, f"{patient.name}_{view}_f{k:03d}", picture, mask, job.size, fitted)
        result.sequences.append({"patient": patient.name, "view": view, "split": result.split,
                                 "frames": int(len(images)), "stems": f"{patient.name}_{view}_f000.."
                                 f"f{len(images) - 1:03d}"})


def _assign_splits(fmt: str, patients: list[SourcePatient], seed: int,
                   source_splits: str) -> tuple[list[SourcePatient], str]:
    """Give every patient a split; returns the patients and how splits were decided."""
    fixed = [p for p in patients if p.split is not None]
    free = [p for p in patients if p.split is None]
    if not free:
        return patients, source_splits
    fractions = SPLIT_FRACTIONS
    has_test = any(p.split == "test" for p in fixed)
    if fmt in ("camus2019", "nnunet") and has_test:
        fractions = (SPLIT_FRACTIONS[0], SPLIT_FRACTIONS[1], 0.0)  # testing/ or imagesTs is the test split
    elif fmt == "nnunet" and any(p.split == "valid" for p in fixed):
        fractions = (SPLIT_FRACTIONS[0], 0.0, SPLIT_FRACTIONS[2])  # fold 0's val is the valid split
    total = sum(fractions)
    split_of = {}
    for split, names in split_patients([p.name for p in free], seed, tuple(f / total for f in fractions)).items():
        split_of.update((name, split) for name in names)
    assigned = fixed + [SourcePatient(p.name, split_of[p.name], p.ref) for p in free]
    kind = "train/valid" if fractions[2] == 0 else "train/test" if fractions[1] == 0 else "80/10/10"
    seeded = f"seeded {kind} split (seed {seed})"
    how = f"{source_splits} + {seeded} of the others" if fixed else seeded
    return sorted(assigned, key=lambda p: p.name), how


def left_out(skipped: list[dict], shown: int = 3) -> str:
    """``: <patient> (<reason>), ... and N more`` for the patients a source's scan left out
    (why nothing is left to prepare), or nothing when there are none."""
    if not skipped:
        return ""
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return ": " + ", ".join(f"{s['patient']} ({s['reason']})" for s in skipped[:shown]) + more


def fan_fit_summary(fits: list[tuple[dict, float]]) -> dict:
    """How well sectors fitted the images' support, from each frame's fan record and IoU:
    median and lowest IoU of the frames a fan was fitted to, and the frames none was fitted
    to (IoU 0), apart by the fan they carry: ``fallback``, their view's median fan (no sector
    found in the frame nor in its acquisition); ``shared_only``, their acquisition's fan,
    fitted to its other frames (a blank or badly cut frame of a pair or sequence)."""
    medians = [fan.to_dict() for fan in DEFAULT_FANS.values()]
    good = [fit for _, fit in fits if fit > 0]
    fallback = sum(1 for record, fit in fits if not fit > 0 and record in medians)
    return {"fitted": len(good), "fallback": fallback, "shared_only": len(fits) - len(good) - fallback,
            "median_iou": round(float(np.median(good)), 4) if good else None,
            "lowest_iou": round(float(min(good)), 4) if good else None}


def fan_fit_line(fan_fit: dict) -> str:
    """``fan_fit`` (:func:`fan_fit_summary`) in words. A manifest written before the frames
    without a fit of their own were told apart has ``fallback`` alone, counting both kinds."""
    line = f"fans: {fan_fit.get('fitted', 0)} fitted"
    if fan_fit.get("median_iou") is not None:
        line += f" (median IoU {fan_fit['median_iou']:.3f}, lowest {fan_fit['lowest_iou']:.3f})"
    fallback = fan_fit.get("fallback", 0)
    if "shared_only" not in fan_fit:
        return line + (f", {fallback} not fitted (their view's median fan or their acquisition's)"
                       if fallback else "")
    if fallback:
        line += f", {fallback} given their view's median fan"
    if fan_fit["shared_only"]:
        line += f", {fan_fit['shared_only']} blank or badly cut carrying their acquisition's fan"
    return line


def label_formats_line(label_formats: dict[str, int]) -> str | None:
    """The manifest's ``label_formats`` (how many label maps were read from PNGs of each
    format other than 8-bit grey: :data:`engine.maskio.STORED_FORMATS`) in one line, or None
    when every one was 8-bit grey."""
    if not label_formats:
        return None
    kinds = [(count, f"{stored} {'PNG' if count == 1 else 'PNGs'}"
              + (" with three equal channels" if stored in ("RGB", "RGBA") else ""))
             for stored, count in label_formats.items()]
    read = f"read {counted(kinds[0][0], 'label map')} from {kinds[0][1]}"
    their = "its" if sum(label_formats.values()) == 1 else "their"
    return (read + "".join(f", {count} from {kind}" for count, kind in kinds[1:])
            + f", not 8-bit grey: {their} values 0-{NUM_CLASSES - 1} were taken as the labels")


def prepare_dataset(source: Path | str, out: Path | str, format: str = "auto",
                    views: Sequence[str] = VIEWS, instants: Sequence[str] = INSTANTS,
                    size: int = 256, seed: int = 0, overwrite: bool = False,
                    progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop,
                    workers: int | None = None, sequences: bool = False) -> dict:
    """Prepare ``source`` into ``out`` (the layout in :mod:`.layout`); returns the manifest that was written.

    Patients without ground truth are skipped and listed in ``manifest["skipped"]``. With
    ``sequences``, the CAMUS 2023 half sequences (``*_half_sequence.nii.gz`` with their
    ``_gt``) are kept as sequences too: one pair per frame, ``<patient>_<view>_f<k>``, listed
    in ``manifest["sequences"]``.
    ``workers`` None picks the number of processes from the cores and the job size.
    """
    source = Path(source).expanduser()
    out = Path(out).expanduser()
    views = parse_choices(views, VIEWS, "view")
    instants = parse_choices(instants, INSTANTS, "instant")
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise DataError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    size = int(size)
    if format == "auto":
        fmt = detect_format(source)
    elif format in FORMATS:
        fmt = format
        if not source.exists():
            raise DataError(f"{source}: no such file or folder")
        if fmt == "hdf5" and not source.is_file():
            raise DataError(Message(f"{source}: ", option("format"), " hdf5 needs the HDF5 file, this is a folder"))
        if fmt != "hdf5" and not source.is_dir():
            raise DataError(Message(f"{source}: ", option("format"), f" {fmt} needs the release folder, "
                                    "this is a file"))
    else:
        raise DataError(f"unknown format {format!r} (use auto, {', '.join(FORMATS)})")
    if sequences and fmt != SEQUENCE_FORMAT:
        raise DataError(Message(f"{source}: ", option("sequences"), f" needs a {FORMAT_NAMES[SEQUENCE_FORMAT]}, "
                                "whose *_half_sequence.nii.gz files have ground truth; a "
                                f"{FORMAT_NAMES[fmt]} has no half sequences"))
    check_folder_name(out)
    check_output(out, overwrite, protect=(source,))

    listing = scan_source(source, fmt)
    skipped = list(listing.notes)
    patients = listing.patients
    if fmt.startswith("camus"):
        without = [p for p in patients if not camus.has_ground_truth(Path(p.ref))]
        skipped += [{"patient": p.name, "reason": "no ground truth"} for p in without]
        patients = [p for p in patients if p not in without]
    if not patients:
        raise DataError(f"{source}: no patients to prepare ({FORMAT_NAMES[fmt]})" + left_out(skipped))
    listed = patients  # with the source's own splits, for its checksum
    patients, split_source = _assign_splits(fmt, patients, seed, listing.split_source)

    n = len(patients)
    workers = default_workers(n) if workers is None else max(1, int(workers))
    per_batch = 1  # a patient takes seconds (its fan fits): progress and Cancel after each
    checksum: dict = {}
    stop_hashing = threading.Event()  # set when the run ends without its manifest

    def compute_checksum() -> None:
        try:
            checksum.update(source_checksum(source, fmt, listed,
                                            should_stop=lambda: stop_hashing.is_set() or should_stop()))
        except Cancelled:
            pass
        except OSError as exc:
            checksum.update({"algorithm": "sha256", "error": str(exc)})

    hasher = threading.Thread(target=compute_checksum, name="prepare source checksum", daemon=True)
    with staged_dataset(out, overwrite) as staging:
        jobs = [_Job(tuple(patients[i:i + per_batch]), views, instants, size, str(staging), sequences)
                for i in range(0, n, per_batch)]
        results: list[_PatientResult] = []
        progress(Progress("prepare", 0, n, FORMAT_NAMES[fmt]))
        try:
            for batch in run_batches(_run_job, jobs, workers=workers, initializer=_open_reader,
                                     initargs=(str(source), fmt), should_stop=should_stop,
                                     on_start=hasher.start):
                results.extend(batch)
                progress(Progress("prepare", len(results), n, batch[-1].name if batch else ""))
            hasher.join()
        finally:
            _close_reader()
            stop_hashing.set()  # a cancelled or failed run stops reading the source at once
            if hasher.is_alive():
                hasher.join()
        if not checksum:  # cancelled while only the checksum was left
            raise Cancelled()

        splits = {split: [] for split in SPLITS}
        counts = {split: 0 for split in SPLITS}
        label_values: set[int] = set()
        info = {}
        fans: dict = {}
        sequence_list: list = []
        label_formats: dict[str, int] = {}
        for result in sorted(results, key=lambda r: r.name):
            fans.update(result.fans)
            sequence_list += result.sequences
            if result.missing:  # the whole patient (no pairs) or some of its frames
                skipped.append({"patient": result.name, "reason": "; ".join(result.missing)})
            if result.pairs == 0:
                continue
            splits[result.split].append(result.name)
            counts[result.split] += result.pairs
            label_values |= result.label_values
            for stored in result.label_formats:
                label_formats[stored] = label_formats.get(stored, 0) + 1
            if result.info:
                info[result.name] = result.info
        if not any(counts.values()):
            raise DataError(f"{source}: no image/label pairs for views {', '.join(views)} and "
                            f"instants {', '.join(instants)}")
        manifest = build_manifest(
            source={"path": str(source.resolve()), "format": fmt, "format_name": FORMAT_NAMES[fmt],
                    "checksum": checksum, "split_source": split_source},
            options={"views": list(views), "instants": list(instants), "size": size, "seed": seed,
                     "sequences": bool(sequences)},
            splits=splits, counts=counts, label_values=sorted(label_values), skipped=skipped,
            patient_info=info)
        manifest["fans"] = {key: record for key, (record, _) in sorted(fans.items())}
        if sequences:
            manifest["sequences"] = sequence_list
        manifest["fan_fit"] = fan_fit_summary(list(fans.values()))
        if label_formats:
            manifest["label_formats"] = dict(sorted(label_formats.items()))
        hearts = _generated_hearts(source, fmt, splits)
        if hearts:
            manifest["hearts"] = hearts
        write_manifest(staging, manifest)
    return manifest


def _generated_hearts(source: Path, fmt: str, splits: dict[str, list[str]]) -> dict:
    """The records of the prepared patients (ejection fractions, the heart) when ``source`` is
    an HDF5 file of generated patients (``cardigan phantom --format hdf5``); else empty."""
    if fmt != "hdf5":
        return {}
    from .seed_hdf5 import stored_hearts

    kept = {name for members in splits.values() for name in members}
    return {name: record for name, record in sorted(stored_hearts(source).items()) if name in kept}


@dataclass(frozen=True)
class PrepareOptions:
    """Everything :func:`prepare_dataset` needs besides the output folder (what the studio's
    prepare form and training wizard collect)."""

    source: Path
    format: str
    views: tuple[str, ...]
    instants: tuple[str, ...]
    size: int
    seed: int

    def run(self, out: Path, overwrite: bool, progress: ProgressCallback = no_progress,
            should_stop: StopCheck = never_stop) -> dict:
        return prepare_dataset(self.source, out, format=self.format, views=self.views,
                               instants=self.instants, size=self.size, seed=self.seed,
                               overwrite=overwrite, progress=progress, should_stop=should_stop)
