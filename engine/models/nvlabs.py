"""Importing NVlabs SPADE generator checkpoints (``latest_net_G.pth`` + ``opt.txt``).

The checkpoint is untrusted input: it is read with ``torch.load(weights_only=True)``, which
refuses any pickled object that is not a tensor or a plain container, so a crafted file cannot
run code. When ``opt.txt`` is missing the architecture is inferred from tensor shapes.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ..errors import CardiganError, ModelFileError
from ..fileio import sha256_file
from ..safeload import load_tensor_file
from ..nets import GeneratorConfig, SPADEGenerator
from .handle import GeneratorModel
from .model_hints import siblings_hint, subfolders_hint
from .modelfile import RUN_MODEL_NAME, least_numbers, load_weights
from .schema import ARCHITECTURE, check_fields

CHECKPOINT_PATTERN = re.compile(r"^(latest|\d+)_net_G\.pth$")


# lines every SPADE opt.txt holds: a file with none of them is something else
OPT_TXT_KEYS = {"ngf", "label_nc", "norm_G", "crop_size"}


def parse_opt_txt(path: Path) -> dict[str, str]:
    """``name: value  [default: x]`` lines of SPADE's ``opt.txt`` as a dict of strings."""
    options: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if ":" not in line or line.strip().startswith("-"):
            continue
        key, _, rest = line.partition(":")
        value = rest.split("[default:")[0].strip()
        options[key.strip()] = value
    return options


def _flag(options: dict[str, str], key: str, default: bool = False) -> bool:
    return options.get(key, str(default)).strip().lower() == "true"


def parse_norm_g(norm_g: str) -> tuple[bool, str, int]:
    """``spectralspadesyncbatch3x3`` -> (spectral, param-free norm, kernel size)."""
    match = re.fullmatch(r"(spectral)?spade(syncbatch|batch|instance)(\d+)x\d+", norm_g)
    if not match:
        raise ModelFileError(f"unsupported norm_G {norm_g!r} (expected e.g. spectralspadesyncbatch3x3)")
    return bool(match.group(1)), match.group(2), int(match.group(3))


# opt.txt names of the numbers it gives, the architecture field each sets, and its default
OPT_NUMBERS = {"ngf": ("ngf", "64"), "label_nc": ("label_nc", "13"), "output_nc": ("output_nc", "3"),
               "z_dim": ("z_dim", "256"), "crop_size": ("image_size", "256"),
               "aspect_ratio": ("aspect_ratio", "1.0")}


def option_numbers(options: dict[str, str], where: str) -> dict[str, int | float]:
    """The numbers of SPADE's options by architecture field, each checked against the model
    schema's range; a bad one is refused naming ``where``, the option and its value."""
    import math

    numbers: dict[str, int | float] = {}
    for key, (name, default) in OPT_NUMBERS.items():
        text = options.get(key, default).strip()
        kind, low, high = ARCHITECTURE[name]
        try:
            value = float(text) if kind is float else int(text)
        except ValueError:
            shown = text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"
            raise ModelFileError(f"{where}: {key} is {shown!r}, not {'a number' if kind is float else 'a whole number'}") from None
        if kind is float and not math.isfinite(value) or not low <= value <= high:
            raise ModelFileError(f"{where}: {key} is {value}; it must be between {low} and {high}")
        numbers[name] = value
    return numbers


def config_from_options(options: dict[str, str], where: str = "opt.txt") -> GeneratorConfig:
    """The generator architecture described by SPADE's options (read from ``where``)."""
    if options.get("netG", "spade") != "spade":
        raise ModelFileError(f"only SPADE generators can be imported (netG is {options['netG']!r})")
    spectral, norm, kernel = parse_norm_g(options.get("norm_G", "spectralspadesyncbatch3x3"))
    numbers = option_numbers(options, where)
    numbers["label_nc"] += int(_flag(options, "contain_dontcare_label"))
    numbers["label_nc"] += 0 if _flag(options, "no_instance") else 1
    try:
        return GeneratorConfig(
            **numbers, upsampling=options.get("num_upsampling_layers", "normal"),
            norm=norm, modulation="spade", spectral=spectral, kernel_size=kernel,
            use_vae=_flag(options, "use_vae"))
    except (CardiganError, ValueError) as exc:
        raise ModelFileError(f"{where}: {exc}") from None


