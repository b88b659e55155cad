"""Seed control, the variation strength, and the strip of variations (the same mask under
other seeds).

The variation strength (:mod:`.style_control`) is a noise model's style scale, the model's own
marked; it is greyed out for models it does not change.

The variations' thumbnails fill the panel's width, :data:`COLUMNS` a row, between
:data:`LEAST_THUMB` and :data:`MOST_THUMB` pixels square, so the panel never makes the
window's side column wider (:mod:`.narrow`); the seed's button goes under the seed where
the two do not fit on one line.

The strip's pictures come one by one once the mask rests; until the first arrives (a new mask,
a new model, other seeds, the studio just started) "making variations…" stands in the empty cells' place,
as the synthesis view says "Synthesizing…", unless the window says none will come
(:meth:`SynthesisPanel.stop_waiting`: the synthesis failed). An edit of the mask fades the
pictures shown (:meth:`SynthesisPanel.mark_stale`): they are of the mask before it, until each
one's new picture comes.
"""

from __future__ import annotations

import random

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget

from .. import theme
from ..icons import icon
from ..imaging import grey_qimage
from ..wrapping_row import WrappingRow
from .narrow import panel_margins
from .style_control import StyleControl

MAX_SEED = 2**31 - 1
LEAST_THUMB, MOST_THUMB = 48, 128  # a variation's square, pixels, picture and frame
COLUMNS = 3
GAP = 4  # between two thumbnails
FRAME = 4  # the button's frame around its picture, each side
MAKING = "making variations\u2026"  # over the empty strip until the first picture arrives
STALE_OPACITY = 0.35  # a picture of the mask before the last edit, until its new one comes


def faded(icon: QIcon) -> QIcon:
    """``icon``'s picture drawn at :data:`STALE_OPACITY` over nothing."""
    picture = icon.pixmap(MOST_THUMB, MOST_THUMB)
    out = QPixmap(picture.size())
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setOpacity(STALE_OPACITY)
    painter.drawPixmap(0, 0, picture)
    painter.end()
    return QIcon(out)


