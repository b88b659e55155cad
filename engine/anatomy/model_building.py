"""Building a shape model from label maps grouped by patient (what ``ShapeModel.build`` does).

For each patient with all four masks (2CH and 4CH at ED and ES) whose landmarks are found
(masks drawn in another fan than their view's median one taken back to it first, landmarks
and measures alike: :func:`engine.anatomy.placement.unplaced`, so a dataset of hearts in
tilted or shallow fans gives the statistics of the same hearts in the median fans):

1. per view, the ED endocardia of all patients are aligned (generalised Procrustes); each
   patient's pose of that view is the similarity that maps the view's mean endocardium onto
   its own, and all four landmark sets of the view (ED, ES) are normalised by it, so the
   motion from ED to ES stays part of the shape;
2. the normalised landmarks of both views and both phases make one vector per patient; a PCA
   over these keeps the modes that explain ``variance`` of the total (one draw = one patient,
   two views, with its own motion). Each mode's sign is fixed (:func:`fixed_signs`: its
   component of largest magnitude positive) before anything below is derived from it, so a
   rebuild from the same data on another machine or library gives the same modes, the same
   hearts for each seed and the same meaning to saved coefficients;
3. the eight pose numbers (two views x position, log scale, tilt) get a Gaussian of their own
   around a linear prediction from the shape coefficients (a heart with a long atrium sits
   higher in the picture, so its atrium stays in the fan);
4. the patients' own measures (LV length and width, wall thickness, atrium size, EF by area,
   tilt; :func:`patient_measures`) are regressed on the latent coefficients (shape modes and
   whitened pose) to give slider directions, and the means of the patients at the extremes of
   the measures give the pathology presets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from ..errors import DataError
from .alignment import normalise, procrustes
from .descriptors import describe
from .landmarks import LandmarkError, Landmarks, find_landmarks
from .measures import cavity_pixels, ejection_fraction_by_area
from .placement import Placement, unplaced, view_placement

VIEWS, PHASES = ("2CH", "4CH"), ("ED", "ES")
KEYS = tuple((v, p) for v in VIEWS for p in PHASES)
MIN_PATIENTS = 8
RIDGE = 1e-6  # added to the pose covariance's diagonal (a model from very few patients)
RELATIVE_RIDGE = 1e-4  # and this share of each variance: the covariance stays positive definite
# when its numbers are rounded to the 6 significant digits a model keeps (model_file.quantised)

# slider directions: name -> (label, measure)
DIRECTIONS = {
    "lv_length": "LV length",
    "lv_width": "LV width",
    "wall": "Wall thickness",
    "atrium": "Atrium size",
    "ef": "Ejection fraction (by area)",
    "tilt": "LV tilt",
}
# presets: name -> (label, measure, which end, description)
PRESETS = {
    "dilated_lv": ("Dilated LV", "lv_area", "top",
                   "the mean of the tenth of real patients with the largest ED cavity area"),
    "hypertrophy": ("Hypertrophic wall", "wall", "top",
                    "the mean of the tenth of real patients with the thickest ED walls"),
    "enlarged_atrium": ("Enlarged atrium", "la_lv", "top",
                        "the mean of the tenth of real patients with the largest atrium / LV area at ED"),
    "reduced_ejection": ("Reduced ejection", "ef", "bottom",
                         "the mean of the tenth of real patients with the lowest EF by area"),
    "small_hyperdynamic": ("Hyperdynamic LV", "ef", "top",
                           "the mean of the tenth of real patients with the highest EF by area"),
}


def patient_measures(masks: Mapping[tuple[str, str], np.ndarray], fans: Mapping | None = None) -> dict[str, float]:
    """A patient's own measures from its four masks, averaged over the two views; masks drawn
    in another fan (``fans``: {(view, phase): Fan}) measured as the heart they show in the
    view's median fan (:func:`in_reference_fan`)."""
    placements = {key: view_placement((fans or {}).get(key), key[0]) for key in KEYS}
    d = {key: in_reference_fan(describe(masks[key]), placements[key]) for key in KEYS}
    mean = lambda name, phase="ED": float(np.mean([d[(v, phase)][name] for v in VIEWS]))  # noqa: E731
    efs = [ejection_fraction_by_area(*(cavity_area(masks[(v, p)], placements[(v, p)]) for p in PHASES))
           for v in VIEWS]
    return {
        "lv_length": mean("lv_length"),
        "lv_width": float(np.mean([d[(v, "ED")]["lv_length"] / d[(v, "ED")]["lv_elongation"] for v in VIEWS])),
        "lv_area": mean("lv_area"),
        "wall": mean("wall_thickness"),
        "atrium": float(np.mean([d[(v, p)]["la_lv_area"] * d[(v, p)]["lv_area"] for v in VIEWS for p in PHASES])),
        "la_lv": mean("la_lv_area"),
        "ef": float(np.mean(efs)),
        "tilt": mean("lv_tilt"),
    }


