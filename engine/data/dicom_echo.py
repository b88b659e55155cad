"""Echocardiograms as scanners and PACS export them (DICOM), read as one grey frame.

- A file is DICOM by its suffix (``.dcm``, ``.dicom``) or, as scanners often write them with
  no suffix, by the ``DICM`` marker after its 128-byte preamble (:func:`has_dicom_marker`,
  which also tells a DICOM file misnamed as a picture).
- Where the first frame of a cine (multi-frame) file is all that is wanted (its fan), only
  that frame is read from the file and decoded: the header up to the pixel data, then the
  first frame's bytes or compressed fragments (uncompressed, RLE and JPEG baseline, the usual
  ultrasound transfer syntaxes, need nothing beyond pydicom and Pillow). A compression no installed decoder reads is
  refused by name, with what would decode it.
- Colour frames become their luminance: YBR's (as JPEG stores them) is its Y plane, kept as
  decoded where it spans the whole range (YBR_FULL, YBR_FULL_422, YBR_ICT, YBR_RCT) and
  stretched from video's 16..235 to 0..255, as a viewer shows it, where the photometric
  interpretation says it spans part of it (YBR_PARTIAL_422, YBR_PARTIAL_420) and the samples
  are stored as they are (uncompressed, RLE), Y outside that range clipped. A JPEG labelled
  YBR_PARTIAL is kept as decoded: its codestream's YCbCr spans the whole range (JFIF). RGB
  and a palette's colours (its indices through the file's colour table) are weighted after
  the cut below. MONOCHROME1 (white is zero) is inverted.
- Monochrome stored values go through the file's grey-level tables in the order PS3.4 N.2
  gives: its Modality LUT (a Modality LUT Sequence, or a Rescale Slope and Intercept), then
  its VOI LUT (a VOI LUT Sequence, preferred as pydicom prefers it, or else a Window Center /
  Width, with its VOI LUT Function), then MONOCHROME1's inversion. A file with a VOI
  transform so reads as a DICOM viewer shows it: uint8, the transform's output range from
  black to white. With a Modality LUT alone it reads as modality values (float32), scaled
  later from their darkest to their brightest as any image that is not 8-bit is; with
  neither, as its stored values.
- A file that lists several windows (Window Center and Width of several values, each with a
  Window Center & Width Explanation perhaps) is shown through the first, the one PS3.3
  C.11.2.1.2 makes the default; the others, and the explanations, are not looked at.
- An enhanced multi-frame file keeps its tables in its functional groups rather than at the
  top level: a Pixel Value Transformation Sequence (rescale, or a Modality LUT) and a Frame
  VOI LUT Sequence (window, or a VOI LUT), shared by every frame (Shared Functional Groups
  Sequence) or one for each (Per-Frame Functional Groups Sequence). Each frame is shown
  through its own: a per-frame item overrides a shared one, which overrides the top level's,
  each item replacing the whole of its transform (a window in it drops a VOI LUT above it).
  Frames without a VOI transform of their own in a file whose other frames have one are
  shown from their darkest to their brightest modality value.
- The frame is cut to its ultrasound region: the Sequence of Ultrasound Regions (0018,6011)
  gives each region's box (Region Location Min X0 / Y0, Max X1 / Y1) and format (Region
  Spatial Format 1: a 2-D tissue image). The largest 2-D region is kept, so the scanner's
  text, ECG trace and scale bars around it are dropped and the sector fills the picture as
  it does in a CAMUS frame. A file that records no region keeps its whole frame.

Anything unreadable is a one-line :class:`~engine.errors.DataError`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import DataError

DICOM_SUFFIXES = (".dcm", ".dicom")
PARTIAL_RANGE = ("YBR_PARTIAL_422", "YBR_PARTIAL_420")  # Y in 16..235 (8 bits), as video stores it
TISSUE_2D = 1  # Region Spatial Format: a 2-D image (sector or linear)
MIN_REGION = 8  # pixels: a region narrower than this is not an image


def is_dicom_file(path: Path | str) -> bool:
    """A DICOM file by its suffix, or by the ``DICM`` marker at byte 128 (no suffix needed)."""
    path = Path(path)
    return path.name.lower().endswith(DICOM_SUFFIXES) or has_dicom_marker(path)


def has_dicom_marker(path: Path | str) -> bool:
    """Whether ``path`` holds the ``DICM`` marker after a 128-byte preamble, whatever its name
    says (a scanner's file with no suffix, or one renamed ``.png``)."""
    try:
        with open(path, "rb") as handle:
            return marked_as_dicom(handle)
    except OSError:
        return False


def marked_as_dicom(handle: BinaryIO) -> bool:
    """:func:`has_dicom_marker` of a file open for reading at its start, which is left there:
    a reader that opened the file for another format tells a DICOM file with the same open."""
    head = handle.read(132)
    handle.seek(0)
    return len(head) == 132 and head[128:] == b"DICM"


def dicom_files_in(folder: Path | str, most: int = 4096) -> list[Path]:
    """The DICOM files in ``folder`` (a scanner's or PACS export: IM_0001 ...), by name;
    DICOMDIR, the export's index, is not an image. A folder with a DICOMDIR and no images
    beside it is a disc's or USB stick's export (PS3.10), its images in folders below
    (DICOM/PA000000/ST000000/SE000000/IM000000): those are searched too. At most ``most``
    files are looked at."""
    folder = Path(folder)
    entries = sorted(folder.iterdir())[:most]
    found = [path for path in entries if _is_dicom_image_file(path)]
    if found or not any(path.name.upper() == "DICOMDIR" for path in entries):
        return found
    looked = 0
    for root, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in sorted(names):
            looked += 1
            if looked > most:
                return found
            if _is_dicom_image_file(Path(root) / name):
                found.append(Path(root) / name)
    return found


def _is_dicom_image_file(path: Path) -> bool:
    return path.is_file() and path.name.upper() != "DICOMDIR" and is_dicom_file(path)


def decoded_bytes(path: Path | str) -> int | None:
    """How many bytes a DICOM file's frames take once decoded (a JPEG cine's are many times
    its file's size), from its header alone; None when the header does not say."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, AttributeError, ValueError, TypeError, KeyError, OSError, EOFError):
        return None  # what is wrong is for the read itself to say
    return decoded_bytes_of(header)


def decoded_bytes_of(header) -> int | None:
    """:func:`decoded_bytes` of a DICOM file's header (a pydicom dataset) already read."""
    try:
        frames = int(header.get("NumberOfFrames", 1) or 1)
        samples = int(header.get("SamplesPerPixel", 1) or 1)
        return frames * int(header.Rows) * int(header.Columns) * samples * -(-int(header.BitsAllocated) // 8)
    except (AttributeError, ValueError, TypeError, KeyError):
        return None


def read_dicom_frame(path: Path | str) -> np.ndarray:
    """The first frame of a DICOM echo as a 2-D array (its own value type, or uint8 shown
    through its VOI LUT or window), cut to its largest 2-D ultrasound region when it records one."""
    return read_dicom_frames(path, first_only=True)[0]


def read_dicom_frames(path: Path | str, first_only: bool = False,
                      before_decoding: Callable[[Any], None] | None = None) -> np.ndarray:
    """A DICOM echo's frames (T, rows, columns), each as :func:`read_dicom_frame` gives the
    first; ``first_only`` decodes the first frame alone. ``before_decoding(dataset)`` is
    called with the file read whole, before its frames are decoded (what raises there
    passes on): a caller that sizes the frames by the header (:func:`decoded_bytes_of`)
    needs no open of its own."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import get_decoder

    path = Path(path)
    try:
        if first_only:
            header, frames, decoded = _decode_first_frame(path)
        else:
            header = pydicom.dcmread(path)
            if before_decoding is not None:
                before_decoding(header)
            _refuse_without_decoder(header, path)
            if "PixelData" not in header:
                raise AttributeError("no pixel data")
            # YBR stays YBR: its Y is the luminance wanted, and converting a long cine to RGB
            # first costs seconds and several times its size in memory. The decoder says which
            # colour space its frames are in: a JPEG's own markers overrule a wrong header.
            frames, decoded = get_decoder(header.file_meta.TransferSyntaxUID).as_array(
                header, as_rgb=False, **_layout_options(header))
            del header.PixelData  # decoded: the stored bytes are no longer needed
    except InvalidDicomError:
        raise DataError(f"{path}: not a DICOM file that can be read") from None
    except (NotImplementedError, RuntimeError) as exc:  # a transfer syntax with no decoder here
        raise DataError(f"{path}: its DICOM image cannot be decoded here ({_first_line(exc)})") from None
    except AttributeError as exc:
        if "no pixel data" in str(exc):
            raise DataError(f"{path}: a DICOM file without an image (no pixel data)") from None
        raise DataError(f"{path}: a damaged DICOM file ({_first_line(exc)})") from None
    except (ValueError, KeyError, TypeError, OSError, EOFError) as exc:
        raise DataError(f"{path}: a damaged DICOM file ({_first_line(exc)})") from None
    several = not first_only and int(header.get("NumberOfFrames", 1) or 1) > 1
    if not several:
        frames = frames[None]
    photometric = str(decoded.get("photometric_interpretation", "")).strip()
    if photometric.startswith("YBR") and _samples_in_partial_range(header):
        photometric = _stored_photometric(header)  # decoded in YBR_FULL_422's layout, its range still partial
    elif photometric in PARTIAL_RANGE:  # a JPEG's label: its YCbCr spans the whole range
        photometric = "YBR_FULL_422"
    box = ultrasound_region(header, frames.shape[1:3])
    if box is not None:  # cut first: the text and ECG around the region need no converting
        top, bottom, left, right = box
        frames = frames[:, top:bottom, left:right]
    return _grey_frames(frames, photometric, header, path)


PIXEL_DATA = 0x7FE00010


def _decode_first_frame(path: Path) -> tuple:
    """(header, first frame, the decoder's notes) of a DICOM file, reading from its pixel data
    only the bytes of the first frame: the header is read up to the pixel data, and the
    decoder is handed the file there (it finds the first frame's fragments of a compressed
    cine by their item headers, or the first frame's bytes of an uncompressed one). A
    deflated file, whose bytes must all be inflated anyway, is read whole.

    pydicom's ``pixels.pixel_array(path, index=0)`` finds the pixel data alike, but returns the
    frame without the decoder's notes: which colour space it came out in, which a JPEG's own
    markers decide over a wrong header (a JFIF stream labelled RGB comes out YCbCr), so the
    first frame and the whole cine would be read differently."""
    import pydicom
    from pydicom.pixels import as_pixel_options, get_decoder

    with open(path, "rb") as handle:
        header = pydicom.dcmread(handle, stop_before_pixels=True)
        _refuse_without_decoder(header, path)
        syntax = header.file_meta.TransferSyntaxUID
        if syntax.is_deflated:
            header = pydicom.dcmread(path)
            if "PixelData" not in header:
                raise AttributeError("no pixel data")
            return header, *get_decoder(syntax).as_array(header, index=0, as_rgb=False,
                                                         **_layout_options(header))
        options = {"transfer_syntax_uid": syntax, "pixel_keyword": "PixelData", **_layout_options(header)}
        element = handle.read(8)  # the pixel data's tag, then its VR and length, or its length
        if len(element) < 8:
            raise AttributeError("no pixel data")
        group, number = struct.unpack("<HH" if syntax.is_little_endian else ">HH", element[:4])
        if (group << 16 | number) != PIXEL_DATA:  # float pixel data, say: not an echo's
            raise AttributeError("no pixel data")
        if not syntax.is_implicit_VR:  # the VR, two reserved bytes, then a 32-bit length
            options["pixel_vr"] = element[4:6].decode("ascii", "replace")
            handle.read(4)
        # YBR stays YBR (see read_dicom_frames)
        frames, decoded = get_decoder(syntax).as_array(handle, index=0, as_rgb=False,
                                                       **as_pixel_options(header, **options))
    return header, frames, decoded


def _stored_photometric(header) -> str:
    return str(header.get("PhotometricInterpretation", "") or "").strip()


def _samples_in_partial_range(header) -> bool:
    """Whether the file's YBR samples span video's partial range: a YBR_PARTIAL label on samples
    stored as they are (uncompressed or RLE). A JPEG codestream's YCbCr spans the whole range
    whatever the label (JFIF, ITU-T T.871), as libjpeg, and every viewer built on it, decodes
    it: on a JPEG the label is one left over from before compression."""
    from pydicom.uid import RLELossless

    syntax = header.file_meta.TransferSyntaxUID
    return _stored_photometric(header) in PARTIAL_RANGE and (not syntax.is_encapsulated or syntax == RLELossless)


def _layout_options(header) -> dict:
    """Decoding options that overrule the header: uncompressed YBR_PARTIAL_422 is laid out as
    YBR_FULL_422 is (two Y, then Cb and Cr, for each pair of pixels), which pydicom expands and
    the former it refuses; only the range of its values differs (:func:`_full_range`)."""
    syntax = header.file_meta.TransferSyntaxUID
    if _stored_photometric(header) == "YBR_PARTIAL_422" and not syntax.is_encapsulated:
        return {"photometric_interpretation": "YBR_FULL_422"}
    return {}


def _full_range(luma: np.ndarray, header) -> np.ndarray:
    """Y stored in video's partial range (16..235 of 8 bits, scaled alike for more) stretched to
    the whole range, through a table of every stored value (no float copy of a cine)."""
    bits = max(8, int(header.get("BitsStored", 8) or 8))
    black, white, top = 16 << (bits - 8), 235 << (bits - 8), (1 << bits) - 1
    table = np.round(np.clip((np.arange(top + 1) - black) * (top / (white - black)), 0, top))
    return table.astype(luma.dtype).take(luma, mode="clip")  # a value past the bits stored is white


def _grey_frames(frames: np.ndarray, photometric: str, header, path: Path) -> np.ndarray:
    """(T, H, W) grey frames from decoded ones in ``photometric``'s colour space."""
    from pydicom.pixels import apply_color_lut

    if photometric.startswith("YBR") and frames.ndim == 4:  # Y is the luminance
        return _full_range(frames[..., 0], header) if photometric in PARTIAL_RANGE else frames[..., 0]
    if photometric == "PALETTE COLOR":  # indices into the file's own colour table
        try:
            frames = apply_color_lut(frames, header)
        except (ValueError, AttributeError, KeyError) as exc:
            raise DataError(f"{path}: its colour table is damaged ({_first_line(exc)})") from None
    if frames.ndim == 4:  # RGB, or a palette's colours
        grey = frames[..., 0] * np.float32(0.299)
        grey += frames[..., 1] * np.float32(0.587)
        grey += frames[..., 2] * np.float32(0.114)
        return grey
    if frames.ndim != 3:
        raise DataError(f"{path}: expected 2-D DICOM frames, got an array of shape {frames.shape}")
    if photometric.startswith("MONOCHROME"):
        shown = _through_grey_tables(frames, photometric, header, path)
        if shown is not None:
            return shown
    if photometric == "MONOCHROME1":  # turned over within the stored range, not the image's own
        white = (1 << int(header.get("BitsStored", 8) or 8)) - 1 if frames.dtype.kind == "u" else frames.max()
        frames = white - frames
    return frames


def _through_grey_tables(frames: np.ndarray, photometric: str, header, path: Path) -> np.ndarray | None:
    """Monochrome stored values through the file's Modality LUT, then its VOI LUT or window, as
    PS3.4 N.2 orders them (and MONOCHROME1 turned over after both): uint8 display levels where
    there is a VOI transform, float32 modality values where there is none; None for a file with
    neither. ``frames`` are the file's first frames, in order, each through its own tables
    (:func:`frames_grey_tables`). Frame by frame, so a long cine never has a float64 copy of
    every frame at once."""
    from pydicom.pixels import apply_modality_lut

    try:
        tables = frames_grey_tables(header, len(frames))
        distinct = {id(table): table for table in tables}.values()  # a plain cine's frames share one
        summaries = {id(table): (_voi_output_range(table), _has_modality_lut(table)) for table in distinct}
        displays = [summaries[id(table)][0] for table in tables]
        modality = [summaries[id(table)][1] for table in tables]
        shown = any(display is not None for display in displays)
        if not shown and not any(modality):
            return None
        out = np.empty(frames.shape, np.uint8 if shown else np.float32)
        for index, frame in enumerate(frames):
            values = apply_modality_lut(frame, tables[index]) if modality[index] else frame
            if not shown:
                out[index] = values
                continue
            if displays[index] is None:  # no VOI transform of its own: its own range
                low, high = float(values.min()), float(values.max())
                voi = np.asarray(values, np.float64)
            else:
                (low, high), voi = displays[index], _apply_voi(values, tables[index])
            scaled = (voi - low) * (255.0 / (high - low)) if high > low else np.zeros(voi.shape)
            out[index] = np.round(np.clip(scaled, 0, 255))
    except (ValueError, AttributeError, KeyError, TypeError, IndexError, NotImplementedError,
            struct.error) as exc:
        raise DataError(f"{path}: its grey-level tables (Modality LUT, VOI LUT or window) are damaged "
                        f"({_first_line(exc)})") from None
    if photometric == "MONOCHROME1":
        return 255 - out if shown else out.max() - out
    return out


# what the grey-level transforms read of a frame's pixels, and the attributes of each transform
PIXEL_DESCRIPTION = ("PhotometricInterpretation", "SamplesPerPixel", "BitsAllocated", "BitsStored",
                     "HighBit", "PixelRepresentation")
MODALITY_ATTRIBUTES = ("ModalityLUTSequence", "RescaleSlope", "RescaleIntercept", "RescaleType")
VOI_ATTRIBUTES = ("VOILUTSequence", "WindowCenter", "WindowWidth", "WindowCenterWidthExplanation",
                  "VOILUTFunction")
# where an enhanced multi-frame file keeps each transform in a functional group (PS3.3 C.7.6.16)
FRAME_TRANSFORMS = (("PixelValueTransformationSequence", MODALITY_ATTRIBUTES),
                    ("FrameVOILUTSequence", VOI_ATTRIBUTES))


def frames_grey_tables(header, count: int) -> list:
    """For each of the first ``count`` frames of ``header``, a dataset of what holds for it: its
    pixel description and its Modality and VOI transforms, taken from the top level, then from
    the Shared Functional Groups Sequence, then from the frame's item of the Per-Frame
    Functional Groups Sequence, each functional group item replacing the whole transform it
    holds. Every frame whose per-frame item holds no transform of its own (every frame of a
    plain cine) shares one dataset: a long cine's tables are built, and read, once rather than
    a frame at a time."""
    shared = _shared_grey_tables(header)
    return [_with_group(shared, _per_frame_group(header, index), header) for index in range(count)]


def _shared_grey_tables(header):
    """What holds for every frame: the top level's tables, then the shared functional groups'."""
    tables = _empty_tables(header)
    _copy_tables(header, tables, PIXEL_DESCRIPTION + MODALITY_ATTRIBUTES + VOI_ATTRIBUTES)
    shared = header.get("SharedFunctionalGroupsSequence") or []
    return _with_group(tables, shared[0] if shared else None, header)


def _per_frame_group(header, index: int):
    per_frame = header.get("PerFrameFunctionalGroupsSequence") or []
    return per_frame[index] if index < len(per_frame) else None


def _with_group(tables, group, header):
    """``tables`` with the transforms a functional groups item holds each replacing the whole
    of its own; ``tables`` itself where the item holds none."""
    transforms = [(items[0], keywords) for sequence, keywords in FRAME_TRANSFORMS
                  if group is not None and (items := group.get(sequence))]
    if not transforms:
        return tables
    replaced = _empty_tables(header)
    _copy_tables(tables, replaced, PIXEL_DESCRIPTION + MODALITY_ATTRIBUTES + VOI_ATTRIBUTES)
    for item, keywords in transforms:
        for keyword in keywords:
            if keyword in replaced:
                del replaced[keyword]
        _copy_tables(item, replaced, keywords)
    return replaced


def _empty_tables(header):
    from pydicom.dataset import Dataset

    tables = Dataset()
    tables.set_original_encoding(*header.original_encoding)  # how a LUT's raw bytes are read
    if getattr(header, "file_meta", None) is not None:
        tables.file_meta = header.file_meta
    return tables


def _copy_tables(source, tables, keywords) -> None:
    for keyword in keywords:
        if keyword in source:
            tables[keyword] = source[keyword]


def _has_modality_lut(header) -> bool:
    """Whether the file maps its stored values to others: a Modality LUT Sequence, or a Rescale
    Slope and Intercept other than 1 and 0."""
    if header.get("ModalityLUTSequence"):
        return True
    slope, intercept = header.get("RescaleSlope"), header.get("RescaleIntercept")
    if slope is None or intercept is None:  # pydicom applies a rescale only with both
        return False
    return (float(slope), float(intercept)) != (1.0, 0.0)


def _uses_voi_lut_sequence(header) -> bool:
    """A VOI LUT Sequence with a table in it: preferred to a window, as pydicom's
    ``apply_voi_lut`` prefers it."""
    items = header.get("VOILUTSequence")
    return bool(items) and None not in (items[0].get("LUTDescriptor"), items[0].get("LUTData"))


def _voi_output_range(header) -> tuple[float, float] | None:
    """(darkest, brightest) values the file's VOI transform gives, shown as black and white:
    0 to 2^n - 1 for a VOI LUT of n-bit entries, the window's output range (from the stored
    bit depth through the modality transform, PS3.3 C.11.2.1.2) for a Window Center / Width;
    None for a file with neither."""
    from pydicom.pixels import apply_windowing

    if _uses_voi_lut_sequence(header):
        bits = int(header.VOILUTSequence[0].LUTDescriptor[2])
        return 0.0, float((1 << bits) - 1)
    if header.get("WindowCenter") is None or header.get("WindowWidth") is None:
        return None
    # what the window gives below and above it is its output's black and white
    low, high = apply_windowing(np.array([-np.inf, np.inf]), header)
    return (float(low), float(high)) if high > low else None


def _apply_voi(values: np.ndarray, header) -> np.ndarray:
    from pydicom.pixels import apply_windowing

    if _uses_voi_lut_sequence(header):
        return _look_up(values, header.VOILUTSequence[0], header)
    return apply_windowing(values, header)


def _look_up(values: np.ndarray, item, header) -> np.ndarray:
    """``values`` through a LUT item's table (PS3.3 C.11.2.1.1): a value below its first mapped
    one gives the first entry, one past its last entry the last. Indexed in 64 bits: pydicom's
    ``apply_voi`` indexes in the entries' own type, so an 8-bit table of more than 256 entries
    (12 bits stored shown as 8, as scanners write it) wraps around every 256 values."""
    entries, first = int(item.LUTDescriptor[0]) or 65536, int(item.LUTDescriptor[1])
    table = _lut_entries(item, entries, header)
    whole = np.rint(values) if values.dtype.kind == "f" else values
    return table[np.clip(whole.astype(np.int64) - first, 0, entries - 1)]


def _lut_entries(item, entries: int, header) -> np.ndarray:
    """A LUT item's ``entries`` values, one 16-bit word each whatever their bit depth: a list
    (US) or the raw words (OW) in the file's byte order."""
    data = item["LUTData"]
    if data.VR != "OW":
        values = np.atleast_1d(np.asarray(data.value, np.int64))
    else:
        little = getattr(getattr(header, "file_meta", None), "TransferSyntaxUID", None)
        little = header.original_encoding[1] if little is None else little.is_little_endian
        if little is None:
            raise ValueError("its LUT's byte order is unknown")
        values = np.frombuffer(bytes(data.value), "<u2" if little else ">u2").astype(np.int64)
    if len(values) < entries:
        raise ValueError(f"a LUT of {len(values)} entries where its descriptor says {entries}")
    return values[:entries]


def _refuse_without_decoder(header, path: Path) -> None:
    """A one-line refusal naming the compression and what would decode it, for pixels no
    installed decoder reads (JPEG lossless or JPEG-LS without pylibjpeg or GDCM, say)."""
    from pydicom.pixels import get_decoder

    syntax = getattr(getattr(header, "file_meta", None), "TransferSyntaxUID", None)
    try:
        if syntax is None or not syntax.is_compressed:
            return
        decoder = get_decoder(syntax)
    except (ValueError, NotImplementedError):  # not a transfer syntax pydicom knows: decoding says
        return
    if not decoder.is_available:
        needs = [text.split(" - requires ")[-1].removeprefix("numpy and ")
                 for text in decoder.missing_dependencies if " - requires " in text]
        would = f" (installing one of these would: {'; '.join(needs)})" if needs else ""
        raise DataError(f"{path}: its image is compressed as {syntax.name}, which no decoder installed here "
                        f"reads{would}; or export the echo uncompressed or as JPEG baseline")


def ultrasound_region(header, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), end-exclusive, of the largest 2-D ultrasound region the
    header records inside a frame of ``shape``, or None."""
    best, best_area = None, 0
    for region in header.get("SequenceOfUltrasoundRegions", None) or []:
        try:
            if int(region.get("RegionSpatialFormat", TISSUE_2D)) != TISSUE_2D:
                continue
            x0, y0 = int(region.RegionLocationMinX0), int(region.RegionLocationMinY0)
            x1, y1 = int(region.RegionLocationMaxX1), int(region.RegionLocationMaxY1)
        except (AttributeError, TypeError, ValueError):
            continue
        top, bottom = max(0, min(y0, y1)), min(shape[0], max(y0, y1) + 1)
        left, right = max(0, min(x0, x1)), min(shape[1], max(x0, x1) + 1)
        area = (bottom - top) * (right - left)
        if bottom - top >= MIN_REGION and right - left >= MIN_REGION and area > best_area:
            best, best_area = (top, bottom, left, right), area
    return best


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage (one frame)
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"  # Ultrasound Multi-frame Image Storage (a loop)
FRAME_TIME_TAG = 0x00181063  # Frame Time: what a multi-frame file's frames are spaced by
# Type 2 attributes of the ultrasound image IODs (PS3.3 A.6, A.7: Patient, General Study and
# General Image modules): present in every file, empty when unknown, or strict PACS refuse it
TYPE_2_UNKNOWN = ("PatientBirthDate", "PatientSex", "ReferringPhysicianName", "AccessionNumber",
                  "PatientOrientation")


@dataclass(frozen=True)
class DicomStudy:
    """One synthetic patient's study, shared by the files written for it: a viewer or PACS
    files a patient's views as series of one study. Without one, each file is its own study
    of the patient "SYNTHETIC"."""

    uid: str
    patient_id: str = "SYNTHETIC"

    @classmethod
    def new(cls, patient: str | None = None) -> "DicomStudy":
        """A study with a fresh UID, for ``patient`` (a generated patient's name) if given."""
        from pydicom.uid import generate_uid

        return cls(generate_uid(), f"SYNTHETIC-{patient}" if patient else "SYNTHETIC")


def write_dicom_echo(path: Path | str, frames: np.ndarray, fps: float | None = None,
                     spacing_mm: float | None = None, description: str = "synthetic echocardiogram",
                     heart_rate: float | None = None, study: DicomStudy | None = None,
                     series_number: int = 1, before_replacing=None) -> None:
    """Write a grey image (H, W) or a loop (T, H, W), uint8, as an ultrasound DICOM file that
    viewers and PACS open: Ultrasound Image Storage for one frame, Ultrasound Multi-frame Image
    Storage with its Frame Time (from ``fps``) and, when given, its ``heart_rate`` (beats a
    minute) for a loop; MONOCHROME2, uncompressed; every
    attribute the IOD requires is present (the unknown ones empty, :data:`TYPE_2_UNKNOWN`). One
    ultrasound region covers the frame with ``spacing_mm`` per pixel (by default
    :func:`engine.maskio.pixel_spacing_mm` of its width), so a viewer's calipers
    measure in centimetres. The file says what it is: a synthetic image, no patient (Patient's
    Name "SYNTHETIC^cardiGAN", Image Type DERIVED). Files given one ``study`` share its Study
    Instance UID and patient ID, each with its own series (``series_number``). Written atomically:
the frames go out in one call (the pixel data is one element), so a write cannot be stopped
between frames; ``before_replacing()`` is called once the file is complete under its temporary
name, and if it raises the file at ``path`` is left as it was."""
    import datetime

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from .. import __version__
    from ..fileio import atomic_path

    path = Path(path)
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if frames.ndim not in (2, 3) or min(frames.shape[-2:]) < 1:
        raise DataError(f"{path}: expected an image or a stack of frames, got shape {frames.shape}")
    loop = frames.ndim == 3 and frames.shape[0] > 1
    if loop and not (fps and fps > 0):
        raise DataError(f"{path}: a loop needs its frame rate")
    now = datetime.datetime.now()
    sop_class = US_MULTIFRAME if loop else US_IMAGE
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    study = study if study is not None else DicomStudy.new()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study.uid, generate_uid()
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = now.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = now.strftime("%H%M%S")
    ds.Modality, ds.ImageType = "US", ["DERIVED", "SECONDARY"]
    ds.PatientName, ds.PatientID = "SYNTHETIC^cardiGAN", study.patient_id
    for keyword in TYPE_2_UNKNOWN:  # required by the IOD, empty as nothing is known
        setattr(ds, keyword, "")
    ds.Manufacturer, ds.SoftwareVersions = "cardiGAN Studio", __version__
    ds.SeriesDescription = ds.ImageComments = f"cardiGAN Studio {description} (not a patient)"
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", int(series_number), 1
    ds.BurnedInAnnotation = "NO"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.Rows, ds.Columns = frames.shape[-2:]
    if loop:
        ds.NumberOfFrames = frames.shape[0]
        ds.FrameTime = f"{1000.0 / fps:.3f}"
        ds.CineRate = ds.RecommendedDisplayFrameRate = max(1, int(round(fps)))  # whole frames a second
        if heart_rate:
            ds.HeartRate = int(round(heart_rate))
        ds.FrameIncrementPointer = FRAME_TIME_TAG
    region = Dataset()
    region.RegionSpatialFormat, region.RegionDataType, region.RegionFlags = TISSUE_2D, 1, 0
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = frames.shape[-1] - 1, frames.shape[-2] - 1
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3  # centimetres
    if spacing_mm is None:
        from ..maskio import pixel_spacing_mm

        spacing_mm = pixel_spacing_mm(frames.shape[-1])
    region.PhysicalDeltaX = region.PhysicalDeltaY = spacing_mm / 10.0
    ds.SequenceOfUltrasoundRegions = Sequence([region])
    ds.PixelData = frames.tobytes()
    with atomic_path(path) as tmp:
        ds.save_as(tmp, enforce_file_format=True)
        if before_replacing is not None:
            before_replacing()
