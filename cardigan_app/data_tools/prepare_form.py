"""The source and options of a preparation, shared by the Prepare dialog and the training
wizard (which can prepare a raw source on the way).

The source's format is detected on a background thread a moment after the path stops
changing (a CAMUS release folder may hold thousands of files). The engine is then given
that format, so a source that changed kind since (a file made a folder) is refused in the
command line's words for a format it was told: :data:`PREPARE_WORDS` says it as detected.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QSpinBox, QWidget

from engine.anatomy import PHASES, VIEWS
from engine.data.prepare import PrepareOptions, detect_format
from engine.data.sources import FORMAT_NAMES
from engine.errors import Words, option

from .. import theme
from ..fitted_label import FittedLabel
from ..path_field import PathField
from ..tasks import BackgroundTask
from .spin_width import as_wide_as_its_values

SOURCE_FILTER = "Seed HDF5 (*.hdf5 *.h5);;All files (*)"
OK_STYLE, ERROR_STYLE, BUSY_STYLE = (theme.text_style(c) for c in (theme.OK, theme.ERROR, theme.MUTED))
DETECT_DELAY_MS = 250
OUTPUT_ROW = "Output folder"  # the prepared folder's row, named alike in the Prepare dialog and the wizard
# the form has no format to choose: the format the engine is given is the one it detected
PREPARE_WORDS: Words = {option("format"): "the detected format", option("out"): "the output"}


class PrepareForm(QWidget):
    formatDetected = Signal(str, str)  # format ('' when unknown), message shown
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = PathField("file+folder", "CAMUS source", SOURCE_FILTER,
                                "a seed HDF5 file, a CAMUS 2019 / 2023 release folder, or SPADE image/label folders",
                                kind="sources")
        self.source.setToolTip("The seed's HDF5 file (camus05_256.hdf5), the folder of a CAMUS release, or "
                               "a folder holding the image and label folders an NVlabs SPADE run trains on "
                               "(train_img and train_label, ...)")
        self.format_label = FittedLabel("choose a source")
        self.format_label.setStyleSheet(BUSY_STYLE)
        self.views = {view: QCheckBox(view) for view in VIEWS}
        self.instants = {instant: QCheckBox(instant) for instant in PHASES}
        for box in (*self.views.values(), *self.instants.values()):
            box.setChecked(True)
            box.toggled.connect(self.changed)
        self.views["2CH"].setToolTip("Two-chamber view: LV and LA")
        self.views["4CH"].setToolTip("Four-chamber view (the seed's own run used 4CH only)")
        self.instants["ED"].setToolTip("End-diastole: the LV at its largest")
        self.instants["ES"].setToolTip("End-systole: the LV at its smallest")
        self.size = QSpinBox()
        self.size.setRange(32, 4096)
        self.size.setSingleStep(32)
        self.size.setValue(256)
        self.size.setSuffix(" px")
        self.size.setToolTip("Images are resized (area/bilinear) and masks (nearest) to size \u00d7 size")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the 80/10/10 patient split, used where the source has no split lists")

        for box in (self.size, self.seed):
            as_wide_as_its_values(box)
        form = self.form_layout = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Source", self.source)
        form.addRow("Format", self.format_label)
        form.addRow("Views", self._row(self.views.values()))
        form.addRow("Instants", self._row(self.instants.values()))
        form.addRow("Size", self.size)
        form.addRow("Split seed", self.seed)

        self.detected = ""
        self._detected_for = ""
        self._generation = 0
        self._task: BackgroundTask | None = None
        self._timer = QTimer(self, singleShot=True, interval=DETECT_DELAY_MS)
        self._timer.timeout.connect(self._detect)
        self.source.pathChanged.connect(self._source_changed)
        self.size.valueChanged.connect(self.changed)

    @staticmethod
    def _row(boxes) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in boxes:
            layout.addWidget(box)
        layout.addStretch(1)
        return row

    def add_row(self, label: str, widget: QWidget) -> None:
        """Another row aligned with the form's own (an output folder, an option)."""
        self.form_layout.addRow(label, widget)

    # -- format detection ----------------------------------------------------------------
    def _source_changed(self, _text: str) -> None:
        self.detected = ""
        self._generation += 1
        self._show("" if self.source.text() else "choose a source", BUSY_STYLE)
        self.changed.emit()
        if self.source.text():
            self._show("detecting\u2026", BUSY_STYLE)
            self._timer.start()

    def _detect(self) -> None:
        path = self.source.path()
        if path is None:
            return
        generation = self._generation
        task = BackgroundTask(lambda _p, _s: detect_format(path), "detect-format", self)
        task.succeeded.connect(lambda fmt: self._detected(generation, str(path), fmt, ""))
        task.failed.connect(lambda message: self._detected(generation, str(path), "", message))
        task.finished.connect(task.deleteLater)
        self._task = task
        task.start()

    def _detected(self, generation: int, path: str, fmt: str, message: str) -> None:
        if generation != self._generation:
            return  # the path changed meanwhile
        self.detected, self._detected_for = fmt, path
        if fmt:
            self._show(f"{FORMAT_NAMES.get(fmt, fmt)} ({fmt})", OK_STYLE)
        else:
            self._show(message, ERROR_STYLE)
        self.changed.emit()
        self.formatDetected.emit(fmt, self.format_label.text())

    def _show(self, text: str, style: str) -> None:
        self.format_label.setText(text)
        self.format_label.setStyleSheet(style)

    # -- the options ---------------------------------------------------------------------
    def chosen(self, boxes: dict[str, QCheckBox]) -> tuple[str, ...]:
        return tuple(name for name, box in boxes.items() if box.isChecked())

    def problem(self) -> str | None:
        """Why the options cannot be used yet, or None."""
        if self.source.path() is None:
            return "choose a source file or folder"
        if not self.detected:
            text = self.format_label.text()
            return text if self.format_label.styleSheet() == ERROR_STYLE else "the source's format is not known yet"
        if not self.chosen(self.views):
            return "choose at least one view (2CH, 4CH)"
        if not self.chosen(self.instants):
            return "choose at least one instant (ED, ES)"
        return None

    def options(self) -> PrepareOptions:
        path = self.source.path()
        assert path is not None and self.detected, "options() before a format was detected"
        return PrepareOptions(path, self.detected, self.chosen(self.views), self.chosen(self.instants),
                              self.size.value(), self.seed.value())
