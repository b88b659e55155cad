"""Echoes as scanners export them (DICOM): the first frame, in grey, cut to its ultrasound
region, ready to trace over (engine.data.dicom_echo)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

from engine.data import dicom_echo
from engine.data.dicom_echo import is_dicom_file, read_dicom_frame, read_dicom_frames
from engine.data.trace_image import image_to_trace, read_grey_frames, read_grey_image
from engine.errors import DataError
from test_trace_image import FAN, echo_like

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"  # Ultrasound Multi-frame Image Storage
REGION = (40, 30, 40 + 210, 30 + 160)  # x0, y0, x1, y1 (inclusive), as the header records it


def scanner_frames(count: int = 3) -> np.ndarray:
    """(frames, 240, 320, 3) RGB: a sector inside REGION, text-like blocks and a green ECG
    line around it, as a scanner's screen capture has."""
    x0, y0, x1, y1 = REGION
    frames = np.zeros((count, 240, 320, 3), np.uint8)
    for index in range(count):
        frames[index, y0:y1 + 1, x0:x1 + 1] = echo_like(FAN, y1 - y0 + 1, x1 - x0 + 1, seed=index)[..., None]
        frames[index, 5:15, 5:90] = 255  # the scanner's labels
        frames[index, 220, :, 1] = 200  # an ECG trace
    return frames


def us_dataset(frames: np.ndarray, regions=(REGION,), syntax=ExplicitVRLittleEndian) -> Dataset:
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = syntax
    meta.MediaStorageSOPClassUID = US_MULTIFRAME
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = US_MULTIFRAME, meta.MediaStorageSOPInstanceUID, "US"
    ds.NumberOfFrames = frames.shape[0]
    ds.Rows, ds.Columns = frames.shape[1:3]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    items = []
    for x0, y0, x1, y1 in regions:
        region = Dataset()
        region.RegionSpatialFormat, region.RegionDataType = 1, 1
        region.RegionLocationMinX0, region.RegionLocationMinY0 = x0, y0
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = x1, y1
        items.append(region)
    if items:
        ds.SequenceOfUltrasoundRegions = items
    ds.PixelData = frames.tobytes()
    return ds


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def test_a_cine_gives_its_first_frame_in_grey_cut_to_its_ultrasound_region(tmp_path):
    frames = scanner_frames()
    us_dataset(frames).save_as(tmp_path / "loop.dcm", enforce_file_format=True)
    image = read_grey_image(tmp_path / "loop.dcm")
    x0, y0, x1, y1 = REGION
    assert image.shape == (y1 - y0 + 1, x1 - x0 + 1)
    expected = luminance(frames[0, y0:y1 + 1, x0:x1 + 1])
    assert np.abs(image - expected * 255 / expected.max()).max() <= 1  # the first frame, scaled
    assert not np.allclose(image, luminance(frames[1, y0:y1 + 1, x0:x1 + 1]), atol=5)
    # the largest 2-D region wins; a file that records none keeps its whole frame
    us_dataset(frames, regions=[(0, 0, 20, 20), REGION]).save_as(tmp_path / "two.dcm", enforce_file_format=True)
    assert read_grey_image(tmp_path / "two.dcm").shape == image.shape
    us_dataset(frames, regions=()).save_as(tmp_path / "whole.dcm", enforce_file_format=True)
    assert read_grey_image(tmp_path / "whole.dcm").shape == (240, 320)


def test_a_jpeg_compressed_cine_without_a_suffix_is_found_and_its_sector_fitted(tmp_path):
    """Scanners write JPEG baseline in YBR and often no file suffix."""
    frames = scanner_frames(2)
    jpeg_cine(frames).save_as(tmp_path / "IM_0001", enforce_file_format=True)
    assert is_dicom_file(tmp_path / "IM_0001") and not is_dicom_file(tmp_path.parent)
    x0, y0, x1, y1 = REGION
    grey = read_dicom_frame(tmp_path / "IM_0001")
    expected = luminance(frames[0, y0:y1 + 1, x0:x1 + 1])
    assert grey.shape == expected.shape and np.abs(grey - expected).mean() < 4  # JPEG's loss
    traced = image_to_trace(tmp_path / "IM_0001", size=128)
    assert traced.original == expected.shape
    assert traced.fit > 0.95
    assert abs(traced.fan.left - FAN.left) < 3 and abs(traced.fan.right - FAN.right) < 3


def test_monochrome1_is_inverted(tmp_path):
    frames = scanner_frames(1)
    ds = us_dataset(frames)
    grey = frames[..., 0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME1"
    del ds.PlanarConfiguration
    ds.PixelData = (255 - grey).tobytes()
    ds.save_as(tmp_path / "mono1.dcm", enforce_file_format=True)
    x0, y0, x1, y1 = REGION
    assert np.array_equal(read_dicom_frame(tmp_path / "mono1.dcm"), grey[0, y0:y1 + 1, x0:x1 + 1])
    # an image that does not reach black keeps its grey levels: inverted in 0..255, not stretched
    dim = grey // 2 + 40
    ds.PixelData = (255 - dim).tobytes()
    ds.save_as(tmp_path / "dim.dcm", enforce_file_format=True)
    assert np.array_equal(read_grey_image(tmp_path / "dim.dcm"), dim[0, y0:y1 + 1, x0:x1 + 1])


def test_what_is_not_a_readable_dicom_echo_is_one_line(tmp_path):
    (tmp_path / "fake.dcm").write_bytes(b"this is no dicom file" * 20)
    with pytest.raises(DataError, match="not a DICOM file that can be read"):
        read_grey_image(tmp_path / "fake.dcm")
    ds = us_dataset(scanner_frames(1))
    del ds.PixelData
    ds.save_as(tmp_path / "report.dcm", enforce_file_format=True)
    with pytest.raises(DataError, match="without an image") as caught:
        read_grey_image(tmp_path / "report.dcm")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["scan.png", "scan.jpg"])