LENGTHS, AREAS = ("lv_length", "wall_thickness"), ("lv_area",)  # descriptors that scale with the heart


def in_reference_fan(descriptors: dict[str, float], placed: Placement) -> dict[str, float]:
    """:func:`describe` numbers of a mask drawn with ``placed`` as those of the heart in its
    reference fan: lengths over the placement's scale, areas over its square, the LV's tilt
    less its turn (the others are ratios or unused here)."""
    if placed.identity:
        return descriptors
    out = dict(descriptors)
    out.update({name: out[name] / placed.scale for name in LENGTHS})
    out.update({name: out[name] / placed.scale ** 2 for name in AREAS})
    out["lv_tilt"] -= placed.turn
    return out


def cavity_area(labels: np.ndarray, placed: Placement) -> float:
    """The LV cavity's area in pixels, as in the reference fan (over the placement's scale squared)."""
    return cavity_pixels(labels) / placed.scale ** 2


def patients_from_folder(root: Path | str, splits: Iterable[str] = ("train",)) -> dict[str, dict]:
    """Label maps of a prepared dataset (``<root>/<split>/label/<patient>_<view>_<phase>.png``)
    grouped by patient: {patient: {(view, phase): labels}}: the label maps
    :meth:`engine.data.dataset_folder.DatasetFolder.pairs` lists (hidden files such as macOS's
    ``._patient0001_2CH_ED.png`` are none), the ones :func:`fans_from_folder` gives fans to."""
    return patients_and_fans_from_folder(root, splits)[0]


def fans_from_folder(root: Path | str, splits: Iterable[str] = ("train",)) -> dict[str, dict]:
    """The fans the label maps of a prepared dataset were drawn in, keyed as
    :func:`patients_from_folder` keys the maps: {patient: {(view, phase): Fan}}. Each is the
    fan the label PNG records, else the one the manifest lists for it, else its view's
    median fan (:meth:`engine.data.dataset_folder.DatasetFolder.fan_of`)."""
    return fan_records_from_folder(root, splits)[0]


def fan_records_from_folder(root: Path | str, splits: Iterable[str] = ("train",)) -> tuple[dict[str, dict], Counter]:
    """(:func:`fans_from_folder`, how many of those label maps took their view's median fan
    for want of a record: {"no fan record": n, "damaged fan record": n}, zeros included)."""
    return _read_folder(root, splits, labels=False)[1:]


def patients_and_fans_from_folder(root: Path | str, splits: Iterable[str] = ("train",)
                                  ) -> tuple[dict[str, dict], dict[str, dict], Counter]:
    """(:func:`patients_from_folder`, then :func:`fan_records_from_folder`'s two) of one
    reading: each label PNG is opened once, for its labels and its fan record alike."""
    return _read_folder(root, splits, labels=True)


