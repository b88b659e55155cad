"""Cine loops: timing, shapes between key frames, noise carried with tissue, writers, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.anatomy import make_mask, random_patient
from engine.anatomy.topology import topology_problems
from engine.cine import Timing, loop_from_key_frames, synthesize_loop, write_loop
from engine.cine.measures import flicker, speckle_tracking
from engine.cine.motion import ShapeBlend, warp_noise
from engine.cine.timing import EJECTION, phase_at
from engine.errors import CardiganError, MaskError
from hearts_in_fans import assert_in_its_fan


def key_frames(seed: int, size: int = 64, view: str = "4CH"):
    patient = random_patient(seed)
    return make_mask(patient, view, "ED", size), make_mask(patient, view, "ES", size)


def small_model_loop(frames: int):
    """(a small noise model given the fan, a 64-pixel loop of ``frames`` between key frames)."""
    from test_fan import fan_synthesizer

    ed, es = key_frames(7, 64)
    return fan_synthesizer(noise_nc=4), loop_from_key_frames(ed, es, Timing(frames=frames))


def test_the_cycle_is_physiological_and_seamless():
    timing = Timing(bpm=60, fps=50)
    phases = timing.phases()
    assert len(phases) == 50 and phases[0] == 0.0
    peak = int(np.argmax(phases))
    assert abs(peak / 50 - EJECTION) <= 1 / 50 and phases[peak] > 0.99
    assert np.all(np.diff(phases[:peak + 1]) >= 0)  # ejection only empties
    assert phase_at(1.0) == phase_at(0.0) == 0.0  # the frame after the last is the first
    # rapid filling is faster than diastasis
    assert phase_at(EJECTION) - phase_at(EJECTION + 0.1) > 5 * (phase_at(0.6) - phase_at(0.7))
    half = Timing(bpm=60, fps=30, cycle="half").phases()
    assert half[0] == 0.0 and half[-1] == pytest.approx(1.0) and np.all(np.diff(half) > 0)
    assert len(Timing(frames=16).phases()) == 16
    # a given number of frames plays at the rate that keeps the heart rate
    assert Timing(bpm=60, fps=50).playback_fps == 50.0
    assert Timing(bpm=60, frames=16).playback_fps == pytest.approx(16.0)
    assert Timing(bpm=60, frames=11, cycle="half").playback_fps == pytest.approx(10 / EJECTION)


@pytest.mark.parametrize("timing, words", [
    (Timing(fps=0), "frame rate"), (Timing(fps=-5), "frame rate"), (Timing(fps=float("nan")), "frame rate"),
    (Timing(frames=1), "between 2"), (Timing(bpm=0.5), "heart rate"), (Timing(cycle="quarter"), "cycle"),
])
def test_impossible_timings_are_refused_in_one_line(timing, words):
    with pytest.raises(CardiganError, match=words):
        timing.checked()


def test_every_frame_between_key_frames_is_a_valid_heart():
    bad = loops = 0
    for seed in range(220):
        ed, es = key_frames(seed, 96, ("2CH", "4CH")[seed % 2])
        if topology_problems(ed) or topology_problems(es):
            continue  # key frames that are not valid themselves prove nothing
        loops += 1
        blend = ShapeBlend(ed, es)
        for phase in (0.2, 0.5, 0.8):
            bad += bool(topology_problems(blend.mask(phase)))
    assert loops >= 200 and bad == 0
    ed, es = key_frames(3)
    blend = ShapeBlend(ed, es)
    assert np.array_equal(blend.mask(0.0) > 0, ed > 0) or (blend.mask(0.0) != ed).mean() < 0.01
    assert (blend.mask(1.0) != es).mean() < 0.01


def test_key_frames_that_cannot_make_a_loop_are_refused():
    ed, es = key_frames(1)
    with pytest.raises(MaskError, match="differ in size"):
        ShapeBlend(ed, key_frames(1, 48)[1])
    with pytest.raises(MaskError, match="no LV cavity"):
        ShapeBlend(ed, np.where(es == 1, 2, es).astype(np.uint8))


def test_the_loop_keeps_the_asked_ejection_fraction_and_a_valid_heart_every_frame():
    ed, es = key_frames(5, 96)
    loop = loop_from_key_frames(ed, es, Timing(frames=24))
    areas_ed, areas_es = (ed == 1).sum(), (es == 1).sum()
    asked = 100.0 * (areas_ed - areas_es) / areas_ed
    assert abs(loop.ejection_fraction() - asked) < 3.0
    assert loop.invalid_frames() == []
    assert loop.field.shape == (96, 96, 2) and np.abs(loop.field).max() > 0.5


def test_noise_moves_with_the_displacement_and_the_style_channels_stay():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(4, 32, 32)).astype(np.float32)
    noise[:2] = rng.normal(size=(2, 1, 1))  # style channels: constant maps
    field = np.zeros((32, 32, 2), np.float32)
    field[..., 0] = 3.0  # every pixel shows the tissue 3 pixels to its right at ED
    moved = warp_noise(noise, field, 1.0)
    assert np.array_equal(moved[:, :, :29], noise[:, :, 3:])
    assert np.array_equal(moved[:2], noise[:2])
    assert warp_noise(noise, field, 0.0) is noise


def test_key_frame_noise_is_the_map_itself_at_both_key_frames_and_keeps_unit_variance():
    from engine.cine.motion import key_frame_noise

    rng = np.random.default_rng(1)
    noise = rng.standard_normal((6, 96, 96)).astype(np.float32)
    noise[:3] = rng.standard_normal((3, 1, 1))  # style channels: constant maps
    field = np.zeros((96, 96, 2), np.float32)
    field[30:70, 30:70, 0] = 5.0  # tissue that moves; the rest stays still
    assert key_frame_noise(noise, field, 0.0) is noise and key_frame_noise(noise, field, 1.0) is noise
    half = key_frame_noise(noise, field, 0.5)
    assert np.array_equal(half[:3], noise[:3])  # the style channels are never mixed
    still = np.ones((96, 96), bool)
    still[25:75, 25:75] = False
    assert np.allclose(half[3:, still], noise[3:, still])  # still tissue: both carried maps are the map
    moving = ~still
    moving[:35] = moving[65:] = False  # well inside the moving square
    assert 0.9 < half[3:, moving].std() < 1.1  # two independent halves mixed back to unit variance
    # mid-way the pattern is half ED's carried map, half ES's: correlated with each, equal to neither
    carried = warp_noise(noise, field, 0.5)[3:, moving]
    assert 0.5 < np.corrcoef(half[3:, moving].ravel(), carried.ravel())[0, 1] < 0.9


def test_flicker_and_speckle_tracking_measure_what_they_say():
    rng = np.random.default_rng(1)
    masks = np.full((6, 48, 48), 2, np.uint8)  # all wall
    texture = rng.integers(20, 230, (48, 48)).astype(np.uint8)
    still = np.stack([texture] * 6)
    assert flicker(still, masks) == 0.0
    independent = rng.integers(20, 230, (6, 48, 48)).astype(np.uint8)
    assert flicker(independent, masks) > 50
    # a texture moving 2 pixels left per frame, and a field saying so
    moving = np.stack([np.roll(texture, -2 * k, axis=1) for k in range(6)])
    field = np.zeros((48, 48, 2), np.float32)
    field[..., 0] = 10.0
    phases = np.linspace(0, 1, 6)
    tracked = speckle_tracking(moving, masks, field, phases)
    assert tracked["patches"] > 0 and tracked["share_better_displaced"] >= 0.9
    assert speckle_tracking(independent, masks, field, phases)["share_better_displaced"] < 0.8


def test_a_noise_model_loop_flickers_less_than_fresh_seeds_per_frame():
    synth, loop = small_model_loop(8)
    images = synthesize_loop(synth, loop, seed=3)
    assert images.shape == (8, 64, 64) and images.dtype == np.uint8
    fresh = np.stack([synthesize_loop(synth, type(loop)(loop.masks[k:k + 1], loop.phases[k:k + 1], loop.field,
                                                        loop.timing), seed=100 + k)[0] for k in range(8)])
    assert flicker(images, loop.masks) < flicker(fresh, loop.masks)
    assert np.array_equal(images, synthesize_loop(synth, loop, seed=3))  # one seed, one loop


@pytest.mark.parametrize("name", ["loop.gif", "loop.mp4", "loop.nii.gz", "loop.h5", "frames"])
def test_loops_round_trip_through_their_usual_readers(tmp_path, name):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 255, (6, 64, 64)).astype(np.uint8)
    images[:, :, :20] = 0
    masks = rng.integers(0, 4, (6, 64, 64)).astype(np.uint8)
    path = tmp_path / name
    written = write_loop(path, images, masks, fps=25.0, info={"bpm": 60.0})
    assert path in written and path.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left
    if name.endswith(".gif"):
        import imageio.v3 as iio

        frames = iio.imread(path, index=None)
        assert frames.shape[0] == 6 and np.abs(frames[..., 0].astype(int) - images).max() <= 2
    elif name.endswith(".mp4"):
        import imageio.v3 as iio

        frames = iio.imread(path, index=None, plugin="FFMPEG")
        assert frames.shape[:3] == (6, 64, 64) and np.abs(frames[..., 0].astype(int) - images).mean() < 40
    elif name.endswith(".nii.gz"):
        import SimpleITK as sitk

        volume = sitk.ReadImage(str(path))
        assert volume.GetSize() == (64, 64, 6) and volume.GetSpacing()[2] == 1.0
        assert np.array_equal(sitk.GetArrayFromImage(volume), images)
        gt = sitk.ReadImage(str(tmp_path / "loop_gt.nii.gz"))
        assert np.array_equal(sitk.GetArrayFromImage(gt), masks)
    elif name.endswith(".h5"):
        import h5py

        with h5py.File(path) as f:
            assert np.array_equal(f["images"][()], images) and np.array_equal(f["masks"][()], masks)
            assert f.attrs["fps"] == 25.0 and f.attrs["bpm"] == 60.0
    else:
        from engine.maskio import read_label_png

        assert len(list((path / "img").iterdir())) == 6
        assert np.array_equal(read_label_png(path / "label" / "frame_003.png"), masks[3])


@pytest.mark.parametrize("fps,count", [(40.0, 37), (25.0, 23), (30.0, 28), (65.0, 60), (120.0, 111)])
def test_a_gif_beats_at_the_loops_rate(tmp_path, fps, count):
    """GIF delays are whole hundredths of a second: they add up to the loop's length, none is
    under two hundredths (players stretch those), and above 50 fps frames are dropped evenly."""
    from PIL import Image

    from engine.cine.writers import GIF_MAX_FPS, gif_frames

    kept, delays = gif_frames(count, fps)
    assert len(kept) == len(delays) and kept[0] == 0 and min(delays) >= 20
    assert all(d % 10 == 0 for d in delays)
    assert abs(sum(delays) - 1000.0 * count / fps) <= 10.0
    assert len(kept) >= count * min(1.0, GIF_MAX_FPS / fps) * 0.5
    if fps <= GIF_MAX_FPS:
        assert len(kept) == count
    images = np.random.default_rng(0).integers(0, 255, (count, 16, 16)).astype(np.uint8)
    path = tmp_path / "beat.gif"
    write_loop(path, images, np.zeros_like(images), fps=fps)
    with Image.open(path) as gif:
        written = []
        for k in range(gif.n_frames):
            gif.seek(k)
            written.append(gif.info["duration"])
    assert written == delays  # what a player reads


def test_frame_names_sort_in_time_past_a_thousand_frames(tmp_path):
    images = np.zeros((1001, 4, 4), np.uint8)
    images[:, 0, 0] = np.arange(1001) % 256
    path = tmp_path / "frames"
    write_loop(path, images, np.zeros_like(images), fps=40.0)
    names = sorted(q.name for q in (path / "img").iterdir())
    assert names[0] == "frame_0000.png" and names[-1] == "frame_1000.png" and len(names) == 1001


def test_a_killed_export_leaves_no_file_that_looks_complete(tmp_path, monkeypatch):
    import h5py

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(h5py.File, "create_dataset", broken)
    images = np.zeros((3, 32, 32), np.uint8)
    with pytest.raises(KeyboardInterrupt):
        write_loop(tmp_path / "x.h5", images, images, fps=10)
    assert list(tmp_path.iterdir()) == []


def test_cine_command_line(tmp_path, capsys):
    from engine.cli.main import main
    from engine.maskio import write_label_png

    ed, es = key_frames(2, 64)
    write_label_png(tmp_path / "p_4CH_ED.png", ed)
    write_label_png(tmp_path / "p_4CH_ES.png", es)
    out = tmp_path / "heart.gif"
    args = ["cine", "--model", "simulator", "--ed", str(tmp_path / "p_4CH_ED.png"),
            "--es", str(tmp_path / "p_4CH_ES.png"), "--frames", "4"]
    assert main(args + ["--out", str(out)]) == 0
    assert "4 frames" in capsys.readouterr().err and out.is_file()
    from PIL import Image

    with Image.open(out) as gif:  # four frames fill one beat at the default 65 bpm
        delays = []
        for k in range(gif.n_frames):
            gif.seek(k)
            delays.append(gif.info["duration"])
    assert abs(sum(delays) - 60_000 / 65) <= 10
    # mistakes: one line each, nothing written
    write_label_png(tmp_path / "small.png", key_frames(2, 32)[1])
    write_label_png(tmp_path / "nocavity.png", np.where(es == 1, 2, es).astype(np.uint8))
    write_label_png(tmp_path / "p_2CH_ES.png", es)
    cases = [
        (["--es", str(tmp_path / "p_2CH_ES.png")], "one view"),
        (["--es", str(tmp_path / "small.png")], "differ in size"),
        (["--es", str(tmp_path / "nocavity.png")], "no LV cavity"),
        (["--fps", "0"], "positive"),
        (["--frames", "1"], "between 2"),
        (["--fps", "30"], "not both"),
        (["--out", str(tmp_path / "heart.avi")], "cannot write .avi"),
        (["--out", str(out)], "already exists"),
    ]
    for extra, words in cases:
        argv = list(args)
        if extra[0] == "--es":
            argv[argv.index("--es") + 1] = extra[1]
            extra = []
        target = [] if "--out" in extra else ["--out", str(tmp_path / "again.gif")]
        assert main(argv + extra + target) != 0
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "again.gif").exists() and not (tmp_path / "heart.avi").exists()


def test_a_loop_of_the_same_mask_twice_or_of_swapped_key_frames_is_questioned(tmp_path, capsys):
    from engine.cli.cine import key_frame_doubts
    from engine.cli.main import main
    from engine.maskio import write_label_png

    ed, es = key_frames(2, 64)
    assert key_frame_doubts(ed, es) == []
    assert "stands still" in key_frame_doubts(ed, ed.copy())[0]
    swapped = key_frame_doubts(es, ed)
    assert len(swapped) == 1 and "beats backwards" in swapped[0]
    write_label_png(tmp_path / "p_4CH_ED.png", ed)
    args = ["cine", "--model", "simulator", "--ed", str(tmp_path / "p_4CH_ED.png"), "--es",
            str(tmp_path / "p_4CH_ED.png"), "--frames", "2", "--out", str(tmp_path / "still.gif")]
    assert main(args) == 0  # written all the same: a still loop may be meant
    err = capsys.readouterr().err
    assert "--ed and --es are the same mask: the heart stands still (EF 0 %)" in err
    assert (tmp_path / "still.gif").is_file()


@pytest.mark.parametrize("layout", ["png", "nifti", "hdf5"])
def test_export_cine_writes_sequences_with_masks_and_a_manifest(tmp_path, layout):
    from engine.data.dataset import PairedDataset
    from engine.export.cine import export_cine

    out = tmp_path / layout
    manifest = export_cine("simulator", out, random=3, format=layout, size=64, seed=1,
                           timing=Timing(fps=12, bpm=60, cycle="half"))
    sequences = manifest["sequences"]
    assert len(sequences) == 6 and all(s["frames"] == 5 and s["invalid_frames"] == 0 for s in sequences)
    assert set(manifest["hearts"]) == {"patient0001", "patient0002", "patient0003"}
    assert all("biplane" in h["ejection_fraction"] for h in manifest["hearts"].values())
    if layout == "png":
        train = PairedDataset(out, "train")  # the frames train a segmenter as pairs
        assert len(train) == 5 * sum(s["split"] == "train" for s in sequences)
        assert train.fan_sources["label"] == len(train)
    elif layout == "nifti":
        import SimpleITK as sitk

        first = sequences[0]
        volume = sitk.ReadImage(str(out / first["files"][0]))
        masks = sitk.GetArrayFromImage(sitk.ReadImage(str(out / first["files"][1])))
        assert volume.GetSize() == (64, 64, 5) and set(np.unique(masks)) <= {0, 1, 2, 3}
    else:
        import h5py

        with h5py.File(out / "synthetic.hdf5") as f:
            group = f[f"{sequences[0]['split']}/{sequences[0]['patient']}/{sequences[0]['view']}"]
            assert group["images"].shape == group["masks"].shape == (5, 64, 64)
    with pytest.raises(CardiganError, match="already exists"):
        export_cine("simulator", out, random=1, format=layout, size=64)


def test_export_cine_from_key_frame_masks_and_its_mistakes(tmp_path, capsys):
    from engine.cli.main import main
    from engine.maskio import write_label_png

    masks = tmp_path / "masks"
    masks.mkdir()
    ed, es = key_frames(4, 64)
    write_label_png(masks / "p1_4CH_ED.png", ed)
    write_label_png(masks / "p1_4CH_ES.png", es)
    write_label_png(masks / "p2_2CH_ED.png", ed)  # no ES: not a sequence
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--cine", "--fps", "12",
                 "--format", "png", "--out", str(tmp_path / "out")]) == 0
    assert "1 sequences" in capsys.readouterr().err
    (masks / "p1_4CH_ES.png").unlink()
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--cine",
                 "--out", str(tmp_path / "none")]) != 0
    err = capsys.readouterr().err.strip()
    assert "both key frames" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("extra, named", [(["--fps", "20"], "--fps sets"),
                                           (["--bpm", "90", "--cycle", "full"], "--bpm, --cycle set")])
def test_export_refuses_a_loops_timing_without_cine_rather_than_writing_still_pairs(tmp_path, capsys, extra, named):
    """--fps 20 without --cine wrote still pairs, the frame rate silently dropped."""
    from engine.cli.main import main

    out = tmp_path / "out"
    assert main(["export", "--model", "simulator", "--random", "1", "--out", str(out)] + extra) != 0
    err = capsys.readouterr().err.strip()
    assert named in err and "add --cine" in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_cine_names_the_option_of_an_output_it_refuses(tmp_path, capsys):
    """As synthesize, tune and bench do: "--out x.gif: already exists ..."; a file beside
    --out (a NIfTI loop's masks) is named by its path."""
    from engine.cli.main import main

    args = ["cine", "--model", "simulator", "--size", "64", "--frames", "3", "--random", "1"]
    taken = tmp_path / "taken.gif"
    taken.write_bytes(b"mine")
    (tmp_path / "loop_gt.nii.gz").write_bytes(b"masks")
    for out, extra, line in (
            (taken, [], f"--out {taken}: already exists (use --overwrite to replace it, or choose another file)"),
            (taken, ["--format", "mp4"], f"--out {taken}: the name says gif and --format says mp4; give one of them"),
            (tmp_path / "loop.nii.gz", [], f"{tmp_path / 'loop_gt.nii.gz'}: already exists (use --overwrite to "
                                           "replace it, or choose another file)")):
        assert main(args + extra + ["--out", str(out)]) == 1
        assert capsys.readouterr().err.strip() == f"cardigan: error: {line}"
    assert taken.read_bytes() == b"mine" and not (tmp_path / "loop.nii.gz").exists()


def test_one_random_loop_may_be_named_as_a_file_and_several_may_not(tmp_path, capsys):
    from engine.cli.main import main

    args = ["cine", "--model", "simulator", "--size", "64", "--frames", "3"]
    assert main(args + ["--random", "1", "--out", str(tmp_path / "one.gif")]) == 0
    assert (tmp_path / "one.gif").is_file()
    assert main(args + ["--random", "1", "--out", str(tmp_path / "one.nii.gz")]) == 0
    assert (tmp_path / "one.nii.gz").is_file() and (tmp_path / "one_gt.nii.gz").is_file()
    capsys.readouterr()
    for extra in (["--random", "2"], ["--random", "1", "--view", "both"]):
        assert main(args + extra + ["--out", str(tmp_path / "many.gif")]) != 0
        err = capsys.readouterr().err.strip()
        assert "names the folder" in err and "--format gif" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "many.gif").exists()
    # a name with a dot that is no loop type is still a folder
    assert main(args + ["--random", "2", "--out", str(tmp_path / "run.v2")]) == 0
    assert len(list((tmp_path / "run.v2").glob("*.gif"))) == 2
    assert main(args + ["--random", "1", "--out", str(tmp_path / "one.gif")]) != 0
    assert "already exists" in capsys.readouterr().err
    # a file name and a --format that disagree: one line, nothing written
    assert main(args + ["--random", "1", "--format", "mp4", "--out", str(tmp_path / "two.gif")]) != 0
    err = capsys.readouterr().err.strip()
    assert "says gif" in err and "--format says mp4" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "two.gif").exists()
    (tmp_path / "empty.gif").mkdir()  # a folder where a loop file should go is refused before any work
    assert main(args + ["--random", "1", "--out", str(tmp_path / "empty.gif")]) != 0
    assert "is a folder" in capsys.readouterr().err


