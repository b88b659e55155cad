"""``prepare``'s fans: the frames of one acquisition (a patient's view) share one fan fitted
to all of them; a frame alone, or a sector of its own the shared fan does not fit, keeps its
own fit; a bad frame (blank, no sector) is left out of the fit and carries the shared fan.

Sources are seed HDF5 files whose frames are grainy tissue inside sectors of known geometry,
ED and ES with different grain and a different dark dropout along an edge (what makes two
separate fits of one sector disagree).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.data.imaging import resize_image
from engine.data.image_fans import fit_frames_fan, fit_image_fan
from engine.data.prepare import prepare_dataset
from engine.fan import FAN_KEY, Fan, fan_alpha, fit_shared_fan
from test_prepare import build_seed_hdf5

SIZE = 128
TRUTH = {"2CH": Fan(0.5, -0.004, -33.0, 31.0, 0.98, 0.8), "4CH": Fan(0.48, 0.0, -30.0, 34.5, 0.94, 0.86)}


def frame_in(fan: Fan, seed: int, size: int = SIZE, dropout: str | None = None) -> np.ndarray:
    """A uint8 frame of grainy tissue inside ``fan``; ``dropout`` ("left" or "right") darkens
    a patch of tissue along that edge, as a rib or a lung shadow does."""
    rng = np.random.default_rng(seed)
    tissue = np.clip(rng.gamma(2.0, 45.0, (size, size)), 20, 255)
    if dropout:
        ys, xs = np.mgrid[:size, :size]
        column = size * (0.18 if dropout == "left" else 0.82)
        tissue[(np.abs(ys - 0.55 * size) < 0.06 * size) & (np.abs(xs - column) < 0.06 * size)] = 6
    return np.round(tissue * fan_alpha(fan, size, size)).astype(np.uint8)


def acquisition(fan: Fan, seed: int) -> np.ndarray:
    """(2, H, W) ED and ES of one acquisition: one sector, different grain and dropout."""
    return np.stack([frame_in(fan, seed, dropout="left"), frame_in(fan, seed + 1, dropout="right")])


def sector_source(path, blank_es: bool = False, blank_ed: bool = False):
    def tamper(split, name, view, im, gt):
        frames = acquisition(TRUTH[view], seed=3 if view == "2CH" else 5)
        if blank_es:
            frames[1] = 0
        if blank_ed:
            frames[0] = 0
        return frames, np.stack([resize_image(g, SIZE) for g in gt])

    return build_seed_hdf5(path, {"train": ["patient0001"]}, shape=(SIZE, SIZE), im_kind="uint8", tamper=tamper)


def label_fan(out, stem: str) -> Fan:
    return Fan.from_json(Image.open(out / "train" / "label" / f"{stem}.png").text[FAN_KEY])


def assert_near(fan: Fan, truth: Fan) -> None:
    assert abs(fan.apex_x - truth.apex_x) < 0.02 and abs(fan.apex_y - truth.apex_y) < 0.02
    assert abs(fan.left - truth.left) < 1.5 and abs(fan.right - truth.right) < 1.5
    assert abs(fan.depth - truth.depth) < 0.02 and abs(fan.squash - truth.squash) < 0.04


def test_separate_fits_of_one_sector_disagree_and_the_shared_fit_is_one_fan_near_it():
    """The premise: each frame's own fit moves with its grain and dropout; the shared fit
    is one fan, as near the drawn one, fitting both frames as well."""
    ed, es = acquisition(TRUTH["4CH"], seed=5)
    (own_ed, fit_ed), (own_es, fit_es) = fit_image_fan(ed, "4CH"), fit_image_fan(es, "4CH")
    assert own_ed != own_es
    shared, fits = fit_shared_fan([ed, es])
    assert_near(shared, TRUTH["4CH"])
    assert min(fits) >= 0.965  # the dropouts notch the support
    assert sum(fits) >= fit_ed + fit_es - 0.005


def test_prepare_gives_both_frames_of_a_view_one_fan_in_the_png_and_the_manifest(tmp_path):
    source = sector_source(tmp_path / "seed.h5")
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, workers=1)
    out = tmp_path / "out"
    for view, truth in TRUTH.items():
        ed, es = (label_fan(out, f"patient0001_{view}_{instant}") for instant in ("ED", "ES"))
        assert ed == es
        assert_near(ed, truth)
        records = [manifest["fans"][f"train/patient0001_{view}_{instant}"] for instant in ("ED", "ES")]
        assert records[0] == records[1] == ed.to_dict()
    assert label_fan(out, "patient0001_2CH_ED") != label_fan(out, "patient0001_4CH_ED")  # a view is its own
    assert manifest["fan_fit"]["fitted"] == 4 and manifest["fan_fit"]["lowest_iou"] >= 0.965
    assert json.loads((out / "manifest.json").read_text())["fans"] == manifest["fans"]


def test_a_lone_frame_keeps_its_own_fit(tmp_path):
    source = sector_source(tmp_path / "seed.h5")
    prepare_dataset(source, tmp_path / "out", size=SIZE, instants=("ES",), views=("4CH",), workers=1)
    es = acquisition(TRUTH["4CH"], seed=5)[1]
    alone, _ = fit_image_fan(es, "4CH")
    assert label_fan(tmp_path / "out", "patient0001_4CH_ES") == alone
    assert alone != fit_shared_fan(acquisition(TRUTH["4CH"], seed=5))[0]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_blank_frame_of_a_pair_carries_the_other_frames_fit_with_iou_0(order):
    """A blank frame has no sector of its own: the pair's fan is the good frame's fit, and
    the blank frame carries it with IoU 0 (no fan was fitted to it), not its view's median."""
    good = acquisition(TRUTH["2CH"], seed=3)[0]
    frames = [[good, np.zeros((SIZE, SIZE), np.uint8)][i] for i in order]
    fitted = fit_frames_fan(frames, "2CH")
    own = fit_image_fan(good, "2CH")
    assert fitted[order.index(0)] == own
    assert fitted[order.index(1)] == (own[0], 0.0)
    assert_near(own[0], TRUTH["2CH"])


