"""The variation strength: how far a noise model's style channels spread (its style scale).

One slider from 0.01 to 1 (what ``--style-scale`` takes) with the model's own value marked
under it, named "Strength" on its left, the value on its right ("(own)" when it is the
model's), and a button back to the model's own, all on one line. The value given
out is 0 for the model's own (the studio state's encoding), else the scale chosen. A model
whose output the seed does not change, or which has no style channels (the simulator, VAE
models), hides it: the panel spends no height on a control that changes nothing (the reason
stays in its tooltip, for a caller that shows it anyway).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPolygonF
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSlider, QStyle, QStyleOptionSlider, QToolButton,
                               QWidget)

from .. import theme
from ..icons import icon

STEPS = 100  # the slider's positions: a style scale of 0.01 to 1
MARK = 5  # the model's own value's mark under the groove, pixels high
ABOUT = ("How much the images vary from seed to seed (a noise model's style scale, as "
         "cardigan synthesize --style-scale): 1 gives the most variety, lower values steadier brightness. "
         "The mark under the slider is the model's own.")


def own_text(own: float | None) -> str:
    return "" if own is None else f"{own:g}"


class MarkedSlider(QSlider):
    """A horizontal slider with one value marked under its groove (:meth:`set_mark`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.mark: int | None = None

    def set_mark(self, value: int | None) -> None:
        self.mark = value
        self.update()

    def mark_x(self) -> float | None:
        """Where the mark's point is, in the slider's pixels (None: no mark)."""
        if self.mark is None:
            return None
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        offset = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), self.mark, span)
        return groove.x() + handle.width() / 2 + offset

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        x = self.mark_x()
        if x is None or not self.isEnabled():  # greyed out, the slider has nothing to mark
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.MUTED if self.isEnabled() else "#6a6e75"))
        bottom = self.height() - 1
        painter.drawPolygon(QPolygonF([QPointF(x, bottom - MARK), QPointF(x - MARK, bottom), QPointF(x + MARK, bottom)]))
        painter.end()


class StyleControl(QWidget):
    styleChanged = Signal(float)  # the scale chosen; 0: the model's own

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = 0.0  # as the state holds it: 0 for the model's own
        self.own: float | None = None  # the model's own scale; None: it has no style channels
        self.why_not = "No model is loaded yet."  # why the model in use takes no strength ("": it takes one)
        self.name = QLabel("Strength")
        self.shown = QLabel("")
        self.shown.setStyleSheet(theme.text_style(theme.MUTED))
        self.slider = MarkedSlider()
        self.slider.setRange(1, STEPS)
        self.slider.setPageStep(10)
        self.slider.valueChanged.connect(self._moved)
        self.reset = QToolButton()
        self.reset.setIcon(icon("restore"))
        self.reset.setAutoRaise(True)
        self.reset.clicked.connect(lambda: self.styleChanged.emit(0.0))
        row = QHBoxLayout(self)  # one line, so the panel is no taller than the seed's row needs
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.name)
        row.addWidget(self.slider, 1)
        row.addWidget(self.shown)
        row.addWidget(self.reset)
        self._show()

    def set_value(self, value: float) -> None:
        """The state's value (0: the model's own)."""
        self.value = float(value)
        self._show()

    def set_model(self, own: float | None, stochastic: bool, name: str = "") -> None:
        """The model in use: its own scale (None: no style channels) and whether the seed changes
        its output."""
        self.own = own
        self.slider.set_mark(None if own is None else round(own * STEPS))
        name = name or "This model"
        if not stochastic:
            self.why_not = f"{name} is deterministic: the seed does not change its output, so there is nothing to vary."
        elif own is None:
            self.why_not = f"{name} has no style channels: the variation strength does not change its images."
        else:
            self.why_not = ""
        self._show()

    def effective(self) -> float | None:
        """The scale the images are drawn with (None: the model takes none)."""
        return self.value or self.own

    def _show(self) -> None:
        usable = self.own is not None and not self.why_not
        drawn = self.value or self.own or 1.0
        self.slider.blockSignals(True)
        self.slider.setValue(round(drawn * STEPS))
        self.slider.blockSignals(False)
        for widget in (self.name, self.slider, self.shown):
            widget.setEnabled(usable)
        self._lay_out(usable)
        self.setHidden(not usable)
        own = self.value == 0.0 or self.value == self.own
        self.shown.setText("" if not usable else f"{drawn:g}" + (" (own)" if own else ""))
        self.reset.setEnabled(usable and self.value != 0.0)
        self.reset.setToolTip(f"Back to the model's own ({own_text(self.own)})" if self.own is not None
                              else "Back to the model's own")
        tip = ABOUT if usable else f"{self.why_not}\n{ABOUT}"
        for widget in (self.name, self.slider, self.shown):
            widget.setToolTip(tip)

    def _lay_out(self, usable: bool) -> None:
        """The value and the reset button only where the strength can be used; the slider
        taller by the mark's height where it marks the model's own."""
        self.shown.setVisible(usable)
        self.reset.setVisible(usable)
        self.slider.setMinimumHeight(self.slider.sizeHint().height() + (2 * MARK if usable else 0))

    def _moved(self, position: int) -> None:
        self.styleChanged.emit(position / STEPS)
