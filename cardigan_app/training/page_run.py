"""Wizard page 4: the run folder, new, resumed or replaced, an optional time limit, and the
command that will run.

Replacing is offered for a folder that holds a run: a run killed before it saved its first
state can be neither resumed nor started anew there otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QRadioButton,
                               QVBoxLayout, QWizardPage)

from engine.errors import CardiganError

from ..data_tools.prepare_form import ERROR_STYLE
from ..path_field import PathField
from .page_preset import HINT_STYLE
from .run_folders import holds_run, run_folder_problem, run_info
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
        self.resume.setToolTip("Continue from its newest saved state with its stored hyper-parameters")
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
        self.limited.toggled.connect(self.hours.setEnabled)
        self.limited.toggled.connect(self._changed)
        self.hours.valueChanged.connect(self._changed)
        if run_dir:
            self.folder.set_path(run_dir)

    def initializePage(self) -> None:
        self._changed()

    def _changed(self, *_args) -> None:
        folder = self.folder.path()
        self.message.setText("")
        notes = []
        used = folder is not None and folder.is_dir() and holds_run(folder)
        if used:
            notes.append(f"This folder holds a run: {run_info(folder).describe()}.")
        self.replace.setEnabled(used)
        if self.replace.isChecked() and not used:
            self.new_run.setChecked(True)  # (calls this again)
            return
        if self.replace.isChecked():
            notes.append("Starting the new run deletes the earlier one.")
        if self.resume.isChecked():
            notes.append("Resuming keeps the run's stored hyper-parameters; the device and precision "
                         "chosen before apply, and the batch size if it was changed from the preset's.")
        self.info.setText(" ".join(notes))
        self._show_command()

    def _apply(self) -> None:
        self.state.run_dir = self.folder.path()
        self.state.resume = self.resume.isChecked()
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
        self._apply()
        return True
