"""How good is a model? Mask fidelity, downstream utility and realism on a prepared dataset.

- mask fidelity: a U-Net trained on the real train split segments synthetic images made
  from the evaluation masks; Dice against those masks, next to the same U-Net on the real
  evaluation images (the ceiling). Also on deformed evaluation masks (elastic, with a class
  shape moved and resized: :func:`engine.data.deform.deformed_masks`), to see whether a
  model draws what is painted away from the usual anatomy. That U-Net depends only on the data and the settings, so
  it is cached (:mod:`.cache`) and a second model on the same data does not retrain it.
- downstream utility: a U-Net trained only on synthetic pairs (train masks x K variations)
  is scored on the real evaluation images, next to the one trained on real pairs. The
  images are drawn as ``cardigan export`` draws them by default, from the masks with their
  borders jittered (``EvalSettings.border_jitter``; the pairs keep the true masks); the
  two-sample test classifies these same images.
- Dice is given per class (LV cavity, myocardium, LA; pooled over images) and as CAMUS
  papers report it (LV endocardium, LV epicardium, LA; per image, averaged).
- realism (:mod:`.realism`): grey levels per region, a classifier two-sample test (with its
  own check: real images against real images of other patients) and diversity across seeds.

The evaluation split is ``test`` when the dataset has one, else ``valid`` (the report says
which), or the split asked for.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..data.dataset import PairedDataset
from ..data.deform import deformed_masks
from ..data.imaging import resize_image, resize_labels
from ..data.border_jitter import jitter_scaled_borders
from ..data.layout import SPLITS, stem_patient, wrong_folder_hint
from ..data.manifest import manifest_checksum
from ..errors import DataError
from ..fan import fan_mask
from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress
from ..synthesizer import Synthesizer, to_uint8
from ..units import counted
from .cache import SegmenterCache, segmenter_key
from .metrics import camus_dice, dice_per_class
from .auc_parts import PARTS, auc_by_part
from .evidence import PLACES, evidence_by_place
from .realism import diversity, grey_levels, held_out_rows, two_sample_auc, two_sample_test
from .speckle import EDGE_BAND, EDGE_LAG, STREAK_LAG
from .texture import PATCH_GREY, PATCH_MIN_PIXELS, tells
from .texture import WINDOW as SPECTRUM_WINDOW
from .segmenter import segment, train_segmenter
from .settings import EvalSettings


def load_split(root: Path, split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images uint8 (N, H, W), labels uint8 (N, H, W), stems) of one split at its stored size."""
    images, labels, stems, _ = load_split_with_fans(root, split, limit)
    return images, labels, stems


def load_split_with_fans(root: Path, split: str, limit: int | None):
    """:func:`load_split` and each pair's fan (:mod:`engine.fan`)."""
    dataset = PairedDataset(root, split)
    count = len(dataset) if limit is None else min(limit, len(dataset))
    if count == 0:
        raise DataError(f"{root}: the {split} split is empty")
    pairs = [dataset.load_pair(i) for i in range(count)]
    stems = dataset.stems[:count]
    return (np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), stems,
            [dataset.fans[stem] for stem in stems])


def split_size(root: Path, split: str) -> int:
    try:
        return len(PairedDataset(root, split))
    except DataError:
        return 0


def choose_split(root: Path, split: str | None) -> tuple[str, str]:
    """(evaluation split, a note saying why) for a prepared dataset."""
    if split is not None:
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r} (use {', '.join(SPLITS)})")
        if split == "train":
            raise DataError("the train split trains the segmenters; evaluate on valid or test")
        if split_size(root, split) == 0:
            raise DataError(f"{root}: the {split} split is empty")
        return split, f"{split} split (asked for)"
    if split_size(root, "test"):
        return "test", "test split"
    if split_size(root, "valid"):
        return "valid", "valid split (the dataset has no test split)"
    hint = wrong_folder_hint(root)
    if hint:
        raise DataError(f"{root}: not a prepared dataset{hint}")
    raise DataError(f"{root}: neither a test nor a valid split to evaluate on "
                    "(prepare the dataset with one, or give --split)")


def patients_of(stems: list[str]) -> list[str]:
    """The patient of each stem, a sequence frame's included (the stem itself when it follows
    neither pattern): the classifier's halves keep a patient's frames together."""
    return [stem_patient(stem) for stem in stems]


