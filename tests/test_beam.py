"""Speckle with a direction: noise drawn out along the beam's arcs (engine.nets.beam) and the
measure of the speckle's direction (engine.evaluation.speckle)."""

import numpy as np
import pytest
import torch

from engine.errors import ModelFileError
from engine.evaluation.speckle import beam_streaks, reach, speckle_direction
from engine.fan import default_fan
from engine.labels import one_hot
from engine.models import GeneratorModel, load_model_file, save_model_file
from engine.nets import GeneratorConfig
from engine.nets.beam import beam_detail, beam_noise
from engine.nets.noise import seeded_noise
from nets_util import apical_labels, randomized_generator


def lag_correlation(image: np.ndarray, dy: int, dx: int) -> float:
    a = image[: image.shape[0] - dy, : image.shape[1] - dx]
    b = image[dy:, dx:]
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_beam_noise_is_unit_noise_drawn_out_across_the_beam_only():
    noise = seeded_noise(8, (256, 256), [0, 1])
    drawn = beam_noise(noise, 2.0)
    assert torch.equal(drawn[:, :4], noise[:, :4])  # the style half is left alone
    detail = drawn[:, 4:].numpy()
    assert abs(detail.mean()) < 0.02 and abs(detail.std() - 1.0) < 0.03  # still N(0, 1) per pixel
    # below the apex (top centre) the arcs run left to right: neighbours along them agree,
    # neighbours down the beam do not
    centre = detail[0, 0, 120:220, 100:156]
    assert lag_correlation(centre, 0, 1) > 0.5
    assert abs(lag_correlation(centre, 1, 0)) < 0.1
    white = noise[0, 4].numpy()[120:220, 100:156]
    assert abs(lag_correlation(white, 0, 1)) < 0.1
    assert torch.equal(beam_noise(noise, 0.0), noise)


def test_wider_nodes_reach_further_along_the_arc():
    noise = seeded_noise(2, (256, 256), [5])[:, 1:]
    near = [lag_correlation(beam_detail(noise, beam)[0, 0].numpy()[150:220, 110:146], 0, 3)
            for beam in (1.0, 4.0)]
    assert near[1] > near[0] + 0.2


def test_a_region_of_redrawn_noise_changes_the_drawn_noise_only_near_it():
    noise = seeded_noise(4, (128, 128), [3])
    edited = noise.clone()
    edited[:, 2:, 60:70, 60:70] = torch.randn(1, 2, 10, 10)
    changed = (beam_noise(edited, 3.0) != beam_noise(noise, 3.0)).any(1)[0]
    rows, cols = torch.nonzero(changed, as_tuple=True)
    assert len(rows) > 0
    assert rows.min() >= 55 and rows.max() <= 75  # one arc's width of depth
    assert cols.min() >= 40 and cols.max() <= 90  # a few nodes along the arcs


def test_a_beam_model_draws_another_image_and_stays_seeded(tmp_path):
    plain = GeneratorConfig(ngf=8, modulation="clade", norm="batch", noise_nc=8, image_size=64)
    beam = GeneratorConfig(ngf=8, modulation="clade", norm="batch", noise_nc=8, beam=2.0, image_size=64)
    seg = one_hot(apical_labels(1, 64))
    noise = seeded_noise(8, (64, 64), [7])
    a = randomized_generator(plain, seed=1)
    b = randomized_generator(beam, seed=1)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        assert (a(seg, noise=noise) - b(seg, noise=noise)).abs().max() > 1e-3
        assert torch.equal(b(seg, noise=noise), b(seg, noise=noise))
    path = tmp_path / "beam.safetensors"
    save_model_file(GeneratorModel(config=beam, generator=b), path)
    loaded = load_model_file(path)
    assert loaded.config.beam == 2.0
    with torch.no_grad():
        assert torch.equal(loaded.generator(seg, noise=noise), b(seg, noise=noise))


@pytest.mark.parametrize("beam", [-1.0, 31.0])
def test_a_beam_out_of_range_is_refused(beam):
    with pytest.raises(ModelFileError, match="beam"):
        GeneratorConfig(noise_nc=8, beam=beam)


def test_a_beam_needs_a_noise_input():
    with pytest.raises(ModelFileError, match="beam needs a noise input"):
        GeneratorConfig(noise_nc=0, beam=2.0)