def test_a_dicom_file_named_as_a_picture_is_read_as_dicom_and_refused_as_a_mask_in_one_line(tmp_path, name):
    """It was refused as a picture that cannot be decoded, with no word of what it holds."""
    from engine.errors import MaskError
    from engine.maskio import read_label_map_and_text

    us_dataset(scanner_frames(2)).save_as(tmp_path / name, enforce_file_format=True)
    us_dataset(scanner_frames(2)).save_as(tmp_path / "scan.dcm", enforce_file_format=True)
    assert np.array_equal(read_grey_frames(tmp_path / name), read_grey_frames(tmp_path / "scan.dcm"))
    with pytest.raises(MaskError) as caught:
        read_label_map_and_text(tmp_path / name)
    assert str(caught.value) == (f"{tmp_path / name}: a DICOM file, not a label map, though named {name[-4:]}; "
                                 "rename it .dcm: it is an echo to trace over")


def test_a_picture_named_dcm_is_read_as_the_picture_it_is(tmp_path):
    """It was refused as "not a DICOM file that can be read"."""
    picture = np.random.default_rng(1).integers(0, 256, (40, 48)).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "echo.png")
    (tmp_path / "echo.dcm").write_bytes((tmp_path / "echo.png").read_bytes())
    assert np.array_equal(read_grey_frames(tmp_path / "echo.dcm"), read_grey_frames(tmp_path / "echo.png"))


def test_a_loop_and_an_image_written_as_dicom_read_back_here_in_pydicom_and_in_gdcm(tmp_path):
    import pydicom
    import SimpleITK as sitk
    from pydicom.pixels import pixel_array

    from engine.data.dicom_echo import US_IMAGE, US_MULTIFRAME, write_dicom_echo

    frames = np.random.default_rng(4).integers(0, 256, (6, 40, 56)).astype(np.uint8)
    write_dicom_echo(tmp_path / "loop.dcm", frames, fps=25.0, heart_rate=64.6)
    ds = pydicom.dcmread(tmp_path / "loop.dcm")
    assert ds.SOPClassUID == US_MULTIFRAME and int(ds.NumberOfFrames) == 6
    assert (int(ds.HeartRate), int(ds.CineRate), int(ds.RecommendedDisplayFrameRate)) == (65, 25, 25)
    assert float(ds.FrameTime) == pytest.approx(40.0) and ds.FrameIncrementPointer == 0x00181063
    assert str(ds.PatientName) == "SYNTHETIC^cardiGAN" and "not a patient" in ds.SeriesDescription
    region = ds.SequenceOfUltrasoundRegions[0]
    assert (region.RegionLocationMaxX1, region.RegionLocationMaxY1) == (55, 39)
    # centimetres per pixel: a 15 cm field across the 56 columns, as 0.6 mm pixels are at 256
    assert region.PhysicalDeltaX == pytest.approx(0.06 * 256 / 56) and region.PhysicalUnitsXDirection == 3
    assert np.array_equal(pixel_array(tmp_path / "loop.dcm"), frames)
    assert np.array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "loop.dcm"))), frames)  # GDCM
    assert np.array_equal(read_dicom_frame(tmp_path / "loop.dcm"), frames[0])
    write_dicom_echo(tmp_path / "one.dcm", frames[2])
    assert pydicom.dcmread(tmp_path / "one.dcm").SOPClassUID == US_IMAGE
    assert np.array_equal(read_grey_image(tmp_path / "one.dcm"), frames[2])
    with pytest.raises(DataError, match="needs its frame rate"):
        write_dicom_echo(tmp_path / "nofps.dcm", frames)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop.dcm", "one.dcm"]


def test_synthesize_and_cine_write_dicom(tmp_path):
    import pydicom

    from engine.cli.main import main
    from engine.maskio import write_label_png
    from label_maps import small_heart

    write_label_png(tmp_path / "heart.png", small_heart())
    assert main(["synthesize", "--model", "simulator", "--mask", str(tmp_path / "heart.png"),
                 "--out", str(tmp_path / "echo.dcm")]) == 0
    assert pydicom.dcmread(tmp_path / "echo.dcm").Rows == 40
    assert main(["cine", "--model", "simulator", "--size", "64", "--frames", "3", "--bpm", "60",
                 "--random", "1", "--out", str(tmp_path / "loop.dcm")]) == 0
    loop = pydicom.dcmread(tmp_path / "loop.dcm")  # three frames fill one beat of a second
    assert int(loop.NumberOfFrames) == 3 and float(loop.FrameTime) == pytest.approx(1000 / 3, rel=1e-3)
    assert main(["cine", "--model", "simulator", "--size", "64", "--frames", "3", "--random", "2",
                 "--format", "dicom", "--out", str(tmp_path / "loops")]) == 0
    assert len(list((tmp_path / "loops").glob("*.dcm"))) == 2
    assert main(["cine", "--model", "simulator", "--size", "64", "--frames", "3", "--random", "2", "--view", "both",
                 "--format", "dicom", "--out", str(tmp_path / "studies")]) == 0
    files = [pydicom.dcmread(path) for path in sorted((tmp_path / "studies").glob("*.dcm"))]
    by_patient = {}
    for ds in files:  # a patient's two views are two series of one study, each patient its own
        by_patient.setdefault(ds.PatientID, []).append(ds)
    assert len(by_patient) == 2 and all(len(views) == 2 for views in by_patient.values())
    for views in by_patient.values():
        assert views[0].StudyInstanceUID == views[1].StudyInstanceUID
        assert views[0].SeriesInstanceUID != views[1].SeriesInstanceUID
        assert sorted(int(ds.SeriesNumber) for ds in views) == [1, 2]
    assert len({ds.StudyInstanceUID for ds in files}) == 2
    assert all(ds.PatientName == "SYNTHETIC^cardiGAN" and ds.PatientID.startswith("SYNTHETIC") for ds in files)


