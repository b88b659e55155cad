"""Where the two-sample classifier's evidence lies: the places of the fan, the spreading of
the classifier's cells over them, and a planted difference found in its place."""

import numpy as np
import pytest

from engine.evaluation.auc_parts import EDGE, NEAR, fan_zones
from engine.evaluation.evidence import PLACES, evidence_by_place, evidence_pixels, place_masks
from engine.evaluation.realism import TwoSampleResult, two_sample_auc, two_sample_test
from engine.fan import default_fan

SIZE = 64


def disc_labels(count: int) -> np.ndarray:
    """A cavity in a wall, mid-fan, in every image."""
    labels = np.zeros((count, SIZE, SIZE), np.uint8)
    ys, xs = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(ys - 34, xs - 32)
    labels[:, r < 10] = 2
    labels[:, r < 6] = 1
    return labels


def test_places_cover_every_pixel_once_and_follow_the_fan():
    fan = default_fan()
    labels = disc_labels(2)
    places = place_masks(labels, [fan, fan])
    assert list(places) == list(PLACES)
    stacked = np.stack([places[name] for name in PLACES]).astype(int)
    assert (stacked.sum(axis=0) == 1).all()  # a partition of the image
    inside, near, to_edge, to_arc = fan_zones(fan, SIZE, SIZE)
    assert np.array_equal(places["outside"][0], ~inside)
    assert np.array_equal(places["near field"][0], near)
    assert (to_arc[places["arc"][0]] < EDGE).all() and places["arc"][0].any()
    assert (to_edge[places["sides"][0]] < EDGE).all() and (to_arc[places["sides"][0]] >= EDGE).all()
    assert places["sides"][0].any()
    assert (labels[places["heart"]] > 0).all() and (labels[places["background"]] == 0).all()
    ys, xs = np.mgrid[:SIZE, :SIZE] + 0.5
    depth = fan.beam_coordinates(ys, xs, SIZE, SIZE)[0]
    assert (depth[places["near field"][0]] < NEAR * fan.depth * SIZE).all()


def test_cells_are_spread_over_their_weighted_pixels_and_keep_their_sum():
    evidence = np.array([[2.0, -1.0], [0.5, 0.0]])
    weights = np.zeros((8, 8))
    weights[:4, :2] = 1.0  # the first cell's weight sits in its left half
    weights[4:, 4:] = 0.25
    pixels = evidence_pixels(TwoSampleResult(0.9, evidence, 4), weights)
    assert pixels.sum() == pytest.approx(evidence.sum())
    assert pixels[:4, :2].sum() == pytest.approx(2.0) and (pixels[:4, 2:4] == 0).all()
    assert np.allclose(pixels[:4, 4:], -1.0 / 16)  # no weight in the cell: spread evenly
    assert np.allclose(pixels[4:, :4], 0.5 / 16)
    assert np.allclose(pixels[4:, 4:], 0.0)


def test_nothing_to_take_apart_gives_no_shares():
    labels = disc_labels(2)
    fans = [default_fan()] * 2
    assert evidence_by_place(TwoSampleResult(0.4, -np.ones((4, 4)), 16), labels, fans) is None
    assert evidence_by_place(TwoSampleResult(float("nan"), np.zeros((0, 0)), 0), labels, fans) is None


def fan_images(count: int, rng: np.random.Generator, stripes_in: np.ndarray | None) -> np.ndarray:
    """Noise inside the median fan, black outside; horizontal stripes where ``stripes_in``."""
    inside = fan_zones(default_fan(), SIZE, SIZE)[0]
    image = rng.normal(110, 25, size=(count, SIZE, SIZE))
    if stripes_in is not None:
        stripes = np.where((np.arange(SIZE) // 2) % 2 == 0, 40.0, -40.0)[None, :, None]
        image = np.where(stripes_in, image + stripes, image)
    return np.where(inside, np.clip(image, 0, 255), 0).astype(np.uint8)


@pytest.mark.parametrize("place", ["near field", "arc"])
def test_a_difference_planted_in_one_place_is_found_there(place):
    rng = np.random.default_rng(3)
    count = 80
    labels = disc_labels(count)
    fans = [default_fan()] * count
    groups = [f"patient{i // 2:03d}" for i in range(count)]
    where = place_masks(labels[:1], fans[:1])[place][0]
    real, synthetic = fan_images(count, rng, None), fan_images(count, rng, where)
    result = two_sample_test(real, synthetic, groups, groups, iters=120, seed=0)
    assert result.auc == two_sample_auc(real, synthetic, groups, groups, iters=120, seed=0)
    assert result.auc > 0.9 and result.evidence.shape == (4, 4) and result.cell == 16
    shares = evidence_by_place(result, labels, fans)
    assert sum(s["share"] for s in shares.values()) == pytest.approx(1.0)
    assert sum(s["area"] for s in shares.values()) == pytest.approx(1.0)
    ratio = {name: s["share"] / s["area"] for name, s in shares.items()}
    assert max(ratio, key=ratio.get) == place, shares
    assert ratio[place] > 3.0, shares


def test_real_pixels_go_into_the_named_places_only():
    from engine.evaluation.evidence import with_real_in

    fan = default_fan()
    labels = disc_labels(3)
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, labels.shape).astype(np.uint8)
    ours = rng.integers(0, 256, labels.shape).astype(np.uint8)
    fans = [fan] * 3
    places = place_masks(labels, fans)
    mixed = with_real_in(ours, real, labels, fans, ("heart", "arc"))
    taken = places["heart"] | places["arc"]
    assert np.array_equal(mixed[taken], real[taken]) and np.array_equal(mixed[~taken], ours[~taken])
    assert taken.any() and (~taken).any()
    assert np.array_equal(with_real_in(ours, real, labels, fans, PLACES), real)
    assert np.array_equal(with_real_in(ours, real, labels, fans, ()), ours)
    assert ours.max() > 0 and not np.array_equal(mixed, ours)  # the input is not changed in place
    with pytest.raises(ValueError, match="unknown place 'probe'"):
        with_real_in(ours, real, labels, fans, ("probe",))
    with pytest.raises(ValueError, match="pair up"):
        with_real_in(ours, real[:2], labels, fans, ("arc",))
