"""``cardigan prepare`` reads an nnU-Net raw dataset, such as ``cardigan export --format nnunet`` writes."""

import json
import shutil

import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image

from engine.data.nnunet_source import scan_nnunet
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


def test_an_nnunet_export_prepares_back_into_its_own_train_and_valid(exported, tmp_path):
    """``splits_final.json``'s fold 0 is the export's train/valid split, and prepare keeps it."""
    source, manifest = exported
    assert manifest["splits"]["train"] and manifest["splits"]["valid"]
    prepared = prepare_dataset(source, tmp_path / "prep", size=64, workers=1)
    assert {split: sorted(prepared["splits"][split]) for split in ("train", "valid", "test")} == \
        {split: sorted(manifest["splits"][split]) for split in ("train", "valid", "test")}
    assert prepared["source"]["split_source"] == "splits_final.json fold 0 (train/valid) + imagesTs (test)"


@pytest.mark.parametrize("folds, message", [
    ("[{\"train\": [", r"splits_final.json: not readable as JSON \("),
    ("{\"train\": [], \"val\": []}", r"splits_final.json: not nnU-Net's folds"),
    ("[{\"train\": [\"a\"], \"val\": 3}]", r"splits_final.json: not nnU-Net's folds"),
    ("[{\"train\": [\"ghost_4CH_ED\"], \"val\": []}]", r"fold 0 names case\(s\) not in imagesTr: ghost_4CH_ED$"),
])
def test_a_damaged_or_foreign_splits_final_is_refused_in_one_line(exported, tmp_path, folds, message):
    source, _ = exported
    damaged = tmp_path / "Dataset507_Damaged"
    shutil.copytree(source, damaged)
    (damaged / "splits_final.json").write_text(folds)
    with pytest.raises(DataError, match=message) as caught:
        prepare_dataset(damaged, tmp_path / "prep", size=64, workers=1)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "prep").exists()


def test_a_fold_that_parts_a_patient_is_followed_with_the_patient_kept_whole(exported, tmp_path):
    """nnU-Net's own folds are drawn case by case: a patient its fold 0 parts goes whole to the
    side holding most of its cases (valid on a tie), said in the split's source."""
    source, _ = exported
    cases = sorted(path.stem for path in (source / "labelsTr").glob("*.png"))
    first, second = sorted({case.split("_")[0] for case in cases})
    own = {patient: [case for case in cases if case.startswith(patient + "_")] for patient in (first, second)}
    parted = tmp_path / "Dataset509_CaseFolds"
    shutil.copytree(source, parted)
    (parted / "splits_final.json").write_text(json.dumps([
        {"train": own[first][1:] + own[second][:2], "val": own[first][:1] + own[second][2:]}]))
    found, notes, how = scan_nnunet(parted)
    assert {name: split for name, split in found if split != "test"} == {first: "train", second: "valid"}
    assert len(found[(first, "train")]) == len(found[(second, "valid")]) == 4 and notes == []
    assert how.startswith("splits_final.json fold 0 (train/valid; 2 patient(s) it parts moved whole to the side "
                          f"of most of their cases: {first} to train, {second} to valid)")


def test_a_fold_that_names_a_case_twice_is_refused(exported, tmp_path):
    source, _ = exported
    cases = sorted(path.stem for path in (source / "labelsTr").glob("*.png"))
    patient = cases[0].split("_")[0]
    own = [case for case in cases if case.startswith(patient + "_")]
    parted = tmp_path / "Dataset508_Parted"
    shutil.copytree(source, parted)
    (parted / "splits_final.json").write_text(json.dumps([{"train": own, "val": own[:1]}]))
    with pytest.raises(DataError, match=rf"fold 0 names case {own[0]} in both train and val"):
        prepare_dataset(parted, tmp_path / "prep", size=64, workers=1)
    (parted / "splits_final.json").write_text(json.dumps([{"train": [], "val": own}]))
    found, notes, how = scan_nnunet(parted)  # the cases fold 0 leaves out are said, not split by seed
    assert {name for name, split in found if split != "test"} == {patient}
    assert found[(patient, "valid")] and not found.get((patient, "train"))
    assert sorted(note["patient"] for note in notes) == sorted(set(cases) - set(own))
    assert all(note["reason"] == "not named in fold 0 of splits_final.json" for note in notes)


def test_a_fold_without_imagests_gets_a_seeded_test_split_from_its_train(exported, tmp_path):
    """With ``splits_final.json`` and no ``imagesTs``, fold 0's val stays the valid split and
    its train patients are split by seed into train and test (there was no test split)."""
    source, manifest = exported
    alone = tmp_path / "Dataset510_NoTest"
    shutil.copytree(source, alone)
    for part in ("images", "labels"):
        for path in (alone / f"{part}Ts").iterdir():
            path.rename(alone / f"{part}Tr" / path.name)
        (alone / f"{part}Ts").rmdir()
    folds = json.loads((alone / "splits_final.json").read_text())
    moved = sorted(path.stem for path in (alone / "labelsTr").glob("*.png") if path.stem not in
                   folds[0]["train"] + folds[0]["val"])
    (alone / "splits_final.json").write_text(json.dumps([{"train": folds[0]["train"] + moved,
                                                          "val": folds[0]["val"]}]))
    prepared = prepare_dataset(alone, tmp_path / "prep", size=64, workers=1, seed=5)
    splits = prepared["splits"]
    assert splits["valid"] == manifest["splits"]["valid"]
    assert splits["test"] and sorted(splits["train"] + splits["test"]) == \
        sorted(manifest["splits"]["train"] + manifest["splits"]["test"])
    assert prepared["source"]["split_source"] == ("splits_final.json fold 0 (train/valid) + seeded train/test "
                                                  "split (seed 5) of the others")