def sequence_in(fan: Fan, frames: int = 6, seed: int = 20) -> list[np.ndarray]:
    return [frame_in(fan, seed + k) for k in range(frames)]


@pytest.mark.parametrize("bad", [0, 3, 5])
def test_a_blank_frame_of_a_sequence_is_left_out_of_its_shared_fit_and_carries_it(bad):
    frames = sequence_in(TRUTH["4CH"])
    others = frames[:bad] + frames[bad + 1:]
    frames[bad] = np.zeros((SIZE, SIZE), np.uint8)
    fitted = fit_frames_fan(frames, "4CH")
    shared = fit_shared_fan(others)[0]
    assert [fan for fan, _ in fitted] == [shared] * len(frames)
    assert fitted[bad][1] == 0.0
    assert min(fit for k, (_, fit) in enumerate(fitted) if k != bad) >= 0.99
    assert_near(shared, TRUTH["4CH"])


def test_a_frame_that_fails_its_own_fit_is_left_out_of_the_shared_fit():
    """A frame whose support is no sector (a bright block, a frame cut badly) would drag the
    shared fan: the others are fitted without it and it carries their fan with IoU 0."""
    frames = sequence_in(TRUTH["4CH"])
    block = np.zeros((SIZE, SIZE), np.uint8)
    block[10:110, 5:60] = 180
    assert fit_image_fan(block, "4CH")[1] == 0.0
    fitted = fit_frames_fan(frames[:2] + [block] + frames[2:], "4CH")
    shared = fit_shared_fan(frames)[0]
    assert fitted[2] == (shared, 0.0)
    assert {fan for fan, _ in fitted} == {shared}
    assert_near(shared, TRUTH["4CH"])


def test_frames_of_two_sectors_are_not_given_one_fan():
    """Frames that are sectors of their own but not of one sector (the sequence disagrees)
    keep fans of their own: the frames of the other sector are not forced into the fan."""
    other = Fan(0.5, 0.0, -20.0, 20.0, 0.7, 0.9)
    fitted = fit_frames_fan(sequence_in(TRUTH["4CH"], 3) + sequence_in(other, 3, seed=60), "4CH")
    for (fan, fit), truth in zip(fitted, [TRUTH["4CH"]] * 3 + [other] * 3):
        assert_near(fan, truth)
        assert fit >= 0.98


