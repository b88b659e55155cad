"""Label map -> image, with any model: load once, synthesize one map or a batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .devices import resolve_device
from .fast import FastGenerator, optimize_for_inference
from .fast.graphs import GraphedGenerator
from .errors import MaskError, ModelFileError
from .labels import NUM_CLASSES, one_hot, validate_label_map
from .models import GeneratorModel, open_model


class Synthesizer:
    """Holds one model on one device and turns label maps into images.

    Args:
        model: a loaded model, or anything :func:`engine.models.open_model` accepts
            (``demo``, ``simulator``, a ``.safetensors`` file, an NVlabs ``*_net_G.pth``).
        device: ``auto`` (cuda, then mps, then cpu) or an explicit device. The simulator
            always runs on the CPU.
        fast: run the inference-optimised network (:mod:`engine.fast`; same output to float
            rounding) instead of the plain one. On CUDA it is also captured as CUDA graphs.
        precision: ``auto`` (bfloat16 on CUDA, float32 elsewhere), ``fp32`` or ``bf16``.
            bfloat16 output stays within about 1e-2 (mean) of float32: one or two grey levels.
    """

    PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}

    def __init__(self, model, device: str | torch.device = "auto", fast: bool = True,
                 precision: str = "auto") -> None:
        if precision not in ("auto", *self.PRECISIONS):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {precision!r}")
        self.model = open_model(model) if isinstance(model, (str, Path)) else model
        if isinstance(self.model, GeneratorModel):
            if self.model.config.label_nc < NUM_CLASSES:
                raise ModelFileError(f"{self.model.name}: the model takes {self.model.config.label_nc} "
                                     f"label channels; cardiac label maps need {NUM_CLASSES}")
            self.device = resolve_device(device)
            generator = self.model.generator.to(self.device).eval()
            if precision == "auto":
                precision = "bf16" if self.device.type == "cuda" else "fp32"
            self.precision = precision
            if fast:
                self.network = optimize_for_inference(generator, self.device,
                                                      dtype=self.PRECISIONS[precision])
                if self.device.type == "cuda":
                    self.network = GraphedGenerator(self.network)
            else:
                if precision != "fp32":
                    raise ValueError("the plain network runs in fp32 only")
                self.network = generator
        else:
            resolve_device(device)  # still refuse a device that does not exist
            self.device = torch.device("cpu")
            self.network = None
            self.precision = "fp32"

    # -- properties ---------------------------------------------------------------------
    @property
    def stochastic(self) -> bool:
        return self.model.stochastic

    @property
    def output_channels(self) -> int:
        return self.model.config.output_nc if self.network is not None else 1

    # -- synthesis ----------------------------------------------------------------------
    def synthesize(self, labels: np.ndarray, seed: int = 0, source: str = "label map") -> np.ndarray:
        """Synthesize from a (H, W) map -> (C, H, W), or a (N, H, W) batch -> (N, C, H, W).

        Values are float32 in [-1, 1]. Batch item ``i`` uses seed ``seed + i``, so a batch
        gives the same images as one call per map (to float rounding).
        """
        labels = validate_label_map(labels, source)
        single = labels.ndim == 2
        batch = labels[None] if single else labels
        problem = self.model.check_input_size(*batch.shape[-2:])
        if problem:
            raise MaskError(f"{source}: {problem}")
        seeds = [seed + i for i in range(batch.shape[0])]
        if self.network is None:
            out = np.stack([self.model.render(item, s)[None] for item, s in zip(batch, seeds)])
        else:
            out = self._run_network(batch, seeds)
        return out[0] if single else out

    @torch.inference_mode()
    def _run_network(self, batch: np.ndarray, seeds: list[int]) -> np.ndarray:
        config = self.model.config
        ids = torch.from_numpy(np.array(batch, dtype=np.uint8))
        seg = one_hot(ids, config.label_nc)
        z = None
        if config.use_vae:
            z = torch.stack([torch.randn(config.z_dim, generator=torch.Generator().manual_seed(s))
                             for s in seeds])
            z = z.to(self.device)
        if isinstance(self.network, GraphedGenerator):
            out = self.network(ids.to(self.device), z)
        elif isinstance(self.network, FastGenerator):
            out = self.network(seg.to(self.device), z, labels=ids.to(self.device))
        else:
            out = self.network(seg.to(self.device), z)
        return out.float().cpu().numpy()

    def preview(self, labels: np.ndarray, seed: int = 0) -> np.ndarray:
        """A (H, W) uint8 greyscale image for one label map."""
        return to_uint8(self.synthesize(labels, seed))


def to_uint8(output: np.ndarray) -> np.ndarray:
    """(C, H, W) float output in [-1, 1] -> (H, W) uint8 (channels averaged)."""
    assert output.ndim == 3, output.shape
    grey = output.mean(axis=0)
    return np.clip(np.round((grey + 1.0) * 127.5), 0, 255).astype(np.uint8)
