"""MetaImage (``.mhd`` + ``.raw``) headers checked before ITK reads them.

ITK's MetaImage reader prints its complaints straight to the process's stderr (a torn
``.raw``, a missing data file) and then fails with a vague message. Checking the header
first gives one line that names the file and the problem; :func:`native_stderr_silenced`
keeps whatever ITK still prints off the terminal.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataError

ELEMENT_BYTES = {"MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4,
                 "MET_UINT": 4, "MET_LONG": 4, "MET_ULONG": 4, "MET_LONG_LONG": 8,
                 "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8}


def read_header(path: Path) -> dict[str, str]:
    """``Key = value`` lines of a MetaImage header (stops at the data when it is inline)."""
    header: dict[str, str] = {}
    try:
        text = path.read_bytes()[:65536].decode("latin-1")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        header[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    return header


def separate_data_file(header: dict[str, str], path: Path) -> Path | None:
    """The one file beside the header ``path`` that ``header`` names for its pixel data (a
    ``.raw`` or ``.zraw``); None when the data is inline (``LOCAL``) or in a list or pattern of
    files."""
    data_name = header.get("ElementDataFile", "")
    if not data_name or data_name == "LOCAL" or data_name.startswith("LIST") or "%" in data_name:
        return None
    return path.parent / data_name


def data_file_size(path: Path) -> int | None:
    """The bytes on disk of the pixel data file the MetaImage header ``path`` names (the
    header itself is a few hundred bytes); None when there is no such one file."""
    try:
        data = separate_data_file(read_header(path), path)
        return data.stat().st_size if data is not None else None
    except (DataError, OSError):
        return None


def check_header(path: Path) -> None:
    """Refuse, in one line, a header whose pixel data cannot be what it describes."""
    header = read_header(path)
    try:
        dims = [int(v) for v in header.get("DimSize", "").split()]
    except ValueError:
        dims = []
    if not dims or any(d <= 0 for d in dims):
        raise DataError(f"{path}: not a usable MetaImage header (DimSize {header.get('DimSize')!r})")
    element = header.get("ElementType", "")
    if element not in ELEMENT_BYTES:
        raise DataError(f"{path}: unknown ElementType {element!r} in the MetaImage header")
    data_name = header.get("ElementDataFile", "")
    if not data_name:
        raise DataError(f"{path}: the MetaImage header names no ElementDataFile")
    data = separate_data_file(header, path)
    if data is None:
        return  # inline or multi-file data: ITK checks it
    if not data.is_file():
        raise DataError(f"{path}: its pixel data file {data_name} is missing")
    if header.get("CompressedData", "False").lower() == "true":
        return
    channels = int(header.get("ElementNumberOfChannels", "1") or 1)
    expected = math.prod(dims) * ELEMENT_BYTES[element] * channels
    actual = data.stat().st_size
    if actual < expected:
        raise DataError(f"{path}: {data_name} holds {actual} bytes, but DimSize "
                        f"{' x '.join(map(str, dims))} of {element} needs {expected}")


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native libraries write to file descriptor 2 nowhere for the block."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to protect
        yield
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
