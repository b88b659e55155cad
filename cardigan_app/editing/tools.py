"""The editing tools: brush, eraser, flood fill and polygon fill.

Tools turn pointer gestures, given in image coordinates, into :class:`LabelDocument` calls.
They know nothing about Qt, so scripts and tests can drive them directly; the canvas
translates mouse and key events and draws the preview each tool describes.

A brush stroke, flood fill or polygon fill that paints a heart class outside the document's
fan is kept as painted (as ITK-SNAP and Slicer keep paint wherever it goes), and the tool's
:attr:`Tool.notice` says how much of it lies there, where the synthesized image is black, so
the user can take it back (:func:`painted_outside_fan`, one wording for every tool).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.fan import edge_distance
from engine.labels import BACKGROUND, LABELS, in_sentence

from . import raster
from .document import LabelDocument, Stroke

MIN_BRUSH, MAX_BRUSH = 1, 128
CLOSE_DISTANCE = 0.75  # polygon points closer than this (pixels) count as one


@dataclass
class ToolSettings:
    """What the tools share: the class being painted, the brush size and shape, and the
    paint-over rule (as in ITK-SNAP: every class, or only the pixels of one class)."""

    active_label: int = 1
    brush_diameter: int = 12
    paint_over: int | None = None  # None: paint over every class; else only over this class
    square_brush: bool = False
    visible: list[bool] = field(default_factory=lambda: [True] * len(LABELS))

    @property
    def paint_over_background(self) -> bool:
        return self.paint_over == BACKGROUND

    @paint_over_background.setter
    def paint_over_background(self, on: bool) -> None:
        self.paint_over = BACKGROUND if on else None

    def set_brush_diameter(self, diameter: int) -> int:
        self.brush_diameter = max(MIN_BRUSH, min(MAX_BRUSH, int(diameter)))
        return self.brush_diameter


class Tool:
    """Base class: a tool receives presses, moves and releases of the primary button."""

    key = "tool"
    label = "Tool"
    cursor_is_brush = False

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings
        self.document: LabelDocument | None = None
        self.notice: str | None = None  # what the last gesture has to tell the user (:meth:`take_notice`)

    def take_notice(self) -> str | None:
        """What the last gesture has to tell the user, e.g. why it changed nothing (given once)."""
        notice, self.notice = self.notice, None
        return notice

    def activate(self, document: LabelDocument) -> None:
        self.document = document

    def deactivate(self) -> None:
        self.cancel()

    def press(self, x: float, y: float) -> None: ...

    def drag(self, x: float, y: float) -> None: ...

    def release(self, x: float, y: float) -> None: ...

    def hover(self, x: float, y: float) -> None: ...

    def double_click(self, x: float, y: float) -> None: ...

    def key_press(self, name: str) -> bool:
        """Handle ``enter``, ``escape`` or ``backspace``; True when used."""
        return False

    def cancel(self) -> None: ...

    def take_back(self) -> bool:
        """Undo inside an unfinished gesture (e.g. a polygon's last corner); True when there
        was something to take back, so undo leaves the document's history alone."""
        return False

    @property
    def take_back_description(self) -> str | None:
        """What :meth:`take_back` would take back (e.g. "polygon corner"), None when nothing:
        the Undo command names it."""
        return None

    @property
    def busy(self) -> bool:
        """Whether a gesture is in progress (e.g. an open polygon)."""
        return False


class BrushTool(Tool):
    """Paints the active class with a round or square brush, over what the paint-over rule allows."""

    key = "brush"
    label = "Brush"
    cursor_is_brush = True
    description = "brush stroke"

    def value(self) -> int:
        return self.settings.active_label

    def paint_over(self) -> int | None:
        return self.settings.paint_over

    def __init__(self, settings: ToolSettings) -> None:
        super().__init__(settings)
        self._stroke: Stroke | None = None  # the token of this brush's stroke

    def activate(self, document: LabelDocument) -> None:
        self.cancel()
        super().activate(document)

    def press(self, x: float, y: float) -> None:
        assert self.document is not None
        self._stroke = self.document.begin_stroke(self.description)
        self.drag(x, y)

    def drag(self, x: float, y: float) -> None:
        """Paint on to (x, y); nothing once another edit closed the stroke: the rest of the
        gesture waits for the next press."""
        if self.busy:
            self.document.stroke_to(self._stroke, x, y, self.settings.brush_diameter, self.value(),
                                    self.paint_over(), square=self.settings.square_brush)

    def release(self, x: float, y: float) -> None:
        self.drag(x, y)
        stroke = self._stroke if self.busy else None
        self.cancel()
        if stroke is not None and stroke.pieces and self.document is not None:
            changed = np.concatenate([indices for indices, _ in stroke.pieces])
            self.notice = painted_outside_fan(self.document, changed, "stroke")

    def cancel(self) -> None:
        """End this brush's stroke as one undo step (a stroke something else holds open, an
        anatomy slider's drag, is not this brush's to end)."""
        stroke, self._stroke = self._stroke, None
        if stroke is not None and self.document is not None:
            self.document.end_stroke(stroke)

    @property
    def busy(self) -> bool:
        return self._stroke is not None and self._stroke.open


class EraserTool(BrushTool):
    """Paints background. It erases every class, whatever the paint-over mode."""

    key = "eraser"
    label = "Eraser"
    description = "erase"

    def value(self) -> int:
        return BACKGROUND

    def paint_over(self) -> int | None:
        return None


class FillTool(Tool):
    key = "fill"
    label = "Flood fill"

    def press(self, x: float, y: float) -> None:
        if self.document is not None:
            edit = self.document.fill(x, y, self.settings.active_label, self.settings.paint_over)
            if edit is not None:
                self.notice = painted_outside_fan(self.document, edit.indices, "fill")


class PolygonTool(Tool):
    """Click to add corners; double-click or Enter fills the polygon; Esc cancels;
    Backspace (or undo) removes the last corner."""

    key = "polygon"
    label = "Polygon fill"

    def __init__(self, settings: ToolSettings) -> None:
        super().__init__(settings)
        self.points: list[tuple[float, float]] = []
        self.hover_point: tuple[float, float] | None = None

    def press(self, x: float, y: float) -> None:
        if not self.points or _distance(self.points[-1], (x, y)) > CLOSE_DISTANCE:
            self.points.append((x, y))

    def hover(self, x: float, y: float) -> None:
        self.hover_point = (x, y)

    drag = hover

    def double_click(self, x: float, y: float) -> None:
        self.press(x, y)
        self.close()

    def close(self) -> bool:
        """Fill the polygon drawn so far (three distinct corners at least) as one undo step;
        the next click starts a new one. A polygon that fills nothing, or whose fill fails, keeps
        its corners, and :attr:`notice` says why: it can be mended, filled with another class or
        rule, or dropped with Esc."""
        if self.document is None:
            return False
        if len(self.points) < 3:
            self.notice = (f"A polygon needs three corners ({len(self.points)} placed): "
                           "click more, or Esc to drop it")
            return False
        edit = self.document.fill_polygon(self.points, self.settings.active_label, self.settings.paint_over)
        if edit is None:
            self.notice = (f"The polygon changed no pixel ({self._why_nothing_changed()}): its corners stay; "
                           "Enter fills it again, Esc drops it")
            return False
        self.points = []
        self.notice = painted_outside_fan(self.document, edit.indices, "polygon fill")
        return True

    def _why_nothing_changed(self) -> str:
        inside = raster.polygon(self.document.shape, self.points)
        if inside is None or not inside[1].any():
            return "no pixel centre lies inside it"
        name = LABELS[self.settings.active_label].name
        return f"every pixel inside is {name} already or kept by the paint-over rule"

    def key_press(self, name: str) -> bool:
        if name == "enter" and self.points:
            self.close()
            return True
        if name == "escape" and self.points:
            self.cancel()
            return True
        if name == "backspace":
            return self.take_back()
        return False

    def take_back(self) -> bool:
        if not self.points:
            return False
        self.points.pop()
        return True

    @property
    def take_back_description(self) -> str | None:
        return "polygon corner" if self.points else None

    def cancel(self) -> None:
        self.points = []

    @property
    def busy(self) -> bool:
        return bool(self.points)


def painted_outside_fan(document: LabelDocument, changed: np.ndarray, step: str) -> str | None:
    """What the status line says of an edit (``step``: "stroke", "fill", ...) whose changed
    pixels (flat indices, repeats allowed) left a heart class wholly outside the document's fan,
    where the synthesized image is black; None when it left none there."""
    changed = np.unique(changed)
    if changed.size == 0:
        return None
    painted = changed[document.labels.ravel()[changed] != BACKGROUND]
    if painted.size == 0:
        return None
    height, width = document.shape
    outside = painted[edge_distance(document.fan, height, width).ravel()[painted] < -0.5]
    if outside.size == 0:
        return None
    names = " and ".join(in_sentence(LABELS[v].name) for v in np.unique(document.labels.ravel()[outside]))
    pixels = "1 pixel" if outside.size == 1 else f"{outside.size} pixels"
    return f"{pixels} of {names} painted outside the fan, where the image is black (Undo takes the {step} back)"


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


TOOL_CLASSES: tuple[type[Tool], ...] = (BrushTool, EraserTool, FillTool, PolygonTool)