def resize_all(images: np.ndarray | None, labels: np.ndarray | None, size: int):
    img = None if images is None else np.stack([resize_image(i, size) for i in images])
    lab = None if labels is None else np.stack([resize_labels(m, size) for m in labels])
    return img, lab


def synthesize_all(synth: Synthesizer, masks: np.ndarray, seed: int, stage: str,
                   progress: ProgressCallback, should_stop: StopCheck, batch: int = 8,
                   fans: list | None = None) -> np.ndarray:
    """Synthetic uint8 images for (N, H, W) masks, mask i with seed ``seed + i`` and, for
    models that take one, fan ``fans[i]``."""
    out = []
    for start in range(0, len(masks), batch):
        if should_stop():
            raise Cancelled()
        chunk = synth.synthesize(masks[start:start + batch], seed=seed + start,
                                 fan=None if fans is None else fans[start:start + batch])
        out.extend(to_uint8(image) for image in chunk)
        progress(Progress(stage, min(start + batch, len(masks)), len(masks)))
    return np.stack(out)


def downstream_masks(masks: np.ndarray, settings: EvalSettings, k: int = 0) -> np.ndarray:
    """The masks the generator is given for variation ``k`` of the downstream set: ``masks``
    themselves, or each moved by :func:`~engine.data.border_jitter.jitter_scaled_borders` with
    seed ``settings.seed + 100_000 * (k + 1) + i`` when ``settings.border_jitter`` > 0."""
    if settings.border_jitter <= 0:
        return masks
    seed = settings.seed + 100_000 * (k + 1)
    return np.stack([jitter_scaled_borders(mask, settings.border_jitter, seed + i)
                     for i, mask in enumerate(masks)])


