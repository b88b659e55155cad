"""Train > New training run: data -> preset and hyper-parameters -> device -> run folder.

Each page refuses input it cannot use, with a message saying why (the engine's own
validation decides what a valid configuration is). The wizard's result is a
:class:`TrainingRequest`: the command line of the training process and, when the data is a
raw CAMUS source, the preparation to run first.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QWidget, QWizard

from .command import TrainCommand
from .page_data import DataPage
from .page_device import DevicePage
from .page_preset import PresetPage
from .page_run import RunPage
from .wizard_state import TrainingRequest, WizardState

__all__ = ["TrainingRequest", "TrainingWizard", "WizardState"]


class TrainingWizard(QWizard):
    def __init__(self, parent: QWidget | None = None, data_dir: str = "", run_dir: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New training run")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start training")
        self.resize(860, 640)
        self.state = WizardState()
        self.data_page = DataPage(self.state, data_dir)
        self.preset_page = PresetPage(self.state)
        self.device_page = DevicePage(self.state)
        self.run_page = RunPage(self.state, run_dir)
        for page in (self.data_page, self.preset_page, self.device_page, self.run_page):
            self.addPage(page)

    def request(self) -> TrainingRequest:
        """The training to start (after the wizard was accepted)."""
        state = self.state
        assert state.data_dir is not None and state.run_dir is not None
        config = state.final_config()
        if state.resume:  # the run keeps its batch size unless the device page was changed from the preset's
            changed = state.config is not None and config.batch_size != state.config.batch_size
            command = TrainCommand.resume_run(state.data_dir, state.run_dir, device=config.device, amp=config.amp,
                                              batch_size=config.batch_size if changed else None,
                                              iters=state.resume_iters)
        else:
            command = TrainCommand.new_run(state.data_dir, state.run_dir, config, overwrite=state.overwrite,
                                           data_side=state.data_side())
        return TrainingRequest(dataclasses.replace(command, time_limit=state.time_limit), state.prepare)
