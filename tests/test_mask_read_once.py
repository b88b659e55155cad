"""Each file a mask is read from is opened once, or as few times as its kind needs: a label PNG
once for its labels, its fan and its heart (by an export's masks folder, by the studio's open:
File > Open, a dropped file, the ES frame beside an ED one, and by a dataset's check of its
pairs); an ITK-SNAP workspace's segmentation once for its labels, its geometry and a NRRD's
segment names (by the studio and by ``cardigan synthesize``); a DICOM echo named ``.png``
twice, for its marker and for the read that sizes and decodes it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from engine.anatomy import ShapeModel
from engine.anatomy.heart import ANATOMY_KEY, anatomy_record
from engine.fan import FAN_KEY, default_fan
from engine.maskio import read_label_png_and_text, write_label_png


def heart_png(path: Path, phase: str = "ED", size: int = 64) -> dict:
    """A label PNG of a drawn heart carrying its fan and anatomy record; the record."""
    model = ShapeModel.default()
    heart, fan = model.draw(3), default_fan("4CH")
    record = anatomy_record(heart, "4CH", 0.0 if phase == "ED" else 1.0)
    write_label_png(path, model.mask(heart, "4CH", phase, size, fan=fan),
                    text={FAN_KEY: fan.to_json(), ANATOMY_KEY: json.dumps(record)})
    return record


def test_opens_counts_a_file_opened_by_name_by_pathlib_or_by_simpleitk_once_each(tmp_path, opens):
    """The ``opens`` fixture sees every way the code opens a file, each open once."""
    import io

    import SimpleITK as sitk

    path = tmp_path / "counted.nrrd"
    sitk.WriteImage(sitk.Image(4, 4, sitk.sitkUInt8), str(path))
    opens.clear()
    with open(path, "rb"), io.open(path, "rb"), path.open("rb"):
        pass
    path.read_bytes()
    path.read_text(errors="ignore")
    sitk.ReadImage(str(path))
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    assert opens == {path.resolve(): 7}


def test_a_label_png_and_its_text_are_read_with_one_open(tmp_path, opens):
    path = tmp_path / "p_4CH_ED.png"
    heart_png(path)
    opens.clear()
    labels, text = read_label_png_and_text(path)
    assert labels.any() and set(text) == {FAN_KEY, ANATOMY_KEY}
    assert opens == {path.resolve(): 1}


def test_an_export_reads_each_mask_of_its_folder_with_one_open(tmp_path, opens):
    from engine.export.sources import folder_masks

    masks = tmp_path / "masks"
    masks.mkdir()
    records = {name: heart_png(masks / f"{name}.png", name[-2:]) for name in ("p_4CH_ED", "p_4CH_ES")}
    opens.clear()
    (patient,) = folder_masks(masks)
    assert {item.name: item.anatomy for item in patient.items} == records
    assert all(item.fan == default_fan("4CH") for item in patient.items)
    assert opens == {(masks / f"{name}.png").resolve(): 1 for name in records}


def test_a_dataset_checks_a_label_png_with_one_open(tmp_path, opens):
    from engine.data.dataset import PairedDataset
    from engine.data.phantom import write_phantom

    write_phantom(tmp_path / "data", count=1, size=64, seed=2, workers=1)
    labels = sorted((tmp_path / "data" / "train" / "label").glob("*.png"))
    assert labels
    opens.clear()
    PairedDataset(tmp_path / "data", "train")
    assert all(opens[path.resolve()] == 1 for path in labels), {p.name: opens[p.resolve()] for p in labels}


def test_the_studio_opens_a_label_png_with_its_fan_and_heart_in_one_read(window, tmp_path, opens):
    ed, es = tmp_path / "p_4CH_ED.png", tmp_path / "p_4CH_ES.png"
    record = heart_png(ed)
    es_record = heart_png(es, "ES")
    opens.clear()
    assert window.files.open_path(ed)
    assert window.document.anatomy == record and window.document.fan == default_fan("4CH")
    es_frame = window.key_frames.frames["ES"]
    assert es_frame is not None and es_frame.anatomy == es_record
    assert opens[ed.resolve()] == 1 and opens[es.resolve()] == 1, opens


def test_a_dropped_label_png_is_read_once_for_its_labels_fan_and_heart(window, tmp_path, opens):
    from cardigan_app.mask_reading import read_mask_or_image

    path = tmp_path / "mask.png"
    record = heart_png(path)
    opens.clear()
    read = read_mask_or_image(path)
    assert json.loads(read.text[ANATOMY_KEY]) == record
    assert opens == {path.resolve(): 1}
    assert window.files.open_or_trace(path)
    assert window.document.anatomy == record and np.array_equal(window.document.labels, read.labels)


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """The files Pillow was asked to open as images (each decodes its pixels at most once)."""
    from PIL import Image

    asked: list[str] = []
    real = Image.open

    def counting(file, *args, **kwargs):
        asked.append(Path(getattr(file, "name", file)).name)
        return real(file, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting)
    return asked


def echo_png(path: Path, frames: int = 1) -> np.ndarray:
    """A picture of many grey levels (an echo to trace over, not a label map); its frames."""
    from PIL import Image

    grey = np.random.default_rng(4).integers(0, 256, (frames, 48, 64)).astype(np.uint8)
    pictures = [Image.fromarray(frame) for frame in grey]
    pictures[0].save(path, save_all=frames > 1, append_images=pictures[1:])
    return grey


@pytest.mark.parametrize("frames", [1, 3])  # a still, and an animated PNG's every frame
def test_a_dropped_echo_png_is_opened_and_decoded_once(window, tmp_path, opens, decodes, frames):
    """It was decoded as labels (refused), then opened again for a DICOM marker, then decoded
    again as a picture."""
    from cardigan_app.mask_reading import read_mask_or_image
    from engine.data.trace_image import read_grey_frames

    path = tmp_path / "echo.png"
    grey = echo_png(path, frames)
    opens.clear()
    read = read_mask_or_image(path)
    assert opens == {path.resolve(): 1} and decodes == ["echo.png"]
    assert np.array_equal(read, grey) and np.array_equal(read, read_grey_frames(path))
    opens.clear()
    decodes.clear()
    assert window.open_any(path)
    assert window.document.path is None and window.reference_image is not None
    assert window.references.count == frames
    assert opens == {path.resolve(): 1} and decodes == ["echo.png"]


def test_a_png_to_trace_is_not_opened_to_look_for_a_dicom_marker(tmp_path, opens, decodes):
    from engine.data.trace_image import read_grey_frames

    path = tmp_path / "echo.png"
    grey = echo_png(path)
    opens.clear()
    assert np.array_equal(read_grey_frames(path), grey)
    assert opens == {path.resolve(): 1} and decodes == ["echo.png"]


def test_a_png_refused_both_as_labels_and_as_an_image_says_what_a_mask_would(tmp_path, opens):
    from PIL import Image

    from cardigan_app.mask_reading import read_mask_or_image
    from engine.errors import MaskError

    path = tmp_path / "viewing.png"  # labels 0-3 scaled by 85 for viewing: few grey levels
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) % 4 * 85).astype(np.uint8)).save(path)
    opens.clear()
    with pytest.raises(MaskError, match="multiplied by 85"):
        read_mask_or_image(path)
    assert opens == {path.resolve(): 1}


def test_the_studio_reads_a_slicer_segmentation_once_for_its_labels_geometry_and_segment_names(
        window, tmp_path, opens):
    """Its labels, the geometry of its slice and its segments' names, colours and tags come
    from one read: the header was read twice more for the geometry and the segments."""
    from slicer_files import write_segmentation

    from engine.labels import LV_CAVITY, MYOCARDIUM

    path = tmp_path / "case.seg.nrrd"
    layers = np.zeros((1, 64, 64), np.uint8)
    layers[0, 20:40, 20:40], layers[0, 10:20, 10:50] = 1, 2
    write_segmentation(path, layers, [("Left ventricle", 1, 0), ("Myocardium", 2, 0)])
    opens.clear()
    assert window.files.open_path(path)
    document = window.document
    assert {label: kept.name for label, kept in document.segments.items()} == {
        LV_CAVITY: "Left ventricle", MYOCARDIUM: "Myocardium"}
    assert document.geometry is not None and document.geometry.spacing[:2] == (0.6, 0.6)
    assert opens[path.resolve()] == 1, opens


def volume_mask(folder: Path, kind: str) -> Path:
    """A label volume of one painted slice: a 3D Slicer segmentation or a NIfTI mask."""
    from engine.maskio import write_nifti

    layers = np.zeros((1, 64, 64), np.uint8)
    layers[0, 20:40, 20:40], layers[0, 10:20, 10:50] = 1, 2
    if kind == "seg.nrrd":
        from slicer_files import write_segmentation

        path = folder / "case.seg.nrrd"
        write_segmentation(path, layers, [("Left ventricle", 1, 0), ("Myocardium", 2, 0)])
    else:
        path = folder / "case_gt.nii.gz"
        write_nifti(path, layers[0], spacing_mm=0.5)
    return path


@pytest.mark.parametrize("kind", ["seg.nrrd", "nii.gz"])
def test_synthesize_reads_a_volume_mask_once_for_its_labels_and_geometry(tmp_path, opens, tiny_model, kind):
    """Its header was read a second time for the geometry, and a third by Pillow looking for
    a PNG's text chunks."""
    from engine.cli.main import main
    from engine.maskio import read_volume_header

    path = volume_mask(tmp_path, kind)
    opens.clear()
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(path),
                 "--out", str(tmp_path / "echo.nii.gz"), "--device", "cpu"]) == 0
    assert opens[path.resolve()] == 1, opens
    assert read_volume_header(tmp_path / "echo.nii.gz").spacing[:2] == pytest.approx(read_volume_header(path).spacing[:2])


