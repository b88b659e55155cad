"""``prepare`` refuses bad sources and outputs with one clear line and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.prepare import detect_format, prepare_dataset
from engine.errors import CardiganError, DataError, MaskError, option
from engine.progress import Cancelled
from test_prepare import SEED_SPLITS, build_camus2019, build_seed_hdf5, names


def leftovers(folder: Path, name: str = "out") -> list[str]:
    """Anything a run left beside its output (staging folders, temp files)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}"))


def run_cli(capsys, *args: str) -> tuple[int, str]:
    rc = main(["prepare", *args])
    err = capsys.readouterr().err
    return rc, err


def assert_one_line_error(rc: int, err: str, *fragments: str, code: int = 1) -> None:
    assert rc == code
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("cardigan: error: ")
    for fragment in fragments:
        assert fragment in last, (fragment, last)


def test_not_an_hdf5_file(tmp_path, capsys):
    source = tmp_path / "notes.hdf5"
    source.write_text("this is not HDF5\n" * 100)
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "not an HDF5 file")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_truncated_hdf5(tmp_path, capsys):
    source = build_seed_hdf5(tmp_path / "camus.hdf5", SEED_SPLITS)
    data = source.read_bytes()
    source.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DataError, match="truncated"):
        prepare_dataset(source, tmp_path / "out")
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, str(source))
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_hdf5_without_the_seed_layout(tmp_path):
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("images", data=np.zeros((3, 8, 8)))
    with pytest.raises(DataError, match="not the seed's HDF5 layout"):
        prepare_dataset(tmp_path / "other.h5", tmp_path / "out")


def test_unknown_folder_layout(tmp_path, capsys):
    source = tmp_path / "src"
    (source / "pictures").mkdir(parents=True)
    (source / "pictures" / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(DataError, match="unknown layout"):
        detect_format(source)
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "unknown layout")
    rc, err = run_cli(capsys, "--source", str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "no such file or folder")


def test_forced_format_that_does_not_fit(tmp_path, capsys):
    hdf5 = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    camus = build_camus2019(tmp_path / "camus", names(1, 2))
    words = {option("format"): "the format", option("sequences"): "keeping sequences"}
    with pytest.raises(DataError, match="needs the release folder") as forced:
        prepare_dataset(hdf5, tmp_path / "out", format="camus2019")
    assert forced.value.said(words) == f"{hdf5}: the format camus2019 needs the release folder, this is a file"
    with pytest.raises(DataError, match="needs the HDF5 file") as forced:
        prepare_dataset(camus, tmp_path / "out", format="hdf5")
    assert forced.value.said(words) == f"{camus}: the format hdf5 needs the HDF5 file, this is a folder"
    with pytest.raises(DataError, match="has no half sequences") as forced:
        prepare_dataset(camus, tmp_path / "out", sequences=True)
    assert forced.value.said(words).startswith(f"{camus}: keeping sequences needs a CAMUS 2023")
    rc, err = run_cli(capsys, "--source", str(camus), "--out", str(tmp_path / "out"), "--format", "hdf5")
    assert_one_line_error(rc, err, f"{camus}: --format hdf5 needs the HDF5 file, this is a folder")
    assert len(err.strip().splitlines()) == 1, err
    rc, err = run_cli(capsys, "--source", str(camus), "--out", str(tmp_path / "out"), "--sequences")
    assert_one_line_error(rc, err, f"{camus}: --sequences needs a CAMUS 2023")
    with pytest.raises(DataError, match="no patients"):
        prepare_dataset(camus, tmp_path / "out", format="camus2023")
    assert leftovers(tmp_path) == []


def test_mismatched_image_and_mask_sizes(tmp_path, capsys):
    def shrink_gt(split, name, view, im, gt):
        return im, gt[:, :60] if name == "patient0006" else gt

    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS, tamper=shrink_gt)
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "mismatched sizes", "patient0006")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []

    def crop(name, view, instant, image, labels):
        return image, labels[:-2] if name == "patient0002" and instant == "ES" else labels

    camus = build_camus2019(tmp_path / "camus", names(1, 3), tamper=crop)
    with pytest.raises(DataError, match=r"patient0002_2CH_ES_gt\.mhd: mismatched sizes, image 72x94 but label map 72x92"):
        prepare_dataset(camus, tmp_path / "out2")
    assert leftovers(tmp_path, "out2") == []


