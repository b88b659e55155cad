"""Native model files: one ``.safetensors`` file with the architecture in its metadata.

Layout: tensors ``generator.<NVlabs state-dict name>`` (``encoder.<name>`` for VAE
models, ``refiner.<name>`` for models with a texture refiner); metadata key ``cardigan``
holds a JSON document::

    {"format": "cardigan-model", "schema": 1, "architecture": {...GeneratorConfig...},
     "labels": [...], "image_size": [H, W], "output_channels": C,
     "encoder": {"ngf": .., "input_nc": .., "image_size": .., "z_dim": .., "norm": ..} | null,
     "refiner": {"width": .., "near_field": ..(optional)} | null (absent in files written before it existed),
     "provenance": {...}}

Loading never unpickles anything and validates every tensor against the architecture.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..errors import ModelFileError
from ..fileio import atomic_path
from ..labels import NUM_CLASSES, label_table
from ..nets import GeneratorConfig, SPADEGenerator
from ..nets.encoder import StyleEncoder
from ..nets.refiner import Refiner
from .handle import GeneratorModel
from .schema import check_document

FORMAT = "cardigan-model"
SCHEMA = 1
METADATA_KEY = "cardigan"


def save_model_file(model: GeneratorModel, path: Path | str, provenance: dict | None = None) -> Path:
    """Write ``model`` as a native model file (atomically); returns the path."""
    path = Path(path)
    tensors = {f"generator.{k}": v.detach().cpu().contiguous()
               for k, v in model.generator.state_dict().items()}
    encoder_meta = None
    if model.encoder is not None:
        tensors.update({f"encoder.{k}": v.detach().cpu().contiguous()
                        for k, v in model.encoder.state_dict().items()})
        encoder_meta = dict(model.encoder.hparams)
    refiner = getattr(model, "refiner", None)
    if refiner is not None:
        tensors.update({f"refiner.{k}": v.detach().cpu().contiguous() for k, v in refiner.state_dict().items()})
    document = {
        "format": FORMAT,
        "schema": SCHEMA,
        "architecture": model.config.to_dict(),
        "labels": model.labels,
        "image_size": list(model.image_size),
        "output_channels": model.config.output_nc,
        "encoder": encoder_meta,
        "refiner": refiner.record() if refiner is not None else None,
        "provenance": {**model.provenance, **(provenance or {})},
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: json.dumps(document)})
    return path


def read_document(path: Path) -> tuple[dict, list[str]]:
    """The metadata document and tensor names of a native file, validated."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            names = list(handle.keys())
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: not a readable model file (damaged or not safetensors: "
                             f"{str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__})") from None
    if METADATA_KEY not in metadata:
        raise ModelFileError(f"{path}: a safetensors file, but not a cardiGAN model "
                             "(no architecture in its metadata)")
    try:
        document = json.loads(metadata[METADATA_KEY])
    except (ValueError, RecursionError) as exc:  # bad JSON, nesting past Python's limit, 5,000 digits
        reason = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
        raise ModelFileError(f"{path}: the model description in the file is damaged ({reason})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a cardiGAN model file")
    schema = document.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ModelFileError(f"{path}: the model description's schema is {short_value(schema)}, not a "
                             "version number (the file is damaged or was edited)")
    if schema > SCHEMA:
        raise ModelFileError(f"{path}: model file schema {short_value(schema)} is newer than this "
                             f"cardiGAN supports ({SCHEMA}); please upgrade")
    return document, names


def header_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor shapes from the safetensors header (no tensor is read)."""
    with open(path, "rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
    return {name: tuple(entry["shape"]) for name, entry in header.items() if name != "__metadata__"}


def read_architecture(path: Path) -> tuple[dict, list[str], GeneratorConfig]:
    """The validated description, tensor names and architecture of a native file (no tensor
    is read)."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    document, names = read_document(path)
    if not isinstance(document.get("architecture"), dict):
        raise ModelFileError(f"{path}: the model description has no architecture")
    try:
        check_document(document)
        config = GeneratorConfig.from_dict(document["architecture"])
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return document, names, config


def native_size_in_file(path: Path | str) -> tuple[int, int]:
    """(H, W) the native model file ``path`` draws at, from its description alone."""
    config = read_architecture(Path(path))[2]
    return config.image_height, config.image_size


def least_numbers(config: GeneratorConfig) -> int:
    """How many numbers a generator of ``config`` holds at least, counted on the meta device
    (nothing allocated), so that a file too small for its own architecture is refused before
    a network of that size is built. Spectral norm is left out of the count: it adds two
    vectors per layer, and on the meta device its initialisation runs torch's Python reference
    kernels, whose first use imports torch's compiler stack (seconds of every process's first
    load). The networks that are loaded are then built on the CPU, with no device context."""
    with torch.device("meta"):
        generator = SPADEGenerator(dataclasses.replace(config, spectral=False))
    return sum(tensor.numel() for tensor in generator.state_dict().values())


