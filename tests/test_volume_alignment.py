"""An image whose header places it otherwise than its mask's is laid on the mask's pixels, as
ITK-SNAP and 3D Slicer lay one over the other."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from engine.maskio import Geometry
from engine.volume_alignment import frames_on_mask_grid, shown_turned

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
    assert any("case.nii.gz laid on" in note for note in read.notes)
    assert not any("read as stored" in note for note in read.notes)  # the mask is upright


@pytest.mark.parametrize("direction, shown", [
    (UPRIGHT, None),
    (ROWS_UP, "flipped top to bottom"),
    ((-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), "flipped left to right"),
    ((-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0), "turned by 180\u00b0"),
    ((0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0), "with its rows and columns swapped"),
])
def test_how_viewers_show_a_frame_against_its_storage_order(direction, shown):
    assert shown_turned(Geometry(SPACING, ORIGIN, direction, (ROWS, COLUMNS))) == shown


def test_synthesize_says_when_viewers_show_the_mask_flipped(tmp_path, capsys):
    from engine.cli.main import main

    labels = np.zeros((32, 32), np.uint8)
    labels[8:20, 12:20] = 1
    for name, direction in (("upright_gt.nii.gz", (1.0, 0.0, 0.0, 1.0)), ("flipped_gt.nii.gz", (1.0, 0.0, 0.0, -1.0))):
        mask = sitk.GetImageFromArray(labels)
        mask.SetDirection(direction)
        sitk.WriteImage(mask, str(tmp_path / name))
        assert main(["synthesize", "--model", "simulator", "--mask", str(tmp_path / name),
                     "--out", str(tmp_path / f"{name}.png")]) == 0
    said = capsys.readouterr().err
    assert "flipped_gt.nii.gz: read as stored" in said and "flipped top to bottom" in said
    assert "upright_gt.nii.gz: read as stored" not in said


def test_the_studio_says_when_viewers_show_the_mask_it_opens_flipped(tmp_path):
    from cardigan_app.mask_reading import read_mask_file

    labels = np.zeros((ROWS, COLUMNS), np.uint8)
    labels[2:5, 3:6] = 1
    mask = sitk.GetImageFromArray(labels)
    mask.SetDirection((1.0, 0.0, 0.0, -1.0))
    sitk.WriteImage(mask, str(tmp_path / "flipped_gt.nrrd"))
    read = read_mask_file(tmp_path / "flipped_gt.nrrd")
    assert np.array_equal(read.labels, labels)  # as stored
    assert read.notes == ("flipped_gt.nrrd: read as stored, row 0 at the top; its direction has ITK-SNAP and "
                          "3D Slicer show it flipped top to bottom",)


def test_the_studio_says_when_viewers_show_a_loop_of_masks_it_opens_flipped_over_its_images(tmp_path):
    """A loop's masks (two painted frames) stored upside down were read as stored with nothing
    said, while one frame of the same volume was said to be; the loop's images, stored upright,
    are laid on them."""
    from cardigan_app.mask_reading import read_mask_file

    masks = np.zeros((2, ROWS, COLUMNS), np.uint8)
    masks[:, 2:5, 3:6] = 1
    volume = sitk.GetImageFromArray(masks)
    volume.SetSpacing(SPACING)
    volume.SetOrigin(stored_upside_down().origin)
    volume.SetDirection(ROWS_UP)
    sitk.WriteImage(volume, str(tmp_path / "loop_gt.nii.gz"))
    images = np.stack([picture(), 255 - picture()])
    upright = sitk.GetImageFromArray(images)
    upright.SetSpacing(SPACING)
    upright.SetOrigin(ORIGIN)
    sitk.WriteImage(upright, str(tmp_path / "loop.nii.gz"))
    read = read_mask_file(tmp_path / "loop_gt.nii.gz")
    assert np.array_equal(read.labels, masks) and np.array_equal(read.frames, images[:, ::-1])
    assert read.notes == ("loop.nii.gz laid on the pixels of loop_gt.nii.gz as ITK-SNAP and 3D Slicer lay them "
                          "(their headers place them differently)",
                          "loop_gt.nii.gz: read as stored, row 0 at the top; its direction has ITK-SNAP and "
                          "3D Slicer show it flipped top to bottom")
