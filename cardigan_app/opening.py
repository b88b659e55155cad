"""Where a path the studio is given goes: dropped on the window, named on the command line
(``cardigan PATH ...``), or opened from the model watch, the screen-fit check and the like.

One path (:meth:`Opener.open_any`) is tried in this order:

1. gone (a temporary file dropped from another program), unless its name is a model's: said
   at once in one line, before the user is asked about unsaved edits for its sake;
2. a folder: a prepared dataset goes to the dataset browser (shown); a cine loop's PNG
   frames (File > Export's) to :meth:`MaskFiles.open_path <cardigan_app.mask_files.MaskFiles.open_path>`;
   a scanner's or PACS DICOM export (not holding a model) to
   :meth:`MaskFiles.trace_from_folder <cardigan_app.mask_files.MaskFiles.trace_from_folder>`;
   a model folder (an NVlabs checkpoints folder, a training run) to the window's
   ``load_model``; any other folder opens nothing and says so in one line;
3. a model file, by its name (:func:`engine.models.registry.accepts`): ``load_model``;
4. anything else, a mask or an image to trace over:
   :meth:`MaskFiles.open_or_trace <cardigan_app.mask_files.MaskFiles.open_or_trace>`.

Several paths (the command line's, :meth:`Opener.open_paths`) open in their order, except
that the model among them is held back (:meth:`Opener.open_then_load`): each other path
opens in turn, a read off the window's thread (:class:`~cardigan_app.file_reading.FileReader`)
let end before the next starts, and the model loads only once every one of them has opened
well. One that is gone, cannot be read, or whose mask the user would not let replace their
unsaved edits loads no model: the model in use stays as it was and the status line names the
files that did not open. A read the user lets go for another file (opened or made before it
ended) ends it all: the model is not loaded, and the status line says so once that file
has opened. The window draws with one model at a time, so of several models named only the
last one loads (a later argument overrides an earlier one, as on any command line; a model
named twice loads once), and the status line says which were not loaded when it does, and
again in its "Model ... ready" line. Each line saying models were not loaded is added after a
note on the file just opened, as the "ready" line is
(:meth:`~cardigan_app.status_line.StatusBar.show_background`), never over it; the
masks and images named with them still open, as ``itksnap FILE`` or ``Slicer FILE`` would
open them.

A drop of several files (:meth:`Opener.open_dropped`) is all or nothing: at most one model,
with nothing else or with one mask and files it opens along
(:func:`~cardigan_app.mask_files.opened_along`: its image, a label PNG's ES frame), opens as
the command line's would; anything else opens nothing. :func:`drop_plan` tells both: the
window takes the drag of only what it would open (the cursor shows "no drop" for the rest),
and :meth:`Opener.open_dropped`, called with a set it refuses, says so in one line. It is
asked once a drop: the drop opens by the plan its drag found.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from engine.cine.writers import frames_loop_folder
from engine.data.dataset_folder import DatasetFolder
from engine.data.dicom_echo import dicom_files_in
from engine.models.registry import accepts, is_model_folder

from .dialogs.prompts import show_error
from .mask_files import opened_along
from .mask_reading import is_mask_file, is_picture_file

if TYPE_CHECKING:
    from .main_window import MainWindow

# what a dropped folder may be, said when it is none of them
NOTHING_TO_OPEN_IN_FOLDER = ("nothing here the studio opens (a prepared dataset, a cine loop's PNG frames, "
                             "a scanner's DICOM files or an NVlabs SPADE checkpoints folder)")
ONE_AT_A_TIME = ("the window opens one mask, image, loop or folder at a time, with a model if one is dropped "
                 "with it: drop them one by one")


def is_model_path(path: Path) -> bool:
    """A model the window loads: a model file by its name, or a model folder (an NVlabs
    checkpoints folder, a training run)."""
    return accepts(path) or is_model_folder(path)


def drop_plan(paths: list[Path]) -> tuple[Path | None, list[Path]] | None:
    """What a drop of ``paths`` opens: (the one mask, image, loop or folder, or None; the
    model to load once it opens, or none), or None when the drop is refused (nothing the
    window opens, several models, or files that are not one mask with the files it opens
    along, :func:`~cardigan_app.mask_files.opened_along`). The drag and the drop both ask it."""
    models = [path for path in paths if is_model_path(path)]
    others = [path for path in paths if path not in models]
    main = next((path for path in others if set(others) - {path} <= opened_along(path)), None)
    if not paths or len(models) > 1 or (others and main is None):
        return None
    if main is not None and not (is_mask_file(main) or is_picture_file(main) or main.is_dir()):
        return None
    return main, models


def dropped_names(paths: list[Path], most: int = 3) -> str:
    """``a.png, b.png and c.png`` or ``a.png, b.png, c.png and 2 more``."""
    names = [path.name for path in paths[:most]]
    if len(paths) > most:
        return f"{', '.join(names)} and {len(paths) - most} more"
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]


class Opener:
    """Routes the paths the window is given to the model loader, the mask files or the
    dataset browser; the window's ``open_*`` methods and drop events are its."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        # the paths of the drag over the window and their drop_plan, for its drop to reuse
        self._dragged: tuple[tuple[Path, ...], tuple[Path | None, list[Path]] | None] | None = None

    @staticmethod
    def _dropped_paths(event) -> list[Path]:
        return [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]

    def drag_enter(self, event: QDragEnterEvent) -> None:
        """Take the drag of exactly what :meth:`drop` would open (:func:`drop_plan`): a set it
        would refuse shows the "no drop" cursor. The plan is kept for the drop."""
        paths = self._dropped_paths(event)
        plan = drop_plan(paths)
        self._dragged = (tuple(paths), plan)
        if plan is not None:
            event.acceptProposedAction()

    def drop(self, event: QDropEvent) -> None:
        """Open what is dropped by the plan its drag found (:func:`drop_plan` is asked once a
        drop), or found now when the drag was of other paths."""
        paths = self._dropped_paths(event)
        dragged, self._dragged = self._dragged, None
        plan = dragged[1] if dragged is not None and dragged[0] == tuple(paths) else drop_plan(paths)
        if plan is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_dropped(paths, plan)

    def open_dropped(self, paths: list[Path], plan: tuple[Path | None, list[Path]] | None = None) -> bool:
        """Open what was dropped: one thing as :meth:`open_any` opens it; a model with one thing
        more, that thing first and the model once it opens (:meth:`open_then_load`); a mask with
        files it opens with (its image, its ES frame). Anything else opens nothing and says so
        in one line: the window shows one mask at a time, and opening the first of several
        would be half of what was asked. ``plan``: the :func:`drop_plan` of ``paths``, when
        the caller found it already."""
        if len(paths) == 1:
            return self.open_any(paths[0])
        plan = drop_plan(paths) if plan is None else plan
        if plan is None:
            self._cannot_open("Cannot open the files", f"{dropped_names(paths)}: {ONE_AT_A_TIME}")
            return False
        main, models = plan
        return self.open_then_load([main] if main is not None else [], models) > 0

    def open_paths(self, paths: list[Path]) -> int:
        """Open each of ``paths`` as :meth:`open_any` does (the command line's files, in their
        order), except that a model among them loads as a model dropped with a mask does: once
        every other file has opened (:meth:`open_then_load`), so that a mask that fails leaves
        the model in use as it was. Of several models only the last one named loads; the
        status line names the others. Returns :meth:`open_then_load`'s count."""
        paths = [Path(path) for path in paths]
        models = [path for path in paths if is_model_path(path)]
        others = [path for path in paths if path not in models]
        if not models:
            return self.open_then_load(others, [])
        last = os.path.abspath(models[-1])
        skipped = list({os.path.abspath(model): model for model in models if os.path.abspath(model) != last}.values())
        return self.open_then_load(others, models[-1:], skipped)

    def open_then_load(self, paths: list[Path], models: list[Path], skipped: list[Path] | None = None) -> int:
        """Open each of ``paths`` as :meth:`open_any` does, in turn: one read off the window's
        thread is let end before the next file opens (a read started meanwhile would supersede
        it). Then load ``models``, once every one of ``paths`` has opened well, and not at all
        when one did not (a file that is gone or cannot be read, a mask the user would not let
        replace their unsaved edits): the model in use then stays as it was, and the status line
        says in one line which files did not open. A read the user lets go for another file
        opened meanwhile ends it all: nothing more opens or loads, and the status line says
        which models were not loaded for it. Without ``paths`` the models load at once.
        ``skipped``: models named along that are not loaded (the command line's, all but the
        last), said in the status line when ``models`` load.

        Returns how many of ``paths`` opened or are being read, and how many of ``models`` were
        handed to the loader, by the time it returns: a model held back for a read off the
        window's thread is not counted, since the read may yet fail."""
        reader = self.window.files.reader
        failed: list[Path] = []
        opened = 0
        loaded = False
        skipped = skipped or []

        def open_from(first: int) -> None:
            nonlocal opened
            for index in range(first, len(paths)):
                before = reader.current_read
                if not self.open_any(paths[index]):
                    failed.append(paths[index])
                    continue
                opened += 1
                if reader.current_read not in (None, before):  # its read has started: the rest follow it
                    reader.when_shown(lambda after=index + 1: open_from(after),
                                      lambda path=paths[index], after=index + 1: failed_then(path, after),
                                      lambda path=paths[index]: let_go(path))
                    return
            load()

        def let_go(path: Path) -> None:
            """Say the models were not loaded, once the file opened instead has (its own line shown)."""
            if not models:
                return
            line = (f"{dropped_names(models)} {'was' if len(models) == 1 else 'were'} not loaded: "
                    f"another file was opened before {path.name} finished reading")

            def say() -> None:
                self.window.statusBar().show_background(line, 15000)  # after that file's note, if any

            if reader.busy:  # superseded by the read of that file: said when it ends
                reader.when_shown(say, say, say)
            else:  # dropped for a mask opened or made at once: said when it is shown
                QTimer.singleShot(0, self.window, say)

        def failed_then(path: Path, after: int) -> None:
            failed.append(path)
            open_from(after)

        def load() -> None:
            nonlocal loaded
            if not failed:
                for model in models:
                    self.open_any(model)
                loaded = True
                if skipped and models:
                    were = f"{dropped_names(skipped)} {'was' if len(skipped) == 1 else 'were'} not loaded"
                    self.window.statusBar().show_background(
                        f"{were}: the window draws with one model at a time, the last one named "
                        f"({models[-1].name})", 15000)
                    # the "ready" line replaces this one: it says so again
                    self.window.models.note_when_ready(str(models[-1]), f"{were} (one model at a time)")
            elif models:
                self.window.statusBar().show_background(
                    f"{dropped_names(failed)} did not open, so {dropped_names(models)} "
                    f"{'was' if len(models) == 1 else 'were'} not loaded: the model in use is as it was", 15000)

        open_from(0)
        return opened + (len(models) if loaded else 0)

    def open_any(self, path: Path) -> bool:
        """Open what a dropped path is: a model, a mask, an image to trace over, a cine loop's
        PNG frames (its folder, read as File > Open reads it), or a prepared dataset folder.
        A path that is gone (a temporary file dropped from another program) is said at once,
        before the user is asked about unsaved edits for its sake."""
        window = self.window
        if not path.exists() and not accepts(path):  # a model's loader says so for a model
            self._cannot_open("Cannot open the file", f"{path}: no such file")
            return False
        if path.is_dir():
            if DatasetFolder(path).is_dataset():
                window.show_dataset_panel()
                return window.dataset_browser.open_folder(path)
            if frames_loop_folder(path) is not None:  # File > Export > Cine loop's PNG frames
                return window.files.open_path(path)
            holds_a_model = is_model_folder(path)  # an NVlabs checkpoints folder, a training run
            if not holds_a_model and dicom_files_in(path):  # a scanner's or PACS export
                return window.files.trace_from_folder(path)
            if not holds_a_model:
                self._cannot_open("Cannot open the folder", f"{path}: {NOTHING_TO_OPEN_IN_FOLDER}")
                return False
            window.load_model(str(path))
            return True
        if accepts(path):
            window.load_model(str(path))
            return True
        return window.files.open_or_trace(path)

    def _cannot_open(self, title: str, line: str) -> None:
        show_error(self.window, title, line)
        self.window.statusBar().showMessage(line, 10000)
