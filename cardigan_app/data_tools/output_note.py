"""What the Data dialogs say about their output before Start is pressed.

The engine refuses an output that would overwrite something without permission (a folder
that is not empty, an existing file) and replaces one only with the Replace box ticked and
only if it is what the job itself writes. An :class:`OutputNote` sits under a dialog's output
field and says, as soon as the output or the box changes, what the engine would say when the
job starts: why the output cannot be written (in the warning colour; the dialog keeps Start
off meanwhile, through :meth:`OutputNote.problem`), or what becomes of what the output holds
(muted), with any advice on the output's name that does not stop the job (an nnU-Net export
in a folder nnU-Net would not find by its name). An output in a folder nothing can be written
into (a read-only disk, a folder of someone else's) is said too: the job writes its staging
folder or temporary file beside the output, so the folder looked at is the one the output
would be made in, or the nearest one above it that exists. It only looks at the output (is it
there, a file, a folder with anything in it, its name, whether its folder can be written
into), and once per update however often the dialog asks (:class:`OutputLook`: a stat, a
stat and an access check per folder up to one that exists and, for a folder, its first
entry): the full check, which reads the dataset the folder holds, stays the engine's when the
job starts. A path typed into the field is looked at once the typing pauses
(:data:`SETTLE_MS`; :meth:`OutputNote.typed`), not at every keystroke; one chosen with
Browse…, a change of the Replace box or of what the output depends on (a format), and the
check before Start (:meth:`OutputNote.refresh`) look at once, so Start never goes by an old look.

Once the dialog's own job has written an output (:meth:`OutputNote.mark_written`), that output
is expected to hold something: while it stays the one chosen (the same path, the same file
target) the note says so in the muted colour, with what running again needs, instead of the
warning a folder of someone else's would get. Start stays off until Replace is ticked all the
same, as the engine would refuse it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox

from .. import theme
from ..fitted_label import FittedLabel
from ..path_field import PathField

SETTLE_MS = 250  # a typed output is looked at once the typing has paused this long

# the file an output names when the job writes one file (None: the job writes a folder)
FileTarget = Callable[[Path], "Path | None"]
# why a dialog will not write a folder of this name (one named as a file: x.png, or x.h5 for the
# phantom dialog's folders), or None; given the output and whether anything is there (a folder
# that is there may keep a name the engine refuses for a new one)
FolderNameProblem = Callable[[Path, bool], "str | None"]
# what a dialog advises about an output's name, the job going ahead all the same, or None
NameAdvice = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class OnDisk:
    """What one look at a path found: something there (links followed), a link (a broken one
    included), a folder, and a folder with anything in it."""

    exists: bool = False
    link: bool = False
    is_dir: bool = False
    holds_files: bool = False


def look_at(path: Path, inside: bool = True) -> OnDisk:
    """One look at ``path``: a stat (two for a link) and, for a folder when ``inside``, its
    first entry."""
    try:
        status = os.lstat(path)
    except (OSError, ValueError):  # ValueError: a NUL typed into the name
        return OnDisk()
    link = stat.S_ISLNK(status.st_mode)
    if link:
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            return OnDisk(link=True)  # a broken link
    is_dir = stat.S_ISDIR(status.st_mode)
    return OnDisk(True, link, is_dir, is_dir and inside and holds_files(path))


def holds_files(folder: Path) -> bool:
    """Whether the folder ``folder`` has anything in it, from its first entry alone (a folder of
    a million files is not listed); an unreadable one counts as not."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except (OSError, ValueError):
        return False


def unwritable_folder(folder: Path) -> Path | None:
    """``folder``, or the nearest folder above it that exists, when nothing can be written into
    it; None when it can, or when something that is not a folder is in the way (the engine
    names that)."""
    for place in (folder, *folder.parents):
        try:
            if os.path.isdir(place):
                return None if os.access(place, os.W_OK | os.X_OK) else place
            if os.path.lexists(place):
                return None
        except ValueError:  # a NUL typed into the name
            return None
    return None


