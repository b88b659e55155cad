"""Helpers for tests: tiny generators with non-trivial weights and statistics."""

from __future__ import annotations

import numpy as np
import torch

from engine.labels import one_hot
from engine.nets import GeneratorConfig, SPADEGenerator


def randomized_generator(config: GeneratorConfig, seed: int = 0, size: int | None = None) -> SPADEGenerator:
    """A generator whose every tensor matters: random weights, BN statistics and spectral
    vectors set by a few training-mode passes (as the NVlabs fixture was made)."""
    torch.manual_seed(seed)
    g = SPADEGenerator(config)
    with torch.no_grad():
        for name, p in g.named_parameters():
            fan_in = max(1, p[0].numel()) if p.ndim > 1 else 1
            p.copy_(torch.randn_like(p) / fan_in ** 0.5 if p.ndim > 1 else torch.randn_like(p) * 0.1)
        g.train()
        side = size or config.image_size
        for i in range(3):
            labels = torch.randint(0, 4, (2, side, side), generator=torch.Generator().manual_seed(i))
            z = torch.randn(2, config.z_dim) if config.use_vae else None
            g(one_hot(labels, config.classes), z)
    return g.eval()


def blocky_labels(size: int, seed: int = 0) -> np.ndarray:
    """A (size, size) label map of random rectangles holding all four classes."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((size, size), np.uint8)
    for value in (1, 2, 3, 1, 2, 3):
        y, x = rng.integers(0, size - size // 4, 2)
        h, w = rng.integers(size // 8, size // 3, 2)
        labels[y:y + h, x:x + w] = value
    return labels


def apical_labels(count: int, size: int) -> np.ndarray:
    """(count, size, size) generated apical views, alternating 2CH/4CH and ED/ES."""
    from engine.anatomy import PHASES, VIEWS, template_mask

    return np.stack([template_mask(VIEWS[i % 2], PHASES[i % 2], seed=i, size=size) for i in range(count)])


def with_architecture(model_file, out, **fields):
    """A copy of a native model file at ``out`` whose header's architecture has ``fields``
    changed (the tensors untouched): a damaged or hand-edited file."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(model_file), "pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    header = json.loads(meta["cardigan"])
    header["architecture"].update(fields)
    meta["cardigan"] = json.dumps(header)
    save_file(tensors, str(out), metadata=meta)
    return out


def fan_model_file(path, size: int = 64, **changes):
    """A tiny randomized fan model (CLADE, 4 noise channels) of ``size`` saved at ``path``;
    ``changes`` are further GeneratorConfig fields."""
    from engine.models import GeneratorModel, save_model_file

    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, fan=True, image_size=size, **changes)
    return save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=size)), path)


def plain_model_file(path, size: int = 64):
    """A tiny randomized model that draws its own fan (no fan input), saved at ``path``: what
    an output-setting fit must refuse."""
    from engine.models import GeneratorModel, save_model_file

    config = GeneratorConfig(ngf=4, modulation="clade", noise_nc=4, image_size=size)
    return save_model_file(GeneratorModel(config=config, generator=randomized_generator(config, size=size)), path)


def tune_inputs(tmp_path, size: int):
    """(source, data, fitted) for a ``cardigan tune --fit-...`` test: a tiny fan model of
    ``size``, a three-image phantom dataset of that size, and the path for the tuned model."""
    from engine.data.phantom import write_phantom

    source = fan_model_file(tmp_path / "fan.safetensors", size)
    data = tmp_path / "data"
    write_phantom(data, count=3, size=size, seed=2)
    return source, data, tmp_path / "fitted.safetensors"
