"""``phantom``: a synthetic dataset from generated patients and the ultrasound simulator.

Each patient is a draw of the shipped shape model (:mod:`engine.anatomy`) from its own seed
(derived from the run seed and the patient's index, so the result does not depend on the
number of workers) and gives every requested view x phase pair, its masks drawn inside the
view's fan (:func:`phantom_fan`) and rendered by the simulator. The manifest records each
patient's ejection fractions and heart (``hearts``: :func:`engine.anatomy.patients.heart_record`),
and each label PNG carries its fan and its heart (the anatomy record a mask drawn in the studio
carries, :func:`engine.anatomy.heart.anatomy_record`), so a mask opened alone keeps both.
``folders`` writes the prepared layout with a manifest; ``hdf5`` writes the seed's HDF5 layout
(both phases always) with the manifest in the file (:meth:`SeedHdf5Writer.describe`), so
``prepare`` can be exercised end to end and keeps the hearts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..anatomy import PHASES, VIEWS, Heart, ShapeModel, phase_fraction
from ..anatomy.heart import ANATOMY_KEY, anatomy_record
from ..anatomy.patients import heart_record
from ..errors import Advice, DataError, Message, already_exists
from ..progress import Progress, ProgressCallback, StopCheck, never_stop, no_progress
from ..fan import FAN_KEY, Fan, random_fan
from .imaging import save_png
from .layout import (SPLITS, image_path, label_path, make_stem, parse_choices, patient_name,
                     split_patients)
from .manifest import build_manifest, write_manifest
from .parallel import default_workers, run_batches
from .seed_hdf5 import SeedHdf5Writer, written_by_us
from .staging import check_folder_name, check_output, folder_made_for, named_as_file, staged_dataset

PHANTOM_FORMATS = ("folders", "hdf5")
MAX_COUNT = 1_000_000
GENERATOR = "engine.anatomy.ShapeModel.draw + engine.simulator.simulate"


def derive_seed(*keys: int | str) -> int:
    """A 63-bit seed from a run seed and names (stable across platforms and runs)."""
    words = [k if isinstance(k, int) else int.from_bytes(k.encode(), "little") for k in keys]
    state = np.random.SeedSequence([w & (2**63 - 1) for w in words]).generate_state(2, np.uint32)
    return int(state[0]) << 31 ^ int(state[1])


def phantom_fan(seed: int, index: int, view: str) -> Fan:
    """The probe's fan of one view of patient ``index`` (both phases share it): drawn around
    the CAMUS median with the spread of real fans."""
    return random_fan(np.random.default_rng(derive_seed(seed, index, view, "fan")), view)


@lru_cache(maxsize=64)
def phantom_heart(seed: int, index: int) -> Heart:
    """The heart of patient ``index`` of the run ``seed``: a draw of the shipped shape model."""
    return ShapeModel.default().draw(derive_seed(seed, index))


def phantom_pair(seed: int, index: int, view: str, phase: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(image, labels) of patient ``index`` of the run ``seed`` (what ``phantom`` writes),
    the mask and the image inside :func:`phantom_fan`."""
    from ..simulator import simulate

    patient_seed = derive_seed(seed, index)
    fan = phantom_fan(seed, index, view)
    labels = ShapeModel.default().mask(phantom_heart(seed, index), view, phase, size, fan=fan)
    image = simulate(labels, seed=derive_seed(seed, index, view, phase), view=view,
                     patient_seed=patient_seed, phase=phase, fan=fan)
    return image, labels


def label_text(seed: int, index: int, view: str, phase: str) -> dict[str, str]:
    """The text chunks of a phantom label PNG: its fan and the anatomy record of its heart."""
    record = anatomy_record(phantom_heart(seed, index), view, phase_fraction(phase))
    return {FAN_KEY: phantom_fan(seed, index, view).to_json(), ANATOMY_KEY: json.dumps(record)}


@dataclass(frozen=True)
class _Job:
    indices: tuple[int, ...]
    splits: tuple[str, ...]
    count: int
    seed: int
    size: int
    views: tuple[str, ...]
    phases: tuple[str, ...]
    staging: str | None  # folders: write here; None: return the arrays


