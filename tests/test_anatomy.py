"""The anatomical mask generator: plausible, consistent, deterministic apical label maps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.anatomy import MAX_TILT, PHASES, VIEWS, make_mask, random_patient, template_mask
from engine.labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM

SEEDS = range(12)


def dilate(mask: np.ndarray) -> np.ndarray:
    """4-neighbour dilation by one pixel."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean())


def axis_angle(mask: np.ndarray) -> float:
    """Angle of the principal axis from the vertical, degrees, positive: lower end to the right."""
    ys, xs = np.nonzero(mask)
    cov = np.cov(np.stack([xs - xs.mean(), ys - ys.mean()]).astype(float))
    evals, evecs = np.linalg.eigh(cov)
    vx, vy = evecs[:, int(np.argmax(evals))]
    if vy < 0:
        vx, vy = -vx, -vy
    return math.degrees(math.atan2(vx, vy))


@pytest.mark.parametrize("size", [64, 256])
def test_every_class_present_and_only_label_values(size):
    for seed in SEEDS:
        patient = random_patient(seed)
        for view in VIEWS:
            for phase in PHASES:
                labels = make_mask(patient, view, phase, size)
                assert labels.shape == (size, size) and labels.dtype == np.uint8
                assert set(np.unique(labels).tolist()) == {0, 1, 2, 3}, (seed, view, phase)


def test_myocardium_wraps_the_cavity_but_is_open_at_the_base():
    for seed in SEEDS:
        for view in VIEWS:
            for phase in PHASES:
                labels = make_mask(random_patient(seed), view, phase, 128)
                cavity = labels == LV_CAVITY
                rim = dilate(cavity) & ~cavity  # pixels just outside the cavity
                neighbours = labels[rim]
                on_myo = np.mean(neighbours == MYOCARDIUM)
                on_la = np.mean(neighbours == LEFT_ATRIUM)
                assert on_myo > 0.6, (seed, view, phase, on_myo)  # a band around the cavity
                assert on_la > 0.05, (seed, view, phase, on_la)  # the mitral opening
                assert np.mean(neighbours == BACKGROUND) < 0.05  # nothing leaks out


def test_apex_at_the_top_and_atrium_below_the_cavity():
    for seed in SEEDS:
        for view in VIEWS:
            labels = make_mask(random_patient(seed), view, "ED", 128)
            cavity, atrium = labels == LV_CAVITY, labels == LEFT_ATRIUM
            cy = centroid(cavity)[1]
            ay = centroid(atrium)[1]
            rows = np.nonzero(cavity.any(axis=1))[0]
            height = rows.max() - rows.min()
            assert ay > cy + 0.4 * height, (seed, view)
            assert rows.min() < 0.3 * 128  # apex toward the transducer
            cols = np.nonzero(cavity.any(axis=0))[0]
            assert height > 1.3 * (cols.max() - cols.min())  # elongated along the long axis
            # the atrium sits under the base: its highest row is near the cavity's lowest
            assert abs(np.nonzero(atrium.any(axis=1))[0].min() - rows.max()) <= 0.15 * height


def test_systole_shrinks_the_cavity_keeps_the_wall_and_grows_the_atrium():
    for seed in SEEDS:
        patient = random_patient(seed)
        for view in VIEWS:
            ed = make_mask(patient, view, "ED", 128)
            es = make_mask(patient, view, "ES", 128)
            assert (es == LV_CAVITY).sum() < 0.85 * (ed == LV_CAVITY).sum()
            assert (es == LEFT_ATRIUM).sum() > 0.95 * (ed == LEFT_ATRIUM).sum()
            # the wall thickens while the cavity shrinks: its area changes little (real
            # masks: ES/ED myocardium area 0.84-1.12 for 90 % of patients)
            def thickness(labels):
                cavity = labels == LV_CAVITY
                return (labels == MYOCARDIUM).sum() / (dilate(cavity) & ~cavity).sum()
            assert thickness(es) >= 0.95 * thickness(ed)
            ratio = (es == MYOCARDIUM).sum() / (ed == MYOCARDIUM).sum()
            assert 0.7 < ratio < 1.3, (seed, view, ratio)


def test_fitted_generator_falls_in_the_real_ranges():
    """On a few hundred seeded masks, each descriptor's median lies inside the real masks'
    5-95 % range and most real masks fall inside the generated 5-95 % range."""
    from engine.anatomy.parametric_table import REAL_DESCRIPTORS
    from engine.anatomy.descriptors import DESCRIPTORS, coverage, describe_all

    masks = [make_mask(random_patient(seed), view, phase, 128)
             for seed in range(80) for view in VIEWS for phase in PHASES]
    generated = describe_all(masks)
    for name in DESCRIPTORS:
        low, _, high = REAL_DESCRIPTORS[name]
        median = float(np.nanmedian(generated[name]))
        assert low <= median <= high, (name, median, (low, high))
        # a real sample stand-in: evenly spread over the real 5-95 % range
        stand_in = np.linspace(low, high, 50)
        assert coverage(stand_in, generated[name]) >= 0.4, name


