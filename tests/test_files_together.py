"""Files put in place together: what a write killed midway leaves is cleared by the next one."""

from __future__ import annotations

import os
import time

import numpy as np

from engine.files_together import write_together
from engine.fileio import REPLACING_GRACE_S


def aged(folder, seconds):
    """Give ``folder`` and everything in it a modification time ``seconds`` ago."""
    then = time.time() - seconds
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            os.utime(os.path.join(root, name), (then, then))
    os.utime(folder, (then, then))


def written(staged):
    for file in staged:
        file.write_text(f"new {file.name}")


def test_a_staging_folder_a_killed_write_left_goes_with_the_next_write_once_still(tmp_path):
    image, mask = tmp_path / "case.nii.gz", tmp_path / "case_gt.nii.gz"
    stale, young = tmp_path / ".case.nii.gz.k1ll3d.writing", tmp_path / ".case.nii.gz.l1ve.writing"
    other, users = tmp_path / ".other.nii.gz.k1ll3d.writing", tmp_path / ".case.nii.gz.my.notes.writing"
    for folder in (stale, young, other, users):
        (folder / "inner").mkdir(parents=True)
        (folder / "inner" / "volume.nii.gz").write_bytes(b"half an image")
    for folder in (stale, other, users):
        aged(folder, REPLACING_GRACE_S + 60)
    write_together([image, mask], written)
    assert (image.read_text(), mask.read_text()) == ("new case.nii.gz", "new case_gt.nii.gz")
    # the killed write's folder goes; a live write's, another file's and one not of this form stay
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [image.name, mask.name, young.name, other.name, users.name])


def test_a_staging_folder_a_killed_nifti_write_left_goes_with_the_next_write(tmp_path):
    from engine.maskio import write_nifti

    path = tmp_path / "mask.nii.gz"
    stale = tmp_path / ".mask.nii.gz.k1ll3d.writing"
    stale.mkdir()
    (stale / "volume.nii.gz").write_bytes(b"half a volume")
    aged(stale, REPLACING_GRACE_S + 60)
    write_nifti(path, np.zeros((8, 8), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