def downstream_images(synth: Synthesizer, masks: np.ndarray, fans: list | None, settings: EvalSettings,
                      progress: ProgressCallback = no_progress,
                      should_stop: StopCheck = never_stop) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The downstream training set's images, one (N, size, size) uint8 array per variation
    (one for a model without randomness), and the masks each variation was drawn from (N, H,
    W, at the masks' own size): variation k draws mask i with seed
    ``settings.seed + 100_000 * (k + 1) + i``. With ``settings.border_jitter`` > 0 the
    generator is given each mask moved by :func:`~engine.data.border_jitter.jitter_borders`
    (the same seed, :func:`downstream_masks`); the pairs keep ``masks``."""
    variations = settings.variations if synth.stochastic else 1
    out, drawn_from = [], []
    for k in range(variations):
        seed = settings.seed + 100_000 * (k + 1)
        given = downstream_masks(masks, settings, k)
        images = synthesize_all(synth, given, seed, f"synthesizing train masks ({k + 1}/{variations})",
                                progress, should_stop, fans=fans)
        out.append(resize_all(images, None, settings.size)[0])
        drawn_from.append(given)
    return out, drawn_from


class _Clock:
    """Wall time per stage, for the report."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.started = time.perf_counter()
        self._last = self.started

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = round(self.times.get(name, 0.0) + now - self._last, 1)
        self._last = now

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def evaluate(model, data: Path | str, settings: EvalSettings = EvalSettings(), device: str = "auto",
             inception_weights: str | None = None, progress: ProgressCallback = no_progress,
             should_stop: StopCheck = never_stop, split: str | None = None,
             cache: SegmenterCache | None = None) -> dict:
    """Run every measure; returns the ``evaluation.json`` document.

    ``cache`` holds real-trained segmenters (None: the default cache folder); pass
    ``SegmenterCache(path)`` to use another folder.
    """
    clock = _Clock()
    root = Path(data)
    cache = cache if cache is not None else SegmenterCache()
    eval_split, split_note = choose_split(root, split)
    synth = model if isinstance(model, Synthesizer) else Synthesizer(model, device=device)
    train_img, train_lab, train_stems, train_fans = load_split_with_fans(root, "train", settings.max_train)
    test_img, test_lab, test_stems, test_fans = load_split_with_fans(root, eval_split, settings.max_test)
    s = settings.size
    train_img_s, train_lab_s = resize_all(train_img, train_lab, s)
    test_img_s, test_lab_s = resize_all(test_img, test_lab, s)
    seg_device = synth.device if synth.device.type != "mps" else "cpu"
    clock.lap("loading data")

    def fit(images, labels, stage):
        return train_segmenter(images, labels, iters=settings.seg_iters, width=settings.seg_width,
                               seed=settings.seed, device=seg_device, progress=progress,
                               should_stop=should_stop, stage=stage)

    key = segmenter_key(train_img_s, train_lab_s, settings.segmenter_settings())
    real_seg = cache.load(key, settings.seg_width)
    cached = real_seg is not None
    if cached:
        real_seg = real_seg.to(seg_device)
        progress(Progress("segmenter on real pairs (cached)", 1, 1, key[:12]))
    else:
        real_seg = fit(train_img_s, train_lab_s, "segmenter on real pairs")
        cache.store(key, real_seg)
    real_pred = segment(real_seg, test_img_s)
    clock.lap("real-trained segmenter")

    synthetic_test = synthesize_all(synth, test_lab, settings.seed, f"synthesizing {eval_split} masks",
                                    progress, should_stop, fans=test_fans)
    synthetic_test_s, _ = resize_all(synthetic_test, None, s)
    fidelity_pred = segment(real_seg, synthetic_test_s)
    deformed = deformed_masks(test_lab, settings.seed)
    synthetic_deformed = synthesize_all(synth, deformed, settings.seed, "synthesizing deformed masks",
                                        progress, should_stop, fans=test_fans)
    deformed_s = resize_all(None, deformed, s)[1]
    deformed_pred = segment(real_seg, resize_all(synthetic_deformed, None, s)[0])
    clock.lap("mask fidelity")

    # the fan each pair was given (fitted to the real image by prepare), as the tells use: a sector
    # read off the real image's brightness reaches past the fan, into the black around it
    sectors = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(test_img, test_fans)])
    greys = grey_levels(test_img, synthetic_test, test_lab, sectors)
    spread, per_seed = 0.0, None
    if synth.stochastic:
        n = min(settings.diversity_masks, len(test_lab))
        per_seed = np.stack([
            synthesize_all(synth, test_lab[:n], settings.seed + 500_000 * (k + 1),
                           f"diversity ({k + 1}/{settings.diversity_seeds} seeds)", progress, should_stop,
                           fans=test_fans[:n])
            for k in range(settings.diversity_seeds)])
        spread = diversity(per_seed, sectors[:n])
    clock.lap("grey levels and diversity")
    progress(Progress("fan, spectrum and holes", 0, 1))
    tell = tells(test_img, synthetic_test, test_lab, test_fans, per_seed,
                 sector_images=settings.sector_images)
    progress(Progress("fan, spectrum and holes", 1, 1))
    clock.lap("fan, spectrum and holes")

    cine = None
    if settings.cine_loops > 0:
        from .cine_check import cine_check

        cine = cine_check(synth, test_lab.shape[-1], settings.cine_loops, settings.cine_frames, settings.seed,
                          progress, should_stop)
        clock.lap("cine loops")

    synth_images, synth_masks = downstream_images(synth, train_lab, train_fans, settings, progress, should_stop)
    variations = len(synth_images)
    clock.lap("synthesizing train masks")
    synthetic_seg = fit(np.concatenate(synth_images), np.concatenate([train_lab_s] * variations),
                        "segmenter on synthetic pairs")
    downstream_pred = segment(synthetic_seg, test_img_s)
    clock.lap("synthetic-trained segmenter")

    patients = patients_of(train_stems)
    classifiers = classifier_seeds(settings)
    tests = [two_sample_test(train_img_s, synth_images[0], patients, patients,
                             iters=settings.two_sample_iters, seed=seed, progress=progress,
                             should_stop=should_stop, stage=f"two-sample test: real vs synthetic{label}")
             for seed, label in classifiers]
    auc_seeds = [t.auc for t in tests]
    auc = mean_auc(auc_seeds)
    test = tests[0]  # the evidence map is the first classifier's
    evidence = {"by_place": evidence_by_place(test, train_lab_s, train_fans),
                "grid": np.round(test.evidence, 5).tolist(), "cell_pixels": test.cell}
    first, second = halves_by_patient(patients, settings.seed)
    check_seeds = [two_sample_auc(train_img_s[first], train_img_s[second],
                                  [patients[i] for i in first], [patients[i] for i in second],
                                  iters=settings.two_sample_iters, seed=seed, progress=progress,
                                  should_stop=should_stop, stage=f"two-sample test: real vs real{label}")
                   for seed, label in classifiers]
    auc_check = mean_auc(check_seeds)
    parts = None
    if settings.auc_parts:
        drawn_from = resize_all(None, synth_masks[0], s)[1]

        def part_auc(first, second, first_groups, second_groups, stage):
            return two_sample_auc(first, second, first_groups, second_groups, iters=settings.two_sample_iters,
                                  seed=settings.seed, progress=progress, should_stop=should_stop, stage=stage)

        parts = auc_by_part(train_img_s, train_lab_s, synth_images[0], drawn_from, train_fans, patients, part_auc)
    clock.lap("two-sample test")

    fid = None
    if inception_weights:
        from .fid import InceptionFeatures, frechet_distance, kernel_inception_distance

        features = InceptionFeatures(inception_weights, synth.device)
        real_f, fake_f = features(test_img), features(synthetic_test)
        fid = {"fid": frechet_distance(real_f, fake_f), "kid": kernel_inception_distance(real_f, fake_f)}
        clock.lap("FID")

    summary = synth.model.summary()
    return {
        "model": {"name": summary["name"], "kind": summary["kind"], "path": summary["path"],
                  "parameters": summary["parameters"], "stochastic": bool(synth.stochastic)},
        "data": {"path": str(root.resolve()), "manifest_sha256": manifest_checksum(root)
                 if (root / "manifest.json").is_file() else None,
                 "eval_split": eval_split, "eval_split_note": split_note,
                 "train_pairs": int(len(train_img)), "train_patients": len(set(patients)),
                 "eval_pairs": int(len(test_img)), "image_size": int(test_img.shape[-1]),
                 "eval_patients": len(set(patients_of(test_stems)))},
        "settings": {**asdict(settings), "variations_used": variations, "device": str(synth.device)},
        "fidelity": {"synthetic": dice_per_class(fidelity_pred, test_lab_s),
                     "real": dice_per_class(real_pred, test_lab_s),
                     "deformed": dice_per_class(deformed_pred, deformed_s)},
        "downstream": {"synthetic_trained": dice_per_class(downstream_pred, test_lab_s),
                       "real_trained": dice_per_class(real_pred, test_lab_s)},
        "camus_dice": {"fidelity": {"synthetic": camus_dice(fidelity_pred, test_lab_s),
                                    "real": camus_dice(real_pred, test_lab_s)},
                       "downstream": {"synthetic_trained": camus_dice(downstream_pred, test_lab_s),
                                      "real_trained": camus_dice(real_pred, test_lab_s)}},
        "realism": {"grey_levels": greys, "two_sample_auc": auc, "two_sample_auc_seeds": auc_seeds,
                    "two_sample_auc_real_vs_real": auc_check, "two_sample_auc_real_vs_real_seeds": check_seeds,
                    "two_sample_auc_by_part": parts,
                    "two_sample_evidence": evidence,
                    "diversity": spread, "diversity_seeds": settings.diversity_seeds if synth.stochastic else 0},
        "tells": tell,
        "cine": cine,
        "real_segmenter": {"cached": cached, "key": key},
        "fid": fid,
        "times_s": clock.times,
        "time_s": clock.total,
    }


