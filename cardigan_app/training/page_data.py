"""Wizard page 1: the training data, a prepared folder or a raw source to prepare first.

A prepared folder is checked on a background thread by opening its train split with the
engine's ``PairedDataset``, which reads every pair and refuses bad ones with a list of the
files at fault; Next stays disabled until the check passes. Pairs of different sizes pass, as
training takes them (each is resized to the run's image size); the page says so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QButtonGroup, QLabel, QRadioButton, QVBoxLayout, QWidget,
                               QWizardPage)

from engine.data.dataset import PairedDataset
from engine.data.label_values import MASKS_FROM_SOURCE

from ..data_tools.prepare_form import BUSY_STYLE, ERROR_STYLE, OK_STYLE, OUTPUT_ROW, PrepareForm
from ..path_field import PathField
from ..tasks import BackgroundTask
from ..wording import studio_words
from .wizard_state import WizardState

CHECK_DELAY_MS = 300
ANY_SIZE = 32  # check_prepared's stand-in size
# this page's own way to the advice it gives: its second choice prepares a source
DATA_PAGE_WORDS = studio_words({MASKS_FROM_SOURCE: "for a CAMUS source, whose masks are the *_gt files, choose "
                                                   "\u201cA raw CAMUS source, prepared first\u201d"})


def check_prepared(root: Path) -> tuple[int, list[tuple[int, int]]]:
    """(training pairs, every (height, width) they are stored at) of a prepared folder;
    DataError when unusable. A size is given only so that pairs of several sizes are not
    refused: training resizes them all to its image size, and nothing is loaded here."""
    dataset = PairedDataset(root, "train", size=ANY_SIZE)
    return len(dataset), dataset.native_sizes


def sizes_text(sizes: list[tuple[int, int]]) -> str:
    """The pairs' sizes as the page states them: one size, or the range of several."""
    if not sizes:
        return ""
    if len(sizes) == 1:
        return f", {sizes[0][1]} \u00d7 {sizes[0][0]} px"
    low, high = min(sizes, key=lambda s: s[0] * s[1]), max(sizes, key=lambda s: s[0] * s[1])
    return (f" of {len(sizes)} sizes, {low[1]} \u00d7 {low[0]} to {high[1]} \u00d7 {high[0]} px "
            "(each is resized to the run's image size while training)")


