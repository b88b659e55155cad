"""``export --cine``: a dataset of cine loops with per-frame masks, written whole or not at all.

Each patient is a shape-model heart (``--random N``) or a pair of key frames from a masks
folder (``<patient>_<view>_ED`` and ``_ES``); each of its views becomes one loop
(:mod:`engine.cine`). Layouts:

- ``nifti``: CAMUS's own: ``database_nifti/<patient>/<patient>_<view>_half_sequence.nii.gz``
  (ED to ES, CAMUS 2023's name) with ``..._gt.nii.gz`` beside it, and split lists. A full
  cycle, which CAMUS does not have, is ``<patient>_<view>_full_sequence.nii.gz``
  (:data:`FULL_SEQUENCE_NAME`): named beside CAMUS's, so a loader looking for
  ``half_sequence`` never takes it for one, and ``prepare --sequences`` leaves it out. As in the
  CAMUS 2023 release, each view also has its key frames as 2-D ``<patient>_<view>_ED.nii.gz``
  and ``_ES.nii.gz`` (with ``_gt``): the sequence's frames at ED and ES, and an
  ``Info_<view>.cfg`` whose ``ED``, ``ES`` (1-based frame numbers in the sequence),
  ``NbFrame`` and ``FrameRate`` a loader reads to find them (:func:`key_frames`), so the
  export also prepares (``cardigan prepare``) as a CAMUS 2023 folder would. Once all of a
  patient's loops are written, both views' cfg gain ``LVef`` as a NIfTI pair export's do
  (:func:`engine.export.writers.patient_info`: Simpson's biplane rule on the ED and ES key
  frames' masks of 2CH and 4CH, one EF per patient); a patient exported in one view only, or
  whose cavity cannot be traced, has none;
- ``hdf5``: ``synthetic.hdf5`` with ``<split>/<patient>/<view>/images`` and ``masks``
  (T, H, W) uint8 and the phases, frame rate and ejection fraction as attributes;
- ``png``: the prepared layout, one pair per frame (``<patient>_<view>_f<k>``), so the
  frames also train a segmenter; the label PNGs carry the fan.

The manifest lists every sequence (patient, view, split, frames, fps, bpm, EF by area of
its masks) and, for generated patients, each heart's EF (per view and biplane).

Progress is one stage, :data:`STAGE`, counted in steps of equal work: each frame a loop's
synthesis has drawn (per batch of frames, :func:`engine.cine.synthesize_loop`) and each loop
written, so every loop is ``frames + 1`` steps of ``loops * (frames + 1)`` and the bar moves
(and its rate and time left mean something) within one long loop, not only between loops.
The message says which loop and how far into it (:func:`loop_message`). ``should_stop`` is
heard between batches of frames, between a loop's frames or files as they are written, and
once more before the finished dataset is put in place; it raises
:class:`~engine.progress.Cancelled`, and, as any other error or an interrupt, throws the
staging folder away: nothing is written and a dataset that was at ``out`` is as it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cine import Timing, synthesize_loop
from ..cine.loop import CineLoop, loop_from_key_frames
from ..cine.random_loops import SEED_STRIDE, random_loops
from ..data.export_layouts import CINE_LAYOUT_LINES
from ..data.layout import SPLITS, image_path, label_path, patient_name, split_patients
from ..data.manifest import build_manifest, write_manifest
from ..data.staging import HDF5_FILE, NIFTI_FOLDER, check_output, staged_dataset
from ..errors import DataError
from ..fan import FAN_KEY
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from ..synthesizer import Synthesizer
from .sources import check_masks_folder, folder_masks, generated_mask_side
from .writers import check_export_folder

CINE_FORMATS = tuple(CINE_LAYOUT_LINES)  # nifti, hdf5, png
FULL_SEQUENCE_NAME = "full_sequence"  # a full cycle's loop in the NIfTI layout, beside CAMUS's half_sequence
LOOP_VIEWS = ("2CH", "4CH")  # a masks folder's views, in the order its loops are numbered
STAGE = "cine export"  # the progress stage of a cine export (see the module)


def loop_message(index: int, loops: int, name: str, where: str) -> str:
    """The progress message of loop ``index`` (1-based) of ``loops`` (``name``: its patient and
    view) at ``where`` ("frame 12 of 40", "writing")."""
    return f"loop {index} of {loops} ({name}): {where}"


class _LoopSteps:
    """One loop's place on the export's bar: loop ``index`` of ``loops``, ``steps`` each (its
    frames drawn, then its writing; see the module)."""

    def __init__(self, progress: ProgressCallback, index: int, loops: int, steps: int, name: str) -> None:
        self._progress, self.index, self.loops, self.steps, self.name = progress, index, loops, steps, name

    def drawn(self, event: Progress) -> None:
        """:func:`synthesize_loop`'s progress: ``event.done`` of its ``event.total`` frames drawn."""
        self._say(event.done, f"frame {event.done} of {event.total}")

    def writing(self) -> None:
        self._say(self.steps - 1, "writing")

    def written(self) -> None:
        if self.index < self.loops:  # the export's last step is said once the dataset is in place
            self._say(self.steps, "written")

    def _say(self, done: int, where: str) -> None:
        self._progress(Progress(STAGE, (self.index - 1) * self.steps + done, self.loops * self.steps,
                                loop_message(self.index, self.loops, self.name, where)))


