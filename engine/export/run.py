"""``export_dataset``: synthetic image/mask pairs in bulk, written whole or not at all."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..anatomy import ShapeModel
from ..data.border_jitter import jitter_problem, jitter_scaled_borders
from ..data.layout import SPLITS, make_stem, parse_stem, patient_name, split_patients, stem_patient
from ..data.manifest import build_manifest, write_manifest
from ..data.staging import check_not_a_source, check_output, staged_dataset
from ..errors import DataError, Message, option
from ..fan import default_fan
from ..nets.config import style_scale_problem
from ..provenance import model_identity
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from ..synthesizer import Synthesizer, to_uint8
from .sources import (PatientMasks, check_like_folder, check_masks_folder, folder_masks, generated_mask_side,
                      model_like, random_patients)
from .writers import WRITERS, NiftiWriter, check_export_folder, spacing_record

EXPORT_FORMATS = tuple(WRITERS)
MAX_RANDOM = 1_000_000


def variant_name(name: str, patient: str, variation: int) -> tuple[str, str]:
    """(stem, patient) of variation ``variation`` (0 keeps the original names)."""
    if variation == 0:
        return name, patient
    new_patient = f"{patient}_v{variation + 1}"
    parsed = parse_stem(name)
    if parsed:
        return make_stem(new_patient, parsed[1], parsed[2]), new_patient
    if name != patient and stem_patient(name) == patient:  # a loop's frame: <patient>_<view>_f<k>
        return new_patient + name[len(patient):], new_patient
    return f"{name}_v{variation + 1}", new_patient


def export_dataset(model, out: Path | str, *, masks: Path | str | None = None, random: int | None = None,
                   like: Path | str | None = None, like_fallback: bool = False,
                   variations: int = 1, format: str = "png", seed: int = 0, size: int | None = None,
                   device: str = "auto", overwrite: bool = False,
                   progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop,
                   notify: Callable[[str], None] | None = None, style_scale: float | None = None,
                   border_jitter: float = 0.0) -> dict:
    """Synthesize images for generated (``random`` patients) or given (``masks`` folder) label
    maps, ``variations`` images per map, and write them to ``out`` in ``format``.

    Generated patients are draws of the shipped shape model (:mod:`engine.anatomy`); with
    ``like`` (a prepared dataset or a folder of masks), of a shape model built from those
    masks. A dataset too small for a model raises its one-line DataError, or with
    ``like_fallback`` draws from the shipped model and says so through ``notify`` (and in the
    manifest's ``anatomy``). The manifest records every generated patient's ejection
    fractions and heart (``hearts``); in the png format, each label PNG of a heart of the
    shipped model also carries its anatomy record (:data:`engine.anatomy.heart.ANATOMY_KEY`),
    so the mask opened alone keeps its heart, and so does each mask of a ``masks`` folder
    whose PNG carried a valid record (masks are written at their own size, unchanged). The HDF5, NIfTI and nnU-Net layouts keep no fan
    beside a mask either, so they hold no record. Generated masks are ``size`` pixels square,
    by default the model's own size (:func:`~engine.export.sources.generated_mask_side`); an
    image is drawn at the model's size and resampled to its mask's.

    Patients are split 80/10/10 (seeded); all variations of a patient stay in one split. The
    output is staged beside ``out`` and renamed at the end; a non-empty ``out`` is refused
    unless ``overwrite``. Returns the manifest (also written as ``out/manifest.json``), which
    records for every pair the model checksum, the seed (:func:`pair_seed`: its patient's place
    and its own, never what other patients hold) and the source mask. ``out`` named as
    a file (``out.h5``, ``out.nii.gz``) is refused: every layout is a folder. An nnU-Net
    export in a folder nnU-Net would not find by its name is written all the same (it is
    renamed when moved into ``nnUNet_raw``); the front ends say so before they start
    (:func:`engine.export.writers.nnunet_name_problem`).

    ``border_jitter`` > 0 draws each image from its mask with the borders moved smoothly by
    about that many pixels (:mod:`engine.data.border_jitter`, seeded by the pair's seed); the
    pair keeps the unmoved mask. This function's default draws the masks as they are; the
    command line and the studio's export dialog pass ``DEFAULT_JITTER`` unless told otherwise.
    """
    out = Path(out).expanduser()
    if format not in WRITERS:
        raise DataError(f"unknown export format {format!r} (use {', '.join(WRITERS)})")
    check_export_folder(out, format)
    if (masks is None) == (random is None):
        raise DataError("give either a masks folder or a number of random patients")
    if like is not None and random is None:
        raise DataError("--like makes new patients: give their number with --random N")
    if like_fallback and like is None:
        raise DataError("--like-fallback goes with --like DATASET")
    if random is not None and not 1 <= int(random) <= MAX_RANDOM:
        raise DataError(f"--random must be between 1 and {MAX_RANDOM}")
    if not 1 <= int(variations) <= 1000:
        raise DataError("--variations must be between 1 and 1000")
    check_not_a_source(out, read_paths(model, masks, like))  # before the sources' own checks
    if masks is not None:
        check_masks_folder(Path(masks).expanduser())
    if like is not None:
        check_like_folder(Path(like).expanduser(), like_fallback)
    # the manifest names where its masks came from, wherever it is read from later
    masks, like = (None if path is None else Path(path).expanduser().resolve() for path in (masks, like))
    check_output(out, overwrite, protect=read_paths(model, masks, like), replaces="export")
    if jitter_problem(border_jitter):
        raise DataError(Message(option("border_jitter"), f" {jitter_problem(border_jitter)}"))
    if style_scale is not None and style_scale_problem(style_scale):
        raise DataError(Message(option("style_scale"), f" {style_scale_problem(style_scale)}"))
    synth = model if isinstance(model, Synthesizer) else Synthesizer(model, device=device, style_scale=style_scale)
    if style_scale is not None and not synth.takes_style_scale and notify is not None:
        notify(Message(f"model {synth.model.name} has no style channels: ", option("style_scale"), " changes nothing"))
    if masks is not None:
        patients: list[PatientMasks] | Iterator[PatientMasks] = folder_masks(Path(masks), notify, progress, should_stop)
        names = [p.patient for p in patients]
        for item in (item for p in patients for item in p.items):
            problem = synth.model.check_input_size(*item.labels.shape)
            if problem:
                raise DataError(f"{item.source}: {problem}")
    else:
        size = generated_mask_side(synth.native_size, size)
        problem = synth.model.check_input_size(size, size)
        if problem:
            raise DataError(Message(option("size"), f" {size}: {problem}"))
        names = [patient_name(i + 1, int(random)) for i in range(int(random))]
        anatomy, about = ShapeModel.default(), "the shipped shape model"
        if like is not None:
            anatomy, about, notice = model_like(Path(like), like_fallback)
            if notice is not None and notify is not None:
                notify(notice)
        patients = random_patients(int(random), size, seed, anatomy)
    split_of = {name: split for split, members in split_patients(names, seed).items() for name in members}

    with staged_dataset(out, overwrite) as staging:
        if format != "png":
            for split in SPLITS:
                shutil.rmtree(staging / split)
        writer = WRITERS[format](staging)
        try:
            if isinstance(patients, list):
                check_unique_names(patients, int(variations))
                check_seed_room(patients, int(variations))
                writer.check(patients)
            manifest = _write_all(synth, writer, patients, split_of, int(variations), seed,
                                  len(names), progress, should_stop, float(border_jitter))
        except BaseException:
            writer.close({}, failed=True)
            raise
        writer.close(manifest["splits"], failed=False)
        manifest["output"] = {"format": format, "path": str(out.resolve())}
        if isinstance(writer, NiftiWriter):
            manifest["output"]["pixel_spacing"] = spacing_record(writer.spacings)
        manifest["source"]["model"] = model_identity(synth)
        manifest["options"] = {"format": format, "variations": int(variations), "seed": seed,
                               "masks": str(masks) if masks is not None else None,
                               "random": random, "size": size if random is not None else None,
                               "like": str(like) if like is not None else None,
                               "style_scale": synth.style_scale if synth.takes_style_scale else None,
                               "border_jitter": float(border_jitter)}
        if random is not None:
            manifest["anatomy"] = {"shape_model": anatomy.fingerprint, "source": about}
        write_manifest(staging, manifest)
    return manifest


def check_unique_names(patients: list[PatientMasks], variations: int) -> None:
    """Refuse, before any image is drawn, masks whose pairs would share a name: two files of one
    stem (``x_2CH_ED.png`` beside ``x_2CH_ED_gt.nii.gz``), or a mask named as another's
    variation (``P_v2`` beside ``P`` with ``--variations 2``). One would overwrite the other,
    or the same name land in two splits."""
    stems: dict[str, str] = {}  # pair name -> the mask (and variation) it is drawn from
    owners: dict[str, str] = {}  # patient folder -> the patient (and variation) written there
    for patient in patients:
        for variation in range(variations):
            again = "" if variation == 0 else f" (variation {variation + 1})"
            for item in patient.items:
                stem, new_patient = variant_name(item.name, patient.patient, variation)
                maker = f"{item.source}{again}"
                if stems.setdefault(stem, maker) != maker:
                    raise DataError(f"two pairs would be named {stem}: from {stems[stem]} and from {maker}; "
                                    "keep one of the masks or rename it")
                if owners.setdefault(new_patient, patient.patient + again) != patient.patient + again:
                    raise DataError(f"patient {new_patient} would be written twice: for {owners[new_patient]} "
                                    f"and for {patient.patient}{again}; rename one of them")


SEEDS_PER_VARIATION = 16  # the seeds a variation of a patient takes in its block: its first 16 masks'
SEED_LAYER = 1_000_000_000  # how far the seeds of each further 16 masks of a patient lie from the 16 before
LAYERS_APART = 4  # the layers moved up SEED_LAYER each: a patient's first 80 masks keep the seeds they always had
SEED_ROOM = 2 ** 32  # a run's pair seeds lie less than this above its first (seed x 1,000,003)


def seed_stride(variations: int) -> int:
    """How far apart two patients' blocks of seeds start: 1000 as always when their variations
    (16 seeds each) fit in it, else wide enough that no two patients' blocks meet."""
    return max(1000, variations * SEEDS_PER_VARIATION)


def pair_seed(seed: int, place: int, variation: int, mask: int, variations: int, patients: int) -> int:
    """The seed of mask ``mask`` (from 0) of variation ``variation`` (from 0) of the patient at
    ``place`` (from 0, in name order) in a run of ``seed``, ``variations`` and ``patients``:
    ``seed`` x 1,000,003 + ``place`` x :func:`seed_stride` + ``variation`` x 16 + ``mask`` for a
    patient's first 16 masks, as exports always drew them; each further 16 (a loop's frames)
    take the seeds of the 16 before moved up by :data:`SEED_LAYER` up to the 80th mask, and past
    it by ``patients`` x :func:`seed_stride` (what one layer of the run's patients takes), so the
    seeds of a run lie less than :data:`SEED_ROOM` (2**32) above its first. Their low 32 bits,
    which shading, ring-down and border softening draw from, differ as the seeds do, and a run
    of seed 0 has seeds of 32 bits. A pair's seed depends on nothing that other patients hold
    (past a patient's 80th mask, on how many they are), so adding a loop of many frames to a
    folder changes no other patient's images; no two pairs of a run share one
    (:func:`check_seed_room`)."""
    layer, within = divmod(mask, SEEDS_PER_VARIATION)
    stride = seed_stride(variations)
    block = place * stride + variation * SEEDS_PER_VARIATION + within
    if layer <= LAYERS_APART:
        return seed * 1_000_003 + layer * SEED_LAYER + block
    return seed * 1_000_003 + LAYERS_APART * SEED_LAYER + (layer - LAYERS_APART) * patients * stride + block


def check_seed_room(patients: list[PatientMasks], variations: int) -> None:
    """Refuse, before any image is drawn, a run whose pairs could share a seed, or their low 32
    bits: the patients' blocks of seeds (:func:`pair_seed`) reaching :data:`SEED_LAYER`, where
    the seeds of a patient's masks past its 16th lie (a million patients at up to 62
    variations), or the seeds of the longest patient's last masks reaching :data:`SEED_ROOM`
    (at one variation, 200 masks for each of 32,774 patients)."""
    stride = seed_stride(variations)
    room = SEED_LAYER // stride
    longest = max((len(patient.items) for patient in patients), default=0)
    if len(patients) > room and longest > SEEDS_PER_VARIATION:
        raise DataError(f"{len(patients)} patients with {variations} variation(s) each are too many for every pair "
                        f"to get a seed of its own beside a patient of more than {SEEDS_PER_VARIATION} masks: "
                        f"give at most {room}, or export the loops' patients apart")
    layers = -(-longest // SEEDS_PER_VARIATION)
    end = (len(patients) * stride if layers <= 1 else
           pair_seed(0, len(patients) - 1, 0, (layers - 1) * SEEDS_PER_VARIATION, variations, len(patients)) + stride)
    if end > SEED_ROOM:
        if layers <= 1:
            give = f"give at most {SEED_ROOM // stride} patients"
        else:
            extra = max(SEED_ROOM - LAYERS_APART * SEED_LAYER, 0) // (len(patients) * stride)
            give = f"give at most {(LAYERS_APART + extra) * SEEDS_PER_VARIATION} masks a patient"
        raise DataError(f"{len(patients)} patients with {variations} variation(s) each are too many for every pair "
                        f"to get a seed of its own beside a patient of {longest} masks: {give}, "
                        "or export the loops' patients apart")


def read_paths(model, masks, like) -> tuple[Path, ...]:
    """What an export reads (its masks, the dataset it deforms, the model file), which
    replacing ``out`` must never delete."""
    model_path = getattr(getattr(model, "model", model), "path", None) or (
        Path(model) if isinstance(model, (str, Path)) and Path(model).exists() else None)
    return tuple(Path(p) for p in (masks, like, model_path) if p is not None)


def _write_all(synth, writer, patients, split_of, variations, seed, total, progress, should_stop,
               border_jitter: float = 0.0) -> dict:
    splits = {split: [] for split in SPLITS}
    counts = {split: 0 for split in SPLITS}
    values: set[int] = set()
    pairs = []
    hearts = {}
    progress(Progress("export", 0, total))
    for index, patient in enumerate(patients):
        split = split_of[patient.patient]
        masks = [item.labels for item in patient.items]
        fans = [item.fan or default_fan(item.view) for item in patient.items]
        for variation in range(variations):
            if should_stop():
                raise Cancelled()
            seeds = [pair_seed(seed, index, variation, i, variations, total) for i in range(len(masks))]
            groups = _group_by_shape(masks)
            images: list[np.ndarray | None] = [None] * len(masks)
            given = [jitter_scaled_borders(mask, border_jitter, seeds[i]) if border_jitter > 0 else mask
                     for i, mask in enumerate(masks)]
            for indices in groups:
                outputs = synth.synthesize(np.stack([given[i] for i in indices]), seed=seeds[indices[0]],
                                           fan=[fans[i] for i in indices])
                for i, output in zip(indices, outputs):
                    images[i] = to_uint8(output)
            written = []
            new_patient = patient.patient
            for i, item in enumerate(patient.items):
                stem, new_patient = variant_name(item.name, patient.patient, variation)
                written.append((stem, images[i], item.labels, item.view, item.instant, fans[i], item.anatomy,
                                item.geometry))
                pairs.append({"stem": stem, "split": split, "seed": seeds[i], "variation": variation + 1,
                              "source_mask": item.source, "fan": fans[i].to_dict()})
                values.update(np.flatnonzero(np.bincount(item.labels.ravel(), minlength=4)).tolist())
            writer.write(split, new_patient, written, source=patient.patient)
            splits[split].append(new_patient)
            if patient.heart is not None:
                hearts[new_patient] = patient.heart
            counts[split] += len(written)
        progress(Progress("export", index + 1, total, patient.patient))
    manifest = build_manifest(source={"path": None, "format": "export", "format_name": "synthetic export"},
                              options={}, splits=splits, counts=counts, label_values=sorted(values))
    manifest["pairs"] = pairs
    if hearts:
        manifest["hearts"] = hearts
    return manifest


MAX_BATCH = 16  # masks synthesized at once


def _group_by_shape(masks: list[np.ndarray]) -> list[list[int]]:
    """Indices of masks grouped by shape, so each group is one synthesis batch.

    Batch item j uses the seed of the group's first mask + j; a group is a run of consecutive
    masks within one block of 16 (:func:`pair_seed`), so that is mask i's own seed, as the
    manifest records. A run is at most :data:`MAX_BATCH` masks long (a loop's frames are many),
    which changes no seed.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for i, mask in enumerate(masks):
        groups.setdefault(mask.shape, []).append(i)
    out = []
    for indices in groups.values():  # split into runs of consecutive indices
        run = [indices[0]]
        for i in indices[1:]:
            if i == run[-1] + 1 and i % SEEDS_PER_VARIATION and len(run) < MAX_BATCH:
                run.append(i)
            else:
                out.append(run)
                run = [i]
        out.append(run)
    return out
