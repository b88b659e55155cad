"""The ultrasound simulator: fan geometry, echogenicity, determinism, speckle physics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.anatomy import make_mask, random_patient
from engine.errors import MaskError
from engine.labels import LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM
from engine.fan import Fan, FanError, default_fan, fan_mask
from engine.simulator import OPENING_DEG, sector_mask, simulate


def erode(mask: np.ndarray, steps: int = 1) -> np.ndarray:
    for _ in range(steps):
        inner = mask.copy()
        inner[1:] &= mask[:-1]
        inner[:-1] &= mask[1:]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        mask = inner
    return mask


@pytest.fixture(scope="module")
def masks():
    return {(seed, view): make_mask(random_patient(seed), view, "ED", 128)
            for seed in range(3) for view in ("2CH", "4CH")}


def test_black_outside_the_fan_and_bright_inside(masks):
    for (seed, view), labels in masks.items():
        image = simulate(labels, seed=seed, view=view)
        assert image.shape == labels.shape and image.dtype == np.uint8
        fan = sector_mask(*labels.shape)
        assert not image[~fan].any()
        assert image[fan].mean() > 15
        assert (image[fan] > 0).mean() > 0.6  # blood may reach black


def test_fan_geometry_apex_at_top_centre_about_64_degrees_as_in_camus():
    fan = sector_mask(200, 200)
    assert fan[:3].sum() <= 6  # a point at the top
    assert fan[2, 99] or fan[2, 100]
    row = 100
    cols = np.nonzero(fan[row])[0]
    half_angle = math.degrees(math.atan2((cols.max() - cols.min() + 1) / 2, row + 0.5))
    assert abs(2 * half_angle - OPENING_DEG) < 3.0
    assert 60 <= OPENING_DEG <= 70
    assert abs((cols.max() + cols.min()) / 2 - 99.5) <= 1.0  # symmetric about the centre
    assert fan[185:194, 100].all() and not fan[199, :5].any()  # deep centre inside, corners not


def test_blood_is_darker_than_myocardium(masks):
    for (seed, view), labels in masks.items():
        image = simulate(labels, seed=seed, view=view).astype(float)
        myo = image[erode(labels == MYOCARDIUM)].mean()
        lv = image[erode(labels == LV_CAVITY, 2)].mean()
        la = image[erode(labels == LEFT_ATRIUM, 2)].mean()
        # real CAMUS: pools about 35 grey levels below the wall (LV 71, LA 78, myocardium 108)
        assert lv < myo - 12, (seed, view, lv, myo)
        assert la < myo - 12, (seed, view, la, myo)
        assert lv > 20 and la > 20  # grey with clutter, not black


def test_same_seed_same_image_other_seed_other_speckle(masks):
    labels = masks[(0, "4CH")]
    a = simulate(labels, seed=11, view="4CH")
    b = simulate(labels, seed=11, view="4CH")
    c = simulate(labels, seed=12, view="4CH", patient_seed=11)
    assert np.array_equal(a, b)
    myo = erode(labels == MYOCARDIUM)
    diff = np.abs(a.astype(int) - c.astype(int))[myo].mean()
    assert diff > 10  # independent speckle
    # the same patient look: overall brightness of the myocardium is close
    assert abs(a[myo].mean() - c[myo].mean()) < 0.25 * a[myo].mean()


def test_right_heart_added_in_4ch_only():
    labels = make_mask(random_patient(4), "4CH", "ED", 128)
    four = simulate(labels, seed=1, view="4CH").astype(float)
    two = simulate(labels, seed=1, view="2CH").astype(float)
    # a box left of the septum at mid-ventricle: right ventricle (blood) in 4CH, tissue in 2CH
    rows = np.nonzero((labels == LV_CAVITY).any(axis=1))[0]
    mid = (rows.min() + rows.max()) // 2
    septum = np.nonzero(labels[mid] == MYOCARDIUM)[0].min()
    box = (slice(mid - 4, mid + 5), slice(max(0, septum - 12), septum - 3))
    assert four[box].mean() < two[box].mean() - 15


def test_speckle_is_elongated_across_the_beam():
    labels = np.full((160, 160), MYOCARDIUM, dtype=np.uint8)
    image = simulate(labels, seed=3, view="2CH").astype(float)
    patch = image[100:140, 60:100]
    patch = patch - patch.mean()

    def correlation(dy, dx):
        a = patch[: patch.shape[0] - dy, : patch.shape[1] - dx]
        b = patch[dy:, dx:]
        return float((a * b).mean() / patch.var())

    # deep in the fan the beam is wider than the pulse is long
    assert correlation(0, 3) > correlation(3, 0) + 0.1


def test_any_size_from_32_and_odd_shapes():
    for shape in [(32, 32), (57, 40), (40, 90)]:
        labels = np.zeros(shape, dtype=np.uint8)
        labels[shape[0] // 3: shape[0] // 2, shape[1] // 3: shape[1] // 2] = LV_CAVITY
        image = simulate(labels, seed=0)
        assert image.shape == shape
        assert not image[~sector_mask(*shape)].any()
    empty = simulate(np.zeros((48, 48), np.uint8), seed=0)  # no heart at all still works
    assert empty.any()
    with pytest.raises(MaskError, match="at least 32"):
        simulate(np.zeros((31, 64), np.uint8))
    with pytest.raises(MaskError, match="7"):
        simulate(np.full((64, 64), 7, np.uint8))
    with pytest.raises(MaskError):
        simulate(np.zeros((64, 64), np.uint8), view="3CH")


def test_simulator_model_through_the_cli(tmp_path, capsys):
    from engine.cli.main import main
    from engine.maskio import write_label_png
    from PIL import Image

    labels = make_mask(random_patient(2), "4CH", "ES", 96)
    write_label_png(tmp_path / "m.png", labels)
    rc = main(["synthesize", "--model", "simulator", "--mask", str(tmp_path / "m.png"),
               "--out", str(tmp_path / "x.png"), "--seed", "5"])
    assert rc == 0, capsys.readouterr().err
    out = np.asarray(Image.open(tmp_path / "x.png"))
    assert out.shape == (96, 96)
    assert not out[~sector_mask(96, 96, default_fan())].any()  # a plain mask gets the median CAMUS fan
    assert out[erode(labels == MYOCARDIUM)].mean() > out[erode(labels == LV_CAVITY, 2)].mean() + 12


def test_view_is_guessed_from_where_the_ventricle_sits():
    labels = make_mask(random_patient(0), "2CH", "ED", 128)
    centre_x = np.nonzero(labels == LV_CAVITY)[1].mean()
    centred = np.roll(labels, int(round(64 - centre_x)), axis=1)
    right = np.roll(labels, int(round(80 - centre_x)), axis=1)  # room for a right heart
    assert np.array_equal(simulate(centred, seed=2), simulate(centred, seed=2, view="2CH"))
    assert np.array_equal(simulate(right, seed=2), simulate(right, seed=2, view="4CH"))


@pytest.mark.parametrize("fan", [Fan(left=30.0, right=-30.0), Fan(depth=0.0), Fan(apex_x=2.0)])
def test_an_unusable_fan_is_refused_in_one_line(fan):
    # a reversed fan used to give an all-black image; no depth, a NaN ValueError
    with pytest.raises(FanError, match="fan"):
        simulate(np.zeros((64, 64), np.uint8), seed=0, fan=fan)


@pytest.mark.parametrize("shape", [(256, 256), (100, 100), (96, 160)])
def test_black_outside_the_fans_own_mask_probe_face_included(shape):
    fan = default_fan("4CH")
    image = simulate(np.zeros(shape, np.uint8), seed=1, fan=fan)
    outside = ~fan_mask(fan, *shape)
    assert outside[0].any() and not image[outside].any()
    assert (image[~outside] > 0).mean() > 0.99