def test_random_loops_each_have_their_own_seed_and_nothing_is_made_before_the_checks(tmp_path, capsys):
    import h5py

    from engine.cli.main import main

    args = ["cine", "--model", "simulator", "--size", "64", "--frames", "3", "--seed", "5"]
    assert main(args + ["--random", "2", "--format", "hdf5", "--out", str(tmp_path / "run")]) == 0
    seeds = []
    for path in sorted((tmp_path / "run").glob("*.h5")):
        with h5py.File(path) as f:
            seeds.append(int(f.attrs["seed"]))
    from engine.cine.random_loops import SEED_STRIDE

    assert seeds == [5 * SEED_STRIDE + 1, 5 * SEED_STRIDE + 2]  # two patients, two looks
    assert main(args[:-1] + ["6", "--random", "1", "--format", "hdf5", "--out", str(tmp_path / "next")]) == 0
    with h5py.File(next((tmp_path / "next").glob("*.h5"))) as f:
        assert int(f.attrs["seed"]) not in seeds  # the next seed's first loop is not this one's second
    missing = tmp_path / "nowhere" / "deeper"
    assert main(args + ["--random", "1", "--model", str(tmp_path / "no_model.safetensors"), "--out", str(missing)]) != 0
    capsys.readouterr()
    assert not (tmp_path / "nowhere").exists()  # a failed command leaves no folder behind
    assert main(args + ["--random", "1", "--out", str(missing)]) != 0
    assert "does not exist" in capsys.readouterr().err


