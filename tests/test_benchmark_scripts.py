"""The scripts under benchmarks/ run, on tiny generated inputs, and report what they promise.

They are not part of the package, so nothing else imports them; a renamed engine function
would otherwise break one silently until someone needs its numbers."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def script(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from engine.data.phantom import write_phantom

    out = tmp_path_factory.mktemp("phantom") / "data"
    write_phantom(out, count=6, size=64, seed=5)
    return out


def test_every_benchmark_script_imports_and_has_a_main():
    names = sorted(p.stem for p in BENCHMARKS.glob("*.py"))
    assert "tells" in names and len(names) >= 8
    for name in names:
        assert callable(getattr(script(name), "main", None)), name


def test_tells_reports_the_fan_spectrum_and_holes_of_each_model(phantom, tmp_path, tiny_model, one_thread):
    out = tmp_path / "tells.json"
    assert script("tells").main(["--data", str(phantom), "--model", "simulator",
                                 "--model", str(tiny_model), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [r["model"] for r in report["results"]] == ["simulator", str(tiny_model)]
    for result in report["results"]:
        assert 0 <= result["fan"]["synthetic"]["iou_given_median"] <= 1
        assert result["holes"]["images"] == report["images"] > 0
        assert all(0 <= result["grey_levels"][r]["synthetic_mean"] <= 255 for r in ("lv", "myo", "la"))
        assert result["speckle"]["synthetic"]["images"] == report["images"]
        assert result["speckle"]["synthetic"]["lateral"] > 0
        assert -1 <= result["streaks"]["synthetic"]["along"] <= 1
        band = result["edge_band"]["synthetic"]
        assert band["images"] == report["images"] and -1 <= band["along"] <= 1 and band["fade"] > 0
        assert result["borders"]["synthetic"]["lv/myo"]["images"] > 0
        assert result["borders"]["synthetic"]["lv/myo"]["median"] > 0


def test_bench_cine_measures_flicker_and_ejection_fraction(tmp_path, tiny_model, one_thread):
    out = tmp_path / "cine.json"
    assert script("bench_cine").main(["--model", str(tiny_model), "--loops", "1", "--frames", "6",
                                      "--size", "64", "--out", str(out)]) == 0
    median = json.loads(out.read_text())["median"]
    assert median["flicker_loop"] >= 0 and 10 < median["ef_heart"] < 90  # per cent
    assert median["flicker_still"] <= median["flicker_fresh_seeds"]


def test_bench_shape_deform_and_bench_data_time_their_work(capsys, one_thread):
    script("bench_shape_deform").main(["--pairs", "2", "--size", "64", "--repeats", "1"])
    script("bench_data").main(["--images", "2", "--size", "64", "--repeats", "1"])
    printed = capsys.readouterr().out
    assert "shape, warm" in printed and "elastic" in printed and "cores available" in printed


def test_model_sheet_puts_a_row_per_model_and_a_column_per_heart(tmp_path, tiny_model, one_thread):
    spec = importlib.util.spec_from_file_location("model_sheet", BENCHMARKS.parent / "scripts" / "model_sheet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    picture = module.sheet(["simulator", str(tiny_model)], hearts=3, size=64)
    assert picture.shape == (128, 192) and picture.dtype.name == "uint8"
    rows = [picture[:64], picture[64:]]
    assert not (rows[0] == rows[1]).all()  # two models, two pictures of the same hearts
    assert picture[0, 0] == 0 and picture[:64, 64:128].max() > 50  # black outside the fan, a heart in it


def test_bench_models_times_every_model_it_is_given(tiny_model, one_thread):
    medians = script("bench_models").time_models(["simulator", str(tiny_model)], rounds=2, size=64)
    assert list(medians) == ["simulator", str(tiny_model)]
    assert all(np.isfinite(seconds) and seconds > 0 for seconds in medians.values())


def test_grain_calibration_finds_more_fine_detail_with_more_grain(tmp_path, one_thread):
    from engine.data.phantom import write_phantom
    from engine.models import GeneratorModel, save_model_file
    from engine.nets import GeneratorConfig
    from nets_util import randomized_generator

    data = tmp_path / "data"
    write_phantom(data, count=2, size=256, seed=2)  # 64-pixel spectrum windows need room inside the fan
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, fan=True, image_size=256)
    model = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=256)),
                            tmp_path / "noisy.safetensors")
    result = script("grain_calibration").calibrate(data, model, [0.0, 8.0], every=1)
    assert np.isfinite(result["real"]) and result["images"] > 0
    assert result["synthetic"][8.0] > result["synthetic"][0.0]
    with pytest.raises(ValueError, match="noise input"):
        script("grain_calibration").calibrate(data, "simulator", [1.0])


def test_tone_calibration_runs_a_model_on_the_train_split(tmp_path, one_thread):
    from engine.data.phantom import write_phantom
    from engine.errors import CardiganError
    from engine.models import GeneratorModel, save_model_file
    from engine.nets import GeneratorConfig
    from nets_util import randomized_generator

    data = tmp_path / "data"
    write_phantom(data, count=2, size=64, seed=2)
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, fan=True, tone=0.7, image_size=64)
    model = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)),
                            tmp_path / "toned.safetensors")
    result = script("tone_calibration").calibrate(data, model, [0.8, 1.0, 1.2], split="train")
    worst = {t: max(abs(g) for g in gaps.values()) for t, gaps in result["gaps"].items()}
    assert result["best"] == min(worst, key=worst.get) and result["images"] > 0
    assert result["gaps"][1.2]["myo"] < result["gaps"][1.0]["myo"] < result["gaps"][0.8]["myo"]
    # the model's own tone is set aside: the curves are applied to its untoned images
    plain_config = dataclasses.replace(config, tone=1.0)
    plain = save_model_file(GeneratorModel(config=plain_config, generator=randomized_generator(plain_config, size=64)),
                            tmp_path / "plain.safetensors")
    assert script("tone_calibration").calibrate(data, plain, [0.8, 1.0, 1.2], split="train")["gaps"] == result["gaps"]
    with pytest.raises(CardiganError, match="not the simulator"):
        script("tone_calibration").calibrate(data, "simulator", [1.0])


def test_downstream_probe_changes_only_what_each_variant_names(phantom, tmp_path, tiny_model, one_thread,
                                                                monkeypatch):
    from engine.evaluation.settings import EvalSettings

    probe = script("downstream_probe")
    # what a row holds does not depend on how long its U-Net trains: each trains 3 iterations,
    # and the budget the probe asked for is checked
    asked, train_segmenter = [], probe.train_segmenter
    monkeypatch.setattr(probe, "train_segmenter",
                        lambda *args, iters, **kwargs: asked.append(iters) or train_segmenter(*args, iters=3, **kwargs))
    heart = np.zeros((40, 40), np.uint8)
    heart[8:32, 8:32] = 2
    heart[12:28, 12:28] = 1
    thinner = probe.erode_myocardium(heart, 1)
    # one pixel off each side (4-neighbours): the outer ring of 92 goes to the background and
    # the 64 pixels beside the cavity to the cavity
    assert (thinner == 2).sum() == (heart == 2).sum() - 92 - 64
    assert (thinner == 1).sum() == 16 * 16 + 64 and (thinner[heart != 2] == heart[heart != 2]).all()
    image = np.random.default_rng(0).integers(0, 200, (16, 16)).astype(np.uint8)
    reference = np.random.default_rng(1).integers(50, 256, (16, 16)).astype(np.uint8)
    matched = probe.match_histogram(image, reference)
    assert np.array_equal(np.sort(matched, axis=None), np.sort(reference, axis=None))
    assert (np.argsort(image, axis=None, kind="stable") == np.argsort(matched, axis=None, kind="stable")).mean() > 0.5

    out = tmp_path / "probe.json"
    assert probe.main(["--data", str(phantom), "--model", str(tiny_model), "--quick", "--variant", "twin-histogram",
                       "--variant", "erode-myo:1", "--variant", "jitter:1", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["variant"] for r in rows] == ["twin-histogram", "erode-myo:1", "jitter:1"]
    assert asked == [EvalSettings.quick().seg_iters] * 3
    for row in rows:
        assert 0 <= row["dice"]["mean"] <= 1 and all(v >= 0 for v in row["area_ratio"].values())
    with pytest.raises(SystemExit, match="needs a value"):
        probe.parse_variant("blur")
    with pytest.raises(SystemExit, match="unknown variant"):
        probe.parse_variant("rotate:3")


def test_where_it_tells_reports_the_whole_image_and_every_part(phantom, tmp_path, one_thread):
    from engine.evaluation.auc_parts import PARTS
    from engine.evaluation.evaluate import load_split

    out = tmp_path / "where.json"
    where = script("where_it_tells")
    assert where.main(["--data", str(phantom), "--model", "simulator", "--size", "32", "--iters", "5",
                       "--without", "fan edge", "--without", "near field, fan edge",
                       "--real-in", "heart", "--real-in", "near field, sides, arc, background, heart, outside",
                       "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["images"] == len(load_split(phantom, "train", None)[0])
    assert list(report["parts"]) == list(PARTS)
    assert list(report["without"]) == ["fan edge", "near field, fan edge"]
    from engine.evaluation.evidence import PLACES

    evidence = report["evidence"]  # None only when the classifier's gap is not positive
    assert evidence is None or (list(evidence) == list(PLACES)
                                and sum(p["area"] for p in evidence.values()) == pytest.approx(1.0))
    assert list(report["real_in"]) == ["heart", "near field, sides, arc, background, heart, outside"]
    # real pixels everywhere: the two sets are the same images, so the classifier cannot split them
    assert report["real_in"]["near field, sides, arc, background, heart, outside"] == pytest.approx(0.5)
    values = [report["whole"], *report["parts"].values(), *report["without"].values(), *report["real_in"].values()]
    with pytest.raises(SystemExit):
        where.main(["--data", str(phantom), "--without", "probe"])
    with pytest.raises(SystemExit):
        where.main(["--data", str(phantom), "--real-in", "probe"])
    # flattening a zone makes it one grey level and leaves the rest as it was
    from engine.evaluation.auc_parts import part_regions
    from engine.evaluation.evaluate import load_split_with_fans

    images, labels, _, fans = load_split_with_fans(phantom, "train", None)
    inside, near, edge = part_regions(labels, fans)
    flat = where.without_zones(images, labels, (inside, near, edge), ("fan edge",))
    rest = inside & ~near & ~edge
    assert np.array_equal(flat[rest], images[rest]) and np.array_equal(flat[near], images[near])
    assert all(len(np.unique(flat[i][edge[i]])) == 1 for i in range(len(images)) if edge[i].any())
    assert all(0.0 <= v <= 1.0 for v in values)  # not NaN: both halves of the patients hold both sets


def test_blind_pairs_put_the_real_image_on_each_side_equally_and_score_a_read(phantom, tmp_path, tiny_model,
                                                                              one_thread):
    from PIL import Image

    from engine.evaluation.evaluate import load_split_with_fans

    blind = script("blind_pairs")
    for count in (2, 5, 6):  # half left, the odd one either way
        for seed in range(6):
            indices, left = blind.choose(6, count, seed)
            assert len(set(indices.tolist())) == count and abs(2 * int(left.sum()) - count) <= 1
    with pytest.raises(ValueError):
        blind.choose(3, 4, 0)
    out = tmp_path / "read"
    assert blind.main(["--data", str(phantom), "--model", str(tiny_model), "--out", str(out),
                       "--count", "2", "--seed", "3"]) == 0
    key = json.loads((tmp_path / "read.key.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["pair_00.png", "pair_01.png"]  # no key in the folder
    images, _labels, stems, _fans = load_split_with_fans(phantom, key["split"], None)
    for name, entry in key["pairs"].items():
        pair = np.array(Image.open(out / f"{name}.png"))
        width = images.shape[2]
        assert pair.shape == (images.shape[1], 2 * width + blind.GAP)
        real_side = pair[:, :width] if entry["real"] == "left" else pair[:, width + blind.GAP:]
        assert np.array_equal(real_side, images[stems.index(entry["stem"])])  # the real frame, untouched
    truth = "".join(key["pairs"][n]["real"][0].upper() for n in sorted(key["pairs"]))
    flipped = "".join("L" if c == "R" else "R" for c in truth)
    assert blind.score(tmp_path / "read.key.json", truth)[:2] == (2, 2)
    assert blind.score(tmp_path / "read.key.json", flipped) == (0, 2, sorted(key["pairs"]))
    assert blind.binomial_tail(12, 12) == pytest.approx(1 / 4096) and blind.binomial_tail(0, 12) == 1.0
    assert blind.main(["--score", str(tmp_path / "read.key.json"), "--picks", "L"]) == 1  # one letter short


def test_bench_autocorrelation_finds_both_ways_equal(capsys, one_thread):
    assert script("bench_autocorrelation").main(["--batch", "2", "--size", "48", "--repeats", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert "58 lags, 2 x 48^2" in line
    assert float(line.rsplit("largest difference ", 1)[1]) < 1e-4


def test_statistic_tells_names_every_statistic_and_refuses_a_bad_top(phantom, tmp_path, capsys):
    from engine.evaluation.evaluate import load_split
    from engine.evaluation.image_statistics import STATISTICS

    out = tmp_path / "statistics.json"
    tells = script("statistic_tells")
    assert tells.main(["--data", str(phantom), "--model", "simulator", "--top", "4", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["images"] == len(load_split(phantom, "train", None)[0])
    assert list(report["statistics"]) == list(STATISTICS)
    assert 0.0 <= report["together"] <= 1.0
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("  ") and "AUC" not in line]
    assert len(rows) == 4 and all(row.split()[0] in {n.split()[0] for n in STATISTICS} for row in rows)
    with pytest.raises(SystemExit):
        tells.main(["--data", str(phantom), "--top", "0"])


def test_augmentation_tells_compares_real_images_with_their_augmented_copies(phantom, tmp_path, one_thread):
    from engine.data.dataset import PairedDataset

    tells = script("augmentation_tells")
    out = tmp_path / "aug.json"
    assert tells.main(["--data", str(phantom), "--kind", "none", "--kind", "subpixel", "--seeds", "2",
                       "--size", "32", "--iters", "5", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["images"] == len(PairedDataset(phantom, "train"))
    assert report["auc"]["none"] == pytest.approx(0.5)  # the same images on both sides
    assert len(report["per_seed"]["subpixel"]) == 2
    dataset = PairedDataset(phantom, "train")
    image, labels = dataset.load_pair(0)
    pair = (image, labels, dataset.fans[dataset.stems[0]], dataset.stems[0])
    rng = np.random.default_rng(0)
    # a whole-pixel copy holds only the image's own grey levels; a sub-pixel one new ones
    assert set(np.unique(tells.augmented(*pair, "pixel", rng))) <= set(np.unique(image))
    softened = tells.augmented(*pair, "subpixel", rng)
    assert not set(np.unique(softened)) <= set(np.unique(image))
    assert np.abs(np.diff(softened.astype(float), axis=1)).mean() < np.abs(np.diff(image.astype(float), axis=1)).mean()
    with pytest.raises(SystemExit):
        tells.main(["--data", str(phantom), "--kind", "rotate"])


def test_classifier_curve_scores_each_model_after_each_number_of_iterations(phantom, tmp_path, one_thread):
    from engine.models import GeneratorModel, save_model_file
    from engine.nets import GeneratorConfig
    from nets_util import randomized_generator

    bench = script("classifier_curve")
    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, fan=True, image_size=64, grain=4.0, tone=0.8)
    tuned = save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=64)),
                            tmp_path / "tuned.safetensors")
    raw = bench.prepared_model(str(tuned), raw=True, style_scale=0.5)
    assert (raw.config.grain, raw.config.tone, raw.config.style_scale) == (0.0, 1.0, 0.5)
    assert raw.generator.config == raw.config  # the network draws with the same settings
    assert bench.prepared_model(str(tuned), raw=False, style_scale=None).config.grain == 4.0
    out = tmp_path / "curve.json"
    assert bench.main(["--data", str(phantom), "--model", str(tuned), "--every", "1", "--raw",
                       "--iters", "2:2", "--iters", "3:1", "--out", str(out)]) == 0
    (result,) = json.loads(out.read_text())["results"]
    assert result["images"] > 0 and list(result["auc"]) == ["2", "3"]
    assert len(result["auc"]["2"]["aucs"]) == 2 and len(result["auc"]["3"]["aucs"]) == 1
    for row in result["auc"].values():
        assert all(0 <= a <= 1 for a in row["aucs"]) and row["mean"] == pytest.approx(np.mean(row["aucs"]))
    assert bench.parse_iters("40") == (40, 3) and bench.parse_iters("20:10") == (20, 10)
    for bad in ("x", "20:0", "0:3"):
        with pytest.raises(Exception, match="ITERS|at least 1"):
            bench.parse_iters(bad)
    with pytest.raises(SystemExit, match="simulator"):
        bench.main(["--data", str(phantom), "--model", "simulator", "--raw"])


def test_blind_pairs_score_a_read_of_more_than_a_hundred_pairs_in_reading_order(tmp_path):
    blind = script("blind_pairs")
    sides = ["left" if n % 3 else "right" for n in range(101)]
    key = tmp_path / "read.key.json"  # written by a version that named pairs with two digits
    key.write_text(json.dumps({"pairs": {f"pair_{n:02d}": {"real": side, "stem": f"s{n}"}
                                         for n, side in enumerate(sides)}}))
    picks = "".join(side[0].upper() for side in sides)  # pair 0, 1, 2, ... 100
    assert blind.score(key, picks) == (101, 101, [])


@pytest.mark.parametrize("name, flags", [
    ("bench_models", ["--model", "simulator", "--rounds", "0"]),
    ("bench_models", ["--model", "simulator", "--threads", "-1"]),
    ("bench_models", ["--model", "simulator", "--size", "0"]),
    ("bench_cine", ["--loops", "0"]),
    ("bench_cine", ["--frames", "-3"]),
    ("bench_cine", ["--size", "0"]),
    ("paint_stall", ["--seconds", "0"]),
    ("paint_stall", ["--ngf", "-1"]),
    ("paint_stall", ["--size", "0"]),
])
def test_benchmark_counts_below_one_are_refused_as_the_command_line_is_read(name, flags, capsys, monkeypatch):
    module = script(name)
    monkeypatch.setattr(module, "Synthesizer", None, raising=False)  # no work may start
    with pytest.raises(SystemExit) as exit_:
        module.main(flags)
    assert exit_.value.code == 2 and "must be between" in capsys.readouterr().err


def test_bench_cine_refuses_an_unwritable_report_path_before_any_work(tmp_path, capsys, monkeypatch):
    module = script("bench_cine")
    monkeypatch.setattr(module, "Synthesizer", None)  # no work may start
    with pytest.raises(SystemExit) as exit_:
        module.main(["--loops", "1", "--out", str(tmp_path / "missing" / "cine.json")])
    assert exit_.value.code == 2 and "does not exist" in capsys.readouterr().err


def test_bench_cine_times_no_loop_before_a_warm_up_loop(tiny_model, one_thread, monkeypatch):
    """The first loop of a run pays for lazy set-up; the timed patients must not."""
    module = script("bench_cine")
    events = []
    synthesize_loop = module.synthesize_loop

    def recorded_loop(*args, **kwargs):
        events.append("loop")
        return synthesize_loop(*args, **kwargs)

    class Clock:
        @staticmethod
        def perf_counter():
            events.append("clock")
            return len(events) * 1.0

    monkeypatch.setattr(module, "synthesize_loop", recorded_loop)
    monkeypatch.setattr(module, "time", Clock)
    assert module.main(["--model", str(tiny_model), "--loops", "1", "--frames", "4", "--size", "64"]) == 0
    assert events[0] == "loop" and events.count("loop") == 2  # the warm-up, then the timed patient