def test_prepare_with_a_blank_frame_keeps_the_good_frame_fitted(tmp_path):
    source = sector_source(tmp_path / "seed.h5", blank_es=True)
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, views=("2CH",), workers=1)
    assert_near(label_fan(tmp_path / "out", "patient0001_2CH_ED"), TRUTH["2CH"])
    assert label_fan(tmp_path / "out", "patient0001_2CH_ES") == label_fan(tmp_path / "out", "patient0001_2CH_ED")
    fit = manifest["fan_fit"]
    assert fit["fitted"] == 1 and fit["shared_only"] == 1 and fit["fallback"] == 0  # ES carries ED's fan


def test_a_shared_fit_of_one_frame_is_that_frames_fit_and_frames_must_share_a_size():
    from engine.fan import fit_fan

    frame = frame_in(TRUTH["2CH"], seed=7)
    fan, fit = fit_fan(frame)
    assert fit_shared_fan([frame]) == (fan, [fit])
    with pytest.raises(ValueError, match="one size"):
        fit_shared_fan([frame, frame[:, :-2]])
    with pytest.raises(ValueError, match="at least one"):
        fit_shared_fan([])


# -- half sequences -------------------------------------------------------------------------
NOTCHED = 2  # the sequence frame with a wide dropout along its left edge


def notched(fan: Fan, seed: int) -> np.ndarray:
    """A frame of ``fan`` with a wide dark patch cut into its left edge: it fits the sector
    less well than the others (still well enough to be trusted)."""
    frame = frame_in(fan, seed)
    frame[int(0.45 * SIZE):int(0.65 * SIZE), :int(0.3 * SIZE)] = 0
    return frame


def half_sequence(fan: Fan, seed: int, frames: int = 5) -> np.ndarray:
    """(T, H, W) frames from ED to ES of one acquisition, ED and ES the pair's own frames."""
    ed, es = acquisition(fan, seed)
    middle = [notched(fan, seed + k) if k == NOTCHED else frame_in(fan, seed + 10 + k) for k in range(1, frames - 1)]
    return np.stack([ed, *middle, es])


def sequence_source(root, blank_es: bool = False):
    """A CAMUS 2023 patient whose 4CH ED, ES and half sequence are drawn in one sector
    (``blank_es``: the ES file blank, the sequence whole)."""
    from test_prepare import build_camus2023, write_sitk

    from engine.data.imaging import resize_labels

    def tamper(name, view, instant, image, labels):
        frame = acquisition(TRUTH[view], seed=5)[0 if instant == "ED" else 1]
        if blank_es and instant == "ES":
            frame = np.zeros_like(frame)
        return frame, resize_labels(labels, SIZE)

    build_camus2023(root, ["patient0001"], tamper=tamper)
    frames = half_sequence(TRUTH["4CH"], seed=5)
    bands = (np.arange(SIZE)[:, None] // 40 % 4).repeat(SIZE, 1).astype(np.uint8)
    labels = np.stack([bands] * len(frames))
    folder = root / "database_nifti" / "patient0001"
    write_sitk(folder / "patient0001_4CH_half_sequence.nii.gz", frames)
    write_sitk(folder / "patient0001_4CH_half_sequence_gt.nii.gz", labels)
    return root


def sequence_label_fans(out, frames: int = 5) -> list[Fan]:
    return [label_fan(out, f"patient0001_4CH_f{k:03d}") for k in range(frames)]


def test_a_sequence_carries_the_fan_its_acquisitions_ed_and_es_share(tmp_path):
    source = sequence_source(tmp_path / "camus")
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, views=("4CH",), sequences=True, workers=1)
    out = tmp_path / "out"
    pair = label_fan(out, "patient0001_4CH_ED")
    assert label_fan(out, "patient0001_4CH_ES") == pair
    assert sequence_label_fans(out) == [pair] * 5
    assert manifest["fans"]["train/patient0001_4CH_f000"] == pair.to_dict()
    assert pair != fit_image_fan(half_sequence(TRUTH["4CH"], seed=5)[0], "4CH")[0]  # not the first frame's own