def _run_job(job: _Job) -> list[dict]:
    out = []
    for index, split in zip(job.indices, job.splits):
        name = patient_name(index + 1, job.count)
        record = {"name": name, "split": split, "values": set(), "arrays": {},
                  "heart": heart_record(ShapeModel.default(), phantom_heart(job.seed, index), job.views, job.size,
                                        {view: phantom_fan(job.seed, index, view) for view in job.views})}
        for view in job.views:
            for phase in job.phases:
                image, labels = phantom_pair(job.seed, index, view, phase, job.size)
                record["values"].update(np.flatnonzero(np.bincount(labels.ravel(), minlength=4)).tolist())
                if job.staging is not None:
                    stem = make_stem(name, view, phase)
                    save_png(image_path(Path(job.staging), split, stem), image)
                    save_png(label_path(Path(job.staging), split, stem), labels,
                             text=label_text(job.seed, index, view, phase))
                else:
                    record["arrays"][(view, phase)] = (image, labels)
        out.append(record)
    return out


def phantom_splits(count: int, seed: int) -> dict[str, list[str]]:
    """split -> the names of its patients among ``count`` (seeded 80/10/10; with fewer than
    three patients valid and test stay empty and every patient is in train)."""
    return split_patients([patient_name(i + 1, count) for i in range(count)], seed)


HDF5_SUFFIXES = (".h5", ".hdf5")
# what to do about a folders output named as an HDF5 file, in the command line's words
USE_HDF5_FORMAT = Advice("use hdf5 format", "add --format hdf5")


def names_hdf5_file(out: Path) -> bool:
    """Whether ``out`` is named as an HDF5 file (``x.h5``): given for the folders format, it
    would quietly become a folder of that name, so :func:`write_phantom` refuses it."""
    return out.suffix.lower() in HDF5_SUFFIXES


# for what --out is a folder, and what else would do, in the refusal of a file's name
FOLDERS_FOR = (" for the folders format", ", or ", USE_HDF5_FORMAT, " and name an .hdf5 file")


def check_folders_name(out: Path) -> None:
    """Refuse a folders output named as an HDF5 file (:func:`names_hdf5_file`), that is a file
    or is named as another file (``x.png``, :func:`folders_name_problem`), whoever asks; the
    refusal of a file suggests a folder to name instead (:func:`.staging.check_folder_name`)."""
    if names_hdf5_file(out):
        raise DataError(Message(f"{out}: names an HDF5 file, but the folders format writes a folder (",
                                USE_HDF5_FORMAT, ", or name a folder)"))
    check_folder_name(out, *FOLDERS_FOR)


def folders_name_problem(out: Path, by_name: bool = False) -> Message | None:
    """Why a new folders output ``out`` may not have its name, the HDF5 names aside
    (:func:`names_hdf5_file`): it is named as another file (``x.png``), in the line
    :func:`check_folders_name` refuses it with; from the name alone, as
    :func:`.staging.named_as_file` (``by_name`` too)."""
    return named_as_file(out, *FOLDERS_FOR, by_name=by_name)


def hdf5_output_path(out: Path) -> Path:
    """``out`` itself, or ``phantom.hdf5`` inside it when ``out`` is an existing folder."""
    return out / "phantom.hdf5" if out.is_dir() else out


