"""Mask sources for batch export, yielding one patient's masks at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..anatomy import PHASES, VIEWS, ShapeModel, phase_fraction
from ..anatomy.heart import anatomy_in_text, anatomy_record
from ..anatomy.model_building import check_fans, patient_fans
from ..anatomy.patients import heart_record
from ..data.layout import IMAGE_DIR, LABEL_DIR, parse_stem, patient_name, stem_patient
from ..data.phantom import derive_seed
from ..errors import Advice, DataError, MaskError, Message, option
from ..units import counted
from ..fan import Fan, default_fan, fan_from_text, random_fan, view_of_name
from ..maskio import (MASK_FILE_PATTERNS, MASK_FILE_SUFFIXES, Geometry, fitting_geometry, is_camus_file,
                      is_volume_file, mask_name_stem, read_label_map_and_text, read_label_slice_and_header)
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress

READING = "reading masks"  # the progress stage of reading a masks folder

# what to do when a dataset is too small for a shape model (``like_fallback``), as the command line says it
LIKE_FALLBACK = Advice("like fallback", "--like-fallback draws from the shipped shape model instead")

# the side of generated masks for a model that draws at any size (the simulator): CAMUS's
MASK_SIDE_ANY_MODEL = 256


def generated_mask_side(native: tuple[int, int] | None, size: int | None = None) -> int:
    """The side of generated (square) masks: ``size`` when one is given, else the width the
    model draws at (``native``, as :attr:`Synthesizer.native_size` gives it), so its images
    are drawn without resampling; 256 for a model of any size."""
    if size is not None:
        return size
    return MASK_SIDE_ANY_MODEL if native is None else native[1]


def mask_side_in_words(side: int, native: tuple[int, int] | None, given: bool) -> Message:
    """What size generated masks are and whether their images are resampled, for a plan line:
    "masks 64 px (the model's own size)", "masks 256 px (--size); the model draws at 64 px, so
    each image is drawn there and resampled to 256" (the option in a front end's words too)."""
    said: tuple = (" (", option("size"), ")") if given else (" (the model's own size)",) if native is not None else ()
    parts = [f"masks {side} px", *said]
    if native is not None and tuple(native) != (side, side):
        drawn = f"{native[1]} px" if native[0] == native[1] else f"{native[0]}x{native[1]} px"
        parts.append(f"; the model draws at {drawn}, so each image is drawn there and resampled to {side}")
    return Message(*parts)


@dataclass
class MaskItem:
    """One label map: its output name, (view, instant) when known, and where it came from."""

    name: str
    labels: np.ndarray
    source: str
    view: str | None = None
    instant: str | None = None
    fan: Fan | None = None  # the probe's sector (engine.fan); None: the view's median
    # the anatomy record (engine.anatomy.heart.anatomy_record) of the heart the mask is, drawn
    # at its size inside ``fan``: a generated mask's, or the valid one a mask PNG carried;
    # None for a mask without one
    anatomy: dict | None = None
    # where a mask read from a volume lies in space (its slice's spacing, origin and
    # direction), for layouts that record it; None for a PNG or a generated mask
    geometry: Geometry | None = None


@dataclass
class PatientMasks:
    patient: str
    items: list[MaskItem] = field(default_factory=list)
    heart: dict | None = None  # a generated patient: its record (engine.anatomy.patients.heart_record)


def random_plan(count: int, seed: int, views: int = len(VIEWS), phases: int = len(PHASES),
                variations: int = 1, cine: bool = False) -> tuple[str, list[str]]:
    """What ``count`` generated patients make, in words ("3 patients x 2 views x 2 instants =
    12 pairs; patients per split: train 1, valid 1, test 1", with "x 2 variations" when each
    mask is drawn more than once; with ``cine``, a loop per view: "3 patients x 2 views = 6
    loops; ..."), and the splits left empty. Each split's name and count are joined by a
    no-break space (U+00A0), so a note that wraps never parts "valid" from its "10"."""
    from ..data.layout import split_patients

    splits = split_patients([patient_name(i + 1, count) for i in range(count)], seed)
    again = f"\u00d7 {counted(variations, 'variation')} " if variations > 1 else ""
    made = (f"= {counted(count * views, 'loop')}" if cine else
            f"\u00d7 {counted(phases, 'instant')} {again}= {counted(count * views * phases * variations, 'pair')}")
    text = (f"{counted(count, 'patient')} \u00d7 {counted(views, 'view')} {made}; patients per split: "
            + ", ".join(f"{split}\u00a0{len(members)}" for split, members in splits.items()))
    return text, [split for split, members in splits.items() if not members]