def _generated(count: int, views, size: int, seed: int, timing: Timing):
    """(patient, view, loop maker, heart record, look) for ``count`` shape-model patients
    (:mod:`engine.cine.random_loops`: the patients ``cine --random`` draws from the same seed)."""
    from ..anatomy.patients import heart_record

    model, loops = random_loops(count, views, seed)
    fans: dict[int, dict] = {}  # each patient's {view: fan}
    for item in loops:
        fans.setdefault(item.index, {})[item.view] = item.fan
    records = {}
    for item in loops:
        if item.index not in records:  # the EFs of the hearts the patient's masks show, in its fans
            records[item.index] = heart_record(model, item.heart, views, size, fans[item.index])
        yield (patient_name(item.index + 1, count), item.view,
               (lambda i=item: i.make(model, size, timing)), records[item.index], item.look)


def _from_masks(folder: Path, timing: Timing, progress: ProgressCallback = no_progress,
                should_stop: StopCheck = never_stop):
    """(patient, view, loop maker, None, None) for every patient view with both key frames."""
    found = 0
    for patient in folder_masks(folder, progress=progress, should_stop=should_stop):
        by_view: dict[str, dict] = {}
        for item in patient.items:
            if item.view and item.instant:
                by_view.setdefault(item.view, {})[item.instant] = item
        for view, frames in sorted(by_view.items()):
            if set(frames) != {"ED", "ES"}:
                continue
            found += 1
            ed, es = frames["ED"], frames["ES"]
            yield patient.patient, view, (lambda e=ed, s=es, v=view: loop_from_key_frames(
                e.labels, s.labels, timing, v, e.fan)), None, None
    if not found:
        raise DataError(f"{folder}: no patient view with both key frames (masks named "
                        "<patient>_<2CH|4CH>_ED and _ES)")


