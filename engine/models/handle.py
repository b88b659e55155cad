"""A loaded generator model: architecture, weights and where they came from."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch.nn as nn

from ..labels import label_table
from ..nets import GeneratorConfig, SPADEGenerator


@dataclass
class GeneratorModel:
    """A SPADE generator ready for inference, plus what is known about it.

    Attributes:
        config: the architecture and the output settings. The network applies some of those
            settings itself (the tone and the grain), so whenever the model is made or its
            ``config`` is set, ``generator`` is made to run with it: a configuration with other
            output settings gets a copy of the network with the same weights; one that differs
            in anything else does not describe the weights and is a ModelFileError. A
            :class:`~engine.synthesizer.Synthesizer` already made from the model keeps the
            network it took: make a new one after changing the settings.
        generator: the network, on the CPU, in eval mode.
        kind: ``native`` (a cardiGAN model file) or ``nvlabs`` (an imported SPADE checkpoint).
        name: a short display name.
        path: the file it was read from, if any.
        provenance: free-form facts about training or import (data checksum, preset, date ...).
        labels: the label table the model was trained with.
        encoder: the VAE style encoder, when the file carries one.
        refiner: the texture refiner (:mod:`engine.nets.refiner`), when the file carries one.
    """

    config: GeneratorConfig
    generator: SPADEGenerator
    kind: str = "native"
    name: str = "model"
    path: Path | None = None
    provenance: dict = field(default_factory=dict)
    labels: list[dict] = field(default_factory=label_table)
    encoder: nn.Module | None = None
    refiner: nn.Module | None = None

    def __post_init__(self) -> None:
        self.generator = network_with_settings(self.generator, self.config, self.name)

    def __setattr__(self, name: str, value) -> None:
        if name == "config" and "generator" in self.__dict__:
            self.__dict__["generator"] = network_with_settings(self.generator, value, self.name)
        super().__setattr__(name, value)

    @property
    def stochastic(self) -> bool:
        """Whether the output depends on a seed (a style vector z or a noise map is drawn)."""
        return self.config.use_vae or self.config.noise_nc > 0

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.generator.parameters())

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) the model was trained at."""
        return self.config.image_height, self.config.image_size

    def check_input_size(self, height: int, width: int) -> str | None:
        return self.generator.check_input_size(height, width)

    def summary(self) -> dict:
        """Everything ``cardigan info`` prints, as plain data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path) if self.path else None,
            "architecture": self.config.to_dict(),
            "parameters": self.parameter_count,
            "encoder_parameters": sum(p.numel() for p in self.encoder.parameters())
            if self.encoder is not None else 0,
            "refiner_parameters": sum(p.numel() for p in self.refiner.parameters())
            if self.refiner is not None else 0,
            "refiner_near_field": getattr(self.refiner, "near_field", None),
            "image_size": list(self.image_size),
            "output_channels": self.config.output_nc,
            "stochastic": self.stochastic,
            "labels": self.labels,
            "provenance": self.provenance,
        }


def network_with_settings(generator: SPADEGenerator, config: GeneratorConfig, name: str) -> SPADEGenerator:
    """``generator`` running with ``config``: itself when its configuration is that one, else a
    shallow copy (its own attributes, the same parameter tensors) with ``config``, when the two
    differ only in output settings; a ModelFileError when they differ in the architecture."""
    if generator.config == config:
        return generator
    from ..errors import ModelFileError
    from .tuning import OUTPUT_SETTINGS

    ours, its = config.to_dict(), generator.config.to_dict()
    clash = sorted(k for k in set(ours) | set(its) if k not in OUTPUT_SETTINGS and ours.get(k) != its.get(k))
    if clash:
        raise ModelFileError(f"{name}: the model's architecture and its network's differ in {', '.join(clash)}")
    generator = copy.copy(generator)
    generator.config = config
    return generator
