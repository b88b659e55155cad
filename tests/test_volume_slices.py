"""A mask painted on one slice of a volume of several (a loop loaded in ITK-SNAP or 3D Slicer
as a 3-D image): the studio says which slice it took and shows the image's same slice under it."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from PySide6.QtWidgets import QMessageBox

from engine.itksnap_workspace import write_workspace
from engine.maskio import read_volume_label
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
    assert window.windowTitle().startswith("loop_seg.nii.gz, slice 3[*]")  # the mask's name says it too


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


def slicer_loop_segmentation(path, masks: np.ndarray) -> None:
    """A Slicer segmentation of a loop loaded as a volume, its segments made in another order
    than our ids (Slicer numbers them as they were made)."""
    import slicerio

    slicer_value = {1: 3, 2: 1, 3: 2}  # LV was made last
    voxels = np.zeros(masks.shape, np.uint8)
    for ours, theirs in slicer_value.items():
        voxels[masks == ours] = theirs
    slicerio.write_segmentation(str(path), {
        "voxels": np.transpose(voxels, (2, 1, 0)), "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]), "encoding": "gzip",
        "segments": [{"id": f"s{theirs}", "name": name, "labelValue": theirs, "layer": 0}
                     for theirs, name in ((3, "LV"), (1, "Myocardium"), (2, "Left atrium"))]})


def test_a_slicer_segmentation_painted_on_two_frames_opens_them_as_key_frames(window, tmp_path, errors):
    labels = small_heart()
    masks = np.zeros((5, *labels.shape), np.uint8)
    masks[0], masks[3] = labels, np.where(labels == 1, 0, labels)
    slicer_loop_segmentation(tmp_path / "loop.seg.nrrd", masks)
    assert np.array_equal(read_volume_label(tmp_path / "loop.seg.nrrd", loop=True), masks)
    assert window.files.open_path(tmp_path / "loop.seg.nrrd", confirmed=True), errors
    frames = window.key_frames.frames
    assert np.array_equal(frames["ED"].labels, masks[0]) and np.array_equal(frames["ES"].labels, masks[3])


def test_a_slicer_segmentation_painted_on_one_frame_says_which(window, tmp_path):
    labels = small_heart()
    masks = np.zeros((5, *labels.shape), np.uint8)
    masks[2] = labels
    slicer_loop_segmentation(tmp_path / "loop.seg.nrrd", masks)
    assert window.files.open_path(tmp_path / "loop.seg.nrrd", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert "slice 3 of 5" in window.statusBar().currentMessage()


def stack_painted_on_slice_2(labels: np.ndarray):
    """A 4-slice volume at 0.3 × 0.15 × 2 mm from (10, 20, 5) with ``labels`` on slice 2."""
    masks = np.zeros((4, *labels.shape), np.uint8)
    masks[2] = labels
    volume = sitk.GetImageFromArray(masks)
    volume.SetSpacing((0.3, 0.15, 2.0))
    volume.SetOrigin((10.0, 20.0, 5.0))
    return volume


def test_a_mask_read_from_a_volume_is_exported_where_that_volume_lies(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from cardigan_app.export import SLICER_FILTER

    labels = small_heart()
    volume = stack_painted_on_slice_2(labels)
    volume.SetDirection((-1, 0, 0, 0, -1, 0, 0, 0, 1))  # as a NIfTI from an RAS affine
    sitk.WriteImage(volume, str(tmp_path / "case_gt.nii.gz"))
    assert window.files.open_path(tmp_path / "case_gt.nii.gz", confirmed=True)
    for name, chosen in (("for_slicer", SLICER_FILTER), ("for_itksnap.nii.gz", "")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, n=name, c=chosen, **k: (str(tmp_path / n), c)))
        assert window.exporter.export_mask()
    for written in (tmp_path / "for_slicer.seg.nrrd", tmp_path / "for_itksnap.nii.gz"):
        image = sitk.ReadImage(str(written))
        assert np.array_equal(np.squeeze(sitk.GetArrayFromImage(image)), labels)
        assert image.GetSpacing() == pytest.approx((0.3, 0.15, 2.0))
        assert image.GetOrigin() == pytest.approx((10.0, 20.0, 9.0))  # slice 2, 2 mm apart
        assert image.GetDirection() == pytest.approx((-1, 0, 0, 0, -1, 0, 0, 0, 1))


@pytest.mark.parametrize("loop", [False, True])
def test_a_volume_of_several_values_per_pixel_is_refused_for_what_it_is(tmp_path, loop):
    from engine.errors import MaskError

    labels = small_heart()
    sitk.WriteImage(sitk.GetImageFromArray(np.stack([labels] * 3, -1), isVector=True), str(tmp_path / "rgb.nrrd"))
    with pytest.raises(MaskError, match="holds 3 values per pixel .*a colour image") as caught:
        read_volume_label(tmp_path / "rgb.nrrd", loop=loop)
    assert "\n" not in str(caught.value)


def test_synthesize_says_which_slice_it_took_and_writes_the_image_where_it_lies(tmp_path, capsys):
    from engine.cli.main import main

    labels = small_heart()
    volume = stack_painted_on_slice_2(labels)
    sitk.WriteImage(volume, str(tmp_path / "stack_gt.nii.gz"))
    out = tmp_path / "echo.nii.gz"
    assert main(["synthesize", "--model", "simulator", "--mask", str(tmp_path / "stack_gt.nii.gz"),
                 "--out", str(out)]) == 0
    assert "slice 3 of 4" in capsys.readouterr().err
    image = sitk.ReadImage(str(out))
    assert image.GetSpacing() == pytest.approx((0.3, 0.15, 2.0))
    assert image.GetOrigin() == pytest.approx((10.0, 20.0, 9.0))


def test_saving_a_volume_mask_as_png_says_once_that_its_spacing_is_not_kept(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    volume = sitk.GetImageFromArray(small_heart()[None])
    volume.SetSpacing((0.3, 0.15, 1.0))
    sitk.WriteImage(volume, str(tmp_path / "case_gt.nii.gz"))
    assert window.files.open_path(tmp_path / "case_gt.nii.gz", confirmed=True)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "case.png"), "")))
    assert window.files.save()
    said = window.statusBar().currentMessage()
    assert "PNG keeps no spacing" in said and "0.30 \u00d7 0.15 mm" in said
    assert window.files.save()  # to the PNG now: nothing more is lost, nothing said again
    assert "spacing" not in window.statusBar().currentMessage()
    assert window.document.geometry is not None  # an export as NIfTI still lays it where it was


def test_export_from_volumes_names_the_slices_taken_and_writes_nifti_where_the_masks_lie(tmp_path, capsys):
    from engine.cli.main import main

    labels = small_heart()
    masks = tmp_path / "masks"
    masks.mkdir()
    for name, painted in (("p1_4CH_ED", 2), ("p1_4CH_ES", 0)):
        stack = np.zeros((3, *labels.shape), np.uint8)
        stack[painted] = labels
        volume = sitk.GetImageFromArray(stack)
        volume.SetSpacing((0.3, 0.15, 2.0))
        volume.SetOrigin((10.0, 20.0, 5.0))
        sitk.WriteImage(volume, str(masks / f"{name}.nii.gz"))
    out = tmp_path / "out"
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--out", str(out),
                 "--format", "nifti", "--border-jitter", "0"]) == 0
    notes = capsys.readouterr().err
    assert "p1_4CH_ED.nii.gz slice 3 of 3" in notes and "p1_4CH_ES.nii.gz slice 1 of 3" in notes
    written = sorted((out / "database_nifti").rglob("*_4CH_ED*.nii.gz"))
    assert len(written) == 2  # the image and its mask
    for path in written:
        image = sitk.ReadImage(str(path))
        assert image.GetSpacing() == pytest.approx((0.3, 0.15, 2.0))
        assert image.GetOrigin() == pytest.approx((10.0, 20.0, 9.0))  # slice 3, 2 mm apart
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(next(p for p in written if "_gt" in p.name))))
    assert np.array_equal(np.squeeze(mask), labels)


def itksnap_numbered(tmp_path, name: str = "case_gt.nii.gz"):
    """A plain NIfTI painted with ITK-SNAP's labels 4-6 (4 the cavity, 5 the wall, 6 the atrium)."""
    labels = small_heart()
    values = np.where(labels > 0, labels + 3, 0).astype(np.uint8)
    sitk.WriteImage(sitk.GetImageFromArray(values[None]), str(tmp_path / name))
    return labels