def test_a_palette_colour_echo_is_read_through_its_colour_table(tmp_path):
    frames = scanner_frames(1)
    indices = frames[0, ..., 0]  # grey levels used as palette indices
    ds = us_dataset(frames)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "PALETTE COLOR"
    del ds.PlanarConfiguration
    ramp = np.arange(256, dtype=np.uint16) * 257  # 16-bit entries; blue darker than red and green
    for colour, scale in (("Red", 1.0), ("Green", 1.0), ("Blue", 0.5)):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", (ramp * scale).astype(np.uint16).tobytes())
    ds.PixelData = indices.tobytes()
    ds.save_as(tmp_path / "palette.dcm", enforce_file_format=True)
    x0, y0, x1, y1 = REGION
    expected = indices[y0:y1 + 1, x0:x1 + 1] * 257.0 * (0.299 + 0.587 + 0.114 * 0.5)
    assert np.allclose(read_dicom_frame(tmp_path / "palette.dcm"), expected, atol=0.5 * 257)


# what the ultrasound image IODs require (PS3.3 A.6, A.7), type 1 (a value) and type 2 (present)
REQUIRED = {
    "Patient": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex"),
    "General Study": ("StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
                      "AccessionNumber"),
    "General Series": ("Modality", "SeriesInstanceUID", "SeriesNumber"),
    "General Equipment": ("Manufacturer",),
    "General Image": ("InstanceNumber", "PatientOrientation"),
    "Image Pixel": ("SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated",
                    "BitsStored", "HighBit", "PixelRepresentation", "PixelData"),
    "US Image": ("ImageType",),
    "SOP Common": ("SOPClassUID", "SOPInstanceUID"),
}
REQUIRED_IN_A_LOOP = ("NumberOfFrames", "FrameIncrementPointer", "FrameTime")
TYPE_1 = ("PatientName", "StudyInstanceUID", "Modality", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID",
          "Rows", "Columns", "PixelData", "NumberOfFrames", "FrameIncrementPointer", "FrameTime")


def test_written_dicom_holds_every_attribute_its_iod_requires(tmp_path):
    import pydicom

    from engine.data.dicom_echo import write_dicom_echo

    frames = np.random.default_rng(5).integers(0, 256, (4, 24, 32)).astype(np.uint8)
    write_dicom_echo(tmp_path / "one.dcm", frames[0])
    write_dicom_echo(tmp_path / "loop.dcm", frames, fps=30.0)
    for name, extra in (("one.dcm", ()), ("loop.dcm", REQUIRED_IN_A_LOOP)):
        ds = pydicom.dcmread(tmp_path / name)
        for module, keywords in list(REQUIRED.items()) + [("Multi-frame and Cine", extra)]:
            missing = [keyword for keyword in keywords if keyword not in ds]
            assert not missing, (name, module, missing)
            empty = [keyword for keyword in keywords if keyword in TYPE_1 and ds[keyword].is_empty]
            assert not empty, (name, module, empty)
        region = ds.SequenceOfUltrasoundRegions[0]
        for keyword in ("RegionSpatialFormat", "RegionDataType", "RegionFlags", "RegionLocationMinX0",
                        "RegionLocationMinY0", "RegionLocationMaxX1", "RegionLocationMaxY1",
                        "PhysicalUnitsXDirection", "PhysicalUnitsYDirection", "PhysicalDeltaX", "PhysicalDeltaY"):
            assert keyword in region, (name, keyword)
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    one, loop = (pydicom.dcmread(tmp_path / name) for name in ("one.dcm", "loop.dcm"))
    assert len({one.SOPInstanceUID, loop.SOPInstanceUID, one.SeriesInstanceUID, loop.SeriesInstanceUID,
                one.StudyInstanceUID, loop.StudyInstanceUID}) == 6


def jpeg_cine(frames: np.ndarray, keep_rgb: bool = False) -> Dataset:
    """``frames`` (RGB) as a scanner stores a cine: JPEG baseline in YBR (``keep_rgb``: an
    Adobe JPEG of the RGB values, as a few do)."""
    jpegs = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=95, keep_rgb=keep_rgb)
        jpegs.append(buffer.getvalue())
    ds = us_dataset(frames, syntax=JPEGBaseline8Bit)
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PixelData = encapsulate(jpegs)
    ds["PixelData"].VR = "OB"
    return ds


