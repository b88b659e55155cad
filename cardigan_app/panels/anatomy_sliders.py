"""The anatomy panel's sliders apart from the panel: their ranges and layout, the value text at
a row's end, and a move that stops at the last heart (or fan) the mask can show.
:class:`SliderLimits` is the stopping half of :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtWidgets import QFormLayout, QSlider

from engine.anatomy.heart import LIMIT, Heart

PAINT_STAYS = "What you paint on top of the heart stays where you painted it"
from engine.fan import Fan

STEPS = 120  # slider positions across -3..+3 SD
SLIDERS = ("lv_length", "lv_width", "tilt", "wall", "atrium", "shape1", "shape2", "shape3")
EF_RANGE = (10, 80)  # the target-EF slider, percent by Simpson's biplane method

# the panel fits the left column of a 1280 x 800 or 1366 x 768 window, at the column's width,
# down to the fan's last slider without a scroll bar, with the key-frame EF line and a two-line
# status shown (or the three lines a mask not drawn from anatomy gets): slider rows this far
# apart, the groups (status, buttons, EF lines, sliders, fan) this far apart, the fan's this far in
ROW_SPACING = 2
GROUP_SPACING = 4
FAN_MARGINS = (6, 4, 6, 4)

PHASE_TIP = "ED \u2194 ES: end-diastole (largest LV) to end-systole"
# the two key frames of a cine pair stay this many phase steps apart, each keeping half of it
# short of mid-cycle: the shape model draws a phase as a straight blend of its ED and ES
# outlines, so frames a tenth of the way apart still beat with about a tenth of the heart's
# ED-to-ES change (at one phase, the loop would not beat and the key-frame EF would read 0 %)
KEY_FRAME_GAP = STEPS // 10

WIDEST_VALUE = "-100\u00b0"  # the value at a slider's row end is this wide at most
FAN_SLIDERS = {"depth": ("Depth", 0.5, 1.3, 100, "Fan depth, a fraction of the picture height"),
               "width": ("Width", 30.0, 100.0, 1, "Fan opening, degrees"),
               "tilt": ("Tilt", -25.0, 25.0, 1, "Fan tilt, degrees from straight down")}


class LimitedMove(NamedTuple):
    """A slider move that stops at the last position whose value fits (a heart slider at the
    last heart the mask can show, a fan slider at the last fan the heart can be drawn in)."""

    slider: QSlider
    current: int  # the slider position of what the document holds
    wanted: int  # where the user put the slider
    value_at: Callable[[int], object]  # the heart (or fan) at a slider position
    fits: Callable[[object], bool]
    describe: Callable[[object, bool], str]  # the status note for a value reached (stopped or not)


class SliderLimits:
    """The heart sliders' moves, each stopping at the last heart the mask can show, for
    :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`, which gives them its ``model``,
    ``document``, ``sliders``, ``target_ef`` and ``_updating`` (set while it moves a slider itself)."""

    def _heart_move(self, name: str, record: dict) -> LimitedMove:
        """The move of heart slider ``name`` (a model direction, or ``ef``) from the heart of
        ``record``: it stops at the last heart the mask can show."""
        start, model = Heart.from_dict(record["heart"]), self.model

        def fits(heart: Heart) -> bool:
            return self._drawable(heart, record)

        if name == "ef":  # the EF echo reports give: Simpson's biplane (view None), not this view's by area
            def ef_note(heart: Heart, stopped: bool) -> str:
                ef = model.ejection_fraction(heart, None)
                return (f"Target EF stops at {ef:.0f} %: beyond it this heart does not fit the fan" if stopped
                        else f"End-systole moved to EF {ef:.0f} % (biplane)")

            return LimitedMove(self.target_ef, round(model.ejection_fraction(start, None)), self.target_ef.value(),
                               lambda percent: model.with_ejection_fraction(start, float(percent), None),
                               fits, ef_note)
        label, slider, here = model.directions.get(name, name), self.sliders[name], model.position(start, name)
        return LimitedMove(slider, round(here / LIMIT * (STEPS // 2)), slider.value(),
                           lambda position: model.move(start, name, position / (STEPS // 2) * LIMIT - here), fits,
                           lambda heart, stopped: limit_note(label, f"{model.position(heart, name):+.1f} SD",
                                                              stopped))

    def _stop_at_limit(self, move: LimitedMove) -> tuple[object, str]:
        """(value, note): ``move.value_at`` at the wanted position or, where that value does not
        fit (a heart the mask at its size and fan cannot show: it would show one nearer the
        mean, a jump), at the fitting position nearest to it on the way back to the current
        one; the slider is moved there, so the user sees the limit, and the note says so.
        Each value is made once, and the way back is halved rather than walked: each try
        draws a heart at the mask's size."""
        values: dict[int, object] = {}

        def value_at(position: int) -> object:
            if position not in values:
                values[position] = move.value_at(position)
            return values[position]

        position = _last_position(move.wanted, move.current, lambda p: move.fits(value_at(p)))
        stopped = position != move.wanted
        if stopped:
            self._show_slider(move.slider, position)
        value = value_at(position)
        return value, move.describe(value, stopped)

    def _drawable(self, heart: Heart, record: dict, fan: Fan | None = None) -> bool:
        """Whether the mask shows ``heart`` itself (not one moved toward the mean heart), in
        ``fan`` (default: the document's)."""
        fan = self.document.fan if fan is None else fan
        return self.model.view_scale(heart, record["view"], self.document.shape[0], fan) is not None

    def _show_slider(self, slider: QSlider, value: int) -> None:
        """Move ``slider`` to ``value`` without treating it as the user's move."""
        updating, self._updating = self._updating, True
        try:
            slider.setValue(value)
        finally:
            self._updating = updating


def compact_form(margins: tuple[int, int, int, int] = (0, 0, 0, 0)) -> QFormLayout:
    """A form whose rows sit :data:`ROW_SPACING` apart, inside ``margins`` (left, top, right,
    bottom): the sliders line up with the buttons above them and take the panel's width."""
    form = QFormLayout()
    form.setContentsMargins(*margins)
    form.setVerticalSpacing(ROW_SPACING)
    return form


def limit_note(what: str, value: str, stopped: bool, why: str = "this heart does not fit the fan") -> str:
    """The status note of a slider that reached ``value`` (``stopped``: short of where it was
    put, because further ``why``)."""
    return f"{what} stops at {value}: further, {why}" if stopped else f"{what} {value}"


def fan_number(key: str, value: float) -> str:
    return f"{value:.2f}" if key == "depth" else f"{value:.0f}\u00b0"


def phase_range(key_frame: str | None, position: int | None = None) -> tuple[int, int]:
    """The ED\u2194ES slider's range on a mask: the whole cycle for a mask alone, the first half
    (ED to short of mid-cycle) on the ED key frame of a cine pair, the second (past mid-cycle to
    ES) on the ES key frame, so a key frame never reaches the other's end nor its phase (the two
    stay :data:`KEY_FRAME_GAP` apart). A frame saved beyond its half (at ``position``) widens
    it to reach it, so the slider shows it where it is."""
    short = KEY_FRAME_GAP // 2
    low, high = {"ED": (0, STEPS // 2 - short), "ES": (STEPS // 2 + short, STEPS)}.get(key_frame, (0, STEPS))
    if position is None:
        return low, high
    return min(low, position), max(high, position)


def phase_tip(key_frame: str | None) -> str:
    """The ED\u2194ES slider's tooltip on a mask alone or on a key frame (whose half it keeps to)."""
    if key_frame is None:
        return f"{PHASE_TIP}. {PAINT_STAYS}."
    other = "ED" if key_frame == "ES" else "ES"
    low, high = phase_range(key_frame)
    half = (f"{slider_value('phase', low)} to end-systole" if key_frame == "ES"
            else f"end-diastole to {slider_value('phase', high)}")
    return (f"{PHASE_TIP}. On the {key_frame} key frame it runs from {half}: the {other} end is the {other} "
            f"key frame's (K switches), and the two stay {round(100 * KEY_FRAME_GAP / STEPS)} % of the cycle "
            f"apart, or the loop would not beat. {PAINT_STAYS}.")


def slider_value(name: str, position: int) -> str:
    """The short text at the end of slider ``name``'s row for its ``position``: the phase as
    ED, ES or the share of the way between, a heart direction in SDs from the mean, the target
    EF in percent, a fan's depth and angles as the status line gives them."""
    if name == "phase":
        return {0: "ED", STEPS: "ES"}.get(position, f"{round(100 * position / STEPS)} %")
    if name == "ef":
        return f"{position} %"
    if name.startswith("fan:"):
        key = name[4:]
        return fan_number(key, position / FAN_SLIDERS[key][3])
    sd = position / (STEPS // 2) * LIMIT
    return f"{sd:+.1f}" if round(sd, 1) else "0.0"


def _last_position(position: int, current: int, good) -> int:
    """``position`` when ``good(position)``, or when ``current`` is not good either (nothing to
    stop at); else the good position nearest to it on the way back to ``current`` (halved,
    not walked: each try may draw a heart)."""
    if position == current or good(position) or not good(current):
        return position
    ok, bad = current, position
    while abs(bad - ok) > 1:
        middle = (ok + bad) // 2
        ok, bad = (middle, bad) if good(middle) else (ok, middle)
    return ok
