"""What the training wizard's pages settle, page by page, and what it asks for at the end.

The pages fill a :class:`WizardState`; the wizard turns it into a :class:`TrainingRequest`.
This module uses no Qt; the pages import it and the wizard imports the pages, so nothing
imports in a circle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from engine.data.prepare import PrepareOptions
from engine.training.config import TrainConfig, validate

from .command import TrainCommand


@dataclass
class WizardState:
    """What the pages have settled so far (each page fills its part when it is accepted)."""

    data_dir: Path | None = None
    prepare: PrepareOptions | None = None  # prepare this raw source into data_dir first
    data_pairs: int = 0
    data_size: tuple[int, int] | None = None  # (height, width) of the prepared pairs (of several: one with the largest side)
    data_sizes: int = 1  # how many sizes the pairs come in
    config: TrainConfig | None = None  # preset + hyper-parameters (page 2)
    device: str = "auto"  # page 3
    amp: str = "auto"
    batch_size: int | None = None  # None: the preset's
    run_dir: Path | None = None
    resume: bool = False
    resume_iters: int | None = None  # a resume trains to this many iterations in all; None: the run's own
    overwrite: bool = False  # a new run replacing the run in run_dir
    time_limit: float | None = None  # seconds the run may take before it stops and saves; None: no limit

    def data_side(self) -> int | None:
        """The largest side of the training pairs, or None when not known."""
        return max(self.data_size) if self.data_size else None

    def final_config(self) -> TrainConfig:
        """The hyper-parameters with the device page's choices (validated by the engine)."""
        assert self.config is not None
        config = dataclasses.replace(self.config, device=self.device, amp=self.amp,
                                     batch_size=self.config.batch_size if self.batch_size is None
                                     else self.batch_size)
        validate(config)
        return config


@dataclass(frozen=True)
class TrainingRequest:
    command: TrainCommand
    prepare: PrepareOptions | None = None