def infer_config(state: dict[str, torch.Tensor], image_size: int = 256) -> GeneratorConfig:
    """Recover the architecture from tensor shapes alone.

    ``normal`` and ``more`` upsampling have identical weights; ``normal`` is assumed unless
    an ``up_4`` block exists (``most``). The image size cannot be read from the weights of a
    non-VAE model (it is fully convolutional), so ``image_size`` is only a default.
    """
    try:
        fc = state["fc.weight"]
        head = state.get("head_0.conv_0.weight_orig", state.get("head_0.conv_0.weight"))
        ngf = head.shape[0] // 16
        mlp = state["head_0.norm_0.mlp_shared.0.weight"]
        use_vae = fc.ndim == 2
        label_nc = mlp.shape[1]
        upsampling = "most" if any(k.startswith("up_4.") for k in state) else "normal"
        size = image_size
        if use_vae:
            cells = fc.shape[0] // (16 * ngf)
            side = int(round(cells ** 0.5))
            size = side * 2 ** (7 if upsampling == "most" else 5)
        return GeneratorConfig(
            ngf=ngf, label_nc=label_nc, output_nc=state["conv_img.weight"].shape[0],
            upsampling=upsampling,
            norm="syncbatch" if "head_0.norm_0.param_free_norm.running_mean" in state else "instance",
            modulation="spade",
            spectral="head_0.conv_0.weight_orig" in state,
            kernel_size=mlp.shape[-1], hidden=mlp.shape[0],
            use_vae=use_vae, z_dim=fc.shape[1] if use_vae else 256, image_size=size,
        )
    except (KeyError, AttributeError, IndexError, ZeroDivisionError):
        raise ModelFileError("the checkpoint does not look like a SPADE generator "
                             "(expected fc, head_0 ... conv_img weights)") from None


def load_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """Read a ``.pth`` state dict safely (tensors only, never arbitrary objects)."""
    state = load_tensor_file(path, "PyTorch checkpoint", ModelFileError)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if isinstance(state, dict) and {"generator", "iteration"} <= set(state):
        raise ModelFileError(f"{path}: a training state (what train --resume continues from), not a "
                             f"model; give the run's model, {run_model_beside(path.parent)}")
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise ModelFileError(f"{path}: not a generator state dict (expected name -> tensor)")
    return {k.removeprefix("module."): v for k, v in state.items()}


# what SPADE's train.py saves beside the generator, told by the file name or the tensor names
OTHER_NETWORKS = {"D": ("discriminator", "discriminator_"), "E": ("style encoder", "fc_mu.")}


def check_is_generator(path: Path, state: dict[str, torch.Tensor]) -> None:
    """Refuse SPADE's discriminator or style encoder checkpoint (``*_net_D.pth``,
    ``*_net_E.pth``, saved beside the generator) by name, pointing to the generator."""
    if "fc.weight" in state or "conv_img.weight" in state:
        return
    match = re.fullmatch(r"(.*)_net_([A-Za-z])\.pth?", path.name, re.IGNORECASE)
    for letter, (what, prefix) in OTHER_NETWORKS.items():
        if (match and match.group(2).upper() == letter) or any(k.startswith(prefix) for k in state):
            generator = f"{match.group(1)}_net_G.pth" if match else "*_net_G.pth"
            raise ModelFileError(f"{path}: SPADE's {what}, not its generator; give {generator} "
                                 "from the same folder")


# the folder of a cardigan training run's states, beside its model
RUN_STATES = "checkpoints"


def run_model_beside(folder: Path) -> Path:
    """Where the model of the run that holds ``folder`` (the run, or its checkpoints folder) is."""
    return (folder.parent if folder.name == RUN_STATES else folder) / RUN_MODEL_NAME


def run_model_in(folder: Path) -> Path | None:
    """The model of the cardigan training run ``folder`` is (or whose checkpoints folder it
    is), None when it holds no model: a run folder names its model, as an NVlabs SPADE
    checkpoint folder names its generator."""
    model = run_model_beside(folder)
    return model if model.is_file() else None


def check_not_a_run_folder(path: Path) -> None:
    """Refuse a cardigan training run folder (or its checkpoints folder) that has no model
    yet, saying how it gets one."""
    model = run_model_beside(path)
    states = model.parent / RUN_STATES
    what = "a training run's checkpoints folder" if path.name == RUN_STATES else "a training run folder"
    if states.is_dir() and any(states.glob("state_*.pt")):
        raise ModelFileError(f"{path}: {what} without a model yet (a run writes "
                             f"{model.name} at its first saved state); train it further with --resume")


