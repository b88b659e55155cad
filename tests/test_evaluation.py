import json

import numpy as np
import pytest

from engine.cli.main import main
from PIL import Image

from engine.evaluation.evaluate import EvalSettings, evaluate, format_report, load_split
from engine.evaluation.fid import frechet_distance, kernel_inception_distance
from engine.evaluation.metrics import dice, dice_per_class
from engine.evaluation.segmenter import segment, train_segmenter


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from engine.data.phantom import write_phantom

    out = tmp_path_factory.mktemp("phantom") / "data"
    write_phantom(out, count=20, size=64, seed=3)
    return out


def test_dice_on_known_masks():
    a = np.zeros((2, 8, 8), np.uint8)
    a[:, :4] = 1
    b = np.zeros_like(a)
    b[:, 4:] = 1
    assert dice(a, a, 1) == 1.0
    assert dice(a, b, 1) == 0.0
    half = a.copy()
    half[:, :2] = 0
    assert dice(half, a, 1) == pytest.approx(2 * 32 / (32 + 64))
    scores = dice_per_class(a, a)
    assert scores == {"lv": 1.0, "myo": 1.0, "la": 1.0, "mean": 1.0}  # absent classes count as 1


@pytest.mark.slow
def test_segmenter_learns_phantom_data(phantom):
    images, labels, _ = load_split(phantom, "train", None)
    test_images, test_labels, _ = load_split(phantom, "test", None)
    model = train_segmenter(images, labels, iters=150, width=8, seed=0)
    scores = dice_per_class(segment(model, test_images), test_labels)
    # chance level is far below (classes cover <15 %); the small atrium of 16 pictures at
    # 64 px takes more iterations than a unit test affords, so the two large classes decide.
    # 150 iterations leave the wall's score spread by the data drawn (0.52-0.75 over phantom
    # seeds 3-5), so the bounds say "learnt", not how well
    assert scores["lv"] > 0.65 and scores["myo"] > 0.45, scores
    again = train_segmenter(images, labels, iters=5, width=8, seed=0)
    same = train_segmenter(images, labels, iters=5, width=8, seed=0)
    assert np.array_equal(segment(again, test_images), segment(same, test_images))


def test_mean_auc_skips_classifiers_that_could_not_be_scored():
    from engine.evaluation.evaluate import classifier_seeds, mean_auc

    assert mean_auc([0.9, float("nan"), 0.7]) == pytest.approx(0.8)
    assert np.isnan(mean_auc([float("nan")]))
    assert [seed for seed, _ in classifier_seeds(EvalSettings(seed=4, two_sample_seeds=3))] == [4, 5, 6]
    assert classifier_seeds(EvalSettings.quick()) == [(0, "")]


def test_real_vs_real_halves_never_coincide_with_a_classifiers_own_split():
    from engine.evaluation import MAX_TWO_SAMPLE_SEEDS
    from engine.evaluation.evaluate import HALVES_SEED_OFFSET, halves_by_patient
    from engine.evaluation.realism import held_out_rows

    assert HALVES_SEED_OFFSET >= MAX_TWO_SAMPLE_SEEDS

    patients = [f"patient{i:04d}" for i in range(50) for _ in range(4)]
    first, second = halves_by_patient(patients, 0)
    assert len(first) == len(second) == 100
    assert not {patients[i] for i in first} & {patients[i] for i in second}
    groups_first, groups_second = [patients[i] for i in first], [patients[i] for i in second]
    for seed in range(MAX_TWO_SAMPLE_SEEDS):  # every classifier evaluate may train holds out some of both halves
        held = held_out_rows(groups_first, groups_second, seed)
        assert held[:100].any() and held[100:].any() and (~held[:100]).any() and (~held[100:]).any()


def test_fid_and_kid_behave():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 8))
    assert abs(frechet_distance(a, a)) < 1e-6
    shifted = a + 3.0
    assert frechet_distance(a, shifted) == pytest.approx(8 * 9.0, rel=1e-6)
    assert kernel_inception_distance(a, rng.normal(size=(200, 8))) < kernel_inception_distance(a, shifted)


