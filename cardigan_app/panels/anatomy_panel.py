"""Anatomy: shape the heart (and the probe's fan) as anatomy, not pixels.

A mask drawn from the shape model of real hearts (:class:`engine.anatomy.ShapeModel`)
carries its heart in the document's metadata (``LabelDocument.anatomy``: view, phase and
the heart's record). Sliders move the heart along the model's directions (LV length and
width, tilt, wall, atrium, the first shape modes), each bounded to +-3 SD of the real
hearts, so an extreme is a rare real heart, never a broken one, and each stops where the heart
would no longer fit the fan at the mask's size (as the fan sliders stop at the last usable
fan), so the picture never jumps to a heart nearer the mean; a target-EF slider moves
end-systole; presets jump to positions the real data defines (its largest cavities,
thickest walls, ...; a dilated LV at a reduced EF: :mod:`engine.anatomy.clinical_presets`), and the preset box names the one applied until a heart slider moves the
heart off it (undo and redo too: the box names a preset only while the heart is that preset's). The fan's depth, opening and tilt are here too; they stop at the last
usable fan, and at the last fan the heart can still be drawn in, and a fan slider always
shows the fan in use (the status line says where it stopped, and why). A heart that does
not fit the fan it was given (by a file, or by the other key frame) is drawn nearer the mean,
and the status line says so while it is (where not even the mean heart fits, each phase is
drawn on its own, and the EF line shows no EF, as the masks show no one heart's cycle). Pixels painted on top of the drawn heart stay as
painted (each heart slider's tooltip says so). One drag (or one preset) is one undo step,
and undo brings back the heart and the fan with the pixels (they are in the undo step).

In a cine pair (ED and ES key frames, :mod:`cardigan_app.cine.key_frames`) the heart is the
patient's: every heart slider but ED\u2194ES, a preset, New heart and Fit to mask change it on
the frame shown, and the other frame takes the same heart as one linked undo step, its phase
and its paint kept. The ED\u2194ES slider is the frame's own phase and stays on its side of the
cycle (:func:`phase_range`): the ES key frame is never drawn at end-diastole, nor the ED one
at end-systole, nor the two at one phase. New heart keeps the frame's phase, and Fit to mask on the ES key frame fits
the mask as end-systole.

The status line's note on the last change ("LV length +1.2 SD", "Fitted to the mask (94 %
overlap)") tells of this session's last edit and is not saved: undo, redo and another mask
drop it. The state it describes is saved (the heart's record and the fan), and the sliders
and the EF line show it again when the mask is reopened.

Under the EF line, a mask whose file records its pixel spacing (NIfTI, MetaImage, NRRD) gets
its LV's length in mm and area in cm\u00b2 as painted, followed through edits, undo and redo
(:mod:`.lv_size`); a mask without one (a PNG) gets none.

The panel's parts live beside it: the sliders' ranges, value texts and stops at a limit in
:mod:`.anatomy_sliders`, the Probe fan group in :mod:`.probe_fan`, the preset row in
:mod:`.heart_presets`, and Start from anatomy, New heart and Fit to mask in :mod:`.new_hearts`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from engine.anatomy import ShapeModel
from engine.anatomy.heart import LIMIT, Heart, heart_in_record, heart_name, keep_painted, record_as_drawn
from engine.fan import Fan

from .. import theme
from ..editing import LabelDocument, Stroke
from ..icons import icon
from .anatomy_sliders import (EF_RANGE, GROUP_SPACING, PHASE_TIP, SLIDERS, STEPS, WIDEST_VALUE, SliderLimits,
                              PAINT_STAYS, compact_form, phase_range, phase_tip, slider_value)
from .heart_presets import PresetRow
from .lv_size import LV_SIZE_TIP, lv_size_line
from .narrow import panel_margins
from .new_hearts import NewHearts
from .probe_fan import ProbeFanGroup

NOT_FROM_ANATOMY = ("This mask was not drawn from anatomy: start from a heart, or fit one to this mask, "
                    "to shape it with sliders.")  # the buttons' tooltips say where the heart comes from

DRAWN_NEARER_THE_MEAN = "This heart does not fit the fan: drawn nearer the mean heart"
DRAWN_SMALLER = "This heart does not fit the fan at its size: drawn smaller"

# the EF line measures the shape model's heart, not the painted mask the timeline's loop measures
HEART_MODEL = "Heart model"


class AnatomyPanel(SliderLimits, ProbeFanGroup, PresetRow, NewHearts, QWidget):
    """The sliders and buttons; each change is one undo step of the document, a slider drag
    included: the panel holds the step's :class:`Stroke` from press to release (or to a modal
    dialog or a popup menu taking the mouse, :meth:`let_go`)."""

    holdChanged = Signal(bool)  # the mouse took (True) or let go (False) of a slider

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ShapeModel.default()
        self.document: LabelDocument | None = None
        self._drawn: np.ndarray | None = None  # the heart as last drawn (to tell painted pixels)
        self._updating = False
        self._stroke: Stroke | None = None  # the undo step this panel has open
        self._held: str | None = None  # the slider the mouse holds
        self.values: dict[str, QLabel] = {}  # each slider's value, by the slider's name, at its row's end
        self._note = ""  # what the last change of the heart did, in words (the status line says it)
        self._key_frame: str | None = None  # "ED" or "ES" in a cine pair, None for a mask alone
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(theme.text_style(theme.MUTED))
        self.ef = QLabel("")
        self.ef.setWordWrap(True)
        self.ef.setVisible(False)  # until there is a heart
        self.ef.setToolTip("The shape model's heart this mask is drawn from, not the pixels: ejection "
                           "fraction by volume with Simpson's biplane method from both views, as echo reports "
                           "give it (what the Target EF slider sets), and by area, (ED - ES) / ED cavity area "
                           "in this view (lower: area shrinks less than volume). The key-frame line and "
                           "the timeline measure the masks as painted, so they differ once paint changes "
                           "the cavity")
        self.start = QPushButton(icon("heart-outline"), "Start from anatomy")
        self.start.setToolTip("Replace the mask with a heart drawn from the shape model of real hearts "
                              "(undoable)")
        self.start.clicked.connect(self.start_from_anatomy)
        self.fit = QPushButton(icon("vector-curve"), "Fit to mask")
        self.fit.setToolTip("Find the real-looking heart nearest to this mask (2CH or 4CH, whichever fits "
                            "it better), then shape it with the sliders")
        self.fit.clicked.connect(self.fit_to_mask)
        self.new_heart = QPushButton(icon("dice-5-outline"), "New heart")
        self.new_heart.setToolTip("Draw another random heart (undoable)")
        self.new_heart.clicked.connect(lambda: self.start_from_anatomy(ask=False))
        top = QVBoxLayout()  # stacked: the panel stays narrow enough for a 1280-pixel screen
        top.setSpacing(4)
        for button in (self.start, self.fit, self.new_heart):
            top.addWidget(button)

        self.view = QComboBox()
        self.view.addItems(["2CH", "4CH"])
        self.view.setToolTip("2CH: the LV and LA alone; 4CH: room for the right heart on the left")
        self.view.currentTextChanged.connect(lambda _: self._redraw_step("view"))
        self.phase = self._slider(0, STEPS, PHASE_TIP, "phase")
        self.sliders: dict[str, QSlider] = {}
        form = compact_form()
        form.addRow("View", self.view)
        form.addRow("ED\u2194ES", self._with_value(self.phase))
        for name in SLIDERS:
            label = self.model.directions.get(name, name)
            slider = self._slider(-STEPS // 2, STEPS // 2, f"{label}: \u00b13 SD of real hearts", name)
            self.sliders[name] = slider
            row = QLabel(label)
            row.setToolTip(slider.toolTip())
            form.addRow(row, self._with_value(slider))
        self.target_ef = self._slider(*EF_RANGE, "Target ejection fraction by Simpson's biplane method, "
                                                 "as echo reports give it: moves end-systole in both views, "
                                                 "end-diastole kept as the real hearts allow", "ef")
        form.addRow("Target EF", self._with_value(self.target_ef))
        self._add_preset_row(form)
        self.controls = QWidget()
        self.controls.setLayout(form)

        self._add_fan_box()

        layout = panel_margins(QVBoxLayout(self))
        layout.setSpacing(GROUP_SPACING)
        layout.addWidget(self.status)
        layout.addLayout(top)
        layout.addWidget(self.ef)
        self.lv_size = QLabel("")
        self.lv_size.setWordWrap(True)
        self.lv_size.setToolTip(LV_SIZE_TIP)
        self.lv_size.setVisible(False)  # until a mask with a recorded pixel spacing
        layout.addWidget(self.lv_size)
        self.key_frame_ef = QLabel("")
        self.key_frame_ef.setWordWrap(True)  # a line wider than the narrow column would clip the panel
        self.key_frame_ef.setToolTip("(ED - ES) / ED cavity area of the two key frames as painted (K switches them)")
        layout.addWidget(self.key_frame_ef)
        self.key_frame_ef.setVisible(False)  # until there are two key frames
        layout.addWidget(self.controls)
        layout.addWidget(self.fan_box)
        layout.addStretch(1)
        self._show_state()

    def _slider(self, low: int, high: int, tip: str, name: str) -> QSlider:
        """A slider; a heart slider's tooltip also says that paint on top of the heart stays."""
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(low, high)
        slider.setToolTip(tip if name.startswith("fan:") else f"{tip}. {PAINT_STAYS}.")
        slider.setObjectName(name)
        slider.sliderPressed.connect(lambda n=name: self._begin_drag(n))
        slider.sliderReleased.connect(self._end_drag)
        slider.valueChanged.connect(lambda _, n=name: self._slider_moved(n))
        return slider

    def _with_value(self, slider: QSlider) -> QHBoxLayout:
        """``slider`` with its value at the row's end (:func:`slider_value`), following it
        whoever moves it: the user, a stop at a limit, or another heart or fan shown."""
        name = slider.objectName()
        value = QLabel()
        value.setObjectName(f"value:{name}")
        value.setStyleSheet(theme.text_style(theme.MUTED))
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        value.setFixedWidth(value.fontMetrics().horizontalAdvance(WIDEST_VALUE))
        value.setToolTip(slider.toolTip())
        self.values[name] = value

        def show() -> None:  # the slider's value now: a move stopped at a limit sets it again mid-signal
            value.setText(slider_value(name, slider.value()))

        slider.valueChanged.connect(show)
        show()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(slider, 1)
        row.addWidget(value)
        return row

    # -- binding ---------------------------------------------------------------------------
    def bind(self, document: LabelDocument) -> None:
        """Follow ``document`` (called whenever the window edits another mask)."""
        if self.document is not None:
            self._end_step()  # a step under way stays the old mask's
            self.document.remove_meta_listener(self._meta_changed)
            self.document.remove_history_listener(self._show_lv_size)
        if document is not self.document:
            self.preset.setCurrentIndex(-1)  # the choice was made for the last mask's heart
        self.document = document
        self._note = ""
        document.add_meta_listener(self._meta_changed)
        document.add_history_listener(self._show_lv_size)  # each edit, undo and redo
        self._show_lv_size()
        self._drawn = self._draw_heart(document.anatomy) if self._usable() is None else None
        self._show_state()

    @property
    def heart(self) -> Heart | None:
        return heart_in_record(self.document.anatomy if self.document else None)

    def _usable(self) -> str | None:
        doc = self.document
        if doc is None:
            return "No mask"
        if doc.shape[0] != doc.shape[1]:
            return "Anatomy editing needs a square mask"
        return None

    def _draw_heart(self, record: dict | None) -> np.ndarray | None:
        """The heart of ``record`` as drawn in the mask, in its fan (None: no usable heart)."""
        if self.document is None:
            return None
        return record_as_drawn(record, self.model, self.document.shape[0], self.document.fan)

    def _meta_changed(self) -> None:
        """Undo, redo or another edit (Clear mask) changed the heart or the fan: follow it.
        What changes inside this panel's own step is its own doing, shown when it ends."""
        if self._updating or self.document is None or self._step_open():
            return
        self._note = ""  # undo, redo or another edit: the last note is no longer what happened
        self._drawn = self._draw_heart(self.document.anatomy) if self._usable() is None else None
        self._name_preset()
        self._show_state()

    def _show_state(self) -> None:
        """Sliders and texts from the document's heart and fan."""
        problem = self._usable()
        heart = self.heart
        record = self.document.anatomy if self.document else None
        self.controls.setEnabled(heart is not None and problem is None)
        self.fan_box.setEnabled(problem is None)
        for button in (self.start, self.fit, self.new_heart):  # a click would do nothing
            button.setEnabled(problem is None)
        self.start.setVisible(heart is None)
        self.fit.setVisible(heart is None)
        self.new_heart.setVisible(heart is not None)
        self._updating = True
        try:
            if self.document is not None:
                self._show_fan(self.document.fan)
            if problem:
                self.status.setText(problem)
                self._show_ef("")
                self._show_mean_heart()
                return
            self._show_status()
            if heart is None:
                self._show_ef("")
                self._show_mean_heart()
                return
            view = record["view"]
            biplane = self._show_drawn_ef(heart, view)
            self.view.setCurrentText(view)
            position = round(record["phase"] * STEPS)
            self.phase.setRange(*phase_range(self._key_frame, position))
            self.phase.setValue(position)
            for name, slider in self.sliders.items():
                slider.setValue(round(self.model.position(heart, name) / LIMIT * (STEPS // 2)))
            self.target_ef.setValue(round(min(max(biplane, EF_RANGE[0]), EF_RANGE[1])))
        finally:
            self._updating = False

    def _show_drawn_ef(self, heart: Heart, view: str) -> float:
        """The EF line of the heart on screen: ``heart`` itself or, one too extreme to draw,
        the heart nearer the mean that the mask shows at every phase (:meth:`ShapeModel.mask`),
        so the line is the EF its ED and ES masks show. Returns its biplane EF, what the Target
        EF slider sets."""
        size, fan = self.document.shape[0], self.document.fan
        shown = self.model.drawn_heart(heart, view, size, fan)
        ef_view = self.model.ejection_fraction(shown, view)
        biplane = self.model.ejection_fraction(shown, None)
        # the EF echo reports give first; "biplane" alone (the tooltip names Simpson's method): the
        # line stays two lines in the narrow column
        self._show_ef(f"{HEART_MODEL}: <b>EF {round(biplane)} %</b> biplane \u00b7 <b>{round(ef_view)} %</b> by area "
                      f"({view})")
        return biplane

    def _show_mean_heart(self) -> None:
        """With no heart, the (greyed) sliders at the mean heart at ED, not where the last
        heart left them: they show no heart's position but where one starts."""
        self.phase.setValue(0)
        for slider in self.sliders.values():
            slider.setValue(0)
        ef = self.model.ejection_fraction(self.model.mean_heart(), None)
        self.target_ef.setValue(round(min(max(ef, EF_RANGE[0]), EF_RANGE[1])))

    def _show_status(self) -> None:
        """The status line: the heart (its seed, while it is still that draw), the view and
        phase, whether the mask shows a heart nearer the mean instead, or the heart shrunk
        further than the sliders allow (the heart does not fit the fan at the mask's size: a
        file or the other key frame's fan can bring one the sliders would have stopped short
        of), and what the last change did; for a mask not
        drawn from anatomy, what the last change (of the fan) did and how to get a heart."""
        record, heart = self.document.anatomy, self.heart
        if heart is None:
            self.status.setText(f"{self._note}. {NOT_FROM_ANATOMY}" if self._note else NOT_FROM_ANATOMY)
            return
        where = f"{record['view']}, {int(round(100 * record['phase']))} % of the way from ED to ES"
        if heart.seed is not None:
            name = heart_name(heart.seed)
            where = f"{name[0].upper()}{name[1:]}, {where}"
        parts = [where]
        if not self._drawable(heart, record):
            drawn = self.model.drawn_heart(heart, record["view"], self.document.shape[0], self.document.fan)
            parts.append(DRAWN_SMALLER if drawn == heart else DRAWN_NEARER_THE_MEAN)
        if self._note:
            parts.append(self._note)
        self.status.setText(". ".join(parts))

    def set_key_frame(self, frame: str | None) -> None:
        """The mask shown is the ``frame`` ("ED" or "ES") key frame of a cine pair (None: a mask
        alone): the ED\u2194ES slider keeps to that side of the cycle, and says so."""
        if frame == self._key_frame:
            return
        self._key_frame = frame
        self.phase.setToolTip(phase_tip(frame))
        self.values["phase"].setToolTip(self.phase.toolTip())
        if self.document is not None:
            self._show_state()

    def frame_phase(self) -> float:
        """The phase a new or fitted heart is drawn at: the mask's own when it shows a heart,
        else its key frame's (ES for the ES key frame, else ED)."""
        return self.document.anatomy["phase"] if self.heart is not None else float(self._key_frame == "ES")

    def set_key_frame_ef(self, percent: float | None, shared_phase: float | None = None) -> None:
        """The EF by area between the ED and ES key frames, as painted (None: no ES yet), and
        why it is 0 when both are drawn at one phase (``shared_phase``)."""
        text = "" if percent is None else f"Key frames ED\u2192ES: EF {round(percent)} % by area"
        if percent is not None and shared_phase is not None:
            text += (f": both are drawn at {round(100 * shared_phase)} % of the cycle, so the loop does not beat "
                     f"(move ED\u2194ES on either)")
        self.key_frame_ef.setText(text)
        self.key_frame_ef.setVisible(percent is not None)  # an empty line takes no room

    def _show_lv_size(self) -> None:
        """The LV's size in mm (hidden, taking no room, without a recorded pixel spacing)."""
        text = lv_size_line(self.document)
        self.lv_size.setText(text)
        self.lv_size.setVisible(bool(text))

    def _show_ef(self, text: str) -> None:
        """The EF line under the buttons (hidden, taking no room, while there is no heart)."""
        self.ef.setText(text)
        self.ef.setVisible(bool(text))

    # -- drawing ---------------------------------------------------------------------------
    def _draw(self, record: dict, fan: Fan | None = None) -> None:
        """Make the mask the heart of ``record`` (in ``fan``), keeping the pixels painted on top."""
        doc = self.document
        fan = fan or doc.fan
        drawn = record_as_drawn(record, self.model, doc.shape[0], fan)
        labels = drawn.copy() if self._drawn is None else keep_painted(doc.labels, self._drawn, drawn)
        self._drawn = drawn
        self._updating = True
        try:
            doc.set_meta_in_stroke(self._stroke, anatomy=record, fan=fan)
            doc.replace_in_stroke(self._stroke, labels)
        finally:
            self._updating = False

    # -- undo steps ------------------------------------------------------------------------
    def _begin_step(self, description: str) -> None:
        self._stroke = self.document.begin_stroke(description)

    def _step_open(self) -> bool:
        return self._stroke is not None and self._stroke.open

    def _end_step(self) -> None:
        """Close this panel's step (a no-op when another edit closed it already)."""
        stroke, self._stroke = self._stroke, None
        if stroke is not None and self.document is not None:
            self.document.end_stroke(stroke)

    def _begin_drag(self, name: str) -> None:
        self._held = name
        QApplication.instance().installEventFilter(self)  # a popup opened mid-drag ends it
        if self.document is not None:
            self._begin_step(_step_name(name))
        self.holdChanged.emit(True)

    @property
    def dragging(self) -> bool:
        """Whether the mouse holds one of the sliders (its drag is one undo step still open)."""
        return self._held is not None

    def _end_drag(self) -> None:
        self._held = None
        QApplication.instance().removeEventFilter(self)
        if self.document is not None:
            self._end_step()
            self._show_state()
        self.holdChanged.emit(False)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.WindowBlocked:
            self.let_go()
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """While the mouse holds a slider: a popup about to show (a menu opened from the
        keyboard, Alt+F) will take the mouse, so the drag ends first (:meth:`let_go`)."""
        if (event.type() == QEvent.Type.Show and self._held is not None and isinstance(watched, QWidget)
                and watched.windowType() == Qt.WindowType.Popup):
            self.let_go()
        return False

    def let_go(self) -> None:
        """End a drag whose release the slider will never get: a modal dialog or a popup menu
        (the window's shortcuts and Alt+letter open some while the mouse holds a slider) takes
        the mouse, and the release goes to it. The drag ends where it is, one closed undo
        step, as if the mouse had let go."""
        if self._held is not None:
            self.findChild(QSlider, self._held).setSliderDown(False)  # sliderReleased ends the drag

    def _slider_moved(self, name: str) -> None:
        if self._updating or self.document is None or self._usable():
            return
        if not self._step_open():  # a key or a click, or a drag whose step another edit closed
            self._begin_step(_step_name(name))
        try:
            if name.startswith("fan:"):
                self._move_fan(name[4:])
            elif self.heart is not None:
                self._move_heart(name)
        finally:
            if not self.dragging:  # a key press or a click on the groove: one step each
                self._end_step()
                self._show_state()
            else:  # mid-drag only the status line follows, the rest at the release
                self._show_status()

    def _move_heart(self, name: str) -> None:
        record = dict(self.document.anatomy)
        if name == "phase":
            record["phase"] = self.phase.value() / STEPS
        else:
            heart, self._note = self._stop_at_limit(self._heart_move(name, record))
            if heart != Heart.from_dict(record["heart"]):
                self._leave_preset()
            record["heart"] = heart.to_dict()
        self._draw(record)

    def _redraw_step(self, description: str) -> None:
        if self._updating or self.document is None or self.heart is None:
            return
        self._begin_step(description)
        record = {**self.document.anatomy, "view": self.view.currentText()}
        self._draw(record)
        self._end_step()
        self._show_state()



def _step_name(slider: str) -> str:
    return f"anatomy: {slider.replace('fan:', 'fan ')}"
