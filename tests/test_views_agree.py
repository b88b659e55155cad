"""One generated patient is one heart in both apical views: its 2CH and 4CH agree in size as
a CAMUS patient's do (the bounds below come from the CAMUS train split, measured as
``resources/anatomy/README.md`` says; these tests read no CAMUS data)."""

import numpy as np
import pytest

from engine.anatomy import ShapeModel
from engine.anatomy.curves import polygon_area
from engine.anatomy.measures import disc_widths
from engine.anatomy.shape_model import WHOLE_SIZE

# The 400 CAMUS train patients at ED, each mask measured in its fan (both views' fans are as
# deep within 0.2 %): the 2CH/4CH LV length ratio has its 10th percentile at 0.899, median
# 1.008, 90th 1.126; the LV cavity area ratio 0.804, 1.002, 1.255. The bounds allow for the
# sampling error of 100 patients (about 0.02 on a length percentile, 0.04 on an area one)
# and for measuring outlines here, pixels there. Views drawn with independent poses would
# spread to about 0.85 and 1.18 in length.
LENGTH_P10, LENGTH_MEDIAN, LENGTH_P90 = 0.86, (0.96, 1.06), 1.16
AREA_P10, AREA_MEDIAN, AREA_P90 = 0.74, (0.92, 1.09), 1.34
PATIENTS = 100


@pytest.fixture(scope="module")
def model():
    return ShapeModel.default()


def test_a_random_patient_is_drawn_unshrunk_in_both_views(model):
    # a view that does not fit its fan is shrunk on its own: a quarter of the draws were
    # shown smaller in one view than in the other
    for seed in range(16):
        heart = model.draw(seed)
        assert [model.view_scale(heart, view, WHOLE_SIZE) for view in ("2CH", "4CH")] == [1.0, 1.0], seed


def test_random_patients_two_views_agree_as_camus_patients_do(model):
    lengths, areas = [], []
    for seed in range(1000, 1000 + PATIENTS):
        heart = model.draw(seed)
        two, four = (model.landmarks(heart, view, "ED").endo for view in ("2CH", "4CH"))
        lengths.append(disc_widths(two)[1] / disc_widths(four)[1])
        areas.append(polygon_area(two) / polygon_area(four))
    p10, median, p90 = np.percentile(lengths, [10, 50, 90])
    assert LENGTH_P10 <= p10 and LENGTH_MEDIAN[0] <= median <= LENGTH_MEDIAN[1] and p90 <= LENGTH_P90, \
        (p10, median, p90)
    p10, median, p90 = np.percentile(areas, [10, 50, 90])
    assert AREA_P10 <= p10 and AREA_MEDIAN[0] <= median <= AREA_MEDIAN[1] and p90 <= AREA_P90, (p10, median, p90)
