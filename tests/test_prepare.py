"""``prepare`` on each source layout: output content, orientation, splits, manifest, CLI.

Sources are built here (h5py, SimpleITK) with non-square native sizes and frames whose
content reveals orientation and frame order: a bright block top-left in ED and top-right
in ES, and label bands that are not symmetric. The builders are imported by
``test_prepare_errors.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data.imaging import resize_image, resize_labels
from engine.data.manifest import read_manifest
from engine.data.prepare import detect_format, prepare_dataset
from engine.fileio import sha256_file

VIEWS = ("2CH", "4CH")
INSTANTS = ("ED", "ES")


# -- source builders ------------------------------------------------------------------------
def patient_number(name: str) -> int:
    return int(re.sub(r"\D", "", name) or 0)


def frame_content(shape: tuple[int, int], patient: int, view: str, instant: str) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8, labels uint8) that reveal orientation, patient, view and instant."""
    h, w = shape
    base = 30 + 7 * (patient % 20) + (3 if view == "4CH" else 0)
    image = np.full((h, w), base, dtype=np.uint8)
    bh, bw = h // 4, w // 4
    if instant == "ED":
        image[:bh, :bw] = 250
    else:
        image[:bh, w - bw:] = 250
    labels = np.zeros((h, w), dtype=np.uint8)
    labels[h // 4:h // 2, w // 4:3 * w // 4] = 1
    labels[h // 2:3 * h // 4, w // 4:3 * w // 4] = 2
    if instant == "ED":
        labels[3 * h // 4:, : w // 2] = 3
    else:
        labels[3 * h // 4:, w // 2:] = 3
    return image, labels


def build_seed_hdf5(path: Path, splits: dict[str, list[str]], shape=(64, 64), im_kind: str = "float4d",
                    gt_dtype=np.uint8, views=VIEWS, tamper=None) -> Path:
    """A seed-layout HDF5. ``im_kind``: float4d (2,H,W,1) | float3d (2,H,W) | uint8 (2,H,W).
    ``tamper(split, patient, view, im, gt)`` may change the arrays before they are written."""
    import h5py

    with h5py.File(path, "w") as f:
        for split, names in splits.items():
            group = f.create_group(split)
            for name in names:
                for view in views:
                    frames = [frame_content(shape, patient_number(name), view, i) for i in INSTANTS]
                    im = np.stack([fr[0] for fr in frames])
                    gt = np.stack([fr[1] for fr in frames]).astype(gt_dtype)
                    if im_kind.startswith("float"):
                        im = im.astype(np.float32) / 255.0
                    if im_kind == "float4d":
                        im = im[..., None]
                    if tamper is not None:
                        im, gt = tamper(split, name, view, im, gt)
                    g = group.create_group(f"{name}/{view}")
                    g.create_dataset("im", data=im)
                    g.create_dataset("gt", data=gt)
                    g.create_dataset("im_ref", data=np.zeros((2, 7, 5), np.float32))  # ignored
                    g.create_dataset("gt_ref", data=np.full((2, 7, 5), 9, np.uint8))  # ignored
    return path


def write_sitk(path: Path, array: np.ndarray) -> None:
    import SimpleITK as sitk

    sitk.WriteImage(sitk.GetImageFromArray(array), str(path))


CFG = "ED: 1\nES: 14\nNbFrame: 15\nSex: F\nAge: 61\nImageQuality: Good\n"


def write_camus_patient(folder: Path, name: str, shape: tuple[int, int], suffix: str,
                        with_gt: bool = True, tamper=None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for view in VIEWS:
        (folder / f"Info_{view}.cfg").write_text(CFG)
        for instant in INSTANTS:
            image, labels = frame_content(shape, patient_number(name), view, instant)
            if tamper is not None:
                image, labels = tamper(name, view, instant, image, labels)
            write_sitk(folder / f"{name}_{view}_{instant}{suffix}", image)
            if with_gt:
                write_sitk(folder / f"{name}_{view}_{instant}_gt{suffix}", labels)


def native_shape(name: str) -> tuple[int, int]:
    """CAMUS frames are taller than wide and differ between patients."""
    n = patient_number(name)
    return 90 + 2 * (n % 5), 70 + (n % 3)


def build_camus2019(root: Path, training: list[str], testing_gt=(), testing_no_gt=(), tamper=None) -> Path:
    for name in training:
        write_camus_patient(root / "training" / name, name, native_shape(name), ".mhd", tamper=tamper)
    for name in testing_gt:
        write_camus_patient(root / "testing" / name, name, native_shape(name), ".mhd")
    for name in testing_no_gt:
        write_camus_patient(root / "testing" / name, name, native_shape(name), ".mhd", with_gt=False)
    return root


def build_camus2023(root: Path, patients: list[str], split_lists: dict[str, list[str]] | None = None,
                    tamper=None) -> Path:
    for i, name in enumerate(patients):
        suffix = ".nii" if i == 0 else ".nii.gz"  # both spellings occur
        write_camus_patient(root / "database_nifti" / name, name, native_shape(name), suffix, tamper=tamper)
    if split_lists is not None:
        (root / "database_split").mkdir(parents=True)
        files = {"train": "subgroup_training.txt", "valid": "subgroup_validation.txt",
                 "test": "subgroup_testing.txt"}
        for split, names in split_lists.items():
            (root / "database_split" / files[split]).write_text("".join(f"{n}\n" for n in names))
    return root


def names(first: int, count: int) -> list[str]:
    return [f"patient{i:04d}" for i in range(first, first + count)]


# -- checking the output --------------------------------------------------------------------
def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def stems_on_disk(out: Path, split: str) -> set[str]:
    images = {p.stem for p in (out / split / "img").glob("*.png")}
    labels = {p.stem for p in (out / split / "label").glob("*.png")}
    assert images == labels
    return images


def assert_pair_matches(out: Path, split: str, patient: str, view: str, instant: str,
                        native: tuple[int, int], size: int) -> None:
    image, labels = frame_content(native, patient_number(patient), view, instant)
    stem = f"{patient}_{view}_{instant}"
    got_image = read(out / split / "img" / f"{stem}.png")
    got_labels = read(out / split / "label" / f"{stem}.png")
    assert got_image.shape == got_labels.shape == (size, size)
    assert got_image.dtype == got_labels.dtype == np.uint8
    # orientation: the bright block is top-left in ED, top-right in ES (never transposed/flipped)
    corner_left, corner_right = got_image[1, 1], got_image[1, size - 2]
    assert (corner_left, corner_right)[0 if instant == "ED" else 1] == 250
    assert (corner_left, corner_right)[1 if instant == "ED" else 0] < 200
    assert got_labels[size - 1, 1 if instant == "ED" else size - 2] == 3
    assert got_labels[size // 3, size // 2] == 1 and got_labels[size * 5 // 8, size // 2] == 2
    # exact content: antialiased bilinear for images, nearest for labels
    assert np.array_equal(got_labels, resize_labels(labels, size))
    assert np.abs(got_image.astype(int) - resize_image(image, size).astype(int)).max() <= 1
    assert set(np.unique(got_labels).tolist()) <= {0, 1, 2, 3}


# -- seed HDF5 ------------------------------------------------------------------------------
SEED_SPLITS = {"train": names(1, 4), "valid": names(5, 1), "test": names(6, 2)}


@pytest.mark.parametrize("im_kind, gt_dtype", [("float4d", np.uint8), ("float3d", np.uint8),
                                              ("uint8", np.uint8), ("float4d", np.float32)])
def test_seed_hdf5_variants_keep_content_and_splits(tmp_path, im_kind, gt_dtype):
    source = build_seed_hdf5(tmp_path / "camus.hdf5", SEED_SPLITS, im_kind=im_kind, gt_dtype=gt_dtype)
    assert detect_format(source) == "hdf5"
    manifest = prepare_dataset(source, tmp_path / "out", size=64)
    out = tmp_path / "out"
    for split, members in SEED_SPLITS.items():
        assert manifest["splits"][split] == members
        assert stems_on_disk(out, split) == {f"{p}_{v}_{i}" for p in members for v in VIEWS for i in INSTANTS}
        for patient in members:
            for view in VIEWS:
                for instant in INSTANTS:
                    # native size: the pixels come through exactly
                    image, labels = frame_content((64, 64), patient_number(patient), view, instant)
                    stem = f"{patient}_{view}_{instant}"
                    assert np.array_equal(read(out / split / "img" / f"{stem}.png"), image)
                    assert np.array_equal(read(out / split / "label" / f"{stem}.png"), labels)


def test_seed_hdf5_non_square_is_resized_with_orientation_kept(tmp_path):
    source = build_seed_hdf5(tmp_path / "s.h5", SEED_SPLITS, shape=(96, 72))
    prepare_dataset(source, tmp_path / "out", size=48)
    for split, members in SEED_SPLITS.items():
        for patient in members:
            for view in VIEWS:
                for instant in INSTANTS:
                    assert_pair_matches(tmp_path / "out", split, patient, view, instant, (96, 72), 48)


def test_views_and_instants_options(tmp_path):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    manifest = prepare_dataset(source, tmp_path / "out", views="4CH", instants=["ED"], size=32)
    assert stems_on_disk(tmp_path / "out", "train") == {f"{p}_4CH_ED" for p in SEED_SPLITS["train"]}
    assert manifest["options"]["views"] == ["4CH"] and manifest["options"]["instants"] == ["ED"]
    assert manifest["counts"] == {"train": 4, "valid": 1, "test": 2}


def test_a_split_with_no_patient_is_not_created(tmp_path):
    from engine.data.dataset_folder import DatasetFolder

    source = build_seed_hdf5(tmp_path / "s.hdf5", {"train": names(1, 3), "valid": names(4, 1)})
    manifest = prepare_dataset(source, tmp_path / "out", size=32)
    assert manifest["counts"] == {"train": 12, "valid": 4, "test": 0}
    assert not (tmp_path / "out" / "test").exists()
    assert DatasetFolder(tmp_path / "out").splits() == ["train", "valid"]


def test_manifest_fields(tmp_path):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    returned = prepare_dataset(source, tmp_path / "out", size=32, seed=3)
    manifest = read_manifest(tmp_path / "out")
    assert manifest == json.loads(json.dumps(returned))
    assert manifest["kind"] == "cardigan-prepared-dataset" and manifest["version"] == 1
    assert manifest["created_by"].startswith("cardiGAN Studio")
    assert manifest["source"]["path"] == str(source.resolve())
    assert manifest["source"]["format"] == "hdf5"
    assert manifest["source"]["checksum"]["value"] == sha256_file(source)
    assert manifest["options"] == {"views": ["2CH", "4CH"], "instants": ["ED", "ES"], "size": 32, "seed": 3,
                                   "sequences": False}
    for split in ("train", "valid", "test"):
        assert manifest["counts"][split] == len(stems_on_disk(tmp_path / "out", split))
        assert manifest["patients"][split] == len(SEED_SPLITS[split])
    assert manifest["label_values"] == [0, 1, 2, 3]
    assert [label["id"] for label in manifest["labels"]] == [0, 1, 2, 3]
    assert manifest["skipped"] == []


def test_worker_processes_give_the_same_dataset(tmp_path):
    splits = {"train": names(1, 6), "valid": names(7, 1), "test": names(8, 1)}
    source = build_seed_hdf5(tmp_path / "s.hdf5", splits, shape=(80, 64))
    prepare_dataset(source, tmp_path / "one", size=40, workers=1)
    prepare_dataset(source, tmp_path / "two", size=40, workers=2)
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.png"))
    assert len(files) == 8 * 4 * 2
    for rel in files:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes()


# -- CAMUS 2019 ---------------------------------------------------------------------------
def test_camus2019_release(tmp_path):
    training, test_gt, test_no_gt = names(1, 10), names(451, 2), names(461, 2)
    root = build_camus2019(tmp_path / "camus", training, test_gt, test_no_gt)
    assert detect_format(root) == "camus2019"
    manifest = prepare_dataset(root, tmp_path / "out", size=64, seed=1)
    splits = manifest["splits"]
    assert splits["test"] == test_gt  # the testing folder is the test split
    assert sorted(splits["train"] + splits["valid"]) == training
    assert splits["valid"] and len(splits["train"]) > len(splits["valid"])
    assert {s["patient"] for s in manifest["skipped"]} == set(test_no_gt)
    assert all("ground truth" in s["reason"] for s in manifest["skipped"])
    for split, members in splits.items():
        for patient in members:
            for view in VIEWS:
                for instant in INSTANTS:
                    assert_pair_matches(tmp_path / "out", split, patient, view, instant,
                                        native_shape(patient), 64)
    assert manifest["patient_info"]["patient0001"]["4CH"]["ImageQuality"] == "Good"
    assert manifest["source"]["checksum"]["value"]


def test_camus2019_training_folder_alone_is_split_80_10_10(tmp_path):
    root = build_camus2019(tmp_path / "camus", names(1, 10))
    manifest = prepare_dataset(root / "training", tmp_path / "out", size=32, views="2CH", instants="ED")
    assert [len(manifest["splits"][s]) for s in ("train", "valid", "test")] == [8, 1, 1]


# -- CAMUS 2023 ---------------------------------------------------------------------------
def test_camus2023_release_with_split_lists(tmp_path):
    patients = names(1, 7)
    lists = {"train": patients[:4], "valid": patients[4:5], "test": patients[5:]}
    root = build_camus2023(tmp_path / "camus", patients, lists)
    assert detect_format(root) == "camus2023"
    assert detect_format(root / "database_nifti") == "camus2023"
    manifest = prepare_dataset(root, tmp_path / "out", size=56)
    assert manifest["splits"] == lists
    assert manifest["source"]["format"] == "camus2023"
    for split, members in lists.items():
        for patient in members:
            for view in VIEWS:
                for instant in INSTANTS:
                    assert_pair_matches(tmp_path / "out", split, patient, view, instant,
                                        native_shape(patient), 56)
    # pointing at database_nifti itself still finds the split lists beside it
    inner = prepare_dataset(root / "database_nifti", tmp_path / "inner", size=32, views="4CH", instants="ED")
    assert inner["splits"] == lists


def test_camus2023_without_lists_uses_a_seeded_split(tmp_path):
    patients = names(1, 10)
    root = build_camus2023(tmp_path / "camus", patients)
    a = prepare_dataset(root, tmp_path / "a", size=32, seed=5, views="4CH", instants="ES")
    b = prepare_dataset(root, tmp_path / "b", size=32, seed=5, views="4CH", instants="ES")
    assert a["splits"] == b["splits"]
    sets = [set(a["splits"][s]) for s in ("train", "valid", "test")]
    assert [len(s) for s in sets] == [8, 1, 1]
    assert set().union(*sets) == set(patients)
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])


def test_camus2023_writer_round_trip(tmp_path):
    from engine.data import camus

    root = tmp_path / "export"
    rng = np.random.default_rng(0)
    frames = {}
    for view in VIEWS:
        for instant in INSTANTS:
            labels = rng.integers(0, 4, (40, 40)).astype(np.uint8)
            frames[(view, instant)] = (rng.integers(0, 256, (40, 40)).astype(np.uint8), labels)
    camus.write_2023_patient(root, "patient0001", frames)
    camus.write_2023_patient(root, "patient0002", frames)
    camus.write_2023_split_lists(root, {"train": ["patient0001"], "test": ["patient0002"]})
    manifest = prepare_dataset(root, tmp_path / "out", size=40)
    assert manifest["splits"] == {"train": ["patient0001"], "valid": [], "test": ["patient0002"]}
    for (view, instant), (image, labels) in frames.items():
        stem = f"patient0002_{view}_{instant}"
        assert np.array_equal(read(tmp_path / "out" / "test" / "img" / f"{stem}.png"), image)
        assert np.array_equal(read(tmp_path / "out" / "test" / "label" / f"{stem}.png"), labels)


# -- command line ---------------------------------------------------------------------------
def test_cli_prepare_reports_the_format(tmp_path, capsys):
    from engine.cli.main import main

    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    rc = main(["prepare", "--source", str(source), "--out", str(tmp_path / "out"),
               "--size", "32", "--views", "2CH,4CH", "--instants", "ES"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "seed HDF5, detected" in err and "train 8 pairs" in err
    fit = json.loads((tmp_path / "out" / "manifest.json").read_text())["fan_fit"]
    assert f"fans: {fit['fitted']} fitted" in err  # the prepare summary ends with the fans
    assert stems_on_disk(tmp_path / "out", "test") == {f"{p}_{v}_ES" for p in SEED_SPLITS["test"] for v in VIEWS}


def test_missing_frames_are_skipped_with_a_reason(tmp_path):
    import h5py

    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    with h5py.File(source, "a") as f:
        del f["train/patient0002/4CH"]
    camus = build_camus2019(tmp_path / "camus", names(1, 3))
    (camus / "training" / "patient0003" / "patient0003_2CH_ES_gt.mhd").unlink()
    manifest = prepare_dataset(source, tmp_path / "a", size=32)
    assert {"patient": "patient0002", "reason": "no 4CH group"} in manifest["skipped"]
    assert {p.name for p in (tmp_path / "a" / "train" / "img").glob("patient0002_*")} == \
        {"patient0002_2CH_ED.png", "patient0002_2CH_ES.png"}
    manifest = prepare_dataset(camus, tmp_path / "b", size=32)
    assert manifest["skipped"] == [{"patient": "patient0003", "reason": "no ground truth for 2CH ES"}]
    assert sum(manifest["counts"].values()) == 3 * 4 - 1


def test_an_hdf5_group_outside_the_splits_is_reported_not_dropped_silently(tmp_path, capsys):
    import h5py

    from engine.cli.main import main

    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    with h5py.File(source, "a") as f:
        f.create_group("bogus/patient0900/2CH")
        f.create_group("bogus/patient0901/2CH")
    assert main(["prepare", "--source", str(source), "--out", str(tmp_path / "out"), "--size", "32"]) == 0
    err = capsys.readouterr().err
    assert "/bogus (top-level entry outside train/valid/test, 2 item(s) not read)" in err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {"patient": "/bogus", "reason": "top-level entry outside train/valid/test, 2 item(s) not read"} \
        in manifest["skipped"]


def add_half_sequences(root: Path, patients: list[str], frames: int = 6) -> None:
    """4CH half sequences (ED to ES, the cavity emptying) with their ground truth."""
    import SimpleITK as sitk

    from engine.anatomy import ShapeModel
    from engine.fan import default_fan, fan_alpha

    model = ShapeModel.default()
    for i, name in enumerate(patients):
        heart = model.draw(i)
        masks = np.stack([model.mask(heart, "4CH", phase, 80) for phase in np.linspace(0, 1, frames)])
        images = np.stack([np.round(60 + 40 * m.astype(np.float32)) * fan_alpha(default_fan(), 80, 80)
                           for m in masks]).astype(np.uint8)
        folder = root / "database_nifti" / name
        sitk.WriteImage(sitk.GetImageFromArray(images), str(folder / f"{name}_4CH_half_sequence.nii.gz"))
        sitk.WriteImage(sitk.GetImageFromArray(masks), str(folder / f"{name}_4CH_half_sequence_gt.nii.gz"))


def test_camus2023_half_sequences_are_kept_as_sequences(tmp_path):
    patients = names(1, 3)
    root = build_camus2023(tmp_path / "camus", patients)
    add_half_sequences(root, patients[:2])  # the third has no sequence: nothing to keep
    manifest = prepare_dataset(root, tmp_path / "out", size=64, sequences=True, views=("4CH",))
    sequences = manifest["sequences"]
    assert [(s["patient"], s["frames"]) for s in sequences] == [(patients[0], 6), (patients[1], 6)]
    split = sequences[0]["split"]
    frames = sorted((tmp_path / "out" / split / "label").glob(f"{patients[0]}_4CH_f*.png"))
    assert len(frames) == 6
    first, last = read(frames[0]), read(frames[-1])
    assert (last == 1).sum() < (first == 1).sum()  # the cavity empties from ED to ES
    assert manifest["options"]["sequences"] is True


def test_a_dataset_with_sequences_can_be_replaced_with_overwrite(tmp_path):
    patients = names(1, 3)
    root = build_camus2023(tmp_path / "camus", patients)
    add_half_sequences(root, patients, frames=3)
    first = prepare_dataset(root, tmp_path / "out", size=32, sequences=True, views=("4CH",), workers=1)
    again = prepare_dataset(root, tmp_path / "out", size=48, sequences=True, views=("4CH",), workers=1,
                            overwrite=True)
    assert first["counts"] == again["counts"] and again["options"]["size"] == 48
    assert read(next((tmp_path / "out").glob("*/img/*_f000.png"))).shape == (48, 48)


def test_progress_is_reported_and_cancel_obeyed_after_every_patient(tmp_path):
    from engine.progress import Cancelled

    source = build_seed_hdf5(tmp_path / "s.hdf5", {"train": names(1, 12)}, shape=(32, 32))
    seen = []
    prepare_dataset(source, tmp_path / "out", size=32, workers=1, progress=seen.append)
    assert [event.done for event in seen] == list(range(13))
    assert {event.total for event in seen} == {12}
    seen.clear()
    with pytest.raises(Cancelled):
        prepare_dataset(source, tmp_path / "again", size=32, workers=1, progress=seen.append,
                        should_stop=lambda: len(seen) >= 2)
    assert [event.done for event in seen] == [0, 1]  # stopped after the first patient, not a batch
