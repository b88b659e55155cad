"""The Data menu: prepare a dataset, make a phantom one, export a batch, browse a dataset and
step through its pairs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu, QMessageBox

from .export_dialog import ExportDialog
from .phantom_dialog import PhantomDialog
from .prepare_dialog import PrepareDialog

if TYPE_CHECKING:
    from ..main_window import MainWindow


class DataTools:
    """Owns the window's Prepare and Export dialogs (one of each, kept between uses)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.prepare_dialog: PrepareDialog | None = None
        self.export_dialog: ExportDialog | None = None
        self.phantom_dialog: PhantomDialog | None = None

    def show_phantom(self) -> PhantomDialog:
        if self.phantom_dialog is None:
            self.phantom_dialog = PhantomDialog(self.window)
            self.phantom_dialog.openRequested.connect(self.open_in_browser)
        self._raise(self.phantom_dialog)
        return self.phantom_dialog

    def show_prepare(self) -> PrepareDialog:
        if self.prepare_dialog is None:
            self.prepare_dialog = PrepareDialog(self.window)
            self.prepare_dialog.openRequested.connect(self.open_in_browser)
        self._raise(self.prepare_dialog)
        return self.prepare_dialog

    def show_export(self) -> ExportDialog:
        live = self.window.live
        if self.export_dialog is None or not self.export_dialog.running:
            old = self.export_dialog
            self.export_dialog = ExportDialog(self.window, live.model_spec, self.window.state.device)
            self.export_dialog.style_scale.setValue(self.window.state.style_scale)  # 0: the model's own
            if old is not None:  # keep what the user typed last time
                self.export_dialog.output.set_path(old.output.text())
                self.export_dialog.masks.set_path(old.masks.text())
                self.export_dialog.like.set_path(old.like.text())
                self.export_dialog.like_fallback.setChecked(old.like_fallback.isChecked())
                self.export_dialog.cine.take_from(old.cine)
                old.deleteLater()
        self._raise(self.export_dialog)
        return self.export_dialog

    @staticmethod
    def _raise(dialog) -> None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def open_in_browser(self, folder: str) -> None:
        self.window.show_dataset_panel()
        self.window.dataset_browser.open_folder(Path(folder))

    def running_jobs(self) -> list[str]:
        """What is being made now, in words ("an export", ...)."""
        names = {"prepare_dialog": "a dataset being prepared", "export_dialog": "an export",
                 "phantom_dialog": "a phantom dataset"}
        return [words for attribute, words in names.items()
                if (dialog := getattr(self, attribute)) is not None and dialog.task is not None and dialog.task.running]

    def confirm_close(self) -> bool:
        """True when closing may go on: nothing is being made, or the user agreed to stop it
        (what it wrote so far is removed, as a cancelled job's is)."""
        running = self.running_jobs()
        if not running:
            return True
        answer = QMessageBox.question(
            self.window, "Stop and quit?",
            f"{' and '.join(running).capitalize()} is still running. Quitting stops it, and nothing of it is kept.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        """Cancel work in progress and wait briefly for the engine to clean up."""
        for dialog in (self.prepare_dialog, self.export_dialog, self.phantom_dialog):
            if dialog is not None and dialog.task is not None and dialog.task.running:
                dialog.task.cancel()
                dialog.task.wait(10.0)


def install_data_menu(window: MainWindow) -> DataTools:
    tools = DataTools(window)
    add = window.commands.add
    prepare = add("prepare_dataset", "Data", "&Prepare dataset\u2026", tools.show_prepare,
                  icon_name="database-cog-outline",
                  tip="Prepare a CAMUS source (seed HDF5, 2019 or 2023 release) into image/label folders")
    export = add("export_batch", "Data", "&Export batch\u2026", tools.show_export, icon_name="export",
                 shortcut="Ctrl+Shift+E",  # beside Ctrl+E, the one synthesized image
                 tip="Synthesize image/mask pairs in bulk (png, seed HDF5, CAMUS NIfTI or nnU-Net layout)",
                 help_text="Export a batch of synthetic pairs")
    phantom = add("phantom_dataset", "Data", "New p&hantom dataset\u2026", tools.show_phantom,
                  icon_name="heart-pulse",
                  tip="Make synthetic patients with the anatomy generator and the ultrasound simulator "
                      "(no real data or model needed), as cardigan phantom does")
    next_pair = add("next_pair", "Data", "&Next pair", lambda: window.step_dataset_pair(+1),
                    shortcut="Alt+Down", icon_name="chevron-down",
                    tip="Open the next pair the dataset list shows (asks first about unsaved changes)")
    previous_pair = add("previous_pair", "Data", "Pre&vious pair", lambda: window.step_dataset_pair(-1),
                        shortcut="Alt+Up", icon_name="chevron-up",
                        tip="Open the previous pair the dataset list shows (asks first about unsaved changes)")
    menu = QMenu("&Data", window)
    menu.addAction(prepare)
    menu.addAction(phantom)
    menu.addAction(export)
    menu.addSeparator()
    menu.addAction(window.commands["dataset"])
    menu.addAction(next_pair)
    menu.addAction(previous_pair)
    window.add_menu(menu)
    window.menus.export.addSeparator()
    window.menus.export.addAction(export)
    tools.menu = menu
    window.close_guards.append(tools.confirm_close)
    window.shutdown_hooks.append(tools.shutdown)
    return tools