def random_patients(count: int, size: int, seed: int, model: ShapeModel | None = None) -> Iterator[PatientMasks]:
    """``count`` generated patients, each with 2CH and 4CH masks at ED and ES: draws of the
    shape ``model`` (default: the shipped one), each view drawn inside its own random fan,
    with the patient's record (the ejection fractions of the hearts its masks show, the heart)
    in ``PatientMasks.heart``. A mask of the shipped model has its anatomy record
    (``MaskItem.anatomy``): redrawn from it at ``size`` in its fan, it is the mask. A model
    built from a dataset is saved nowhere a reader of the record could redraw it from, so its
    masks have none."""
    model = ShapeModel.default() if model is None else model
    recorded = model.fingerprint == ShapeModel.default().fingerprint
    for index in range(count):
        name = patient_name(index + 1, count)
        patient_seed = derive_seed(seed, "export", index)
        heart = model.draw(patient_seed)
        rng = np.random.default_rng([int(seed) & (2**63 - 1), 0xFA4, index])
        fans = {view: random_fan(rng, view) for view in VIEWS}  # one acquisition per view
        items = [MaskItem(f"{name}_{view}_{phase}", model.mask(heart, view, phase, size, fan=fans[view]),
                          f"generated:patient_seed={patient_seed}", view, phase, fans[view],
                          anatomy_record(heart, view, phase_fraction(phase)) if recorded else None)
                 for view in VIEWS for phase in PHASES]
        yield PatientMasks(name, items, heart_record(model, heart, size=size, fans=fans))


def model_like(like: Path, fallback: bool = False) -> tuple[ShapeModel, str, Message | None]:
    """(shape model, what it is in words, a notice or None) for ``export --like``: a model
    built from the masks of ``like`` (a prepared dataset's train split, or a folder of masks
    grouped by patient stem), each mask taken in the fan its PNG records. A dataset too small
    to build one raises the model's one-line DataError, unless ``fallback``: then the shipped
    model, and the notice tells the user so. What the model is (the manifest's record) names
    no option of any front end; the notice names the command line's, as advice."""
    named_too_few = too_few_named(Path(like))
    if named_too_few is not None and fallback:  # the names alone tell: no mask is read for nothing
        return fallback_model(like, named_too_few)
    sources = source_patients(like)
    fans = {p.patient: {(item.view, item.instant): item.fan for item in p.items if item.view and item.instant}
            for p in sources}  # each mask's own fan: the model sees the hearts in the median fans
    patients = distinct_hearts({p.patient: {(item.view, item.instant): item.labels for item in p.items
                                            if item.view and item.instant} for p in sources}, fans)
    try:
        model = ShapeModel.build(patients, source=str(like), fans=fans)
    except DataError as exc:
        if not fallback:
            raise DataError(Message(option("like"), f" {like}: ", exc.message, " (", LIKE_FALLBACK, ")")) from None
        return fallback_model(like, exc.message)
    return model, f"a shape model built from {model.stats['patients']} patients of {like}", None


def fallback_model(like: Path, reason: Message | str) -> tuple[ShapeModel, str, Message]:
    """:func:`model_like`'s answer when ``like`` is too small to build a model (``reason``)
    and the shipped model stands in."""
    return (ShapeModel.default(), f"the shipped shape model, as {like} is too small to build one: {reason}",
            Message(option("like"), f" {like}: ", reason, "; drawing from the shipped shape model instead"))


def distinct_hearts(patients: dict[str, dict], fans: dict[str, dict] | None = None) -> dict[str, dict]:
    """``patients`` ({name: {(view, phase): labels}}) without those whose masks repeat an
    earlier patient's in the same fans (``fans``: {name: {(view, phase): Fan}}; a mask without
    one: its view's median fan; read as a model is built from them, anything but a dict:
    TypeError): an export's variations (``patient0001_v2``) are one heart
    drawn again, not another patient. The same masks in other fans show another heart (a
    heart follows its fan, :mod:`engine.anatomy.placement`), so that patient is kept."""
    check_fans(fans)
    seen, kept = set(), {}
    for name, frames in patients.items():
        drawn_in = patient_fans(fans, name)
        key = tuple((key, labels.shape, labels.tobytes(), fan_identity(drawn_in.get(key), key[0]))
                    for key, labels in sorted(frames.items()))
        if key not in seen:
            seen.add(key)
            kept[name] = frames
    return kept


def fan_identity(fan: Fan | None, view: str) -> Fan:
    """The fan a mask of ``view`` was drawn in, as its record holds it (None: the median fan)."""
    return (default_fan(view) if fan is None else fan).rounded()