def find_checkpoint(path: Path) -> Path:
    """A checkpoint file given a file or a SPADE ``checkpoints/<name>`` folder."""
    if path.is_dir():
        latest = path / "latest_net_G.pth"
        if latest.is_file():
            return latest
        if latest.exists() or latest.is_symlink():
            raise ModelFileError(f"{latest}: not a readable checkpoint file (a folder or a broken link)")
        epochs = sorted((p for p in path.glob("*_net_G.pth")
                         if re.fullmatch(r"\d+_net_G\.pth", p.name) and p.is_file()),
                        key=lambda p: int(p.name.split("_")[0]))
        if not epochs:
            check_not_a_run_folder(path)
            raise ModelFileError(f"{path}: no model in this folder (neither a training run's {RUN_MODEL_NAME} "
                                 f"nor an NVlabs SPADE *_net_G.pth checkpoint){subfolders_hint(path)}")
        return epochs[-1]
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file{siblings_hint(path)}")
    return path


def nvlabs_native_size(path: Path | str) -> tuple[int, int]:
    """(H, W) an NVlabs SPADE checkpoint (or its folder) draws at, from the ``opt.txt`` beside
    it, without reading its weights. Without one the size is only known from the weights (a
    VAE model's; :func:`infer_config`), so that is refused too."""
    checkpoint = find_checkpoint(Path(path))
    opt_path = checkpoint.parent / "opt.txt"
    if not opt_path.is_file():
        raise ModelFileError(f"{checkpoint}: no opt.txt beside it; its size is known once it is loaded")
    options = parse_opt_txt(opt_path)
    if not OPT_TXT_KEYS & set(options):
        raise ModelFileError(f"{opt_path}: not a SPADE options file")
    config = config_from_options(options, str(opt_path))
    return config.image_height, config.image_size


def import_nvlabs(path: Path | str) -> GeneratorModel:
    """Load an NVlabs SPADE generator checkpoint as a :class:`GeneratorModel`."""
    path = find_checkpoint(Path(path))
    state = load_checkpoint(path)
    check_is_generator(path, state)
    opt_path = path.parent / "opt.txt"
    provenance: dict = {"source": "NVlabs SPADE checkpoint", "file": path.name,
                        "sha256": sha256_file(path)}
    if opt_path.is_file():
        options = parse_opt_txt(opt_path)
        if not OPT_TXT_KEYS & set(options):
            raise ModelFileError(f"{opt_path}: not a SPADE options file (none of "
                                 f"{', '.join(sorted(OPT_TXT_KEYS))}); fix it or move it away to "
                                 "infer the architecture from the checkpoint")
        config = config_from_options(options, str(opt_path))
        provenance["architecture_from"] = "opt.txt"
        provenance["options"] = {k: options[k] for k in (
            "name", "ngf", "label_nc", "contain_dontcare_label", "no_instance", "norm_G",
            "num_upsampling_layers", "crop_size", "use_vae", "niter", "niter_decay") if k in options}
    else:
        try:
            config = infer_config(state)
        except ModelFileError as exc:  # the shapes say nothing of the file: name it, as every refusal here does
            raise ModelFileError(f"{path}: {exc}") from None
        provenance["architecture_from"] = "tensor shapes (no opt.txt beside the checkpoint)"
    try:  # opt.txt and tensor shapes are untrusted: sane values before anything is built
        check_fields(config.to_dict(), ARCHITECTURE, "the architecture")
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc} (from {provenance['architecture_from'].split(' ')[0]})") from None
    held = sum(value.numel() for value in state.values() if isinstance(value, torch.Tensor))
    needed = least_numbers(config)
    if held < needed:  # refused before a network of that size is allocated
        raise ModelFileError(f"{path}: weights do not match the architecture in "
                             f"{provenance['architecture_from'].split(' ')[0]} (the checkpoint holds "
                             f"{held:,} numbers, the architecture needs {needed:,})")
    generator = SPADEGenerator(config)
    expected = {k: tuple(v.shape) for k, v in generator.state_dict().items()}
    missing, unexpected = set(expected) - set(state), set(state) - set(expected)
    if missing or unexpected:
        example = sorted(missing or unexpected)[0]
        raise ModelFileError(f"{path}: weights do not match the architecture in "
                             f"{provenance['architecture_from'].split(' ')[0]} ({len(missing)} missing, "
                             f"{len(unexpected)} unexpected tensors, e.g. {example})")
    for name, shape in expected.items():
        if tuple(state[name].shape) != shape:
            raise ModelFileError(f"{path}: tensor {name} has shape {tuple(state[name].shape)}, the "
                                 f"architecture needs {shape}")
    load_weights(generator, state, path)
    name = path.parent.name if path.name.startswith("latest") else path.stem
    return GeneratorModel(config=config, generator=generator.eval(), kind="nvlabs", name=name,
                          path=path, provenance=provenance)