def test_a_patients_two_views_get_fans_of_their_own(tmp_path):
    from engine.cine import Timing
    from engine.export.cine import _generated

    from engine.fan import default_fan

    made = [(view, make().fan) for _, view, make, _, _ in _generated(1, ("2CH", "4CH"), 64, 3, Timing(frames=3))]
    offsets = [(round(fan.width - default_fan(view).width, 6), round(fan.tilt - default_fan(view).tilt, 6))
               for view, fan in made]  # each view's fan drawn about its own median
    assert offsets[0] != offsets[1]


def test_a_coarse_field_lands_on_the_pixels_it_was_found_at():
    from engine.cine.motion import upsample_field

    size, step = 64, 4
    ys, xs = np.mgrid[0:size:step, 0:size:step]
    found = np.stack([0.1 * xs, -0.05 * ys], -1).astype(np.float32) / step  # in coarse pixels
    full = upsample_field(found, step, size, size)
    rows, cols = np.mgrid[0:size, 0:size]
    inside = (rows <= ys.max()) & (cols <= xs.max())  # beyond the last sample it is held constant
    assert np.abs(full[..., 0] - 0.1 * cols)[inside].max() < 1e-4
    assert np.abs(full[..., 1] + 0.05 * rows)[inside].max() < 1e-4
    assert np.allclose(full[:, -1, 0], full[:, xs.max(), 0])


