"""Seed control and the strip of variations (the same mask under other seeds)."""

from __future__ import annotations

import random

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from .. import theme
from ..icons import icon
from ..imaging import grey_qimage

MAX_SEED = 2**31 - 1
THUMB = 64
COLUMNS = 3


class SynthesisPanel(QWidget):
    seedChanged = Signal(int)
    variationsToggled = Signal(bool)
    moreVariations = Signal()

    def __init__(self, count: int = 6, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("The seed of the model's randomness: the same mask and seed give the same image")
        self.seed.setKeyboardTracking(False)
        self.seed.setMinimumWidth(70)  # narrower than ten digits: the panel fits a 1280-pixel screen
        self.seed.valueChanged.connect(self.seedChanged.emit)
        self.new_variation = QPushButton(icon("dice-5-outline"), "New variation")
        self.new_variation.setToolTip("Synthesize the same mask with a new random seed (R)")
        self.new_variation.clicked.connect(self.roll)
        seed_row = QHBoxLayout()
        seed_row.addWidget(QLabel("Seed"))
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_variation)

        self.show_variations = QCheckBox("Variations")
        self.show_variations.setChecked(True)
        self.show_variations.setToolTip("Also synthesize the mask under other seeds, when the mask rests; "
                                        "click one to use its seed")
        self.show_variations.toggled.connect(self._toggled)
        self.more = QToolButton()
        self.more.setIcon(icon("refresh"))
        self.more.setAutoRaise(True)
        self.more.setToolTip("Show other seeds")
        self.more.clicked.connect(self.moreVariations.emit)
        strip_row = QHBoxLayout()
        strip_row.addWidget(self.show_variations)
        strip_row.addStretch(1)
        strip_row.addWidget(self.more)

        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(theme.text_style(theme.MUTED))
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        self.thumbs: list[QToolButton] = []
        self.thumb_seeds: list[int | None] = []
        for index in range(count):
            button = QToolButton()
            button.setIconSize(QSize(THUMB, THUMB))
            button.setFixedSize(THUMB + 8, THUMB + 8)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, i=index: self._pick(i))
            self.grid.addWidget(button, index // COLUMNS, index % COLUMNS)
            self.thumbs.append(button)
            self.thumb_seeds.append(None)
        self.strip = QWidget()
        self.strip.setLayout(self.grid)

        layout = QVBoxLayout(self)
        layout.addLayout(seed_row)
        layout.addLayout(strip_row)
        layout.addWidget(self.strip)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.set_stochastic(True)

    def roll(self) -> None:
        self.seed.setValue(random.randrange(MAX_SEED))

    def set_seed(self, seed: int) -> None:
        self.seed.blockSignals(True)
        self.seed.setValue(seed)
        self.seed.blockSignals(False)
        self._highlight()

    def _pick(self, index: int) -> None:
        seed = self.thumb_seeds[index]
        if seed is not None:
            self.seed.setValue(seed)
        self._highlight()

    def _highlight(self) -> None:
        for button, seed in zip(self.thumbs, self.thumb_seeds):
            button.setChecked(seed is not None and seed == self.seed.value())

    def _toggled(self, on: bool) -> None:
        self.strip.setVisible(on and self._stochastic)
        self.more.setEnabled(on)
        self.variationsToggled.emit(on)

    def set_stochastic(self, stochastic: bool, name: str = "") -> None:
        """Show the seed controls for a model with randomness, or say it has none."""
        self._stochastic = stochastic
        for widget in (self.seed, self.new_variation, self.show_variations, self.more):
            widget.setEnabled(stochastic)
        self.strip.setVisible(stochastic and self.show_variations.isChecked())
        self.note.setText("" if stochastic else
                          f"{name or 'This model'} is deterministic: the seed does not change its output, "
                          "so there are no variations to show.")
        self.note.setVisible(not stochastic)  # an empty note takes no room

    def set_variation_seeds(self, seeds: tuple[int, ...]) -> None:
        """Label the thumbnails with the seeds about to be computed (clears stale pictures)."""
        for index, button in enumerate(self.thumbs):
            seed = seeds[index] if index < len(seeds) else None
            if seed != self.thumb_seeds[index]:
                button.setIcon(QIcon())
            self.thumb_seeds[index] = seed
            button.setToolTip(f"Seed {seed}: click to use it" if seed is not None else "")
        self._highlight()

    def clear_variations(self) -> None:
        """Drop the pictures (another model makes the next ones)."""
        for button in self.thumbs:
            button.setIcon(QIcon())

    def set_variation(self, index: int, seed: int, image) -> None:
        if 0 <= index < len(self.thumbs):
            self.thumb_seeds[index] = seed
            picture = grey_qimage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation)
            self.thumbs[index].setIcon(QIcon(QPixmap.fromImage(picture)))
            self.thumbs[index].setToolTip(f"Seed {seed}: click to use it")
            self._highlight()
