"""A mask's anatomy record is judged and kept alike wherever a mask is read: the studio's
open (cardigan_app.mask_reading) and an export's masks folder (engine.export.sources)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.anatomy import ShapeModel
from engine.anatomy.heart import ANATOMY_KEY, Heart, HeartError, anatomy_record, anatomy_record_problem
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
    from cardigan_app.mask_reading import anatomy_in_png_text

    return anatomy_in_png_text(text)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_heart_record_naming_no_shape_model_is_refused_everywhere_in_one_line(model, tmp_path, blank):
    """An empty fingerprint names no model: it was taken as the model in use, so a record of
    any model with the same number of modes was drawn as another heart."""
    record = _record(model, model=blank)
    problem = anatomy_record_problem(record, model)
    assert problem == "its anatomy record's heart is not usable (the heart record names no shape model)"
    missing = _record(model)
    del missing["heart"]["model"]
    assert anatomy_record_problem(missing, model) == problem

    text = {ANATOMY_KEY: json.dumps(record)}
    assert carried_anatomy(text) == (None, problem)
    assert _studio_reading(text) == (None, problem)
    with pytest.raises(HeartError, match="names no shape model"):
        Heart.from_dict(record["heart"])
    own = Heart.from_dict(_record(model)["heart"])
    with pytest.raises(HeartError, match="^this heart names no shape model$"):
        model.mask(Heart(own.shape, own.pose, blank), "4CH", "ED", 32)

    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "blank_4CH_ED.png", model.mask(own, "4CH", "ED", 64), text=text)
    told: list[str] = []
    (patient,) = folder_masks(masks, told.append)
    assert patient.items[0].anatomy is None
    assert told == [f"1 mask(s) taken as plain labels, their anatomy record set aside: blank_4CH_ED.png: {problem}"]


def test_a_heart_record_with_another_number_of_pose_coefficients_is_refused_by_the_one_check(model):
    """The check counted the shape coefficients only: a record with a pose of another length
    passed it and failed later, when drawn, in other words."""
    pose = len(model.pose_mean)
    record = _record(model, pose=[0.0] * (pose - 1))
    problem = anatomy_record_problem(record, model)
    assert problem == (f"its anatomy record's heart has {pose - 1} pose coefficients, this shape model "
                       f"has {pose}")
    assert carried_anatomy({ANATOMY_KEY: json.dumps(record)}) == (None, problem)
    assert anatomy_record_problem(_record(model, pose=[0.0] * pose), model) is None
    shapes = _record(model, shape=[0.0] * (model.shapes + 1))
    assert anatomy_record_problem(shapes, model) == (f"its anatomy record's heart has {model.shapes + 1} shape "
                                                     f"coefficients, this shape model has {model.shapes}")


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
