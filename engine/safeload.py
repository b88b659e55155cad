"""The one place that reads PyTorch pickle files: tensors and plain containers only.

``torch.load(weights_only=True)`` refuses any pickled object that is not a tensor, number,
string or container, so a crafted checkpoint cannot run code while it is read.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from .errors import CardiganError


def load_tensor_file(path: Path, what: str, error: type[CardiganError] = CardiganError) -> object:
    """Read ``path`` safely; problems become one-line ``error``s naming ``what`` it should be."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise error(f"{path}: refused: the file holds Python objects other than tensors "
                    "(loading it could run code)") from None
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, ImportError, KeyError,
            IndexError, TypeError) as exc:
        raise error(f"{path}: not a readable {what} ({type(exc).__name__})") from None
