"""``phantom``: generated patients in the prepared layout or the seed's HDF5 layout."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import main
from engine.data.manifest import read_manifest
from engine.data.phantom import phantom_fan, phantom_pair, write_phantom
from engine.fan import FAN_KEY, Fan
from engine.maskio import read_png_text
from engine.data.prepare import prepare_dataset
from engine.errors import DataError
from engine.progress import Cancelled
from engine.simulator import sector_mask


def read(path):
    return np.asarray(Image.open(path))


def test_folders_layout_content_and_splits(tmp_path):
    events = []
    manifest = write_phantom(tmp_path / "ph", count=6, size=64, seed=3, progress=events.append)
    out = tmp_path / "ph"
    assert read_manifest(out)["counts"] == manifest["counts"]
    assert sum(manifest["counts"].values()) == 6 * 4
    assert [len(manifest["splits"][s]) for s in ("train", "valid", "test")] == [4, 1, 1]
    members = [set(manifest["splits"][s]) for s in ("train", "valid", "test")]
    assert not (members[0] & members[1] or members[0] & members[2] or members[1] & members[2])
    assert manifest["label_values"] == [0, 1, 2, 3]
    assert events[-1].done == events[-1].total == 6
    for split in ("train", "valid", "test"):
        for patient in manifest["splits"][split]:
            index = int(patient[len("patient"):]) - 1
            for view in ("2CH", "4CH"):
                for phase in ("ED", "ES"):
                    stem = f"{patient}_{view}_{phase}"
                    image = read(out / split / "img" / f"{stem}.png")
                    labels = read(out / split / "label" / f"{stem}.png")
                    want_image, want_labels = phantom_pair(3, index, view, phase, 64)
                    assert np.array_equal(labels, want_labels)
                    assert np.array_equal(image, want_image)
                    fan = phantom_fan(3, index, view)
                    assert Fan.from_json(read_png_text(out / split / "label" / f"{stem}.png")[FAN_KEY]) == fan
                    assert not image[~sector_mask(64, 64, fan)].any()


def test_each_label_png_carries_the_heart_it_was_drawn_from(tmp_path):
    """A phantom mask opened on its own (without the manifest) still has its heart: redrawn
    from the record in its PNG, inside its fan, it is the mask itself."""
    import json

    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import ANATOMY_KEY, heart_in_record

    manifest = write_phantom(tmp_path / "ph", count=3, size=64, seed=5)
    model = ShapeModel.default()
    labels = sorted((tmp_path / "ph").glob("*/label/*.png"))
    assert len(labels) == 3 * 4
    for path in labels:
        text = read_png_text(path)
        record = json.loads(text[ANATOMY_KEY])
        patient, view, phase = path.stem.split("_")
        assert record["view"] == view and record["phase"] == (0.0 if phase == "ED" else 1.0)
        heart = heart_in_record(record)
        assert heart is not None and heart.to_dict() == manifest["hearts"][patient]["heart"]
        drawn = model.mask(heart, view, record["phase"], 64, fan=Fan.from_json(text[FAN_KEY]))
        assert np.array_equal(drawn, read(path))


def test_same_data_with_any_number_of_workers_and_seed_matters(tmp_path):
    write_phantom(tmp_path / "a", count=4, size=48, seed=1, workers=1, views="4CH")
    write_phantom(tmp_path / "b", count=4, size=48, seed=1, workers=2, views="4CH")
    write_phantom(tmp_path / "c", count=4, size=48, seed=2, workers=1, views="4CH")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    assert len(files) == 4 * 2 * 2
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    differing = [f for f in files if (tmp_path / "c" / f).is_file()
                 and (tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes()]
    assert differing


def test_hdf5_layout_round_trips_through_prepare(tmp_path):
    import h5py

    manifest = write_phantom(tmp_path / "ph.hdf5", count=5, size=64, seed=0, format="hdf5")
    assert manifest["output"]["path"] == str((tmp_path / "ph.hdf5").resolve())
    with h5py.File(tmp_path / "ph.hdf5", "r") as f:
        assert set(f.keys()) == {"train", "valid", "test"}
        group = f["train"][manifest["splits"]["train"][0]]["4CH"]
        assert group["im"].shape == (2, 64, 64, 1) and group["im"].dtype == np.float32
        assert group["gt"].shape == (2, 64, 64) and group["gt"].dtype == np.uint8
        assert 0.0 <= group["im"][()].min() and group["im"][()].max() <= 1.0
    prepared = prepare_dataset(tmp_path / "ph.hdf5", tmp_path / "prep", size=64)
    assert prepared["splits"] == manifest["splits"]
    patient = manifest["splits"]["valid"][0]
    index = int(patient[len("patient"):]) - 1
    for view in ("2CH", "4CH"):
        for k, phase in enumerate(("ED", "ES")):  # index 0 = ED, 1 = ES
            image, labels = phantom_pair(0, index, view, phase, 64)
            stem = f"{patient}_{view}_{phase}"
            assert np.array_equal(read(tmp_path / "prep" / "valid" / "img" / f"{stem}.png"), image)
            assert np.array_equal(read(tmp_path / "prep" / "valid" / "label" / f"{stem}.png"), labels)


def test_hdf5_into_a_folder_and_refusals(tmp_path):
    manifest = write_phantom(tmp_path, count=1, size=32, format="hdf5")
    assert (tmp_path / "phantom.hdf5").is_file()
    assert manifest["counts"] == {"train": 4, "valid": 0, "test": 0}
    with pytest.raises(DataError, match="already exists"):
        write_phantom(tmp_path / "phantom.hdf5", count=1, size=32, format="hdf5")
    with pytest.raises(DataError, match="both instants"):
        write_phantom(tmp_path / "x.hdf5", count=1, size=32, format="hdf5", phases="ED")
    with pytest.raises(DataError, match="count"):
        write_phantom(tmp_path / "y", count=0)
    with pytest.raises(DataError, match="unknown instant"):
        write_phantom(tmp_path / "y", count=1, phases="MD")


def test_cancelled_phantom_leaves_nothing(tmp_path):
    with pytest.raises(Cancelled):
        write_phantom(tmp_path / "ph", count=12, size=32, workers=1, should_stop=lambda: True)
    with pytest.raises(Cancelled):
        write_phantom(tmp_path / "ph.hdf5", count=12, size=32, format="hdf5", should_stop=lambda: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(("fmt", "out"), [("hdf5", "a/b/x.hdf5"), ("folders", "a/b/data")])
def test_either_format_makes_the_missing_folders_its_output_goes_in(tmp_path, capsys, fmt, out):
    """The HDF5 format refused an output whose folder was missing ("folder does not exist"),
    where the folders format made it."""
    assert main(["phantom", "--out", str(tmp_path / out), "--format", fmt, "--count", "1", "--size", "32"]) == 0, \
        capsys.readouterr().err
    assert (tmp_path / out).is_file() if fmt == "hdf5" else (tmp_path / out / "manifest.json").is_file()


@pytest.mark.parametrize(("fmt", "out"), [("hdf5", "a/b/x.hdf5"), ("folders", "a/b/data")])
def test_a_cancelled_or_failed_phantom_removes_the_folders_it_made(tmp_path, monkeypatch, fmt, out):
    import engine.data.phantom as phantom
    from engine.errors import CardiganError

    (tmp_path / "kept").mkdir()
    with pytest.raises(Cancelled):
        write_phantom(tmp_path / "kept" / out, count=12, size=32, format=fmt, workers=1, should_stop=lambda: True)
    assert list((tmp_path / "kept").iterdir()) == []  # kept was there before: only a/b went

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(phantom, "_tally", broken)
    with pytest.raises(CardiganError, match="no space left"):
        write_phantom(tmp_path / "kept" / out, count=1, size=32, format=fmt, workers=1)
    assert list((tmp_path / "kept").iterdir()) == []


def test_an_hdf5_output_under_a_file_is_one_line(tmp_path):
    (tmp_path / "a").write_text("a file, not a folder")
    with pytest.raises(DataError) as error:
        write_phantom(tmp_path / "a" / "x.hdf5", count=1, size=32, format="hdf5")
    assert str(tmp_path / "a") in str(error.value) and "\n" not in str(error.value)
    assert (tmp_path / "a").is_file()


def test_cli_phantom(tmp_path, capsys):
    rc = main(["phantom", "--out", str(tmp_path / "ph"), "--count", "2", "--size", "32",
               "--views", "2CH", "--phases", "ES"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "warning: no patient in valid or test" in err and "--count 3" in err
    assert sorted(p.name for p in (tmp_path / "ph" / "train" / "img").iterdir()) == \
        ["patient0001_2CH_ES.png", "patient0002_2CH_ES.png"]
    rc = main(["phantom", "--out", str(tmp_path / "ph"), "--count", "2", "--size", "32"])
    err = capsys.readouterr().err
    assert rc == 1 and err.strip().startswith("cardigan: error:") and "already exists" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["phantom", "--help"])
    assert exit_info.value.code == 0
    assert "--format {folders,hdf5}" in capsys.readouterr().out


def test_cli_phantom_out_that_is_a_file_says_to_name_a_folder_or_an_hdf5_file(tmp_path, capsys):
    """A file given as the folders format's --out is refused with the folder to name instead
    (its name without the suffix, numbered while that is taken) or the HDF5 format."""
    picture = tmp_path / "x.png"
    picture.write_bytes(b"mine")
    for taken in ([], ["x"]):
        for name in taken:
            (tmp_path / name).mkdir()
        rc = main(["phantom", "--out", str(picture), "--count", "1", "--size", "32"])
        err = capsys.readouterr().err.strip().splitlines()
        suggested = tmp_path / ("x_2" if taken else "x")
        assert rc == 1 and err == [f"cardigan: error: {picture}: is a file, but --out is a folder for the folders "
                                   f"format; name a new folder, such as {suggested}, or add --format hdf5 and "
                                   "name an .hdf5 file"]
    assert picture.read_bytes() == b"mine" and not (tmp_path / "x_2").exists()


def test_cli_phantom_out_named_as_a_file_is_refused_not_made_a_folder(tmp_path, capsys):
    """A new --out named as a file (x.png, x.nii.gz) is refused for the folders format as a
    file is, rather than becoming a folder of that name; a name with another dot is a folder."""
    for name, suggested in (("new.png", "new"), ("scan.nii.gz", "scan")):
        rc = main(["phantom", "--out", str(tmp_path / name), "--count", "1", "--size", "32"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 1 and err == [f"cardigan: error: {tmp_path / name}: is named as a file, but --out is a folder "
                                   f"for the folders format; name a new folder, such as {tmp_path / suggested}, "
                                   "or add --format hdf5 and name an .hdf5 file"]
        assert not (tmp_path / name).exists()
    assert main(["phantom", "--out", str(tmp_path / "run.v2"), "--count", "1", "--size", "32"]) == 0
    assert (tmp_path / "run.v2" / "manifest.json").is_file()


def test_cli_phantom_warns_only_when_a_split_is_empty(tmp_path, capsys):
    assert main(["phantom", "--out", str(tmp_path / "one"), "--count", "1", "--size", "32",
                 "--views", "4CH", "--phases", "ED"]) == 0
    assert "no patient in valid or test" in capsys.readouterr().err
    assert main(["phantom", "--out", str(tmp_path / "three"), "--count", "3", "--size", "32",
                 "--views", "4CH", "--phases", "ED"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "train 1 pair, valid 1 pair, test 1 pair" in err


def test_hdf5_phantom_keeps_its_hearts_through_prepare(tmp_path):
    manifest = write_phantom(tmp_path / "ph.hdf5", count=3, size=32, seed=5, format="hdf5",
                             views="4CH")
    assert sorted(manifest["hearts"]) == ["patient0001", "patient0002", "patient0003"]
    prepare_dataset(tmp_path / "ph.hdf5", tmp_path / "prep", size=32, views="4CH")
    prepared = read_manifest(tmp_path / "prep")
    assert prepared["hearts"] == manifest["hearts"]
    assert prepared["hearts"]["patient0002"]["ejection_fraction"]["4CH"] > 0


def test_the_folders_format_refuses_an_output_named_as_an_hdf5_file(tmp_path, capsys):
    assert main(["phantom", "--count", "1", "--size", "32", "--out", str(tmp_path / "x.H5")]) == 1
    assert "names an HDF5 file" in capsys.readouterr().err
    assert not (tmp_path / "x.H5").exists()


@pytest.mark.parametrize("name", ["x.h5", "x.HDF5"])
def test_write_phantom_refuses_a_folders_output_named_as_an_hdf5_file(tmp_path, name):
    """The engine call itself refuses it, so no front end can make a folder named x.h5."""
    with pytest.raises(DataError) as refused:
        write_phantom(tmp_path / name, count=1, size=32, views="4CH", phases="ED")
    message = str(refused.value)
    assert "names an HDF5 file" in message and "--format hdf5" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []
    (tmp_path / name).mkdir()  # a folder the name already has is refused as well, and kept
    with pytest.raises(DataError, match="names an HDF5 file"):
        write_phantom(tmp_path / name, count=1, size=32, views="4CH", phases="ED")
    assert list((tmp_path / name).iterdir()) == []
