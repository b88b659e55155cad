"""Export batch's Cine loops row: the choices of ``cardigan export --cine`` in one line.

A check box turns the export into loops (every patient view a sequence with per-frame masks,
:func:`engine.export.cine.export_cine`, as the command line's ``--cine``); beside it the frame
rate, heart rate and part of the cycle the command line takes (``--fps``, ``--bpm``,
``--cycle``), starting from its own defaults, and how many frames a loop gets from them (or
why there would be too few or too many, in the engine's words: :meth:`Timing.checked`).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QWidget

from engine.cine import Timing
from engine.cine.timing import MAX_BPM, MIN_BPM
from engine.cli.export import CINE_BPM, CINE_CYCLE, CINE_CYCLES, CINE_FPS
from engine.errors import CardiganError

from .. import theme
from ..fitted_label import FittedLabel
from .spin_width import as_wide_as_its_values

CYCLE_NAMES = {"half": "ED \u2192 ES", "full": "full cycle"}
CYCLE_TIPS = {"half": "Half a cycle, ED to ES, as CAMUS stores its sequences",
              "full": "A whole cycle, ED to ES and back: a loop that plays seamlessly"}
MAX_FPS = 1000.0  # the box's top; the frames a loop gets are checked as the engine checks them


class CineOptions(QWidget):
    """The Cine loops check box with the timing of its loops; :attr:`changed` on any change."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Cine loops")
        self.enabled.setToolTip("Export loops with per-frame masks instead of still pairs: every patient view "
                                "(from a masks folder: each <patient>_<view> with ED and ES masks) becomes a "
                                "sequence, as cardigan export --cine")
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.1, MAX_FPS)
        self.fps.setDecimals(1)
        self.fps.setSuffix(" fps")
        self.fps.setValue(CINE_FPS)
        self.fps.setToolTip(f"Frames per second of the loops (default {CINE_FPS:g})")
        self.bpm = QDoubleSpinBox()
        self.bpm.setRange(MIN_BPM, MAX_BPM)
        self.bpm.setDecimals(0)
        self.bpm.setSuffix(" bpm")
        self.bpm.setValue(CINE_BPM)
        self.bpm.setToolTip(f"Heart rate, {MIN_BPM}-{MAX_BPM} (default {CINE_BPM:g})")
        self.cycle = QComboBox()
        for cycle in CINE_CYCLES:
            self.cycle.addItem(CYCLE_NAMES[cycle], cycle)
        self.cycle.setCurrentIndex(self.cycle.findData(CINE_CYCLE))
        self.cycle.setToolTip("Which part of the heart cycle a loop holds: " + "; ".join(
            f"{CYCLE_NAMES[c]}: {CYCLE_TIPS[c].lower()}" for c in CINE_CYCLES))
        self.frames = FittedLabel("")
        self.frames.setToolTip("How many frames each loop gets from the frame rate, heart rate and cycle")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.enabled, as_wide_as_its_values(self.fps), as_wide_as_its_values(self.bpm), self.cycle):
            row.addWidget(widget)
        row.addWidget(self.frames, 1)
        for signal in (self.enabled.toggled, self.fps.valueChanged, self.bpm.valueChanged,
                       self.cycle.currentIndexChanged):
            signal.connect(self._update)
        self._update()

    def checked(self) -> bool:
        return self.enabled.isChecked()

    def timing(self) -> Timing:
        """The loops' timing as chosen (not checked)."""
        return Timing(bpm=self.bpm.value(), fps=self.fps.value(), cycle=self.cycle.currentData())

    def problem(self) -> str | None:
        """Why loops of this timing cannot be made (too few or too many frames), or None."""
        try:
            self.timing().checked()
        except CardiganError as error:
            return str(error)
        return None

    def take_from(self, other: CineOptions) -> None:
        """Choose what ``other`` has chosen (a dialog made anew keeps the last one's choices)."""
        self.fps.setValue(other.fps.value())
        self.bpm.setValue(other.bpm.value())
        self.cycle.setCurrentIndex(other.cycle.currentIndex())
        self.enabled.setChecked(other.checked())

    def _update(self) -> None:
        on = self.checked()
        for widget in (self.fps, self.bpm, self.cycle, self.frames):
            widget.setEnabled(on)
        problem = self.problem()
        self.frames.setText(problem or f"{self.timing().frame_count()} frames a loop")
        self.frames.setStyleSheet(theme.text_style(theme.WARNING if problem and on else theme.MUTED))
        self.changed.emit()
