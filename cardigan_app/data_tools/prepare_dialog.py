"""Data > Prepare dataset: a CAMUS source -> the prepared layout, with progress and cancel.

Preparation runs on a background thread (the engine spreads patients over worker
processes); Cancel makes the engine stop and remove its staging folder, so nothing is left
behind. At the end the dialog shows the pairs per split and a few thumbnails, and offers to
open the result in the studio's dataset browser.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QGroupBox, QLabel,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from engine.progress import Progress

from ..icons import icon
from ..path_field import PathField
from ..tasks import BackgroundTask
from .manifest_summary import ManifestSummary
from .prepare_form import ERROR_STYLE, OK_STYLE, PrepareForm


class PrepareDialog(QDialog):
    prepared = Signal(str, object)  # output folder, manifest
    openRequested = Signal(str)  # open this prepared folder in the dataset browser
    failed = Signal(str)  # the one-line reason
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None, start_dir: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Prepare dataset")
        self.setMinimumWidth(620)
        self.form = PrepareForm()
        self.output = PathField("folder", "Output folder", placeholder="a new or empty folder")
        self.output.setToolTip("Where the prepared dataset goes: <out>/<split>/img|label/<stem>.png and manifest.json")
        self.overwrite = QCheckBox("Replace the folder if it is not empty")
        self.overwrite.setToolTip("Without this, a non-empty output folder is refused")
        self.form.add_row("Output folder", self.output)
        self.form.add_row("", self.overwrite)
        options = QGroupBox("Source and options")
        QVBoxLayout(options).addWidget(self.form)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.summary_box = QGroupBox("Result")
        self.summary = ManifestSummary()
        QVBoxLayout(self.summary_box).addWidget(self.summary)
        self.summary_box.hide()

        self.buttons = QDialogButtonBox()
        self.start_button = QPushButton(icon("database-cog-outline"), "Prepare")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton(icon("stop-circle-outline"), "Cancel")
        self.cancel_button.setToolTip("Stop; nothing is left in the output folder")
        self.open_button = QPushButton(icon("folder-table-outline"), "Open in dataset browser")
        self.open_button.setToolTip("Browse the prepared pairs in the studio")
        self.close_button = QPushButton("Close")
        for button, role in ((self.start_button, QDialogButtonBox.ButtonRole.ActionRole),
                             (self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole),
                             (self.open_button, QDialogButtonBox.ButtonRole.ActionRole),
                             (self.close_button, QDialogButtonBox.ButtonRole.RejectRole)):
            self.buttons.addButton(button, role)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(lambda: self.openRequested.emit(str(self.result_dir)))
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(options)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.summary_box)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.task: BackgroundTask | None = None
        self.result_dir: Path | None = None
        self.manifest: dict | None = None
        self._started = 0.0
        if start_dir:
            self.output.set_path(start_dir)
        self.form.changed.connect(self._update_buttons)
        self.output.pathChanged.connect(self._update_buttons)
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def problem(self) -> str | None:
        problem = self.form.problem()
        if problem:
            return problem
        if self.output.path() is None:
            return "choose an output folder"
        return None

    def _update_buttons(self) -> None:
        running = self.running
        problem = self.problem()
        self.start_button.setEnabled(not running and problem is None)
        self.start_button.setToolTip(problem or "Prepare the dataset")
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and self.result_dir is not None)
        self.close_button.setEnabled(not running)
        for widget in (self.form, self.output, self.overwrite):
            widget.setEnabled(not running)

    def set_status(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def start(self) -> None:
        problem = self.problem()
        if problem or self.running:
            if problem:
                self.set_status(problem, ERROR_STYLE)
            return
        options, out, overwrite = self.form.options(), self.output.path(), self.overwrite.isChecked()
        assert out is not None
        if self.task is not None:
            self.task.deleteLater()
        self.result_dir, self.manifest = None, None
        self.summary_box.hide()
        self.summary.clear()
        self.progress.setRange(0, 0)
        self.progress.setFormat("%v / %m patients")
        self.set_status(f"Reading {options.source.name}\u2026")
        self.task = BackgroundTask(lambda progress, stop: options.run(out, overwrite, progress, stop),
                                   "prepare", self)
        self.task.progressed.connect(self._progressed)
        self.task.succeeded.connect(lambda manifest: self._succeeded(out, manifest))
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(self._cancelled)
        self.task.finished.connect(self._update_buttons)
        self._started = time.monotonic()
        self.task.start()
        self._update_buttons()

    def cancel(self) -> None:
        if self.running and self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.set_status("Cancelling\u2026")

    def _progressed(self, progress: Progress) -> None:
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        note = f" \u2014 {progress.message}" if progress.message else ""
        self.set_status(f"Preparing: {progress.done} of {progress.total} patients{note}")

    def _succeeded(self, out: Path, manifest: dict) -> None:
        self.result_dir, self.manifest = out, manifest
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done")
        elapsed = time.monotonic() - self._started
        self.set_status(f"Prepared into {out} in {elapsed:.1f} s", OK_STYLE)
        source = manifest.get("source") or {}
        self.summary.show_manifest(manifest, out, f"{source.get('format_name', '')} \u2192 {out.name}")
        self.summary_box.show()
        self._update_buttons()
        self.prepared.emit(str(out), manifest)

    def _failed(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.set_status(message, ERROR_STYLE)
        self._update_buttons()
        self.failed.emit(message)

    def _cancelled(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.set_status("Cancelled; nothing was written.")
        self._update_buttons()
        self.cancelled.emit()

    def reject(self) -> None:
        if self.running:
            self.cancel()
            return  # closing waits for the cancellation
        super().reject()

    def closeEvent(self, event) -> None:
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)