def label_description(path, names: dict[int, str]) -> None:
    lines = ['0 0 0 0 0 0 0 "Clear Label"'] + [f'{v} 255 0 0 1 1 1 "{n}"' for v, n in names.items()]
    path.write_text("# ITK-SNAP Label Description File\n" + "\n".join(lines) + "\n", encoding="utf-8")


def test_labels_4_to_6_without_names_are_refused_with_the_way_to_go_on(tmp_path):
    from engine.errors import MaskError

    itksnap_numbered(tmp_path)
    with pytest.raises(MaskError, match=r"label values 4, 5 and 6 are not ours .*relabel them to 1-3, or put "
                                        r"the ITK-SNAP label description .* beside it") as caught:
        read_volume_label(tmp_path / "case_gt.nii.gz")
    assert "\n" not in str(caught.value)


def test_labels_4_to_6_are_mapped_by_a_label_description_beside_the_volume(window, tmp_path, capsys):
    from engine.cli.main import main

    labels = itksnap_numbered(tmp_path)
    label_description(tmp_path / "labels.txt", {4: "LV cavity", 5: "Myo", 6: "Left atrium"})
    said: list[str] = []
    assert np.array_equal(read_volume_label(tmp_path / "case_gt.nii.gz", notify=said.append), labels)
    assert len(said) == 1 and "4 'LV cavity' \u2192 1" in said[0] and "labels.txt" in said[0]
    assert window.files.open_path(tmp_path / "case_gt.nii.gz", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert "by the names in labels.txt" in window.statusBar().currentMessage()
    assert main(["synthesize", "--model", "simulator", "--mask", str(tmp_path / "case_gt.nii.gz"),
                 "--out", str(tmp_path / "echo.png")]) == 0
    assert "6 'Left atrium' \u2192 3 left atrium" in capsys.readouterr().err


def test_a_dropped_volume_says_how_its_labels_were_mapped_as_file_open_does(window, tmp_path):
    """Dropped on the window, the labels were mapped by name without a word; a label PNG in
    ids 0-3 whose description names 1 the wall and 2 the cavity was taken as ours, dropped or
    opened."""
    from engine.maskio import write_label_png

    labels = itksnap_numbered(tmp_path)
    label_description(tmp_path / "labels.txt", {4: "LV cavity", 5: "Myo", 6: "Left atrium"})
    assert window.open_any(tmp_path / "case_gt.nii.gz")
    assert np.array_equal(window.document.labels, labels)
    assert "by the names in labels.txt" in window.statusBar().currentMessage()
    (tmp_path / "png").mkdir()
    write_label_png(tmp_path / "png" / "case_gt.png", np.choose(labels, [0, 2, 1, 3]).astype(np.uint8))
    label_description(tmp_path / "png" / "case_gt.txt", {1: "Myocardium", 2: "LV", 3: "Left atrium"})
    for opened in (window.open_any, lambda path: window.files.open_path(path, confirmed=True)):
        window.set_document(type(window.document)(np.zeros_like(labels)))
        assert opened(tmp_path / "png" / "case_gt.png")
        assert np.array_equal(window.document.labels, labels)
        assert "2 'LV' \u2192 1 LV cavity, by the names in case_gt.txt" in window.statusBar().currentMessage()


def test_a_workspace_with_default_label_names_takes_them_from_a_description_beside_it(window, tmp_path):
    labels = itksnap_numbered(tmp_path, "seg.nii.gz")
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((1, *labels.shape), np.uint8)), str(tmp_path / "image.nii.gz"))
    write_workspace(tmp_path / "case.itksnap", tmp_path / "image.nii.gz", tmp_path / "seg.nii.gz")
    text = (tmp_path / "case.itksnap").read_text()  # a table of ITK-SNAP's default names, as a new workspace has
    for label in ("LV cavity", "Myocardium", "Left atrium"):
        text = text.replace(f'value="{label}"', 'value="Label 9"')
    (tmp_path / "case.itksnap").write_text(text)
    label_description(tmp_path / "case_labels.txt", {4: "LV", 5: "Myocardium", 6: "LA"})
    assert window.files.open_workspace(tmp_path / "case.itksnap", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert "case_labels.txt" in window.statusBar().currentMessage()


def cropped_slicer_segmentation(path, offset_text: str | None = "6 10 0") -> np.ndarray:
    """A segmentation Slicer saved cropped to its segments: a heart in a 48 x 64 image of
    0.3 x 0.15 mm pixels whose first voxel lies at (10, 20, 5), the block saved where it starts."""
    import slicerio

    labels = np.zeros((64, 48), np.uint8)
    labels[10:50, 6:38] = small_heart()
    rows, cols = np.nonzero(labels)
    block = labels[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    corner = np.array([10.0, 20.0, 5.0]) + np.array([0.3 * cols.min(), 0.15 * rows.min(), 0.0])
    ijk_to_lps = np.diag([0.3, 0.15, 2.0, 1.0])
    ijk_to_lps[:3, 3] = corner  # the header describes the saved block
    segmentation = {
        "voxels": block.T[..., None], "ijkToLPS": ijk_to_lps, "encoding": "gzip",
        "segments": [{"id": f"s{v}", "name": name, "labelValue": v, "layer": 0}
                     for v, name in ((1, "LV"), (2, "Myocardium"), (3, "LA"))],
    }
    if offset_text is not None:
        segmentation["conversionParameters"] = [{"name": "Reference image geometry", "description": "geometry",
                                                 "value": "0.3;0;0;10;0;0.15;0;20;0;0;2;5;0;0;0;1;0;47;0;63;0;0;"}]
        segmentation["referenceImageExtentOffset"] = [int(cols.min()), int(rows.min()), 0]
    slicerio.write_segmentation(str(path), segmentation)
    return labels


def test_a_cropped_slicer_segmentation_keeps_its_reference_frame_geometry(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    labels = cropped_slicer_segmentation(tmp_path / "cropped.seg.nrrd")
    assert window.files.open_path(tmp_path / "cropped.seg.nrrd", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "back.nii.gz"), "")))
    assert window.exporter.export_mask()
    image = sitk.ReadImage(str(tmp_path / "back.nii.gz"))
    assert np.array_equal(np.squeeze(sitk.GetArrayFromImage(image)), labels)
    assert image.GetSpacing() == pytest.approx((0.3, 0.15, 2.0))
    assert image.GetOrigin() == pytest.approx((10.0, 20.0, 5.0))  # the reference image's first voxel


def test_a_volume_whose_geometry_does_not_fit_its_mask_says_it_was_dropped(tmp_path):
    from cardigan_app.mask_reading import read_mask_file

    path = tmp_path / "cropped.seg.nrrd"
    labels = cropped_slicer_segmentation(path)
    other = np.zeros((labels.shape[0], labels.shape[1] + 8), np.uint8)  # not the frame the header records
    read = read_mask_file(path, other)
    assert read.geometry is None
    assert len(read.notes) == 1 and "spacing and origin were dropped" in read.notes[0]
    assert "48 \u00d7 64" in read.notes[0] and "56 \u00d7 64" in read.notes[0]
    assert read_mask_file(path).notes == ()  # the mask it holds: nothing dropped
