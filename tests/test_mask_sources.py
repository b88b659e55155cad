"""Shape descriptors, topology rules, mask tools and masks made from other masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.anatomy import PHASES, VIEWS, template_mask
from engine.data.deform import GENTLE, deform_masks, deformed_masks
from engine.errors import DataError
from engine.mask_tools import keep_largest, margin, remove_islands, smooth
from engine.anatomy.descriptors import coverage, describe
from engine.anatomy.topology import topology_problems


def ellipse(shape, centre, axes, angle_deg=0.0):
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    a = math.radians(angle_deg)
    dx, dy = xs - centre[0], ys - centre[1]
    u = dx * math.sin(a) + dy * math.cos(a)  # along the (tilted) vertical axis
    v = dx * math.cos(a) - dy * math.sin(a)
    return (u / axes[0]) ** 2 + (v / axes[1]) ** 2 <= 1.0


def heart(size=128):
    """A hand-made heart: an elliptic cavity in a wall, an atrium below."""
    labels = np.zeros((size, size), np.uint8)
    labels[ellipse(labels.shape, (64, 70), (46, 26))] = 3
    labels[ellipse(labels.shape, (64, 50), (40, 24))] = 2
    labels[ellipse(labels.shape, (64, 52), (32, 16))] = 1
    return labels


def test_descriptors_of_a_hand_made_mask():
    labels = np.zeros((100, 100), np.uint8)
    labels[ellipse(labels.shape, (50, 40), (30, 10))] = 1  # a vertical ellipse, 3:1
    d = describe(labels)
    assert d["lv_center_y"] == pytest.approx(0.40, abs=0.01)
    assert d["lv_center_x"] == pytest.approx(0.50, abs=0.01)
    assert d["lv_elongation"] == pytest.approx(3.0, rel=0.05)
    assert d["lv_length"] == pytest.approx(0.6, abs=0.02)
    assert d["lv_area"] == pytest.approx(math.pi * 30 * 10 / 1e4, rel=0.03)
    assert abs(d["lv_tilt"]) < 1.0 and math.isnan(d["la_bottom"])
    tilted = np.zeros((100, 100), np.uint8)
    tilted[ellipse(tilted.shape, (50, 50), (30, 10), angle_deg=15)] = 1  # base to the right
    assert describe(tilted)["lv_tilt"] == pytest.approx(15.0, abs=1.5)
    walled = heart(128)
    d = describe(walled)
    assert d["myo_lv_area"] > 0.5 and 0.03 < d["wall_thickness"] < 0.12
    assert d["la_bottom"] == pytest.approx((70 + 46) / 128, abs=0.02)


def test_coverage():
    real = np.linspace(0, 1, 101)
    assert coverage(real, real) == pytest.approx(0.91, abs=0.01)
    assert coverage(real, real + 10) == 0.0


def test_topology_rules():
    good = heart()
    assert topology_problems(good) == []
    leaky = good.copy()
    leaky[good == 2] = 0  # no wall: the cavity touches the background
    problems = topology_problems(leaky)
    assert any("no myocardium" in p for p in problems) and any("not enclosed" in p for p in problems)
    split = good.copy()
    split[50:54, :] = np.where(good[50:54, :] == 1, 2, good[50:54, :])  # a band across the cavity
    assert any("LV cavity is in 2 pieces" in p for p in topology_problems(split))
    floating = good.copy()
    floating[floating == 3] = 0
    floating[5:15, 5:15] = 3  # atrium far away, above the cavity
    problems = topology_problems(floating)
    assert any("floats" in p for p in problems) and any("not below" in p for p in problems)
    speckled = good.copy()
    speckled[0, ::9] = 1  # stray pixels, as resampling leaves: not a problem
    assert topology_problems(speckled) == []


def test_every_piece_is_reported_with_its_size_and_place():
    """A stray piece the rules tolerate (under a tenth of the cavity) is still reported: the
    model draws it."""
    from engine.anatomy.topology import pieces, stray_pieces

    good = heart()
    assert [p.largest for p in pieces(good)] == [True, True, True] and stray_pieces(good) == []
    smudge = good.copy()
    smudge[4:10, 100:112] = 1  # 6 x 12 px of cavity outside the wall
    smudge[0, 0] = 3  # and one pixel of atrium
    assert topology_problems(smudge) == []
    stray = stray_pieces(smudge)
    assert [(p.name, p.size) for p in stray] == [("LV cavity", 72), ("left atrium", 1)]
    assert (stray[0].top, stray[0].left, stray[0].bottom, stray[0].right) == (4, 100, 10, 112)
    assert stray[0].centre == (106, 7)
    assert stray[0].describe() == "stray LV cavity piece: 72 px, 12 \u00d7 6 at x 100\u2013112, y 4\u201310"


def test_generated_masks_have_a_plausible_topology():
    for seed in range(30):
        for view in VIEWS:
            for phase in PHASES:
                mask = template_mask(view, phase, seed=seed, size=128)
                assert topology_problems(mask) == [], (seed, view, phase)


def test_deformed_masks_keep_topology_and_labels():
    masks = [template_mask(view, phase, seed=3, size=128) for view in VIEWS for phase in PHASES]
    moved = 0
    for seed in range(12):
        out = deform_masks(masks, np.random.default_rng(seed), GENTLE)
        assert all(m is not None for m in out)
        for before, after in zip(masks, out):
            assert after.dtype == np.uint8 and set(np.unique(after)) <= {0, 1, 2, 3}
            assert topology_problems(after) == []
            moved += (before != after).mean() > 0.01
    assert moved > 40  # they really move
    again = deform_masks(masks, np.random.default_rng(5), GENTLE)
    assert all(np.array_equal(a, b) for a, b in zip(again, deform_masks(masks, np.random.default_rng(5), GENTLE)))
    # the stronger deformation with transplanted shapes (fidelity checks) keeps labels 0-3
    strong = deformed_masks(np.stack(masks), seed=1)
    assert strong.shape == (4, 128, 128) and set(np.unique(strong)) <= {0, 1, 2, 3}


def test_masks_like_a_folder_of_masks(tmp_path):
    from engine.export.sources import masks_like
    from engine.maskio import write_label_png

    for patient in ("patient0001", "patient0002"):
        for view in VIEWS:
            for phase in PHASES:
                write_label_png(tmp_path / f"{patient}_{view}_{phase}.png",
                                template_mask(view, phase, seed=int(patient[-1]), size=96))
    with pytest.raises(DataError, match="needs at least 8 patients"):  # too few for a shape model
        list(masks_like(tmp_path, 5, 128, seed=0))
    made = list(masks_like(tmp_path, 5, 128, seed=0, fallback=True))  # the shipped model instead
    assert [p.patient for p in made] == [f"patient000{i}" for i in range(1, 6)]
    for patient in made:
        assert sorted(i.name.split("_", 1)[1] for i in patient.items) == ["2CH_ED", "2CH_ES", "4CH_ED", "4CH_ES"]
        for item in patient.items:
            assert item.labels.shape == (128, 128) and topology_problems(item.labels) == []
            assert item.source.startswith("generated:")


def test_a_model_like_masks_in_tilted_fans_sees_the_hearts_in_the_median_fan(tmp_path):
    """A folder of hearts drawn in tilted, shallow fans (recorded in their PNGs) gives the
    model the same hearts give in the median fans: each mask is taken in its own fan. Read as
    median-fan masks, the fans' tilt and depth became the hearts' (mean hearts ~13 px apart)."""
    from dataclasses import replace

    from engine.anatomy import ShapeModel
    from engine.export.sources import model_like
    from engine.fan import FAN_KEY, default_fan
    from engine.maskio import write_label_png

    model, size = ShapeModel.default(), 128
    folders = {"median": tmp_path / "median", "fans": tmp_path / "fans"}
    for folder in folders.values():
        folder.mkdir()
    written, seed = 0, 0
    while written < 10:
        seed += 1
        heart, tilt = model.draw(seed), 12.0 if seed % 2 else -12.0
        fans = {view: replace(default_fan(view).with_shape(tilt=tilt, depth=0.85), apex_x=0.52) for view in VIEWS}
        if any(model.view_scale(heart, view, size, fan) != 1.0 for view in VIEWS for fan in (None, fans[view])):
            continue
        written += 1
        for view in VIEWS:
            for phase in PHASES:
                name = f"patient{seed:04d}_{view}_{phase}.png"
                write_label_png(folders["median"] / name, model.mask(heart, view, phase, size))
                write_label_png(folders["fans"] / name, model.mask(heart, view, phase, size, fan=fans[view]),
                                text={FAN_KEY: fans[view].to_json()})
    reference, built = (model_like(folder)[0] for folder in folders.values())
    for view in VIEWS:
        for phase in PHASES:
            apart = np.linalg.norm(built.landmarks(built.mean_heart(), view, phase).endo
                                   - reference.landmarks(reference.mean_heart(), view, phase).endo, axis=1)
            assert apart.mean() * 256 < 1.5, (view, phase, apart.mean() * 256)
    # LV tilts, degrees: a mean of ten hearts' 128-px outlines, within 0.91 over three sets of ten
    np.testing.assert_allclose(built.pose_mean[3::4], reference.pose_mean[3::4], atol=1.0)


def test_export_random_like(tmp_path):
    from engine.cli.main import main
    from engine.data.phantom import write_phantom

    data = tmp_path / "data"
    write_phantom(data, count=4, size=64, seed=2)
    out = tmp_path / "out"
    assert main(["export", "--model", "simulator", "--random", "3", "--like", str(data), "--size", "64",
                 "--like-fallback", "--out", str(out)]) == 0
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["like"] == str(data) and sum(manifest["counts"].values()) == 12


def test_mask_tools():
    labels = heart()
    island = labels.copy()
    island[2:5, 2:5] = 1
    assert (keep_largest(island) == labels).all()
    assert (remove_islands(island, 20) == labels).all()
    grown = margin(labels, 2, 2)
    assert (grown == 2).sum() > (labels == 2).sum() and ((grown == 1) == (labels == 1)).all() is not None
    shrunk = margin(labels, 1, -3)
    assert (shrunk == 1).sum() < (labels == 1).sum() and not (shrunk == 0)[labels == 1].any()
    notched = labels.copy()
    notched[30:33, 64] = 2  # a notch of wall into the cavity
    assert (smooth(notched, 2, label=1) == 1).sum() >= (notched == 1).sum()
    spur = labels.copy()
    spur[60, 80:100] = 2  # a one-pixel spur of wall
    opened = smooth(spur, 1, label=2, method="open")
    assert (opened[60, 92:100] != 2).all()
    with pytest.raises(ValueError):
        smooth(labels, 1, method="blur")