def _read_folder(root: Path | str, splits: Iterable[str], labels: bool) -> tuple[dict, dict, Counter]:
    """(label maps by patient, or {} unless ``labels``; fans by patient; the median-fan counts)."""
    from ..data.dataset_folder import DAMAGED_FAN_RECORD, NO_FAN_RECORD
    from ..maskio import read_label_png_and_text

    patients: dict[str, dict] = {}
    fans: dict[str, dict] = {}
    missing = Counter({NO_FAN_RECORD: 0, DAMAGED_FAN_RECORD: 0})
    for dataset, pair, patient, key in _named_pairs(root, splits):
        text = None
        if labels:
            patients.setdefault(patient, {})[key], text = read_label_png_and_text(pair.label_path)
        fan, why = dataset.fan_record(pair, text)
        fans.setdefault(patient, {})[key] = fan
        if why:
            missing[why] += 1
    return patients, fans, missing


def _named_pairs(root: Path | str, splits: Iterable[str]) -> Iterator[tuple]:
    """(dataset, pair, patient, (view, phase)) for each pair of ``splits`` of the prepared
    dataset at ``root`` whose stem names a patient, view and phase (others are skipped)."""
    from ..data.dataset_folder import DatasetFolder
    from ..data.layout import parse_stem

    dataset = DatasetFolder(root)
    for split in splits:
        for pair in dataset.pairs(split):
            parsed = parse_stem(pair.stem)
            if parsed:
                patient, view, phase = parsed
                yield dataset, pair, patient, (view, phase)


def _usable(patients, fans=None) -> tuple[list, Counter]:
    check_fans(fans)
    items = patients.items() if isinstance(patients, Mapping) else enumerate(patients)
    usable, skipped = [], Counter()
    for name, masks in items:
        if not all(key in masks for key in KEYS):
            skipped["not all of 2CH and 4CH at ED and ES"] += 1
            continue
        drawn_in = patient_fans(fans, name)
        try:
            marks = {key: unplaced(find_landmarks(masks[key]), drawn_in.get(key), key[0]) for key in KEYS}
            measures = patient_measures(masks, drawn_in)
        except LandmarkError as exc:
            skipped[str(exc)] += 1
            continue
        if not all(np.isfinite(v) for v in measures.values()):
            skipped["a structure is missing"] += 1
            continue
        usable.append((marks, measures))
    return usable, skipped


def check_fans(fans) -> None:
    """TypeError (one line) unless ``fans`` is None or a mapping by patient: the name of a
    patient of a dict, the index of one of a list."""
    if fans is not None and not isinstance(fans, Mapping):
        raise TypeError(f"the fans of the patients are a dict keyed as the patients are "
                        f"({{patient: {{(view, phase): Fan}}}}, a list's patients by index), "
                        f"not a {type(fans).__name__}")


def patient_fans(fans: Mapping | None, name) -> Mapping:
    """One patient's {(view, phase): Fan} in ``fans`` (none given for it: {}, the median fans):
    the fans a model is built with, and those that tell one patient's masks from another's
    (:func:`engine.export.sources.distinct_hearts`)."""
    return (fans or {}).get(name) or {}


