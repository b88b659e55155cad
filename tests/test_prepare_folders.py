"""``prepare`` from image and label folders, as NVlabs SPADE's custom mode reads them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main
from engine.data.layout import SPLITS
from engine.data.phantom import write_phantom
from engine.data.prepare import prepare_dataset
from engine.data.sources import detect_format
from engine.errors import CardiganError, DataError
from engine.maskio import read_label_png


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phantom") / "data"
    write_phantom(folder, count=6, size=64, seed=1)
    return folder


def as_spade(phantom, root, names=(("train", "train"), ("valid", "val"), ("test", "test"))):
    """The phantom's pairs in SPADE's naming: <split>_img beside <split>_label."""
    for split, name in names:
        for kind in ("img", "label"):
            if (phantom / split / kind).is_dir():
                shutil.copytree(phantom / split / kind, root / f"{name}_{kind}")
    return root


def pairs_of(root):
    return {(split, p.stem): (np.asarray(Image.open(root / split / "img" / p.name)), read_label_png(p))
            for split in SPLITS for p in sorted((root / split / "label").glob("*.png"))}


def test_spade_split_folders_are_prepared_pair_by_name_with_their_own_splits(phantom, tmp_path):
    source = as_spade(phantom, tmp_path / "spade")
    orphan_label = next((source / "train_label").glob("*.png"))
    orphan_image = next((source / "val_img").glob("*.png"))
    orphan_label.rename(source / "train_label" / "lonely_4CH_ED.png")  # its image keeps the old name
    orphan_image.rename(source / "val_img" / "stray.png")
    assert detect_format(source) == "folders"
    manifest = prepare_dataset(source, tmp_path / "out", size=64)
    assert manifest["source"]["format"] == "folders"
    assert "val_label" in manifest["source"]["split_source"]
    reasons = " | ".join(note["reason"] for note in manifest["skipped"])
    assert "lonely_4CH_ED.png in train_label/ has no image" in reasons
    assert "stray.png in val_img/ has no label map" in reasons
    before, after = pairs_of(phantom), pairs_of(tmp_path / "out")
    gone = {("train", orphan_label.stem), ("valid", orphan_image.stem)}
    assert set(after) == set(before) - gone  # val is valid; nothing else lost, nothing shifted
    for key, (image, labels) in after.items():
        assert np.array_equal(labels, before[key][1]) and np.array_equal(image, before[key][0])
    assert manifest["fan_fit"]["fitted"] == len(after)


def test_plain_img_and_label_folders_with_any_names_get_a_seeded_split(phantom, tmp_path):
    source = tmp_path / "plain"
    (source / "images").mkdir(parents=True)
    (source / "labels").mkdir()
    originals = {}
    for k, label in enumerate(sorted((phantom / "train" / "label").glob("*.png"))[:10]):
        image = np.asarray(Image.open(phantom / "train" / "img" / label.name))
        Image.fromarray(image).convert("RGB").save(source / "images" / f"frame{k:02d}.jpg", quality=95)
        shutil.copy(label, source / "labels" / f"frame{k:02d}.png")
        originals[f"frame{k:02d}"] = read_label_png(label)
    assert main(["prepare", "--source", str(source), "--out", str(tmp_path / "out"), "--size", "64",
                 "--views", "2CH"]) == 0  # the views choose among CAMUS names only
    prepared = pairs_of(tmp_path / "out")
    assert sorted(stem for _, stem in prepared) == sorted(originals)  # stems kept as they were
    assert {split for split, _ in prepared} == set(SPLITS)  # 80/10/10 of ten one-frame patients
    for (_, stem), (image, labels) in prepared.items():
        assert np.array_equal(labels, originals[stem]) and image.dtype == np.uint8 and image.ndim == 2


def test_a_prepared_dataset_prepares_again_at_another_size(phantom, tmp_path):
    manifest = prepare_dataset(phantom, tmp_path / "small", size=32)
    assert manifest["source"]["format"] == "folders"
    assert manifest["counts"] == {split: len(list((phantom / split / "label").glob("*.png"))) for split in SPLITS}
    first = next((tmp_path / "small" / "train" / "label").glob("*.png"))
    assert read_label_png(first).shape == (32, 32)


def test_folder_sources_that_cannot_be_prepared_are_refused_in_one_line(phantom, tmp_path):
    both = as_spade(phantom, tmp_path / "both", names=(("train", "train"), ("valid", "val")))
    shutil.copytree(both / "val_img", both / "valid_img")
    shutil.copytree(both / "val_label", both / "valid_label")
    with pytest.raises(DataError, match="more than one folder pair for the valid split"):
        prepare_dataset(both, tmp_path / "out1", size=64)
    moved = as_spade(phantom, tmp_path / "moved", names=(("train", "train"), ("valid", "val")))
    label = next((moved / "train_label").glob("*.png"))
    patient, view, instant = label.stem.rsplit("_", 2)
    other = f"{patient}_{view}_{'ED' if instant == 'ES' else 'ES'}.png"  # a frame of hers under val
    shutil.copy(label, moved / "val_label" / other)
    shutil.copy(moved / "train_img" / label.name, moved / "val_img" / other)
    with pytest.raises(DataError, match=f"patient {patient} appears in more than one split"):
        prepare_dataset(moved, tmp_path / "out2", size=64)
    bad = as_spade(phantom, tmp_path / "bad", names=(("train", "train"),))
    label = next((bad / "train_label").glob("*.png"))
    Image.fromarray(np.full((64, 64), 9, np.uint8)).save(label)
    with pytest.raises(CardiganError) as caught:  # the mask's own error, naming the file
        prepare_dataset(bad, tmp_path / "out3", size=64)
    assert label.name in str(caught.value) and "\n" not in str(caught.value)
    for out in ("out1", "out2", "out3"):
        assert not (tmp_path / out).exists()  # nothing half-written
    with pytest.raises(DataError, match="train_img and train_label"):
        detect_format(tmp_path / "bad" / "train_label")


def test_sequence_frames_in_plain_folders_stay_with_their_patient(phantom, tmp_path):
    """Frames <patient>_<view>_f<k> (prepare --sequences, cine exports) are one patient's: a
    seeded split must not put some of them in train and the others in valid or test."""
    source = tmp_path / "plain"
    (source / "img").mkdir(parents=True)
    (source / "label").mkdir()
    labels = sorted((phantom / "train" / "label").glob("*.png"))[:4]
    for p in range(10):
        for k, label in enumerate(labels):
            stem = f"patient{p:04d}_4CH_f{k:03d}"
            shutil.copy(phantom / "train" / "img" / label.name, source / "img" / f"{stem}.png")
            shutil.copy(label, source / "label" / f"{stem}.png")
    manifest = prepare_dataset(source, tmp_path / "out", size=64, workers=1)
    split_of = {}
    for split in SPLITS:
        for path in (tmp_path / "out" / split / "label").glob("*.png"):
            split_of.setdefault(path.stem.split("_")[0], set()).add(split)
    assert len(split_of) == 10 and all(len(splits) == 1 for splits in split_of.values()), split_of
    assert sorted(sum(manifest["splits"].values(), [])) == [f"patient{p:04d}" for p in range(10)]


def test_a_dim_dataset_keeps_its_grey_levels_when_prepared(phantom, tmp_path):
    source = as_spade(phantom, tmp_path / "spade")
    for path in (source / "train_img").glob("*.png"):  # a dataset four times dimmer than the phantom's
        image = np.asarray(Image.open(path))
        Image.fromarray((image // 4).astype(np.uint8)).save(path)
    prepare_dataset(source, tmp_path / "out", size=64)
    before, after = pairs_of(phantom), pairs_of(tmp_path / "out")
    trained = [key for key in after if key[0] == "train"]
    assert trained
    for key in trained:  # the studio stretches a dim image to trace over; a dataset stays as given
        assert np.array_equal(after[key][0], before[key][0] // 4)


def test_the_source_checksum_tells_which_split_a_patient_is_in_and_not_the_seed(phantom, tmp_path):
    """The checksum of a folder source covers where its pairs are (a patient moved from train/
    to test/ is another source), and no option of the run (the seed of a split it decides)."""
    from engine.data.sources import scan_source, source_checksum

    source = tmp_path / "source"
    shutil.copytree(phantom, source)

    def checksum():
        return source_checksum(source, "folders", scan_source(source, "folders").patients)["value"]

    before = checksum()
    for kind in ("img", "label"):
        for path in list((source / "train" / kind).glob(f"{manifest_patient(phantom)}_*.png")):
            path.rename(source / "test" / kind / path.name)
    assert checksum() != before
    plain = tmp_path / "plain"
    shutil.copytree(phantom / "train", plain)
    one, other = (prepare_dataset(plain, tmp_path / f"out{seed}", size=32, seed=seed, workers=1)
                  for seed in (0, 1))
    assert one["splits"] != other["splits"]
    assert one["source"]["checksum"] == other["source"]["checksum"]


def manifest_patient(root):
    """The first train patient of the dataset at ``root``."""
    import json

    return json.loads((root / "manifest.json").read_text())["splits"]["train"][0]


def test_an_image_whose_label_map_is_not_a_png_is_skipped_naming_that_file(tmp_path):
    """A label map saved as JPEG beside its PNG image: the pair is skipped for the label's
    format, not as if the label map were missing."""
    from engine.data.pair_folders import scan_pair_folders

    for kind in ("train_img", "train_label"):
        (tmp_path / kind).mkdir()
    labels = np.zeros((8, 8), np.uint8)
    Image.fromarray(labels).save(tmp_path / "train_img" / "case1.png")
    Image.fromarray(labels).save(tmp_path / "train_label" / "case1.jpg")
    Image.fromarray(labels).save(tmp_path / "train_img" / "case2.png")
    _, notes, _ = scan_pair_folders(tmp_path)
    assert [note["reason"] for note in notes] == [
        "case1.png in train_img/ has no PNG label map (case1.jpg in train_label/ is not one: label maps are read "
        "from PNG files only)",
        "case2.png in train_img/ has no label map of the same name in train_label/"]


def test_label_maps_of_other_png_formats_are_taken_and_counted_once(phantom, tmp_path, capsys):
    """RGB label PNGs of three equal channels, palette and 16-bit PNGs hold the labels 0-3
    as an 8-bit grey map does: taken as they are, and prepare says once how many it read."""
    source = as_spade(phantom, tmp_path / "spade", names=(("train", "train"),))
    maps = sorted((source / "train_label").glob("*.png"))
    originals = {path.stem: read_label_png(path) for path in maps}
    for path in maps[:2]:  # as saved by a viewer that writes every picture as RGB
        Image.fromarray(np.repeat(originals[path.stem][..., None], 3, axis=-1)).save(path)
    palette = Image.fromarray(originals[maps[2].stem], mode="L").convert("P")  # indices = labels
    palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    palette.save(maps[2])
    Image.fromarray(originals[maps[3].stem].astype(np.uint16)).save(maps[3])
    assert main(["prepare", "--source", str(source), "--out", str(tmp_path / "out"), "--size", "64"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "not 8-bit grey" in line]
    assert said == ["read 1 label map from 16-bit PNG, 2 from RGB PNGs with three equal channels, 1 from palette "
                    "PNG, not 8-bit grey: their values 0-3 were taken as the labels"]
    prepared = pairs_of(tmp_path / "out")
    assert {stem: labels.tolist() for (_, stem), (_, labels) in prepared.items()} == {
        stem: labels.tolist() for stem, labels in originals.items()}