@pytest.mark.parametrize("kind", ["seg.nrrd", "nii.gz"])
def test_an_export_reads_a_volume_mask_of_its_folder_once_for_its_labels_and_geometry(tmp_path, opens, kind):
    from engine.export.sources import folder_masks

    masks = tmp_path / "masks"
    masks.mkdir()
    path = volume_mask(masks, kind)
    opens.clear()
    (patient,) = folder_masks(masks)
    (item,) = patient.items
    spacing = (0.6, 0.6) if kind == "seg.nrrd" else (0.5, 0.5)
    assert item.geometry is not None and item.geometry.spacing[:2] == pytest.approx(spacing)
    assert opens[path.resolve()] == 1, opens


def test_a_dicom_named_png_is_read_as_dicom_at_once_and_never_decoded_as_a_png(window, tmp_path, opens, decodes):
    """It was decoded as a label PNG, opened again for its marker, decoded as a picture and
    opened for its marker once more before it was read as the DICOM file it is."""
    from test_app_drops import make_dicom_named_png

    from cardigan_app.mask_reading import read_mask_or_image
    from engine.data.trace_image import read_grey_frames

    path = make_dicom_named_png(tmp_path)
    opens.clear()
    read = read_mask_or_image(path)
    assert opens == {path.resolve(): 2} and decodes == []  # its marker, then pydicom's read
    assert read.shape[0] == 2 and np.array_equal(read, read_grey_frames(path))
    opens.clear()
    decodes.clear()
    assert window.open_any(path)
    assert window.document.path is None and window.references.count == 2
    assert opens == {path.resolve(): 2} and decodes == []  # sized by its header in the read, before decoding