def test_label_values_outside_the_table(tmp_path, capsys):
    def bad(split, name, view, im, gt):
        if name == "patient0003" and view == "4CH":
            gt = gt.copy()
            gt[1, 0, 0] = 5
        return im, gt

    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS, tamper=bad)
    with pytest.raises(MaskError, match=r"patient0003/4CH/gt: value 5 is not a label"):
        prepare_dataset(source, tmp_path / "out", workers=2)
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "value 5 is not a label")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []

    def bad_camus(name, view, instant, image, labels):
        return image, np.where(labels == 3, 9, labels).astype(np.uint8) if name == "patient0002" else labels

    camus = build_camus2019(tmp_path / "camus", names(1, 2), tamper=bad_camus)
    with pytest.raises(MaskError, match=r"patient0002_.*_gt\.mhd: value 9 is not a label"):
        prepare_dataset(camus, tmp_path / "out")


def test_unwritable_output(tmp_path, capsys):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(blocker / "out"))
    assert_one_line_error(rc, err, str(blocker))
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(blocker))
    assert err.strip() == (f"cardigan: error: {blocker}: is a file, but --out is a folder; "
                           f"name a new folder, such as {tmp_path / 'file_2'}")  # file: taken by --out itself
    assert rc == 1 and blocker.read_text() == "x"


def test_out_named_as_a_file_is_refused_not_made_a_folder(tmp_path, capsys):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "new.png"))
    assert rc == 1 and err.strip() == (f"cardigan: error: {tmp_path / 'new.png'}: is named as a file, but --out "
                                       f"is a folder; name a new folder, such as {tmp_path / 'new'}")
    assert not (tmp_path / "new.png").exists() and leftovers(tmp_path, "new.png") == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_parent(tmp_path, capsys):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        rc, err = run_cli(capsys, "--source", str(source), "--out", str(parent / "out"))
        assert_one_line_error(rc, err, "not writable")
    finally:
        parent.chmod(0o700)


def test_existing_output_needs_overwrite_and_must_be_a_dataset(tmp_path, capsys):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    out = tmp_path / "out"
    prepare_dataset(source, out, size=32, instants="ED")
    before = sorted(p.name for p in (out / "train" / "img").iterdir())
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(out), "--size", "32")
    assert_one_line_error(rc, err, "already exists", "--overwrite")
    assert len(err.strip().splitlines()) == 1, err  # refused before the note on the source
    assert sorted(p.name for p in (out / "train" / "img").iterdir()) == before

    rc, err = run_cli(capsys, "--source", str(source), "--out", str(out), "--size", "32",
                      "--instants", "ES", "--overwrite")
    assert rc == 0, err
    assert all(name.endswith("_ES.png") for name in os.listdir(out / "train" / "img"))
    assert leftovers(tmp_path) == []

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(precious), "--overwrite")
    assert_one_line_error(rc, err, "not a prepared dataset")
    assert (precious / "thesis.tex").read_text() == "do not delete"

    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_dataset(source, empty, size=32)["counts"]["train"] == 16


def test_interrupted_run_leaves_no_dataset(tmp_path):
    splits = {"train": names(1, 12), "valid": names(20, 2), "test": names(30, 2)}
    source = build_seed_hdf5(tmp_path / "s.hdf5", splits)
    for workers in (1, 2):
        seen = []
        with pytest.raises(Cancelled):
            prepare_dataset(source, tmp_path / "out", size=32, workers=workers,
                            progress=seen.append, should_stop=lambda: len(seen) >= 2)
        assert not (tmp_path / "out").exists()
        assert leftovers(tmp_path) == []

    # an interrupted --overwrite keeps the previous dataset whole
    prepare_dataset(source, tmp_path / "out", size=32, instants="ED")
    with pytest.raises(Cancelled):
        prepare_dataset(source, tmp_path / "out", size=48, overwrite=True, should_stop=lambda: True)
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert len(os.listdir(tmp_path / "out" / "train" / "img")) == 12 * 2
    assert leftovers(tmp_path) == []


def test_bad_options(tmp_path, capsys):
    source = build_seed_hdf5(tmp_path / "s.hdf5", SEED_SPLITS)
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "o"), "--views", "3CH")
    assert_one_line_error(rc, err, "argument --views: unknown view '3CH'", code=2)  # 2: as the line is read
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "o"), "--size", "8")
    assert_one_line_error(rc, err, "argument --size: must be between", code=2)
    with pytest.raises(CardiganError, match="unknown format"):
        prepare_dataset(source, tmp_path / "o", format="dicom")
    assert not (tmp_path / "o").exists()


