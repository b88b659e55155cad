"""Volume files checked before ITK reads them: a truncated file is refused, not zero-filled.

ITK reads a NIfTI file whose pixel data stops early without a word and fills the rest with
0: a label map cut short opens with its last rows background, an echo with black rows. Its
MetaImage reader fails on a short ``.raw`` but prints to the terminal and names no cause.
:func:`check_volume_file` reads what the header promises and compares it with what the file
holds (for ``.nii.gz``, the decompressed stream, whose end a cut file never reaches).
:func:`readable_volume` does the same for a reader and decompresses a ``.nii.gz`` only once,
handing ITK the checked, decompressed copy:

- NIfTI-1 and NIfTI-2 (``.nii``, ``.nii.gz``): ``vox_offset`` plus the product of the
  dimensions times ``bitpix / 8`` bytes;
- MetaImage (``.mhd`` with a data file): :func:`.metaimage.check_header`.

Other formats (NRRD, ``.mha``, a ``.mhd`` with its data inline) are left to ITK, which
refuses them when they are short.

The same check follows every NIfTI write (:func:`check_written_volume`): ITK's NIfTI writer
meets a full disk without raising and leaves the file cut short. So does its NRRD writer (a
Slicer segmentation), whose file is read back whole instead.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import CardiganError, DataError

NIFTI1_HEADER, NIFTI2_HEADER = 348, 540
CHUNK = 1 << 20


def check_volume_file(path: Path | str, error: type[CardiganError] = DataError) -> None:
    """Refuse, in one line (an ``error``), a NIfTI or MetaImage file that holds less pixel
    data than its header describes, or whose header cannot be read."""
    path = Path(path)
    name = path.name.lower()
    with _refused_as(path, error):
        if name.endswith(".nii"):
            with open(path, "rb") as handle:
                _check_nifti(handle, path.stat().st_size)
        elif name.endswith(".nii.gz"):
            with gzip.open(path, "rb") as handle:
                _check_nifti(handle, None)
        elif name.endswith(".mhd"):
            from .metaimage import check_header

            check_header(path)


def check_written_volume(file: Path | str, path: Path | str) -> None:
    """Raise an ``OSError`` naming ``path`` when the NIfTI or NRRD ``file`` just written for it
    holds less than its header says. ITK's NIfTI and NRRD writers meet a full disk without
    raising (niftilib prints a line and returns as if done; the NRRD writer leaves a file of
    no bytes, or its header alone), leaving a file cut short (:func:`engine.fileio.short_write`
    says which). An NRRD, which has no check of its own here, is read back whole by ITK."""
    from ..fileio import short_write

    try:
        if Path(file).name.lower().endswith(".nrrd"):
            _read_back(file)
        else:
            check_volume_file(file)
    except DataError:
        raise short_write(path) from None


def _read_back(file: Path | str) -> None:
    """Read ``file`` whole with ITK (its pixels decompressed to the end); a failure is a
    :class:`DataError`."""
    import SimpleITK as sitk

    from .metaimage import native_stderr_silenced

    try:
        with native_stderr_silenced():
            sitk.ReadImage(str(file))
    except RuntimeError as exc:
        raise DataError(f"{file}: {exc}") from None


@contextlib.contextmanager
def readable_volume(path: Path | str, error: type[CardiganError] = DataError) -> Iterator[Path]:
    """The file for ITK to read in place of ``path``, checked as :func:`check_volume_file`
    checks it, for the block.

    A ``.nii.gz`` is decompressed once: into a temporary ``.nii``, measured as it is written,
    which ITK then reads (checking the stream and then letting ITK decompress it again cost
    twice). The copy goes when the block ends. When it cannot be written (no room in the
    temporary folder), the file is checked and read where it is. Any other file is itself."""
    path = Path(path)
    if not path.name.lower().endswith(".nii.gz"):
        check_volume_file(path, error)
        yield path
        return
    with contextlib.ExitStack() as stack:
        try:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cardigan-")))
            plain = folder / path.name[: -len(".gz")]  # what ITK may name in a message: the file's name
            sink = _Sink(stack.enter_context(open(plain, "wb")))
        except OSError:
            sink = None
        checked = False
        if sink is not None:
            try:
                with _refused_as(path, error), gzip.open(path, "rb") as handle:
                    checked = _check_nifti(handle, None, sink)
                sink.close()
            except _NoRoom:
                sink = None
        if sink is None:
            check_volume_file(path, error)
        yield plain if checked and sink is not None else path


@contextlib.contextmanager
def _refused_as(path: Path, error: type[CardiganError]) -> Iterator[None]:
    """What a check finds wrong with ``path``, as one line (an ``error``)."""
    try:
        yield
    except DataError as exc:
        raise error(str(exc)) from None
    except _Short as short:
        raise error(f"{path}: the file ends early ({short}); it is truncated or damaged") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise error(f"{path}: the compressed data ends early or is damaged ({exc.__class__.__name__}); "
                    "the file is truncated or damaged") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None


class _Short(Exception):
    """What a NIfTI file lacks, in words."""


class _NoRoom(Exception):
    """The decompressed copy of a file could not be written."""


class _Sink:
    """A file the decompressed stream is copied to; a failed write is :class:`_NoRoom`, not a
    problem of the file being read."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def write(self, data: bytes) -> None:
        try:
            self.handle.write(data)
        except OSError:
            raise _NoRoom from None

    def close(self) -> None:
        try:
            self.handle.close()
        except OSError:
            raise _NoRoom from None