@pytest.mark.slow
def test_evaluate_produces_every_field(phantom, tmp_path, capsys):
    out = tmp_path / "evaluation.json"
    code = main(["evaluate", "--model", "simulator", "--data", str(phantom), "--quick",
                 "--seg-iters", "20", "--out", str(out), "--device", "cpu",
                 "--cache-dir", str(tmp_path / "cache"), "--no-auc-parts", "--two-sample-seeds", "2"])
    assert code == 0
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    report = json.loads(out.read_text(), parse_constant=refuse)  # strict JSON: no NaN, no Infinity
    for section, parts in (("fidelity", ("synthetic", "real")),
                           ("downstream", ("synthetic_trained", "real_trained"))):
        for part in parts:
            scores = report[section][part]
            assert set(scores) == {"lv", "myo", "la", "mean"}
            assert all(0.0 <= v <= 1.0 for v in scores.values())
            camus = report["camus_dice"][section][part]
            assert set(camus) == {"endo", "epi", "la", "mean"}
            assert all(0.0 <= v <= 1.0 for v in camus.values())
    assert report["model"]["name"] == "simulator" and report["data"]["eval_pairs"] > 0
    assert report["data"]["eval_split"] == "test"
    assert set(report["fidelity"]["deformed"]) == {"lv", "myo", "la", "mean"}
    assert report["settings"]["size"] == 64 and report["fid"] is None
    realism = report["realism"]
    assert set(realism["grey_levels"]) == {"background", "lv", "myo", "la"}
    assert all(g["w1"] >= 0 for g in realism["grey_levels"].values())
    assert 0.0 <= realism["two_sample_auc"] <= 1.0 and 0.0 <= realism["two_sample_auc_real_vs_real"] <= 1.0
    # two classifiers, seeds 0 and 1: the AUC reported is the mean of those that could be
    # taken (on these few patients a split can leave one side without real images: NaN)
    for key in ("two_sample_auc", "two_sample_auc_real_vs_real"):
        seeds = [np.nan if seed is None else seed for seed in realism[f"{key}_seeds"]]  # null: not taken
        assert len(seeds) == 2 and not all(np.isnan(seeds))
        assert realism[key] == pytest.approx(np.nanmean(seeds))
    assert report["settings"]["two_sample_seeds"] == 2
    assert realism["diversity"] > 1.0 and realism["diversity_seeds"] == 2  # the simulator varies
    printed = capsys.readouterr().out
    assert "mask fidelity" in printed and "two-sample AUC" in printed and "epi" in printed
    assert "the mean of 2 classifiers" in printed
    assert "--quick: quick figures are rough" in printed
    assert realism["two_sample_auc_by_part"] is None and "one part left" not in printed  # --no-auc-parts
    cine = report["cine"]  # one shape-model loop of six frames with --quick
    assert cine["loops"] == 1 and cine["frames"] == 6 and report["settings"]["cine_loops"] == 1
    assert cine["flicker"] >= 0 and cine["flicker_fresh_seeds"] > 0 and 0.0 <= cine["tracking_share"] <= 1.0
    assert set(cine["brightness_jumps"]) == {"lv_cavity", "myocardium", "left_atrium"}
    assert f"flicker where labels stay {cine['flicker']:.2f}" in printed


def test_cine_loops_are_measured_steadier_than_fresh_seeds_and_can_be_skipped(phantom, tmp_path):
    from test_fan import fan_synthesizer

    from engine.evaluation.cine_check import cine_check

    figures = cine_check(fan_synthesizer(noise_nc=4), 64, loops=2, frames=6, seed=3)
    assert figures["loops"] == 2 and figures["flicker"] < figures["flicker_fresh_seeds"]
    assert figures["far_field_flicker"]["median"] <= figures["far_field_flicker"]["worst"]
    assert all(v["median"] <= v["worst"] for v in figures["brightness_jumps"].values())
    out = tmp_path / "evaluation.json"
    assert main(["evaluate", "--model", "simulator", "--data", str(phantom), "--quick", "--seg-iters", "5",
                 "--out", str(out), "--device", "cpu", "--cache-dir", str(tmp_path / "cache"), "--no-auc-parts",
                 "--cine-loops", "0"]) == 0
    report = json.loads(out.read_text())
    assert report["cine"] is None and "cine loops" not in report["times_s"]


def test_evaluate_refuses_a_folder_without_test_or_valid_split(tmp_path):
    from engine.errors import DataError

    with pytest.raises(DataError, match="neither a test nor a valid split"):
        evaluate("simulator", tmp_path, EvalSettings.quick(), device="cpu")


TINY = EvalSettings(size=32, seg_iters=6, seg_width=4, variations=1, max_train=16, max_test=8,
                    two_sample_iters=4, diversity_masks=2, diversity_seeds=2)


