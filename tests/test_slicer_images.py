"""A 3D Slicer segmentation opened over the image its scene saved beside it: found by its name
(or as the folder's one image), never guessed between two, and said in a note either way."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from cardigan_app.mask_reading import images_beside, read_mask_file
from engine.anatomy import template_mask
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


@pytest.mark.parametrize("segmentation, images", [("case.seg.nrrd", ["case.nii.gz", "case.nrrd"]),
                                                   ("Segmentation.seg.nrrd", ["A.nrrd", "B.nrrd"])])
def test_two_images_beside_a_segmentation_are_never_guessed_between(tmp_path, labels, segmentation, images):
    write_segmentation(tmp_path / segmentation, labels)
    for name in images:
        write_image(tmp_path / name, grey())
    read = read_mask_file(tmp_path / segmentation)
    assert read.frames is None and images_beside(tmp_path / segmentation) is None
    assert list(read.notes) == [f"{segmentation}: {images[0]} and {images[1]} lie beside it; which one it was "
                                "drawn on cannot be told, so no image was brought under it"]


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
