"""The central area: the mask canvas, the synthesized image and the real image, side by side.

Each pane has a slim header with the controls that act on it; the panes' zoom and pan are
linked so the same anatomy stays under the pointer in all of them. A header too narrow for its
title and its controls on one line (three panes on a 1280-pixel screen) puts the controls on a
second line, so no header makes the window wider than a laptop screen.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QLabel, QScrollArea, QSizePolicy, QSlider,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from . import theme
from .canvas import EchoView, MaskCanvas, ReferenceView, link_views
from .canvas.panes import MODE_NAMES, MODES
from .editing import LabelDocument
from .elided_label import ElidedLabel
from .state import StudioState
from .icons import icon
from .wrapping_row import WrappingRow


TITLE_GAP = 10  # pixels between a pane's title and its controls, however narrow the pane
UNDER_MASK_TIP = ("Show the real image (one opened to trace over, or the dataset's) under the "
                  "mask, else the synthesized image, instead of a dark backdrop")
ALWAYS_UNDER_TIP = ("With side by side off the synthesized image has no pane of its own, so it always "
                    "lies under the mask (View \u203a Side by side, V, shows it beside the mask again)")


def percent_slider(value: float, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(round(value * 100))
    slider.setMinimumWidth(50)
    slider.setMaximumWidth(110)
    slider.setToolTip(tip)
    return slider


class FooterStrip(QScrollArea):
    """A row of controls under a view. Narrower than the row (beside the real image on a
    1280-pixel screen) it scrolls sideways instead of widening the pane and the window; a row
    that wraps (its height depends on its width) is given the height it needs at the strip's
    width."""

    def __init__(self, row: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = row
        self.setWidget(row)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.horizontalScrollBar().rangeChanged.connect(lambda *_: self.updateGeometry())
        self._row_height = self._needed_row_height()

    def sizeHint(self) -> QSize:
        bar = self.horizontalScrollBar()
        extra = bar.sizeHint().height() if bar.maximum() > 0 else 0
        return QSize(self.row.sizeHint().width(), self._needed_row_height() + extra)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.sizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        height = self._needed_row_height()
        if height != self._row_height:  # the row wrapped or unwrapped: ask for its new height
            self._row_height = height
            self.updateGeometry()

    def _needed_row_height(self) -> int:
        if not self.row.hasHeightForWidth():
            return self.row.sizeHint().height()
        width = max(self.viewport().width(), self.row.minimumSizeHint().width())
        return max(self.row.heightForWidth(width), self.row.minimumSizeHint().height())


class Pane(QWidget):
    """A titled frame around one view. The header holds the title (and a note beside it) and,
    on the right, the controls that act on the view; a pane too narrow for both on one line
    puts the controls on a second line (:class:`~cardigan_app.wrapping_row.WrappingRow`)."""

    def __init__(self, title: str, view: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.header = WrappingRow(gap=TITLE_GAP)  # the title never runs into the controls beside it
        self.header.setContentsMargins(6, 2, 6, 2)
        self.header.lead.addWidget(self.title)
        self.header.lead.addStretch(1)
        self.header.trail.addStretch(1)  # the controls keep to the right, on either line
        self.view = view
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.header)
        layout.addWidget(view, 1)

    def set_title(self, title: str, detail: str = "") -> None:
        """The pane's bold title, with a plain ``detail`` after it (the key frame edited)."""
        self.title.setText(f"<b>{title}</b>" + (f" \u00b7 {detail}" if detail else ""))

    def add_note(self, widget: QWidget) -> None:
        """Put ``widget`` (a busy note) beside the title, :data:`TITLE_GAP` from it."""
        self.header.lead.insertSpacing(1, TITLE_GAP)
        self.header.lead.insertWidget(2, widget)

    def add_controls(self, *widgets: QWidget, spacing: int = 6) -> None:
        """Put ``widgets`` at the header's right, in this order."""
        self.header.trail.setSpacing(spacing)
        for widget in widgets:
            self.header.trail.addWidget(widget)

    def header_widgets(self) -> list[QWidget]:
        """The title, the note and the controls the header shows, left to right."""
        groups = (self.header.lead, self.header.trail)
        items = (group.itemAt(i) for group in groups for i in range(group.count()))
        return [item.widget() for item in items if item.widget() is not None and item.widget().isVisibleTo(self)]

    def add_footer(self, row: QWidget) -> FooterStrip:
        """Put ``row`` (e.g. the cine timeline) under the view."""
        strip = FooterStrip(row)
        self.layout().addWidget(strip)
        return strip