def test_a_colour_cine_is_read_in_little_more_memory_than_its_pixels_take(tmp_path):
    """A scanner's cine runs to hundreds of colour frames: its grey frames must not cost
    several times its size (a float copy of every colour frame, text and ECG included)."""
    import tracemalloc

    frames = scanner_frames(12)
    jpeg_cine(frames).save_as(tmp_path / "jpeg.dcm", enforce_file_format=True)
    us_dataset(frames).save_as(tmp_path / "rgb.dcm", enforce_file_format=True)
    x0, y0, x1, y1 = REGION
    for name in ("jpeg.dcm", "rgb.dcm"):
        tracemalloc.start()
        try:
            grey = read_grey_frames(tmp_path / name)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert grey.shape == (12, y1 - y0 + 1, x1 - x0 + 1) and grey.dtype == np.uint8
        expected = luminance(frames[:, y0:y1 + 1, x0:x1 + 1])
        assert np.abs(grey - expected * 255 / expected.max()).mean() < 4, name
        assert peak < 3 * frames.nbytes, (name, peak / frames.nbytes)


@pytest.mark.parametrize("stored, labelled", [("YCbCr", "RGB"), ("RGB", "YBR_FULL_422")])
def test_a_jpeg_whose_header_names_the_wrong_colour_space_is_read_as_its_codestream_says(tmp_path, stored, labelled):
    """Scanners and converters mislabel JPEG frames: a JFIF (YCbCr) stream marked RGB, an Adobe
    RGB stream marked YBR. Its luminance comes out right either way."""
    frames = scanner_frames(2)
    frames[..., 0] = np.clip(frames[..., 0].astype(int) + 60, 0, 255)  # reddish: RGB and YBR differ
    ds = jpeg_cine(frames, keep_rgb=stored == "RGB")
    ds.PhotometricInterpretation = labelled
    ds.save_as(tmp_path / "IM_0001", enforce_file_format=True)
    x0, y0, x1, y1 = REGION
    expected = luminance(frames[:, y0:y1 + 1, x0:x1 + 1])
    with pytest.warns(UserWarning, match="Photometric Interpretation"):
        grey = read_dicom_frames(tmp_path / "IM_0001")
    assert np.abs(grey - expected).mean() < 2
    with pytest.warns(UserWarning, match="Photometric Interpretation"):  # the first frame alone alike
        assert np.array_equal(read_dicom_frame(tmp_path / "IM_0001"), grey[0])


def test_a_compression_without_a_decoder_is_refused_by_name_with_what_would_decode_it(tmp_path, monkeypatch):
    from pydicom.pixels.decoders import JPEGLSLosslessDecoder
    from pydicom.uid import JPEGLSLossless

    monkeypatch.setattr(JPEGLSLosslessDecoder, "_available", {})  # as where no plugin is installed
    monkeypatch.setattr(JPEGLSLosslessDecoder, "_unavailable", {"pyjpegls": ("pyjpegls",)})
    ds = us_dataset(scanner_frames(1), syntax=JPEGLSLossless)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    ds["PixelData"].VR = "OB"
    ds.save_as(tmp_path / "IM_0001", enforce_file_format=True)
    for read in (read_grey_image, read_grey_frames):
        with pytest.raises(DataError) as caught:
            read(tmp_path / "IM_0001")
        message = str(caught.value)
        assert "compressed as JPEG-LS Lossless" in message and "would: pyjpegls)" in message
        assert "uncompressed or as JPEG baseline" in message and "\n" not in message


def test_a_loop_written_as_dicom_carries_its_heart_rate_and_a_whole_display_rate(tmp_path):
    import pydicom

    from engine.cine import write_loop

    frames = np.random.default_rng(5).integers(0, 256, (4, 32, 32)).astype(np.uint8)
    masks = np.zeros_like(frames)
    write_loop(tmp_path / "beat.dcm", frames, masks, 40.0, {"bpm": 70})
    ds = pydicom.dcmread(tmp_path / "beat.dcm")
    assert int(ds.HeartRate) == 70 and int(ds.RecommendedDisplayFrameRate) == 40
    write_loop(tmp_path / "slow.dcm", frames, masks, 0.3)  # a frame every 3.3 s: still a frame rate of 1
    slow = pydicom.dcmread(tmp_path / "slow.dcm")
    assert int(slow.CineRate) == 1 and "HeartRate" not in slow and float(slow.FrameTime) == pytest.approx(3333.333)


def bytes_read_from(path, monkeypatch) -> list[int]:
    """A counter of the bytes read from ``path`` by whoever opens it (pydicom or this code)."""
    import builtins

    real_open, counted = builtins.open, [0]

    class Counting(io.BufferedReader):
        def read(self, size=-1):
            data = super().read(size)
            counted[0] += len(data)
            return data

        def readinto(self, buffer):
            count = super().readinto(buffer)
            counted[0] += count or 0
            return count

    def counting_open(file, mode="r", *args, **kwargs):
        if mode == "rb" and str(file) == str(path):
            return Counting(io.FileIO(file, "rb"))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    return counted