def test_the_speckle_measure_tells_arcs_from_grain_with_no_direction():
    rng = np.random.default_rng(0)
    fans = [default_fan()] * 3
    white = np.clip(rng.normal(128, 30, (3, 256, 256)), 0, 255).astype(np.uint8)
    arcs = beam_detail(torch.from_numpy(rng.normal(size=(3, 1, 256, 256)).astype(np.float32)), 2.0)[:, 0].numpy()
    arcs = np.clip(arcs * 30 + 128, 0, 255).astype(np.uint8)
    along_beam = np.ascontiguousarray(np.transpose(arcs, (0, 2, 1)))  # the arcs turned to run down the picture
    flat = speckle_direction(white, fans)
    drawn = speckle_direction(arcs, fans)
    turned = speckle_direction(along_beam, fans)
    assert 0.8 < flat["anisotropy"] < 1.25
    assert drawn["anisotropy"] > 2.5 and drawn["lateral"] > 1.5
    assert turned["anisotropy"] < drawn["anisotropy"] / 2
    assert np.isnan(speckle_direction(white[:0], [])["anisotropy"])


def test_streaks_tell_spokes_from_texture_drawn_along_the_arcs():
    from scipy import ndimage

    rng = np.random.default_rng(1)
    fans = [default_fan()] * 3

    def texture(down: float, across: float) -> np.ndarray:
        noise = ndimage.gaussian_filter(rng.normal(size=(3, 256, 256)), (0, down, across))
        return np.clip(128 + 30 * noise / noise.std(), 0, 255).astype(np.uint8)

    # near the fan's centre line the beam runs down the picture: streaks drawn down are spokes
    spokes, arcs, round_ = (beam_streaks(texture(*s), fans) for s in ((4.0, 1.0), (1.0, 4.0), (2.0, 2.0)))
    assert spokes["along"] > spokes["across"] + 0.3
    assert arcs["across"] > arcs["along"] + 0.3
    assert abs(round_["along"] - round_["across"]) < 0.15
    assert spokes["images"] == 3 and np.isnan(beam_streaks(np.zeros((0, 256, 256), np.uint8), [])["along"])


def test_reach_interpolates_where_the_correlation_halves():
    assert reach(np.array([0.75, 0.25, 0.0])) == pytest.approx(1.5)
    assert reach(np.array([0.25, 0.0])) == pytest.approx(2 / 3)
    assert reach(np.array([0.9, 0.8, 0.7])) == 3.0  # never falls to one half


def test_a_speckle_path_added_by_fine_tuning_starts_silent(tmp_path):
    from engine.nets import SPADEGenerator
    from engine.training.warm_start import warm_start

    old_config = GeneratorConfig(ngf=4, noise_nc=4, norm="batch", modulation="clade", image_size=64)
    old = randomized_generator(old_config, seed=2).eval()
    path = tmp_path / "old.safetensors"
    save_model_file(GeneratorModel(old_config, old, name="old"), path)
    new = SPADEGenerator(GeneratorConfig(ngf=4, noise_nc=4, norm="batch", modulation="clade", image_size=64,
                                         texture=True)).eval()
    assert sorted(warm_start(new, str(path))) == ["texture.class_gain", "texture.project.weight"]
    assert not new.texture.project.weight.any()
    seg = one_hot(apical_labels(2, 64))
    noise = seeded_noise(4, (64, 64), [1, 2])
    with torch.no_grad():
        assert torch.allclose(new(seg, noise=noise), old(seg, noise=noise), atol=1e-6)


def test_no_spokes_where_the_nodes_sit():
    """Smoothed, the drawn noise is as strong on the rays through a ring's nodes as between
    them (each ring's nodes are turned against the last's, so no ray holds them all)."""
    import math

    from scipy import ndimage

    noise = seeded_noise(2, (256, 256), list(range(8)))
    smoothed = np.stack([ndimage.uniform_filter(x, 3) ** 2 for x in beam_noise(noise, 2.0)[:, 1].numpy()]).mean(0)
    centres = np.arange(256) + 0.5
    ring, angle = default_fan().beam_coordinates(centres[:, None], centres[None, :], 256, 256)
    phase = np.minimum((angle / math.radians(2.0) % 1.0 * 5).astype(int), 4)  # where between the rays
    band = (ring > 80) & (ring < 200) & (np.abs(angle) < 0.5)
    profile = np.array([smoothed[band & (phase == k)].mean() for k in range(5)])
    assert profile.max() / profile.min() < 1.04  # nodes on common rays made 1.10


