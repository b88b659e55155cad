"""A mask's anatomy record is judged and kept alike wherever a mask is read: the studio's
open (cardigan_app.mask_files) and an export's masks folder (engine.export.sources)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.anatomy import ShapeModel
from engine.anatomy.heart import ANATOMY_KEY, Heart, anatomy_record
from engine.export.sources import carried_anatomy, folder_masks
from engine.maskio import write_label_png


@pytest.fixture(scope="module")
def model():
    return ShapeModel.default()


def _record(shape_model, **heart_fields) -> dict:
    record = json.loads(json.dumps(anatomy_record(shape_model.draw(5), "4CH", 0.0)))
    record["heart"].update(heart_fields)
    return record


def _studio_reading(text: dict[str, str]):
    from cardigan_app.mask_files import anatomy_in_png_text

    return anatomy_in_png_text(text)


def test_an_export_keeps_the_same_fields_of_an_anatomy_record_as_the_studio(model, tmp_path):
    """A record with fields of its own (a note, a phase written as a whole number) was passed
    on by an export as it was, while the studio kept only the view, the phase and the heart."""
    record = _record(model)
    record.update(phase=0, note="drawn elsewhere", extra={"x": 1})
    text = {ANATOMY_KEY: json.dumps(record)}
    kept = {"view": "4CH", "phase": 0.0, "heart": record["heart"]}
    exported, problem = carried_anatomy(text)
    assert problem is None and exported == kept and isinstance(exported["phase"], float)
    assert _studio_reading(text) == (kept, None)

    masks = tmp_path / "masks"
    masks.mkdir()
    labels = model.mask(Heart.from_dict(record["heart"]), "4CH", "ED", 64)
    write_label_png(masks / "p_4CH_ED.png", labels, text=text)
    (patient,) = folder_masks(masks)
    assert patient.items[0].anatomy == kept
    assert np.array_equal(patient.items[0].labels, labels)