def test_image_values_outside_the_expected_range(tmp_path):
    def brighten(split, name, view, im, gt):
        if name == "patient0002":
            im = im.copy()
            im[0, 0, 0] = 1.5
        if name == "patient0006":
            im = im.copy()
            im[1, 3, 3] = np.nan
        return im, gt

    source = build_seed_hdf5(tmp_path / "s.hdf5", {"train": names(1, 2)}, tamper=brighten)
    with pytest.raises(DataError, match=r"patient0002/2CH/im: float image values must lie in \[0, 1\]"):
        prepare_dataset(source, tmp_path / "out")
    source = build_seed_hdf5(tmp_path / "t.hdf5", {"test": names(6, 1)}, tamper=brighten)
    with pytest.raises(DataError, match="NaN"):
        prepare_dataset(source, tmp_path / "out")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["hdf5", "camus2019"])
def test_sequences_from_a_source_without_them_is_refused_not_ignored(fmt, tmp_path, capsys):
    source = (build_seed_hdf5(tmp_path / "camus.hdf5", SEED_SPLITS) if fmt == "hdf5"
              else build_camus2019(tmp_path / "camus", names(1, 2)))
    rc, err = run_cli(capsys, "--source", str(source), "--out", str(tmp_path / "out"), "--sequences")
    assert_one_line_error(rc, err, "--sequences", "CAMUS 2023 release")
    assert len(err.strip().splitlines()) == 1, err  # refused before the note on the source
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_nothing_to_prepare_says_why_the_patients_were_left_out(tmp_path, capsys):
    from test_prepare import build_camus2023

    listed_elsewhere = build_camus2023(tmp_path / "camus2023", names(1, 4),
                                       split_lists={"train": ["patient0101"], "valid": ["patient0102"]})
    rc, err = run_cli(capsys, "--source", str(listed_elsewhere), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "no patients to prepare", "patient0001 (not named in any split list)",
                          "and 1 more")
    assert len(err.strip().splitlines()) == 1, err  # refused before the note on the source
    assert "ground truth" not in err.strip().splitlines()[-1]  # they all have it
    no_gt = build_camus2019(tmp_path / "camus2019", [], testing_no_gt=names(1, 2))
    rc, err = run_cli(capsys, "--source", str(no_gt), "--out", str(tmp_path / "out"))
    assert_one_line_error(rc, err, "patient0001 (no ground truth), patient0002 (no ground truth)")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


class SlowDigest:
    """SHA-256 that takes 10 ms per block and notes when each block came."""

    blocks: list[float] = []

    def __init__(self):
        import hashlib

        self._digest = hashlib.sha256()

    def update(self, block: bytes) -> None:
        import time

        time.sleep(0.01)
        SlowDigest.blocks.append(time.monotonic())
        self._digest.update(block)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def test_cancel_stops_the_source_checksum_at_once(tmp_path, monkeypatch):
    """The HDF5 source is hashed beside the patients; a cancel, during the patients or once
    only the hash is left, stops reading the source then and there."""
    import functools
    import time
    from types import SimpleNamespace

    import engine.data.sources as sources
    import engine.fileio as fileio

    source = build_seed_hdf5(tmp_path / "s.hdf5", {"train": names(1, 6)}, shape=(64, 64))
    blocks = -(-source.stat().st_size // 512)  # 512-byte blocks: about 10 s to hash
    monkeypatch.setattr(fileio, "hashlib", SimpleNamespace(sha256=SlowDigest))
    monkeypatch.setattr(sources, "sha256_file", functools.partial(fileio.sha256_file, chunk=512))

    def hashed_after(moment: float) -> int:
        time.sleep(0.3)  # a stray reader would hash a further 30 blocks by now
        return sum(t > moment for t in SlowDigest.blocks)

    # "during": once the hash has begun (on a loaded machine its thread may start after the
    # first patients), so the cancel meets a reader at work
    for name, stop_when in (("during", lambda seen: len(seen) >= 2 and bool(SlowDigest.blocks)),
                            ("after", lambda seen: seen[-1].done == 6)):
        SlowDigest.blocks = []
        seen = []
        with pytest.raises(Cancelled):
            prepare_dataset(source, tmp_path / name, size=32, workers=1, progress=seen.append,
                            should_stop=lambda: stop_when(seen))
        cancelled = time.monotonic()
        assert 0 < len(SlowDigest.blocks) < blocks, name  # reading began, and stopped before the end
        assert hashed_after(cancelled) == 0, name
        assert not (tmp_path / name).exists()
    monkeypatch.undo()
    manifest = prepare_dataset(source, tmp_path / "whole", size=32, workers=1)
    assert manifest["source"]["checksum"]["value"] == fileio.sha256_file(source)
