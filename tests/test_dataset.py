"""``PairedDataset``: tensors, augmentation that keeps image and mask aligned, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data.dataset import PairedDataset
from engine.errors import DataError
from engine.fan import FAN_KEY, Fan, default_fan, fan_alpha

SIZE = 64


def shade(labels: np.ndarray) -> np.ndarray:
    """An image whose grey level encodes the label: alignment is checkable after warping."""
    return np.array([10, 80, 160, 240], dtype=np.uint8)[labels]


def blocky_labels(seed: int, size: int = SIZE) -> np.ndarray:
    """Large rectangles of each class, asymmetric left/right and top/bottom."""
    labels = np.zeros((size, size), dtype=np.uint8)
    rng = np.random.default_rng(seed)
    q = size // 4
    labels[q:2 * q, q // 2:2 * q] = 1  # left
    labels[2 * q:3 * q, q:3 * q] = 2
    labels[3 * q:, 2 * q + rng.integers(0, 4):] = 3  # right
    return labels


def write_pair(root, split, stem, image, labels):
    for sub, array in (("img", image), ("label", labels)):
        folder = root / split / sub
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(folder / f"{stem}.png")


@pytest.fixture
def dataset_root(tmp_path):
    root = tmp_path / "data"
    for i in range(4):
        labels = blocky_labels(i)
        write_pair(root, "train", f"patient{i:04d}_4CH_ED", shade(labels), labels)
    (root / "valid" / "img").mkdir(parents=True)
    (root / "valid" / "label").mkdir(parents=True)
    return root


def test_items_shapes_ranges_and_values(dataset_root):
    data = PairedDataset(dataset_root, "train")
    assert len(data) == 4 and data.manifest is None
    item = data[1]
    assert set(item) == {"label", "label_ids", "image", "fan", "stem"}
    assert item["stem"] == "patient0001_4CH_ED"
    # no fan record anywhere: the median CAMUS fan of the stem's view
    assert data.fan_sources["default"] == 4
    assert torch.equal(item["fan"][0], torch.from_numpy(fan_alpha(default_fan("4CH"), SIZE, SIZE)))
    assert item["label"].shape == (4, SIZE, SIZE) and item["label"].dtype == torch.float32
    assert item["label_ids"].shape == (SIZE, SIZE) and item["label_ids"].dtype == torch.int64
    assert item["image"].shape == (1, SIZE, SIZE) and item["image"].dtype == torch.float32
    assert torch.equal(item["label"].sum(0), torch.ones(SIZE, SIZE))
    assert torch.equal(item["label"].argmax(0), item["label_ids"])
    labels = blocky_labels(1)
    assert np.array_equal(item["label_ids"].numpy(), labels)
    expected = shade(labels).astype(np.float32) / 127.5 - 1.0
    assert torch.allclose(item["image"][0], torch.from_numpy(expected), atol=1e-6)
    assert item["image"].min() >= -1.0 and item["image"].max() <= 1.0
    batch = next(iter(torch.utils.data.DataLoader(data, batch_size=2)))
    assert batch["label"].shape == (2, 4, SIZE, SIZE) and batch["stem"] == list(data.stems[:2])
    assert len(PairedDataset(dataset_root, "valid")) == 0


def test_fans_come_from_the_label_png_then_the_manifest_and_move_with_augmentation(dataset_root):
    from engine.data.imaging import save_png

    recorded, listed = Fan(0.5, 0.0, -20.0, 20.0, 0.8, 1.0), Fan(0.45, 0.0, -30.0, 25.0, 0.9, 0.9)
    label_file = dataset_root / "train" / "label" / "patient0000_4CH_ED.png"
    save_png(label_file, blocky_labels(0), text={FAN_KEY: recorded.to_json()})
    (dataset_root / "manifest.json").write_text(json.dumps({
        "kind": "cardigan-prepared-dataset", "version": 1,
        "fans": {"train/patient0001_4CH_ED": listed.to_dict(),
                 "train/patient0002_4CH_ED": {"apex_x": "damaged"}}}))
    data = PairedDataset(dataset_root, "train")
    assert data.fans["patient0000_4CH_ED"] == recorded
    assert data.fans["patient0001_4CH_ED"] == listed
    assert data.fans["patient0002_4CH_ED"] == default_fan("4CH")
    assert data.fan_sources == {"label": 1, "manifest": 1, "default": 1, "damaged": 1}
    assert np.array_equal(data[0]["fan"][0].numpy(), fan_alpha(recorded, SIZE, SIZE))
    # augmented: the fan turns with the picture, so its edge stays the image's edge
    moving = PairedDataset(dataset_root, "train", augment=True, seed=3, deform=1.0)
    item = moving[0]
    assert not torch.equal(item["fan"], data[0]["fan"])
    assert (item["fan"] > 0.5).float().mean() > 0.1  # still there (0.22 unmoved; scale and warp vary it)



def test_a_damaged_label_fan_record_gives_way_to_the_manifest_in_training_and_in_the_folder(dataset_root):
    """The training data and the folder reader (the studio's browser, the shape model's build)
    take a pair's fan by one rule: a label record that cannot be read yields to the manifest's
    entry, and only with neither readable is the pair drawn in its view's median fan."""
    from engine.data.dataset_folder import DAMAGED_FAN_RECORD, DatasetFolder
    from engine.data.imaging import save_png

    listed = Fan(0.45, 0.0, -30.0, 25.0, 0.9, 0.9)
    for index in (0, 1):
        label_file = dataset_root / "train" / "label" / f"patient000{index}_4CH_ED.png"
        save_png(label_file, blocky_labels(index), text={FAN_KEY: '{"apex_x": "damaged"}'})
    (dataset_root / "manifest.json").write_text(json.dumps({
        "kind": "cardigan-prepared-dataset", "version": 1,
        "fans": {"train/patient0000_4CH_ED": listed.to_dict()}}))
    data = PairedDataset(dataset_root, "train")
    assert data.fans["patient0000_4CH_ED"] == listed
    assert data.fans["patient0001_4CH_ED"] == default_fan("4CH")
    assert data.fan_sources == {"label": 0, "manifest": 1, "default": 2, "damaged": 1}
    folder = DatasetFolder(dataset_root)
    pairs = {pair.stem: pair for pair in folder.pairs("train")}
    assert folder.fan_record(pairs["patient0000_4CH_ED"]) == (listed, None)
    assert folder.fan_record(pairs["patient0001_4CH_ED"]) == (default_fan("4CH"), DAMAGED_FAN_RECORD)
    assert {stem: data.fans[stem] for stem in pairs} == {stem: folder.fan_of(pair) for stem, pair in pairs.items()}