def nifti_array(path):
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def test_a_nifti_loop_and_its_masks_are_replaced_together_or_not_at_all(tmp_path, monkeypatch):
    import SimpleITK as sitk

    images = np.full((3, 16, 16), 50, np.uint8)
    masks = np.zeros((3, 16, 16), np.uint8)
    path = tmp_path / "loop.nii.gz"
    write_loop(path, images, masks, fps=25.0)
    real, calls = sitk.WriteImage, []

    def second_fails(image, name, *args):
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stopped between the images and the masks
        real(image, name, *args)

    monkeypatch.setattr(sitk, "WriteImage", second_fails)
    with pytest.raises(KeyboardInterrupt):
        write_loop(path, images + 100, masks + 1, fps=25.0)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop.nii.gz", "loop_gt.nii.gz"]
    assert np.array_equal(nifti_array(path), images)  # the old pair, whole
    assert np.array_equal(nifti_array(tmp_path / "loop_gt.nii.gz"), masks)


def fail_second_rename(monkeypatch, targets, error):
    """``os.replace`` (what the writers rename a finished file into place with) raising
    ``error`` at the second file renamed onto one of ``targets``, whichever goes second."""
    import os

    real, renamed = os.replace, []

    def failing(source, destination):
        if Path(destination) in targets:
            renamed.append(destination)
            if len(renamed) == 2:
                raise error
        real(source, destination)

    monkeypatch.setattr(os, "replace", failing)


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), KeyboardInterrupt()],
                         ids=["failing", "interrupted"])
