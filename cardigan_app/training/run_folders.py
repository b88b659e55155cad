"""What a chosen run folder is: new, a run to resume, or a folder training must not use.

A run folder holds ``config.json`` and ``checkpoints/state_*.pt`` (engine.training.run_folder).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.training.run_folder import RunFolder
from engine.training.state import list_states


@dataclass(frozen=True)
class RunInfo:
    """What is known about an existing run folder."""

    config: dict | None
    states: int
    newest_iteration: int | None

    def describe(self) -> str:
        if self.config is None:
            return "no config.json"
        preset = self.config.get("preset", "?")
        shape = f"preset {preset}, ngf {self.config.get('ngf')}, {self.config.get('image_size')} px"
        if self.newest_iteration is None:
            return f"{shape}; no saved training state"
        return f"{shape}; last saved at iteration {self.newest_iteration}"


def run_info(folder: Path) -> RunInfo:
    run = RunFolder(Path(folder))
    try:
        config = json.loads(run.config_path.read_text()) if run.config_path.is_file() else None
    except (OSError, ValueError):
        config = None
    states = list_states(run.checkpoint_dir)
    newest = int(states[-1].stem.split("_")[1]) if states else None
    return RunInfo(config if isinstance(config, dict) else None, len(states), newest)


def holds_run(folder: Path) -> bool:
    folder = Path(folder)
    return (folder / "config.json").is_file() or bool(list_states(folder / "checkpoints"))


def writable_problem(folder: Path) -> str | None:
    """Why ``folder`` (created if missing) cannot be written, or None."""
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return f"{folder}: no existing parent folder"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe}: is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe}: no permission to write there"
    return None


def run_folder_problem(folder: Path | None, resume: bool) -> str | None:
    """Why ``folder`` cannot be used for a new run (``resume`` False) or resumed, or None."""
    if folder is None:
        return "choose a run folder"
    folder = Path(folder)
    problem = writable_problem(folder)
    if problem:
        return problem
    if resume:
        if not folder.is_dir():
            return f"{folder}: no such run folder to resume"
        info = run_info(folder)
        if info.config is None:
            return f"{folder}: not a training run (no config.json) \u2014 nothing to resume"
        if info.states == 0:
            return f"{folder}: this run has no saved training state to resume from"
        return None
    if holds_run(folder):
        return f"{folder} already holds a training run: choose Resume, or a new folder"
    if folder.is_dir() and any(folder.iterdir()):
        return f"{folder} is not empty: choose a new or empty folder for a new run"
    return None
