"""The ``cardigan train`` command line the app runs in a child process.

A new run passes its preset and every field that differs from the preset, so the command
(shown in the wizard and the log) reads like one a user would type. A resumed run passes
``--resume`` and only what the user chose to change (device, precision, batch size, a longer
run's ``--iters``, counted from the run's first iteration): the engine reuses the run's stored
``config.json`` for the rest. Either may carry a time
limit (``--time-limit``), after which the run stops as if asked to, its state saved. A new
run may replace the earlier run in its folder (``--overwrite``), never other files.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.cli.options import spoken_duration
from engine.cli.train import NOT_FLAGS, config_flags
from engine.training.config import TrainConfig, resolve_config
from engine.training.data_size import preset_on_data, size_given_none


def config_overrides(config: TrainConfig, data_side: int | None = None) -> dict[str, Any]:
    """The fields of ``config`` that differ from its preset's values on data whose largest
    side is ``data_side`` (the image size follows smaller data: :mod:`engine.training.data_size`),
    so an image size the engine would choose anyway is left out, and any other is given."""
    base = preset_on_data(config.preset, data_side).to_dict()
    base["image_size"] = size_given_none(config, data_side)  # with this config's upsampling
    ours = config.to_dict()
    return {name: value for name, value in ours.items()
            if name not in NOT_FLAGS and value != base.get(name)}


@dataclass(frozen=True)
class TrainCommand:
    """One launch of ``python -m engine train``."""

    data: Path
    run: Path
    resume: bool = False
    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    time_limit: float | None = None  # seconds
    overwrite: bool = False  # a new run that replaces the earlier run in its folder

    @classmethod
    def new_run(cls, data: Path, run: Path, config: TrainConfig, overwrite: bool = False,
                data_side: int | None = None) -> "TrainCommand":
        return cls(Path(data), Path(run), False, config.preset, config_overrides(config, data_side),
                   overwrite=overwrite)

    @classmethod
    def resume_run(cls, data: Path, run: Path, **overrides: Any) -> "TrainCommand":
        return cls(Path(data), Path(run), True, None, {k: v for k, v in overrides.items() if v is not None})

    def arguments(self) -> list[str]:
        """Arguments after the Python executable."""
        args = ["-m", "engine", "train", "--data", str(self.data), "--run", str(self.run), "--events-jsonl"]
        if self.resume:
            args.append("--resume")
        elif self.overwrite:
            args.append("--overwrite")
        if self.preset:
            args += ["--preset", self.preset]
        if self.time_limit is not None:
            args += ["--time-limit", spoken_duration(self.time_limit)]
        names = [f.name for f in dataclasses.fields(TrainConfig)]
        for name in names:  # in the config's order, so the command reads predictably
            if name in self.overrides:
                args += config_flags(name, self.overrides[name])
        return args

    def headline(self) -> str:
        """What the run does, in a short line for a person (the command itself: :meth:`display`)."""
        if self.resume:
            target = self.overrides.get("iters")
            return f"Resuming the run in {self.run}" + (f", to iteration {target}" if target else "")
        what = "Replacing the run in" if self.overwrite else f"New {self.preset or 'seed'} run in"
        return f"{what} {self.run}: {self.length()} on {self.data.name}"

    def length(self) -> str:
        """The run's length as given or as its preset has it ("400 iterations", "30 epochs")."""
        preset = resolve_config(self.preset or "seed")
        iters, epochs = self.overrides.get("iters", preset.iters), self.overrides.get("epochs", preset.epochs)
        if iters:
            return f"{iters} iterations"
        return f"{epochs or preset.niter + preset.niter_decay} epochs"

    def display(self) -> str:
        """The equivalent terminal command (``cardigan train ...``)."""
        args = self.arguments()[3:]
        args.remove("--events-jsonl")
        return "cardigan train " + " ".join(shlex.quote(a) for a in args)

    def program(self) -> str:
        return sys.executable