def unwritable_problem(folder: Path | None) -> str | None:
    """What to say of an output whose folder (:func:`unwritable_folder`) cannot be written into."""
    if folder is None:
        return None
    return f"nothing can be written in {folder} (read-only, or not yours): choose another output"


def folder_output_problem(out: OnDisk, overwrite: QCheckBox) -> str | None:
    """Why the folder ``out`` (as found on disk) cannot be written (a file, or not empty and
    ``overwrite`` not ticked)."""
    if out.exists and not out.is_dir:
        return "the output is a file: choose a folder"
    if out.holds_files and not overwrite.isChecked():
        return f'the output folder is not empty: tick "{overwrite.text()}" or choose another folder'
    return None


def file_output_problem(target: Path, found: OnDisk, folder_exists: bool, overwrite: QCheckBox) -> str | None:
    """Why the file ``target`` (``found`` there; ``folder_exists``: its folder is one) cannot be
    written (a folder, in a folder that does not exist, or there already and ``overwrite`` not
    ticked)."""
    if found.is_dir:
        return f"the output file {target.name} is a folder: choose another output"
    if not folder_exists:
        return f"the output file's folder {target.parent} does not exist: choose another output"
    if (found.exists or found.link) and not overwrite.isChecked():
        return f'the output file {target.name} exists: tick "{overwrite.text()}" or choose another file'
    return None


@dataclass(frozen=True)
class OutputLook:
    """One look at an output: the path chosen, the file the job would write for it (None for a
    folder), what is there (at the file, else at the folder), whether the file's folder is one
    and the folder the output would be written in, when nothing can be written there."""

    out: Path
    target: Path | None
    found: OnDisk
    folder_exists: bool = False
    unwritable: Path | None = None  # the folder the output would be written in, when it cannot be

    @classmethod
    def take(cls, out: Path, target: Path | None) -> OutputLook:
        if target is None:
            return cls(out, None, look_at(out), unwritable=unwritable_folder(out.parent))
        found = look_at(target)
        return cls(out, target, found, not found.is_dir and look_at(target.parent, inside=False).is_dir,
                   unwritable_folder(target.parent))


