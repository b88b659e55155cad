"""Data > Prepare dataset: a CAMUS source -> the prepared layout, with progress and cancel.

Preparation runs on a background thread (the engine spreads patients over worker
processes); Cancel makes the engine stop and remove its staging folder, so nothing is left
behind. A non-empty output folder is refused unless "Replace the folder if it is not empty" is
ticked, and so is a new one named as a file (``x.png``: the engine's
:func:`engine.data.staging.named_as_file`); the dialog says so under the folder as soon as it
is chosen and keeps Prepare off until then (:class:`.output_note.OutputNote`). At the end the dialog shows the pairs per
split and a few thumbnails, and offers to open the result in the studio's dataset browser.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QPushButton, QVBoxLayout, QWidget

from engine.data.dataset_folder import summary_of
from engine.data.staging import named_as_file

from ..icons import icon
from ..path_field import PathField
from .job_dialog import JobDialog
from .output_note import OutputNote
from .prepare_form import OUTPUT_ROW, PREPARE_WORDS, PrepareForm


class PrepareDialog(JobDialog):
    prepared = Signal(str, object)  # output folder, manifest
    openRequested = Signal(str)  # open this prepared folder in the dataset browser
    start_tip = "Prepare the dataset"
    working = "Preparing"
    option_names = PREPARE_WORDS

    def __init__(self, parent: QWidget | None = None, start_dir: str = "") -> None:
        super().__init__(parent, QPushButton(icon("database-cog-outline"), "Prepare"),
                         QPushButton(icon("folder-table-outline"), "Open in dataset browser"))
        self.setWindowTitle("Prepare dataset")
        self.setMinimumWidth(620)
        self.form = PrepareForm()
        self.output = PathField("folder", "Output folder", kind="datasets", placeholder="a new or empty folder")
        self.output.setToolTip("Where the prepared dataset goes: <out>/<split>/img|label/<stem>.png and manifest.json")
        self.overwrite = QCheckBox("Replace the folder if it is not empty")
        self.overwrite.setToolTip("Without this, a non-empty output folder is refused")
        note = self.watch_output(OutputNote(self.output, self.overwrite, "a prepared dataset",
                                            folder_name_problem=self.file_name_for_a_folder))
        self.form.add_row(OUTPUT_ROW, self.output)
        self.form.add_row("", note)
        self.form.add_row("", self.overwrite)
        options = QGroupBox("Source and options")
        QVBoxLayout(options).addWidget(self.form)

        self.open_button.setToolTip("Browse the prepared pairs in the studio")
        self.open_button.clicked.connect(lambda: self.openRequested.emit(str(self.result_dir)))
        self.lay_out(options, [self.form, self.output, self.overwrite])

        if start_dir:
            self.output.set_path(start_dir)
        self.form.changed.connect(self._update_buttons)
        self._update_buttons()

    def problem(self) -> str | None:
        problem = self.form.problem()
        if problem:
            return problem
        if self.output.path() is None:
            return "choose an output folder"
        return self.output_note.problem()

    def file_name_for_a_folder(self, out: Path, there: bool) -> str | None:
        """Why a new output ``out`` (``there``: something is) will not be prepared into: it is
        named as a file, ``x.png`` (the engine's line)."""
        return None if there else self.output_name_problem(named_as_file(out, by_name=True))

    def start(self) -> None:
        if not self.ready_to_start():
            return
        options, out, overwrite = self.form.options(), self.output.path(), self.overwrite.isChecked()
        assert out is not None
        self.run_task(lambda progress, stop: options.run(out, overwrite, progress, stop), "prepare",
                      f"Reading {options.source.name}\u2026", lambda manifest: self._succeeded(out, manifest))

    def _succeeded(self, out: Path, manifest: dict) -> None:
        self.show_result(out, manifest, f"Prepared into {out}", out,
                         f"{summary_of(manifest).source} \u2192 {out.name}")
        self.prepared.emit(str(out), manifest)
