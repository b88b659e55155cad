"""Wizard page 4: the run folder, new, resumed or replaced, an optional time limit, and the
command that will run.

Replacing is offered for a folder that holds a run: a run killed before it saved its first
state can be neither resumed nor started anew there otherwise. A resume may train more
iterations than the run was planned for ("Train N more iterations", passed to the engine as
the new length in all); a finished run, which a plain resume would leave as it is, is
resumed only so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QRadioButton,
                               QSpinBox, QVBoxLayout, QWidget, QWizardPage)

from engine.errors import CardiganError
from engine.training.config import TrainConfig
from engine.training.data_size import resumed_on_smaller_data
from engine.training.run_folder import RunSummary

from .. import folders
from ..data_tools.prepare_form import ERROR_STYLE
from ..path_field import PathField
from .page_preset import HINT_STYLE
from .run_folders import holds_run, run_folder_problem, run_info, suggested_run_folder
from .wizard_state import WizardState


class RunPage(QWizardPage):
    def __init__(self, state: WizardState, run_dir: str = "") -> None:
        super().__init__()
        self.state = state
        self.setTitle("Run folder")
        self.setSubTitle("Where the run writes its configuration, losses, sample previews, training "
                         "states and model.safetensors.")
        self.setFinalPage(True)
        self.folder = PathField("folder", "Run folder", kind="runs",
                                placeholder="a new or empty folder, or a run to resume")
        self.new_run = QRadioButton("New run")
        self.new_run.setToolTip("Start from scratch in a new or empty folder")
        self.resume = QRadioButton("Resume the run in this folder")
        self.replace = QRadioButton("Replace the run in this folder")
        self.replace.setToolTip("Start again from scratch here: the earlier run's states, previews, losses "
                                "and model are deleted (never files a training did not write)")
        group = QButtonGroup(self)
        group.addButton(self.new_run)
        group.addButton(self.resume)
        group.addButton(self.replace)
        self.new_run.setChecked(True)
        self.limited = QCheckBox("Stop after")
        self.limited.setToolTip("Stop the run, its state saved, before this much time has passed "
                                "(cardigan train --time-limit); Resume continues it")
        self.hours = QDoubleSpinBox()
        self.hours.setRange(0.25, 720.0)
        self.hours.setDecimals(2)
        self.hours.setSingleStep(0.5)
        self.hours.setValue(8.0)
        self.hours.setSuffix(" h")
        self.hours.setEnabled(False)
        self.hours.setToolTip(self.limited.toolTip())
        self.more = QCheckBox("Train")
        self.more.setToolTip("Make the run longer: train this many iterations past its newest saved state")
        self.more_iters = QSpinBox()
        self.more_iters.setRange(1, 10_000_000)
        self.more_iters.setSingleStep(100)
        self.more_iters.setValue(1000)
        self.more_iters.setSuffix(" more iterations")
        self.more_iters.setToolTip(self.more.toolTip())
        self.more.toggled.connect(self.more_iters.setEnabled)
        more_row = QHBoxLayout()
        more_row.addWidget(self.more)
        more_row.addWidget(self.more_iters)
        more_row.addStretch(1)
        self.more_row = QWidget()
        self.more_row.setLayout(more_row)
        more_row.setContentsMargins(24, 0, 0, 0)  # under the Resume choice it belongs to
        self.more_row.setVisible(False)
        self._more_for: Path | None = None  # the run the extension's default was chosen for
        limit_row = QHBoxLayout()
        limit_row.addWidget(self.limited)
        limit_row.addWidget(self.hours)
        limit_row.addStretch(1)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet(HINT_STYLE)
        self.command = QLabel("")
        self.command.setWordWrap(True)
        self.command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.command.setFont(mono)
        self.command.setToolTip("The same run from a terminal")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder)
        layout.addWidget(self.new_run)
        layout.addWidget(self.resume)
        layout.addWidget(self.more_row)
        layout.addWidget(self.replace)
        layout.addWidget(self.info)
        layout.addLayout(limit_row)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Command"))
        layout.addWidget(self.command)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.folder.pathChanged.connect(self._changed)
        self.new_run.toggled.connect(self._changed)
        self.replace.toggled.connect(self._changed)
        self.resume.toggled.connect(self._changed)
        self.more.toggled.connect(self._changed)
        self.more_iters.valueChanged.connect(self._changed)
        self.limited.toggled.connect(self.hours.setEnabled)
        self.limited.toggled.connect(self._changed)
        self.hours.valueChanged.connect(self._changed)
        self._suggested: Path | None = None  # the folder this page proposed (replaced while the user keeps it)
        if run_dir:
            self.folder.set_path(run_dir)

    def initializePage(self) -> None:
        if self.folder.path() is None or self.folder.path() == self._suggested:
            preset = self.state.config.preset if self.state.config is not None else "run"
            self._suggested = suggested_run_folder(preset)
            self.folder.set_path(self._suggested)
        self._changed()

    def _changed(self, *_args) -> None:
        folder = self.folder.path()
        self.message.setText("")
        notes = []
        used = folder is not None and folder.is_dir() and holds_run(folder)
        summary = run_info(folder) if used else None
        if summary is not None:
            notes.append(f"This folder holds a run: {summary.describe(self.state.data_pairs)}.")
        self.replace.setEnabled(used)
        resumable = summary is not None and summary.resume_from is not None
        self.resume.setEnabled(resumable)
        self.resume.setToolTip(resume_tip(folder, summary))
        self._offer_more(folder, summary)
        if (self.replace.isChecked() and not used) or (self.resume.isChecked() and not resumable):
            self.new_run.setChecked(True)  # (calls this again)
            return
        if self.replace.isChecked():
            notes.append("Starting the new run deletes the earlier one.")
        if not self.resume.isChecked():
            notes.append(self._new_run_length())
        if self.resume.isChecked():
            notes.append("Resuming keeps the run's stored hyper-parameters; the device and precision "
                         "chosen before apply, and the batch size if it was changed from the preset's.")
            total = self._resume_iters() or (summary.planned_iters(self.state.data_pairs) if summary else None)
            if summary is not None and summary.resume_from is not None and total is not None:
                notes.append(f"It trains iterations {summary.resume_from + 1} to {total}.")
            notes.append(self._resumed_size(summary))
        self.info.setText(" ".join(note for note in notes if note))
        self._show_command()

    def _new_run_length(self) -> str:
        """How many iterations a new run with the chosen hyper-parameters trains, as one sentence."""
        try:
            config = self.state.final_config()
        except (CardiganError, AssertionError):
            return ""
        return run_length(config, self.state.data_pairs)

    def _offer_more(self, folder: Path | None, summary: RunSummary | None) -> None:
        """Show "Train N more iterations" under Resume for a run with a saved state; a finished
        run has nothing left to train without it, so it is then required."""
        saved = summary.resume_from if summary is not None else None
        self.more_row.setVisible(self.resume.isChecked() and saved is not None)
        if saved is None:
            self._more_for = None
            return
        finished = summary.finished(self.state.data_pairs)
        self.more.blockSignals(True)  # (the caller goes on with the values set here)
        self.more_iters.blockSignals(True)
        if folder != self._more_for:  # a new run chosen: as many again as it was planned for
            self._more_for = folder
            self.more_iters.setValue(max(summary.planned_iters(self.state.data_pairs) or saved, 1))
            self.more.setChecked(finished)
        if finished:
            self.more.setChecked(True)
        self.more.blockSignals(False)
        self.more_iters.blockSignals(False)
        self.more.setEnabled(not finished)
        self.more_iters.setEnabled(self.more.isChecked())
        self.more.setToolTip(f"The run has trained all {saved} iterations it was planned for: resuming it "
                             "trains only the iterations added here" if finished else
                             "Make the run longer: train this many iterations past its newest saved state")

    def _resumed_size(self, summary: RunSummary | None) -> str:
        """The note the command line prints when the run resumes on data smaller than its size."""
        if summary is None or not summary.config:
            return ""
        try:
            note = resumed_on_smaller_data(TrainConfig.from_dict(summary.config), self.state.data_side())
        except (TypeError, ValueError, CardiganError):
            return ""  # a damaged or foreign config.json: the folder's check says so
        return f"It resumes {note}." if note else ""

    def _resume_iters(self) -> int | None:
        """The length in all a resume asks for (None: the run's own), counting its saved iterations."""
        folder = self.folder.path()
        if not (self.resume.isChecked() and self.more.isChecked() and folder is not None):
            return None
        saved = run_info(folder).resume_from
        return None if saved is None else saved + self.more_iters.value()

    def _apply(self) -> None:
        self.state.run_dir = self.folder.path()
        self.state.resume = self.resume.isChecked()
        self.state.resume_iters = self._resume_iters()
        self.state.overwrite = self.replace.isChecked()
        self.state.time_limit = self.hours.value() * 3600 if self.limited.isChecked() else None

    def _show_command(self) -> None:
        wizard = self.wizard()
        if wizard is None or self.folder.path() is None or self.state.data_dir is None:
            self.command.setText("")
            return
        self._apply()
        try:
            text = wizard.request().command.display()
        except (CardiganError, AssertionError):
            text = ""
        if self.state.prepare is not None:
            text = f"(after preparing {self.state.prepare.source.name})  " + text
        self.command.setText(text)

    def validatePage(self) -> bool:
        folder = self.folder.path()
        problem = run_folder_problem(folder, self.resume.isChecked(), self.state.data_dir,
                                     overwrite=self.replace.isChecked())
        if problem:
            self.message.setText(problem)
            return False
        folders.remember("runs", folder)  # the next run is suggested beside this one
        self._apply()
        return True


def run_length(config: TrainConfig, pairs: int) -> str:
    """The length of a new run of ``config`` on ``pairs`` training pairs (0: not known yet, as
    for a source prepared when training starts), as the run counts it."""
    if config.iters:
        return f"A new run trains {config.iters} iterations."
    epochs = config.epochs or config.niter + config.niter_decay
    total = RunSummary(config.to_dict(), []).planned_iters(pairs)
    if total is None:
        return f"A new run trains {epochs} epochs; their iterations depend on the number of training pairs."
    return (f"A new run trains {total} iterations: {epochs} epochs of {total // epochs} "
            f"(batches of {config.batch_size} from {pairs} training pairs).")


def resume_tip(folder: Path | None, summary: RunSummary | None) -> str:
    """What Resume does for ``folder``, or why it cannot be chosen there."""
    if summary is not None and summary.resume_from is not None:
        return "Continue from its newest saved state with its stored hyper-parameters"
    if summary is not None:
        return "Nothing to resume: the run in this folder saved no training state (Replace starts it again)"
    if folder is None or not folder.exists():
        return "Nothing to resume: choose a folder that holds a run with a saved training state"
    return "Nothing to resume: this folder holds no training run"
