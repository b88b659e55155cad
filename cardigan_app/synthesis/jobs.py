"""What the window asks of the synthesis backend and what comes back (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SynthesisJob:
    """Synthesize ``labels`` with ``seed``, then (if nothing newer came in) each variation seed."""

    serial: int
    document: int  # which document the mask belongs to
    revision: int  # the document revision the mask was copied at
    labels: np.ndarray
    seed: int
    variation_seeds: tuple[int, ...] = ()


@dataclass(frozen=True)
class SynthesisResult:
    serial: int
    model_id: int  # the load request whose model made it
    document: int
    revision: int
    seed: int
    image: np.ndarray  # (H, W) uint8, the size of the mask
    labels: np.ndarray  # the mask it was made from
    elapsed_s: float
    note: str = ""


@dataclass(frozen=True)
class VariationResult:
    serial: int
    model_id: int
    index: int
    seed: int
    image: np.ndarray


@dataclass(frozen=True)
class SynthesisFailure:
    serial: int
    model_id: int
    message: str


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model, as the window sees it."""

    model_id: int
    spec: str
    device: str  # as asked: auto, cpu, cuda:0 ...
    device_label: str  # what it runs on, readable
    stochastic: bool
    summary: dict = field(default_factory=dict)
    load_s: float = 0.0


@dataclass(frozen=True)
class LoadFailure:
    model_id: int
    spec: str
    device: str
    message: str
