"""Data > New phantom dataset: synthetic patients from the anatomy generator and the
ultrasound simulator, with the options of ``cardigan phantom``.

A phantom dataset needs no real data and no model: it is what a new user trains on first.
The work runs on a background thread; Cancel removes the staging folder, and the result can
be opened in the dataset browser. An output that would be refused (a folder that is not
empty, an HDF5 file that exists, without the Replace box ticked; a folder named as an HDF5
file, ``x.h5``, or as another file, ``x.png``, in the engine's words) is said under the output
as soon as it is chosen, and Make stays off until then (:class:`.output_note.OutputNote`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QPushButton, QSpinBox, QWidget)

from engine.anatomy import PHASES, VIEWS
from engine.data.dataset_folder import summary_of
from engine.data.phantom import (MAX_COUNT, USE_HDF5_FORMAT, folders_name_problem, hdf5_output_path, names_hdf5_file,
                                 write_phantom)
from engine.errors import option

from ..fitted_label import FittedLabel
from ..icons import icon
from ..path_field import PathField
from .job_dialog import JobDialog, show_plan
from .output_note import OutputNote
from .spin_width import as_wide_as_its_values

FORMAT_NAMES = {"folders": "image/label folders (what training reads)",
                "hdf5": "one HDF5 file in the seed's layout"}


class PhantomDialog(JobDialog):
    made = Signal(str, object)  # output folder or file, manifest
    openRequested = Signal(str)  # open this dataset folder in the dataset browser
    start_tip = "Make the phantom dataset"
    working = "Simulating"
    option_names = {USE_HDF5_FORMAT: f'choose the format "{FORMAT_NAMES["hdf5"]}"', option("out"): "the output"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, QPushButton(icon("heart-pulse"), "Make"),
                         QPushButton(icon("folder-table-outline"), "Open in dataset browser"))
        self.setWindowTitle("New phantom dataset")
        self.setMinimumWidth(600)
        self.result_is_folder = False  # whether the last result is a folder the dataset browser opens
        self.count = QSpinBox()
        self.count.setRange(1, MAX_COUNT)
        self.count.setValue(100)
        self.count.setSuffix(" patients")
        self.count.setToolTip("Synthetic patients; each gives one pair per view and instant")
        self.size = QSpinBox()
        self.size.setRange(32, 1024)
        self.size.setSingleStep(32)
        self.size.setValue(256)
        self.size.setSuffix(" px")
        self.size.setToolTip("Images and masks are size \u00d7 size pixels")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same patients, images and splits")
        self.views = {view: QCheckBox(view) for view in VIEWS}
        self.phases = {phase: QCheckBox(phase) for phase in PHASES}
        views_row, phases_row = QHBoxLayout(), QHBoxLayout()
        for box in self.views.values():
            box.setChecked(True)
            box.setToolTip("Apical two- or four-chamber view")
            views_row.addWidget(box)
        for box in self.phases.values():
            box.setChecked(True)
            box.setToolTip("End-diastole (ED) or end-systole (ES)")
            phases_row.addWidget(box)
        views_row.addStretch(1)
        phases_row.addStretch(1)
        self.format = QComboBox()
        for name, text in FORMAT_NAMES.items():
            self.format.addItem(text, name)
        self.format.setToolTip("How the dataset is written: image/label folders, which training and the dataset "
                               "browser read, or one HDF5 file in the seed's layout, which Prepare dataset reads")
        self.plan = FittedLabel("")
        self.output = PathField("folder", "Output folder", kind="datasets",
                                placeholder="a new or empty folder (an .h5 file name for HDF5)")
        self.output.setToolTip("Where the dataset is written: a new or empty folder; for HDF5 an .h5 file "
                               "name, or a folder to hold phantom.hdf5")
        self.overwrite = QCheckBox("Replace it if it is a phantom dataset")
        self.overwrite.setToolTip("Without this, a non-empty output is refused; only a phantom dataset "
                                  "is ever replaced")
        note = self.watch_output(OutputNote(self.output, self.overwrite, "a phantom dataset",
                                            file_target=self.hdf5_target,
                                            folder_name_problem=self.file_name_for_folders))

        for box in (self.count, self.size, self.seed):
            as_wide_as_its_values(box)
        form = QFormLayout()
        form.addRow("Patients", self.count)
        form.addRow("Views", views_row)
        form.addRow("Instants", phases_row)
        form.addRow("", self.plan)
        form.addRow("Size", self.size)
        form.addRow("Seed", self.seed)
        form.addRow("Format", self.format)
        form.addRow("Output", self.output)
        form.addRow("", note)
        form.addRow("", self.overwrite)
        options = QGroupBox("Synthetic patients")
        options.setLayout(form)
        self.open_button.setToolTip("Browse the synthetic pairs in the studio")
        self.open_button.clicked.connect(lambda: self.openRequested.emit(str(self.result_dir)))
        self.lay_out(options, [options], result_beside=True)
        for signal in (self.count.valueChanged, self.seed.valueChanged, self.format.currentIndexChanged,
                       *(box.toggled for box in (*self.views.values(), *self.phases.values()))):
            signal.connect(self._update_buttons)
        self._update_buttons()

    def chosen(self, boxes: dict[str, QCheckBox]) -> list[str]:
        return [name for name, box in boxes.items() if box.isChecked()]

    def problem(self) -> str | None:
        if not self.chosen(self.views):
            return "choose at least one view"
        if not self.chosen(self.phases):
            return "choose at least one instant"
        if self.format.currentData() == "hdf5" and len(self.chosen(self.phases)) < len(PHASES):
            return "the HDF5 layout always holds both instants: tick ED and ES, or choose folders"
        if self.output.path() is None:
            return "choose an output folder"
        return self.output_note.problem()

    def hdf5_target(self, out: Path) -> Path | None:
        """The HDF5 file the output names (a file, or ``phantom.hdf5`` in a folder) while the
        format is HDF5; None while it is folders."""
        return hdf5_output_path(out) if self.format.currentData() == "hdf5" else None

    def file_name_for_folders(self, out: Path, there: bool) -> str | None:
        """Why the folders format will not write ``out`` (``there``: something is): a name
        such as ``x.h5`` asks for an HDF5 file, and a new one such as ``x.png`` is another
        file's (the engine's line); either would quietly become a folder of that name."""
        if names_hdf5_file(out):
            return (f"the output {out.name} is named as an HDF5 file, but this format writes folders: "
                    f"{self.option_names[USE_HDF5_FORMAT]}, or name a folder")
        return None if there else self.output_name_problem(folders_name_problem(out, by_name=True))

    def result_opens(self) -> bool:
        """Only a folder opens in the dataset browser, not an HDF5 file."""
        return self.result_dir is not None and self.result_is_folder

    def _update_buttons(self) -> None:
        show_plan(self.plan, self.count.value(), self.seed.value(), len(self.chosen(self.views)),
                  len(self.chosen(self.phases)))
        super()._update_buttons()

    def start(self) -> None:
        if not self.ready_to_start():
            return
        out = self.output.path()
        assert out is not None
        kwargs = dict(count=self.count.value(), size=self.size.value(), seed=self.seed.value(),
                      format=self.format.currentData(), views=self.chosen(self.views),
                      phases=self.chosen(self.phases), overwrite=self.overwrite.isChecked())
        self.run_task(lambda progress, stop: write_phantom(out, progress=progress, should_stop=stop, **kwargs),
                      "phantom", "Simulating patients\u2026", lambda manifest: self._succeeded(out, manifest))

    def _succeeded(self, out: Path, manifest: dict) -> None:
        summary = summary_of(manifest)
        written = Path(summary.output_path or out)
        folders = summary.output_format in ("", "folders")
        self.result_is_folder = folders
        self.show_result(written, manifest, f"Made {summary.total_pairs} pairs in {written}",
                         written if folders else None, f"phantom \u2192 {written.name}")
        self.made.emit(str(written), manifest)
