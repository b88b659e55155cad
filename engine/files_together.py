"""Files that belong together (an exported image, its mask and their ITK-SNAP workspace),
written by writers that pick their format by the file's name, put in place all at once.

:func:`write_together` has each file written under its own name in a hidden staging folder
beside its path (``.<first name>.<random>.writing``), then renames them in together with
:func:`engine.fileio.atomic_paths`: the paths hold all the new files or all the old ones, so
a disk that fills after the first file never leaves a new image beside an old mask. A failure
is one line naming the file's path, never the staging folder, which goes whatever happens.
A staging folder that a killed write left behind is deleted by the next write of the same name
once it has been still for :data:`engine.fileio.REPLACING_GRACE_S` (:func:`new_staging_folder`,
which ITK's writers use too), so a kill never leaves a hidden copy for good.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .errors import CardiganError
from .fileio import REPLACING_GRACE_S, atomic_paths, describe_os_error, restore_mixed_pair

STAGING_SUFFIX = ".writing"


def write_together(paths: list[Path | str], write: Callable[[list[Path]], None]) -> None:
    """``write(staged)`` writes each of ``paths`` (all in one folder) to the path of the same
    name in ``staged``; once all are written they replace ``paths`` together. A pair left
    mixed by a write that was killed between two renames is put back first
    (:func:`engine.fileio.restore_mixed_pair`)."""
    paths = [Path(path) for path in paths]
    folder = paths[0].parent
    if not folder.is_dir():
        raise CardiganError(f"{folder}: folder does not exist")
    restore_mixed_pair(paths)
    try:
        staging = new_staging_folder(folder, paths[0].name)
    except OSError as exc:
        raise CardiganError(describe_os_error(exc, paths[0])) from None
    staged = [staging / path.name for path in paths]
    try:
        try:
            write(staged)
        except CardiganError as exc:
            raise CardiganError(_named_as_placed(str(exc), staged, paths)) from None
        except OSError as exc:
            name = next((path for path, file in zip(paths, staged) if str(file) == exc.filename), paths[0])
            raise CardiganError(describe_os_error(exc, name)) from None
        with atomic_paths(paths) as tmps:
            for file, tmp in zip(staged, tmps):
                os.replace(file, tmp)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _named_as_placed(line: str, staged: list[Path], paths: list[Path]) -> str:
    """A writer's line about a staged file, naming the path it was written for instead."""
    for file, path in zip(staged, paths):
        line = line.replace(str(file), str(path))
    return line


def new_staging_folder(folder: Path, name: str) -> Path:
    """A new hidden folder in ``folder`` to write ``name`` in (``.<name>.<random>.writing``),
    once the folders of that form that writes killed midway left there are deleted: those in
    which nothing has changed for :data:`~engine.fileio.REPLACING_GRACE_S` (a younger one may
    be a live write's). OS errors are raised as they come."""
    start = f".{name}."
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.startswith(start)
                   and entry.name.endswith(STAGING_SUFFIX) and len(entry.name) > len(start) + len(STAGING_SUFFIX)
                   and "." not in entry.name[len(start): -len(STAGING_SUFFIX)]]
    except OSError:
        entries = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and _still_for(Path(entry.path), REPLACING_GRACE_S):
            shutil.rmtree(entry.path, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=start, suffix=STAGING_SUFFIX, dir=folder))


def _still_for(folder: Path, seconds: float) -> bool:
    """Whether nothing in ``folder`` (itself, the folders and files under it) has changed for ``seconds``."""
    newest = 0.0
    try:
        for root, dirs, files in os.walk(folder):
            for name in [".", *dirs, *files]:
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    except OSError:
        return False
    return time.time() - newest > seconds
