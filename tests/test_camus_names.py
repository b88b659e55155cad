"""CAMUS's ground truth is found by the one naming rule the studio uses for masks
(engine.maskio: ``x`` -> ``x_gt``): frames, half sequences and the patient check agree."""

from __future__ import annotations

import numpy as np
import pytest

from engine import maskio
from engine.data import camus
from engine.maskio import write_nifti


def write_mhd(path, frame: np.ndarray) -> None:
    raw = path.with_suffix(".raw")
    raw.write_bytes(frame.tobytes())
    path.write_text(f"ObjectType = Image\nNDims = 2\nDimSize = {frame.shape[1]} {frame.shape[0]}\n"
                    f"ElementType = MET_UCHAR\nElementDataFile = {raw.name}\n")


@pytest.fixture
def patient(tmp_path):
    """A 2019 frame pair as MetaImage and a 2023 half sequence pair as NIfTI."""
    folder = tmp_path / "patient0001"
    folder.mkdir()
    frame = np.zeros((6, 8), np.uint8)
    write_mhd(folder / "patient0001_4CH_ED.mhd", frame)
    write_mhd(folder / "patient0001_4CH_ED_gt.mhd", frame)
    write_nifti(folder / "patient0001_4CH_half_sequence.nii.gz", np.zeros((3, 6, 8), np.uint8))
    write_nifti(folder / "patient0001_4CH_half_sequence_gt.nii.gz", np.zeros((3, 6, 8), np.uint8))
    return folder


def test_camus_frames_and_sequences_are_found_with_their_ground_truth(patient):
    assert camus.find_frame(patient, "patient0001", "4CH", "ED", gt=True).name == "patient0001_4CH_ED_gt.mhd"
    assert camus.find_frame(patient, "patient0001", "4CH", "ED", gt=False).name == "patient0001_4CH_ED.mhd"
    assert camus.find_frame(patient, "patient0001", "4CH", "ES", gt=True) is None
    assert camus.find_sequence(patient, "patient0001", "4CH", gt=True).name == \
        "patient0001_4CH_half_sequence_gt.nii.gz"
    assert camus.find_sequence(patient, "patient0001", "4CH", gt=False).name == "patient0001_4CH_half_sequence.nii.gz"
    assert camus.has_ground_truth(patient)


@pytest.mark.parametrize("kept", ["patient0001_4CH_ED_gt.mhd", "patient0001_4CH_half_sequence_gt.nii.gz"])
def test_either_kind_of_ground_truth_counts_and_images_alone_do_not(patient, kept):
    for entry in patient.iterdir():
        if entry.name.endswith(("_gt.mhd", "_gt.nii.gz")) and entry.name != kept:
            entry.unlink()
    assert camus.has_ground_truth(patient)
    (patient / kept).unlink()
    assert not camus.has_ground_truth(patient)
    (patient / "notes_gt.txt").write_text("not a frame")
    (patient / "patient0001_4CH_ED_gt.old.nii").write_bytes(b"")  # not a name find_frame gives
    assert not camus.has_ground_truth(patient)


def test_the_ground_truths_mark_is_the_studios_one_rule(patient, monkeypatch):
    monkeypatch.setattr(maskio, "MASKS_MARK", "_seg")
    assert not camus.has_ground_truth(patient)
    assert camus.find_frame(patient, "patient0001", "4CH", "ED", gt=True) is None
    (patient / "patient0001_4CH_half_sequence_gt.nii.gz").rename(patient / "patient0001_4CH_half_sequence_seg.nii.gz")
    assert camus.has_ground_truth(patient)
    assert camus.find_sequence(patient, "patient0001", "4CH", gt=True).name == \
        "patient0001_4CH_half_sequence_seg.nii.gz"