def classifier_seeds(settings: EvalSettings) -> list[tuple[int, str]]:
    """(seed, stage suffix) of each two-sample classifier an evaluation trains."""
    count = max(1, settings.two_sample_seeds)
    return [(settings.seed + k, f" ({k + 1} of {count})" if count > 1 else "") for k in range(count)]


def mean_auc(aucs: list[float]) -> float:
    """The mean of the classifiers' AUCs that could be taken (a patient split without both
    sets on each side gives NaN); NaN when none could."""
    taken = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(taken)) if taken else float("nan")


def train_pairs_drawn(root: Path, model, every: int = 1, seed: int = EvalSettings().seed):
    """Every ``every``-th train pair of a prepared dataset and ``model``'s image of each mask
    in that pair's fan (seeds from ``seed + 100_000``, as evaluate draws the first variation of
    its downstream set, which its two-sample test classifies, but with no border jitter): (real images, labels, fans, patients, synthetic images), the images
    (N, H, W) uint8 at their stored size. ``model`` is a name, a path or a loaded model."""
    images, labels, stems, fans = load_split_with_fans(Path(root), "train", None)
    images, labels, stems, fans = images[::every], labels[::every], stems[::every], fans[::every]
    synth = Synthesizer(model, device="cpu")
    synthetic = synthesize_all(synth, labels, seed + 100_000, "synthesizing", no_progress, never_stop, fans=fans)
    return images, labels, fans, patients_of(stems), synthetic


