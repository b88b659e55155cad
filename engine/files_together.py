"""Files that belong together (an exported image, its mask and their ITK-SNAP workspace),
written by writers that pick their format by the file's name, put in place all at once.

:func:`write_together` has each file written under its own name in a hidden staging folder
beside its path (``.<first name>.<random>.writing``), then renames them in together with
:func:`engine.fileio.atomic_paths`: the paths hold all the new files or all the old ones, so
a disk that fills after the first file never leaves a new image beside an old mask. A failure
is one line naming the file's path, never the staging folder, which goes whatever happens.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import CardiganError
from .fileio import atomic_paths, describe_os_error, restore_mixed_pair


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
        staging = Path(tempfile.mkdtemp(prefix=f".{paths[0].name}.", suffix=".writing", dir=folder))
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
