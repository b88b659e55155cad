"""What a chosen run folder is: new, a run to resume, or a folder training must not use, and
the new run folder the wizard suggests (:func:`suggested_run_folder`).

What a folder holds, and which folder may start a run, is the engine's to say
(:class:`engine.training.run_folder.RunFolder`, :meth:`~RunFolder.start_problem`): the wizard
refuses exactly what ``cardigan train`` would refuse, in its words (:data:`WIZARD_WORDS`).
"""

from __future__ import annotations

import time
from pathlib import Path

from engine.errors import said
from engine.training.run_folder import DATASET_AS_DATA, REPLACE_RUN, RESUME_RUN, RunFolder, RunSummary

from .. import folders
from ..wording import studio_words

# the engine names the command line's options; the wizard's choices say the same in its words
WIZARD_WORDS = studio_words({RESUME_RUN: "resume it", REPLACE_RUN: "replace it",
                             DATASET_AS_DATA: "choose it as the training data and the run's own folder here"})


def run_info(folder: Path) -> RunSummary:
    return RunFolder(Path(folder)).summary()


def holds_run(folder: Path) -> bool:
    return RunFolder(Path(folder)).holds_run()


def run_folder_problem(folder: Path | None, resume: bool, data: Path | None = None,
                       overwrite: bool = False) -> str | None:
    """Why a new run (``resume`` False; replacing an earlier run with ``overwrite``) or a
    resume cannot start in ``folder`` on ``data``, or None."""
    if folder is None:
        return "choose a run folder"
    problem = RunFolder(Path(folder)).start_problem(resume, overwrite, data=data)
    return None if problem is None else said(problem, WIZARD_WORDS)


DEFAULT_RUNS = "cardigan-runs"  # under the home folder, until the user has chosen run folders elsewhere


def runs_folder() -> Path:
    """Where new runs go: beside the run folder chosen last (the folder holding it), else
    ``~/cardigan-runs``."""
    start = Path(folders.start_folder("runs"))
    if start == Path.home():  # nothing remembered
        return start / DEFAULT_RUNS
    return start.parent if RunFolder(start).holds_run() else start


def suggested_run_folder(preset: str, parent: Path | None = None, today: str | None = None) -> Path:
    """A run folder that does not exist yet: ``<runs>/<preset>-<date>``, numbered when taken."""
    parent = runs_folder() if parent is None else Path(parent)
    stem = f"{preset}-{today or time.strftime('%Y-%m-%d')}"
    candidate, number = parent / stem, 2
    while candidate.exists():
        candidate, number = parent / f"{stem}-{number}", number + 1
    return candidate