class OutputNote(FittedLabel):
    """The line under an output field (``field``, with its Replace box ``overwrite``) of a job
    that replaces only ``replaces`` (an export, a prepared dataset); hidden while there is
    nothing to say. ``file_target``: the file the job would write for an output, None while it
    writes a folder (the phantom dialog writes one HDF5 file or a folder, by its format);
    ``folder_name_problem``: why a folder output may not have the name given (``x.png``, the
    engine's :func:`engine.data.staging.named_as_file`; the phantom dialog's folders format
    given ``x.h5``), checked before whether the folder is empty, once per look;
    ``name_advice``: what to know about the name of an output that can be written, said
    first in the muted line. A typed output is looked at when the typing pauses: the note
    emits :attr:`settled` then, for the dialog to update (:meth:`refresh_unless_typing`) with it."""

    settled = Signal()  # the output typed has stopped changing: time to look at it

    def __init__(self, field: PathField, overwrite: QCheckBox, replaces: str,
                 file_target: FileTarget | None = None,
                 folder_name_problem: FolderNameProblem | None = None,
                 name_advice: NameAdvice | None = None) -> None:
        super().__init__("")
        self.field, self.overwrite, self.replaces = field, overwrite, replaces
        self.file_target = file_target or (lambda _out: None)
        self.folder_name_problem = folder_name_problem or (lambda _out, _there: None)
        self.name_advice = name_advice or (lambda _out: None)
        self._look: OutputLook | None = None  # the last update's look at the output
        self._name_problem: tuple[OutputLook, str | None] | None = None  # what the look's name gave
        self.written: tuple[Path, Path | None] | None = None  # the output (and file) the last job wrote
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.settled)
        self.hide()

    def typed(self) -> None:
        """The output was typed into: look at it once the typing pauses, not now."""
        self._settle.start()

    @property
    def pending(self) -> bool:
        """Whether a typed output waits to be looked at."""
        return self._settle.isActive()

    def refresh_unless_typing(self) -> None:
        """:meth:`refresh`, unless a typed output waits for its typing to pause (the note
        and :meth:`problem` keep the last look until then)."""
        if not self.pending:
            self.refresh()

    def look(self) -> OutputLook | None:
        """The last look at the output while it is the one chosen, else a new one (None with no
        output chosen): an update looks at the disk once, however often it asks. The file
        target is part of the look (it may look too: a folder's ``phantom.hdf5``), so a change
        of what it depends on (a format) must :meth:`refresh`, as the dialogs do. While a typed
        output waits (:attr:`pending`), the last look stands, or None when there is none."""
        out = self.field.path()
        if out is None:
            return None
        if self.pending:
            return self._look
        if self._look is None or self._look.out != out:
            self._look = OutputLook.take(out, self.file_target(out))
        return self._look

    def problem(self) -> str | None:
        """Why the output cannot be written as it is, or None (also with no output chosen)."""
        look = self.look()
        if look is None:
            return None
        if look.target is not None:
            return (file_output_problem(look.target, look.found, look.folder_exists, self.overwrite)
                    or unwritable_problem(look.unwritable))
        if look.found.exists and not look.found.is_dir:  # a file is a file, whatever its name
            return folder_output_problem(look.found, self.overwrite)
        return (self.name_problem(look) or unwritable_problem(look.unwritable)
                or folder_output_problem(look.found, self.overwrite))

    def name_problem(self, look: OutputLook) -> str | None:
        """Why the folder looked at may not have its name, asked once per look (the engine's
        suggestion of a folder to name instead looks at the disk)."""
        if self._name_problem is None or self._name_problem[0] is not look:
            there = look.found.exists or look.found.link
            self._name_problem = (look, self.folder_name_problem(look.out, there))
        return self._name_problem[1]

    def remark(self) -> str:
        """The advice on the name of an output that can be written, then what becomes of what
        it holds ("" when there is neither)."""
        look = self.look()
        if look is None:
            return ""
        return "\n".join(line for line in (self.name_advice(look.out), self.holdings(look)) if line)

    def mark_written(self) -> None:
        """The dialog's job has just written the chosen output: say so until another is chosen."""
        look = self.look()
        self.written = None if look is None else (look.out, look.target)
        self.refresh()

    def is_written(self, look: OutputLook | None) -> bool:
        """Whether ``look`` is at the output the last job wrote (and it is still there)."""
        return (look is not None and self.written == (look.out, look.target)
                and (look.found.holds_files if look.target is None else look.found.exists))

    def written_remark(self) -> str:
        """What to say of the output the last job wrote."""
        name = self.written[1] if self.written and self.written[1] is not None else None
        what = f"the file {name.name}" if name is not None else "this folder"
        if self.overwrite.isChecked():
            return f"Written by the last run: running again replaces {what}"
        return f'Written by the last run: tick "{self.overwrite.text()}" to write {what} again'

    def holdings(self, look: OutputLook) -> str:
        """What becomes of what the looked-at output holds ("" when it holds nothing)."""
        if self.is_written(look):
            return self.written_remark()
        if look.target is not None:
            return (f"The file {look.target.name} exists: it is replaced if cardiGAN Studio wrote it (nothing "
                    "else is ever replaced)") if look.found.exists else ""
        return (f"The folder is not empty: it is replaced if it holds {self.replaces} (nothing else is ever "
                "replaced)") if look.found.holds_files else ""

    def refresh(self) -> None:
        """Look at the output afresh, now (a typed output waiting included); say its problem,
        else what becomes of what it holds."""
        self._settle.stop()
        self._look = None
        problem = self.problem()
        if problem and self.is_written(self._look):  # expected to hold what the job wrote
            text, colour = self.written_remark(), theme.MUTED
        elif problem:
            text, colour = problem[0].upper() + problem[1:], theme.WARNING
        else:
            text, colour = self.remark(), theme.MUTED
        self.setText(text)
        self.setStyleSheet(theme.text_style(colour))
        self.setVisible(bool(text))
