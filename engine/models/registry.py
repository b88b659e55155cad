"""What a model is, and turning a model name or path into a loaded model.

Accepted everywhere a model is taken (``--model`` in the CLI, the studio's picker, its Open
dialog and drops, the export dialog), and decided only here:

- ``simulator``: the built-in ultrasound simulator (no weights, CPU);
- ``demo``: the demo model bundled with the app (listed only when this installation has it);
- a native ``.safetensors`` model file;
- a cardigan training run folder (or its ``checkpoints`` folder): the run's
  ``model.safetensors``;
- an NVlabs SPADE ``*_net_G.pth`` (or ``.pt``) checkpoint with ``opt.txt`` beside it, or its
  folder.

File suffixes count whatever their case (``MODEL.PTH`` is a checkpoint too); the file's
first bytes decide over its name when they can.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import resources
from ..errors import ModelFileError
from .model_hints import siblings_hint
from .modelfile import RUN_MODEL_NAME, load_model_file, native_size_in_file
from .nvlabs import RUN_STATES, import_nvlabs, nvlabs_native_size, run_model_beside, run_model_in

BUILTIN_MODELS = ("simulator", "demo")
BUILTIN_NAMES = {"simulator": "Simulator (built in)", "demo": "Demo model (bundled)"}
NATIVE_SUFFIXES = (".safetensors",)
TORCH_SUFFIXES = (".pth", ".pt")
MODEL_SUFFIXES = NATIVE_SUFFIXES + TORCH_SUFFIXES
KINDS_IN_WORDS = "a cardiGAN .safetensors model or an NVlabs SPADE *_net_G.pth checkpoint"
FOLDER_KINDS_IN_WORDS = "a training run folder (its model.safetensors) or an NVlabs SPADE checkpoints folder"
FILE_DIALOG_FILTER = ("Models (*.safetensors *.pth *.pt);;cardiGAN model (*.safetensors);;"
                      "NVlabs SPADE generator (*_net_G.pth *_net_G.pt);;All files (*)")
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_MAGIC = b"\x80"


def builtin_models() -> list[str]:
    """The built-in models this installation offers, the default first: the bundled demo
    model when there is one, and the simulator."""
    return (["demo"] if resources.demo_model_path() is not None else []) + ["simulator"]


def default_model() -> str:
    """The model used when none was chosen."""
    return builtin_models()[0]


def is_builtin(spec: str | Path) -> bool:
    return str(spec) in BUILTIN_MODELS


def as_builtin(spec: str | Path) -> str | Path:
    """``spec``, or ``"demo"`` where it is the path of the bundled demo model's file: the same
    model, named and listed once whichever way it was opened."""
    demo = resources.demo_model_path()
    if demo is None or is_builtin(spec) or not str(spec).strip():
        return spec
    path = Path(spec).expanduser()
    try:
        here, bundled = path.stat(), demo.stat()
    except OSError:  # no such file, or one that cannot be read: not the bundled one
        return spec
    # where the file system numbers no file (inode 0 for all: some network shares), the same
    # device and number would make every file on it the bundled one: the paths are compared
    same = os.path.samestat(here, bundled) if here.st_ino and bundled.st_ino else path.resolve() == demo.resolve()
    return "demo" if same else spec


def display_name(spec: str | Path) -> str:
    """A model's name for people: the built-in names, a file's name, and for the files that
    all share one name (NVlabs ``latest_net_G.pth``, a run's ``model.safetensors``) also the
    folder they belong to."""
    text = str(spec)
    if text in BUILTIN_NAMES:
        return BUILTIN_NAMES[text]
    path = Path(text)
    name = path.name.lower()
    if name.endswith(tuple("_net_g" + suffix for suffix in TORCH_SUFFIXES)) and path.parent.name:
        return f"{path.parent.name} ({path.name})"
    if name == RUN_MODEL_NAME and path.parent.name:  # every run's model has this name
        return f"{path.parent.name} (run)"
    return path.name or text


def short_name(spec: str | Path) -> str:
    """A model's name where room is short (the studio's Model box): a built-in model's name
    without its bracket ("Demo model"), any other :func:`display_name`."""
    name = display_name(spec)
    return name.split(" (")[0] if is_builtin(spec) else name


def accepts(path: str | Path) -> bool:
    """Whether ``path`` names a model by its name alone (a built-in name, or a file with a
    model suffix in any case): what a drop or a file picker hands to :func:`open_model`.
    A folder is a model only when :func:`open_model` finds a checkpoint in it."""
    if is_builtin(path):
        return True
    return Path(path).suffix.lower() in MODEL_SUFFIXES


def model_file_of(spec: str | Path) -> str | Path:
    """The file a model folder stands for: a training run folder (or its checkpoints folder)
    its run's model file; anything else as it is (an NVlabs checkpoint folder is read as a
    folder, by :func:`open_model`)."""
    if is_builtin(spec) or not str(spec).strip():
        return spec
    path = Path(spec).expanduser()
    model = run_model_in(path) if path.is_dir() else None
    return spec if model is None else model


def is_model_folder(path: str | Path) -> bool:
    """Whether the folder ``path`` is one :func:`open_model` takes as a model, or refuses by
    what it is: an NVlabs SPADE checkpoints folder (``*_net_G.pth``), a training run folder or
    its checkpoints folder. Any other folder holds no model."""
    folder = Path(path)
    if not folder.is_dir():
        return False
    if any(folder.glob("*_net_G.pth")) or run_model_in(folder) is not None:
        return True
    return (run_model_beside(folder).parent / RUN_STATES).is_dir()  # a run before its first model


def open_model(spec: str | Path):
    """Load the model named by ``spec`` (see the module docstring)."""
    text = str(spec)
    if not text.strip():  # Path("") is the working folder, which is no model the user named
        raise ModelFileError(f"the model name is empty (give {KINDS_IN_WORDS}, 'demo' or 'simulator')")
    if text == "simulator":
        from .builtin import SimulatorModel

        return SimulatorModel()
    if text == "demo":
        path = resources.demo_model_path()
        if path is None:
            raise ModelFileError("no demo model is bundled with this installation "
                                 "(use --model simulator or a model file)")
        model = load_model_file(path)
        model.name = "demo"
        return model
    path = Path(model_file_of(spec)).expanduser()
    if path.is_dir():
        return import_nvlabs(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file (give {KINDS_IN_WORDS}, 'demo' or "
                             f"'simulator'){siblings_hint(path)}")
    kind = sniff(path)
    if kind == "safetensors":
        return load_model_file(path)
    if kind == "torch":
        return import_nvlabs(path)
    raise ModelFileError(f"{path}: not a model file (expected {KINDS_IN_WORDS})")


def native_size_of(spec: str | Path) -> tuple[int, int] | None:
    """(H, W) the model named by ``spec`` draws at, read without loading it (a native file's
    description, an NVlabs checkpoint's ``opt.txt``): what a front end proposes before the
    model is loaded. None for a model that draws at any size (the simulator); raises
    :class:`ModelFileError` when ``spec`` names no model it can read, or one whose size only
    its weights tell (an NVlabs checkpoint without ``opt.txt``)."""
    text = str(spec)
    if text == "simulator":
        return None
    if text == "demo":
        demo = resources.demo_model_path()
        if demo is None:
            raise ModelFileError("no demo model is bundled with this installation")
        return native_size_in_file(demo)
    if not text.strip():
        raise ModelFileError(f"the model name is empty (give {KINDS_IN_WORDS}, 'demo' or 'simulator')")
    path = Path(model_file_of(spec)).expanduser()
    if path.is_dir():
        return nvlabs_native_size(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file{siblings_hint(path)}")
    kind = sniff(path)
    if kind == "unknown":
        raise ModelFileError(f"{path}: not a model file (expected {KINDS_IN_WORDS})")
    return native_size_in_file(path) if kind == "safetensors" else nvlabs_native_size(path)


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
    if path.suffix.lower() in NATIVE_SUFFIXES:
        return "safetensors"
    if path.suffix.lower() in TORCH_SUFFIXES:
        return "torch"
    return "unknown"
