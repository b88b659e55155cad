"""DatasetFolder: the engine's one answer to "what is this folder of pairs"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.data.dataset_folder import DatasetFolder, summary_of
from engine.data.imaging import save_png
from engine.fan import FAN_KEY, Fan, default_fan


def make_folder(root, stems=("patient0001_2CH_ED", "patient0001_4CH_ES", "patient0002_4CH_ED")):
    for i, stem in enumerate(stems):
        split = "train" if i < 2 else "valid"
        for kind in ("img", "label"):
            (root / split / kind).mkdir(parents=True, exist_ok=True)
        save_png(root / split / "img" / f"{stem}.png", np.full((16, 16), 80, np.uint8))
        save_png(root / split / "label" / f"{stem}.png", np.zeros((16, 16), np.uint8))
    return DatasetFolder(root)


def cine_manifest(fmt: str) -> dict:
    """What export --cine records: its options say cine, its sequences are the loops, its counts frames."""
    sequences = [{"patient": "patient0001", "view": view, "split": "train", "frames": 20} for view in ("2CH", "4CH")]
    sequences.append({"patient": "patient0002", "view": "2CH", "split": "test", "frames": 20})
    return {"source": {"model": {"name": "demo"}}, "options": {"format": fmt, "cine": True},
            "counts": {"train": 40, "valid": 0, "test": 20}, "patients": {"train": 1, "valid": 0, "test": 1},
            "sequences": sequences}


def test_a_cine_exports_summary_counts_loops_and_their_frames_not_pairs():
    lines = summary_of(cine_manifest("nifti")).describe()
    assert lines[:4] == ["3 loops of 20 frames each from 2 patients", "train: 2 loops (1 patient)",
                         "valid: 0 loops (0 patients)", "test: 1 loop (1 patient)"]
    assert not any("pairs" in line for line in lines)
    frames = cine_manifest("png")  # PNG frames train a segmenter: the pairs are said too
    frames["sequences"][0]["frames"] = 12
    assert summary_of(frames).describe()[0] == ("3 loops of 12-20 frames each from 2 patients, "
                                                "as 60 image/label pairs (a pair a frame)")
    odd = cine_manifest("hdf5")
    odd["sequences"] = [{"split": "train", "frames": "many"}, "loop", {"split": "elsewhere", "frames": 3}]
    assert summary_of(odd).describe()[0] == "60 image/label pairs from 2 patients"  # nothing to count loops by
    prepared = {"options": {"sequences": True}, "counts": {"train": 40}, "sequences": cine_manifest("png")["sequences"]}
    assert summary_of(prepared).describe()[0] == "40 image/label pairs from 0 patients"  # a source's frames are pairs


def test_a_folder_without_a_manifest_still_lists_its_pairs(tmp_path):
    folder = make_folder(tmp_path / "d")
    assert folder.is_dataset() and folder.problem() is None
    assert folder.splits() == ["train", "valid"]
    pairs = folder.pairs("train")
    assert [p.stem for p in pairs] == ["patient0001_2CH_ED", "patient0001_4CH_ES"]
    assert pairs[0].patient == "patient0001" and pairs[0].view == "2CH" and pairs[0].image_path.is_file()
    assert folder.manifest is None and folder.summary.total_pairs == 0
    assert folder.fan_of(pairs[0]) == default_fan("2CH")
    assert len(folder.sample(5)) == 3


def test_the_manifest_is_read_once_into_a_typed_summary(tmp_path):
    folder = make_folder(tmp_path / "d")
    fan = Fan(0.5, 0.0, -20.0, 20.0, 0.9, 1.0)
    manifest = {"kind": "cardigan-prepared-dataset", "version": 1,
                "source": {"format": "hdf5", "format_name": "seed HDF5"},
                "counts": {"train": 2, "valid": 1, "test": 0, "bogus": 4},
                "patients": {"train": 1, "valid": 1, "test": 0},
                "label_values": [0, 1, 2, 3], "skipped": [{"patient": "p9", "reason": "no ground truth"}],
                "fans": {"train/patient0001_4CH_ES": fan.to_dict()},
                "ejection_fractions": {"patient0001": {"4CH": 41.5, "2CH": 38.0}}}
    (folder.root / "manifest.json").write_text(json.dumps(manifest))
    summary = folder.summary
    assert summary.kind == "prepared" and summary.source == "seed HDF5"
    assert summary.total_pairs == 3 and summary.total_patients == 2
    assert summary.describe()[0] == "3 image/label pairs from 2 patients"
    assert "train: 2 pairs (1 patient)" in summary.describe()  # not "(1 patients)"
    assert "valid: 1 pair (1 patient)" in summary.describe()  # not "1 pairs"
    assert "skipped 1: p9: no ground truth" in summary.describe()
    es = folder.pairs("train")[1]
    assert folder.fan_of(es) == fan
    assert folder.ejection_fraction(es) == 41.5
    # the label PNG's own record wins over the manifest (a folder changed on disk is read anew)
    save_png(es.label_path, np.zeros((16, 16), np.uint8), text={FAN_KEY: default_fan().to_json()})
    assert DatasetFolder(folder.root).fan_of(es) == default_fan()


def count_reads(monkeypatch) -> list:
    """The label PNGs whose text a DatasetFolder reads, in order."""
    import engine.maskio

    read = []
    real = engine.maskio.read_png_text
    monkeypatch.setattr(engine.maskio, "read_png_text", lambda path: read.append(path.stem) or real(path))
    return read


def test_a_pairs_fan_record_is_read_once_and_the_manifest_summarised_once(tmp_path, monkeypatch):
    import engine.data.dataset_folder as dataset_folder

    folder = make_folder(tmp_path / "d")
    fan = Fan(0.5, 0.0, -20.0, 20.0, 0.9, 1.0)
    (folder.root / "manifest.json").write_text(json.dumps({"fans": {"train/patient0001_4CH_ES": fan.to_dict()}}))
    summaries = []
    monkeypatch.setattr(dataset_folder, "summary_of", lambda m: summaries.append(1) or summary_of(m))
    read = count_reads(monkeypatch)
    pairs = folder.pairs("train") + folder.pairs("valid")
    first = [folder.fan_record(pair) for pair in pairs]
    assert [folder.fan_record(pair) for pair in pairs * 3] == first * 3
    assert read == [pair.stem for pair in pairs]
    assert len(summaries) == 1
    assert first[1] == (fan, None) and first[0] == (default_fan("2CH"), dataset_folder.NO_FAN_RECORD)


def test_the_fan_records_kept_are_bounded_the_least_recently_asked_going_first(tmp_path, monkeypatch):
    import engine.data.dataset_folder as dataset_folder

    monkeypatch.setattr(dataset_folder, "FAN_RECORDS_KEPT", 2, raising=False)
    folder = make_folder(tmp_path / "d")
    a, b, c = folder.pairs("train") + folder.pairs("valid")
    read = count_reads(monkeypatch)
    for pair in (a, b, a, c, a, b):  # c pushes out b (a was asked since), b then pushes out c
        folder.fan_of(pair)
    assert read == [a.stem, b.stem, c.stem, b.stem]
    folder.fan_of(c)
    assert read[-1] == c.stem


def test_odd_manifests_and_odd_folders_get_plain_answers(tmp_path):
    assert summary_of(None).total_pairs == 0
    assert summary_of({"counts": "many", "source": [1]}).counts == {}
    assert summary_of({"source": {"model": {"name": "demo"}}}).kind == "export"
    assert summary_of({"source": {"format": "phantom"}}).kind == "phantom"
    written = summary_of({"output": {"format": "hdf5", "path": "/data/p.h5"}})
    assert (written.output_format, written.output_path) == ("hdf5", "/data/p.h5")
    assert summary_of({"output": "odd"}).output_format == ""
    assert "no such folder" in DatasetFolder(tmp_path / "nope").problem()
    (tmp_path / "empty").mkdir()
    assert "not a prepared dataset" in DatasetFolder(tmp_path / "empty").problem()
    folder = make_folder(tmp_path / "d")
    (folder.root / "manifest.json").write_text("[" * 10000)
    assert folder.manifest is None


def test_how_an_export_stored_its_pairs_is_read_from_its_manifest(tmp_path):
    from engine.export.sources import dataset_format

    (tmp_path / "manifest.json").write_text(json.dumps({"output": {"format": "nifti", "path": str(tmp_path)}}))
    assert dataset_format(tmp_path) == "a nifti export"
    assert dataset_format(tmp_path / "missing") == "no train/label"


def test_a_split_an_image_folder_or_a_run_folder_chosen_as_the_dataset_says_what_it_is(tmp_path):
    from engine.data.dataset import PairedDataset
    from engine.data.phantom import write_phantom
    from engine.errors import DataError

    data = tmp_path / "data"
    write_phantom(data, count=2, size=64, seed=0)
    split = DatasetFolder(data / "train").problem()
    assert "one split of a dataset" in split and str(data) in split and "\n" not in split
    assert "choose the dataset" in DatasetFolder(data / "train" / "img").problem()
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    assert "training run's folder" in DatasetFolder(run).problem()
    with pytest.raises(DataError, match="one split of a dataset; choose the folder above it"):
        PairedDataset(data / "train", split="train")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "as written by cardigan prepare" in DatasetFolder(plain).problem()  # nothing else to say


def test_a_sequence_frame_pair_has_its_patient_view_and_ejection_fraction(tmp_path):
    """<patient>_<view>_f<k>, what prepare --sequences and cine PNG exports write, is read as
    the instants' stems are; a name in neither pattern is its own patient, with no view."""
    folder = make_folder(tmp_path / "d", ("patient0001_4CH_f0", "patient0001_4CH_f12", "scan_f3"))
    (folder.root / "manifest.json").write_text(json.dumps(
        {"kind": "cardigan-prepared-dataset", "version": 1,
         "ejection_fractions": {"patient0001": {"4CH": 41.5, "2CH": 38.0}}}))
    frame, last = folder.pairs("train")
    assert (frame.patient, frame.view, last.patient, last.view) == ("patient0001", "4CH", "patient0001", "4CH")
    assert DatasetFolder(folder.root).ejection_fraction(frame) == 41.5
    other = folder.pairs("valid")[0]
    assert (other.patient, other.view) == ("scan_f3", None)