def test_a_nifti_loop_whose_second_file_cannot_be_renamed_into_place_puts_the_first_back(tmp_path, monkeypatch,
                                                                                          error):
    """The two files were renamed into place one after the other: a failing second rename left
    one new file beside the old other."""
    images = np.full((3, 16, 16), 50, np.uint8)
    masks = np.zeros((3, 16, 16), np.uint8)
    path, mask_path = tmp_path / "loop.nii.gz", tmp_path / "loop_gt.nii.gz"
    write_loop(path, images, masks, fps=25.0)
    before = files_under(tmp_path)
    fail_second_rename(monkeypatch, [path, mask_path], error)
    with pytest.raises(CardiganError if isinstance(error, OSError) else KeyboardInterrupt) as raised:
        write_loop(path, images + 100, masks + 1, fps=25.0)
    if isinstance(error, OSError):
        assert str(raised.value) in (f"{where}: Input/output error" for where in (path, mask_path))
    assert files_under(tmp_path) == before  # the old pair, byte for byte, and no temporary left
    monkeypatch.undo()
    write_loop(path, images + 100, masks + 1, fps=25.0)  # and writing it again works
    assert np.array_equal(nifti_array(path), images + 100) and np.array_equal(nifti_array(mask_path), masks + 1)


def test_a_new_nifti_loop_whose_second_file_cannot_be_renamed_leaves_nothing(tmp_path, monkeypatch):
    """No pair was there: the file renamed into place first goes again (an older image without
    masks stays as it was)."""
    images, masks = small_loop(3, 16)
    new = [tmp_path / "new.nii.gz", tmp_path / "new_gt.nii.gz"]
    fail_second_rename(monkeypatch, new, OSError(5, "Input/output error"))
    with pytest.raises(CardiganError, match="Input/output error"):
        write_loop(new[0], images, masks, fps=25.0)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "old.nii.gz").write_bytes(b"an older loop")
    fail_second_rename(monkeypatch, [tmp_path / "old.nii.gz", tmp_path / "old_gt.nii.gz"],
                       OSError(5, "Input/output error"))
    with pytest.raises(CardiganError):
        write_loop(tmp_path / "old.nii.gz", images, masks, fps=25.0)
    assert files_under(tmp_path) == {Path("old.nii.gz"): b"an older loop"}


def test_files_replaced_together_keep_the_old_ones_by_copy_where_the_filesystem_has_no_links(tmp_path,
                                                                                             monkeypatch):
    import os

    from engine.fileio import atomic_paths

    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a")
    second.write_text("old b")

    def no_links(*args):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    fail_second_rename(monkeypatch, [first, second], OSError(5, "Input/output error"))
    with pytest.raises(CardiganError, match="b.txt: Input/output error"):
        with atomic_paths([first, second]) as (new_first, new_second):
            new_first.write_text("new a")
            new_second.write_text("new b")
    assert files_under(tmp_path) == {Path("a.txt"): b"old a", Path("b.txt"): b"old b"}


def test_cine_exports_with_neighbouring_seeds_never_draw_a_loop_with_the_same_seed(tmp_path, monkeypatch):
    import engine.export.cine as cine_export

    used = {}

    def recording(synth, loop, seed=0, **kwargs):
        used.setdefault(current, []).append(seed)
        return np.zeros(loop.masks.shape, np.uint8)

    monkeypatch.setattr(cine_export, "synthesize_loop", recording)
    for current in (0, 1):
        cine_export.export_cine("simulator", tmp_path / f"seed{current}", random=2, format="png", size=64,
                                seed=current, timing=Timing(fps=12, bpm=60, cycle="half"))
    assert len(used[0]) == len(used[1]) == 4
    assert not set(used[0]) & set(used[1]) and len(set(used[0])) == 4


def test_cine_random_and_a_cine_export_draw_the_same_patients_from_one_seed(tmp_path):
    import h5py

    from engine.cine import Timing
    from engine.cli.main import main
    from engine.export.cine import export_cine

    assert main(["cine", "--model", "simulator", "--size", "64", "--frames", "3", "--cycle", "half", "--seed", "4",
                 "--random", "2", "--view", "2CH", "--format", "hdf5", "--out", str(tmp_path / "cine")]) == 0
    export_cine("simulator", tmp_path / "export", random=2, views=("2CH",), format="hdf5", size=64, seed=4,
                timing=Timing(frames=3, cycle="half"), device="cpu")
    with h5py.File(tmp_path / "export" / "synthetic.hdf5") as exported:
        groups = {}
        exported.visititems(lambda name, item: groups.update({name.split("/")[1]: item})
                            if isinstance(item, h5py.Group) and name.endswith("/2CH") else None)
        assert len(groups) == 2
        for patient, group in groups.items():
            with h5py.File(tmp_path / "cine" / f"{patient}_2CH.h5") as made:
                assert np.array_equal(made["masks"][()], group["masks"][()])  # the same heart in the same fan
                assert np.array_equal(made["images"][()], group["images"][()])  # drawn with the same look


def test_a_loop_of_a_shape_model_heart_is_drawn_in_its_own_fan():
    """The loop carried its fan but drew every frame in the view's median fan."""
    from engine.anatomy import ShapeModel
    from engine.cine.loop import loop_from_heart
    from engine.fan import default_fan

    model, fan = ShapeModel.default(), default_fan("4CH").with_shape(depth=0.7, tilt=20.0)
    heart = model.draw(4)
    loop = loop_from_heart(model, heart, "4CH", 64, Timing(frames=8), fan)
    assert loop.fan == fan
    for mask in loop.masks:
        assert_in_its_fan(mask, fan)
    assert (loop.masks[0] == model.mask(heart, "4CH", float(loop.phases[0]), 64, fan=fan)).all()
    assert loop.invalid_frames() == []


