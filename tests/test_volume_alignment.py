"""An image whose header places it otherwise than its mask's is laid on the mask's pixels, as
ITK-SNAP and 3D Slicer lay one over the other."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from engine.maskio import Geometry
from engine.volume_alignment import frames_on_mask_grid

ROWS, COLUMNS = 12, 9
SPACING = (0.3, 0.15, 1.0)
ORIGIN = (-12.5, 40.25, 0.0)
UPRIGHT = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
ROWS_UP = (1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)


def picture() -> np.ndarray:
    return np.arange(ROWS * COLUMNS, dtype=np.uint8).reshape(ROWS, COLUMNS)


def stored_upside_down() -> Geometry:
    """Where an image stored with its rows reversed lies when its direction runs them upwards:
    over the upright frame at ORIGIN."""
    bottom = (ORIGIN[0], ORIGIN[1] + SPACING[1] * (ROWS - 1), 0.0)
    return Geometry(SPACING, bottom, ROWS_UP, (ROWS, COLUMNS))


def test_frames_on_the_same_grid_come_back_untouched():
    frames = picture()[None]
    grid = Geometry(SPACING, ORIGIN, UPRIGHT, (ROWS, COLUMNS))
    nearly = Geometry((0.30000001192092896, 0.15000000596046448, 1.0), ORIGIN, UPRIGHT, (ROWS, COLUMNS))
    placed, note = frames_on_mask_grid(frames, nearly, grid, "case.nii.gz", "case_gt.nii.gz")
    assert placed is frames and note is None


def test_an_image_stored_upside_down_is_laid_upright_on_an_upright_mask():
    frames = np.stack([picture()[::-1], picture()[::-1] // 2])
    mask = Geometry(SPACING, ORIGIN, UPRIGHT, (ROWS, COLUMNS))
    placed, note = frames_on_mask_grid(frames, stored_upside_down(), mask, "case.nii.gz", "case_gt.nii.gz")
    assert np.array_equal(placed, np.stack([picture(), picture() // 2]))
    assert "case.nii.gz" in note and "case_gt.nii.gz" in note and "ITK-SNAP" in note


def test_an_image_that_lies_nowhere_near_its_mask_is_shown_as_stored_and_said():
    frames = picture()[None]
    far = Geometry(SPACING, (500.0, 500.0, 0.0), UPRIGHT, (ROWS, COLUMNS))
    mask = Geometry(SPACING, ORIGIN, UPRIGHT, (ROWS, COLUMNS))
    placed, note = frames_on_mask_grid(frames, far, mask, "case.nii.gz", "case_gt.nii.gz")
    assert placed is frames and "apart" in note


def test_a_mask_opened_over_an_image_stored_upside_down_shows_it_upright(tmp_path):
    from cardigan_app.mask_reading import read_mask_file

    labels = np.zeros((ROWS, COLUMNS), np.uint8)
    labels[2:5, 3:6] = 1
    image = sitk.GetImageFromArray(np.ascontiguousarray(picture()[::-1]))
    geometry = stored_upside_down()
    image.SetSpacing(SPACING[:2])
    image.SetOrigin(geometry.origin[:2])
    image.SetDirection((1.0, 0.0, 0.0, -1.0))
    mask = sitk.GetImageFromArray(labels)
    mask.SetSpacing(SPACING[:2])
    mask.SetOrigin(ORIGIN[:2])
    sitk.WriteImage(image, str(tmp_path / "case.nii.gz"))
    sitk.WriteImage(mask, str(tmp_path / "case_gt.nii.gz"))
    read = read_mask_file(tmp_path / "case_gt.nii.gz")
    assert np.array_equal(read.labels, labels)
    assert np.array_equal(read.frames[0], picture())
    assert any("case.nii.gz" in note for note in read.notes)
