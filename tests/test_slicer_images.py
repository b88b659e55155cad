"""A 3D Slicer segmentation opened over the image its scene saved beside it: found by its name
(or among the folder's images), of several the one on its grid or else the first by name, never
a label map, and said in a note either way."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from cardigan_app.mask_reading import images_beside, read_mask_file
from engine.anatomy import template_mask
from engine.labels import joined
from engine.slicer_images import holds_labels
from engine.slicer_segments import write_segmentation

SIZE = 64
STEP = 0.6 * 256 / SIZE  # the spacing our segmentation of a 64-pixel mask is written with


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    return template_mask("4CH", "ED", seed=1, size=SIZE)


def grey(size: int = SIZE) -> np.ndarray:
    return (np.arange(size * size).reshape(1, size, size) % 251).astype(np.uint8)


def write_image(path, frames: np.ndarray, step: float = STEP, origin=(0.0, 0.0, 0.0)) -> None:
    """A grey volume as a Slicer scene saves its image, on a grid of ``step`` mm from ``origin``."""
    image = sitk.GetImageFromArray(frames)
    image.SetSpacing((step, step, 1.0))
    image.SetOrigin(origin)
    sitk.WriteImage(image, str(path))


@pytest.mark.parametrize("segmentation, image", [("case.seg.nrrd", "case.nrrd"), ("case.seg.nrrd", "case.nii.gz"),
                                                  ("case.seg.nrrd", "case.mha"),
                                                  ("Segmentation.seg.nrrd", "Case.nrrd")])
def test_a_segmentation_opens_over_the_image_its_scene_saved_beside_it(tmp_path, labels, segmentation, image):
    write_segmentation(tmp_path / segmentation, labels)
    write_image(tmp_path / image, grey())
    # neither another segmentation, a mask named as masks are, nor a labelmap Slicer exported is an image
    write_segmentation(tmp_path / "Other.seg.nrrd", labels)
    write_image(tmp_path / "Segmentation-label.nrrd", labels[None])
    write_image(tmp_path / "case_gt.nii.gz", labels[None])
    read = read_mask_file(tmp_path / segmentation)
    assert np.array_equal(read.frames, grey()) and read.source == tmp_path / image
    assert list(read.notes) == [f"{image}, the image saved beside it, shown under it"]
    assert images_beside(tmp_path / segmentation) == tmp_path / image  # read along with it, sized first


@pytest.mark.parametrize("segmentation, elsewhere, on_grid", [
    ("case.seg.nrrd", "case.nii.gz", "case.nrrd"),  # the first by name lies elsewhere
    ("Segmentation.seg.nrrd", "A.nrrd", "B.nrrd")])
@pytest.mark.parametrize("apart", ["origin", "direction", "size"])
def test_of_two_images_beside_a_segmentation_the_one_on_its_grid_is_shown_and_the_other_named(
        tmp_path, labels, segmentation, elsewhere, on_grid, apart):
    write_segmentation(tmp_path / segmentation, labels)
    write_image(tmp_path / on_grid, grey())
    other = sitk.GetImageFromArray(255 - grey(SIZE + 1 if apart == "size" else SIZE))
    other.SetSpacing((STEP, STEP, 1.0))
    other.SetOrigin((STEP, 0.0, 0.0) if apart == "origin" else (0.0, 0.0, 0.0))
    if apart == "direction":
        other.SetDirection((1, 0, 0, 0, -1, 0, 0, 0, -1))
    sitk.WriteImage(other, str(tmp_path / elsewhere))
    read = read_mask_file(tmp_path / segmentation)
    assert np.array_equal(read.frames, grey()) and read.source == tmp_path / on_grid
    assert list(read.notes) == [f"{on_grid}, the image saved beside it, shown under it",
                                f"{segmentation}: {on_grid} taken, the one beside it on its grid; {elsewhere} left"]
    assert images_beside(tmp_path / segmentation) == tmp_path / on_grid


@pytest.mark.parametrize("segmentation, images", [("case.seg.nrrd", ["case.nii.gz", "case.nrrd"]),
                                                   ("case.seg.nrrd", ["case_echo.nrrd", "a.nrrd", "b.nrrd"])])
def test_of_images_beside_a_segmentation_all_on_its_grid_the_first_by_name_is_shown_and_the_others_named(
        tmp_path, labels, segmentation, images):
    """Named after the segmentation first (``case_echo`` before ``a``), then by name."""
    write_segmentation(tmp_path / segmentation, labels)
    for index, name in enumerate(images):
        write_image(tmp_path / name, (grey() + index).astype(np.uint8))
    read = read_mask_file(tmp_path / segmentation)
    assert np.array_equal(read.frames, grey()) and read.source == tmp_path / images[0]
    assert read.notes[1] == (f"{segmentation}: {images[0]} taken, the first by name of the {len(images)} on its "
                             f"grid (those named after it first); {joined(images[1:])} left")


def test_a_label_map_saved_as_the_image_beside_a_segmentation_is_not_shown_as_the_echo(tmp_path, labels):
    write_segmentation(tmp_path / "case.seg.nrrd", labels)
    write_image(tmp_path / "case.nrrd", labels[None])  # the segmentation exported as a labelmap volume
    read = read_mask_file(tmp_path / "case.seg.nrrd")
    assert read.frames is None and images_beside(tmp_path / "case.seg.nrrd") is None
    assert list(read.notes) == ["case.seg.nrrd: case.nrrd beside it holds labels, not an echo: left"]
    write_image(tmp_path / "echo.nii.gz", grey())  # the folder's one image is then the echo
    read = read_mask_file(tmp_path / "case.seg.nrrd")
    assert np.array_equal(read.frames, grey()) and read.source == tmp_path / "echo.nii.gz"
    assert read.notes[1] == "case.seg.nrrd: case.nrrd beside it holds labels, not an echo: left"


def test_an_image_beside_a_segmentation_that_is_not_on_its_grid_is_not_shown_and_said(tmp_path, labels):
    write_segmentation(tmp_path / "case.seg.nrrd", labels)
    write_image(tmp_path / "case.nrrd", grey(48), origin=(500.0, 500.0, 0.0))  # another size, far away
    read = read_mask_file(tmp_path / "case.seg.nrrd")
    assert read.frames is None
    assert read.notes[0] == "case.nrrd beside it is 48 \u00d7 48 pixels and does not lie on the mask's 64 \u00d7 64: " \
                            "not shown under it"


def test_an_image_of_finer_pixels_over_the_same_space_is_laid_on_the_segmentations_pixels(tmp_path, labels):
    write_segmentation(tmp_path / "case.seg.nrrd", labels)
    fine = np.repeat(np.repeat(grey(), 2, axis=1), 2, axis=2)  # each pixel of the mask's grid as 2 x 2
    write_image(tmp_path / "case.nrrd", fine, step=STEP / 2, origin=(-STEP / 4, -STEP / 4, 0.0))
    read = read_mask_file(tmp_path / "case.seg.nrrd")
    assert np.array_equal(read.frames, grey())
    assert read.notes[0] == "case.nrrd, the image saved beside it, shown under it"
    assert "case.nrrd laid on the pixels of case.seg.nrrd" in read.notes[1]


def test_an_image_beside_a_segmentation_left_mixed_with_its_masks_is_read_as_the_old_and_said_once(
        tmp_path, labels, monkeypatch):
    """``case.nii.gz`` beside ``case.seg.nrrd`` is also half of the pair ``case.nii.gz`` and
    ``case_gt.nii.gz``, which a stopped write left mixed: the image read under the segmentation
    put the old one back and nothing said so (its read was the pair's first look, told to no one)."""
    import os
    import shutil

    from engine import fileio
    from engine.maskio import write_nifti_files

    monkeypatch.setattr(fileio, "_pause", lambda seconds: None)
    folder, left = tmp_path / "scene", tmp_path / "left"
    folder.mkdir()
    write_segmentation(folder / "case.seg.nrrd", labels)
    images, masks = folder / "case.nii.gz", folder / "case_gt.nii.gz"
    write_nifti_files([(images, grey()), (masks, labels[None])], spacing_mm=STEP)
    real, renames = os.replace, []

    def killed_at_the_second(source, target):  # the folder as a kill between the pair's renames leaves it
        if not str(target).endswith(".tmp"):  # a writer's own staging is not counted
            renames.append(target)
        if len(renames) == 2:
            shutil.copytree(folder, left)
            raise KeyboardInterrupt
        real(source, target)

    monkeypatch.setattr(os, "replace", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        write_nifti_files([(images, 255 - grey()), (masks, np.zeros_like(labels)[None])], spacing_mm=STEP)
    monkeypatch.setattr(os, "replace", real)
    read = read_mask_file(left / "case.seg.nrrd")
    assert np.array_equal(read.frames, grey())  # the old image
    assert list(read.notes) == ["case.nii.gz: the old file put back beside case_gt.nii.gz: a write of them was "
                                "stopped between the two and had left them mixed",
                                "case.nii.gz, the image saved beside it, shown under it"]


@pytest.mark.parametrize("values, labels_held", [
    (np.array([0, 1, 2, 3]), True), (np.array([0, 1, 7, 16]), True),  # a labelmap Slicer numbered
    (np.array([0, 90]), False), (np.arange(40), False),  # grey levels, however few
    (np.array([0.0, 0.5, 1.0]), False), (np.array([-1, 0, 1]), False)])
def test_a_volume_holds_labels_when_its_first_slice_is_small_whole_numbers(tmp_path, values, labels_held):
    frames = np.resize(values, (2, 8, 8))
    frames[1] = 200  # the second slice is not looked at
    sitk.WriteImage(sitk.GetImageFromArray(frames), str(tmp_path / "v.nrrd"))
    assert holds_labels(tmp_path / "v.nrrd") is labels_held


@pytest.mark.parametrize("first, middle, labels_held", [
    (0, np.arange(64) % 251, False),  # a 3-D echo whose first slice lies outside the scan: black
    (0, np.arange(64) % 4, True),  # a labelmap whose first slice holds no segment
    (0, 0, False)])  # one value throughout: no segment to tell it by
def test_a_first_slice_of_one_value_is_judged_by_the_middle_slice(tmp_path, first, middle, labels_held):
    frames = np.zeros((3, 8, 8), np.uint8)
    frames[0], frames[1], frames[2] = first, np.resize(middle, (8, 8)), 200
    sitk.WriteImage(sitk.GetImageFromArray(frames), str(tmp_path / "v.nrrd"))
    assert holds_labels(tmp_path / "v.nrrd") is labels_held