def _regress(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unit direction in latent space along which ``y`` grows fastest (least squares)."""
    design = np.concatenate([np.ones((len(z), 1)), z], axis=1)
    coef = np.linalg.lstsq(design, (y - y.mean()) / max(y.std(), 1e-12), rcond=None)[0][1:]
    return coef / max(np.linalg.norm(coef), 1e-12)


def fixed_signs(directions: np.ndarray) -> np.ndarray:
    """``directions`` (one per row) each turned so that its component of largest magnitude is
    positive. An SVD returns each principal direction with an arbitrary sign (one LAPACK build
    or one order of the patients may give the opposite of another); this makes the sign a
    property of the direction itself. It changes only where two components of opposite signs
    are equally the largest, which a small change of the data does not bring about unless
    they were within that change of each other."""
    rows = np.asarray(directions, np.float64)
    largest = rows[np.arange(len(rows)), np.argmax(np.abs(rows), axis=1)]
    return rows * np.where(largest < 0, -1.0, 1.0)[:, None]


def pose_covariance(residual: np.ndarray) -> np.ndarray:
    """The covariance of the (N, 8) pose residuals, kept positive definite for few patients
    and for the rounding a saved model applies (:data:`RIDGE`, :data:`RELATIVE_RIDGE`)."""
    cov = np.cov(residual, rowvar=False)
    return cov + np.diag(RIDGE + RELATIVE_RIDGE * np.diag(cov))


def build_statistics(patients, variance: float = 0.97, fans=None) -> dict:
    """The statistics of a shape model (see the module docstring) of ``patients`` ({name:
    {(view, phase): labels}} or a list of such dicts), their masks drawn in ``fans`` (a dict
    keyed as the patients are, by name or by index in the list, each {(view, phase): Fan}; a
    mask without one: its view's median fan; anything but a dict: TypeError); DataError when
    fewer than ``MIN_PATIENTS`` patients are usable."""
    usable, skipped = _usable(patients, fans)
    if len(usable) < MIN_PATIENTS:
        why = "; ".join(f"{n} {reason}" for reason, n in skipped.most_common(3))
        raise DataError(f"a shape model needs at least {MIN_PATIENTS} patients with usable 2CH and 4CH "
                        f"masks at ED and ES, found {len(usable)}" + (f" (skipped: {why})" if why else ""))
    means, poses, blocks = {}, [], {key: [] for key in KEYS}
    for view in VIEWS:
        mean, view_poses = procrustes(np.array([marks[(view, "ED")].endo for marks, _ in usable]))
        means[view] = mean
        poses.append(view_poses)
        for (marks, _), pose in zip(usable, view_poses):
            for phase in PHASES:
                m = marks[(view, phase)]
                blocks[(view, phase)].append(Landmarks(
                    normalise(m.endo, pose), m.thickness / np.exp(pose[2]), normalise(m.atrium, pose)).vector())
    x = np.concatenate([np.array(blocks[key]) for key in KEYS], axis=1)
    pose = np.concatenate(poses, axis=1)  # (N, 8): 2CH x, y, log scale, tilt, then 4CH
    mean_x = x.mean(0)
    _, sv, vt = np.linalg.svd(x - mean_x, full_matrices=False)
    vt = fixed_signs(vt)
    eigen = sv ** 2 / (len(x) - 1)
    explained = np.cumsum(eigen) / eigen.sum()
    count = int(min(np.searchsorted(explained, variance) + 1, len(eigen)))
    sds = np.sqrt(eigen[:count])
    shape_z = (x - mean_x) @ vt[:count].T / sds
    pose_mean = pose.mean(0)
    from_shape = np.linalg.lstsq(shape_z, pose - pose_mean, rcond=None)[0]  # (modes, 8)
    residual = pose - pose_mean - shape_z @ from_shape
    cov = pose_covariance(residual)
    chol = np.linalg.cholesky(cov)
    pose_z = np.linalg.solve(chol, residual.T).T
    z = np.concatenate([shape_z, pose_z], axis=1)
    measures = {name: np.array([m[name] for _, m in usable]) for name in usable[0][1]}
    directions = {name: {"label": label, "vector": _regress(z, measures[name]).tolist()}
                  for name, label in DIRECTIONS.items()}
    presets = {}
    for name, (label, measure, end, description) in PRESETS.items():
        values = measures[measure] if end == "top" else -measures[measure]
        chosen = values >= np.quantile(values, 0.9)
        presets[name] = {"label": label, "description": description,
                         "position": np.clip(z[chosen].mean(0), -3, 3).tolist()}
    noise = eigen[count:].sum() / x.shape[1] if count < len(eigen) else 1e-8
    return {
        "patients": len(usable), "skipped": dict(skipped), "explained_variance": float(explained[count - 1]),
        "mean_endo": {view: means[view].tolist() for view in VIEWS},
        "mean": mean_x, "modes": vt[:count] * sds[:, None], "noise": float(noise),
        "pose_mean": pose_mean.tolist(), "pose_from_shape": from_shape.tolist(), "pose_cov": cov.tolist(),
        "directions": directions, "presets": presets,
        "real_measures": {name: [float(np.percentile(v, q)) for q in (5, 50, 95)] for name, v in measures.items()},
    }
