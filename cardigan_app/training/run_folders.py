"""What a chosen run folder is: new, a run to resume, or a folder training must not use.

What a folder holds is the engine's to say (:class:`engine.training.run_folder.RunFolder`);
this module words it for the wizard.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.training.run_folder import RunFolder, RunSummary


def run_info(folder: Path) -> RunSummary:
    return RunFolder(Path(folder)).summary()


def holds_run(folder: Path) -> bool:
    return RunFolder(Path(folder)).holds_run()


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
        if info.resume_from is None:
            return f"{folder}: this run has no saved training state to resume from"
        return None
    if holds_run(folder):
        return f"{folder} already holds a training run: choose Resume, or a new folder"
    if folder.is_dir() and any(folder.iterdir()):
        return f"{folder} is not empty: choose a new or empty folder for a new run"
    return None