def test_each_sequence_frame_counts_its_own_overlap_with_the_fan_in_fan_fit(tmp_path):
    from engine.fan import fan_overlaps

    source = sequence_source(tmp_path / "camus")
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, views=("4CH",), sequences=True, workers=1)
    pair = label_fan(tmp_path / "out", "patient0001_4CH_ED")
    overlaps = fan_overlaps(pair, half_sequence(TRUTH["4CH"], seed=5))
    assert 0.9 <= overlaps[NOTCHED] < min(overlaps[:NOTCHED] + overlaps[NOTCHED + 1:]) - 0.01
    assert manifest["fan_fit"]["fitted"] == 2 + 5
    assert manifest["fan_fit"]["lowest_iou"] == round(overlaps[NOTCHED], 4)


def test_a_sequence_whose_pair_shares_no_fan_is_fitted_over_all_its_frames(tmp_path):
    """A blank ES file leaves the pair without one fan (each frame fitted alone): the
    sequence's own frames are fitted together, one fan for all of them."""
    source = sequence_source(tmp_path / "camus", blank_es=True)
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, views=("4CH",), sequences=True, workers=1)
    joint = fit_frames_fan(list(half_sequence(TRUTH["4CH"], seed=5)), "4CH")
    assert len({fan for fan, _ in joint}) == 1
    assert sequence_label_fans(tmp_path / "out") == [fan for fan, _ in joint]
    assert_near(joint[0][0], TRUTH["4CH"])
    assert manifest["fan_fit"]["shared_only"] == 1  # the blank ES alone, with ED's fan
    assert manifest["fan_fit"]["fallback"] == 0


def test_each_image_is_resized_once_for_its_fan_and_its_file(tmp_path, monkeypatch):
    """The picture a fan is fitted to is the one written: no frame is resized twice."""
    from engine.data import prepare

    resized = []
    monkeypatch.setattr(prepare, "resize_image", lambda image, size: resized.append(size) or resize_image(image, size))
    source = sequence_source(tmp_path / "camus")
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, views=("4CH",), sequences=True, workers=1)
    assert manifest["fan_fit"]["fitted"] == 2 + 5
    assert resized == [SIZE] * (2 + 5)


def test_frames_without_a_fit_are_told_apart_by_the_fan_they_carry():
    """A frame given its view's median fan and one carrying its acquisition's fan are
    different things: fan_fit counts them apart, and its line reads old manifests too."""
    from engine.data.prepare import fan_fit_line, fan_fit_summary
    from engine.fan import default_fan

    shared = Fan(0.5, 0.0, -30.0, 31.0, 1.0, 0.8)
    fits = [(shared.to_dict(), 0.99), (shared.to_dict(), 0.97), (shared.to_dict(), 0.0),
            (default_fan("2CH").to_dict(), 0.0), (default_fan("4CH").to_dict(), 0.0)]
    summary = fan_fit_summary(fits)
    assert (summary["fitted"], summary["fallback"], summary["shared_only"]) == (2, 2, 1)
    assert summary["median_iou"] == 0.98 and summary["lowest_iou"] == 0.97
    line = fan_fit_line(summary)
    assert line == ("fans: 2 fitted (median IoU 0.980, lowest 0.970), 2 given their view's median fan, "
                    "1 blank or badly cut carrying their acquisition's fan")
    old = {"fitted": 2, "fallback": 3, "median_iou": 0.98, "lowest_iou": 0.97}  # both kinds in one
    assert fan_fit_line(old) == ("fans: 2 fitted (median IoU 0.980, lowest 0.970), 3 not fitted "
                                 "(their view's median fan or their acquisition's)")
    assert fan_fit_line(fan_fit_summary([(shared.to_dict(), 0.99)])) == \
        "fans: 1 fitted (median IoU 0.990, lowest 0.990)"


def test_prepare_gives_a_pair_with_no_sector_its_views_median_fan_and_says_so(tmp_path):
    from engine.fan import default_fan

    source = sector_source(tmp_path / "seed.h5", blank_es=True, blank_ed=True)
    manifest = prepare_dataset(source, tmp_path / "out", size=SIZE, views=("2CH",), workers=1)
    assert label_fan(tmp_path / "out", "patient0001_2CH_ED") == default_fan("2CH")
    fit = manifest["fan_fit"]
    assert (fit["fitted"], fit["fallback"], fit["shared_only"]) == (0, 2, 0)