def test_resizing_on_load(dataset_root):
    item = PairedDataset(dataset_root, "train", size=32)[0]
    assert item["image"].shape == (1, 32, 32) and item["label_ids"].shape == (32, 32)
    assert set(item["label_ids"].unique().tolist()) == {0, 1, 2, 3}


def test_augmentation_keeps_image_and_mask_aligned(dataset_root):
    data = PairedDataset(dataset_root, "train", augment=True, seed=7)
    changed = 0
    for epoch in range(3):
        data.set_epoch(epoch)
        for i in range(len(data)):
            item = data[i]
            ids = item["label_ids"]
            assert set(ids.unique().tolist()) <= {0, 1, 2, 3}  # nearest: no new values
            changed += int(not torch.equal(ids, torch.from_numpy(blocky_labels(i).astype(np.int64))))
            image = (item["image"][0] + 1.0) / 2.0
            # inside each class (away from edges) the image has one grey level: the one
            # the shading gave that class, after the gain/gamma of this draw
            levels = []
            for k in range(4):
                inner = ids == k
                for shift in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                    inner = inner & torch.roll(ids == k, shift, (0, 1))
                values = image[inner]
                assert values.numel() > 20
                if k > 0:  # background also holds the black padding brought in by the warp
                    assert values.std() < 0.02, (epoch, i, k, float(values.std()))
                levels.append(float(values.median()))
            assert levels == sorted(levels) and levels[3] - levels[1] > 0.2
    assert changed >= 10  # the geometry does change


def test_augmentation_is_deterministic_and_follows_the_epoch(dataset_root):
    a = PairedDataset(dataset_root, "train", augment=True, seed=1)
    b = PairedDataset(dataset_root, "train", augment=True, seed=1)
    c = PairedDataset(dataset_root, "train", augment=True, seed=2)
    assert torch.equal(a[2]["image"], b[2]["image"])
    assert not torch.equal(a[2]["image"], c[2]["image"])
    first = a[2]["image"]
    a.set_epoch(1)
    assert not torch.equal(first, a[2]["image"])
    a.set_epoch(0)
    assert torch.equal(first, a[2]["image"])