class DataPage(QWizardPage):
    checked = Signal(bool, str)  # the prepared folder passed the check, message shown

    def __init__(self, state: WizardState, data_dir: str = "") -> None:
        super().__init__()
        self.state = state
        self.setTitle("Training data")
        self.setSubTitle("A prepared dataset folder (Data \u203a Prepare dataset, cardigan prepare or "
                         "cardigan phantom), or a raw CAMUS source that is prepared before training starts.")
        self.use_prepared = QRadioButton("A prepared dataset folder")
        self.use_raw = QRadioButton("A raw CAMUS source, prepared first")
        self.use_prepared.setToolTip("Train on a folder that Data \u203a Prepare dataset, cardigan prepare or "
                                     "cardigan phantom made")
        self.use_raw.setToolTip("Prepare a CAMUS source into a new folder, then train on it")
        group = QButtonGroup(self)
        group.addButton(self.use_prepared)
        group.addButton(self.use_raw)
        self.use_prepared.setChecked(True)
        self.folder = PathField("folder", "Prepared dataset folder", kind="datasets",
                                placeholder="<folder>/train/img, <folder>/train/label")
        self.folder.setToolTip("The prepared dataset: the folder that holds train/img and train/label")
        self.raw_form = PrepareForm()
        self.raw_out = PathField("folder", "Prepared dataset folder", kind="datasets",
                                 placeholder="a new or empty folder")
        self.raw_out.setToolTip("Where the source is prepared to; training then reads it")
        self.raw_box = QWidget()
        raw_layout = QVBoxLayout(self.raw_box)
        raw_layout.setContentsMargins(24, 0, 0, 0)
        raw_layout.addWidget(self.raw_form)
        self.raw_form.add_row(OUTPUT_ROW, self.raw_out)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        prepared_box = QWidget()
        prepared_layout = QVBoxLayout(prepared_box)
        prepared_layout.setContentsMargins(24, 0, 0, 0)
        prepared_layout.addWidget(self.folder)

        layout = QVBoxLayout(self)
        layout.addWidget(self.use_prepared)
        layout.addWidget(prepared_box)
        layout.addSpacing(8)
        layout.addWidget(self.use_raw)
        layout.addWidget(self.raw_box)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self._ok_for: str | None = None
        self._generation = 0
        self._timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._timer.timeout.connect(self.check_now)
        self.folder.pathChanged.connect(self._folder_changed)
        self.use_prepared.toggled.connect(self._mode_changed)
        self.raw_form.changed.connect(self._raw_changed)
        self.raw_out.pathChanged.connect(self._raw_changed)
        self._mode_changed()
        if data_dir:
            self.folder.set_path(data_dir)

    def set_status(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    # -- prepared folder -----------------------------------------------------------------
    def _folder_changed(self, _text: str) -> None:
        self._ok_for = None
        self._generation += 1
        self.completeChanged.emit()
        if self.folder.path() is None:
            self.set_status("")
            return
        self.set_status("checking the folder\u2026", BUSY_STYLE)
        self._timer.start()

    def check_now(self) -> None:
        self._timer.stop()
        path = self.folder.path()
        if path is None:
            return
        generation = self._generation
        task = BackgroundTask(lambda _p, _s: check_prepared(path), "check-data", self, words=DATA_PAGE_WORDS)
        task.succeeded.connect(lambda result: self._checked(generation, path, result, ""))
        task.failed.connect(lambda message: self._checked(generation, path, None, message))
        task.finished.connect(task.deleteLater)
        task.start()

    def _checked(self, generation: int, path: Path, result, message: str) -> None:
        if generation != self._generation:  # the folder changed, or a raw source was chosen, meanwhile
            return
        if result is not None and result[0] == 0:
            message = f"{path}: the train split has no image/label pairs"
        if message:
            self.set_status(message, ERROR_STYLE)
            self.checked.emit(False, message)
        else:
            pairs, sizes = result
            self._ok_for = str(path)
            self.state.data_pairs, self.state.data_sizes = pairs, len(sizes)
            self.state.data_size = max(sizes, key=max) if sizes else None  # the largest side, as training sees it
            self.set_status(f"\u2713 {pairs} training pairs{sizes_text(sizes)}", OK_STYLE)
            self.checked.emit(True, self.status.text())
        self.completeChanged.emit()

    # -- raw source ----------------------------------------------------------------------
    def _mode_changed(self) -> None:
        prepared = self.use_prepared.isChecked()
        self.folder.setEnabled(prepared)
        self.raw_box.setEnabled(not prepared)
        self.set_status("")
        self._timer.stop()  # a check on its way is of a folder no longer chosen
        self._generation += 1
        if prepared and self.folder.path() is not None:
            self._folder_changed(self.folder.text())
        self.completeChanged.emit()

    def _raw_changed(self) -> None:
        if self.use_raw.isChecked():
            problem = self.raw_problem()
            self.set_status(problem or "", ERROR_STYLE if problem and self.raw_form.detected else "")
            self.completeChanged.emit()

    def raw_problem(self) -> str | None:
        problem = self.raw_form.problem()
        if problem:
            return problem
        out = self.raw_out.path()
        if out is None:
            return "choose where to prepare the data"
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            return f"{out} is not empty: choose a new or empty folder to prepare into"
        return None

    # -- the wizard ----------------------------------------------------------------------
    def isComplete(self) -> bool:
        if self.use_prepared.isChecked():
            return self._ok_for is not None and self._ok_for == str(self.folder.path())
        return self.raw_problem() is None

    def validatePage(self) -> bool:
        if self.use_prepared.isChecked():
            if not self.isComplete():
                if not self.status.text() or self.status.styleSheet() != ERROR_STYLE:
                    self.set_status("choose a prepared dataset folder and wait for the check", ERROR_STYLE)
                return False
            self.state.data_dir, self.state.prepare = self.folder.path(), None
            return True
        problem = self.raw_problem()
        if problem:
            self.set_status(problem, ERROR_STYLE)
            return False
        options = self.raw_form.options()
        self.state.data_dir, self.state.prepare = self.raw_out.path(), options
        self.state.data_pairs, self.state.data_size = 0, (options.size, options.size)
        self.state.data_sizes = 1
        return True
