"""Where hearts come from: making, measuring and checking apical label maps.

A heart here is a label map of an apical 2CH or 4CH view (values of :mod:`engine.labels`:
LV cavity, myocardium, left atrium) at a phase between end-diastole (ED) and end-systole (ES).

Making hearts: the statistical shape model, learned from real CAMUS masks
- ``shape_model.py``: :class:`ShapeModel`, the API (draw a patient, rasterise any view and
  phase, move along slider directions, presets, ejection fraction, fit masks, build a model);
- ``heart.py``: :class:`Heart`, one drawn patient as a few numbers, and its JSON record;
- ``landmarks.py``: a label map -> corresponding landmarks (endocardium through the apex,
  wall thickness along its normals, atrium outline);
- ``alignment.py``: pose (position, scale, tilt) and Procrustes alignment;
- ``model_building.py``: landmarks of many patients -> the model's statistics (PCA of both
  views at ED and ES together, pose distribution, slider directions, presets);
- ``fitting.py``: label maps -> the nearest heart;
- ``clinical_presets.py``: presets moved to what a cardiologist calls them (a dilated LV
  at a reduced EF, a hypertrophic wall around a small cavity);
- ``placement.py``: hearts follow the fan: the similarity that takes the view's median fan
  (where the model learned its hearts) onto another fan's apex, axis and depth;
- ``rasterize.py``: landmarks -> a valid uint8 label map of any size, checked against the fan;
- ``curves.py``: outlines, resampling, smoothing and filling of plane curves;
- ``model_file.py``: the statistics file. The shipped one is
  ``resources/anatomy/shape_model.json`` (derived from CAMUS: its ``terms`` apply), rebuilt
  by ``scripts/build_shape_model.py --data data/camus256`` from the train split.

- ``patients.py``: hearts for users (phantom, export, New mask templates): :func:`template_mask`,
  and the manifest's record of a generated patient (ejection fractions, the heart).

The older hand-built generator, kept for comparison (``scripts/shape_model_report.py``) and for
tests that need a second source of hearts: ``parametric.py`` (:func:`random_patient`,
:func:`make_mask`) and ``parametric_table.py`` (its parameter ranges fitted to real masks).

Measuring and checking hearts
- ``descriptors.py``: shape descriptors, and the joint k-NN precision/recall and in-range
  share that compare generated masks with real ones (``scripts/shape_model_report.py``);
- ``measures.py``: ejection fraction by area and by Simpson's biplane method;
- ``topology.py``: the topology rules of a plausible heart (:func:`topology_problems`).

Quick start::

    from engine.anatomy import ShapeModel
    model = ShapeModel.default()
    heart = model.draw(seed=7)
    labels = model.mask(heart, "4CH", "ED", size=256)    # uint8 (256, 256), values 0..3
    model.ejection_fraction(heart, "4CH")                # percent, by area
"""

from .parametric import (MAX_TILT, PATHOLOGIES, PHASES, SLIDERS, VIEWS, PatientAnatomy,
                         anatomy_from_dict, anatomy_to_dict, bullet_half_width, make_mask,
                         phase_fraction, random_patient, with_changes, with_pathology)
from .heart import Heart, HeartError
from .model_file import ShapeModelError
from .shape_model import ShapeModel
from .patients import template_mask

__all__ = [
    "MAX_TILT", "PATHOLOGIES", "PHASES", "SLIDERS", "VIEWS", "PatientAnatomy", "anatomy_from_dict",
    "anatomy_to_dict", "bullet_half_width", "make_mask", "phase_fraction", "random_patient",
    "template_mask", "with_changes", "with_pathology", "Heart", "HeartError", "ShapeModel", "ShapeModelError",
]