def _check_nifti(handle, file_size: int | None, sink: _Sink | None = None) -> bool:
    """``handle`` at the start of the (decompressed) NIfTI stream; ``file_size`` its length
    when known (an uncompressed file), else the stream is read to its end (all of it, and
    copied to ``sink``, when there is one). True when it was a NIfTI header and checked."""
    head = handle.read(NIFTI2_HEADER)
    if len(head) < 4:
        raise _Short(f"{len(head)} bytes, not even a NIfTI header")
    layout = _layout(head)
    if layout is None:
        return False  # not a NIfTI header we know: ITK decides
    endian, version = layout
    size = NIFTI1_HEADER if version == 1 else NIFTI2_HEADER
    if len(head) < size:
        raise _Short(f"its header is {len(head)} of {size} bytes")
    dims, bitpix, offset = _nifti_fields(head, endian, version)
    data = _data_bytes(dims, bitpix)
    if data is None:
        return False  # a header ITK will refuse on its own
    rank = dims[0]
    needed = max(int(offset), size) + data
    if file_size is None:
        file_size = len(head)
        if sink is not None:
            sink.write(head)
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            file_size += len(chunk)
            if sink is not None:
                sink.write(chunk)
            elif file_size >= needed:
                break
    if file_size < needed:
        shape = " x ".join(str(d) for d in dims[1:rank + 1])
        raise _Short(f"{file_size} of the {needed} bytes its {shape} voxels of {bitpix} bits need")
    return True


def _nifti_fields(head: bytes, endian: str, version: int) -> tuple[tuple[int, ...], int, float]:
    """(dims, bitpix, vox_offset) of a whole NIfTI-1 or NIfTI-2 header."""
    if version == 1:
        return (struct.unpack(endian + "8h", head[40:56]), struct.unpack(endian + "h", head[72:74])[0],
                struct.unpack(endian + "f", head[108:112])[0])
    return (struct.unpack(endian + "8q", head[16:80]), struct.unpack(endian + "h", head[14:16])[0],
            struct.unpack(endian + "q", head[168:176])[0])


def _data_bytes(dims: tuple[int, ...], bitpix: int) -> int | None:
    """The pixel data's size the dimensions and bits per voxel give, or None when they make no sense."""
    rank = dims[0]
    if not 1 <= rank <= 7 or any(d < 1 for d in dims[1:rank + 1]) or bitpix <= 0 or bitpix % 8:
        return None
    return math.prod(dims[1:rank + 1]) * bitpix // 8


def nifti_data_bytes(path: Path | str) -> int | None:
    """The size of a NIfTI file's pixel data by its header alone (of a ``.nii.gz``, the first
    bytes of the stream: a loop's masks compress a hundredfold, and reading them costs their
    decompressed size), or None for any other file or a header that cannot be read."""
    name = str(path).lower()
    if not name.endswith((".nii", ".nii.gz")):
        return None
    try:
        with (gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")) as handle:
            head = handle.read(NIFTI2_HEADER)
    except (OSError, EOFError, zlib.error):
        return None
    layout = _layout(head) if len(head) >= 4 else None
    if layout is None or len(head) < (NIFTI1_HEADER if layout[1] == 1 else NIFTI2_HEADER):
        return None
    dims, bitpix, _ = _nifti_fields(head, *layout)
    return _data_bytes(dims, bitpix)


def metaimage_data_bytes(path: Path | str) -> int | None:
    """The size of a MetaImage file's pixel data by its header alone (``DimSize`` times the
    bytes of its ``ElementType`` and channels): the ``.mhd`` is a few hundred bytes whatever
    its ``.raw`` or ``.zraw`` holds. None for any other file or a header that cannot be read."""
    if not str(path).lower().endswith(".mhd"):
        return None
    from .metaimage import ELEMENT_BYTES, read_header

    try:
        header = read_header(Path(path))
        dims = [int(value) for value in header.get("DimSize", "").split()]
        channels = int(header.get("ElementNumberOfChannels", "1") or 1)
    except (DataError, ValueError):
        return None
    element = ELEMENT_BYTES.get(header.get("ElementType", ""))
    if not dims or any(d < 1 for d in dims) or channels < 1 or element is None:
        return None
    return math.prod(dims) * element * channels


def volume_data_bytes(path: Path | str) -> int | None:
    """The pixel data a NIfTI or MetaImage file holds, by its header (:func:`nifti_data_bytes`,
    :func:`metaimage_data_bytes`), or None for any other file or an unreadable header."""
    size = nifti_data_bytes(path)
    return metaimage_data_bytes(path) if size is None else size


def _layout(head: bytes) -> tuple[str, int] | None:
    """The byte order and NIfTI version a header's ``sizeof_hdr`` gives, or None."""
    for endian in ("<", ">"):
        size = struct.unpack(endian + "i", head[:4])[0]
        if size == NIFTI1_HEADER:
            return endian, 1
        if size == NIFTI2_HEADER:
            return endian, 2
    return None
