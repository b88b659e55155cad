"""What the Data dialogs say about their output before Start is pressed.

The engine refuses an output that would overwrite something without permission (a folder
that is not empty, an existing file) and replaces one only with the Replace box ticked and
only if it is what the job itself writes. An :class:`OutputNote` sits under a dialog's output
field and says, as soon as the output or the box changes, what the engine would say when the
job starts: why the output cannot be written (in the warning colour; the dialog keeps Start
off meanwhile, through :meth:`OutputNote.problem`), or what becomes of what the output holds
(muted), with any advice on the output's name that does not stop the job (an nnU-Net export
in a folder nnU-Net would not find by its name). It only looks at the output (is it there, a
file, a folder with anything in it, its name): the full check, which reads the dataset the
folder holds, stays the engine's when the job starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QLabel

from .. import theme
from ..path_field import PathField

# the file an output names when the job writes one file (None: the job writes a folder)
FileTarget = Callable[[Path], "Path | None"]
# why a dialog will not write a folder of this name (one named as a file of another format), or None
FolderNameProblem = Callable[[Path], "str | None"]
# what a dialog advises about an output's name, the job going ahead all the same, or None
NameAdvice = Callable[[Path], "str | None"]


def holds_files(folder: Path) -> bool:
    """Whether ``folder`` is a folder with anything in it (an unreadable one counts as not)."""
    try:
        return folder.is_dir() and any(folder.iterdir())
    except OSError:
        return False


def folder_output_problem(out: Path, overwrite: QCheckBox) -> str | None:
    """Why the folder ``out`` cannot be written (a file, or not empty and ``overwrite`` not ticked)."""
    if out.exists() and not out.is_dir():
        return "the output is a file: choose a folder"
    if holds_files(out) and not overwrite.isChecked():
        return f'the output folder is not empty: tick "{overwrite.text()}" or choose another folder'
    return None


def file_output_problem(target: Path, overwrite: QCheckBox) -> str | None:
    """Why the file ``target`` cannot be written (a folder, in a folder that does not exist, or
    there already and ``overwrite`` not ticked)."""
    if target.is_dir():
        return f"the output file {target.name} is a folder: choose another output"
    if not target.parent.is_dir():
        return f"the output file's folder {target.parent} does not exist: choose another output"
    if (target.exists() or target.is_symlink()) and not overwrite.isChecked():
        return f'the output file {target.name} exists: tick "{overwrite.text()}" or choose another file'
    return None


class OutputNote(QLabel):
    """The line under an output field (``field``, with its Replace box ``overwrite``) of a job
    that replaces only ``replaces`` (an export, a prepared dataset); hidden while there is
    nothing to say. ``file_target``: the file the job would write for an output, None while it
    writes a folder (the phantom dialog writes one HDF5 file or a folder, by its format);
    ``folder_name_problem``: why a folder output may not have the name given (the phantom
    dialog's folders format given ``x.h5``), checked before whether the folder is empty;
    ``name_advice``: what to know about the name of an output that can be written, said
    first in the muted line."""

    def __init__(self, field: PathField, overwrite: QCheckBox, replaces: str,
                 file_target: FileTarget | None = None,
                 folder_name_problem: FolderNameProblem | None = None,
                 name_advice: NameAdvice | None = None) -> None:
        super().__init__("")
        self.field, self.overwrite, self.replaces = field, overwrite, replaces
        self.file_target = file_target or (lambda _out: None)
        self.folder_name_problem = folder_name_problem or (lambda _out: None)
        self.name_advice = name_advice or (lambda _out: None)
        self.setWordWrap(True)
        self.hide()

    def problem(self) -> str | None:
        """Why the output cannot be written as it is, or None (also with no output chosen)."""
        out = self.field.path()
        if out is None:
            return None
        target = self.file_target(out)
        if target is not None:
            return file_output_problem(target, self.overwrite)
        if out.exists() and not out.is_dir():  # a file is a file, whatever its name
            return folder_output_problem(out, self.overwrite)
        return self.folder_name_problem(out) or folder_output_problem(out, self.overwrite)

    def remark(self) -> str:
        """The advice on the name of an output that can be written, then what becomes of what
        it holds ("" when there is neither)."""
        out = self.field.path()
        if out is None:
            return ""
        return "\n".join(line for line in (self.name_advice(out), self.holdings(out)) if line)

    def holdings(self, out: Path) -> str:
        """What becomes of what ``out`` holds ("" when it holds nothing)."""
        target = self.file_target(out)
        if target is not None:
            return (f"The file {target.name} exists: it is replaced if cardiGAN Studio wrote it (nothing "
                    "else is ever replaced)") if target.exists() else ""
        return (f"The folder is not empty: it is replaced if it holds {self.replaces} (nothing else is ever "
                "replaced)") if holds_files(out) else ""

    def refresh(self) -> None:
        """Say the output's problem, else what becomes of what it holds."""
        problem = self.problem()
        if problem:
            text, colour = problem[0].upper() + problem[1:], theme.WARNING
        else:
            text, colour = self.remark(), theme.MUTED
        self.setText(text)
        self.setStyleSheet(theme.text_style(colour))
        self.setVisible(bool(text))