class ThumbnailGrid(QWidget):
    """``buttons`` in rows of :data:`COLUMNS` square cells as wide as the grid allows (between
    :data:`LEAST_THUMB` and :data:`MOST_THUMB`); the grid is as tall as its rows."""

    def __init__(self, buttons: list[QToolButton], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons = buttons
        for button in buttons:
            button.setParent(self)
        self._side = LEAST_THUMB
        self.waiting = QLabel(MAKING, self)  # in the first row's place while the cells are empty
        self.waiting.setStyleSheet(theme.text_style(theme.MUTED))
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def cell(self, width: int) -> int:
        """A cell's side in a grid ``width`` pixels wide."""
        return max(LEAST_THUMB, min(MOST_THUMB, (width - GAP * (COLUMNS - 1)) // COLUMNS))

    def show_waiting(self, waiting: bool) -> None:
        """The note instead of the empty cells (``waiting``), or the cells; the grid keeps its
        size either way, so nothing below it moves when the first picture comes."""
        self.waiting.setVisible(waiting)
        for button in self.buttons:
            button.setVisible(not waiting)

    def _height(self, side: int) -> int:
        rows = -(-len(self.buttons) // COLUMNS)
        return max(0, rows * (side + GAP) - GAP)

    def _width(self, side: int) -> int:
        return COLUMNS * (side + GAP) - GAP

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self._height(self.cell(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self._width(LEAST_THUMB), self._height(LEAST_THUMB))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self._width(self._side), self._height(self._side))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        side = self.cell(self.width())
        for index, button in enumerate(self.buttons):
            row, column = divmod(index, COLUMNS)
            button.setGeometry(QRect(column * (side + GAP), row * (side + GAP), side, side))
            button.setIconSize(QSize(side - 2 * FRAME, side - 2 * FRAME))
        self.waiting.setGeometry(QRect(0, 0, self._width(side), side))
        if side != self._side:
            self._side = side
            self.updateGeometry()


class SynthesisPanel(QWidget):
    seedChanged = Signal(int)
    styleChanged = Signal(float)  # the variation strength chosen; 0: the model's own
    variationsToggled = Signal(bool)
    moreVariations = Signal()
    fittedHeightChanged = Signal()  # the panel had no room to spare and now needs another height

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
        seed_row = WrappingRow(gap=6, line_spacing=4)  # the button under the seed in a narrow panel
        seed_row.lead.addWidget(QLabel("Seed"))
        seed_row.lead.addWidget(self.seed, 1)
        seed_row.trail.addWidget(self.new_variation)
        seed_row.trail.addStretch(1)

        self.style = StyleControl()
        self.style.styleChanged.connect(self.styleChanged.emit)

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
        self.thumbs: list[QToolButton] = []
        self.thumb_seeds: list[int | None] = []
        self.thumb_stale: list[bool] = []  # the picture is of the mask before the last edit
        for index in range(count):
            button = QToolButton()
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, i=index: self._pick(i))
            self.thumbs.append(button)
            self.thumb_seeds.append(None)
            self.thumb_stale.append(False)
        self.strip = ThumbnailGrid(self.thumbs)
        self.waiting = self.strip.waiting
        self._expecting = True  # pictures are on their way (none has failed since they were asked for)

        layout = panel_margins(QVBoxLayout(self))
        layout.addLayout(seed_row)
        layout.addWidget(self.style)
        layout.addLayout(strip_row)
        layout.addWidget(self.strip)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.set_stochastic(True)
        self._show_waiting()  # at first start, until the first pictures come

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_height()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._fit_height()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As tall as the seed's row and the thumbnails are at the panel's width (once shown): the
        height its dock is laid out with, so no empty room is left under the thumbnails."""
        hint = super().sizeHint()
        if self.isVisible() and self.minimumHeight() > 0:
            hint.setHeight(self.minimumHeight())
        return hint

    def _fit_height(self) -> None:
        """As tall as the seed's row and the thumbnails' rows are at this width (a dock asks
        its panel for one least height, whatever its width, so the panel says it here). Not
        before it is shown: a width it never has on screen would make the dock too tall."""
        if not self.isVisible():
            return
        layout = self.layout()
        layout.activate()
        needed = layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else 0
        if needed != self.minimumHeight():
            fitted = self.height() == self.minimumHeight()
            self.setMinimumHeight(needed)
            self.updateGeometry()
            if fitted:
                self.fittedHeightChanged.emit()

    def roll(self) -> None:
        self.seed.setValue(random.randrange(MAX_SEED))

    def set_seed(self, seed: int) -> None:
        self.seed.blockSignals(True)
        self.seed.setValue(seed)
        self.seed.blockSignals(False)
        self._highlight()

    def set_style_scale(self, value: float) -> None:
        """The variation strength chosen (0: the model's own)."""
        self.style.set_value(value)

    def set_model_style(self, own: float | None, stochastic: bool, name: str = "") -> None:
        """The model in use: its own style scale (None: it has none) and whether the seed changes it."""
        self.style.set_model(own, stochastic, name)
        # greyed out, it takes one line: its new height counts now, not once its layout's request comes
        self.style.layout().invalidate()
        self.style.updateGeometry()
        self.layout().invalidate()
        self._fit_height()

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
        self._fit_height()
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
        self._fit_height()

    def set_variation_seeds(self, seeds: tuple[int, ...]) -> None:
        """Label the thumbnails with the seeds about to be computed (clears stale pictures)."""
        for index, button in enumerate(self.thumbs):
            seed = seeds[index] if index < len(seeds) else None
            if seed != self.thumb_seeds[index]:
                button.setIcon(QIcon())
                self.thumb_stale[index] = False
                self._expecting = True
            self.thumb_seeds[index] = seed
            button.setToolTip(f"Seed {seed}: click to use it" if seed is not None else "")
        self._highlight()
        self._show_waiting()

    def mark_stale(self) -> None:
        """The mask was edited: fade the pictures of the mask before (once; each comes back
        whole with its new picture), so none is taken for the mask now."""
        for index, button in enumerate(self.thumbs):
            if not self.thumb_stale[index] and not button.icon().isNull():
                self.thumb_stale[index] = True
                button.setIcon(faded(button.icon()))
                seed = self.thumb_seeds[index]
                button.setToolTip(f"Seed {seed}: of the mask before the last edit, being made again; "
                                  "click to use it")

    def clear_variations(self) -> None:
        """Drop the pictures (another mask or model makes the next ones)."""
        for button in self.thumbs:
            button.setIcon(QIcon())
        self.thumb_stale = [False] * len(self.thumbs)
        self._expecting = True
        self._show_waiting()

    def stop_waiting(self) -> None:
        """No pictures will come for what is asked now (its synthesis failed): the empty strip
        stops saying they are being made, until new ones are asked for."""
        self._expecting = False
        self._show_waiting()

    def _show_waiting(self) -> None:
        """The note over the strip while it is empty and its pictures are on their way."""
        self.strip.show_waiting(self._expecting and all(button.icon().isNull() for button in self.thumbs))

    def set_variation(self, index: int, seed: int, image) -> None:
        if 0 <= index < len(self.thumbs):
            self.thumb_seeds[index] = seed
            picture = grey_qimage(image).scaled(MOST_THUMB, MOST_THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation)
            self.thumbs[index].setIcon(QIcon(QPixmap.fromImage(picture)))
            self.thumb_stale[index] = False
            self.thumbs[index].setToolTip(f"Seed {seed}: click to use it")
            self._highlight()
            self._show_waiting()