@pytest.mark.parametrize("kind", ["native", "implicit grey", "jpeg", "jpeg without offsets", "deflated"])
def test_the_first_frame_of_a_cine_is_read_without_the_rest_of_it(tmp_path, kind, monkeypatch):
    """Fitting a cine's fan needs its first frame alone: of a long cine's pixel data only that
    frame's bytes (uncompressed) or fragments (compressed) are read and decoded."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

    frames = scanner_frames(24)
    if kind.startswith("jpeg"):
        ds = jpeg_cine(frames)
        if kind == "jpeg without offsets":
            from pydicom.encaps import generate_frames

            ds.PixelData = encapsulate(list(generate_frames(ds.PixelData, number_of_frames=len(frames))), has_bot=False)
    else:
        ds = us_dataset(frames, syntax={"native": ExplicitVRLittleEndian, "implicit grey": ImplicitVRLittleEndian,
                                        "deflated": DeflatedExplicitVRLittleEndian}[kind])
        if kind == "implicit grey":
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            del ds.PlanarConfiguration
            ds.PixelData = frames[..., 1].tobytes()
    path = tmp_path / "IM_0001"
    ds.save_as(path, enforce_file_format=True)
    whole = read_dicom_frames(path)
    counted = bytes_read_from(path, monkeypatch)
    first = read_dicom_frame(path)
    assert np.array_equal(first, whole[0]), kind
    size = path.stat().st_size
    if kind == "deflated":  # inflated whole: nothing to skip
        assert counted[0] >= size * 0.9
    else:
        assert 0 < counted[0] < size / 8, (kind, counted[0], size)


def grey_dataset(stored: np.ndarray, bits: int = 8, photometric: str = "MONOCHROME2") -> Dataset:
    """One monochrome frame of ``stored`` values (unsigned, ``bits`` of them in 8 or 16), no region."""
    ds = us_dataset(np.zeros((1, *stored.shape, 3), np.uint8), regions=())
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    del ds.PlanarConfiguration
    allocated = 8 if bits <= 8 else 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = allocated, bits, bits - 1
    ds.PixelData = stored.astype(np.uint8 if allocated == 8 else np.uint16).tobytes()
    return ds


def ramp(high: int, shape=(48, 64)) -> np.ndarray:
    """Every value from 0 to ``high``, row by row."""
    return np.round(np.linspace(0, high, shape[0] * shape[1])).astype(np.int64).reshape(shape)


def windowed(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """What a viewer shows (0..255) of ``values`` through a LINEAR window (PS3.3 C.11.2.1.2.1)."""
    share = (values - (center - 0.5)) / (width - 1) + 0.5
    share[values <= center - 0.5 - (width - 1) / 2] = 0
    share[values > center - 0.5 + (width - 1) / 2] = 1
    return np.clip(share, 0, 1) * 255


def test_a_window_shows_what_a_dicom_viewer_shows(tmp_path):
    stored = ramp(4095)  # 12 bits in 16: a window picks the levels to show
    ds = grey_dataset(stored, bits=12)
    ds.WindowCenter, ds.WindowWidth = 1000, 500
    ds.save_as(tmp_path / "window.dcm", enforce_file_format=True)
    grey = read_grey_image(tmp_path / "window.dcm")
    assert grey.dtype == np.uint8 and np.abs(grey - windowed(stored, 1000, 500)).max() <= 0.5 + 1e-9
    assert (grey == 0).mean() > 0.15 and (grey == 255).mean() > 0.6  # below and above the window
    ds.PhotometricInterpretation = "MONOCHROME1"  # turned over after the window
    ds.save_as(tmp_path / "window1.dcm", enforce_file_format=True)
    assert np.array_equal(read_dicom_frame(tmp_path / "window1.dcm"), 255 - grey)


def test_a_rescale_comes_before_the_window(tmp_path):
    stored = ramp(255)
    ds = grey_dataset(stored)
    ds.RescaleSlope, ds.RescaleIntercept = 2, -100  # modality values -100..410
    ds.WindowCenter, ds.WindowWidth = 100, 200
    ds.save_as(tmp_path / "rescaled.dcm", enforce_file_format=True)
    expected = windowed(stored * 2.0 - 100, 100, 200)
    assert np.abs(read_dicom_frame(tmp_path / "rescaled.dcm") - expected).max() <= 0.5 + 1e-9
    ds.RescaleSlope, ds.RescaleIntercept = -1, 255  # a negative slope, no window: turned over
    del ds.WindowCenter, ds.WindowWidth
    ds.save_as(tmp_path / "negative.dcm", enforce_file_format=True)
    assert np.array_equal(read_grey_image(tmp_path / "negative.dcm"), 255 - stored)


def test_a_modality_lut_and_a_voi_lut_sequence_are_applied_in_turn(tmp_path):
    from pydicom.sequence import Sequence

    stored = ramp(255)
    squares = (np.arange(256) ** 2).astype(np.uint16)  # a Modality LUT: stored value squared
    modality = Dataset()
    modality.LUTDescriptor, modality.ModalityLUTType = [256, 0, 16], "US"
    modality.LUTData = squares.tolist()
    modality["LUTData"].VR = "US"
    ds = grey_dataset(stored)
    ds.ModalityLUTSequence = Sequence([modality])
    ds.WindowCenter, ds.WindowWidth = 20000, 20000  # over the squares
    ds.save_as(tmp_path / "modality.dcm", enforce_file_format=True)
    expected = windowed(squares[stored].astype(float), 20000, 20000)
    assert np.abs(read_dicom_frame(tmp_path / "modality.dcm") - expected).max() <= 0.5 + 1e-9
    # a VOI LUT of 12-bit entries (a square root) is preferred to the window beside it
    root = np.round(4095 * np.sqrt(np.arange(256) / 255)).astype(np.uint16)
    voi = Dataset()
    voi.LUTDescriptor, voi.LUTData = [256, 0, 12], root.tolist()
    voi["LUTData"].VR = "US"
    ds = grey_dataset(stored)
    ds.VOILUTSequence = Sequence([voi])
    ds.WindowCenter, ds.WindowWidth = 20, 10
    ds.save_as(tmp_path / "voi.dcm", enforce_file_format=True)
    expected = root[stored] * 255.0 / 4095
    assert np.abs(read_grey_image(tmp_path / "voi.dcm") - expected).max() <= 0.5 + 1e-9


def test_a_file_without_grey_level_tables_reads_its_stored_values(tmp_path):
    stored = ramp(200)
    ds = grey_dataset(stored)
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # the identity: nothing to apply
    ds.save_as(tmp_path / "plain.dcm", enforce_file_format=True)
    frame = read_dicom_frame(tmp_path / "plain.dcm")
    assert frame.dtype == np.uint8 and np.array_equal(frame, stored)
    ds.WindowCenter, ds.WindowWidth = 100, 0  # no width: a damaged window, said in one line
    ds.save_as(tmp_path / "damaged.dcm", enforce_file_format=True)
    with pytest.raises(DataError, match="window\\) are damaged") as caught:
        read_grey_image(tmp_path / "damaged.dcm")
    assert "\n" not in str(caught.value)


def ybr_dataset(luma: np.ndarray, photometric: str) -> Dataset:
    """Uncompressed YBR of grey ``luma`` (Cb = Cr = 128): YBR_FULL three samples a pixel, the
    422 ones two Y then Cb and Cr for each pair of pixels."""
    ds = us_dataset(np.zeros((1, *luma.shape, 3), np.uint8), regions=())
    ds.PhotometricInterpretation = photometric
    if photometric.endswith("422"):
        pairs = luma.reshape(luma.shape[0], -1, 2)
        chroma = np.full(pairs.shape, 128, np.uint8)
        ds.PixelData = np.concatenate([pairs, chroma], axis=-1).astype(np.uint8).tobytes()
    else:
        ds.PixelData = np.stack([luma, np.full_like(luma, 128), np.full_like(luma, 128)], -1).tobytes()
    return ds


@pytest.mark.parametrize("photometric", ["YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422"])
def test_uncompressed_ybr_reads_as_its_y_plane_stretched_where_it_spans_part_of_the_range(tmp_path, photometric):
    luma = ramp(255, shape=(32, 48)).astype(np.uint8)
    ybr_dataset(luma, photometric).save_as(tmp_path / "IM_0001", enforce_file_format=True)
    frames = read_dicom_frames(tmp_path / "IM_0001")
    assert np.array_equal(read_dicom_frame(tmp_path / "IM_0001"), frames[0])  # the first frame alone alike
    if photometric == "YBR_PARTIAL_422":  # video's 16 (black) to 235 (white) shown as 0 to 255
        expected = np.clip(np.round((luma.astype(float) - 16) * 255 / 219), 0, 255)
        assert frames[0][luma == 16].max() == 0 and frames[0][luma == 235].min() == 255
    else:
        expected = luma
    assert frames.dtype == np.uint8 and np.array_equal(frames[0], expected)


def test_a_dim_grey_cine_is_shown_stretched_its_frames_alike(tmp_path):
    frames = scanner_frames(3)
    ds = us_dataset(frames)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    del ds.PlanarConfiguration
    dim = np.round(frames[..., 0] * (50 / 255)).astype(np.uint8)  # the scanner's labels too: 0..50
    ds.PixelData = dim.tobytes()
    ds.save_as(tmp_path / "dim.dcm", enforce_file_format=True)
    x0, y0, x1, y1 = REGION
    stored = dim[:, y0:y1 + 1, x0:x1 + 1]
    shown = read_grey_frames(tmp_path / "dim.dcm")
    lit = stored > 0
    assert shown[lit].mean() > 4 * stored[lit].mean() and (shown[~lit] == 0).all()
    for value in np.unique(stored):  # one grey level for each stored one, in every frame
        assert len(np.unique(shown[stored == value])) == 1


def grey_cine(stored: np.ndarray, bits: int = 12) -> Dataset:
    """Monochrome frames (T, H, W) of ``stored`` values in 16 bits, no region."""
    ds = grey_dataset(stored[0], bits=bits)
    ds.NumberOfFrames = len(stored)
    ds.PixelData = stored.astype(np.uint16).tobytes()
    return ds


def functional_group(rescale: tuple[float, float] | None = None, window: tuple | None = None) -> Dataset:
    """One functional groups item: a Pixel Value Transformation and a Frame VOI LUT, either or both."""
    from pydicom.sequence import Sequence

    group = Dataset()
    if rescale is not None:
        transform = Dataset()
        transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = *rescale, "US"
        group.PixelValueTransformationSequence = Sequence([transform])
    if window is not None:
        voi = Dataset()
        voi.WindowCenter, voi.WindowWidth = window
        group.FrameVOILUTSequence = Sequence([voi])
    return group


def test_an_enhanced_cine_is_shown_through_the_window_of_its_functional_groups(tmp_path):
    """Enhanced multi-frame files keep rescale and window in the functional groups: shared by
    every frame, or one item a frame that overrides what is shared."""
    from pydicom.sequence import Sequence

    stored = np.stack([ramp(4095)] * 3)
    ds = grey_cine(stored)
    ds.SharedFunctionalGroupsSequence = Sequence([functional_group(rescale=(2, -100), window=(1000, 500))])
    ds.save_as(tmp_path / "shared.dcm", enforce_file_format=True)
    frames = read_dicom_frames(tmp_path / "shared.dcm")
    expected = windowed(stored[0] * 2.0 - 100, 1000, 500)
    assert frames.dtype == np.uint8
    for frame in frames:
        assert np.abs(frame - expected).max() <= 0.5 + 1e-9
    assert np.array_equal(read_dicom_frame(tmp_path / "shared.dcm"), frames[0])
    # a top-level window is overridden by the shared one, which each frame's own overrides
    ds.WindowCenter, ds.WindowWidth = 3000, 100
    ds.PerFrameFunctionalGroupsSequence = Sequence([functional_group(), functional_group(window=(500, 200)),
                                                   functional_group(window=(2000, 2000))])
    ds.save_as(tmp_path / "per_frame.dcm", enforce_file_format=True)
    frames = read_dicom_frames(tmp_path / "per_frame.dcm")
    modality = stored[0] * 2.0 - 100  # the shared rescale, which no frame overrides
    for frame, (center, width) in zip(frames, [(1000, 500), (500, 200), (2000, 2000)]):
        assert np.abs(frame - windowed(modality, center, width)).max() <= 0.5 + 1e-9, (center, width)
    assert np.array_equal(read_dicom_frame(tmp_path / "per_frame.dcm"), frames[0])
    ds.PhotometricInterpretation = "MONOCHROME1"  # turned over after each frame's window
    ds.save_as(tmp_path / "per_frame1.dcm", enforce_file_format=True)
    assert np.array_equal(read_dicom_frames(tmp_path / "per_frame1.dcm"), 255 - frames)


def test_a_functional_group_window_replaces_a_voi_lut_above_it(tmp_path):
    from pydicom.sequence import Sequence

    stored = ramp(4095)
    ds = grey_dataset(stored, bits=12)
    lut = Dataset()
    lut.LUTDescriptor, lut.LUTData = [4096, 0, 8], (np.arange(4096) // 16).tolist()
    lut["LUTData"].VR = "US"
    ds.VOILUTSequence = Sequence([lut])  # at the top level, preferred to a window beside it
    ds.SharedFunctionalGroupsSequence = Sequence([functional_group(window=(1000, 500))])
    ds.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)
    assert np.abs(read_dicom_frame(tmp_path / "enhanced.dcm") - windowed(stored, 1000, 500)).max() <= 0.5 + 1e-9


def test_of_several_windows_the_first_is_shown(tmp_path):
    """PS3.3 C.11.2.1.2: the first of several windows is the default; their explanations do not
    pick another."""
    stored = ramp(4095)
    ds = grey_dataset(stored, bits=12)
    ds.WindowCenter, ds.WindowWidth = [1000, 3000], [500, 2000]
    ds.WindowCenterWidthExplanation = ["SOFT", "WIDE"]
    ds.save_as(tmp_path / "windows.dcm", enforce_file_format=True)
    assert np.abs(read_dicom_frame(tmp_path / "windows.dcm") - windowed(stored, 1000, 500)).max() <= 0.5 + 1e-9
    from pydicom.sequence import Sequence

    cine = grey_cine(np.stack([stored] * 2))
    cine.SharedFunctionalGroupsSequence = Sequence([functional_group(window=([3000, 1000], [2000, 500]))])
    cine.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)
    for frame in read_dicom_frames(tmp_path / "enhanced.dcm"):
        assert np.abs(frame - windowed(stored, 3000, 2000)).max() <= 0.5 + 1e-9


def test_a_frame_without_a_window_among_windowed_ones_is_shown_over_its_own_range(tmp_path):
    from pydicom.sequence import Sequence

    stored = np.stack([ramp(1000), ramp(4095)])
    ds = grey_cine(stored)
    ds.PerFrameFunctionalGroupsSequence = Sequence([functional_group(), functional_group(window=(1000, 500))])
    ds.save_as(tmp_path / "mixed.dcm", enforce_file_format=True)
    first, second = read_dicom_frames(tmp_path / "mixed.dcm")
    assert np.abs(first - stored[0] * (255 / 1000)).max() <= 0.5 + 1e-9
    assert np.abs(second - windowed(stored[1], 1000, 500)).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("labelled", ["YBR_PARTIAL_420", "YBR_PARTIAL_422"])
def test_a_jpeg_labelled_partial_range_keeps_its_luminance_as_decoded(tmp_path, labelled):
    """A JPEG codestream's YCbCr spans the whole range (JFIF), whatever the label says: stretching
    its Y as video's 16..235 would brighten the picture and clip its bright end."""
    frames = scanner_frames(2)
    ds = jpeg_cine(frames)
    ds.PhotometricInterpretation = labelled
    ds.save_as(tmp_path / "IM_0001", enforce_file_format=True)
    x0, y0, x1, y1 = REGION
    expected = luminance(frames[:, y0:y1 + 1, x0:x1 + 1])
    grey = read_dicom_frames(tmp_path / "IM_0001")
    assert np.abs(grey - expected).mean() < 1.5
    assert np.abs(read_dicom_frame(tmp_path / "IM_0001") - expected[0]).mean() < 1.5


