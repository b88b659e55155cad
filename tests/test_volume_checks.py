"""A volume file that holds less pixel data than its header says is refused, not zero-filled
(engine/data/volume_checks.py): ITK reads a short NIfTI as if whole, its missing rows 0."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.data.volume_checks import check_volume_file
from engine.errors import CardiganError, DataError, MaskError
from engine.maskio import read_label_map, read_volume_label, write_nifti

gzip_open = gzip.open


def heart(rows: int = 64, cols: int = 80) -> np.ndarray:
    labels = np.zeros((rows, cols), np.uint8)
    labels[10:50, 20:60] = 1
    labels[55:62, 30:50] = 3  # the last rows hold a class: cutting them would lose it
    return labels


@pytest.mark.parametrize("name", ["mask.nii", "mask.nii.gz"])
@pytest.mark.parametrize("kept", [0.5, 0.95])
def test_a_cut_nifti_mask_is_refused_in_one_line(tmp_path, name, kept):
    whole = tmp_path / name
    write_nifti(whole, heart())
    assert np.array_equal(read_label_map(whole), heart())
    data = whole.read_bytes()
    cut = tmp_path / ("cut_" + name)
    cut.write_bytes(data[: int(len(data) * kept)])
    with pytest.raises(MaskError) as caught:
        read_label_map(cut)
    message = str(caught.value)
    assert "truncated or damaged" in message and str(cut) in message and "\n" not in message


def test_a_cut_echo_sequence_is_refused_before_it_is_traced(tmp_path):
    from engine.data.camus import read_sequence

    path = tmp_path / "p_4CH_half_sequence.nii.gz"
    write_nifti(path, np.full((3, 40, 48), 120, np.uint8))
    assert read_sequence(path).shape == (3, 40, 48)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(DataError, match="truncated"):
        read_sequence(path)


def nifti2(shape: tuple[int, ...], bitpix: int = 8, offset: int = 544) -> bytes:
    """A minimal little-endian NIfTI-2 header for ``shape`` (x, y, ...), padded to ``offset``."""
    head = bytearray(540)
    head[0:4] = struct.pack("<i", 540)
    head[4:12] = b"n+2\0\r\n\x1a\n"
    head[12:16] = struct.pack("<hh", 2, bitpix)
    dims = [len(shape), *shape] + [1] * (7 - len(shape))
    head[16:80] = struct.pack("<8q", *dims)
    head[168:176] = struct.pack("<q", offset)
    return bytes(head) + b"\0" * (offset - 540)


def test_nifti2_headers_are_read_too(tmp_path):
    path = tmp_path / "two.nii"
    path.write_bytes(nifti2((7, 5)) + bytes(35))
    check_volume_file(path)  # whole: nothing to say
    path.write_bytes(nifti2((7, 5)) + bytes(20))
    with pytest.raises(DataError, match="564 of the 579 bytes its 7 x 5 voxels of 8 bits need"):
        check_volume_file(path)


def test_a_metaimage_mask_with_a_short_data_file_names_it_and_keeps_the_terminal_quiet(tmp_path, capfd):
    header = tmp_path / "mask.mhd"
    header.write_text("ObjectType = Image\nNDims = 2\nDimSize = 8 6\nElementType = MET_UCHAR\n"
                      "ElementDataFile = mask.raw\n")
    (tmp_path / "mask.raw").write_bytes(bytes(20))  # 48 needed
    with pytest.raises(MaskError, match="mask.raw holds 20 bytes"):
        read_label_map(header)
    (tmp_path / "mask.raw").write_bytes(bytes(48))
    assert read_label_map(header).shape == (6, 8)
    assert capfd.readouterr().err == ""


def test_files_that_are_not_nifti_are_left_to_their_readers(tmp_path):
    path = tmp_path / "odd.nii"
    path.write_bytes(b"GIF89a" + bytes(400))  # no NIfTI sizeof_hdr: ITK decides
    check_volume_file(path)
    with pytest.raises(CardiganError):
        read_label_map(path)


def test_a_nifti_files_pixel_data_is_sized_by_its_header_alone(tmp_path):
    from engine.data.volume_checks import nifti_data_bytes
    from engine.maskio import write_nifti

    loop = np.zeros((30, 64, 48), np.uint8)
    for name in ("loop.nii.gz", "loop.nii"):
        write_nifti(tmp_path / name, loop)
        assert nifti_data_bytes(tmp_path / name) == loop.nbytes
    assert (tmp_path / "loop.nii.gz").stat().st_size < loop.nbytes // 50
    (tmp_path / "notes.nii.gz").write_bytes(b"not gzip")
    (tmp_path / "mask.png").write_bytes(b"")
    assert nifti_data_bytes(tmp_path / "notes.nii.gz") is None and nifti_data_bytes(tmp_path / "mask.png") is None


def write_metaimage(folder, name: str, frames: np.ndarray, compressed: bool = False):
    """A CAMUS-like ``.mhd`` header and its data file (``.zraw`` when ``compressed``)."""
    import zlib as _zlib

    data_name = name + (".zraw" if compressed else ".raw")
    data = frames.tobytes()
    (folder / data_name).write_bytes(_zlib.compress(data) if compressed else data)
    dims = " ".join(str(n) for n in reversed(frames.shape))
    header = folder / (name + ".mhd")
    header.write_text(f"ObjectType = Image\nNDims = {frames.ndim}\nDimSize = {dims}\nElementType = MET_UCHAR\n"
                      f"CompressedData = {compressed}\nElementDataFile = {data_name}\n")
    return header


@pytest.mark.parametrize("compressed", [False, True])
def test_a_metaimage_files_pixel_data_is_sized_by_the_data_its_header_names(tmp_path, compressed):
    from engine.data.volume_checks import metaimage_data_bytes, volume_data_bytes

    loop = np.zeros((30, 64, 48), np.uint8)
    header = write_metaimage(tmp_path, "patient0001_4CH_half_sequence", loop, compressed)
    assert header.stat().st_size < 200
    assert metaimage_data_bytes(header) == volume_data_bytes(header) == loop.nbytes
    (tmp_path / "odd.mhd").write_text("ObjectType = Image\nDimSize = 4 x\nElementType = MET_UCHAR\n")
    (tmp_path / "bare.mhd").write_text("ObjectType = Image\nDimSize = 4 4\nElementType = MET_WHATEVER\n")
    for unsized in ("odd.mhd", "bare.mhd", "missing.mhd", "patient0001_4CH_half_sequence.raw"):
        assert metaimage_data_bytes(tmp_path / unsized) is None


def reads_seen_by_itk(monkeypatch) -> list[str]:
    """The file names SimpleITK is asked to read from now on."""
    import SimpleITK as sitk

    names: list[str] = []
    read = sitk.ReadImage

    def recording(name, *args, **kwargs):
        names.append(str(name))
        return read(name, *args, **kwargs)

    monkeypatch.setattr(sitk, "ReadImage", recording)
    return names


def test_a_compressed_loop_is_decompressed_once_and_itk_reads_the_checked_copy(tmp_path, monkeypatch):
    from engine.data import volume_checks
    from engine.data.camus import read_sequence

    loop = np.stack([np.full((40, 48), 10 * t, np.uint8) for t in range(6)])
    path = tmp_path / "patient0001_4CH_half_sequence.nii.gz"
    write_nifti(path, loop)
    opened = []
    monkeypatch.setattr(volume_checks.gzip, "open", lambda *a, **k: opened.append(a[0]) or gzip_open(*a, **k))
    names = reads_seen_by_itk(monkeypatch)
    assert np.array_equal(read_sequence(path), loop)
    assert len(opened) == 1 and len(names) == 1
    assert names[0].endswith(".nii") and not names[0].endswith(".nii.gz")  # ITK inflates nothing itself
    assert Path(names[0]).name == "patient0001_4CH_half_sequence.nii"  # a message of ITK's names the file
    assert not Path(names[0]).exists()  # the copy goes once read
    masks = tmp_path / "patient0001_4CH_half_sequence_gt.nii.gz"
    write_nifti(masks, (loop > 20).astype(np.uint8))
    opened.clear()  # (the write reads its file back once to check it)
    assert np.array_equal(read_volume_label(masks, loop=True), loop > 20)
    assert names[-1].endswith(".nii") and len(opened) == 1


def test_without_room_for_the_copy_a_loop_is_checked_and_read_where_it_is(tmp_path, monkeypatch):
    from engine.data import volume_checks
    from engine.data.camus import read_sequence

    class Full:
        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            pass

    monkeypatch.setattr(volume_checks._Sink, "__init__", lambda self, handle: setattr(self, "handle", Full()))
    loop = np.stack([np.full((40, 48), 10 * t, np.uint8) for t in range(6)])
    path = tmp_path / "patient0001_4CH_half_sequence.nii.gz"
    write_nifti(path, loop)
    names = reads_seen_by_itk(monkeypatch)
    assert np.array_equal(read_sequence(path), loop) and names == [str(path)]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(DataError, match="truncated"):
        read_sequence(path)
