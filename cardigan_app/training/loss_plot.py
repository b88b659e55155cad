"""Live loss curves, drawn with QPainter: one small plot per loss, each with its own scale.

Losses of a GAN live on very different scales (feature matching near 10, hinge terms near
1), so one shared axis would flatten most of them; small multiples keep every curve
readable. Each plot shows the raw values faintly and an exponential moving average on top;
its tooltip says what the loss measures (``engine.training.stats.loss_meaning``).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from engine.training.stats import loss_meaning

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#BBBBBB")
MAX_POINTS = 4000  # per series; older points are thinned beyond this
MIN_CELL_HEIGHT = 64  # pixels a curve's cell needs for its title, its axis labels and a readable curve
MIN_CELL_WIDTH = 140
READING = ("Faint: each logged value; solid: smoothed. The generator and the discriminators play "
           "against each other, so their losses waver rather than fall to zero: judge the run by "
           "its sample previews.")
BACKGROUND, FRAME, GRID, TEXT = QColor(24, 25, 28), QColor(70, 72, 76), QColor(44, 46, 50), QColor(190, 194, 200)


def smoothed(values: list[float], weight: float) -> list[float]:
    """Exponential moving average with bias correction (the first points are not pulled to 0)."""
    if weight <= 0:
        return list(values)
    out, average = [], 0.0
    for i, value in enumerate(values, 1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** i))
    return out


def nice_number(value: float) -> str:
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e4 or magnitude < 1e-3):
        return f"{value:.1e}"
    return f"{value:.3g}"


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, tuple[list[int], list[float]]] = {}
        self.smoothing = 0.8
        self.setMinimumSize(280, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(520, 300)

    def tooltip_at(self, pos: QPointF) -> str:
        """What the curve under ``pos`` is, and how to read the curves."""
        name = next((name for name, cell in self.cells() if cell.contains(pos)), None)
        meaning = loss_meaning(name) if name else ""
        said = f"{name}: {meaning}\n" if meaning else f"{name}\n" if name else ""
        return said + READING

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            QToolTip.showText(event.globalPos(), self.tooltip_at(QPointF(event.pos())), self)
            return True
        return super().event(event)

    # -- data ----------------------------------------------------------------------------
    def clear(self) -> None:
        self.series.clear()
        self.update()

    def add(self, iteration: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            value = float(value)
            if not math.isfinite(value):
                continue
            xs, ys = self.series.setdefault(name, ([], []))
            if xs and iteration <= xs[-1]:  # a resumed run repeats iterations: keep the newer values
                while xs and xs[-1] >= iteration:
                    xs.pop()
                    ys.pop()
            xs.append(int(iteration))
            ys.append(value)
            if len(xs) > MAX_POINTS:
                del xs[1:-1:2], ys[1:-1:2]
        self.update()

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = min(max(weight, 0.0), 0.99)
        self.update()

    def point_count(self, name: str) -> int:
        return len(self.series.get(name, ([], []))[0])

    # -- drawing -------------------------------------------------------------------------
    def cells(self) -> list[tuple[str, QRectF]]:
        names = list(self.series)
        if not names:
            return []
        columns = 1 if self.width() < 360 else 2 if self.width() < 900 or len(names) <= 4 else 3
        columns = min(columns, len(names))
        # a low plot trades width for height: rows too low to hold a curve take a column more
        while (columns < min(3, len(names)) and self.width() / (columns + 1) >= MIN_CELL_WIDTH
               and self.height() / math.ceil(len(names) / columns) < MIN_CELL_HEIGHT):
            columns += 1
        rows = math.ceil(len(names) / columns)
        w, h = self.width() / columns, self.height() / rows
        return [(name, QRectF((i % columns) * w, (i // columns) * h, w, h).adjusted(3, 3, -3, -3))
                for i, name in enumerate(names)]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        if not self.series:
            painter.setPen(TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Loss curves appear here once the run logs")
            return
        for index, (name, cell) in enumerate(self.cells()):
            self._draw_cell(painter, name, cell, QColor(COLOURS[index % len(COLOURS)]))

    def _draw_cell(self, painter: QPainter, name: str, cell: QRectF, colour: QColor) -> None:
        xs, ys = self.series[name]
        metrics = painter.fontMetrics()
        line = metrics.height()
        painter.setPen(colour)
        latest = f"{name}  {nice_number(ys[-1])}" if ys else name
        painter.drawText(QPointF(cell.left() + 4, cell.top() + metrics.ascent() + 1), latest)
        label_w = metrics.horizontalAdvance("-0.000e+00") * 0.75
        top = cell.top() + line * 1.6  # room for the title and half of the top value's label
        plot = QRectF(cell.left() + label_w, top, cell.width() - label_w - 4, cell.bottom() - line - 2 - top)
        if plot.width() < 20 or plot.height() < 20:
            return
        low, high = min(ys), max(ys)
        if high - low < 1e-12:
            low, high = low - 0.5, high + 0.5
        pad = (high - low) * 0.06
        low, high = low - pad, high + pad
        x0, x1 = xs[0], max(xs[-1], xs[0] + 1)

        def to_point(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                           plot.bottom() - (y - low) / (high - low) * plot.height())

        painter.setPen(QPen(GRID, 1))
        for k in range(1, 4):
            y = plot.top() + plot.height() * k / 4
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QPen(FRAME, 1))
        painter.drawRect(plot)
        painter.setPen(TEXT)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(cell.left(), plot.top() - line / 2, label_w - 3, line), right, nice_number(high))
        painter.drawText(QRectF(cell.left(), plot.bottom() - line / 2, label_w - 3, line), right, nice_number(low))
        painter.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, f"{x0}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 1, plot.width(), line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, f"iteration {xs[-1]}")

        painter.save()
        painter.setClipRect(plot)
        if len(xs) == 1:
            painter.setBrush(colour)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(to_point(xs[0], ys[0]), 2.5, 2.5)
        else:
            raw = QColor(colour)
            raw.setAlpha(70 if self.smoothing > 0 else 255)
            painter.setPen(QPen(raw, 1))
            painter.drawPath(self._path(xs, ys, to_point))
            if self.smoothing > 0:
                painter.setPen(QPen(colour, 1.8))
                painter.drawPath(self._path(xs, smoothed(ys, self.smoothing), to_point))
        painter.restore()

    @staticmethod
    def _path(xs: list[int], ys: list[float], to_point) -> QPainterPath:
        path = QPainterPath(to_point(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:]):
            path.lineTo(to_point(x, y))
        return path