def test_without_a_test_split_the_valid_split_is_scored_and_said(phantom, tmp_path):
    import shutil

    from engine.evaluation.cache import SegmenterCache

    data = tmp_path / "data"
    shutil.copytree(phantom, data)
    shutil.rmtree(data / "test")
    report = evaluate("simulator", data, TINY, device="cpu", cache=SegmenterCache(tmp_path / "c"))
    assert report["data"]["eval_split"] == "valid" and "no test split" in report["data"]["eval_split_note"]
    assert "valid split" in format_report(report)
    asked = evaluate("simulator", phantom, TINY, device="cpu", split="valid",
                     cache=SegmenterCache(tmp_path / "c"))
    assert asked["data"]["eval_split"] == "valid" and asked["data"]["eval_pairs"] == 8


def test_real_trained_segmenter_is_cached_and_retrained_when_the_data_changes(phantom, tmp_path):
    import shutil

    from engine.evaluation.cache import SegmenterCache

    data = tmp_path / "data"
    shutil.copytree(phantom, data)
    cache = SegmenterCache(tmp_path / "cache")
    first = evaluate("simulator", data, TINY, device="cpu", cache=cache)
    second = evaluate("simulator", data, TINY, device="cpu", cache=cache)
    assert not first["real_segmenter"]["cached"] and second["real_segmenter"]["cached"]
    assert second["fidelity"]["real"] == first["fidelity"]["real"]  # the same instrument
    assert "(cached)" in format_report(second)
    label = sorted((data / "train" / "label").glob("*.png"))[0]
    values = np.asarray(Image.open(label)).copy()
    values[:4, :4] = 1
    Image.fromarray(values).save(label)
    third = evaluate("simulator", data, TINY, device="cpu", cache=cache)
    assert not third["real_segmenter"]["cached"]
    assert third["real_segmenter"]["key"] != first["real_segmenter"]["key"]


def test_a_damaged_cache_entry_is_retrained(phantom, tmp_path):
    from engine.evaluation.cache import SegmenterCache

    cache = SegmenterCache(tmp_path / "cache")
    first = evaluate("simulator", phantom, TINY, device="cpu", cache=cache)
    cache.path(first["real_segmenter"]["key"]).write_bytes(b"not a model")
    again = evaluate("simulator", phantom, TINY, device="cpu", cache=cache)
    assert not again["real_segmenter"]["cached"]


@pytest.fixture(scope="module")
def tiny_report(phantom, tmp_path_factory):
    """A TINY evaluation of the simulator on the phantom (its test split)."""
    from engine.evaluation.cache import SegmenterCache

    return evaluate("simulator", phantom, TINY, device="cpu", cache=SegmenterCache(tmp_path_factory.mktemp("c")))


def test_grey_levels_and_diversity_are_measured_inside_the_given_fan(tiny_report, phantom):
    from engine.evaluation.evaluate import load_split_with_fans, synthesize_all
    from engine.evaluation.realism import diversity
    from engine.fan import fan_mask
    from engine.progress import never_stop, no_progress
    from engine.synthesizer import Synthesizer

    images, labels, _, fans = load_split_with_fans(phantom, "test", TINY.max_test)
    inside = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(images, fans)])
    background = images[(labels == 0) & inside]  # the images are black outside the fan
    assert tiny_report["realism"]["grey_levels"]["background"]["real_mean"] == pytest.approx(background.mean())
    n = TINY.diversity_masks
    per_seed = np.stack([synthesize_all(Synthesizer("simulator", device="cpu"), labels[:n], TINY.seed + 500_000 * k,
                                        "seeds", no_progress, never_stop, fans=fans[:n])
                         for k in range(1, TINY.diversity_seeds + 1)])  # the seeds evaluate documents
    assert tiny_report["realism"]["diversity"] == pytest.approx(diversity(per_seed, inside[:n]))