@pytest.mark.parametrize("timing", [Timing(frames=8), Timing(cycle="half", frames=5)])
def test_a_loop_of_a_shape_model_heart_draws_each_phase_once(timing, monkeypatch):
    """The motion field's key frames are the loop's own ED and ES masks, not drawn again
    (a half cycle has both among its frames, a full one of 8 frames has ED)."""
    from engine.anatomy import ShapeModel
    from engine.cine import loop as loop_module
    from engine.fan import default_fan

    model, fan = ShapeModel.default(), default_fan("2CH").with_shape(depth=0.8)
    heart = model.draw(7)
    draw, drawn = model.mask, []

    def counted(*args, **kwargs):
        drawn.append(args[2])
        return draw(*args, **kwargs)

    monkeypatch.setattr(model, "mask", counted)
    loop = loop_module.loop_from_heart(model, heart, "2CH", 64, timing, fan)
    phases = [float(p) for p in loop.phases]
    assert sorted(drawn) == sorted(set(phases) | {0.0, 1.0})
    monkeypatch.setattr(model, "mask", draw)
    masks = np.stack([model.mask(heart, "2CH", p, 64, fan=fan) for p in phases])
    field = loop_module.displacement_field(model.mask(heart, "2CH", 0.0, 64, fan=fan),
                                           model.mask(heart, "2CH", 1.0, 64, fan=fan))
    assert loop.masks.dtype == masks.dtype and np.array_equal(loop.masks, masks)
    assert loop.field.dtype == field.dtype and np.array_equal(loop.field, field)


LOOP_NAMES = ["loop.gif", "loop.mp4", "loop.nii.gz", "loop.h5", "loop.dcm", "frames"]


def small_loop(frames: int = 8, size: int = 32):
    rng = np.random.default_rng(5)
    return (rng.integers(0, 255, (frames, size, size)).astype(np.uint8),
            rng.integers(0, 4, (frames, size, size)).astype(np.uint8))


@pytest.mark.parametrize("name", LOOP_NAMES)
def test_a_loop_writer_says_how_far_it_is_step_by_step_up_to_its_total(tmp_path, name):
    from engine.cine.writers import WRITING, output_kind, step_count

    images, masks = small_loop()
    heard = []
    write_loop(tmp_path / name, images, masks, fps=25.0, progress=heard.append)
    total = step_count(output_kind(tmp_path / name), len(images), 25.0)
    assert total == {"loop.nii.gz": 2, "loop.dcm": 1}.get(name, len(images))
    assert [p.done for p in heard] == list(range(total + 1))  # each step, then the loop in place
    assert {p.total for p in heard} == {total} and {p.stage for p in heard} == {WRITING}


def files_under(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", [n for n in LOOP_NAMES if n != "loop.dcm"])  # a DICOM file is one step
def test_a_loop_write_asked_to_stop_ends_early_and_leaves_what_was_there(tmp_path, name):
    """Cancelling an export stops between frames (between the images and the masks for NIfTI)
    and leaves no temporary file, no half a loop and the files that were there untouched."""
    from engine.progress import Cancelled

    images, masks = small_loop()
    path = tmp_path / name
    if name == "frames":
        path.mkdir()  # an empty folder chosen for the frames stays as it was
    else:
        path.write_bytes(b"an older loop")
        (tmp_path / "loop_gt.nii.gz").write_bytes(b"masks painted by hand")
    before = files_under(tmp_path)
    heard = []
    with pytest.raises(Cancelled):
        write_loop(path, images, masks, fps=25.0, progress=heard.append, should_stop=lambda: len(heard) >= 1)
    assert [p.done for p in heard] == [0]  # stopped at the next step, not at the end
    assert files_under(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["frames"] if name == "frames" else [name, "loop_gt.nii.gz"])  # no temporaries, no staging folder
    if name == "frames":
        assert list(path.iterdir()) == []
    write_loop(path, images, masks, fps=25.0)  # and writing it again works
    assert files_under(tmp_path) != before


def test_png_frames_go_into_a_folder_whose_parent_is_there_and_never_over_a_file(tmp_path):
    """A frames folder in a folder that does not exist is refused in one line, as every other
    loop file is, and nothing is made (a stopped write would leave the folders it made above
    it); a file at the folder's name is refused in one line too."""
    images, masks = small_loop()
    with pytest.raises(CardiganError, match="does not exist"):
        write_loop(tmp_path / "new" / "frames", images, masks, fps=25.0)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "frames").write_bytes(b"a file")
    with pytest.raises(CardiganError, match="a file of that name is there"):
        write_loop(tmp_path / "frames", images, masks, fps=25.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]
    assert (tmp_path / "frames").read_bytes() == b"a file"


def open_files_under(folder):
    """The files under ``folder`` this process holds open (deleted ones too), from /proc."""
    held = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:  # the descriptor listing the folder, gone
            continue
        if target.startswith(str(folder)):
            held.append(target)
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see open files")
@pytest.mark.parametrize("name", [n for n in LOOP_NAMES if n != "loop.dcm"])
def test_a_ctrl_c_between_frames_leaves_no_file_open(tmp_path, name):
    """A KeyboardInterrupt heard between frames (as the command line's bar raises it) closes
    the temporary file before it is removed: while the interrupt is handled (its traceback
    alive), no file is held open, deleted (where files cannot be removed while open, the
    temporary file would stay)."""
    images, masks = small_loop()

    def ctrl_c(progress):
        if progress.done == 1:
            raise KeyboardInterrupt

    try:
        write_loop(tmp_path / name, images, masks, fps=25.0, progress=ctrl_c)
    except KeyboardInterrupt:
        held = open_files_under(tmp_path)
    else:
        pytest.fail("the interrupt was not raised")
    assert held == []
    assert list(tmp_path.iterdir()) == []


class HeardProgress:
    """The command line's progress bar, replaced: what it heard; ``interrupt_at(event)`` says
    when to act as a Ctrl-C would (a KeyboardInterrupt where the work is)."""

    events: list = []
    interrupt_at = staticmethod(lambda event: False)

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, event) -> None:
        HeardProgress.events.append(event)
        if HeardProgress.interrupt_at(event):
            raise KeyboardInterrupt

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


@pytest.fixture
def heard_bar(monkeypatch):
    monkeypatch.setattr("engine.cli.terminal.TerminalProgress", HeardProgress)
    HeardProgress.events = []
    HeardProgress.interrupt_at = staticmethod(lambda event: False)
    return HeardProgress


def cine_key_frame_args(folder):
    from engine.maskio import write_label_png

    ed, es = key_frames(2, 64)
    write_label_png(folder / "p_4CH_ED.png", ed)
    write_label_png(folder / "p_4CH_ES.png", es)
    return ["cine", "--model", "simulator", "--ed", str(folder / "p_4CH_ED.png"),
            "--es", str(folder / "p_4CH_ES.png"), "--frames", "5"]


