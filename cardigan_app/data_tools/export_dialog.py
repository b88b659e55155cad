"""Data > Export batch: synthetic image/mask pairs in bulk, as a segmentation dataset.

Masks come from a folder (their names are kept) or from N generated patients (2CH and 4CH
at ED and ES each); every mask is synthesized K times. The engine writes the png, seed
HDF5 or CAMUS NIfTI layout to a staging folder and renames it at the end, so a cancelled or
failed export leaves nothing; a non-empty output folder is refused unless Overwrite is ticked.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QGridLayout, QGroupBox, QLabel, QProgressBar, QPushButton, QRadioButton,
                               QSpinBox, QVBoxLayout, QWidget)

from engine.devices import available_devices
from engine.export import EXPORT_FORMATS, export_dataset
from engine.progress import Progress

from ..icons import icon
from ..panels.model_panel import BUILTIN_NAMES, builtin_models, model_display_name
from ..path_field import PathField
from ..tasks import BackgroundTask
from .manifest_summary import ManifestSummary
from .prepare_form import ERROR_STYLE, OK_STYLE

FILE_ITEM = "__file__"
MODEL_FILTER = "Models (*.safetensors *_net_G.pth *.pth);;All files (*)"
FORMAT_TIPS = {
    "png": "Prepared layout: <split>/img|label/<stem>.png plus manifest.json (SPADE custom compatible)",
    "hdf5": "The seed's HDF5: <split>/<patient>/<view>/im (2, H, W, 1) and gt (2, H, W); needs ED and ES",
    "nifti": "CAMUS 2023 layout: database_nifti/<patient>/<patient>_<view>_<ED|ES>[_gt].nii.gz",
}


class ExportDialog(QDialog):
    exported = Signal(str, object)  # output folder, manifest
    failed = Signal(str)  # the one-line reason
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None, current_model: str | None = None,
                 current_size: int | None = None, device: str = "auto") -> None:
        super().__init__(parent)
        self.setWindowTitle("Export batch")
        self.setMinimumWidth(640)

        self.model = QComboBox()
        self.model.setToolTip("The model that synthesizes the images")
        if current_model:
            self.model.addItem(f"Current studio model \u2014 {model_display_name(current_model)}", current_model)
        for spec in builtin_models():
            if spec != current_model:
                self.model.addItem(BUILTIN_NAMES[spec], spec)
        self.model.addItem("Model file\u2026", FILE_ITEM)
        self.model_file = PathField("file", "Model file", MODEL_FILTER, "a .safetensors model or *_net_G.pth")

        self.use_random = QRadioButton("Generated patients")
        self.use_random.setToolTip("Random anatomies from the mask generator: 2CH and 4CH at ED and ES each")
        self.use_masks = QRadioButton("Masks folder")
        self.use_masks.setToolTip("Label maps (PNG, *_gt.mhd, *_gt.nii.gz); their names are kept")
        group = QButtonGroup(self)
        group.addButton(self.use_random)
        group.addButton(self.use_masks)
        self.use_random.setChecked(True)
        self.random_count = QSpinBox()
        self.random_count.setRange(1, 1_000_000)
        self.random_count.setValue(20)
        self.random_count.setSuffix(" patients")
        self.masks = PathField("folder", "Masks folder", placeholder="a folder of label maps")
        source_grid = QGridLayout()
        source_grid.addWidget(self.use_random, 0, 0)
        source_grid.addWidget(self.random_count, 0, 1)
        source_grid.addWidget(self.use_masks, 1, 0)
        source_grid.addWidget(self.masks, 1, 1)
        source_grid.setColumnStretch(1, 1)

        self.variations = QSpinBox()
        self.variations.setRange(1, 1000)
        self.variations.setToolTip("Images per mask, each with its own seed (variation 1 keeps the mask's name)")
        self.format = QComboBox()
        for name in EXPORT_FORMATS:
            self.format.addItem(name, name)
            self.format.setItemData(self.format.count() - 1, FORMAT_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.format.currentIndexChanged.connect(
            lambda: self.format.setToolTip(FORMAT_TIPS.get(self.format.currentData(), "")))
        self.format.setToolTip(FORMAT_TIPS["png"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same patients, splits and images")
        self.size = QSpinBox()
        self.size.setRange(32, 2048)
        self.size.setSingleStep(32)
        self.size.setValue(current_size or 256)
        self.size.setSuffix(" px")
        self.size.setToolTip("Size of generated masks (masks from a folder keep theirs)")
        self.device = QComboBox()
        for spec in ["auto", *available_devices()]:
            self.device.addItem("Auto" if spec == "auto" else spec.upper() if spec == "cpu" else spec, spec)
        index = self.device.findData(device)
        self.device.setCurrentIndex(max(index, 0))
        self.output = PathField("folder", "Output folder", placeholder="a new or empty folder")
        self.overwrite = QCheckBox("Replace the folder if it is not empty")
        self.overwrite.setToolTip("Without this, a non-empty output folder is refused")

        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("", self.model_file)
        form.addRow("Masks", source_grid)
        form.addRow("Variations per mask", self.variations)
        form.addRow("Format", self.format)
        form.addRow("Seed", self.seed)
        form.addRow("Size", self.size)
        form.addRow("Device", self.device)
        form.addRow("Output folder", self.output)
        form.addRow("", self.overwrite)
        self.options_box = QGroupBox("What to export")
        self.options_box.setLayout(form)

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

        self.start_button = QPushButton(icon("export"), "Export")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton(icon("stop-circle-outline"), "Cancel")
        self.cancel_button.setToolTip("Stop; nothing is left in the output folder")
        self.open_button = QPushButton(icon("folder-open-outline"), "Open output folder")
        self.close_button = QPushButton("Close")
        buttons = QDialogButtonBox()
        for button in (self.start_button, self.cancel_button, self.open_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_output)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.options_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.summary_box)
        layout.addStretch(1)
        layout.addWidget(buttons)

        self.task: BackgroundTask | None = None
        self.result_dir: Path | None = None
        self.manifest: dict | None = None
        self._started = 0.0
        for signal in (self.model.currentIndexChanged, self.use_random.toggled, self.masks.pathChanged,
                       self.model_file.pathChanged, self.output.pathChanged):
            signal.connect(self._update)
        self._update()

    # -- state ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def model_spec(self) -> str | None:
        data = self.model.currentData()
        if data == FILE_ITEM:
            path = self.model_file.path()
            return str(path) if path else None
        return data

    def select_model(self, spec: str) -> None:
        """Pick ``spec`` in the model list (a file goes into the file field)."""
        index = self.model.findData(spec)
        if index < 0:
            self.model.setCurrentIndex(self.model.findData(FILE_ITEM))
            self.model_file.set_path(spec)
        else:
            self.model.setCurrentIndex(index)

    def problem(self) -> str | None:
        if self.model_spec() is None:
            return "choose a model file"
        if self.use_masks.isChecked() and self.masks.path() is None:
            return "choose a folder of masks"
        if self.output.path() is None:
            return "choose an output folder"
        return None

    def _update(self) -> None:
        running = self.running
        from_file = self.model.currentData() == FILE_ITEM
        self.model_file.setVisible(from_file)
        self.random_count.setEnabled(self.use_random.isChecked())
        self.masks.setEnabled(self.use_masks.isChecked())
        self.size.setEnabled(self.use_random.isChecked())
        problem = self.problem()
        self.options_box.setEnabled(not running)
        self.start_button.setEnabled(not running and problem is None)
        self.start_button.setToolTip(problem or "Synthesize and write the dataset")
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and self.result_dir is not None)
        self.close_button.setEnabled(not running)

    def set_status(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        problem = self.problem()
        if problem or self.running:
            if problem:
                self.set_status(problem, ERROR_STYLE)
            return
        spec = self.model_spec()
        out = self.output.path()
        assert spec is not None and out is not None
        kwargs = dict(masks=self.masks.path() if self.use_masks.isChecked() else None,
                      random=self.random_count.value() if self.use_random.isChecked() else None,
                      variations=self.variations.value(), format=self.format.currentData(),
                      seed=self.seed.value(), size=self.size.value(), device=self.device.currentData(),
                      overwrite=self.overwrite.isChecked())
        if self.task is not None:
            self.task.deleteLater()
        self.result_dir, self.manifest = None, None
        self.summary_box.hide()
        self.summary.clear()
        self.progress.setRange(0, 0)
        self.progress.setFormat("%v / %m patients")
        self.set_status(f"Loading {model_display_name(spec)}\u2026")
        self.task = BackgroundTask(
            lambda progress, stop: export_dataset(spec, out, progress=progress, should_stop=stop, **kwargs),
            "export", self)
        self.task.progressed.connect(self._progressed)
        self.task.succeeded.connect(lambda manifest: self._succeeded(out, manifest, kwargs["format"]))
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(self._cancelled)
        self.task.finished.connect(self._update)
        self._started = time.monotonic()
        self.task.start()
        self._update()

    def cancel(self) -> None:
        if self.running and self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.set_status("Cancelling\u2026")

    def _progressed(self, progress: Progress) -> None:
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        note = f" \u2014 {progress.message}" if progress.message else ""
        self.set_status(f"Synthesizing: {progress.done} of {progress.total} patients{note}")

    def _succeeded(self, out: Path, manifest: dict, fmt: str) -> None:
        self.result_dir, self.manifest = out, manifest
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done")
        elapsed = time.monotonic() - self._started
        pairs = sum(int(v) for v in (manifest.get("counts") or {}).values())
        self.set_status(f"Exported {pairs} pairs as {fmt} into {out} in {elapsed:.1f} s", OK_STYLE)
        self.summary.show_manifest(manifest, out if fmt == "png" else None, f"{fmt} \u2192 {out.name}")
        self.summary_box.show()
        self._update()
        self.exported.emit(str(out), manifest)

    def _failed(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.set_status(message, ERROR_STYLE)
        self._update()
        self.failed.emit(message)

    def _cancelled(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.set_status("Cancelled; nothing was written.")
        self._update()
        self.cancelled.emit()

    def open_output(self) -> None:
        if self.result_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result_dir)))

    def reject(self) -> None:
        if self.running:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)