def export_cine(model, out: Path | str, *, masks: Path | str | None = None, random: int | None = None,
                views=("2CH", "4CH"), format: str = "nifti", size: int | None = None, seed: int = 0,
                timing: Timing = Timing(cycle="half"), device: str = "auto", overwrite: bool = False,
                progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop,
                style_scale: float | None = None) -> dict:
    """Write a dataset of loops (see the module docstring); returns its manifest."""
    out = Path(out).expanduser()
    if format not in CINE_FORMATS:
        raise DataError(f"cine export writes {', '.join(CINE_FORMATS)}, not {format!r}")
    check_export_folder(out, format)
    if (masks is None) == (random is None):
        raise DataError("give either a masks folder (ED and ES per patient view) or --random N")
    timing = timing.checked()
    if masks is not None:
        check_masks_folder(Path(masks).expanduser())
    masks = None if masks is None else Path(masks).expanduser().resolve()  # as the manifest names it
    check_output(out, overwrite, protect=(masks,) if masks is not None else (), replaces="export")
    synth = model if isinstance(model, Synthesizer) else Synthesizer(model, device=device, style_scale=style_scale)
    size = generated_mask_side(synth.native_size, size)
    items = list(_generated(int(random), tuple(views), size, seed, timing) if random is not None
                 else _from_masks(masks, timing, progress, should_stop))
    patients = sorted({item[0] for item in items})
    split_of = {name: split for split, members in split_patients(patients, seed).items() for name in members}
    sequences, hearts, frames_per_split = [], {}, {split: 0 for split in SPLITS}
    with staged_dataset(out, overwrite) as staging:
        if format != "png":
            import shutil

            for split in SPLITS:
                shutil.rmtree(staging / split, ignore_errors=True)
        key_masks: dict[str, dict] = {}  # nifti: each patient's {(view, ED|ES): key frame's mask}
        writer = _writer(format, staging, should_stop, key_masks)
        steps = timing.frame_count() + 1  # a loop's frames drawn (one timing for all), then it written
        progress(Progress(STAGE, 0, len(items) * steps))
        for done, (patient, view, make, record, look) in enumerate(items, 1):
            if should_stop():
                raise Cancelled()
            loop = make()
            if look is None:  # a masks folder's loop: numbered as generated ones are
                look = mask_loop_look(seed, patients.index(patient), view)
            at = _LoopSteps(progress, done, len(items), steps, f"{patient} {view}")
            images = synthesize_loop(synth, loop, seed=look, progress=at.drawn, should_stop=should_stop)
            at.writing()
            split = split_of[patient]
            written = writer(split, patient, view, images, loop)
            sequences.append({"patient": patient, "view": view, "split": split, "frames": loop.frames,
                              "fps": timing.playback_fps, "bpm": timing.bpm, "cycle": timing.cycle,
                              "ejection_fraction_area": round(loop.ejection_fraction(), 2),
                              "invalid_frames": len(loop.invalid_frames()), "files": written})
            frames_per_split[split] += loop.frames
            if record is not None:
                hearts[patient] = record
            at.written()
        splits = {split: sorted({s["patient"] for s in sequences if s["split"] == split}) for split in SPLITS}
        manifest = build_manifest(source={"path": str(masks) if masks is not None else None, "format": "export",
                                          "format_name": "synthetic cine export",
                                          "model": {"name": synth.model.name, "kind": synth.model.kind}},
                                  options={"format": format, "cine": True, "fps": timing.fps, "bpm": timing.bpm,
                                           "cycle": timing.cycle, "seed": seed, "random": random,
                                           "masks": str(masks) if masks is not None else None,
                                           "size": size if random is not None else None},
                                  splits=splits, counts=frames_per_split, label_values=[0, 1, 2, 3])
        manifest["sequences"] = sequences
        if format == "png":
            manifest["pairs"] = [{"stem": Path(f).stem, "split": s["split"]} for s in sequences
                                 for f in s["files"] if "/img/" in f]
        if hearts:
            manifest["hearts"] = hearts
        if format == "nifti":
            from ..data.camus import write_2023_split_lists

            write_2023_split_lists(staging, splits)
            add_lv_ef(staging, key_masks)
        write_manifest(staging, manifest)
        if should_stop():  # the last chance: once in place, the dataset is written in full
            raise Cancelled()
    progress(Progress(STAGE, len(items) * steps, len(items) * steps, f"wrote {out}"))
    return manifest


def mask_loop_look(seed: int, place: int, view: str) -> int:
    """The look (noise seed) of a masks folder's loop: its patient's ``place`` (from 0, in
    name order, among patients with a loop) and its view's, two a patient, numbered from 1
    as generated loops are. A view added to or taken from one patient (its ES mask found,
    say) changes no other patient's loops; where every patient has both views, it is the
    loop's own number."""
    return seed * SEED_STRIDE + place * len(LOOP_VIEWS) + LOOP_VIEWS.index(view) + 1


def key_frames(loop: CineLoop) -> tuple[int, int]:
    """The 0-based (ED, ES) frames of ``loop``: its first frame, and the first at the phase
    nearest ES (a half cycle's last; of a whole cycle, the frame nearest its ES)."""
    return 0, int(np.argmax(loop.phases))