def test_tilt_is_bounded_and_shows_in_the_mask():
    tilts = [random_patient(seed).tilt for seed in range(300)]
    assert max(abs(t) for t in tilts) <= MAX_TILT
    assert np.std(tilts) > 2.0  # patients do differ
    for seed in range(40):
        patient = random_patient(seed)
        for view in VIEWS:
            labels = make_mask(patient, view, "ED", 256)
            # the long axis from apex (top) to base: lower end to the right = positive tilt
            measured = axis_angle(labels == LV_CAVITY)
            assert abs(measured) <= MAX_TILT + 3.0, (seed, view, measured)
            assert abs(measured - patient.tilt) <= 7.0, (seed, view, measured, patient.tilt)


def test_same_seed_same_masks_and_different_seeds_differ():
    for view in VIEWS:
        for phase in PHASES:
            a = make_mask(random_patient(7), view, phase, 96)
            b = make_mask(random_patient(7), view, phase, 96)
            c = make_mask(random_patient(8), view, phase, 96)
            assert np.array_equal(a, b)
            assert (a != c).mean() > 0.01
    assert random_patient(7) == random_patient(7)


def test_views_differ_and_4ch_leaves_room_for_the_right_heart():
    right_shift = []
    for seed in SEEDS:
        patient = random_patient(seed)
        two, four = make_mask(patient, "2CH", "ED", 128), make_mask(patient, "4CH", "ED", 128)
        assert (two != four).mean() > 0.01
        right_shift.append(centroid(four == LV_CAVITY)[0] - centroid(two == LV_CAVITY)[0])
    assert min(right_shift) > 0.0


def test_masks_scale_with_the_size():
    patient = random_patient(3)
    big = make_mask(patient, "4CH", "ES", 256)
    small = make_mask(patient, "4CH", "ES", 64)
    down = big[2::4, 2::4]
    for label in (LV_CAVITY, MYOCARDIUM, LEFT_ATRIUM):
        a, b = down == label, small == label
        assert (a & b).sum() / (a | b).sum() > 0.75


def test_template_mask_and_bad_arguments():
    from engine.anatomy import ShapeModel

    labels = template_mask("2CH", "ES", seed=5, size=64)  # templates come from the shape model now
    model = ShapeModel.default()
    assert np.array_equal(labels, model.mask(model.draw(5), "2CH", "ES", 64))
    with pytest.raises(ValueError):
        make_mask(random_patient(0), "3CH", "ED")
    with pytest.raises(ValueError):
        make_mask(random_patient(0), "4CH", "MD")


def test_a_mask_is_fitted_as_end_systole_when_told():
    """The ES key frame's Fit to mask: its mask is fitted as ES, not taken for a small ED."""
    from engine.anatomy import ShapeModel
    from engine.anatomy.fitting import fit_mask

    model = ShapeModel.default()
    es = model.mask(model.draw(3), "4CH", "ES", 128)
    heart, view, score = fit_mask(model, es, views=("4CH",), phase="ES")
    assert score > fit_mask(model, es, views=("4CH",))[2] and score > 0.8
    with pytest.raises(ValueError, match="ED or ES"):
        fit_mask(model, es, phase="mid")


def test_the_lv_size_in_mm_follows_the_pixel_spacing_across_and_down():
    from engine.anatomy.descriptors import describe, lv_size_mm

    labels = np.zeros((40, 40), np.uint8)
    labels[5:35, 10:20] = LV_CAVITY  # 30 rows down, 10 columns across
    labels[0, 0] = LV_CAVITY  # a stray pixel: measured on the largest piece, as describe does
    length, area = lv_size_mm(labels, (0.5, 0.5))
    assert length == pytest.approx(describe(labels)["lv_length"] * 40 * 0.5) == pytest.approx(29 * 0.5)
    assert area == pytest.approx(300 * 0.25 / 100)
    length, area = lv_size_mm(labels, (1.0, 0.1))  # wide pixels: 10 mm across, 3 mm down
    assert length == pytest.approx(9 * 1.0) and area == pytest.approx(300 * 0.1 / 100)
    assert lv_size_mm(np.zeros((8, 8), np.uint8), (0.3, 0.3)) is None
    with pytest.raises(ValueError, match="not two positive millimetre values"):
        lv_size_mm(labels, (0.0, 0.3))
