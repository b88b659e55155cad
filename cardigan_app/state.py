"""The studio's state: what the studio is doing, in one place, with no Qt.

Every user choice lives here once (the tool, the class being painted, the brush, the
paint-over rule, visible classes, the model, the device, the seed and style scale, the view options), and
widgets observe it: a choice made with a key, a menu, a tool-bar widget or a panel is one
:meth:`StudioState.set`, and every widget showing it follows through its observer. Nothing
else stores these values, and the window only wires widgets to the state.

Fields marked ``persist`` are the user's preferences: :meth:`preferences` and
:meth:`restore` turn them into plain values and back (``settings.AppSettings`` stores them).

The document being edited is not a field: :class:`engine`-free ``LabelDocument`` objects
announce their own changes; the state holds the current one (:attr:`document`) and says
when it is replaced (observe ``"document"``). With cine key frames, ED and ES are two
documents and ``key_frame`` says which one is being edited.

The paint-over rule has one encoding: ``None`` paints over every class, a class id paints
over that class only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.labels import BACKGROUND, LABELS

MIN_BRUSH, MAX_BRUSH = 1, 128
TOOLS = ("brush", "eraser", "fill", "polygon")
ECHO_MODES = ("echo", "contours", "blend")
KEY_FRAMES = ("ED", "ES")


def _int_in(low: int, high: int) -> Callable[[Any], int]:
    return lambda value: max(low, min(high, int(value)))


def _float_in(low: float, high: float) -> Callable[[Any], float]:
    return lambda value: max(low, min(high, float(value)))


def _choice(*allowed: str) -> Callable[[Any], str]:
    def coerce(value: Any) -> str:
        if str(value) not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return str(value)
    return coerce


def _paint_over(value: Any) -> int | None:
    if value is None:
        return None
    value = int(value)
    if value < 0:  # how older settings files wrote "every class"
        return None
    if value >= len(LABELS):
        raise ValueError(f"no class {value}")
    return value


def _visibility(value: Any) -> tuple[bool, ...]:
    flags = tuple(bool(v) for v in value)
    if len(flags) != len(LABELS):
        raise ValueError(f"visibility needs {len(LABELS)} flags")
    return flags


def _style_scale(value: Any) -> float:
    """A noise model's style spread, in (0, 1], to four decimals; 0 for the model's own."""
    number = float(value)
    if number != number:  # NaN
        raise ValueError("the style scale is not a number")
    return round(max(0.0, min(1.0, number)), 4)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


@dataclass(frozen=True)
class Field:
    default: Any
    coerce: Callable[[Any], Any]
    persist: bool = True


FIELDS: dict[str, Field] = {
    # painting
    "tool": Field("brush", _choice(*TOOLS), persist=False),
    "active_label": Field(1, _int_in(0, len(LABELS) - 1), persist=False),
    "brush_diameter": Field(12, _int_in(MIN_BRUSH, MAX_BRUSH)),
    "square_brush": Field(False, _bool),
    "paint_over": Field(None, _paint_over),
    "visible": Field(tuple([True] * len(LABELS)), _visibility, persist=False),
    # synthesis
    "model": Field("", str),  # '' = the bundled demo model if present, else the simulator
    "device": Field("auto", str),
    "seed": Field(0, _int_in(0, 2**31 - 1)),
    "style_scale": Field(0.0, _style_scale),  # the variation strength; 0 = the model's own
    "variations": Field(True, _bool),
    # views
    "overlay_opacity": Field(0.6, _float_in(0.0, 1.0)),
    "show_synthesis_under_mask": Field(False, _bool),
    "side_by_side": Field(True, _bool),
    "echo_mode": Field("echo", _choice(*ECHO_MODES)),
    "blend": Field(0.4, _float_in(0.0, 1.0)),
    # new masks and datasets
    "template_view": Field("4CH", _choice("2CH", "4CH")),
    "template_phase": Field("ED", _choice(*KEY_FRAMES)),
    "template_size": Field(256, _int_in(32, 2048)),
    "dataset_dir": Field("", str),
    "dataset_split": Field("train", str),
    # cine
    "key_frame": Field("ED", _choice(*KEY_FRAMES), persist=False),
    "cine_bpm": Field(65.0, _float_in(20.0, 250.0)),
    "cine_fps": Field(40.0, _float_in(1.0, 120.0)),
}

Observer = Callable[[Any], None]


class StudioState:
    """The values of :data:`FIELDS` with change notification (see the module docstring)."""

    def __init__(self, **values: Any) -> None:
        self._values = {name: f.default for name, f in FIELDS.items()}
        self._observers: dict[str, list[Observer]] = {}
        self._any: list[Callable[[str, Any], None]] = []
        self._document = None
        self._document_observers: list[Observer] = []
        for name, value in values.items():
            self.set(name, value)

    # -- values ---------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(name)

    def get(self, name: str) -> Any:
        return self._values[name]

    def set(self, name: str, value: Any) -> bool:
        """Set one field (coerced to its type and range); observers run when it changed.
        Returns whether it changed. ValueError for an impossible value."""
        if name not in FIELDS:
            raise KeyError(f"unknown studio state field {name!r}")
        value = FIELDS[name].coerce(value)
        if self._values[name] == value:
            return False
        self._values[name] = value
        for observer in list(self._observers.get(name, ())):
            observer(value)
        for observer in list(self._any):
            observer(name, value)
        return True

    def observe(self, name: str, observer: Observer, now: bool = False) -> Callable[[], None]:
        """Call ``observer(value)`` whenever ``name`` changes (and at once with ``now``);
        returns a function that stops observing."""
        if name not in FIELDS:
            raise KeyError(f"unknown studio state field {name!r}")
        self._observers.setdefault(name, []).append(observer)
        if now:
            observer(self._values[name])
        return lambda: self._observers[name].remove(observer)

    def observe_any(self, observer: Callable[[str, Any], None]) -> Callable[[], None]:
        self._any.append(observer)
        return lambda: self._any.remove(observer)

    # -- the painting tools' view (what editing.tools reads) ----------------------------------
    @property
    def paint_over_background(self) -> bool:
        return self.paint_over == BACKGROUND

    def set_brush_diameter(self, diameter: int) -> int:
        self.set("brush_diameter", diameter)
        return self.brush_diameter

    def set_class_visible(self, label: int, visible: bool) -> None:
        flags = list(self.visible)
        flags[label] = bool(visible)
        self.set("visible", flags)

    # -- the document -----------------------------------------------------------------------
    @property
    def document(self):
        return self._document

    def set_document(self, document) -> None:
        if document is self._document:
            return
        self._document = document
        for observer in list(self._document_observers):
            observer(document)

    def observe_document(self, observer: Observer) -> Callable[[], None]:
        self._document_observers.append(observer)
        return lambda: self._document_observers.remove(observer)

    # -- preferences ------------------------------------------------------------------------
    def preferences(self) -> dict[str, Any]:
        """The persisted fields as plain values (the paint-over rule as -1 for every class)."""
        out = {name: self._values[name] for name, f in FIELDS.items() if f.persist}
        out["paint_over"] = -1 if out["paint_over"] is None else out["paint_over"]
        return out

    def restore(self, stored: dict[str, Any]) -> list[str]:
        """Set the persisted fields from stored values; damaged entries keep their default.
        Returns the names that were damaged."""
        damaged = []
        for name, value in stored.items():
            field = FIELDS.get(name)
            if field is None or not field.persist:
                continue
            try:
                self.set(name, value)
            except (TypeError, ValueError):
                damaged.append(name)
        return damaged