def masks_like(like: Path, count: int, size: int, seed: int,
               fallback: bool = False) -> Iterator[PatientMasks]:
    """``count`` new patients drawn from a shape model of the masks in ``like``
    (:func:`model_like`), as :func:`random_patients` draws them."""
    yield from random_patients(count, size, seed, model_like(like, fallback)[0])


def source_patients(like: Path) -> list[PatientMasks]:
    """Patients of a prepared dataset (its train split) or of a folder of masks; a refusal
    names the option (``--like X: ...``)."""
    like = Path(like)
    check_like_folder(like)
    folder = like_masks_folder(like)
    try:
        patients = folder_masks(folder)
    except DataError as exc:
        raise DataError(Message(option("like"), " ", exc.message)) from None
    if not patients:
        raise DataError(Message(option("like"), f" {like}: no masks to make new ones from"))
    return patients


def check_like_folder(like: Path, fallback: bool = True) -> None:
    """Refuse, before a model is loaded for it or anything is said of the export, a ``like``
    dataset that is missing, is a file or holds no masks, naming the option; and, unless
    ``fallback`` (the shipped model stands in), one whose mask files name fewer patients
    with all four masks than a shape model needs (:func:`whole_patients_named`: the names
    alone, no mask is read)."""

    if not like.exists():
        raise DataError(Message(option("like"), f" {like}: no such dataset or folder of masks"))
    if not like.is_dir():
        one_mask = like.name.lower().endswith(MASK_FILE_SUFFIXES)
        raise DataError(Message(option("like"), f" {like}: is a {'mask ' if one_mask else ''}file, not a "
                                "dataset or a folder of masks" + ("; give the folder it is in" if one_mask else "")))
    folder = like_masks_folder(like)
    files = mask_files(folder)
    if not files:
        where = "" if folder == like else f" in {folder.relative_to(like)}"
        raise DataError(Message(option("like"), f" {like}: no label maps{where} to make new masks from "
                                f"({MASK_FILE_PATTERNS})" + masks_below(folder)))
    named_too_few = too_few_named(like, files)
    if named_too_few is not None and not fallback:
        raise DataError(Message(option("like"), f" {like}: {named_too_few} (", LIKE_FALLBACK, ")"))


def too_few_named(like: Path, files: list[Path] | None = None) -> str | None:
    """Why the mask files of ``like`` (``files``, when listed already) cannot make a shape
    model by their names alone: fewer patients with all four masks than it needs
    (:func:`whole_patients_named`); None when they may."""
    from ..anatomy.model_building import MIN_PATIENTS

    files = mask_files(like_masks_folder(like)) if files is None else files
    whole = whole_patients_named(files)
    if whole >= MIN_PATIENTS:
        return None
    return (f"a shape model needs at least {MIN_PATIENTS} patients with 2CH and 4CH masks at ED and ES, "
            f"its {len(files)} mask file(s) have {whole} by their names (<patient>_<2CH|4CH>_<ED|ES>)")


def like_masks_folder(like: Path) -> Path:
    """Where the masks of ``like`` are: a dataset with a manifest's train/label (refused when it
    has none), else ``like`` itself."""
    folder = like / "train" / LABEL_DIR if (like / "manifest.json").is_file() else like
    if folder != like and not folder.is_dir():
        raise DataError(Message(option("like"), f" {like}: a dataset without PNG label maps "
                                f"({dataset_format(like)}); give a prepared dataset, a PNG export or a "
                                "folder of mask files"))
    return folder