HALVES_SEED_OFFSET = 1000  # beyond seed + MAX_TWO_SAMPLE_SEEDS - 1, the last classifier seed evaluate trains


def halves_by_patient(patients: list[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two halves of the images, split by patient with a seeded shuffle (the
    two-sample test's own split, :func:`~.realism.held_out_rows`, at ``seed +``
    :data:`HALVES_SEED_OFFSET`). The real-vs-real check's classifiers split the patients again
    with their own seeds, ``seed`` upwards, each holding out half of each half's patients;
    the offset keeps the halves' shuffle apart from every classifier's."""
    mask = held_out_rows(patients, [], seed + HALVES_SEED_OFFSET)
    return np.flatnonzero(mask), np.flatnonzero(~mask)


def auc_text(value: float) -> str:
    """An AUC for the report: three decimals, or "n/a" where none could be taken (NaN)."""
    return "n/a" if np.isnan(value) else f"{value:.3f}"


ABSENT = "\u2014"  # a figure the evaluation could not measure (a class no image shows), as the table prints it


class Figure(float):
    """A report's number that prints as :data:`ABSENT` when it is not finite (NaN: not
    measured), in the width and alignment its format asks for, and as a float otherwise."""

    def __format__(self, spec: str) -> str:
        if math.isfinite(self):
            return float.__format__(self, spec)
        align, width = re.match(r"(?:.?([<>^=]))?[+\- ]?z?#?0?(\d*)", spec).groups()
        return format(ABSENT, f"{'>' if align in (None, '=') else align}{width}")


def as_figures(value):
    """``value`` with every float made a :class:`Figure`, through dicts, lists and tuples."""
    if isinstance(value, float):
        return Figure(value)
    if isinstance(value, dict):
        return {key: as_figures(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(as_figures(item) for item in value)
    return value


def format_report(report: dict) -> str:
    """The evaluation as a plain-text table; a figure that could not be measured reads
    :data:`ABSENT` (``null`` in the JSON, :mod:`engine.evaluation.report_json`)."""
    report = as_figures(report)
    data = report["data"]
    cached = " (cached)" if report.get("real_segmenter", {}).get("cached") else ""
    lines = [f"model {report['model']['name']} ({report['model']['kind']}) on {data['path']}",
             f"scored on the {data['eval_split_note']}: {counted(data['eval_pairs'], 'pair')}, "
             f"{counted(data['eval_patients'], 'patient')}"]

    def table(title, keys, rows):
        lines.append(title)
        lines.append(f"{'':<46}" + "".join(f"{k:>8}" for k in keys))
        lines.extend(f"{name:<46}" + "".join(f"{scores[k]:>8.3f}" for k in keys) for name, scores in rows)

    jitter = report["settings"].get("border_jitter", 0.0)
    downstream = (f"downstream: synthetic-trained, jitter {jitter:g} px" if jitter
                  else "downstream: synthetic-trained, no jitter")
    table("Dice per class", ("lv", "myo", "la", "mean"), [
        ("mask fidelity: real-trained U-Net on synthetic", report["fidelity"]["synthetic"]),
        ("  on deformed masks (moved, resized shapes)", report["fidelity"]["deformed"]),
        (f"  ceiling: same U-Net on real images{cached}", report["fidelity"]["real"]),
        (downstream, report["downstream"]["synthetic_trained"]),
        ("  reference: U-Net trained on real pairs", report["downstream"]["real_trained"]),
    ])
    camus = report["camus_dice"]
    table("Dice as CAMUS papers report it (per image)", ("endo", "epi", "la", "mean"), [
        ("mask fidelity", camus["fidelity"]["synthetic"]),
        ("  ceiling", camus["fidelity"]["real"]),
        ("downstream: trained on synthetic only", camus["downstream"]["synthetic_trained"]),
        ("  reference: trained on real pairs", camus["downstream"]["real_trained"]),
    ])
    realism = report["realism"]
    lines.append("Realism: grey level mean real / synthetic (Wasserstein-1)")
    lines.append("  " + "   ".join(
        f"{name} {g['real_mean']:.0f} / {g['synthetic_mean']:.0f} ({g['w1']:.1f})"
        for name, g in realism["grey_levels"].items()))
    seeds = realism.get("two_sample_auc_seeds") or []
    spread = (f", the mean of {len(seeds)} classifiers: " + " ".join(auc_text(a) for a in seeds)
              if len(seeds) > 1 else "")
    lines.append(f"  two-sample AUC {auc_text(realism['two_sample_auc'])} (0.5: indistinguishable{spread}; "
                 f"check, real vs real: {auc_text(realism['two_sample_auc_real_vs_real'])})")
    if np.isnan(realism["two_sample_auc"]) or np.isnan(realism["two_sample_auc_real_vs_real"]):
        patients = data.get("train_patients")
        held = ("few patients are" if patients is None
                else f"{counted(patients, 'patient')} {'is' if patients == 1 else 'are'}")
        lines.append(f"    n/a: the train split's {held} too few to train a classifier on some and score it "
                     "on others (the test needs 2 or more, its check 4)")
    parts = realism.get("two_sample_auc_by_part")
    if parts:
        lines.append("    with only one part left (the rest flattened): " + "   ".join(
            f"{part} {auc_text(parts[part])}" for part in PARTS if part in parts))
    places = (realism.get("two_sample_evidence") or {}).get("by_place")
    if places:
        lines.append("    where its evidence lies, share (of the image): " + "   ".join(
            f"{place} {places[place]['share']:.0%} ({places[place]['area']:.0%})" for place in PLACES))
    if realism["diversity_seeds"]:
        lines.append(f"  diversity {realism['diversity']:.1f} grey levels "
                     f"(per-pixel std across {realism['diversity_seeds']} seeds)")
    else:
        lines.append("  diversity 0 (deterministic model)")
    tell = report.get("tells")
    if tell:
        fan, spec, holes = tell["fan"], tell["spectrum"], tell["holes"]
        lines.append("What the eye sees first (synthetic / real)")
        lines.append(f"  fan: support vs given fan IoU median {fan['synthetic']['iou_given_median']:.3f}, lowest "
                     f"{fan['synthetic']['iou_given_lowest']:.3f} ({fan['real']['iou_given_median']:.3f} / "
                     f"{fan['real']['iou_given_lowest']:.3f}); vs its own fitted sector "
                     f"{fan['synthetic']['iou_sector_median']:.3f} ({fan['real']['iou_sector_median']:.3f}); "
                     f"images not black outside the fan {fan['synthetic']['images_grey_outside']}")
        windows = spec["synthetic"].get("images", 1) or spec["real"].get("images", 1)  # the same fans: both or neither
        if not windows:
            lines.append(f"  spectrum and finest octave: n/a, no {SPECTRUM_WINDOW}x{SPECTRUM_WINDOW} px window lies "
                         f"wholly inside the fan of these {data.get('image_size', 'small')} px images")
        else:
            lines.append(f"  spectrum: fine detail {spec['synthetic']['fine_detail']:.2f} "
                         f"({spec['real']['fine_detail']:.2f}), largest peak {spec['synthetic']['narrow_peak']:.2f} at "
                         f"{spec['synthetic']['peak_frequency']:.2f} cycles/px ({spec['real']['narrow_peak']:.2f})")
        if "falloff" in spec["synthetic"] and windows:
            lines.append(f"  finest octave: falloff to the pixel limit {spec['synthetic']['falloff']:.2f} "
                         f"({spec['real']['falloff']:.2f}), vertical over horizontal "
                         f"{spec['synthetic']['anisotropy']:.2f} ({spec['real']['anisotropy']:.2f})")
        if "speckle" in tell:
            sp = tell["speckle"]
            lines.append(f"  speckle reach across / along the beam {sp['synthetic']['lateral']:.2f} / "
                         f"{sp['synthetic']['axial']:.2f} px, ratio {sp['synthetic']['anisotropy']:.2f} "
                         f"({sp['real']['lateral']:.2f} / {sp['real']['axial']:.2f}, {sp['real']['anisotropy']:.2f})")
        if "streaks" in tell:
            st = tell["streaks"]
            lines.append(f"  streaks {STREAK_LAG} px along / across the beam {st['synthetic']['along']:.2f} / "
                         f"{st['synthetic']['across']:.2f} ({st['real']['along']:.2f} / {st['real']['across']:.2f})")
        if "edge_band" in tell:
            eb, er = tell["edge_band"]["synthetic"], tell["edge_band"]["real"]
            lines.append(f"  fan's edge band ({EDGE_BAND[0]}-{EDGE_BAND[1]} px in): speckle {EDGE_LAG} px along / across "
                         f"the beam {eb['along']:.2f} / {eb['across']:.2f} ({er['along']:.2f} / {er['across']:.2f}); "
                         f"grey 1 px in {eb['fade']:.2f} of the interior's ({er['fade']:.2f})")
        if "speckle_skew" in tell:
            sk = tell["speckle_skew"]
            lines.append("  speckle skew " + "   ".join(f"{name} {sk['synthetic'][name]:.2f} ({sk['real'][name]:.2f})"
                                                    for name in sk["synthetic"]))
        if "borders" in tell:
            bd = tell["borders"]
            lines.append("  edge at the mask's borders vs away " + "   ".join(
                f"{name} {bd['synthetic'][name]['median']:.2f} ({bd['real'][name]['median']:.2f})"
                for name in bd["synthetic"]))
        if "arc_bands" in tell:
            ab = tell["arc_bands"]
            lines.append("  near-field bands along the arcs, by depth " + "   ".join(
                f"{low:g}-{high:g} {s:.1f} ({r:.1f})"
                for (low, high), s, r in zip(ab["ranges"], ab["synthetic"], ab["real"])))
        if "depth" in tell:
            dp = tell["depth"]

            def thirds(values):  # a band the region never reaches reads ABSENT
                return "/".join(f"{v:.0f}" for v in values)

            lines.append("  grey by depth third (near / mid / far) " + "   ".join(
                f"{name} {thirds(dp['synthetic'][name])} ({thirds(dp['real'][name])})" for name in dp["synthetic"]))
        lines.append(f"  images with a black hole in the tissue {holes['synthetic_images']} / {holes['images']} "
                     f"({holes['real_images']})")
        if "saturated" in tell:
            sat = tell["saturated"]
            lines.append(f"  images with a saturated patch (>= {PATCH_MIN_PIXELS} px at {PATCH_GREY}+) "
                         f"{sat['synthetic_images']} / {sat['images']} ({sat['real_images']})")
        seeds = tell.get("seeds")
        if seeds:
            spread = seeds["brightness_spread"]
            lines.append("  brightness range across seeds per mask: " + "   ".join(
                f"{name} {v['mean_range']:.0f}" for name, v in spread.items())
                + "; worst seed's offset from real: " + "   ".join(
                f"{name} {v:.0f}" for name, v in seeds["worst_seed_offset"].items()))
    cine = report.get("cine")
    if cine and cine.get("loops"):
        jumps = cine["brightness_jumps"]
        lines.append(f"Cine loops ({cine['loops']} shape-model hearts, {cine['frames']} frames; no real loop to "
                     "compare: CAMUS stores ED and ES only)")
        lines.append(f"  flicker where labels stay {cine['flicker']:.2f} (a fresh seed every frame "
                     f"{cine['flicker_fresh_seeds']:.2f}); far field median / worst frame pair "
                     f"{cine['far_field_flicker']['median']:.2f} / {cine['far_field_flicker']['worst']:.2f}")
        lines.append("  mean grey's largest step between frames " + "   ".join(
            f"{name} {v['worst']:.1f}" for name, v in jumps.items())
            + f"; wall speckle follows the motion in {cine['tracking_share']:.0%} of patches")
    if report.get("fid"):
        lines.append(f"FID {report['fid']['fid']:.2f}   KID {report['fid']['kid']:.4f}")
    times = ", ".join(f"{k} {v:.0f} s" for k, v in report.get("times_s", {}).items())
    lines.append(f"({report['time_s']} s: {times})")
    return "\n".join(lines)
