"""The statistical shape model of apical hearts: one draw is one patient, two views, ED to ES.

Learned from real CAMUS label maps (``scripts/build_shape_model.py``; how in
:mod:`engine.anatomy.model_building`). The shipped statistics are
``resources/anatomy/shape_model.json``, derived from CAMUS and under its terms (``terms``).

Use::

    model = ShapeModel.default()                    # the shipped statistics (cached)
    heart = model.draw(seed)                         # a random patient (a Heart)
    labels = model.mask(heart, "4CH", "ED", 256)     # uint8 (256, 256), values 0..3, in the fan as an expert draws it
    labels = model.mask(heart, "2CH", 0.5, 128)      # any phase between ED (0) and ES (1)
    shown = model.drawn_heart(heart, "4CH", 256)     # the heart those masks show, at every
                                                     #   phase (one too extreme to draw: nearer
                                                     #   the mean)
    bigger = model.move(heart, "lv_length", 1.5)     # along a slider direction, in SDs
    model.position(heart, "lv_length")               # where it sits on that direction, in SDs
    model.directions                                 # {name: label}: lv_length, lv_width, wall,
                                                     #   atrium, ef, tilt, shape1..shape3
    sick = model.preset("dilated_lv")                # model.presets: {name: (label, meaning)}
    model.ejection_fraction(heart, "4CH")            # EF by area in percent (view None: biplane)
    model.with_ejection_fraction(heart, 50.0)        # ES moved to a target EF, ED kept
    fitted = model.fit({("4CH", "ED"): labels, ...}) # the heart nearest some masks (fans=
                                                     #   {("4CH", "ED"): fan, ...}: drawn there)
    Heart.from_dict(heart.to_dict())                 # a small JSON-able record, validated
    own = ShapeModel.build(patients)                 # {patient: {(view, phase): labels}}
                                                     #   (fans={patient: {(view, phase): fan}})

A heart record names its model by the model's fingerprint (:func:`fingerprint`), and a model
refuses the hearts of another (HeartError, one line). Models built now hash everything that
places a heart: the mean, the modes and the pose statistics (``fingerprint_version`` 2). The
shipped file predates that and has no version: its fingerprint hashes the mean and the modes
only (version 1), as the hearts saved with it record it.

A random patient (:meth:`ShapeModel.draw`) fits both views' fans unshrunk, so its 2CH and 4CH
show one heart at one size, as a real patient's do (the figures: the resource's README).
Every coefficient of a heart stays within +-3 SD; masks are always a plausible heart (checked
by :func:`engine.anatomy.topology.topology_problems`, inside the picture and the fan). A heart
follows its fan: drawn in a shallower, tilted or moved fan it is scaled, turned and moved with
the fan's depth, axis and apex (:mod:`engine.anatomy.placement`; in the view's median fan it is
where the model learned it).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..fan import Fan, default_fan
from .alignment import place
from .clinical_presets import clinical_meaning, clinical_preset
from .curves import polygon_area, smooth_polyline
from .heart import LIMIT, Heart, HeartError
from .landmarks import VECTOR_LENGTH, Landmarks
from .measures import simpson_biplane_ef
from .model_building import KEYS, PHASES, VIEWS, build_statistics
from .model_file import ShapeModelError, quantised, read_statistics, write_statistics
from .placement import placement
from .rasterize import cleared_beyond_arc, draw_labels, fan_middle, fit_problems, fitted_labels, shrink

RESOURCE = ("anatomy", "shape_model.json")
CHECK_SIZE = 64  # a draw that cannot fit a view at this size is redrawn
WHOLE_SIZE = 256  # a draw is kept when both views fit unshrunk at this size (the working size)
REDRAWS = 30
SHRINK, STEPS = 0.95, 12  # a heart that does not fit shrinks by SHRINK up to STEPS times
PULLS = (1.0, 0.6, 0.3, 0.0)  # a heart that cannot be drawn is moved toward the mean by these
LAST_RESORT_STEPS = 30  # in a fan no pull fits down to SHRINK ** STEPS, hearts shrink this far
SHAPE_SLIDERS = 3  # the first principal modes are sliders too ("Shape 1".."Shape 3")
FINGERPRINT_VERSION = 2  # what models built now hash (:func:`fingerprint`)
POSE_STATISTICS = ("pose_mean", "pose_from_shape", "pose_cov")
CAMUS_TERMS = ("Derived from the CAMUS dataset (S. Leclerc et al., \"Deep Learning for Segmentation using "
               "an Open Large-Scale Dataset in 2D Echocardiography\", IEEE TMI 38(9):2198-2210, 2019), "
               "licensed CC BY-NC-SA 4.0: non-commercial research use only, cite the paper, share alike.")


def _phase(phase) -> float:
    from .parametric import phase_fraction

    return phase_fraction(phase)


class ShapeModel:
    """Statistics of the model (see the module docstring for its use)."""

    def __init__(self, stats: dict):
        self.stats = stats = quantised(stats)  # a built model equals its saved and loaded self
        self.mean = np.asarray(stats["mean"], np.float64)
        self.modes = np.asarray(stats["modes"], np.float64)
        self.mean_endo = {v: np.asarray(stats["mean_endo"][v], np.float64) for v in VIEWS}
        self.pose_mean = np.asarray(stats["pose_mean"], np.float64)
        self.pose_chol = np.linalg.cholesky(np.asarray(stats["pose_cov"], np.float64))
        self.pose_from_shape = np.asarray(stats["pose_from_shape"], np.float64)
        self.shapes = len(self.modes)
        vectors = {name: np.asarray(d["vector"]) for name, d in stats["directions"].items()}
        for i in range(min(SHAPE_SLIDERS, self.shapes)):
            vectors[f"shape{i + 1}"] = np.eye(self.shapes + len(self.pose_mean))[i]
        self._vectors = vectors
        self.directions = {name: d["label"] for name, d in stats["directions"].items()}
        self.directions.update({f"shape{i + 1}": f"Shape {i + 1}" for i in range(min(SHAPE_SLIDERS, self.shapes))})
        self.presets = {name: (p["label"], clinical_meaning(name, p["description"]))
                        for name, p in stats["presets"].items()}
        self._preset_hearts: dict[str, Heart] = {}  # made once each (an EF target takes a search)
        self.fingerprint = fingerprint(stats)
        self.terms = stats.get("terms", "")

    # -- making and reading models ---------------------------------------------------------
    @classmethod
    def build(cls, patients, variance: float = 0.97, terms: str = "", source: str = "",
              fans=None) -> "ShapeModel":
        """A model of ``patients`` ({name: {(view, phase): labels}}, or a list of such dicts)
        whose masks were drawn in ``fans`` (a dict with the patients' names, or their indices
        in the list, as keys, each {(view, phase): Fan}; default: every view's median CAMUS
        fan); DataError (one line) when too few are usable."""
        stats = build_statistics(patients, variance, fans)
        stats.update(terms=terms, source=source, fingerprint_version=FINGERPRINT_VERSION)
        return cls(stats)

    @classmethod
    def default(cls) -> "ShapeModel":
        """The shipped model (learned from the CAMUS train split; CAMUS terms apply)."""
        return _default()

    @classmethod
    def load(cls, path: Path | str) -> "ShapeModel":
        """A model saved by :meth:`save`; ShapeModelError (one line) when missing or damaged."""
        stats = read_statistics(path)
        try:
            return cls(stats)
        except (KeyError, ValueError, TypeError, IndexError, np.linalg.LinAlgError) as exc:
            raise ShapeModelError(f"{path}: not a usable shape model ({exc.__class__.__name__}: {exc})") from None

    def save(self, path: Path | str) -> None:
        write_statistics(self.stats, path)

    # -- hearts ------------------------------------------------------------------------------
    def draw(self, seed: int) -> Heart:
        """A random patient: every coefficient ~ N(0, 1) truncated at +-3, redrawn (from the
        same seed) until both views fit the view's median fan unshrunk at :data:`WHOLE_SIZE`
        (:meth:`fits_whole`), as every real patient's do; a draw that fits unshrunk at
        :data:`CHECK_SIZE` is kept at once (one that fits a smaller picture fits a larger one:
        300 of 300 did). After :data:`REDRAWS` draws: the first that fits both views at
        :data:`CHECK_SIZE` at all, else the last."""
        rng = np.random.default_rng(np.random.SeedSequence([int(seed) & (2**63 - 1), 0x5A4E]))
        fitting = None
        for _ in range(REDRAWS):
            z = rng.standard_normal(self.shapes + len(self.pose_mean))
            while np.any(np.abs(z) > LIMIT):
                bad = np.abs(z) > LIMIT
                z[bad] = rng.standard_normal(int(bad.sum()))
            heart = Heart.from_latent(z, self.shapes, self.fingerprint, int(seed))
            scales = [self.view_scale(heart, view, CHECK_SIZE) for view in VIEWS]
            if None in scales:
                continue
            if all(scale == 1.0 for scale in scales) or self.fits_whole(heart):
                return heart
            fitting = fitting or heart
        return fitting or heart

    def fits_whole(self, heart: Heart, size: int = WHOLE_SIZE) -> bool:
        """Whether ``heart`` fits both views' median fans at ``size`` without shrinking. A view
        that does not fit is shrunk on its own (:meth:`view_scale`), so a patient shrunk in
        one view only shows one heart at two sizes: before random draws were held to this,
        their 2CH/4CH LV length ratios spread 18 % wider than CAMUS patients'
        (``resources/anatomy/README.md``). The masks drawn to tell are those :meth:`mask`
        shows at ``size`` in the median fans."""
        return all(_fit_view(self, heart, view, int(size), default_fan(view), 0)[0] for view in VIEWS)

    def mean_heart(self) -> Heart:
        return Heart.from_latent(np.zeros(self.shapes + len(self.pose_mean)), self.shapes, self.fingerprint)

    def preset(self, name: str) -> Heart:
        """Preset ``name``'s heart: its position in the data, made clinically coherent where
        one measure alone is not (:mod:`engine.anatomy.clinical_presets`: a dilated LV at a
        reduced EF, a hypertrophic wall around a small cavity)."""
        if name not in self.presets:
            raise KeyError(f"no preset {name!r}; presets: {', '.join(self.presets)}")
        if name not in self._preset_hearts:
            data = Heart.from_latent(self.stats["presets"][name]["position"], self.shapes, self.fingerprint)
            self._preset_hearts[name] = clinical_preset(self, name, data)
        return self._preset_hearts[name]

    def move(self, heart: Heart, direction: str, sds: float) -> Heart:
        """``heart`` moved ``sds`` standard deviations along a slider direction (every
        coefficient kept within +-3 SD)."""
        z = self._latent(heart) + float(sds) * self._direction(direction)
        return Heart.from_latent(z, self.shapes, self.fingerprint)

    def with_ejection_fraction(self, heart: Heart, percent: float, view: str | None = "4CH") -> Heart:
        """``heart`` moved along :meth:`ejection_direction` (its end-systole changes, its
        end-diastole stays) until its EF (by area in ``view``, Simpson biplane for None) is
        ``percent``, or as near as the +-3 SD bounds allow."""
        direction = self.ejection_direction(heart, view)
        latent = self._latent(heart)

        def moved(t: float) -> Heart:
            return Heart.from_latent(latent + t * direction, self.shapes, self.fingerprint)

        def ef(t: float) -> float:
            return self.ejection_fraction(moved(t), view)

        low, high = -2 * LIMIT, 2 * LIMIT
        if ef(low) >= percent or ef(high) <= percent:
            return moved(low if ef(low) >= percent else high)
        for _ in range(30):
            mid = 0.5 * (low + high)
            low, high = (mid, high) if ef(mid) < percent else (low, mid)
        return moved(0.5 * (low + high))

    def ejection_direction(self, heart: Heart, view: str | None = "4CH", step: float = 1e-3) -> np.ndarray:
        """The unit latent direction in which ``heart``'s EF (by area in ``view``, Simpson
        biplane for None) rises fastest for the least change of its end-diastole.

        A heart's ED and ES are one draw of the model (each mode moves both phases of both
        views), and there are fewer shape coefficients than numbers in the two ED outlines
        (the shipped model: 39 against 2 x 105), so no change of EF leaves ED exactly as it
        is. What it does instead is the most likely change given the ED kept:
        the EF gradient (by finite differences) weighted by the posterior covariance of the
        coefficients when the ED landmarks are observed with the model's residual noise, as
        fitting weighs them. The poses stay as they are (the pose coefficients undo what the
        shape change would do to them), so ED stays where it is in the picture too."""
        latent = self._latent(heart)
        base = self.ejection_fraction(heart, view)
        gradient = np.array([(self.ejection_fraction(Heart.from_latent(latent + step * self._lifted(e), self.shapes,
                                                                        self.fingerprint), view) - base) / step
                             for e in np.eye(self.shapes)])
        ed = np.concatenate([self.modes[:, KEYS.index((v, "ED")) * VECTOR_LENGTH:][:, :VECTOR_LENGTH] for v in VIEWS],
                            axis=1)
        undo = self._pose_undo
        precision = ed @ ed.T / max(float(self.stats["noise"]), 1e-8) + np.eye(self.shapes) + undo.T @ undo
        direction = self._lifted(np.linalg.solve(precision, gradient))
        return direction / max(float(np.linalg.norm(direction)), 1e-12)

    @property
    def _pose_undo(self) -> np.ndarray:
        """(poses, shapes): the pose coefficients that cancel a shape change's effect on the poses."""
        return np.linalg.solve(self.pose_chol, self.pose_from_shape.T)

    def _lifted(self, shape_change: np.ndarray) -> np.ndarray:
        """A change of the shape coefficients, with the pose coefficients that keep the poses."""
        return np.concatenate([shape_change, -self._pose_undo @ shape_change])

    def position(self, heart: Heart, direction: str) -> float:
        """Where ``heart`` sits along a slider direction, in SDs from the mean."""
        return float(self._latent(heart) @ self._direction(direction))

    def _direction(self, name: str) -> np.ndarray:
        if name not in self._vectors:
            raise KeyError(f"no direction {name!r}; directions: {', '.join(self._vectors)}")
        return self._vectors[name]

    def _latent(self, heart: Heart) -> np.ndarray:
        if len(heart.shape) != self.shapes or len(heart.pose) != len(self.pose_mean):
            raise HeartError(f"this heart was made with another shape model ({len(heart.shape)} shape and "
                             f"{len(heart.pose)} pose coefficients, this model has {self.shapes} and "
                             f"{len(self.pose_mean)})")
        if not heart.model.strip():
            raise HeartError("this heart names no shape model")
        if heart.model != self.fingerprint:
            raise HeartError(f"this heart was made with another shape model ({heart.model[:12]}, "
                             f"this model is {self.fingerprint})")
        return heart.latent

    # -- geometry ----------------------------------------------------------------------------
    def _normalised(self, heart: Heart) -> np.ndarray:
        return self.mean + np.asarray(heart.shape) @ self.modes

    def poses(self, heart: Heart) -> dict[str, np.ndarray]:
        """{view: (x, y, log_scale, tilt)} of a heart."""
        z = self._latent(heart)
        p = self.pose_mean + z[:self.shapes] @ self.pose_from_shape + self.pose_chol @ z[self.shapes:]
        return {view: p[4 * i:4 * i + 4] for i, view in enumerate(VIEWS)}

    def landmarks(self, heart: Heart, view: str, phase="ED", fan: Fan | None = None) -> Landmarks:
        """The landmarks of ``heart`` in ``view`` at ``phase`` (ED, ES or a fraction between),
        in fractions of the picture: where the model puts them (in the view's median CAMUS
        fan), or placed in ``fan`` (:mod:`engine.anatomy.placement`)."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        f, x = _phase(phase), self._normalised(heart)
        block = lambda p: x[KEYS.index((view, p)) * VECTOR_LENGTH:][:VECTOR_LENGTH]  # noqa: E731
        marks = Landmarks.from_vector((1 - f) * block("ED") + f * block("ES"))
        pose = self.poses(heart)[view]
        placed = Landmarks(place(marks.endo, pose), marks.thickness * np.exp(pose[2]), place(marks.atrium, pose))
        return placed if fan is None else placement(fan, default_fan(view)).landmarks(placed)

    def view_scale(self, heart: Heart, view: str, size: int, fan: Fan | None = None) -> float | None:
        """The factor (1, 0.95, 0.95 ** 2 ...) by which ``heart``, placed in ``fan`` (default:
        the view's median CAMUS fan), shrinks toward the fan's middle so that its ED and ES
        masks in ``view`` both fit at ``size``; None when none down to 0.95 ** 12 does. One
        factor for the whole cycle, so shrinking never changes the ejection fraction."""
        fan = default_fan(view) if fan is None else fan
        return _fit_view(self, heart, view, int(size), fan)[0]

    def mask(self, heart: Heart, view: str, phase="ED", size: int = 256, fan: Fan | None = None) -> np.ndarray:
        """The (size, size) uint8 label map of ``heart``: placed in ``fan`` (default: the view's
        median CAMUS fan) with the fan's apex, axis and depth (:mod:`engine.anatomy.placement`),
        with a plausible topology, running on past the fan's sides no further than real hearts
        do (:func:`engine.anatomy.rasterize.fit_problems`). A heart that would not fit is
        shrunk a little toward the fan's middle (:meth:`view_scale`), and moved toward the
        mean heart as a last resort (:meth:`drawn_heart`). That choice is made once per heart,
        view, size and fan, by its ED and ES: every phase of a view shows the same heart at the
        same scale, so its masks keep that heart's ejection fraction (a phase between that
        does not fit at that scale shrinks a little more, still that heart)."""
        fan, f, size = default_fan(view) if fan is None else fan, _phase(phase), int(size)
        drawn_heart, scale, drawn = _drawing(self, heart, view, size, fan)
        if drawn is not None and f in (0.0, 1.0):
            return drawn[int(f)].copy()
        marks = shrink(self.landmarks(drawn_heart, view, f, fan), scale, fan_middle(fan))
        return fitted_labels(marks, size, size, fan)[0]

    def drawn_heart(self, heart: Heart, view: str, size: int = 256, fan: Fan | None = None) -> Heart:
        """The heart :meth:`mask` shows for ``heart`` in ``view`` at every phase: ``heart``
        itself when its ED and ES masks fit at ``size`` in ``fan`` (default: the view's median
        CAMUS fan), shrunk or not, else the first of it moved 40 %, 70 % and all the way to the
        mean heart that does; in a fan where none does, the first that does once shrunk
        further (down to 0.95 ** 30), the mean heart when not even that fits."""
        fan = default_fan(view) if fan is None else fan
        return _drawing(self, heart, view, int(size), fan)[0]

    def ejection_fraction(self, heart: Heart, view: str | None = None) -> float:
        """EF in percent: by area of the cavity in ``view``, or Simpson biplane for None."""
        if view is None:
            return self.biplane_ejection_fraction(heart, heart)
        ed, es = (polygon_area(self._endocardium(heart, view, phase)) for phase in PHASES)
        return 100.0 * (ed - es) / ed

    def biplane_ejection_fraction(self, two_chamber: Heart, four_chamber: Heart) -> float:
        """Simpson biplane EF in percent of the 2CH outlines of ``two_chamber`` and the 4CH
        ones of ``four_chamber``: one heart's, or the two that a patient's masks show when
        one view shows another heart (:meth:`drawn_heart`)."""
        return simpson_biplane_ef(*(self._endocardium(heart, view, phase)
                                    for heart, view in ((two_chamber, "2CH"), (four_chamber, "4CH"))
                                    for phase in PHASES))

    def _endocardium(self, heart: Heart, view: str, phase: str) -> np.ndarray:
        return smooth_polyline(self.landmarks(heart, view, phase).endo, 4)

    def fit(self, masks: dict, fans: dict | None = None) -> Heart:
        """The heart nearest some label maps ({(view, phase): labels}, any subset holding at
        least one view's ED or ES), each drawn in its fan in ``fans`` ({(view, phase): Fan};
        default: the view's median CAMUS fan; :func:`engine.anatomy.fitting.fit_heart`)."""
        from .fitting import fit_heart

        return fit_heart(self, masks, fans)


def fingerprint(stats: dict) -> str:
    """The 12 hex digits that name a model's statistics (``stats`` as a model holds them,
    rounded as saved), by their ``fingerprint_version``: 2 hashes the mean, the modes and the
    pose statistics, so two models that place hearts differently never share one; 1 (no
    version: the shipped file) the mean and the modes only. ValueError for another version.
    The two never hash the same bytes, so a fingerprint names one model whatever its version:
    version 1 hashes whole float64 numbers (a multiple of 8 bytes), version 2 the same after a
    2-byte prefix; two models share one only by a chance collision of the 48 bits kept."""
    version = stats.get("fingerprint_version", 1)
    parts = [np.asarray(stats["mean"], np.float64), np.asarray(stats["modes"], np.float64)]
    if version == 1:
        return hashlib.sha256(b"".join(part.tobytes() for part in parts)).hexdigest()[:12]
    if version != 2:
        raise ValueError(f"fingerprint version {str(version)[:20]} is not one this version of cardiGAN Studio reads")
    parts += [np.asarray(stats[name], np.float64) for name in POSE_STATISTICS]
    return hashlib.sha256(b"v2" + b"".join(part.tobytes() for part in parts)).hexdigest()[:12]


@lru_cache(maxsize=16)
def _inside(fan: Fan, size: int) -> np.ndarray:
    from ..fan import fan_mask

    inside = fan_mask(fan, size, size)
    inside.setflags(write=False)
    return inside


@lru_cache(maxsize=64)
def _drawing(model: ShapeModel, heart: Heart, view: str, size: int, fan: Fan):
    """(drawn heart, scale, (ED labels, ES labels) or None) of :meth:`ShapeModel.mask`: the
    least pulled heart whose ED and ES fit at one scale down to SHRINK ** STEPS, else down to
    SHRINK ** LAST_RESORT_STEPS; else the mean heart at the last scale, no masks fitting. The
    last resort tries only the scales below SHRINK ** STEPS: every pull failed at the others."""
    latent = model._latent(heart)
    pulled = [Heart.from_latent(latent * pull, model.shapes, model.fingerprint) if pull < 1.0 else heart
              for pull in PULLS]
    for steps, first in ((STEPS, 0), (LAST_RESORT_STEPS, STEPS + 1)):
        for candidate in pulled:
            scale, drawn = _fit_view(model, candidate, view, size, fan, steps, first)
            if scale is not None:
                return candidate, scale, drawn
    return pulled[-1], SHRINK ** LAST_RESORT_STEPS, None


def _fit_view(model: ShapeModel, heart: Heart, view: str, size: int, fan: Fan, steps: int = STEPS,
              first: int = 0):
    """(scale, (ED labels, ES labels)) of :meth:`ShapeModel.view_scale` (shrunk ``first`` to
    ``steps`` times), the masks as drawn, cleared beyond the fan's arc (read-only); (None, None) when no
    scale fits. Drawn once per heart, view, size, fan and steps however the arguments are
    passed: :meth:`ShapeModel.view_scale`, :meth:`ShapeModel.fits_whole` and :func:`_drawing`
    share the drawings (scale 1 is tried on its own, so a draw's check finds its masks)."""
    size, steps, first = int(size), int(steps), int(first)
    if first == 0 < steps:
        whole = _fitted_view(model, heart, view, size, fan, 0, 0)
        return whole if whole[0] is not None else _fitted_view(model, heart, view, size, fan, steps, 1)
    return _fitted_view(model, heart, view, size, fan, steps, first)


@lru_cache(maxsize=64)
def _fitted_view(model: ShapeModel, heart: Heart, view: str, size: int, fan: Fan, steps: int, first: int):
    """:func:`_fit_view`, cached: called only there, always with every argument in place (a
    keyword would make another cache key for the same drawing)."""
    inside = _inside(fan, size)
    marks = [model.landmarks(heart, view, phase, fan) for phase in PHASES]
    for step in range(first, steps + 1):
        scale, drawn = SHRINK ** step, []
        for m in marks:
            shrunk = shrink(m, scale, fan_middle(fan))
            labels = cleared_beyond_arc(draw_labels(shrunk, size, size), fan)
            if fit_problems(shrunk, labels, inside):
                break
            labels.setflags(write=False)
            drawn.append(labels)
        else:
            return scale, tuple(drawn)
    return None, None


@lru_cache(maxsize=1)
def _default() -> ShapeModel:
    from ..resources import resource_path

    path = resource_path(*RESOURCE)
    if not path.is_file():
        raise ShapeModelError(f"the shipped shape model is missing ({path}); reinstall cardiGAN Studio")
    return ShapeModel.load(path)