@pytest.mark.parametrize("name", ["heart.gif", "heart.h5", "frames"])
def test_the_cine_command_shows_how_far_the_loop_is_written(tmp_path, heard_bar, name):
    from engine.cine.writers import WRITING
    from engine.cli.main import main

    assert main(cine_key_frame_args(tmp_path) + ["--out", str(tmp_path / name)]) == 0
    writing = [(event.done, event.total) for event in heard_bar.events if event.stage == WRITING]
    assert writing == [(done, 5) for done in range(6)]  # a step a frame, then the loop in place


@pytest.mark.parametrize("name", ["heart.gif", "heart.mp4", "heart.nii.gz", "heart.h5", "frames"])
def test_ctrl_c_while_the_cine_command_writes_leaves_what_was_there(tmp_path, heard_bar, capsys, ffmpeg_processes,
                                                                      name):
    """Nothing is left, one line says so, and an MP4's ffmpeg is killed, not waited for while
    it encodes the frames it holds."""
    from engine.cine.writers import WRITING
    from engine.cli.main import main

    args = cine_key_frame_args(tmp_path)
    out = tmp_path / name
    if name == "frames":
        out.mkdir()
    else:
        out.write_bytes(b"an older loop")
    before = files_under(tmp_path)
    heard_bar.interrupt_at = staticmethod(lambda event: event.stage == WRITING and event.done == 1)
    assert main(args + ["--out", str(out), "--overwrite"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"cardigan: interrupted; nothing was written (the {name} that was there is as it was)"]
    assert files_under(tmp_path) == before  # no temporary file, no half a loop
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "p_4CH_ED.png", "p_4CH_ES.png"])
    assert [ffmpeg.wait() < 0 for ffmpeg in ffmpeg_processes] == ([True] if name.endswith(".mp4") else [])