def test_beam_coordinates_put_the_fans_arc_at_its_depth_and_invert():
    from engine.fan import fan_outline

    fan = default_fan("2CH")
    height, width = 200, 240
    # the outline's arc points (between the two edge points) lie at depth * height
    arc = np.array(fan_outline(fan, height, width)[2:-2])
    depth, angle = fan.beam_coordinates(arc[:, 1], arc[:, 0], height, width)
    assert np.allclose(depth, fan.depth * height, rtol=1e-3)
    assert angle.min() < 0 < angle.max()  # left of the centre line is negative
    ys, xs = fan.beam_point(depth, angle, height, width)
    assert np.allclose(ys, arc[:, 1]) and np.allclose(xs, arc[:, 0])


def test_the_skew_measure_tells_bright_specks_from_symmetric_grain_per_region():
    from engine.evaluation.speckle import speckle_skew

    rng = np.random.default_rng(1)
    fans = [default_fan()] * 3
    labels = np.zeros((3, 256, 256), np.uint8)
    labels[:, 100:200, 60:128] = 1  # a blood pool beside background; no myocardium or atrium
    symmetric = rng.normal(0, 1, (3, 256, 256))
    specks = rng.exponential(1, (3, 256, 256)) - 1  # bright specks on a darker ground: skewness 2
    sym = np.clip(110 + 20 * symmetric, 0, 255).astype(np.uint8)
    bright = np.clip(110 + 20 * specks, 0, 255).astype(np.uint8)
    dark_leaning = np.clip(110 - 20 * specks, 0, 255).astype(np.uint8)
    a, b, c = (speckle_skew(x, labels, fans) for x in (sym, bright, dark_leaning))
    for region in ("background", "lv"):
        assert abs(a[region]) < 0.15
        assert b[region] > 1.0 and c[region] < -1.0
    assert np.isnan(a["myo"]) and np.isnan(a["la"])  # regions an image lacks are not invented


def test_the_edge_band_measure_tells_speckle_along_the_fans_sides_from_speckle_across_them_and_sees_a_dark_rim():
    from scipy import ndimage

    from engine.evaluation.speckle import edge_band
    from engine.fan import fan_mask

    rng = np.random.default_rng(4)
    fan = default_fan()
    ys, xs = np.mgrid[:256, :256] + 0.5
    depth, angle = fan.beam_coordinates(ys, xs, 256, 256)
    inside = fan_mask(fan, 256, 256)

    def polar(along: float, across: float) -> np.ndarray:
        """Texture drawn out ``along`` pixels down the beam and ``across`` pixels along the arcs
        (about 1 pixel per angle step at mid depth), black outside the fan."""
        grid = ndimage.gaussian_filter(rng.normal(size=(400, 400)), (along, across))
        rows = depth
        cols = 200 + angle * 150  # about one column per pixel of arc at depth 150
        texture = ndimage.map_coordinates(grid / grid.std(), [rows, cols], order=1)
        return np.where(inside, np.clip(110 + 30 * texture, 0, 255), 0).astype(np.uint8)

    spokes = edge_band(np.stack([polar(4.0, 0.7) for _ in range(3)]), [fan] * 3)
    arcs = edge_band(np.stack([polar(0.7, 4.0) for _ in range(3)]), [fan] * 3)
    assert spokes["along"] > spokes["across"] + 0.3
    assert arcs["across"] > arcs["along"] + 0.3
    assert 0.95 < arcs["fade"] < 1.05 and arcs["images"] == 3  # no rim: the band is as bright as inside
    # a rim a few pixels wide at 70 % brightness
    from engine.fan import edge_distance
    distance = edge_distance(fan, 256, 256)
    dim = np.stack([polar(0.7, 4.0) for _ in range(3)]).astype(np.float64)
    dim[:, (distance >= 0) & (distance < 3)] *= 0.7
    rim = edge_band(dim.astype(np.uint8), [fan] * 3)
    assert rim["fade"] < 0.8
    assert np.isnan(edge_band(np.zeros((0, 256, 256), np.uint8), [])["along"])
