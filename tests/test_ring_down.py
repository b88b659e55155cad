"""Ring-down: bands along the arcs of the near field, drawn per seed, fitted to real images'."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import CardiganError, ModelFileError
from engine.evaluation.ring_down_fit import arc_profiles, band_strength, fit_model_ring_down, fit_rows
from engine.fan import Fan, default_fan, fan_mask
from engine.models import load_model_file, open_model
from engine.models.tuning import tune_model
from engine.nets import GeneratorConfig
from engine.nets.depth_gain import depth_fraction
from engine.nets.ring_down import BIN, BINS, REACH, apply_ring_down, bin_centres, ring_map, ring_problem, ring_profile
from engine.synthesizer import Synthesizer
from nets_util import fan_model_file, tune_inputs

SIZE = 128


def wave(period: float = 6.0, start: int = 8) -> tuple:
    """One row: a band every ``period`` bins from bin ``start`` on, 10 grey levels high."""
    row = np.zeros(BINS)
    row[start:] = (10 / 127.5) * np.sin(2 * np.pi * np.arange(BINS - start) / period)
    return tuple(float(v) for v in row)


def test_settings_are_checked_and_need_a_fan_model():
    assert ring_problem(()) is None and ring_problem((wave(),)) is None
    assert "rows of" in ring_problem(((0.1,) * 5,)) and "list" in ring_problem("0.1")
    assert "between" in ring_problem(((0.9,) * BINS,)) and "between" in ring_problem(((float("nan"),) * BINS,))
    assert "at most" in ring_problem((wave(),) * 17)
    with pytest.raises(ModelFileError, match="ring_down"):
        GeneratorConfig(ngf=4, fan=True, noise_nc=4, ring_down=((2.0,) * BINS,))
    with pytest.raises(ModelFileError, match="ring_down needs a fan model"):
        GeneratorConfig(ngf=4, ring_down=(wave(),))


def test_a_seed_draws_one_profile_and_seeds_differ():
    rows = (wave(6.0), wave(9.0, 20))
    assert np.array_equal(ring_profile(rows, 3), ring_profile(rows, 3))
    assert not np.allclose(ring_profile(rows, 3), ring_profile(rows, 4))
    fan = default_fan()
    assert np.array_equal(ring_map(fan, rows, 3, SIZE, SIZE), ring_map(fan, rows, 3, SIZE, SIZE))
    assert not np.allclose(ring_map(fan, rows, 3, SIZE, SIZE), ring_map(fan, rows, 4, SIZE, SIZE))


def test_the_bands_follow_the_arcs_and_stay_in_the_near_field_of_the_fan():
    fan = Fan(apex_x=0.45, apex_y=0.02, left=-30, right=40, depth=0.9, squash=1.1)  # off-centre and squashed
    rows = (wave(),)
    bands = ring_map(fan, rows, 7, SIZE, SIZE)
    depth = depth_fraction(fan, SIZE, SIZE)
    inside = fan_mask(fan, SIZE, SIZE)
    assert np.all(bands[~inside] == 0) and np.all(bands[depth >= REACH] == 0)
    assert np.abs(bands[inside & (depth < REACH)]).max() > 5 / 127.5
    # every pixel takes the seed's profile at its own depth: equal depths, equal bands
    expected = np.interp(depth, bin_centres(), ring_profile(rows, 7))
    near = inside & (depth > 0.05) & (depth < REACH - BIN)
    assert np.allclose(bands[near], expected[near], atol=1e-6)


def test_apply_adds_the_bands_and_clips():
    fan, rows = default_fan(), (wave(),)
    image = np.where(fan_mask(fan, SIZE, SIZE), 0.2, -1.0)[None, None].astype(np.float32)
    out = apply_ring_down(image, [fan], rows, [5])
    assert np.allclose(out[0, 0], np.clip(image[0, 0] + ring_map(fan, rows, 5, SIZE, SIZE), -1, 1))
    assert apply_ring_down(image, [fan], (), [5]) is image and apply_ring_down(image, None, rows, [5]) is image
    white = np.ones_like(image)
    assert apply_ring_down(white, [fan], rows, [5]).max() <= 1.0


def test_arc_profiles_read_a_level_that_changes_with_depth():
    fan = default_fan()
    depth = depth_fraction(fan, SIZE, SIZE)
    image = np.where(fan_mask(fan, SIZE, SIZE), 60 + 200 * depth, 0).clip(0, 255).astype(np.uint8)
    profile = arc_profiles(image[None], [fan])[0]
    middle = slice(10, BINS)  # bins wide enough to hold pixels at 128
    assert np.nanmax(np.abs(profile[middle] - (60 + 200 * bin_centres()[middle]))) < 1.5


def test_the_fit_finds_the_bands_real_images_have_in_excess():
    rng = np.random.default_rng(0)
    count, band = 400, np.array(wave(7.0, 10)) * 127.5
    trend = 80 + 40 * bin_centres()
    drawn = trend + 2.0 * rng.standard_normal((count, BINS))
    real = trend + 2.0 * rng.standard_normal((count, BINS)) + rng.standard_normal((count, 1)) * band
    rows, share = fit_rows(real, drawn)
    assert 1 <= len(rows) <= 16 and 0 < share <= 1
    first = np.array(rows[0]) * 127.5
    cosine = abs(first @ band) / (np.linalg.norm(first) * np.linalg.norm(band))
    assert cosine > 0.9
    # the first direction's spread is the band's (its high-passed part: the sine is kept almost whole)
    assert np.linalg.norm(first) == pytest.approx(np.linalg.norm(band[:BINS - 10]), rel=0.25)
    # and adding a seed's profile brings the model's band strength to real's
    added = drawn + np.stack([ring_profile(rows, s) * 127.5 for s in range(count)])
    for r, a, d in zip(band_strength(real), band_strength(added), band_strength(drawn)):
        assert abs(a - r) < abs(d - r) or abs(a - r) < 0.3
    # real images with no more banding than the model's: next to nothing is added
    none, _ = fit_rows(drawn[:200], drawn[200:] + rng.standard_normal((200, 1)) * band)
    assert sum(np.sum((np.array(row) * 127.5) ** 2) for row in none) < 0.05 * np.sum(band ** 2)


def test_the_synthesizer_applies_it_and_model_files_keep_it(tmp_path):
    source = open_model(fan_model_file(tmp_path / "fan.safetensors", 64))
    labels = np.zeros((64, 64), np.uint8)
    plain = Synthesizer(source, device="cpu").synthesize(labels, seed=5)[0]
    banded = Synthesizer(tune_model(source, ring_down=(wave(),)), device="cpu").synthesize(labels, seed=5)[0]
    fan = default_fan()
    depth, inside = depth_fraction(fan, 64, 64), fan_mask(fan, 64, 64)
    changed = np.abs(banded - plain) > 1e-6
    assert changed[inside & (depth > 0.1) & (depth < 0.35)].mean() > 0.5
    assert not changed[depth > REACH + 0.02].any() and not changed[~inside].any()
    saved = fan_model_file(tmp_path / "rings.safetensors", 64, ring_down=(wave(),))
    assert load_model_file(saved).config.ring_down == (wave(),)


def test_info_counts_the_ring_down_instead_of_printing_it(tmp_path, capsys):
    saved = fan_model_file(tmp_path / "rings.safetensors", 64, ring_down=(wave(), wave()))
    assert main(["info", "--model", str(saved)]) == 0
    out = capsys.readouterr().out
    assert f"ring_down=<2 directions x {BINS} depths>" in out
    assert len(out) < 1500  # not 160 numbers


def test_tune_fits_and_removes_the_ring_down(tmp_path, capsys, one_thread):
    source, data, fitted = tune_inputs(tmp_path, 128)
    assert main(["tune", "--model", str(source), "--out", str(fitted), "--fit-ring-down", str(data)]) == 0
    out = capsys.readouterr().out
    expected = fit_model_ring_down(data, open_model(source), "valid")
    assert f"ring-down fitted on {expected['images']} valid pairs" in out
    assert load_model_file(fitted).config.ring_down == expected["ring_down"]
    if expected["ring_down"]:
        from cardigan_app.panels.model_summary import summary_text
        assert "ring-down per seed" in summary_text(open_model(fitted).summary())
    cleared = tmp_path / "cleared.safetensors"
    assert main(["tune", "--model", str(fitted), "--out", str(cleared), "--ring-down", "none"]) == 0
    assert load_model_file(cleared).config.ring_down == () and "ring-down none" in capsys.readouterr().out


def test_the_fit_refuses_models_without_a_fan(tmp_path):
    from nets_util import plain_model_file

    path = plain_model_file(tmp_path / "plain.safetensors")
    with pytest.raises(CardiganError, match="a ring-down needs a model that takes the fan"):
        fit_model_ring_down(tmp_path, open_model(path))


def test_every_frame_of_a_cine_loop_has_the_loops_one_ring_down(tmp_path):
    from engine.cine import Timing, loop_from_key_frames, synthesize_loop

    source = open_model(fan_model_file(tmp_path / "fan.safetensors", 64))
    rows = (wave(),)
    ed = np.zeros((64, 64), np.uint8)
    ed[30:50, 24:40], ed[34:46, 28:36] = 2, 1
    es = ed.copy()
    es[34:46, 28:36], es[35:45, 29:35] = 2, 1
    loop = loop_from_key_frames(ed, es, Timing(frames=10))  # more frames than one batch
    plain = synthesize_loop(Synthesizer(source, device="cpu"), loop, seed=4).astype(float)
    banded = synthesize_loop(Synthesizer(tune_model(source, ring_down=rows), device="cpu"), loop, seed=4).astype(float)
    expected = ring_map(default_fan(), rows, 4, 64, 64) * 127.5
    unclipped = (plain > 20) & (plain < 235)
    for frame in range(loop.frames):
        near = unclipped[frame] & (np.abs(expected) > 3)
        assert near.sum() > 20
        assert np.median(np.abs(banded[frame] - plain[frame] - expected)[near]) < 1.0


def test_real_arcs_without_bands_give_no_ring_down():
    """Real profiles with no bands at all leave nothing to add: no rows of zeros from the
    eigen-decomposition's rounding error."""
    from engine.nets.ring_down import BINS

    rng = np.random.default_rng(0)
    drawn = rng.normal(60.0, 5.0, (4, BINS))
    for real in (np.zeros((4, BINS)), np.tile(np.linspace(20.0, 90.0, BINS), (4, 1))):
        assert fit_rows(real, drawn) == ((), 0.0)
