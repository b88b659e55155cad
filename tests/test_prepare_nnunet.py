"""``cardigan prepare`` reads an nnU-Net raw dataset, such as ``cardigan export --format nnunet`` writes."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from engine.data.prepare import prepare_dataset
from engine.data.sources import detect_format
from engine.errors import DataError
from engine.export import export_dataset


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("nnunet") / "Dataset501_Echo"
    manifest = export_dataset("simulator", out, random=3, format="nnunet", size=64, seed=5)
    return out, manifest


def pixels(path):
    with Image.open(path) as image:
        return np.asarray(image)


def test_an_nnunet_export_prepares_into_the_same_pairs(exported, tmp_path):
    source, manifest = exported
    assert detect_format(source) == "nnunet"
    prepared = prepare_dataset(source, tmp_path / "prep", size=64, workers=1)
    stems = {split: sorted(names) for split, names in manifest["splits"].items()}
    written = {pair["stem"]: pair["split"] for pair in manifest["pairs"]}
    seen = 0
    for split in ("train", "valid", "test"):
        for image in sorted((tmp_path / "prep" / split / "img").glob("*.png")):
            stem = image.stem
            part = "Ts" if written[stem] == "test" else "Tr"
            assert (split == "test") == (part == "Ts")  # imagesTs stays the test split
            assert np.array_equal(pixels(image), pixels(source / f"images{part}" / f"{stem}_0000.png"))
            assert np.array_equal(pixels(tmp_path / "prep" / split / "label" / image.name),
                                  pixels(source / f"labels{part}" / f"{stem}.png"))
            seen += 1
    assert seen == len(written) == sum(prepared["counts"].values()) and stems["test"]


def renumbered(source, folder, labels: dict, remap=None):
    """A copy of ``source`` whose dataset.json declares ``labels``, its label maps' values
    passed through ``remap`` (a 256-entry table)."""
    shutil.copytree(source, folder)
    document = json.loads((folder / "dataset.json").read_text())
    document["labels"] = labels
    (folder / "dataset.json").write_text(json.dumps(document))
    if remap is not None:
        for path in list(folder.glob("labels*/*.png")):
            Image.fromarray(remap[pixels(path)]).save(path)
    return folder


def test_labels_are_read_by_their_names_in_dataset_json(exported, tmp_path):
    source, _ = exported
    remap = np.arange(256, dtype=np.uint8)
    remap[[1, 2, 3]] = [5, 7, 2]  # LV 5, myocardium 7, left atrium 2
    other = renumbered(source, tmp_path / "Dataset502_Other", {"background": 0, "Left_Atrium": 2, "LV": 5,
                                                              "myo": 7}, remap)
    prepare_dataset(other, tmp_path / "prep", size=64, workers=1)
    labels = sorted((tmp_path / "prep").glob("*/label/*.png"))
    assert labels
    for path in labels:
        stem = path.stem
        original = next(source.glob(f"labels*/{stem}.png"))
        assert np.array_equal(pixels(path), pixels(original))


def test_a_dataset_of_other_labels_is_refused_in_one_line(exported, tmp_path):
    source, _ = exported
    other = renumbered(source, tmp_path / "Dataset503_Liver", {"background": 0, "liver": 1, "tumour": 2})
    with pytest.raises(DataError, match=r"label 'liver' is not a cardiac label of ours") as caught:
        prepare_dataset(other, tmp_path / "prep", size=64, workers=1)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "prep").exists()
