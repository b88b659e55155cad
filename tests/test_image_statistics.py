"""Named per-image statistics and their comparison (engine/evaluation/image_statistics.py)."""

import numpy as np
import pytest

from engine.evaluation.image_statistics import (STATISTICS, image_statistics, logistic_auc, statistic_tells,
                                                statistics_of, strongest)
from engine.fan import default_fan, fan_alpha, pixel_depth

SIZE = 128


def in_fan(image, fan):
    return np.clip(np.round(image * fan_alpha(fan, SIZE, SIZE)), 0, 255).astype(np.uint8)


def stat(values, name):
    return values[STATISTICS.index(name)]


def textures(rng, count, fine=0.0):
    """Smooth random textures at random brightness in the default fan; ``fine`` adds white
    noise of that many grey levels."""
    from scipy import ndimage

    fan = default_fan()
    out = []
    for _ in range(count):
        smooth = ndimage.gaussian_filter(rng.standard_normal((SIZE, SIZE)), 3) * 60
        image = 90 + rng.normal(0, 10) + smooth + fine * rng.standard_normal((SIZE, SIZE))
        out.append(in_fan(np.clip(image, 20, 235), fan))
    return np.stack(out), [fan] * count


def test_a_flat_fan_has_its_grey_level_and_no_detail_contrast_or_gradient():
    fan = default_fan()
    values = image_statistics(in_fan(np.full((SIZE, SIZE), 120.0), fan), fan)
    assert len(values) == len(STATISTICS)
    for q in (5, 50, 95):
        assert stat(values, f"grey q{q}") == 120
    for name in STATISTICS:  # the widest blur reads the fan's anti-aliased outline a little
        if name.startswith(("detail", "contrast", "axial", "lateral")):
            assert abs(stat(values, name)) < (2.0 if name.startswith("detail s4") else 0.5), name


def test_white_noise_widens_the_finest_detail_and_lifts_the_finest_band():
    rng = np.random.default_rng(0)
    fan = default_fan()
    plain = in_fan(np.full((SIZE, SIZE), 120.0) + 2 * rng.standard_normal((SIZE, SIZE)), fan)
    noisy = in_fan(np.full((SIZE, SIZE), 120.0) + 20 * rng.standard_normal((SIZE, SIZE)), fan)
    a, b = image_statistics(plain, fan), image_statistics(noisy, fan)
    assert stat(b, "detail s1 q98") > 5 * stat(a, "detail s1 q98") > 0
    assert stat(b, "detail s1 q2") < 5 * stat(a, "detail s1 q2") < 0
    assert stat(b, "spectrum r5 diagonal") > stat(a, "spectrum r5 diagonal") + 3


def test_stripes_show_in_their_orientation_only():
    fan = default_fan()
    cols = np.cos(2 * np.pi * 0.42 * np.arange(SIZE))
    vertical_stripes = in_fan(120 + 40 * np.broadcast_to(cols[None, :], (SIZE, SIZE)), fan)
    horizontal_stripes = in_fan(120 + 40 * np.broadcast_to(cols[:, None], (SIZE, SIZE)), fan)
    a, b = image_statistics(vertical_stripes, fan), image_statistics(horizontal_stripes, fan)
    assert stat(a, "spectrum r5 horizontal") > stat(a, "spectrum r5 vertical") + 5
    assert stat(b, "spectrum r5 vertical") > stat(b, "spectrum r5 horizontal") + 5


def test_gradients_follow_the_fans_beam():
    fan = default_fan()
    depth = pixel_depth(fan, SIZE, SIZE)
    ys = (np.arange(SIZE) + 0.5)[:, None]
    xs = (np.arange(SIZE) + 0.5)[None, :]
    angle = fan.beam_coordinates(ys, xs, SIZE, SIZE)[1]
    rings = image_statistics(in_fan(120 + 40 * np.sin(depth / 3), fan), fan)
    spokes = image_statistics(in_fan(120 + 40 * np.sin(angle * 60), fan), fan)
    assert stat(rings, "axial grad q50") > 4 * stat(rings, "lateral grad q50")
    assert stat(spokes, "lateral grad q50") > 4 * stat(spokes, "axial grad q50")


def test_a_fan_too_small_for_a_window_gives_no_spectrum_but_the_rest():
    fan = default_fan()
    small = np.asarray(in_fan(np.full((SIZE, SIZE), 100.0), fan)[::4, ::4])
    values = image_statistics(small, fan)
    spectrum = [v for n, v in zip(STATISTICS, values) if n.startswith("spectrum")]
    assert np.isnan(spectrum).all()
    assert stat(values, "grey q50") == 100


def test_extra_fine_noise_is_named_and_told_apart():
    rng = np.random.default_rng(1)
    a_images, fans = textures(rng, 40)
    b_images, _ = textures(rng, 40, fine=12.0)
    groups = [f"p{i // 2}" for i in range(40)]
    tells = statistic_tells(statistics_of(a_images, fans), statistics_of(b_images, fans), groups, groups)
    assert list(tells["statistics"]) == list(STATISTICS)
    assert tells["statistics"]["detail s1 q98"]["auc"] > 0.95
    assert tells["together"] > 0.95
    top = strongest(tells, 5)
    assert any(name.startswith("detail s1") or name.startswith("spectrum r5") for name in top)
    # the same process twice: nothing to go on
    c_images, _ = textures(rng, 40)
    same = statistic_tells(statistics_of(a_images, fans), statistics_of(c_images, fans), groups, groups)
    assert same["together"] < 0.8
    assert same["statistics"]["detail s1 q98"]["auc"] == pytest.approx(0.5, abs=0.2)


def test_spread_ratio_and_auc_per_statistic():
    rng = np.random.default_rng(2)
    n = len(STATISTICS)
    real = rng.normal(0.0, 2.0, (400, n))
    ours = rng.normal(0.0, 1.0, (400, n))
    ours[:, 0] += 3.0  # one statistic runs higher
    groups = [f"p{i // 4}" for i in range(400)]
    tells = statistic_tells(real, ours, groups, groups)
    assert tells["median_spread_ratio"] == pytest.approx(0.5, abs=0.05)
    assert tells["statistics"][STATISTICS[0]]["auc"] > 0.85
    assert tells["statistics"][STATISTICS[1]]["auc"] == pytest.approx(0.5, abs=0.08)
    assert strongest(tells, 1) == [STATISTICS[0]]
    with pytest.raises(ValueError, match="statistics per image"):
        statistic_tells(real[:, :3], ours[:, :3], groups, groups)


def test_logistic_auc_uses_only_held_out_rows_and_needs_both_classes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 3))
    y = (np.arange(200) % 2).astype(float)
    x[:, 1] += 2.5 * y
    test = np.arange(200) >= 100
    assert logistic_auc(x, y, test) > 0.9
    x[np.arange(200) < 50, 2] = np.nan  # missing values are filled, not fatal
    assert logistic_auc(x, y, test) > 0.9
    assert np.isnan(logistic_auc(x, np.zeros(200), test))