def write_phantom(out: Path | str, count: int = 100, size: int = 256, seed: int = 0,
                  format: str = "folders", views: Sequence[str] = VIEWS, phases: Sequence[str] = PHASES,
                  overwrite: bool = False, progress: ProgressCallback = no_progress,
                  should_stop: StopCheck = never_stop, workers: int | None = None) -> dict:
    """Write ``count`` synthetic patients (each: views x phases) to ``out``; returns the manifest.

    ``format="hdf5"``: ``out`` is the file to write (or a folder to put ``phantom.hdf5`` in);
    the manifest is returned with ``output`` naming the file, but not written beside it.
    ``format="folders"``: ``out`` is a folder, and one named as an HDF5 file (``x.h5``) is refused.
    """
    out = Path(out).expanduser()
    if format not in PHANTOM_FORMATS:
        raise DataError(f"unknown phantom format {format!r} (use {' or '.join(PHANTOM_FORMATS)})")
    if format == "folders":
        check_folders_name(out)
    if not 1 <= int(count) <= MAX_COUNT:
        raise DataError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    if not 32 <= int(size) <= 2048:
        raise DataError(f"size must be between 32 and 2048, got {size}")
    count, size = int(count), int(size)
    views = parse_choices(views, VIEWS, "view")
    phases = parse_choices(phases, PHASES, "instant")
    if format == "hdf5" and phases != PHASES:
        raise DataError("the HDF5 layout always holds both instants (ED and ES)")

    names = [patient_name(i + 1, count) for i in range(count)]
    split_of = {name: split for split, members in phantom_splits(count, seed).items() for name in members}
    workers = default_workers(count, min_items_per_worker=4) if workers is None else max(1, int(workers))
    per_batch = max(1, min(8, count // max(1, workers * 4)))
    options = {"views": list(views), "instants": list(phases), "size": size, "seed": seed, "count": count}
    source = {"path": None, "format": "phantom", "format_name": "generated phantom",
              "generator": GENERATOR, "checksum": None, "split_source": "seeded 80/10/10"}

    if format == "hdf5":
        target = hdf5_output_path(out)
        if target.is_dir():
            raise DataError(f"{target}: is a folder")
        check_hdf5_output(target, overwrite)
    else:
        check_output(out, overwrite, replaces="phantom")

    # folders are staged and committed when the block ends; the HDF5 writer stages its own file,
    # in a folder made for it as a dataset's staging folder is (and removed with it, if empty)
    with staged_dataset(out, overwrite) if format != "hdf5" else folder_made_for(target) as staging:
        jobs = [_Job(tuple(range(i, min(count, i + per_batch))),
                     tuple(split_of[names[k]] for k in range(i, min(count, i + per_batch))),
                     count, seed, size, views, phases, str(staging) if staging else None)
                for i in range(0, count, per_batch)]
        splits = {split: [] for split in SPLITS}
        counts = {split: 0 for split in SPLITS}
        values: set[int] = set()
        hearts: dict[str, dict] = {}
        done = 0
        batches = run_batches(_run_job, jobs, workers=workers, should_stop=should_stop)
        progress(Progress("phantom", 0, count))
        try:
            if format == "hdf5":
                with SeedHdf5Writer(target) as writer:
                    for batch in batches:
                        for record in batch:
                            for view in views:
                                images = np.stack([record["arrays"][(view, p)][0] for p in PHASES])
                                labels = np.stack([record["arrays"][(view, p)][1] for p in PHASES])
                                writer.add(record["split"], record["name"], view, images, labels)
                            done = _tally(record, splits, counts, values, len(views) * len(phases), done,
                                          hearts)
                        progress(Progress("phantom", done, count, batch[-1]["name"]))
                    manifest = _manifest(source, options, splits, counts, values, hearts)
                    writer.describe(manifest)
            else:
                for batch in batches:
                    for record in batch:
                        done = _tally(record, splits, counts, values, len(views) * len(phases), done, hearts)
                    progress(Progress("phantom", done, count, batch[-1]["name"]))
        except BaseException:
            batches.close()
            raise
        if staging is not None:
            manifest = _manifest(source, options, splits, counts, values, hearts)
        if staging is None:
            manifest["output"] = {"format": "hdf5", "path": str(target.resolve())}
        else:
            manifest["output"] = {"format": "folders", "path": str(out.resolve())}
            write_manifest(staging, manifest)
    return manifest


def _manifest(source: dict, options: dict, splits: dict, counts: dict, values: set, hearts: dict) -> dict:
    manifest = build_manifest(source=source, options=options, splits=splits, counts=counts,
                              label_values=sorted(values))
    manifest["anatomy"] = {"shape_model": ShapeModel.default().fingerprint, "source": "the shipped shape model"}
    manifest["hearts"] = dict(sorted(hearts.items()))
    return manifest


def check_hdf5_output(target: Path, overwrite: bool) -> None:
    """An existing file is replaced only with ``overwrite`` and only if this program wrote it."""
    if not (target.exists() or target.is_symlink()):
        return
    if not overwrite:
        raise DataError(already_exists(target))
    if target.is_symlink() or not written_by_us(target):
        raise DataError(f"{target}: not an HDF5 file written by cardiGAN Studio; refusing to "
                        "replace it, choose another output file")


def _tally(record: dict, splits: dict, counts: dict, values: set, pairs: int, done: int,
           hearts: dict) -> int:
    splits[record["split"]].append(record["name"])
    hearts[record["name"]] = record["heart"]
    counts[record["split"]] += pairs
    values |= record["values"]
    return done + 1