class Workspace(QSplitter):
    """The three panes; the header widgets set the studio state and follow it."""

    referenceClosed = Signal()

    def __init__(self, document: LabelDocument, state: StudioState, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self.setObjectName("workspace")
        self.state = state
        self.canvas = MaskCanvas(document, state)
        self.echo_view = EchoView("Loading the model\u2026")
        self.reference_view = ReferenceView("")

        # mask pane
        self.mask_pane = Pane("Mask", self.canvas)
        self.opacity = percent_slider(state.overlay_opacity, "Opacity of the mask over what lies beneath it")
        self.opacity.valueChanged.connect(lambda v: state.set("overlay_opacity", v / 100))
        state.observe("overlay_opacity", lambda v: self.opacity.setValue(round(v * 100)))
        self.under_mask = QCheckBox("Image under")
        self.under_mask.toggled.connect(lambda on: state.set("show_synthesis_under_mask", on))
        for name in ("show_synthesis_under_mask", "side_by_side"):
            state.observe(name, lambda _: self._show_under_mask())
        self._show_under_mask()
        opacity_label = QLabel()  # an icon: the header fits a narrow pane beside the real image
        opacity_label.setPixmap(icon("circle-opacity").pixmap(16, 16))
        opacity_label.setToolTip("Mask opacity: " + self.opacity.toolTip().lower())
        self.mask_pane.add_controls(opacity_label, self.opacity, self.under_mask)

        # synthesis pane
        self.echo_pane = Pane("Synthesis", self.echo_view)
        self.busy = QLabel("")
        self.busy.setStyleSheet(theme.text_style(theme.BUSY))
        # room for the longest text from the start, so the panes never shift when it shows
        self.busy.setFixedWidth(self.busy.fontMetrics().horizontalAdvance("synthesizing\u2026") + 8)
        self.mode = QComboBox()
        for mode in MODES:
            self.mode.addItem(MODE_NAMES[mode], mode)
        self.mode.setCurrentIndex(MODES.index(state.echo_mode) if state.echo_mode in MODES else 0)
        self.mode.setToolTip("Show the image alone, with the mask's outlines, or blended with the mask")
        self.mode.currentIndexChanged.connect(lambda i: state.set("echo_mode", self.mode.itemData(i)))
        state.observe("echo_mode", self._mode_changed)
        self.blend = percent_slider(state.blend, "How much of the mask to blend into the image")
        self.blend.valueChanged.connect(lambda v: state.set("blend", v / 100))
        state.observe("blend", lambda v: self.blend.setValue(round(v * 100)))
        self.echo_pane.add_note(self.busy)
        self.echo_pane.add_controls(self.mode, self.blend)

        # real-image pane (dataset items)
        self.reference_pane = Pane("Real image", self.reference_view)
        close = QToolButton()
        close.setIcon(icon("close"))
        close.setAutoRaise(True)
        close.setToolTip("Hide the real image")
        close.clicked.connect(self.referenceClosed.emit)
        # a loop traced over: which of its frames lies under the key frame being edited
        self.reference_frame = QSlider(Qt.Orientation.Horizontal)
        self.reference_frame.setToolTip("The frame of the loop under this key frame (K switches ED and ES; "
                                        "each keeps its own frame)")
        self.reference_frame.setMinimumWidth(72)
        self.reference_frame.setMaximumWidth(160)
        self.reference_frame_label = QLabel()
        self.reference_frame_label.setContentsMargins(0, 0, 4, 0)  # clear of the slider's handle
        self.reference_frame.valueChanged.connect(self._reference_frame_shown)
        self.show_reference_frames(0, 0)
        # the window/level the image is shown at, said only while it is not the image's own
        # cut short ("W 159 · L…") beside a loop's slider, never widening the window
        self.contrast_label = ElidedLabel(about="The real image's contrast: window width and level (display only)")
        self.contrast_label.setStyleSheet(theme.text_style(theme.MUTED))
        self.contrast_label.setContentsMargins(4, 0, 0, 0)
        self.contrast_label.hide()
        self.contrast_auto, self.contrast_reset = QToolButton(), QToolButton()  # given actions by the window
        for button in (self.contrast_auto, self.contrast_reset):
            button.setAutoRaise(True)
        self.reference_pane.add_controls(self.reference_frame_label, self.reference_frame, self.contrast_label,
                                         self.contrast_auto, self.contrast_reset, close, spacing=0)
        self.reference_pane.hide()

        for pane in (self.mask_pane, self.echo_pane, self.reference_pane):
            self.addWidget(pane)
        self.setSizes([1, 1, 1])
        link_views(self.canvas, self.echo_view, self.reference_view)
        self._mode_changed(state.echo_mode)

    def show_reference_frames(self, count: int, frame: int) -> None:
        """The frame slider for a loop of ``count`` frames, at ``frame`` (hidden for a picture)."""
        loop = count > 1
        self.reference_frame.setVisible(loop)
        self.reference_frame_label.setVisible(loop)
        if loop:
            self.reference_frame.blockSignals(True)
            self.reference_frame.setRange(0, count - 1)
            self.reference_frame.setValue(frame)
            self.reference_frame.blockSignals(False)
            self._reference_frame_shown(frame)

    def show_contrast(self, words: str) -> None:
        """The window/level in the real image's header ("" hides it: the image's own values)."""
        self.contrast_label.setText(words)
        self.contrast_label.setVisible(bool(words))

    def _reference_frame_shown(self, frame: int) -> None:
        self.reference_frame_label.setText(f"frame {frame + 1} / {self.reference_frame.maximum() + 1}")

    def balance(self) -> None:
        """Give the visible panes equal widths (so linked views show the same zoom)."""
        panes = [self.widget(i) for i in range(self.count())]
        visible = [p for p in panes if not p.isHidden()]
        width = max(1, sum(self.sizes()) // max(1, len(visible)))
        self.setSizes([width if not p.isHidden() else 0 for p in panes])

    def _show_under_mask(self) -> None:
        """Tick "Image under" as the mask pane shows it: the choice made, while the synthesis
        has its pane beside the mask; else ticked and disabled, the synthesis lying under the
        mask whatever was chosen (the choice is kept for side by side)."""
        state, box = self.state, self.under_mask
        box.blockSignals(True)  # showing what lies under the mask changes no choice
        box.setChecked(state.show_synthesis_under_mask or not state.side_by_side)
        box.blockSignals(False)
        box.setEnabled(state.side_by_side)
        box.setToolTip(UNDER_MASK_TIP if state.side_by_side else ALWAYS_UNDER_TIP)

    def _mode_changed(self, mode: str) -> None:
        self.mode.setCurrentIndex(MODES.index(mode) if mode in MODES else 0)
        self.blend.setVisible(mode == "blend")