def load_model_file(path: Path | str) -> GeneratorModel:
    """Read and validate a native model file."""
    path = Path(path)
    document, names, config = read_architecture(path)
    encoder_meta = document.get("encoder")
    refiner_meta = document.get("refiner")

    shapes = header_shapes(path)
    held = sum(math.prod(shape) for name, shape in shapes.items() if name.startswith("generator."))
    needed = least_numbers(config)
    if held < needed:  # refused before a network of that size is allocated
        raise ModelFileError(f"{path}: weights do not match the stored architecture (the file holds "
                             f"{held:,} generator numbers, the architecture needs {needed:,})")
    generator = SPADEGenerator(config)
    encoder = StyleEncoder(**encoder_meta) if encoder_meta else None
    refiner = Refiner(refiner_meta["width"], refiner_meta.get("near_field")) if refiner_meta is not None else None
    expected = {f"generator.{k}": tuple(v.shape) for k, v in generator.state_dict().items()}
    if encoder is not None:
        expected |= {f"encoder.{k}": tuple(v.shape) for k, v in encoder.state_dict().items()}
    if refiner is not None:
        expected |= {f"refiner.{k}": tuple(v.shape) for k, v in refiner.state_dict().items()}
    missing, unexpected = set(expected) - set(names), set(names) - set(expected)
    if missing or unexpected:
        raise ModelFileError(f"{path}: weights do not match the stored architecture "
                             f"({len(missing)} missing, {len(unexpected)} unexpected tensors)")
    for name, shape in expected.items():
        if shapes.get(name) != shape:
            raise ModelFileError(f"{path}: tensor {name} has shape {shapes.get(name)}, the "
                                 f"architecture needs {shape}")
    tensors = read_tensors(path)
    load_weights(generator, {k[len("generator."):]: v for k, v in tensors.items()
                             if k.startswith("generator.")}, path)
    if encoder is not None:
        load_weights(encoder, {k[len("encoder."):]: v for k, v in tensors.items()
                               if k.startswith("encoder.")}, path)
        encoder.eval()
    if refiner is not None:
        load_weights(refiner, {k[len("refiner."):]: v for k, v in tensors.items() if k.startswith("refiner.")}, path)
        refiner.eval()
    labels = document.get("labels") or label_table()
    if len(labels) != NUM_CLASSES:
        raise ModelFileError(f"{path}: the model was trained with {len(labels)} classes; "
                             f"cardiGAN label maps have {NUM_CLASSES}")
    return GeneratorModel(config=config, generator=generator.eval(), kind="native",
                          name=model_name_of(path), path=path, provenance=document.get("provenance") or {},
                          labels=labels, encoder=encoder, refiner=refiner)


# the name every training run gives its model, inside the run's folder
RUN_MODEL_NAME = "model.safetensors"


def model_name_of(path: Path) -> str:
    """The name a model file goes by in messages and manifests: its stem, or for a training
    run's model (every one is ``model.safetensors``) the run folder's name."""
    if path.name.lower() == RUN_MODEL_NAME and path.parent.name:
        return path.parent.name
    return path.stem


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        tensors = {}
        with safe_open(str(path), framework="pt") as handle:
            for name in handle.keys():
                tensors[name] = handle.get_tensor(name)
        return tensors
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: the weights are damaged or truncated "
                             f"({type(exc).__name__})") from None


WEIGHT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def tensor_storage_problem(tensor: torch.Tensor) -> str | None:
    """Why a loaded tensor cannot be a weight whatever its values (no data, sparse, a
    floating-point format PyTorch cannot check or compute with), or None."""
    if tensor.device.type == "meta":
        return "holds no data (a meta tensor)"
    if tensor.layout != torch.strided:
        return f"is a {str(tensor.layout).replace('torch.', '')} tensor; weights must be dense"
    if tensor.is_floating_point() and tensor.dtype not in WEIGHT_DTYPES:
        return (f"holds {str(tensor.dtype).replace('torch.', '')} values; weights must be float16, "
                "bfloat16, float32 or float64")
    return None


def short_value(value, limit: int = 24) -> str:
    """``repr(value)`` cut short (an edited file may hold a number of 400 digits)."""
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 200 else f"a {len(str(value))}-digit number"
    return text if len(text) <= limit else text[:limit] + "..."


def load_weights(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """Strictly load ``state`` into ``module``, refusing wrong shapes and non-finite values."""
    own = module.state_dict()
    for name, tensor in state.items():
        if name not in own:
            raise ModelFileError(f"{path}: unexpected tensor {name}")
        problem = tensor_storage_problem(tensor)
        if problem:
            raise ModelFileError(f"{path}: tensor {name} {problem}")
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise ModelFileError(f"{path}: tensor {name} has shape {tuple(tensor.shape)}, the "
                                 f"architecture needs {tuple(own[name].shape)}")
        if own[name].is_floating_point() and not tensor.is_floating_point():
            raise ModelFileError(f"{path}: tensor {name} holds {str(tensor.dtype).replace('torch.', '')} "
                                 "values; weights must be floating point")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelFileError(f"{path}: tensor {name} holds NaN or infinite values")
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"{path}: weights do not fit the architecture "
                             f"({str(exc).splitlines()[0][:120]})") from None