def test_no_left_right_flip_by_default(dataset_root):
    data = PairedDataset(dataset_root, "train", augment=True, seed=0)
    for epoch in range(8):
        data.set_epoch(epoch)
        ids = data[0]["label_ids"]
        xs_cavity = torch.nonzero(ids == 1)[:, 1].float().mean()
        xs_atrium = torch.nonzero(ids == 3)[:, 1].float().mean()
        assert xs_cavity < xs_atrium  # the left block stays left of the right one
    flipped = PairedDataset(dataset_root, "train", augment=True, seed=0, hflip=True)
    sides = set()
    for epoch in range(12):
        flipped.set_epoch(epoch)
        ids = flipped[0]["label_ids"]
        sides.add(bool(torch.nonzero(ids == 1)[:, 1].float().mean() < torch.nonzero(ids == 3)[:, 1].float().mean()))
    assert sides == {True, False}


def test_validation_lists_every_offending_file(tmp_path):
    root = tmp_path / "data"
    good = blocky_labels(0)
    write_pair(root, "train", "ok", shade(good), good)
    write_pair(root, "train", "orphan_image", shade(good), good)
    (root / "train" / "label" / "orphan_image.png").unlink()
    write_pair(root, "train", "orphan_label", shade(good), good)
    (root / "train" / "img" / "orphan_label.png").unlink()
    write_pair(root, "train", "small_mask", shade(good), good[:40, :40].copy())
    bad = good.copy()
    bad[0, 0] = 7
    write_pair(root, "train", "bad_values", shade(good), bad)
    (root / "train" / "img" / "broken.png").write_bytes(b"not a png")
    Image.fromarray(good).save(root / "train" / "label" / "broken.png")
    with pytest.raises(DataError) as info:
        PairedDataset(root, "train")
    message = str(info.value)
    assert "\n" not in message and "5 bad pair(s)" in message
    for fragment in ("img/orphan_image.png: no label map", "label/orphan_label.png: no image",
                     "label/small_mask.png: size 40x40 differs", "label/bad_values.png: value 7 is not a label (allowed: 0-3)",
                     "img/broken.png: unreadable"):
        assert fragment in message, fragment
    assert "ok.png" not in message


def refusal(root) -> DataError:
    with pytest.raises(DataError) as info:
        PairedDataset(root, "train")
    return info.value


def test_label_maps_scaled_for_viewing_are_refused_once_with_their_factor(tmp_path):
    """Masks saved as 0/85/170/255 (or 0-3 times another factor) were refused once per file,
    the same complaint repeated, with no advice."""
    good = blocky_labels(0)
    for factor, root in ((85, tmp_path / "by85"), (2, tmp_path / "by2")):
        for stem in ("a", "b", "c"):
            write_pair(root, "train", stem, shade(good), good * factor)
        message = str(refusal(root))
        held = ", ".join(str(v * factor) for v in (0, 1, 2)) + f" and {3 * factor}"
        assert message == (f"{root}: 3 label maps hold values other than the labels 0-3, e.g. train/label/a.png "
                           f"holds {held}: labels 0-3 multiplied by {factor}, as saved for viewing; "
                           f"divide them by {factor}")


def test_pictures_in_the_label_folder_are_refused_once_in_each_front_end_s_words(tmp_path):
    from cardigan_app.wording import STUDIO_WORDS

    good = blocky_labels(0)
    picture = np.arange(SIZE * SIZE, dtype=np.uint32).reshape(SIZE, SIZE).astype(np.uint8)
    for stem in ("a", "b"):
        write_pair(tmp_path, "train", stem, shade(good), picture)
    error = refusal(tmp_path)
    start = (f"{tmp_path}: 2 label maps hold values other than the labels 0-3, e.g. train/label/a.png holds "
             "256 grey levels from 0 to 255: a picture, not a label map; put masks of 0-3 in their place (")
    assert str(error) == start + ("`cardigan prepare` makes them from a CAMUS source, whose masks are the "
                                  "*_gt files)")
    assert error.said(STUDIO_WORDS) == start + ("Data \u203a Prepare dataset\u2026 makes them from a CAMUS "
                                                "source, whose masks are the *_gt files)")


