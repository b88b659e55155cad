"""Anatomy: edit the current heart as anatomy (lengths, wall, atrium, phase, view), not pixels.

The panel keeps the heart a mask was drawn from (``LabelDocument.anatomy``: view, phase and
the :class:`engine.anatomy.PatientAnatomy` as a dict). Moving a slider draws the mask again
from the anatomy generator; pixels the user painted on top of the drawn heart stay as they
were painted. One slider drag (or one preset) is one undo step, and undo/redo bring the
sliders back to the heart of that step.
"""

from __future__ import annotations

import random

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QVBoxLayout, QWidget)

from engine.anatomy import (PATHOLOGIES, SLIDERS, VIEWS, anatomy_from_dict, anatomy_to_dict, make_mask,
                            random_patient, with_changes, with_pathology)

from .. import theme
from ..editing import LabelDocument
from ..icons import icon

STEPS = 200  # slider positions across a field's range


class AnatomyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: LabelDocument | None = None
        self._drawn: np.ndarray | None = None  # the heart as last drawn (to tell painted pixels)
        self._states: dict[int, dict] = {}  # id(undo step) -> anatomy after it
        self._start_state: dict | None = None  # the anatomy before any recorded step
        self._updating = False
        self._recording = False  # an anatomy step is being added to the history
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(theme.text_style(theme.MUTED))
        self.start = QPushButton(icon("heart-outline"), "Start from anatomy")
        self.start.setToolTip("Replace the mask with a generated heart you can then shape (undoable)")
        self.start.clicked.connect(self.start_from_anatomy)
        self.new_heart = QPushButton(icon("dice-5-outline"), "New heart")
        self.new_heart.setToolTip("Draw another random heart (undoable)")
        self.new_heart.clicked.connect(self.start_from_anatomy)
        top = QHBoxLayout()
        top.addWidget(self.start)
        top.addWidget(self.new_heart)

        self.view = QComboBox()
        self.view.addItems(VIEWS)
        self.view.setToolTip("2CH: the LV and LA alone; 4CH: room for the right heart on the left")
        self.view.currentTextChanged.connect(lambda _: self._one_step("view"))
        self.phase = self._slider("ED \u2194 ES: end-diastole (largest LV) to end-systole")
        self.sliders: dict[str, QSlider] = {}
        form = QFormLayout()
        form.addRow("View", self.view)
        form.addRow("Phase ED\u2194ES", self.phase)
        for name, label, _, _ in SLIDERS:
            slider = self._slider(label)
            self.sliders[name] = slider
            row_label = QLabel(label.split(" (")[0])  # the unit stays in the tooltip: a narrow panel
            row_label.setToolTip(label)
            form.addRow(row_label, slider)
        self.pathology = QComboBox()
        self.pathology.addItems(list(PATHOLOGIES))
        self.pathology.setToolTip("Shape the current heart as a common pathology")
        for combo in (self.view, self.pathology):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        apply = QPushButton("Apply")
        apply.setToolTip("Apply the pathology to the current heart (one undo step)")
        apply.clicked.connect(self.apply_pathology)
        row = QHBoxLayout()
        row.addWidget(QLabel("Pathology"))
        row.addWidget(self.pathology, 1)
        row.addWidget(apply)
        form.addRow(row)  # across both columns: the panel stays narrow
        note = QLabel("What you paint on top of the heart stays where you painted it.")
        note.setWordWrap(True)
        note.setStyleSheet(theme.text_style(theme.MUTED))
        self.controls = QWidget()
        self.controls.setLayout(form)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(top)
        layout.addWidget(self.controls)
        layout.addWidget(note)
        layout.addStretch(1)
        self._show_state()

    def _slider(self, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, STEPS)
        slider.setToolTip(tip)
        slider.sliderPressed.connect(self._begin_drag)
        slider.sliderReleased.connect(self._end_drag)
        slider.valueChanged.connect(lambda _: self._slider_moved())
        return slider

    # -- binding ---------------------------------------------------------------------------
    def bind(self, document: LabelDocument) -> None:
        """Follow ``document`` (called whenever the window edits another mask)."""
        if self.document is not None:
            self.document.remove_history_listener(self._history_changed)
        self.document = document
        document.add_history_listener(self._history_changed)
        self._states.clear()
        self._start_state = document.anatomy
        self._redraw_reference()
        self._show_state()

    @property
    def heart(self):
        anatomy = self.document.anatomy if self.document else None
        return anatomy_from_dict(anatomy["heart"]) if anatomy else None

    def _usable(self) -> str | None:
        doc = self.document
        if doc is None:
            return "No mask"
        if doc.shape[0] != doc.shape[1]:
            return "Anatomy editing needs a square mask"
        return None

    def _redraw_reference(self) -> None:
        anatomy = self.document.anatomy if self.document else None
        self._drawn = None
        if anatomy and self._usable() is None:
            self._drawn = make_mask(anatomy_from_dict(anatomy["heart"]), anatomy["view"], anatomy["phase"],
                                    self.document.shape[0])

    def _show_state(self) -> None:
        """Sliders and texts from the document's anatomy."""
        problem = self._usable()
        anatomy = self.document.anatomy if self.document else None
        self.controls.setEnabled(anatomy is not None and problem is None)
        self.new_heart.setEnabled(problem is None)
        self.start.setVisible(anatomy is None)
        self.new_heart.setVisible(anatomy is not None)
        if problem:
            self.status.setText(problem)
            return
        if anatomy is None:
            self.status.setText("This mask was not drawn from anatomy: start from a generated heart "
                                "to shape it with sliders.")
            return
        heart = anatomy_from_dict(anatomy["heart"])
        self.status.setText(f"Heart #{heart.seed}, {anatomy['view']}, "
                            f"{int(round(100 * anatomy['phase']))} % of the way from ED to ES")
        self._updating = True
        try:
            self.view.setCurrentText(anatomy["view"])
            self.phase.setValue(int(round(anatomy["phase"] * STEPS)))
            for name, _, low, high in SLIDERS:
                value = getattr(heart, name)
                self.sliders[name].setValue(int(round((value - low) / (high - low) * STEPS)))
        finally:
            self._updating = False

    def _slider_state(self) -> dict:
        """The anatomy the controls show now."""
        anatomy = self.document.anatomy
        values = {name: low + (high - low) * self.sliders[name].value() / STEPS for name, _, low, high in SLIDERS}
        heart = with_changes(anatomy_from_dict(anatomy["heart"]), **values)
        return {"view": self.view.currentText(), "phase": self.phase.value() / STEPS,
                "heart": anatomy_to_dict(heart)}

    # -- drawing ---------------------------------------------------------------------------
    def _draw(self, anatomy: dict) -> None:
        """Make the mask the heart of ``anatomy``, keeping the pixels painted on top."""
        doc = self.document
        drawn = make_mask(anatomy_from_dict(anatomy["heart"]), anatomy["view"], anatomy["phase"], doc.shape[0])
        labels = drawn.copy()
        if self._drawn is not None:
            painted = doc.labels != self._drawn
            labels[painted] = doc.labels[painted]
        doc.anatomy = anatomy
        self._drawn = drawn
        doc.replace_in_stroke(labels)

    def _begin_drag(self) -> None:
        if self.document is not None and self.document.anatomy is not None:
            self.document.begin_stroke("anatomy slider")

    def _end_drag(self) -> None:
        if self.document is not None and self.document.in_stroke:
            self._finish(self.document.anatomy)

    def _slider_moved(self) -> None:
        if self._updating or self.document is None or self.document.anatomy is None:
            return
        dragging = self.document.in_stroke
        if not dragging:
            self.document.begin_stroke("anatomy")
        self._draw(self._slider_state())
        if not dragging:  # a key press or a click on the groove: one step each
            self._finish(self.document.anatomy)

    def _one_step(self, description: str) -> None:
        if self._updating or self.document is None or self.document.anatomy is None:
            return
        self.document.begin_stroke(description)
        self._draw(self._slider_state())
        self._finish(self.document.anatomy)

    def _finish(self, anatomy: dict) -> None:
        before = self.document.history.top
        self._recording = True
        try:
            self.document.end_stroke()
        finally:
            self._recording = False
        top = self.document.history.top
        if top is not None and top is not before:
            self._states[id(top)] = anatomy
        self._show_state()

    def start_from_anatomy(self) -> None:
        """Replace the mask with a random generated heart (one undo step)."""
        if self._usable() is not None:
            return
        doc = self.document
        heart = random_patient(random.randrange(1_000_000))
        self._drawn = None  # the whole mask is replaced, painted pixels included
        doc.begin_stroke("new heart")
        self._draw({"view": self.view.currentText(), "phase": 0.0, "heart": anatomy_to_dict(heart)})
        self._finish(doc.anatomy)

    def apply_pathology(self) -> None:
        if self.document is None or self.document.anatomy is None:
            return
        anatomy = dict(self.document.anatomy)
        heart = with_pathology(anatomy_from_dict(anatomy["heart"]), self.pathology.currentText())
        anatomy["heart"] = anatomy_to_dict(heart)
        self.document.begin_stroke(f"pathology: {self.pathology.currentText()}")
        self._draw(anatomy)
        self._finish(anatomy)

    # -- undo and redo ----------------------------------------------------------------------
    def _history_changed(self) -> None:
        """After undo/redo, show the anatomy of the step the mask is now at."""
        doc = self.document
        if doc is None or doc.in_stroke or self._recording:
            return
        anatomy = self._start_state
        for edit in doc.history.undo_steps():  # newest first
            if id(edit) in self._states:
                anatomy = self._states[id(edit)]
                break
        if anatomy is not doc.anatomy:
            doc.anatomy = anatomy
            self._redraw_reference()
        self._show_state()