def lut_item(first: int, data: np.ndarray, bits: int, vr: str = "US") -> Dataset:
    """A Modality or VOI LUT Sequence item: ``data`` for the stored values from ``first`` on,
    its entries of ``bits`` bits, held as a list of values (US) or as raw words (OW)."""
    item = Dataset()
    item.LUTDescriptor = [len(data) % 65536, first, bits]
    item.LUTData = data.astype("<u2").tobytes() if vr == "OW" else data.astype(np.uint16).tolist()
    item["LUTData"].VR = vr
    return item


def frame_voi_lut(item: Dataset) -> Dataset:
    """A functional groups item whose Frame VOI LUT holds a VOI LUT Sequence, not a window."""
    from pydicom.sequence import Sequence

    voi = Dataset()
    voi.VOILUTSequence = Sequence([item])
    group = Dataset()
    group.FrameVOILUTSequence = Sequence([voi])
    return group


@pytest.mark.parametrize("vr", ["US", "OW"])
def test_an_enhanced_cine_frame_is_shown_through_the_voi_lut_of_its_functional_group(tmp_path, vr):
    """A Frame VOI LUT may hold a table rather than a window: the frame is shown through it,
    the other frames through the shared window, and the table replaces a window above it."""
    from pydicom.sequence import Sequence

    stored = np.stack([ramp(4095)] * 3)
    ds = grey_cine(stored)
    ds.SharedFunctionalGroupsSequence = Sequence([functional_group(window=(1000, 500))])
    eight_bits = lut_item(0, np.arange(4096) // 16, 8, vr)  # 12 bits shown as 8, as scanners write it
    root = np.round(4095 * np.sqrt(np.arange(2048) / 2047))  # 12-bit entries from 1000 on
    twelve_bits = lut_item(1000, root, 12, vr)
    ds.PerFrameFunctionalGroupsSequence = Sequence([frame_voi_lut(eight_bits), functional_group(),
                                                   frame_voi_lut(twelve_bits)])
    ds.save_as(tmp_path / "voi_lut.dcm", enforce_file_format=True)
    frames = read_dicom_frames(tmp_path / "voi_lut.dcm")
    assert frames.dtype == np.uint8
    assert np.abs(frames[0] - (stored[0] // 16) * 255.0 / 255).max() <= 0.5 + 1e-9
    assert np.abs(frames[1] - windowed(stored[1], 1000, 500)).max() <= 0.5 + 1e-9
    looked_up = root[np.clip(stored[2] - 1000, 0, 2047)]
    assert np.abs(frames[2] - looked_up * 255.0 / 4095).max() <= 0.5 + 1e-9
    assert np.array_equal(read_dicom_frame(tmp_path / "voi_lut.dcm"), frames[0])


@pytest.mark.parametrize("vr", ["US", "OW"])
def test_a_frame_s_own_modality_lut_replaces_the_shared_rescale(tmp_path, vr):
    """A Pixel Value Transformation may hold a Modality LUT Sequence for one frame: that frame's
    stored values go through it, the others through the shared rescale, all then through the
    shared window."""
    from pydicom.sequence import Sequence

    stored = np.stack([ramp(255)] * 2)
    ds = grey_cine(stored, bits=8)
    ds.BitsAllocated = 16
    ds.SharedFunctionalGroupsSequence = Sequence([functional_group(rescale=(2, -100), window=(20000, 20000))])
    squares = np.arange(256) ** 2
    transform = Dataset()
    transform.ModalityLUTSequence = Sequence([lut_item(0, squares, 16, vr)])
    transform.ModalityLUTSequence[0].ModalityLUTType = "US"
    own = Dataset()
    own.PixelValueTransformationSequence = Sequence([transform])
    ds.PerFrameFunctionalGroupsSequence = Sequence([functional_group(), own])
    ds.save_as(tmp_path / "modality_lut.dcm", enforce_file_format=True)
    frames = read_dicom_frames(tmp_path / "modality_lut.dcm")
    assert np.abs(frames[0] - windowed(stored[0] * 2.0 - 100, 20000, 20000)).max() <= 0.5 + 1e-9
    assert np.abs(frames[1] - windowed(squares[stored[1]].astype(float), 20000, 20000)).max() <= 0.5 + 1e-9


def tables_of(dataset: Dataset) -> dict:
    return {element.keyword: element.value for element in dataset}


def test_a_long_plain_cine_builds_its_grey_level_tables_once(tmp_path, monkeypatch):
    """A cine without per-frame transforms shares one dataset of tables among its frames (a
    600-frame loop no longer builds 600); a frame with a transform of its own gets its own, the
    shared one with that transform in place of the shared one's."""
    from pydicom.sequence import Sequence

    stored = np.stack([ramp(4095, shape=(8, 8))] * 600)
    ds = grey_cine(stored)
    ds.WindowCenter, ds.WindowWidth = 1000, 500
    ds.save_as(tmp_path / "plain.dcm", enforce_file_format=True)
    ranges = []
    original = dicom_echo._voi_output_range
    monkeypatch.setattr(dicom_echo, "_voi_output_range", lambda table: ranges.append(1) or original(table))
    frames = read_dicom_frames(tmp_path / "plain.dcm")
    assert len(ranges) == 1 and len(frames) == 600
    assert all(np.array_equal(frame, frames[0]) for frame in frames)
    assert np.abs(frames[0] - windowed(stored[0], 1000, 500)).max() <= 0.5 + 1e-9
    header = ds
    header.PerFrameFunctionalGroupsSequence = Sequence([Dataset(), functional_group(window=(500, 200)), Dataset()])
    tables = dicom_echo.frames_grey_tables(header, 4)
    assert tables[0] is tables[2] is tables[3] and tables[1] is not tables[0]
    own, shared = tables_of(tables[1]), tables_of(tables[0])
    assert (own.pop("WindowCenter"), own.pop("WindowWidth")) == (500, 200)
    assert (shared.pop("WindowCenter"), shared.pop("WindowWidth")) == (1000, 500)
    assert own == shared and "BitsStored" in own  # the pixel description is every frame's