def test_ctrl_c_during_random_loops_keeps_the_finished_ones_and_says_so(tmp_path, heard_bar, capsys):
    from engine.cine.writers import WRITING
    from engine.cli.main import main

    writes = []

    def second_loop_half_written(event):
        if event.stage == WRITING and event.done == 0:
            writes.append(event)
        return len(writes) == 2 and event.stage == WRITING and event.done == 2

    args = ["cine", "--model", "simulator", "--random", "3", "--size", "64", "--frames", "4"]
    heard_bar.interrupt_at = staticmethod(second_loop_half_written)
    out = tmp_path / "loops"
    assert main(args + ["--out", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    finished = sorted(p.name for p in out.iterdir())
    assert len(finished) == 1 and finished[0].endswith(".gif")
    assert err[-1].startswith(f"cardigan: interrupted; 1 of 3 loops were written in full to {out}; ")
    assert err[-1].endswith("_4CH.gif was not") and finished[0] not in err[-1].split(";")[-1]
    # stopped in the first loop: the folder made for the loops goes too
    heard_bar.interrupt_at = staticmethod(lambda event: event.stage == WRITING and event.done == 1)
    assert main(args + ["--out", str(tmp_path / "other")]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "cardigan: interrupted; nothing was written"
    assert not (tmp_path / "other").exists()


def test_a_dicom_loop_asked_to_stop_while_written_leaves_the_file_that_was_there(tmp_path):
    """A DICOM loop's frames go out in one call: a stop asked for meanwhile was not heard and the
    new file replaced the old one. It is heard before the replacing."""
    from engine.progress import Cancelled

    images, masks = small_loop()
    path = tmp_path / "loop.dcm"
    path.write_bytes(b"an older loop")
    asked = []
    with pytest.raises(Cancelled):
        write_loop(path, images, masks, fps=25.0, should_stop=lambda: asked.append(1) or len(asked) > 1)
    assert [p.name for p in tmp_path.iterdir()] == ["loop.dcm"] and path.read_bytes() == b"an older loop"


def test_a_dicom_loop_hears_a_stop_before_its_one_write_and_once_it_is_complete(tmp_path):
    """The frames go out in one call (the pixel data is one element): a stop is asked for
    before it and once the whole file is written under its temporary name, and nowhere
    between; the bar goes from 0 to 1 of 1."""
    images, masks = small_loop()
    heard = []

    def asked():  # how many bytes are written under temporary names when asked
        heard.append(("asked", sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.endswith(".tmp"))))
        return False

    write_loop(tmp_path / "loop.dcm", images, masks, fps=25.0, progress=lambda p: heard.append((p.done, p.total)),
               should_stop=asked)
    assert [event if event[0] != "asked" else "asked" for event in heard] == ["asked", (0, 1), "asked", (1, 1)]
    assert heard[0][1] == 0 and heard[2][1] > images.nbytes  # the second time, every frame is in the file
    assert [p.name for p in tmp_path.iterdir()] == ["loop.dcm"]


def test_generated_loops_are_the_models_size_unless_told(tiny_model, tmp_path, capsys):
    """cine --random and export --cine --random draw a 64-pixel model's loops at 64 pixels."""
    from PIL import Image

    from engine.cli.main import main

    args = ["cine", "--model", str(tiny_model), "--device", "cpu", "--frames", "3", "--random", "1"]
    assert main(args + ["--out", str(tmp_path / "own.gif")]) == 0
    assert Image.open(tmp_path / "own.gif").size == (64, 64)
    assert "resampled" not in capsys.readouterr().err
    assert main(args + ["--size", "96", "--out", str(tmp_path / "told.gif")]) == 0
    assert Image.open(tmp_path / "told.gif").size == (96, 96)
    assert "generated masks 96 px (--size); the model draws at 64 px" in capsys.readouterr().err
    assert main(["export", "--cine", "--model", str(tiny_model), "--device", "cpu", "--random", "1", "--fps", "10",
                 "--format", "png", "--out", str(tmp_path / "loops")]) == 0
    frames = list((tmp_path / "loops").rglob("*.png"))
    assert frames and {Image.open(p).size for p in frames} == {(64, 64)}


def test_a_cine_export_shows_each_loops_frames_on_its_one_bar(tmp_path):
    """The bar moved only between loops: a long loop stood still for its whole synthesis. It
    counts frames drawn (per batch for a network) and loops written, in one stage."""
    from engine.export.cine import STAGE, export_cine

    heard = []
    export_cine("simulator", tmp_path / "sim", random=1, format="png", size=64, timing=Timing(frames=5),
                progress=heard.append)
    assert {event.stage for event in heard} == {STAGE} and {event.total for event in heard} == {12}
    assert [event.done for event in heard] == [0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11, 11, 12]
    assert heard[3].message == "loop 1 of 2 (patient0001 2CH): frame 3 of 5"
    assert heard[6].message == "loop 1 of 2 (patient0001 2CH): writing"
    assert heard[7].message == "loop 1 of 2 (patient0001 2CH): written"
    assert heard[-2].message == "loop 2 of 2 (patient0001 4CH): writing"

    synth, _ = small_model_loop(10)  # a network draws a batch of frames at a time
    heard.clear()
    export_cine(synth, tmp_path / "net", random=1, views=("2CH",), format="hdf5", size=64,
                timing=Timing(frames=10), progress=heard.append)
    assert [event.done for event in heard] == [0, 8, 10, 10, 11]
    assert heard[1].message == "loop 1 of 1 (patient0001 2CH): frame 8 of 10"


@pytest.mark.parametrize("layout", ["nifti", "hdf5", "png"])
@pytest.mark.parametrize("when", ["frame 2 of 5", "writing"])
def test_a_cine_export_asked_to_stop_within_a_loop_stops_there_and_leaves_what_was_there(tmp_path, monkeypatch,
                                                                                         layout, when):
    """A stop was heard only between loops: a one-loop export ran to the end and replaced the
    dataset. It is heard between frames and while the loop is written; nothing is left."""
    from engine.data import staging
    from engine.export.cine import export_cine
    from engine.progress import Cancelled

    thrown_away = []  # the files the staging folder held when it was thrown away
    discard = staging.discard

    def recording(folder, made=()):
        thrown_away.extend(p.name for p in folder.rglob("*") if p.is_file() and p.name != staging.WRITER_LOCK)
        discard(folder, made)

    monkeypatch.setattr(staging, "discard", recording)

    out = tmp_path / "export"
    export_cine("simulator", out, random=1, views=("4CH",), format="png", size=64, timing=Timing(frames=2))
    before = files_under(tmp_path)
    heard = []
    with pytest.raises(Cancelled):
        export_cine("simulator", out, random=1, views=("2CH",), format=layout, size=64, timing=Timing(frames=5),
                    overwrite=True, progress=heard.append,
                    should_stop=lambda: any(event.message.endswith(when) for event in heard))
    assert heard[-1].message.endswith(when)  # nothing was drawn after the stop was asked for
    assert thrown_away == []  # nor written: the writer heard it before its first frame or file
    assert files_under(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["export"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_ctrl_c_in_a_cine_export_says_that_nothing_was_written(tmp_path, heard_bar, capsys, overwrite):
    """Ctrl-C was heard only between loops and said only "interrupted". It is heard within a
    loop and says that nothing was written and that an export it would replace is kept."""
    import json

    from engine.cli.main import main

    from engine.export.cine import export_cine

    out = tmp_path / "export"
    if overwrite:
        export_cine("simulator", out, random=1, views=("4CH",), format="png", size=64, timing=Timing(frames=2))
    before = files_under(tmp_path)
    args = ["export", "--model", "simulator", "--cine", "--random", "1", "--size", "64", "--fps", "8",
            "--out", str(out)] + (["--overwrite"] if overwrite else [])
    heard_bar.interrupt_at = staticmethod(lambda event: event.message.endswith("frame 2 of 3"))
    assert main(args) == 130
    err = capsys.readouterr().err.strip().splitlines()
    kept = "; the export that was there is as it was" if overwrite else ""
    assert err[-1] == (f"cardigan: interrupted; nothing was written to {out} "
                       f"(an export is written whole or not at all){kept}")
    assert files_under(tmp_path) == before and len(list(tmp_path.iterdir())) == (1 if overwrite else 0)
    assert heard_bar.events[-1].message.endswith("frame 2 of 3")  # heard within the loop
    # a stop after the dataset is in place: it was written
    heard_bar.interrupt_at = staticmethod(lambda event: event.message.startswith("wrote"))
    assert main(args + ["--overwrite"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"cardigan: interrupted; the export was written in full to {out} before the stop")
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["view"] for s in manifest["sequences"]} == {"2CH", "4CH"}  # the new export, not the older one


def test_ctrl_c_in_an_export_of_pairs_says_that_nothing_was_written_too(tmp_path, heard_bar, capsys):
    from engine.cli.main import main

    out = tmp_path / "pairs"
    heard_bar.interrupt_at = staticmethod(lambda event: event.done == 1)
    assert main(["export", "--model", "simulator", "--random", "2", "--size", "64", "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"cardigan: interrupted; nothing was written to {out} (an export is written whole or not at all)")
    assert list(tmp_path.iterdir()) == []


def test_a_masks_folder_loop_keeps_its_look_when_another_patient_gains_a_view(tmp_path, monkeypatch):
    """A loop's look was its number among all loops, so another patient's ES mask found
    changed every later patient's loops; and a NIfTI export's manifest lists its key frames."""
    import engine.export.cine as cine_export
    from engine.maskio import write_label_png

    drawn, looks = cine_export.synthesize_loop, []

    def recorded(synth, loop, seed, **kwargs):
        looks.append(seed)
        return drawn(synth, loop, seed=seed, **kwargs)

    monkeypatch.setattr(cine_export, "synthesize_loop", recorded)
    masks = tmp_path / "masks"
    masks.mkdir()
    ed, es = key_frames(4, 32)
    for patient in ("p1", "p2"):
        write_label_png(masks / f"{patient}_4CH_ED.png", ed)
        write_label_png(masks / f"{patient}_4CH_ES.png", es)
    two_ed, two_es = key_frames(4, 32, "2CH")
    write_label_png(masks / "p1_2CH_ED.png", two_ed)  # no ES yet: no 2CH loop

    def export(out):
        looks.clear()
        manifest = cine_export.export_cine("simulator", out, masks=masks, format="nifti",
                                           timing=Timing(fps=8, bpm=120, cycle="half"))
        return manifest, looks[-1]  # p2's loop is the last

    manifest, before = export(tmp_path / "a")
    on_disk = {str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a" / "database_nifti" / "p1").iterdir()}
    assert set(manifest["sequences"][0]["files"]) == on_disk
    assert "database_nifti/p1/Info_4CH.cfg" in on_disk and "database_nifti/p1/p1_4CH_ES_gt.nii.gz" in on_disk
    write_label_png(masks / "p1_2CH_ES.png", two_es)
    manifest, after = export(tmp_path / "b")
    assert len(manifest["sequences"]) == 3 and after == before