def test_evaluate_reports_grey_by_depth_and_the_two_sample_test_by_part(tiny_report):
    report = tiny_report
    depth = report["tells"]["depth"]
    assert set(depth) == {"real", "synthetic"}
    assert list(depth["synthetic"]) == ["background", "lv", "myo", "la"]
    assert all(len(v) == 3 for v in depth["real"].values())
    assert depth["real"]["myo"] != depth["synthetic"]["myo"]  # two different sets of images
    assert report["settings"]["border_jitter"] == 3.0  # the downstream set is made as export makes it
    assert "downstream: synthetic-trained, jitter 3 px" in format_report(report)
    bands = report["tells"]["arc_bands"]  # the near field's bands along the arcs, real beside ours
    assert len(bands["ranges"]) == len(bands["real"]) == len(bands["synthetic"]) and bands["real"] != bands["synthetic"]
    line = next(line for line in format_report(report).splitlines() if "near-field bands" in line)
    assert f"{bands['synthetic'][1]:.1f} ({bands['real'][1]:.1f})" in line
    line = next(line for line in format_report(report).splitlines() if "grey by depth" in line)
    near, mid, far = depth["synthetic"]["myo"]
    assert f"myo {near:.0f}/{mid:.0f}/{far:.0f}" in line
    from engine.evaluation.auc_parts import PARTS

    parts = report["realism"]["two_sample_auc_by_part"]
    assert list(parts) == list(PARTS) and all(0.0 <= v <= 1.0 for v in parts.values())
    line = next(line for line in format_report(report).splitlines() if "with only one part left" in line)
    assert f"background {parts['background']:.3f}" in line and f"fan edge {parts['fan edge']:.3f}" in line
    spec = report["tells"]["spectrum"]  # no 64 px window fits in these 64 px fans: not measured, and said so
    assert spec["synthetic"]["images"] == spec["real"]["images"] == 0 and np.isnan(spec["synthetic"]["falloff"])
    assert "spectrum and finest octave: n/a" in format_report(report)
    for name, (falloff, anisotropy) in (("synthetic", (-0.96, 1.57)), ("real", (-1.33, 2.15))):
        spec[name].update(images=4, falloff=falloff, anisotropy=anisotropy, fine_detail=-5.9, narrow_peak=0.03,
                          peak_frequency=0.2)
    line = next(line for line in format_report(report).splitlines() if "finest octave" in line)
    assert "falloff to the pixel limit -0.96 (-1.33), vertical over horizontal 1.57 (2.15)" in line
    evidence = report["realism"]["two_sample_evidence"]
    assert np.array(evidence["grid"]).shape == (2, 2) and evidence["cell_pixels"] == 16  # 32 px, four halvings
    places = evidence["by_place"]
    if places is None:  # the classifier's gap was not positive: nothing to take apart, nothing printed
        assert "where its evidence lies" not in format_report(report)
    else:
        assert sum(p["share"] for p in places.values()) == pytest.approx(1.0)
        line = next(line for line in format_report(report).splitlines() if "where its evidence lies" in line)
        assert f"near field {places['near field']['share']:.0%} ({places['near field']['area']:.0%})" in line
    streaks = report["tells"]["streaks"]
    line = next(line for line in format_report(report).splitlines() if "along / across the beam" in line)
    assert streaks["synthetic"]["images"] > 0 and streaks["real"]["images"] > 0
    assert f"{streaks['synthetic']['along']:.2f} / {streaks['synthetic']['across']:.2f} " \
           f"({streaks['real']['along']:.2f} / {streaks['real']['across']:.2f})" in line


def test_train_pairs_drawn_takes_every_nth_pair_and_draws_each_mask_in_its_fan(phantom):
    from engine.evaluation.evaluate import load_split_with_fans, patients_of, train_pairs_drawn

    images, labels, stems, fans = load_split_with_fans(phantom, "train", None)
    real, masks, drawn_fans, groups, synthetic = train_pairs_drawn(phantom, "simulator", every=2)
    assert np.array_equal(real, images[::2]) and np.array_equal(masks, labels[::2])
    assert drawn_fans == fans[::2] and groups == patients_of(stems[::2])
    assert synthetic.shape == real.shape and synthetic.dtype == np.uint8
    again = train_pairs_drawn(phantom, "simulator", every=2)[4]
    assert np.array_equal(synthetic, again)  # seeded: the same images every time
    assert not np.array_equal(synthetic, train_pairs_drawn(phantom, "simulator", every=2, seed=5)[4])


