"""A mask painted on one slice of a volume of several (a loop loaded in ITK-SNAP or 3D Slicer
as a 3-D image): the studio says which slice it took and shows the image's same slice under it."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtWidgets import QMessageBox

from engine.itksnap_workspace import write_workspace
from label_maps import small_heart


@pytest.fixture(autouse=True)
def errors(monkeypatch):
    """The error boxes shown, recorded instead of waiting for a click."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _parent, _title, text, *a: shown.append(text)))
    return shown


def loop_with_one_painted_slice(tmp_path, painted: int, count: int = 5):
    labels = small_heart()
    images = np.stack([np.full(labels.shape, 40 * k + 10, np.uint8) for k in range(count)])
    masks = np.zeros(images.shape, np.uint8)
    masks[painted] = labels
    sitk.WriteImage(sitk.GetImageFromArray(images), str(tmp_path / "loop.nii.gz"))
    sitk.WriteImage(sitk.GetImageFromArray(masks), str(tmp_path / "loop_seg.nii.gz"))
    return labels, images


def test_a_workspace_over_a_loop_shows_the_painted_slice_of_its_image(window, tmp_path):
    labels, images = loop_with_one_painted_slice(tmp_path, painted=3)
    write_workspace(tmp_path / "case.itksnap", tmp_path / "loop.nii.gz", tmp_path / "loop_seg.nii.gz")
    assert window.files.open_workspace(tmp_path / "case.itksnap", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert np.array_equal(window.reference_image, images[3])
    assert "slice 4 of 5" in window.statusBar().currentMessage()


def test_a_volume_with_one_painted_slice_says_which_it_took(window, tmp_path):
    labels, _ = loop_with_one_painted_slice(tmp_path, painted=2)
    assert window.files.open_path(tmp_path / "loop_seg.nii.gz", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert "slice 3 of 5" in window.statusBar().currentMessage()


def test_a_workspace_painted_on_two_frames_opens_them_as_key_frames(window, tmp_path):
    labels, images = loop_with_one_painted_slice(tmp_path, painted=1)
    masks = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "loop_seg.nii.gz")))
    masks[4] = np.where(labels == 1, 0, labels)  # a smaller cavity: systole
    sitk.WriteImage(sitk.GetImageFromArray(masks), str(tmp_path / "loop_seg.nii.gz"))
    write_workspace(tmp_path / "case.itksnap", tmp_path / "loop.nii.gz", tmp_path / "loop_seg.nii.gz")
    assert window.files.open_workspace(tmp_path / "case.itksnap", confirmed=True)
    frames = window.key_frames.frames
    assert np.array_equal(frames["ED"].labels, labels) and np.array_equal(frames["ES"].labels, masks[4])
    assert np.array_equal(window.reference_image, images[1])