def add_lv_ef(staging: Path, key_masks: dict[str, dict]) -> None:
    """Add ``LVef`` to each view's ``Info_<view>.cfg`` of the patients of ``key_masks``
    ({patient: {(view, ED|ES): mask}}) whose four key masks give one
    (:func:`engine.export.writers.patient_info`)."""
    from ..data.camus import read_cfg, write_cfg
    from .writers import patient_info

    for patient, masks in key_masks.items():
        extra = patient_info({key: (None, labels) for key, labels in masks.items()})
        for view, lines in extra.items():
            path = staging / NIFTI_FOLDER / patient / f"Info_{view}.cfg"
            write_cfg(path, {**read_cfg(path), **lines})


def _writer(format: str, staging: Path, should_stop: StopCheck = never_stop, key_masks: dict | None = None):
    """A function (split, patient, view, images, loop) -> the paths written (relative),
    raising :class:`Cancelled` when ``should_stop`` says so between frames or files (what it
    wrote is in the staging folder, thrown away with it). ``nifti`` puts each loop's ED and
    ES masks in ``key_masks`` ({patient: {(view, ED|ES): mask}}) for :func:`add_lv_ef`."""
    if format == "nifti":
        from ..cine.writers import write_loop
        from ..data.camus import SEQUENCE_NAME, write_2023_patient

        def nifti(split, patient, view, images, loop: CineLoop):
            folder = staging / NIFTI_FOLDER / patient
            folder.mkdir(parents=True, exist_ok=True)
            kind = SEQUENCE_NAME if loop.timing.cycle == "half" else FULL_SEQUENCE_NAME
            written = write_loop(folder / f"{patient}_{view}_{kind}.nii.gz", images, loop.masks,
                                 loop.timing.playback_fps, should_stop=should_stop)
            ed, es = key_frames(loop)
            if key_masks is not None:
                key_masks.setdefault(patient, {}).update({(view, "ED"): loop.masks[ed], (view, "ES"): loop.masks[es]})
            info = {"ED": ed + 1, "ES": es + 1, "NbFrame": loop.frames,
                    "FrameRate": round(loop.timing.playback_fps, 2)}
            write_2023_patient(staging, patient, {(view, "ED"): (images[ed], loop.masks[ed]),
                                                  (view, "ES"): (images[es], loop.masks[es])}, info={view: info})
            key_files = [folder / f"{patient}_{view}_{key}{gt}.nii.gz" for key in ("ED", "ES") for gt in ("", "_gt")]
            return [str(p.relative_to(staging)) for p in [*written, *key_files, folder / f"Info_{view}.cfg"]]
        return nifti
    if format == "hdf5":
        import h5py

        from ..fileio import require_space

        def hdf5(split, patient, view, images, loop: CineLoop):
            if should_stop():  # the loop goes in as one dataset per array: a stop is heard before it
                raise Cancelled()
            # HDF5 must never meet a full disk: it crashes the process closing the file
            require_space(staging / HDF5_FILE, images.nbytes + loop.masks.nbytes)
            with h5py.File(staging / HDF5_FILE, "a") as f:
                group = f.require_group(f"{split}/{patient}/{view}")
                group.create_dataset("images", data=images, compression="gzip")
                group.create_dataset("masks", data=loop.masks, compression="gzip")
                group.attrs["phases"] = loop.phases
                group.attrs["fps"] = loop.timing.playback_fps
                group.attrs["ejection_fraction_area"] = loop.ejection_fraction()
            return [f"{HDF5_FILE}:{split}/{patient}/{view}"]
        return hdf5

    from ..data.imaging import save_png

    def png(split, patient, view, images, loop: CineLoop):
        written = []
        for k, (image, mask) in enumerate(zip(images, loop.masks)):
            if should_stop():
                raise Cancelled()
            stem = f"{patient}_{view}_f{k:03d}"
            save_png(image_path(staging, split, stem), image)
            text = {FAN_KEY: loop.fan.to_json()} if loop.fan is not None else None
            save_png(label_path(staging, split, stem), mask, text=text)
            written += [f"{split}/img/{stem}.png", f"{split}/label/{stem}.png"]
        return written
    return png