def test_a_phantom_datasets_ejection_fractions_are_read_from_its_hearts(tmp_path):
    from engine.data.phantom import write_phantom

    data = tmp_path / "data"
    write_phantom(data, count=2, size=64, seed=0)
    hearts = json.loads((data / "manifest.json").read_text())["hearts"]
    folder = DatasetFolder(data)
    pair = folder.pairs(folder.splits()[0])[0]
    expected = hearts[pair.patient]["ejection_fraction"][pair.view]
    assert folder.ejection_fraction(pair) == expected and 5.0 < expected < 90.0


def test_the_folder_holding_a_cine_loops_png_frames_is_no_dataset(tmp_path):
    """A loop's frames folder holds img/ and label/, which made the folder above it a dataset
    whose one split was named after the loop."""
    from engine.cine import write_loop

    masks = np.zeros((3, 32, 32), np.uint8)
    masks[:, 8:20, 8:20] = 1
    (tmp_path / "exports").mkdir()
    write_loop(tmp_path / "exports" / "loop", np.zeros((3, 32, 32), np.uint8), masks, 10.0)
    for folder in (DatasetFolder(tmp_path / "exports"), DatasetFolder(tmp_path / "exports" / "loop")):
        assert not folder.is_dataset() and folder.splits() == []
        assert "not a prepared dataset" in folder.problem()
    # a dataset with the loop beside its splits lists its own splits only
    make_folder(tmp_path / "exports")
    assert DatasetFolder(tmp_path / "exports").splits() == ["train", "valid"]


def test_a_masks_only_split_without_a_manifest_is_still_a_dataset(tmp_path):
    (tmp_path / "d" / "test" / "label").mkdir(parents=True)
    save_png(tmp_path / "d" / "test" / "label" / "patient0001_4CH_ED.png", np.zeros((8, 8), np.uint8))
    folder = DatasetFolder(tmp_path / "d")
    assert folder.is_dataset() and folder.splits() == ["test"]
    assert [pair.image_path for pair in folder.pairs("test")] == [None]