def test_a_binary_mask_is_not_taken_for_scaled_labels_and_mixed_causes_are_said_of_one(tmp_path):
    good = blocky_labels(0)
    write_pair(tmp_path, "train", "a", shade(good), (good > 0).astype(np.uint8) * 255)
    write_pair(tmp_path, "train", "b", shade(good), good * 85)
    write_pair(tmp_path, "train", "ok", shade(good), good)
    assert str(refusal(tmp_path)) == (
        f"{tmp_path}: 2 label maps hold values other than the labels 0-3, e.g. train/label/a.png: value 255 is "
        "not a label (allowed: 0-3); relabel it to 0 background, 1 LV cavity, 2 myocardium or 3 left atrium")


def test_folder_problems(tmp_path, dataset_root):
    with pytest.raises(DataError, match="no such folder"):
        PairedDataset(tmp_path / "nothing")
    with pytest.raises(DataError, match="no test/img and test/label"):
        PairedDataset(dataset_root, "test")
    with pytest.raises(DataError, match="unknown split"):
        PairedDataset(dataset_root, "training")
    big = blocky_labels(0, 96)
    write_pair(dataset_root, "train", "bigger", shade(big), big)
    with pytest.raises(DataError, match="different sizes"):
        PairedDataset(dataset_root, "train")
    assert len(PairedDataset(dataset_root, "train", size=SIZE)) == 5
    (dataset_root / "manifest.json").write_text("{ broken")
    with pytest.raises(DataError, match="unreadable manifest"):
        PairedDataset(dataset_root, "train", size=SIZE)


def test_prepared_phantom_with_manifest(tmp_path):
    from engine.data.phantom import write_phantom

    write_phantom(tmp_path / "ph", count=3, size=48, seed=0, views="4CH", phases="ED")
    data = PairedDataset(tmp_path / "ph", "train")
    assert data.manifest["kind"] == "cardigan-prepared-dataset"
    assert json.loads((tmp_path / "ph" / "manifest.json").read_text())["counts"]["train"] == len(data)
    item = data[0]
    assert item["image"].shape == (1, 48, 48)
    blood = item["image"][0][item["label_ids"] == 1].mean()
    myo = item["image"][0][item["label_ids"] == 2].mean()
    assert myo > blood + 0.2  # the wall echoes brighter than the blood pool


def test_label_maps_in_other_png_modes_give_the_ids_the_studio_reads(tmp_path):
    """A 1-bit mask is 0/1 (not the 0/255 of a grey conversion); a grey palette whose entries
    an optimiser reordered gives its grey levels, as File > Open reads it."""
    from engine.maskio import read_label_png

    root = tmp_path / "data"
    labels = blocky_labels(0)
    write_pair(root, "train", "one_bit", shade(labels), labels)
    Image.fromarray(labels == 1).save(root / "train" / "label" / "one_bit.png")
    write_pair(root, "train", "palette", shade(labels), labels)
    reordered = Image.fromarray((3 - labels).astype(np.uint8), "P")  # index k shows grey 3 - k
    reordered.putpalette([v for k in range(4) for v in (3 - k,) * 3])
    reordered.save(root / "train" / "label" / "palette.png")
    data = PairedDataset(root, "train")
    for index, stem in enumerate(data.stems):
        item = data[index]
        expected = read_label_png(root / "train" / "label" / f"{stem}.png")
        assert np.array_equal(item["label_ids"].numpy(), expected), stem
        assert torch.equal(item["label"].sum(0), torch.ones(SIZE, SIZE))  # one class per pixel
    assert np.array_equal(data[data.stems.index("palette")]["label_ids"].numpy(), labels)


def test_a_16_bit_image_is_refused_not_read_as_white(tmp_path):
    root = tmp_path / "data"
    labels = blocky_labels(0)
    write_pair(root, "train", "deep", shade(labels), labels)
    Image.fromarray(shade(labels).astype(np.uint16) * 200).save(root / "train" / "img" / "deep.png")
    with pytest.raises(DataError, match=r"img/deep.png: not an 8-bit image \(mode I;16"):
        PairedDataset(root, "train")