def test_what_a_tiny_phantom_cannot_measure_is_said_not_printed_as_nan(tmp_path):
    """Three 64 px patients (one per split): too few for the two-sample test, and no 64 x 64
    window fits inside a 64 px fan for the spectrum."""
    from engine.data.phantom import write_phantom
    from engine.evaluation.cache import SegmenterCache

    data = tmp_path / "data"
    write_phantom(data, count=3, size=64, seed=1)
    settings = EvalSettings(size=32, seg_iters=2, seg_width=4, variations=1, two_sample_iters=2,
                            two_sample_seeds=1, diversity_masks=2, diversity_seeds=2, sector_images=1,
                            cine_loops=0, auc_parts=False)
    report = evaluate("simulator", data, settings, device="cpu", cache=SegmenterCache(tmp_path / "cache"))
    printed = format_report(report)
    assert report["data"]["train_patients"] == 1
    assert np.isnan(report["realism"]["two_sample_auc"])
    assert "two-sample AUC n/a" in printed and "real vs real: n/a" in printed
    assert "train split's 1 patient is too few" in printed and "1 patients" not in printed
    assert f"{report['data']['eval_pairs']} pairs, 1 patient\n" in printed
    assert report["tells"]["spectrum"]["synthetic"]["images"] == 0
    assert "spectrum and finest octave: n/a, no 64x64 px window" in printed and "64 px images" in printed
    assert "fine detail nan" not in printed and "falloff to the pixel limit nan" not in printed
    # a class these small images never show leaves some statistics unmeasured: a dash, never nan
    skew = report["tells"]["speckle_skew"]["synthetic"]
    absent = [name for name, value in skew.items() if np.isnan(value)]
    assert absent and f"{absent[0]} \u2014 (\u2014)" in printed
    assert "nan" not in printed.lower()
    report["fidelity"]["synthetic"]["la"] = float("nan")  # a table's cell keeps its column
    row = next(line for line in format_report(report).splitlines() if line.startswith("mask fidelity:"))
    dash = "\u2014"
    assert row.endswith(f"{dash:>8}{report['fidelity']['synthetic']['mean']:>8.3f}")
    from engine.evaluation.report_json import report_text

    def refuse(constant):
        raise ValueError(constant)

    assert json.loads(report_text(report), parse_constant=refuse)["fidelity"]["synthetic"]["la"] is None


def test_evaluate_help_gives_the_budgets_defaults_with_and_without_quick(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    full, quick = EvalSettings(), EvalSettings.quick()
    assert f"(default {full.size}; {quick.size} with --quick)" in text
    assert f"(default {full.seg_iters}; {quick.seg_iters} with --quick)" in text
    assert f"default {full.variations}; {quick.variations} with --quick)" in text
    # what --quick shrinks, from the settings it takes: the pairs and every network's budget
    assert f"--quick small budgets for a smoke run: only the first {quick.max_train} train and " \
           f"{quick.max_test} evaluation pairs; networks at {quick.size} px (not {full.size})" in text
    assert f"trained {quick.seg_iters} iterations (not {full.seg_width} and {full.seg_iters})" in text
    assert f"{quick.two_sample_seeds} two-sample classifier of {quick.two_sample_iters} iterations " \
           f"(not {full.two_sample_seeds} of {full.two_sample_iters})" in text
    assert f"(not {full.cine_loops} of {full.cine_frames}). Nothing is skipped" in text
    assert f"(default {full.two_sample_seeds}; {quick.two_sample_seeds} with --quick)" in text
    assert f"default {full.cine_loops}; {quick.cine_loops} with --quick" in text
    assert f"first {quick.max_train} train and {quick.max_test} evaluation pairs" in text


def test_a_sequences_frames_count_as_their_patients_not_as_patients_of_their_own():
    from engine.evaluation.evaluate import patients_of

    stems = ["patient0001_4CH_ED", "patient0001_4CH_f00", "patient0001_2CH_f17", "patient0002_4CH_f03", "odd"]
    assert patients_of(stems) == ["patient0001", "patient0001", "patient0001", "patient0002", "odd"]


def test_a_report_is_written_as_strict_json_with_null_where_nothing_was_measured():
    from engine.evaluation.report_json import report_text

    report = {"auc": float("nan"), "seeds": [0.9, float("nan")], "pair": (1.0, float("inf")),
              "nested": {"dice": 0.8, "none": None, "count": 3}, "name": "demo"}
    text = report_text(report)
    assert "NaN" not in text and "Infinity" not in text and text.endswith("\n")
    assert json.loads(text) == {"auc": None, "seeds": [0.9, None], "pair": [1.0, None],
                                "nested": {"dice": 0.8, "none": None, "count": 3}, "name": "demo"}
    assert np.isnan(report["auc"])  # the report in memory keeps its NaN
