"""The one place that reads PyTorch pickle files: tensors and plain containers only.

``torch.load(weights_only=True)`` refuses any pickled object that is not a tensor, number,
string or container, so a crafted checkpoint cannot run code while it is read.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

from .errors import CardiganError


# torch.save writes a zip archive; files from before PyTorch 1.6 are a bare pickle (protocol 2+)
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTOCOL_OPCODE = 0x80


def looks_like_torch_file(path: Path) -> bool:
    """Whether the first bytes are those of a torch.save file (a text file, an image... are not)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return True  # let torch.load report the problem
    return head == ZIP_MAGIC or (len(head) >= 2 and head[0] == PICKLE_PROTOCOL_OPCODE)


def load_tensor_file(path: Path, what: str, error: type[CardiganError] = CardiganError) -> object:
    """Read ``path`` safely; problems become one-line ``error``s naming ``what`` it should be."""
    import torch

    if not looks_like_torch_file(path):
        raise error(f"{path}: not a {what} (not a file written by torch.save)")
    try:  # an open file, so torch reads the content and never picks a reader by the file's name
        with open(path, "rb") as handle, warnings.catch_warnings():
            # torch warns of pickle protocols it did not write itself; what it then refuses
            # is said below in one line, and a warning would add lines before it
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise error(f"{path}: refused: the file holds Python objects other than tensors "
                    "(loading it could run code)") from None
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, ImportError, KeyError,
            IndexError, TypeError) as exc:
        if is_cut_short(exc) or zip_end_missing(path):
            raise error(f"{path}: damaged or cut short (an interrupted copy or download?): not a "
                        f"readable {what}") from None
        raise error(f"{path}: not a readable {what} ({type(exc).__name__})") from None


def is_cut_short(exc: BaseException) -> bool:
    """Whether torch's reader failed on a file whose end is missing: an old-style file runs out
    (EOFError), a zip archive lacks its central directory or a record's bytes."""
    text = str(exc).lower()
    return isinstance(exc, EOFError) or any(
        sign in text for sign in ("central directory", "failed reading", "unexpected eof", "corrupted"))


def zip_end_missing(path: Path) -> bool:
    """Whether ``path`` is a zip archive (torch.save's format) without the record that ends
    one: its last bytes were lost."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return False
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 65_557))  # the end record (22 bytes) and a comment of up to 64 KiB
            return b"PK\x05\x06" not in handle.read()
    except OSError:
        return False
