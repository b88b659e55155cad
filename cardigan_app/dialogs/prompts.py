"""The questions the app asks, in one place (tests replace QMessageBox's static calls)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget


class Choice(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def ask_unsaved(parent: QWidget, name: str, action: str) -> Choice:
    """Save, discard or cancel before ``action`` (e.g. "closing") loses unsaved edits."""
    buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
               | QMessageBox.StandardButton.Cancel)
    answer = QMessageBox.question(parent, "Unsaved changes",
                                  f"{name} {'have' if ' and ' in name else 'has'} unsaved changes. "
                                  f"Save them before {action}?",
                                  buttons, QMessageBox.StandardButton.Save)
    if answer == QMessageBox.StandardButton.Save:
        return Choice.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return Choice.DISCARD
    return Choice.CANCEL


class CloseChoice(Enum):
    STOP = "stop"  # stop the work and close now
    WAIT = "wait"  # close once the work is done
    CANCEL = "cancel"  # do not close


def ask_stop_loop_for_close(parent: QWidget, name: str) -> CloseChoice:
    """Stop the cine loop being written to ``name`` and close, close once it is written, or
    do not close."""
    return three_way(parent, "Loop being written", f"A loop is being written to {name}. Stop it and close?",
                     "Stopping leaves nothing half-written: a file that was there keeps its content. "
                     "Or the window closes once the loop is written in full.",
                     (("Stop and close", QMessageBox.ButtonRole.DestructiveRole, CloseChoice.STOP),
                      ("Close when written", QMessageBox.ButtonRole.AcceptRole, CloseChoice.WAIT)),
                     "Cancel close", CloseChoice.CANCEL)


def three_way(parent: QWidget, title: str, text: str, informative: str, answers, refuse: str, refused):
    """A question with two answers and a way out: ``answers`` are (label, role, value) with the
    last the default button; the value of the answer clicked, else ``refused`` (the ``refuse``
    button, Esc or the window closed)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    if informative:
        box.setInformativeText(informative)
    buttons = [(box.addButton(label, role), value) for label, role, value in answers]
    box.addButton(refuse, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(buttons[-1][0])
    box.exec()
    return next((value for button, value in buttons if box.clickedButton() is button), refused)


class DatasetSave(Enum):
    OVERWRITE = "overwrite"  # write over the dataset's label map
    SAVE_AS = "save as"  # choose another file
    CANCEL = "cancel"


def ask_overwrite_dataset_label(parent: QWidget, path: Path) -> DatasetSave:
    """Overwrite ``path``, a label map of a prepared dataset (its ground truth), save a copy
    elsewhere (the default), or save nothing."""
    split = path.parent.parent
    return three_way(parent, "Overwrite the dataset's mask?",
                     f"{path.name} is a mask of the dataset {split.parent} ({split.name}). Overwrite it?",
                     "Overwriting changes the dataset's ground truth for training and evaluation. "
                     "Save as\u2026 keeps the dataset as it is.",
                     (("Overwrite", QMessageBox.ButtonRole.DestructiveRole, DatasetSave.OVERWRITE),
                      ("Save as\u2026", QMessageBox.ButtonRole.AcceptRole, DatasetSave.SAVE_AS)),
                     "Cancel", DatasetSave.CANCEL)


def show_error(parent: QWidget, title: str, message: str) -> None:
    QMessageBox.warning(parent, title, message)


def confirm_overwrite(parent: QWidget, paths: list[str]) -> bool:
    names = "\n".join(paths)
    answer = QMessageBox.question(parent, "Replace files?", f"These files exist already:\n{names}\n\nReplace them?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm_remove_old_mask(parent: QWidget, old: Path, new: Path) -> bool:
    """Whether to remove ``old`` (``x_mask.png``, a pair's mask as an earlier export named it)
    now that the pair's mask is written as ``new`` (``x_gt.png``); No keeps it."""
    answer = QMessageBox.question(parent, "Remove the old mask?",
                                  f"{old.name} beside the image looks like the mask an earlier export of this "
                                  f"pair wrote, under the name pair masks had then. This export writes the mask "
                                  f"as {new.name}.\n\nRemove {old.name}, so that only the new mask lies beside "
                                  "the image?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_recovery(parent: QWidget, description: str) -> Choice:
    """Recover (SAVE), discard, or keep for later (CANCEL) an autosave left by a crash."""
    return three_way(parent, "Recover unsaved work?",
                     f"cardiGAN Studio did not close properly last time.\n"
                     f"Recover the mask it was editing ({description})?", "",
                     (("Discard", QMessageBox.ButtonRole.DestructiveRole, Choice.DISCARD),
                      ("Recover", QMessageBox.ButtonRole.AcceptRole, Choice.SAVE)),
                     "Later", Choice.CANCEL)
