"""The timeline under the synthesis view: make the loop, play it, scrub, heart and frame rate.

The loop between the ED and ES key frames is made in the synthesis process (newest request
wins; images for painting go first). While it plays, the synthesis view shows its frames
with their masks; a change to a key frame makes the loop stale, and a playing loop is made
again shortly after the painting stops (the old one plays on meanwhile, the status saying a
new one is being made).

The loop plays at the heart rate chosen, the frame rate as near the one chosen as whole frames
in a beat allow (:attr:`engine.cine.Timing.playback_fps`), and an exported loop records that
heart rate. The frame rate box never goes below the lowest rate that gives a beat its two
frames (:func:`engine.cine.timing.lowest_fps`, rounded up): a faster heart raises the frame
rate there, the box showing the rate chosen.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from engine.cine.timing import lowest_fps

from .. import theme
from ..icons import icon
from ..state import StudioState
from ..wrapping_row import WrappingRow

REMAKE_DELAY_MS = 900  # after the last edit, a playing loop is made again
MAKING = "making the loop\u2026"  # the status while a loop is being made
# a loop's EF is measured on its masks, the key frames as painted; the Anatomy panel's is the
# shape model's heart the mask was drawn from: each says which it is, the tooltip why they differ
LOOP_EF_TIP = ("Ejection fraction by area of the loop's masks, (largest - smallest) / largest LV cavity: "
               "the ED and ES key frames as painted, paint on top of the heart included. The Anatomy "
               "panel's \"Heart model\" EF is the shape model's heart before any painting, so the two "
               "differ once the cavity is painted over.")


class Timeline(QWidget):
    """Play/pause, a frame slider, loop, heart rate and frame rate; shows a loop's frames."""

    loopRequested = Signal()  # make the loop from the current key frames
    frameShown = Signal(object, object)  # image (H, W) uint8, mask (H, W) uint8
    stopped = Signal()
    outdated = Signal()  # the key frames changed: a loop still being made for them is of no use

    def __init__(self, state: StudioState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.frames = None  # CineFrames on screen
        self.stale = True
        self.play_button = QToolButton()
        self.play_button.setIcon(icon("play"))
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the loop between the ED and ES key frames")
        self.play_button.toggled.connect(self._toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Scrub through the loop")
        self.slider.valueChanged.connect(self._show_frame)
        self.loop = QToolButton()  # an icon: the row fits beside the mask on a 1280-pixel screen
        self.loop.setIcon(icon("repeat"))
        self.loop.setCheckable(True)
        self.loop.setAutoRaise(True)
        self.loop.setChecked(True)
        self.loop.setToolTip("Play the cycle over and over (seamless: the last frame leads into the first)")
        self.bpm = self._spin(20, 250, state.cine_bpm, " bpm", "Heart rate")
        self.fps = self._spin(1, 120, state.cine_fps, " fps",
                              "Frame rate of the loop, at least 2 frames a heart beat (bpm / 40); the loop "
                              "plays at the nearest rate that fits whole frames in a beat")
        self.bpm.valueChanged.connect(self._limit_fps)
        for name, spin in (("cine_bpm", self.bpm), ("cine_fps", self.fps)):
            spin.valueChanged.connect(lambda v, name=name: state.set(name, v))
            state.observe(name, lambda v, spin=spin: self._show_rate(spin, v))
        self._limit_fps(self.bpm.value())
        self.status = QLabel("")
        self.status.setStyleSheet(theme.text_style(theme.MUTED))
        # a fixed least width (its text is shown whole where there is room), so a new text
        # never changes the pane's width
        self.status.setMinimumWidth(self.status.fontMetrics().horizontalAdvance(MAKING) + 4)
        self._lay_out()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._advance)
        self.remake = QTimer(self, singleShot=True, interval=REMAKE_DELAY_MS)
        self.remake.timeout.connect(self._remake)
        for name in ("cine_bpm", "cine_fps"):
            state.observe(name, lambda _: self.mark_stale(remake_now=True))

    def _lay_out(self) -> None:
        """Two rows: play, the frame slider and loop above, the rates and the status below. In
        one row the pane beside the mask on a 1280-pixel screen squashed the slider to its
        handle and cut the status short; a pane too narrow for the rates and the status side
        by side (beside a real image) puts the status on a third line of its own."""
        scrub = QHBoxLayout()
        scrub.addWidget(self.play_button)
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.loop)
        timing = WrappingRow(gap=4)
        for widget in (self.bpm, self.fps):
            timing.lead.addWidget(widget)
        timing.trail.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        scrub.setSpacing(4)
        timing.lead.setSpacing(4)
        for row in (scrub, timing):
            layout.addLayout(row)

    def _limit_fps(self, bpm: float) -> None:
        """The frame rate box's least value: two frames a beat at ``bpm``; a lower rate is
        raised to it, in the box and in the state."""
        self.fps.setMinimum(max(1, math.ceil(lowest_fps(bpm) - 1e-9)))
        self.state.set("cine_fps", self.fps.value())

    def _show_rate(self, spin: QDoubleSpinBox, value: float) -> None:
        """A rate set in the state (not by its box) is shown there; one the box cannot take (a
        frame rate too slow for the heart rate) becomes the box's nearest, in the state too."""
        spin.setValue(value)
        if spin.value() != value:
            self.state.set("cine_fps" if spin is self.fps else "cine_bpm", spin.value())

    @staticmethod
    def _spin(low: float, high: float, value: float, suffix: str, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(0)
        spin.setValue(value)
        spin.setSuffix(suffix)
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        return spin

    @property
    def playing(self) -> bool:
        return self.play_button.isChecked()

    def set_status(self, text: str, tip: str = "") -> None:
        """The status line; its tooltip is ``tip``, or the text itself (shown whole there)."""
        self.status.setText(text)
        self.status.setToolTip(tip or text)

    def mark_stale(self, remake_now: bool = False) -> None:
        """The key frames (or the timing) changed: the loop on screen is out of date, and one
        being made is dropped when it comes (playing, a new one is asked for shortly)."""
        self.stale = True
        self.outdated.emit()
        if self.playing:
            self.remake.start(0 if remake_now else REMAKE_DELAY_MS)
        elif self.status.text() == MAKING:
            self.set_status("")

    def _remake(self) -> None:
        """Ask for the loop again while the one on screen, now out of date, plays on: the
        status says a new one is coming, not the old one's frames and EF."""
        self.set_status(MAKING)
        self.loopRequested.emit()

    def forget_loop(self) -> None:
        """Another mask is edited: the loop on screen was another pair's, so its frames,
        position and status go (playing, the new pair's loop is made shortly)."""
        self.frames = None
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.set_status("")
        self.mark_stale()

    def _toggled(self, on: bool) -> None:
        self.play_button.setIcon(icon("pause" if on else "play"))
        if not on:
            self.timer.stop()
            self.stopped.emit()
            return
        if self.frames is None or self.stale:
            self.set_status(MAKING)
            self.loopRequested.emit()
        else:
            if not self.loop.isChecked() and self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)  # played to its end: play starts it again
            self._start_timer()

    def show_loop(self, frames) -> None:
        """A loop arrived: keep the position, play it if playing."""
        self.frames, self.stale = frames, False
        self.slider.blockSignals(True)  # the range changes; the frame is shown below
        self.slider.setRange(0, len(frames.images) - 1)
        self.slider.blockSignals(False)
        self.set_status(loop_status(len(frames.images), frames.ejection_fraction), LOOP_EF_TIP)
        if self.playing:
            self._start_timer()
        self._show_frame(self.slider.value())

    def _start_timer(self) -> None:
        fps = self.frames.fps if self.frames is not None else self.state.cine_fps
        self.timer.start(max(1, round(1000 / fps)))

    def _advance(self) -> None:
        if self.frames is None:
            return
        nxt = self.slider.value() + 1
        if nxt > self.slider.maximum():
            if not self.loop.isChecked():
                self.play_button.setChecked(False)
                return
            nxt = 0
        self.slider.setValue(nxt)

    def _show_frame(self, index: int) -> None:
        if self.frames is not None and 0 <= index < len(self.frames.images):
            self.frameShown.emit(self.frames.images[index], self.frames.masks[index])


def loop_status(frames: int, ejection_fraction: float) -> str:
    """The status of a loop on screen: its length and the EF its masks (as painted) show."""
    return f"{frames} frames, painted: EF {round(ejection_fraction)} % by area"  # round: never "-0 %"
