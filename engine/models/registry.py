"""Turning a model name or path into a loaded model.

Accepted everywhere a model is taken (``--model`` in the CLI, the app's model picker):

- ``simulator``: the built-in ultrasound simulator (no weights, CPU);
- ``demo``: the demo model bundled with the app;
- a native ``.safetensors`` model file;
- an NVlabs SPADE ``*_net_G.pth`` checkpoint (with ``opt.txt`` beside it), or its folder.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelFileError
from ..resources import demo_model_path
from .handle import GeneratorModel
from .modelfile import load_model_file
from .nvlabs import import_nvlabs

BUILTIN_MODELS = ("simulator", "demo")
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_MAGIC = b"\x80"


def open_model(spec: str | Path):
    """Load the model named by ``spec`` (see the module docstring)."""
    text = str(spec)
    if text == "simulator":
        from .builtin import SimulatorModel

        return SimulatorModel()
    if text == "demo":
        path = demo_model_path()
        if path is None:
            raise ModelFileError("no demo model is bundled with this installation "
                                 "(use --model simulator or a model file)")
        model = load_model_file(path)
        model.name = "demo"
        return model
    path = Path(spec).expanduser()
    if path.is_dir():
        return import_nvlabs(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file (give a .safetensors model, an NVlabs "
                             "*_net_G.pth checkpoint, 'demo' or 'simulator')")
    kind = sniff(path)
    if kind == "safetensors":
        return load_model_file(path)
    if kind == "torch":
        return import_nvlabs(path)
    raise ModelFileError(f"{path}: not a model file (expected a cardiGAN .safetensors model or an "
                         "NVlabs SPADE *_net_G.pth checkpoint)")


def sniff(path: Path) -> str:
    """``safetensors`` | ``torch`` | ``unknown`` from the file's first bytes and name."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(head) >= 9 and head[8:9] == b"{":  # safetensors: u64 header length, then JSON
        return "safetensors"
    if head.startswith(ZIP_MAGIC) or (head[:1] == PICKLE_MAGIC and head[1:2] in b"\x02\x03\x04\x05"):
        return "torch"
    if path.suffix == ".safetensors":
        return "safetensors"
    if path.suffix in (".pth", ".pt"):
        return "torch"
    return "unknown"


def is_generator_model(model) -> bool:
    return isinstance(model, GeneratorModel)
