"""Border jitter (engine.data.border_jitter): images drawn from masks whose borders moved,
pairs that keep the unmoved masks; in export and in evaluate's downstream set only."""

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from engine.anatomy import template_mask
from engine.cli.main import main
from engine.data.border_jitter import MAX_JITTER, jitter_borders, jitter_problem
from engine.errors import DataError
from engine.export import export_dataset


def border_distance(labels: np.ndarray) -> np.ndarray:
    edges = np.zeros(labels.shape, bool)
    edges[:-1] |= labels[:-1] != labels[1:]
    edges[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    return ndimage.distance_transform_edt(~edges)


def test_jitter_moves_borders_only_and_by_about_its_size():
    heart = template_mask("4CH", "ED", 256)
    moved = jitter_borders(heart, 2.0, seed=3)
    assert moved.dtype == heart.dtype and moved.shape == heart.shape
    assert set(np.unique(moved)) <= set(np.unique(heart))
    assert np.array_equal(moved, jitter_borders(heart, 2.0, seed=3))
    assert not np.array_equal(moved, jitter_borders(heart, 2.0, seed=4))
    assert np.array_equal(jitter_borders(heart, 0.0, seed=3), heart)
    distance = border_distance(heart)
    changed = moved != heart
    assert changed.any() and (distance[changed] <= 10).all()  # a 2 px field moves nothing 10 px
    # twice the jitter changes about twice the pixels (a band's width grows with the shift)
    counts = [np.mean([(jitter_borders(heart, px, s) != heart).sum() for s in range(6)]) for px in (1.0, 2.0, 4.0)]
    assert counts[0] < counts[1] < counts[2] and 1.5 < counts[1] / counts[0] < 2.6, counts
    # each class keeps about its area
    for c in (1, 2, 3):
        assert abs((moved == c).sum() / (heart == c).sum() - 1) < 0.1


def test_the_commands_jitter_is_in_pixels_of_a_256_pixel_mask():
    from engine.anatomy import template_mask
    from engine.data.border_jitter import jitter_scaled_borders, scaled_jitter

    assert scaled_jitter(3.0, (256, 256)) == 3.0 and scaled_jitter(3.0, (64, 64)) == 0.75
    assert scaled_jitter(3.0, (512, 384)) == 6.0
    big = template_mask("4CH", "ED", seed=2, size=256)
    small = big[::4, ::4]
    moved = lambda labels: (jitter_scaled_borders(labels, 3.0, 7) != labels).mean()
    assert moved(small) < 2.0 * moved(big)  # the same share of the heart moves at either size


def test_jitter_values_out_of_range_are_named():
    assert jitter_problem(0.0) is None and jitter_problem(MAX_JITTER) is None
    for bad in (-1.0, MAX_JITTER + 1, float("nan")):
        assert "between 0 and" in jitter_problem(bad)


def test_export_draws_from_jittered_masks_and_keeps_the_true_ones(tmp_path):
    plain = export_dataset("simulator", tmp_path / "plain", random=1, size=64, seed=2, format="png")
    jittered = export_dataset("simulator", tmp_path / "jitter", random=1, size=64, seed=2, format="png",
                              border_jitter=3.0)
    assert plain["options"]["border_jitter"] == 0.0 and jittered["options"]["border_jitter"] == 3.0
    labels = sorted((tmp_path / "plain").glob("*/label/*.png"))
    assert len(labels) == 4
    differ = 0
    for label in labels:
        relative = label.relative_to(tmp_path / "plain")
        assert np.array_equal(np.asarray(Image.open(label)), np.asarray(Image.open(tmp_path / "jitter" / relative)))
        image = relative.parent.parent / "img" / relative.name
        differ += not np.array_equal(np.asarray(Image.open(tmp_path / "plain" / image)),
                                     np.asarray(Image.open(tmp_path / "jitter" / image)))
    assert differ == 4
    with pytest.raises(DataError, match="--border-jitter must be between 0 and"):
        export_dataset("simulator", tmp_path / "bad", random=1, size=64, border_jitter=-1.0)
    assert not (tmp_path / "bad").exists()


def test_the_command_lines_refuse_a_bad_jitter_in_one_line(tmp_path, capsys):
    assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--border-jitter", "20",
                 "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err.strip()
    assert "--border-jitter must be between 0 and" in error and len(error.splitlines()) == 1
    assert main(["evaluate", "--model", "simulator", "--data", str(tmp_path), "--border-jitter", "-2"]) == 1
    assert "--border-jitter must be between 0 and" in capsys.readouterr().err


def test_evaluate_jitters_the_downstream_set_only(tmp_path, monkeypatch):
    from engine.data.phantom import write_phantom
    from engine.evaluation import evaluate as module
    from engine.evaluation.cache import SegmenterCache

    data = tmp_path / "data"
    write_phantom(data, count=6, size=64, seed=1)
    given = []
    original = module.synthesize_all

    def recording(synth, masks, seed, stage, *args, **kwargs):
        given.append((stage, masks.copy()))
        return original(synth, masks, seed, stage, *args, **kwargs)

    monkeypatch.setattr(module, "synthesize_all", recording)
    cut_by = {}
    original_parts = module.auc_by_part

    def recording_parts(real, real_labels, synthetic, synthetic_labels, *args):
        cut_by.update(real=real_labels.copy(), synthetic=synthetic_labels.copy())
        return original_parts(real, real_labels, synthetic, synthetic_labels, *args)

    monkeypatch.setattr(module, "auc_by_part", recording_parts)
    settings = dataclasses.replace(module.EvalSettings.quick(), border_jitter=2.0, seg_iters=10,
                                   two_sample_iters=5, diversity_seeds=2)
    report = module.evaluate("simulator", data, settings, device="cpu", cache=SegmenterCache(tmp_path / "c"))
    train = module.load_split(data, "train", settings.max_train)[1]
    test = module.load_split(data, "test", settings.max_test)[1]
    downstream = [m for stage, m in given if stage.startswith("synthesizing train masks")]
    others = [(stage, m) for stage, m in given if not stage.startswith("synthesizing train masks")]
    assert len(downstream) == 1 and downstream[0].shape == train.shape and not np.array_equal(downstream[0], train)
    assert all(np.array_equal(m, test[:len(m)]) for stage, m in others if "deformed" not in stage), \
        [stage for stage, _ in others]
    # the per-part test cuts each synthetic image by the jittered mask it was drawn from
    assert np.array_equal(cut_by["synthetic"], module.resize_all(None, downstream[0], settings.size)[1])
    assert np.array_equal(cut_by["real"], module.resize_all(None, train, settings.size)[1])
    assert not np.array_equal(cut_by["synthetic"], cut_by["real"])
    assert report["settings"]["border_jitter"] == 2.0
    assert "jitter 2 px" in module.format_report(report)
    json.dumps(report)


def test_export_and_evaluate_jitter_by_default_and_zero_draws_the_masks_as_they_are(tmp_path, capsys):
    import json as json_module

    from engine.data.border_jitter import DEFAULT_JITTER
    from engine.evaluation.evaluate import EvalSettings

    assert 0 < DEFAULT_JITTER <= MAX_JITTER
    assert EvalSettings().border_jitter == DEFAULT_JITTER == EvalSettings.quick().border_jitter
    common = ["export", "--model", "simulator", "--random", "1", "--size", "64", "--seed", "2"]
    assert main(common + ["--out", str(tmp_path / "default")]) == 0
    # a default that changes the images is said, as far as it moves these 64-pixel masks' borders
    assert "borders moved by about 0.75 px (3 px at 256, scaled to the 64-pixel masks)" in capsys.readouterr().err
    assert main(common + ["--border-jitter", "0", "--out", str(tmp_path / "none")]) == 0
    assert "borders moved" not in capsys.readouterr().err
    default = json_module.loads((tmp_path / "default" / "manifest.json").read_text())
    none = json_module.loads((tmp_path / "none" / "manifest.json").read_text())
    assert default["options"]["border_jitter"] == DEFAULT_JITTER and none["options"]["border_jitter"] == 0.0
    # without jitter the export holds exactly the images export_dataset's own default draws
    export_dataset("simulator", tmp_path / "api", random=1, size=64, seed=2, format="png")
    for image in sorted((tmp_path / "none").glob("*/img/*.png")):
        relative = image.relative_to(tmp_path / "none")
        assert np.array_equal(np.asarray(Image.open(image)), np.asarray(Image.open(tmp_path / "api" / relative)))
        assert not np.array_equal(np.asarray(Image.open(image)), np.asarray(Image.open(tmp_path / "default" / relative)))


def test_cine_export_needs_no_jitter_and_refuses_one_asked_for(tmp_path, capsys):
    from engine.data.phantom import write_phantom

    write_phantom(tmp_path / "data", count=2, size=64, seed=1)
    masks = tmp_path / "masks"
    masks.mkdir()
    for label in sorted((tmp_path / "data").glob("*/label/*.png"))[:2]:
        patient_view = "_".join(label.stem.split("_")[:2])
        for instant in ("ED", "ES"):
            Image.open(label).save(masks / f"{patient_view}_{instant}.png")
    cine = ["export", "--model", "simulator", "--masks", str(masks), "--cine", "--fps", "8", "--bpm", "120"]
    assert main(cine + ["--border-jitter", "2", "--out", str(tmp_path / "asked")]) == 1
    assert "without --like, --like-fallback, --variations or --border-jitter" in capsys.readouterr().err
    assert main(cine + ["--out", str(tmp_path / "loops")]) == 0
    assert any((tmp_path / "loops").rglob("*"))


def test_export_says_how_far_the_borders_move_for_the_masks_it_draws(tmp_path, capsys):
    """The jitter is given in pixels of a 256-pixel mask: the note gives the amount for the
    size exported, or, for a folder of masks of their own sizes, says that it scales."""
    from engine.maskio import write_label_png
    from nets_util import blocky_labels

    common = ["export", "--model", "simulator", "--seed", "2"]
    assert main(common + ["--random", "1", "--size", "128", "--border-jitter", "2",
                          "--out", str(tmp_path / "generated")]) == 0
    assert "borders moved by about 1 px (2 px at 256, scaled to the 128-pixel masks)" in capsys.readouterr().err
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "p1_4CH_ED.png", blocky_labels(64))
    assert main(common + ["--masks", str(masks), "--out", str(tmp_path / "from_masks")]) == 0
    assert "borders moved by about 3 px at 256, scaled to each mask's size" in capsys.readouterr().err