def mask_files(folder: Path) -> list[Path]:
    """The label map files in ``folder`` (by their names), in name order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.name.lower().endswith(MASK_FILE_SUFFIXES))


def whole_patients_named(files: list[Path]) -> int:
    """How many patients ``files`` name all four masks of (2CH and 4CH at ED and ES), by
    ``<patient>_<view>_<instant>`` names: at most the patients a shape model can use."""
    named: dict[str, set] = {}
    for path in files:
        parsed = parse_stem(mask_stem(path))
        if parsed:
            named.setdefault(parsed[0], set()).add(parsed[1:])
    return sum(len(keys) == len(VIEWS) * len(PHASES) for keys in named.values())


def dataset_format(root: Path) -> str:
    """How a dataset with a manifest stores its pairs, in words (``a nifti export``)."""
    from ..data.dataset_folder import DatasetFolder

    fmt = DatasetFolder(root).summary.output_format
    return f"a {fmt} export" if fmt else "no train/label"


def mask_stem(path: Path) -> str:
    name = mask_name_stem(path.name)
    return name[:-3] if name.endswith("_gt") else name


def refuse_camus_images(folder: Path, files: list[Path]) -> None:
    """A CAMUS patient folder holds each echo image beside its ``*_gt`` mask: say that the
    images are images (their grey levels would otherwise be reported as bad labels)."""
    names = {p.name.lower() for p in files}

    def mask_of(path: Path) -> str:  # patient0001_2CH_ED.mhd -> patient0001_2ch_ed_gt.mhd
        return path.name.lower().replace(".", "_gt.", 1)

    images = [p for p in files if is_camus_file(p) and mask_of(p) in names]
    if images:
        raise DataError(f"{folder}: {len(images)} file(s) look like images, not masks ({images[0].name} "
                        f"is the image of {images[0].name.replace('.', '_gt.', 1)}); give a folder that "
                        "holds only the masks")


def refuse_prepared_images(folder: Path, files: list[Path]) -> None:
    """A prepared dataset's image folder holds each image under the name of its mask in the
    label folder beside it: say where the masks are (from the names alone, before any is read,
    so the refusal comes before anything is said about the work)."""
    labels = folder.parent / LABEL_DIR
    if folder.name == IMAGE_DIR and any((labels / path.name).is_file() for path in files[:16]):
        raise DataError(f"{folder}: this is a prepared dataset's image folder; its masks are in {labels}")


def masks_below(folder: Path) -> str:
    """Where the masks of a dataset given as a masks folder are ("; its masks are in
    train/label, ..."), or "" when it is no dataset of ours."""
    from ..data.layout import SPLITS

    inside = [f"{split}/{LABEL_DIR}" for split in SPLITS if (folder / split / LABEL_DIR).is_dir()]
    if inside:
        return f"; a prepared dataset: its masks are in {', '.join(inside)} (give one of those folders)"
    if (folder / "database_nifti").is_dir():
        return "; a CAMUS NIfTI dataset: prepare it first (cardigan prepare) and give its train/label folder"
    return ""


ONE_MASK = Advice("one mask", "cardigan synthesize --mask makes the image of one mask")


def check_masks_folder(folder: Path) -> None:
    """Refuse, before a model is loaded for it and before anything is said about the export, a
    ``masks`` folder that is missing or is a file (one mask given where its folder was meant is
    told so), or that holds no label maps or a CAMUS patient's images, naming the option."""
    if not folder.is_dir():
        raise DataError(Message(option("masks"), " ", masks_folder_problem(folder)))
    try:
        listed_masks(folder)
    except DataError as exc:
        raise DataError(Message(option("masks"), " ", exc.message)) from None


def listed_masks(folder: Path) -> list[Path]:
    """The mask files of the folder ``folder``, from their names alone; refused when there
    are none, when they are a CAMUS patient's images beside their masks or a prepared
    dataset's images."""
    files = mask_files(folder)
    if not files:
        raise DataError(f"{folder}: no label maps ({MASK_FILE_PATTERNS}) in this folder"
                        + masks_below(folder))
    refuse_camus_images(folder, files)
    refuse_prepared_images(folder, files)
    return files


def masks_folder_problem(folder: Path) -> Message:
    """Why ``folder`` (not a folder) cannot be read as a folder of masks."""
    if not folder.exists():
        return Message(f"{folder}: no such folder of masks")
    if folder.name.lower().endswith(MASK_FILE_SUFFIXES):
        return Message(f"{folder}: is a mask file, not a folder of masks; give the folder it is in, or ", ONE_MASK)
    return Message(f"{folder}: is a file, not a folder of masks; give a folder of label maps")


def carried_anatomy(text: dict[str, str]) -> tuple[dict | None, str | None]:
    """(the anatomy record a mask PNG's text chunks carry (phantom masks, masks saved by the
    studio), or None; why a record it carries is set aside, or None). A record is kept only
    when the shipped shape model draws its heart, and only with the fields the studio keeps
    (:func:`engine.anatomy.heart.anatomy_in_text`, as the studio opens a mask): a damaged one,
    or one of another shape model, which would be redrawn as another heart, is never passed on."""
    return anatomy_in_text(text, ShapeModel.default())


def read_folder_mask(path: Path, notify: Callable[[str], None] | None = None
                     ) -> tuple[np.ndarray, dict[str, str], Geometry | None, tuple[int, int] | None]:
    """(the label map in ``path``, a PNG's text chunks, the geometry of the volume it was read
    from when it fits, which slice of a volume of several it is: (index, count), else None);
    how its labels were mapped by their names is told to ``notify``."""
    if not is_volume_file(path):
        labels, text = read_label_map_and_text(path, notify)
        return labels, text, None, None
    labels, taken, header = read_label_slice_and_header(path, notify)
    geometry, _ = fitting_geometry(path, labels, taken[0] if taken else 0, header)  # the file read once
    return labels, {}, geometry, taken


def folder_masks(folder: Path, notify: Callable[[str], None] | None = None,
                 progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> list[PatientMasks]:
    """The label maps in ``folder`` (PNG, CAMUS .mhd/.nii[.gz]), grouped by patient.

    Names of the form ``<patient>_<2CH|4CH>_<ED|ES>`` group into patients, as do the frames of
    a loop, ``<patient>_<view>_f<k>`` (their view and instant left unknown); any other name is
    a patient of its own. All files are read and checked first; the error lists the bad ones.
    A PNG whose fan record is damaged is drawn in its view's median fan, and ``notify`` is
    told which masks those are. A PNG's valid anatomy record is kept (``MaskItem.anatomy``),
    so a mask written again unchanged keeps its heart; one set aside (:func:`carried_anatomy`)
    leaves a plain mask, and ``notify`` is told which and why. A volume's mask keeps the
    geometry of its slice (``MaskItem.geometry``); of a volume of several slices, its painted
    one is taken, and ``notify`` is told which, in one line for all of them, as it is of the
    masks whose labels an ITK-SNAP label description beside them names and of the Slicer
    segmentations whose segments were read by their terminology, and of those whose right
    heart was read as background ("N mask(s) with labels read by name or terminology: ", then
    each file's own note, which says which of these it was). Reading reports to
    ``progress`` (stage "reading masks") and stops with :class:`engine.progress.Cancelled` as
    soon as ``should_stop()`` says so.
    """
    if not folder.is_dir():
        raise DataError(masks_folder_problem(folder))
    files = listed_masks(folder)
    patients: dict[str, PatientMasks] = {}
    problems, damaged_fans, set_aside, slices, mapped = [], [], [], [], []
    progress(Progress(READING, 0, len(files)))
    for done, path in enumerate(files, 1):
        if should_stop():
            raise Cancelled()
        if done % 16 == 0 or done == len(files):
            progress(Progress(READING, done, len(files), path.name))
        try:
            labels, text, geometry, taken = read_folder_mask(path, mapped.append)
        except MaskError as exc:
            problems.append(str(exc))
            continue
        stem = mask_stem(path)
        parsed = parse_stem(stem)
        patient, view, instant = parsed if parsed else (stem_patient(stem), None, None)
        fan, damaged = fan_from_text(text, view or view_of_name(path.name))
        if damaged:
            damaged_fans.append(path.name)
        if taken is not None:
            slices.append(f"{path.name} slice {taken[0] + 1} of {taken[1]}")
        anatomy, anatomy_problem = carried_anatomy(text)
        if anatomy_problem:
            set_aside.append(f"{path.name}: {anatomy_problem}")
        patients.setdefault(patient, PatientMasks(patient)).items.append(
            MaskItem(stem, labels, str(path), view, instant, fan, anatomy, geometry))
    if problems:
        labels_beside = folder.parent / LABEL_DIR
        if len(problems) == len(files) and folder.name == IMAGE_DIR and labels_beside.is_dir():
            raise DataError(f"{folder}: this is a prepared dataset's image folder; its masks are in {labels_beside}")
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise DataError(f"{folder}: {len(problems)} unusable mask(s): {shown}")
    if damaged_fans and notify is not None:
        shown = ", ".join(damaged_fans[:4]) + (f" and {len(damaged_fans) - 4} more" if len(damaged_fans) > 4 else "")
        notify(f"{len(damaged_fans)} mask(s) with a damaged fan record, drawn in their view's median "
               f"CAMUS fan: {shown}")
    if set_aside and notify is not None:
        shown = "; ".join(set_aside[:4]) + (f"; and {len(set_aside) - 4} more" if len(set_aside) > 4 else "")
        notify(f"{len(set_aside)} mask(s) taken as plain labels, their anatomy record set aside: {shown}")
    if mapped and notify is not None:
        shown = "; ".join(mapped[:4]) + (f"; and {len(mapped) - 4} more" if len(mapped) > 4 else "")
        notify(f"{len(mapped)} mask(s) with labels read by name or terminology: {shown}")
    if slices and notify is not None:
        shown = ", ".join(slices[:4]) + (f" and {len(slices) - 4} more" if len(slices) > 4 else "")
        notify(f"{len(slices)} mask(s) taken from the one painted slice of a volume of several: {shown}")
    return list(patients.values())