def workspace_over_a_loop(folder: Path, suffix: str) -> tuple[Path, Path, np.ndarray]:
    """An ITK-SNAP workspace over a loop painted on its third slice, its segmentation a
    ``suffix`` volume of 0.4 mm pixels: (the workspace, its segmentation, the labels painted)."""
    from test_volume_slices import loop_with_one_painted_slice

    from engine.itksnap_workspace import write_workspace

    labels, _ = loop_with_one_painted_slice(folder, painted=2)
    segmentation = folder / f"seg{suffix}"
    image = sitk.ReadImage(str(folder / "loop_seg.nii.gz"))
    image.SetSpacing((0.4, 0.4, 1.0))
    sitk.WriteImage(image, str(segmentation))
    write_workspace(folder / "case.itksnap", folder / "loop.nii.gz", segmentation)
    return folder / "case.itksnap", segmentation, labels


@pytest.mark.parametrize("suffix, sized", [(".nii.gz", 1), (".nrrd", 0)])
def test_the_studio_reads_a_workspaces_segmentation_once_for_its_labels_and_geometry(window, tmp_path, opens, suffix,
                                                                                    sized):
    """Its header was read again for the geometry, and a third time for a NRRD's segment names
    (``sized``: the opens of a NIfTI header to size the file first, as any NIfTI mask's)."""
    workspace, segmentation, labels = workspace_over_a_loop(tmp_path, suffix)
    opens.clear()
    assert window.files.open_workspace(workspace, confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert window.document.geometry is not None and window.document.geometry.spacing[:2] == pytest.approx((0.4, 0.4))
    assert opens[segmentation.resolve()] == 1 + sized, opens


def test_synthesize_reads_a_workspaces_segmentation_once_for_its_labels_and_geometry(tmp_path, opens, tiny_model,
                                                                                   capsys):
    """Its image kept no geometry: the segmentation's header was not passed along."""
    from engine.cli.main import main
    from engine.maskio import read_volume_header

    workspace, segmentation, _ = workspace_over_a_loop(tmp_path, ".nrrd")
    opens.clear()
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(workspace),
                 "--out", str(tmp_path / "echo.nii.gz"), "--device", "cpu"]) == 0
    assert opens[segmentation.resolve()] == 1, opens
    assert read_volume_header(tmp_path / "echo.nii.gz").spacing[:2] == pytest.approx((0.4, 0.4))
    assert "case.itksnap: the labels of slice 3 of 5" in capsys.readouterr().err


@pytest.mark.parametrize("route", ["dropped", "traced"])
def test_a_dicom_echo_named_png_is_opened_twice_as_the_studio_reads_it(tmp_path, opens, monkeypatch, route):
    """Once its marker was found, its header was read to size it, then the whole file to
    decode it: three opens."""
    from test_dicom_echo import scanner_frames, us_dataset

    from cardigan_app import file_reading
    from cardigan_app.mask_reading import read_mask_or_image
    from engine.data.trace_image import read_grey_frames

    path = tmp_path / "scan.png"
    us_dataset(scanner_frames(2)).save_as(path, enforce_file_format=True)
    read = read_mask_or_image if route == "dropped" else read_grey_frames
    opens.clear()
    frames = file_reading.read_here(lambda: read(path))  # as a file small on disk is read
    assert len(frames) == 2 and opens == {path.resolve(): 2}
    monkeypatch.setattr(file_reading, "READ_AT_ONCE_BYTES", 1000)  # its frames hold more: still sized first
    opens.clear()
    with pytest.raises(file_reading.TooLargeHere):
        file_reading.read_here(lambda: read(path))
    assert opens == {path.resolve(): 2}