def test_a_patients_variations_are_prepared_into_its_split(exported, tmp_path):
    """``export --variations 2`` names a patient's second variation ``<patient>_v2``: the two
    stay on one side of train and valid, as the export's own folds keep them."""
    source, _ = exported
    varied = tmp_path / "Dataset505_Varied"
    shutil.copytree(source, varied)
    (varied / "splits_final.json").unlink()  # the seeded split groups them
    for path in list(varied.glob("*Tr/*.png")):
        patient, rest = path.name.split("_", 1)
        shutil.copy(path, path.with_name(f"{patient}_v2_{rest}"))
    prepared = prepare_dataset(varied, tmp_path / "prep", size=64, workers=1)
    assert prepared["source"]["split_source"].startswith("imagesTs (test) + seeded train/valid split")
    split_of = {path.stem: path.parent.parent.name for path in (tmp_path / "prep").glob("*/label/*.png")}
    varieties = [stem for stem in split_of if "_v2_" in stem]
    assert varieties and len(set(split_of.values())) == 3
    for stem in varieties:
        assert split_of[stem] == split_of[stem.replace("_v2_", "_")], stem


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


def as_nifti(source, folder):
    """A copy of ``source`` with every case a one-slice NIfTI volume, SimpleITK size (W, H, 1) as
    nnU-Net stores 2-D cases, the labels of imagesTr stored as floats; file_ending .nii.gz."""
    shutil.copytree(source, folder)
    for path in list(folder.glob("*/*.png")):
        values = pixels(path)
        if path.parent.name == "labelsTr":
            values = values.astype(np.float32)
        volume = sitk.GetImageFromArray(values[None])
        assert volume.GetSize() == (values.shape[1], values.shape[0], 1)
        sitk.WriteImage(volume, str(path.with_name(path.name[:-len(".png")] + ".nii.gz")))
        path.unlink()
    document = json.loads((folder / "dataset.json").read_text())
    document["file_ending"] = ".nii.gz"
    (folder / "dataset.json").write_text(json.dumps(document))
    return folder


def test_a_nifti_nnunet_dataset_prepares_into_the_png_pixels_unturned(exported, tmp_path):
    """nnU-Net's 2-D NIfTI cases ((W, H, 1) volumes) give the pixels their PNGs hold: no
    transpose or flip; float label maps of whole values are read as nnU-Net reads them."""
    source, _ = exported
    nifti = as_nifti(source, tmp_path / "Dataset504_Nifti")
    prepare_dataset(nifti, tmp_path / "prep", size=64, workers=1)
    written = sorted((tmp_path / "prep").glob("*/label/*.png"))
    assert len(written) == len(list(source.glob("labels*/*.png")))
    for label in written:
        original = next(source.glob(f"labels*/{label.stem}.png"))
        assert not np.array_equal(pixels(original), pixels(original).T)  # a transpose would show
        assert np.array_equal(pixels(label), pixels(original))
        image = label.parent.parent / "img" / label.name
        assert np.array_equal(pixels(image), pixels(original.parent.parent / f"images{original.parent.name[6:]}"
                                                  / f"{label.stem}_0000.png"))


def test_a_label_map_of_fractions_is_refused_in_one_line(tmp_path):
    from engine.data.nnunet_source import read_case
    from engine.data.pair_folders import PairFile

    image, labels = np.zeros((16, 16), np.uint8), np.zeros((1, 16, 16), np.float32)
    labels[0, 4, 4] = 1.5
    sitk.WriteImage(sitk.GetImageFromArray(image), str(tmp_path / "a_0000.nii.gz"))
    sitk.WriteImage(sitk.GetImageFromArray(labels), str(tmp_path / "a.nii.gz"))
    table = np.arange(256, dtype=np.uint8)
    with pytest.raises(DataError, match=r"a.nii.gz: holds 1.5, not a whole-number label$"):
        read_case(PairFile("a", str(tmp_path / "a_0000.nii.gz"), str(tmp_path / "a.nii.gz")), table)


def test_only_a_variation_of_a_patient_present_goes_with_it():
    from engine.data.layout import variation_source

    assert variation_source("p7_v2", {"p7", "p7_v2"}) == variation_source("p7_v12", {"p7"}) == "p7"
    assert variation_source("p7_v2", {"p8"}) == "p7_v2"  # no p7: a name of its own
    assert variation_source("p7_v1", {"p7"}) == "p7_v1"  # a first variation keeps its patient's name
