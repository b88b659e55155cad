"""The anatomy panel's Probe fan group: its depth, width and tilt sliders, shown at the
document's fan and moved to the last usable fan (and the last fan the heart can be drawn in).
:class:`ProbeFanGroup` is that part of :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QSlider

from engine.anatomy.heart import Heart
from engine.fan import Fan

from .anatomy_sliders import FAN_MARGINS, FAN_SLIDERS, LimitedMove, compact_form, fan_number, limit_note


class ProbeFanGroup:
    """The Probe fan group of :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`, which
    makes its sliders (``_slider``, ``_with_value``), draws the heart in a new fan (``_draw``)
    and stops a move at the last fan that fits (``_stop_at_limit``, ``_drawable``)."""

    def _add_fan_box(self) -> None:
        """The Probe fan group (``fan_box``), a slider for each of the fan's depth, width and tilt."""
        fan_form = compact_form(FAN_MARGINS)
        self.fan_sliders: dict[str, QSlider] = {}
        for key, (label, low, high, scale, tip) in FAN_SLIDERS.items():
            slider = self._slider(round(low * scale), round(high * scale), tip, f"fan:{key}")
            self.fan_sliders[key] = slider
            fan_form.addRow(label, self._with_value(slider))
        self.fan_box = QGroupBox("Probe fan")
        self.fan_box.setToolTip("The sector the image lives in: models trained with fans draw nothing "
                                "outside it")
        self.fan_box.setLayout(fan_form)

    def _show_fan(self, fan: Fan) -> None:
        """Each fan slider at the fan's value. A fan beyond a slider's usual range (fitted to a
        traced image, read from a file) widens that range to reach it, so the slider shows
        the fan as it is and a nudge moves on from there, not from the slider's end."""
        for key, (_, low, high, scale, tip) in FAN_SLIDERS.items():
            slider, value = self.fan_sliders[key], round(getattr(fan, key) * scale)
            if not round(low * scale) <= value <= round(high * scale):
                tip = f"{tip}; this fan's {getattr(fan, key):.3g} lies beyond the usual {low:g} to {high:g}"
            slider.setRange(min(round(low * scale), value), max(round(high * scale), value))
            slider.setValue(value)
            slider.setToolTip(tip)

    def _move_fan(self, key: str) -> None:
        record, heart = self.document.anatomy, self.heart
        fan, self._note = self._stop_at_limit(self._fan_move(key, heart, record))
        if heart is not None:
            self._draw(record, fan)  # the heart stays inside the new fan
        else:
            self.document.set_meta_in_stroke(self._stroke, fan=fan)

    def _fan_move(self, key: str, heart: Heart | None, record: dict | None) -> LimitedMove:
        """The move of fan slider ``key`` from the document's fan: it stops at the last usable
        fan (enough of it inside the picture) and, with a heart drawn as it is in the fan now,
        at the last fan the heart can be drawn in (:meth:`_stop_at_limit`, as the heart sliders
        stop at the last heart they can draw); a heart the fan now holds only nearer the mean
        sets no limit, the picture's edge still does. The document's fan is always usable, so
        there is always a fan to stop at. The slider's own position stands for the fan as it
        is, even one between two steps (read from a file, fitted to an image), so a stop there
        keeps that fan."""
        label, _, _, scale, _ = FAN_SLIDERS[key]
        slider, now = self.fan_sliders[key], self.document.fan
        current, wanted = round(getattr(now, key) * scale), slider.value()
        onward = 1 if wanted > current else -1

        def fan_at(position: int) -> Fan:
            return now if position == current else now.with_shape(**{key: position / scale})

        def fits(fan: Fan) -> bool:  # the fan now is asked last: a move that fits draws one heart
            return fan.problem() is None and (heart is None or self._drawable(heart, record, fan)
                                              or not self._drawable(heart, record, now))

        def describe(fan: Fan, stopped: bool) -> str:
            beyond = fan_at(round(getattr(fan, key) * scale) + onward)
            why = "the fan would leave the picture" if beyond.problem() else "this heart does not fit the fan"
            return limit_note(f"Fan {label.lower()}", _fan_value(key, fan), stopped, why)

        return LimitedMove(slider, current, wanted, fan_at, fits, describe)


def _fan_value(key: str, fan: Fan) -> str:
    """A fan slider's value in words: the depth as a fraction of the height, angles in degrees."""
    return fan_number(key, getattr(fan, key))
