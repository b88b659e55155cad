"""New mask: a heart drawn from the shape model of real hearts (view, instant, seed) or blank."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                               QHBoxLayout, QLabel, QRadioButton, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from engine.anatomy import PHASES, VIEWS, ShapeModel, phase_fraction
from engine.anatomy.heart import TYPED_SEEDS, anatomy_record, heart_name
from engine.fan import default_fan

from ..editing import LabelDocument
from ..icons import icon
from ..imaging import PALETTE, rgb_qimage

SIZES = (128, 256, 512)
PREVIEW = 220
# The heart the studio opens on: of the shape model's first 200 draws, the one nearest the
# mean on its worst slider direction (within 0.5 SD on every one; tests/test_app_anatomy.py
# checks it against the shipped model). Draw 0 is a long, tilted heart with an EF of 14 % by
# area, 2.4 SD below the mean: a poor first heart to show.
FIRST_HEART_SEED = 89


@dataclass
class NewMaskChoice:
    template: bool
    view: str
    phase: str
    seed: int
    size: int

    def make(self) -> np.ndarray:
        if self.template:
            model = ShapeModel.default()
            return model.mask(model.draw(self.seed), self.view, self.phase, self.size, fan=default_fan(self.view))
        return np.zeros((self.size, self.size), np.uint8)

    def title(self) -> str:
        return f"{heart_name(self.seed)} {self.view} {self.phase}" if self.template else "blank mask"

    def document(self) -> LabelDocument:
        """A new document holding this mask (and, for a heart, the heart it was drawn from,
        which the anatomy panel then edits, and the view's median fan)."""
        document = LabelDocument(self.make(), origin=self.title())
        document.fan = default_fan(self.view)
        if self.template:
            heart = ShapeModel.default().draw(self.seed)
            document.anatomy = anatomy_record(heart, self.view, phase_fraction(self.phase))
        return document


class NewMaskDialog(QDialog):
    def __init__(self, view: str = "4CH", phase: str = "ED", seed: int = 0, size: int = 256,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New mask")
        self.template_button = QRadioButton("A heart from the shape model of real hearts")
        self.blank_button = QRadioButton("Blank (all background)")
        group = QButtonGroup(self)
        group.addButton(self.template_button)
        group.addButton(self.blank_button)
        self.template_button.setChecked(True)

        self.view = QComboBox()
        self.view.addItems(VIEWS)
        self.view.setCurrentText(view if view in VIEWS else "4CH")
        self.view.setToolTip("2CH: two-chamber view (LV and LA); 4CH: four-chamber view")
        self.phase = QComboBox()
        self.phase.addItems(PHASES)
        self.phase.setCurrentText(phase if phase in PHASES else "ED")
        self.phase.setToolTip("ED: end-diastole (LV largest); ES: end-systole (LV smallest)")
        self.seed = QSpinBox()
        self.seed.setRange(0, TYPED_SEEDS - 1)
        self.seed.setValue(seed)
        self.seed.setToolTip("The same seed always gives the same heart")
        dice = QToolButton()
        dice.setIcon(icon("dice-5-outline"))
        dice.setToolTip("Another random heart")
        dice.clicked.connect(lambda: self.seed.setValue(random.randrange(TYPED_SEEDS)))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(dice)
        self.size = QComboBox()
        for s in SIZES:
            self.size.addItem(f"{s} \u00d7 {s}", s)
        self.size.setCurrentIndex(SIZES.index(size) if size in SIZES else 1)
        self.size.setToolTip("Models trained on the prepared CAMUS data expect 256 \u00d7 256")

        form = QFormLayout()
        form.addRow("View", self.view)
        form.addRow("Instant", self.phase)
        form.addRow("Anatomy seed", seed_row)
        form.addRow("Size", self.size)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #0e0e10; border: 1px solid #3a3d42;")

        left = QVBoxLayout()
        left.addWidget(self.template_button)
        left.addLayout(form)
        left.addSpacing(8)
        left.addWidget(self.blank_button)
        left.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(self.preview)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(buttons)

        for signal in (self.view.currentIndexChanged, self.phase.currentIndexChanged,
                       self.seed.valueChanged, self.size.currentIndexChanged, self.template_button.toggled):
            signal.connect(self._update)
        self._update()

    def choice(self) -> NewMaskChoice:
        return NewMaskChoice(self.template_button.isChecked(), self.view.currentText(),
                             self.phase.currentText(), self.seed.value(), int(self.size.currentData()))

    def _update(self) -> None:
        template = self.template_button.isChecked()
        for widget in (self.view, self.phase, self.seed):
            widget.setEnabled(template)
        choice = self.choice()
        choice.size = min(choice.size, 256)  # the anatomy scales with the size; preview small
        labels = choice.make()
        picture = rgb_qimage(PALETTE[labels]).scaled(PREVIEW - 2, PREVIEW - 2, Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.FastTransformation)
        self.preview.setPixmap(QPixmap.fromImage(picture))
