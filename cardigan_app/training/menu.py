"""The Train menu, the training dock, and what closing the app does to a running run.

The run started last is remembered in the settings; when the studio opens again and that run
is not finished (it was closed, or the child killed, while the run trained), the panel shows
it and Resume continues it.

The menu holds the panel's controls too (stop, resume, open the model or the run folder),
enabled as the panel's buttons are, so a run can be driven from the keyboard.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMenu, QMessageBox, QWidget

from engine.data.dataset_folder import DatasetFolder

from .command import TrainCommand
from .progress_panel import TrainingPanel
from .run_folders import run_info
from .wizard import TrainingRequest, TrainingWizard

if TYPE_CHECKING:
    from ..main_window import MainWindow


def ask_stop_for_close(parent: QWidget) -> bool:
    """Ask whether to stop the running training to close the app."""
    box = QMessageBox(QMessageBox.Icon.Question, "Training in progress",
                      "A training run is in progress. Stop it and quit?", parent=parent)
    box.setInformativeText("The run stops after its current iteration and saves its state; "
                           "Resume continues it later.")
    stop = box.addButton("Stop training and quit", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is stop


class TrainingControl:
    """Connects the wizard, the progress panel and the studio window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.panel = TrainingPanel()
        self.dock: QDockWidget = window.add_panel("Training", self.panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.dock.hide()
        self.wizard: TrainingWizard | None = None
        self.panel.openModelRequested.connect(self.open_model)
        self.panel.stateChanged.connect(self._remember_run)
        self.offer_last_run()

    def _remember_run(self, state: str) -> None:
        """The run started is the one to offer back; one that trained all its iterations is
        not (a run's length in epochs is not told by its folder alone, so it is forgotten)."""
        command, settings = self.panel.command, self.window.settings
        if state in ("running", "preparing") and command is not None:
            settings.set_last_training_run(command.run, command.data, command.time_limit)
        elif state == "finished" and command is not None:
            last = settings.last_training_run()
            if last is not None and last[0] == command.run:
                settings.forget_last_training_run()

    def offer_last_run(self) -> None:
        """The run started last, when it is not finished (the studio was closed, or the child
        killed, while it trained): the panel shows it and Train › Resume training continues it."""
        last = self.window.settings.last_training_run()
        if last is None:
            return
        run, data, time_limit = last
        summary = run_info(run) if run.is_dir() else None
        if summary is None or summary.resume_from is None or summary.finished():
            return
        self.panel.offer_resume(dataclasses.replace(TrainCommand.resume_run(data, run), time_limit=time_limit),
                                summary)

    def new_run(self) -> TrainingWizard | None:
        if self.panel.running:
            self.refuse_second_run()
            return None
        if self.wizard is not None and self.wizard.isVisible():  # one wizard: a second could start a second run
            self.wizard.raise_()
            self.wizard.activateWindow()
            return self.wizard
        data = self.window.state.dataset_dir
        data = data if data and DatasetFolder(data).is_dataset() else ""
        wizard = self.wizard = TrainingWizard(self.window, data)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.finished.connect(lambda _result: self._wizard_closed(wizard))
        wizard.accepted.connect(lambda: self.start(wizard.request()))
        wizard.show()
        return wizard

    def _wizard_closed(self, wizard: TrainingWizard) -> None:
        if self.wizard is wizard:  # (deleted once closed)
            self.wizard = None

    def start(self, request: TrainingRequest) -> None:
        if self.panel.running:  # the panel's Resume started one while the wizard was open
            self.refuse_second_run()
            return
        self.show_panel()
        self.panel.start(request.command, request.prepare)

    def refuse_second_run(self) -> None:
        QMessageBox.information(self.window, "Training in progress",
                                "A training run is in progress; stop it before starting another.")
        self.show_panel()

    def show_panel(self) -> None:
        if self.dock.isHidden():
            self.dock.show()
            if not self.dock.isFloating():  # room for the curves and the previews
                self.window.resizeDocks([self.dock], [max(320, self.window.height() // 2)],
                                        Qt.Orientation.Vertical)
        self.dock.raise_()

    def open_model(self, path: str) -> None:
        self.window.load_model(path)
        self.window.model_dock.show()
        self.window.model_dock.raise_()

    def confirm_close(self) -> bool:
        """True when closing may go on (no run, or the user agreed to stop it)."""
        if not self.panel.running:
            return True
        self.show_panel()
        return ask_stop_for_close(self.window)

    def shutdown(self) -> None:
        self.panel.stop_and_wait()


def install_training(window: MainWindow) -> TrainingControl:
    control = TrainingControl(window)
    add = window.commands.add
    new = add("new_training", "Train", "&New training run\u2026", control.new_run, shortcut="Ctrl+T",
              icon_name="school-outline",
              tip="Train SPADE on a prepared dataset: data, preset, device, run folder")
    progress = control.dock.toggleViewAction()
    progress.setText("Training &progress")
    panel = control.panel
    mirrored = [(add("stop_training", "Train", "&Stop training", panel.stop,
                     tip="Stop after this iteration and save the training state"), panel.stop_button),
                (add("resume_training", "Train", "&Resume training", panel.resume,
                     tip="Continue the run from its newest saved state"), panel.resume_button),
                (add("open_trained_model", "Train", "Open trained &model in studio", panel.open_model,
                     tip="Load the run's model.safetensors into the studio"), panel.model_button),
                (add("open_run_folder", "Train", "Open run &folder", panel.open_folder,
                     tip="Show the run folder in the file manager"), panel.folder_button)]
    menu = QMenu("&Train", window)
    menu.addAction(new)
    menu.addAction(progress)
    menu.addSeparator()
    for action, _button in mirrored:
        menu.addAction(action)

    def sync() -> None:
        for action, button in mirrored:
            action.setEnabled(button.isEnabled())

    panel.stateChanged.connect(sync)
    menu.aboutToShow.connect(sync)
    sync()
    window.add_menu(menu)
    control.menu = menu
    window.close_guards.append(control.confirm_close)
    window.shutdown_hooks.append(control.shutdown)
    return control
