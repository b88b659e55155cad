"""The label map being edited: painting operations, undo/redo and change notification.

A :class:`LabelDocument` owns one (H, W) uint8 map of label ids. Every change goes through
a method here, is recorded in the :class:`History` as a diff, bumps :attr:`revision` and is
announced to listeners with the rectangle that changed, so views redraw only that part.

A stroke is one undo step made of many calls (a brush stroke, an anatomy slider's drag).
:meth:`begin_stroke` opens one and gives its owner a :class:`Stroke` token; :meth:`stroke_to`,
:meth:`replace_in_stroke` and :meth:`set_meta_in_stroke` add to the stroke of the token they
are given, and :meth:`end_stroke` with that token closes it. The contract:

* One stroke is open at a time. Beginning another (or a one-shot edit such as a fill)
  closes the open one first, as an undo step of its own: nothing is lost, and its token is
  then closed (``stroke.open`` is False). Its owner sees that; if it goes on, it begins a
  new stroke.
* Only a token's owner ends its stroke: ending a token that is already closed does
  nothing, so it never closes a stroke begun after it. Adding to a closed token is an error.
* Undo and redo do nothing while a stroke is open (they return False): a step is undone
  whole, once its owner has ended it.

Beside the labels a document holds its *metadata*, saved with the mask: ``anatomy`` (the
heart it was drawn from: view, phase and the shape-model heart's record) and ``fan`` (the
probe's sector, :class:`engine.fan.Fan`). Changing them through :meth:`set_meta` (or
:meth:`set_meta_in_stroke` inside a stroke, with the labels they redraw) is part of the undo
step, so undo brings the heart, the fan and the pixels back together; meta listeners hear
every change. The fan is always a usable one (:meth:`engine.fan.Fan.problem`): the setter,
:meth:`set_meta` and :meth:`set_meta_in_stroke` refuse any other with a one-line
:class:`engine.fan.FanError` and change nothing. ``paint_over`` restricts an operation to pixels currently
holding that label (``0``: paint over background only); ``None`` paints over everything.

Every undo step gets a link id (:attr:`Edit.link`), unique across documents, unless it is
given one: a step made to follow a step of another document, as one change with it, is
recorded with that step's link (``link=`` of :meth:`begin_stroke` and :meth:`set_meta`).
The document only records links; undoing two linked steps together is their owner's work.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engine.fan import Fan, FanError, default_fan
from engine.labels import BACKGROUND, NUM_CLASSES, validate_label_map

from . import raster
from .history import Edit, History

#: A changed rectangle ``(row0, row1, col0, col1)`` (end-exclusive), or None for "everything".
Dirty = tuple[int, int, int, int] | None
Listener = Callable[[Dirty], None]

_document_ids = itertools.count(1)
_link_ids = itertools.count(1)


def usable_fan(value) -> Fan:
    """``value`` when it is a fan the mask can be drawn and synthesized in; FanError (one
    line, the reason) when it is not a fan or cannot be used."""
    if not isinstance(value, Fan):
        raise FanError(f"a document's fan must be a fan, not {type(value).__name__}")
    return value.checked()


class Stroke:
    """The token of one stroke, given to whoever began it (see the module's contract)."""

    def __init__(self, description: str, link: int | None = None) -> None:
        self.description = description
        self.link = link  # the link of the step it follows, None for a step of its own
        self.open = True
        self.pieces: list[tuple[np.ndarray, np.ndarray]] = []  # (flat indices, old values) per change
        self.last: tuple[float, float] | None = None  # the brush's previous point
        self.meta_old: dict | None = None  # the metadata before the stroke changed it

    @property
    def changed(self) -> bool:
        return bool(self.pieces) or self.meta_old is not None

    def __repr__(self) -> str:
        return f"Stroke({self.description!r}, {'open' if self.open else 'closed'})"


class LabelDocument:
    """A label map under edit. ``labels`` must only be changed through these methods."""

    def __init__(self, labels: np.ndarray, path: Path | None = None, origin: str = "") -> None:
        self.id = next(_document_ids)
        # where an untitled map came from, e.g. "tracing of echo.dcm" (its name is
        # cardigan_app.document_names': a heart it holds names it first)
        self.origin = origin
        self.labels = np.ascontiguousarray(validate_label_map(labels)).copy()
        if self.labels.ndim != 2:
            raise ValueError(f"a document holds one 2-D label map, got shape {self.labels.shape}")
        self.path: Path | None = Path(path) if path else None
        self.geometry = None  # where a mask read from a volume lies in space (engine.maskio.Geometry)
        self.slice: tuple[int, int] | None = None  # (index, count): the slice of a volume it was read from
        # the segments of the Slicer segmentation a mask was read from, by class
        # (engine.slicer_segments.KeptSegment): an export to .seg.nrrd names them so
        self.segments: dict = {}
        # the heart this mask was drawn from, when it was ({"view", "phase", "heart"}), and
        # the probe's fan: the anatomy panel edits them and Save keeps them in the PNG
        self.meta: dict = {"anatomy": None, "fan": default_fan()}
        self._meta_listeners: list[Callable[[], None]] = []
        self.history = History()
        self.revision = 0
        # the content as saved (or opened) is the one where this edit is on top of the undo
        # stack: undoing back to it makes the document clean again
        self._saved_at: Edit | None = None
        self._saved_dropped = 0
        self._forced_modified = False
        self._listeners: list[Listener] = []
        self._history_listeners: list[Callable[[], None]] = []
        self._stroke: Stroke | None = None  # the open stroke

    # -- state ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape  # type: ignore[return-value]

    @property
    def modified(self) -> bool:
        stroke = self._stroke  # an open stroke that changed pixels or the heart or fan already
        painting = stroke is not None and (bool(stroke.pieces) or (stroke.meta_old is not None
                                                                   and stroke.meta_old != self.meta))
        if self._forced_modified or painting or self.history.top is not self._saved_at:
            return True
        # back at the start, but edits were trimmed from the history: not the saved content
        return self._saved_at is None and self.history.dropped != self._saved_dropped

    @property
    def anatomy(self) -> dict | None:
        return self.meta["anatomy"]

    @anatomy.setter
    def anatomy(self, value: dict | None) -> None:
        """Set without an undo step (opening a file); use :meth:`set_meta` for an edit."""
        self.meta = {**self.meta, "anatomy": value}
        self._meta_changed()

    @property
    def fan(self) -> Fan:
        return self.meta["fan"]

    @fan.setter
    def fan(self, value: Fan) -> None:
        """Set without an undo step (opening a file); use :meth:`set_meta` for an edit.
        FanError for a fan that cannot be used."""
        self.meta = {**self.meta, "fan": usable_fan(value)}
        self._meta_changed()

    @property
    def in_stroke(self) -> bool:
        """Whether a stroke is open: the window hands a changed fan to the other key frame
        only once it is closed, so a slider drag is one step there too."""
        return self._stroke is not None

    def value_at(self, x: float, y: float) -> int | None:
        """The label at image point (x, y), or None outside the map."""
        col, row = int(np.floor(x)), int(np.floor(y))
        if 0 <= row < self.shape[0] and 0 <= col < self.shape[1]:
            return int(self.labels[row, col])
        return None

    def counts(self) -> np.ndarray:
        """Pixels per class."""
        return np.bincount(self.labels.ravel(), minlength=NUM_CLASSES)

    def mark_saved(self, path: Path | None = None) -> None:
        if path is not None:
            self.path = Path(path)
        self._saved_at = self.history.top
        self._saved_dropped = self.history.dropped
        self._forced_modified = False

    def mark_modified(self) -> None:
        """Flag unsaved content that did not come from an edit (e.g. a recovered autosave)."""
        self._forced_modified = True

    # -- listeners -----------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def add_history_listener(self, listener: Callable[[], None]) -> None:
        """Called after an undo step is added, undone or redone (e.g. to update Undo/Redo)."""
        self._history_listeners.append(listener)

    def remove_history_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._history_listeners:
            self._history_listeners.remove(listener)

    def add_meta_listener(self, listener: Callable[[], None]) -> None:
        """Called after the heart or the fan changed (an edit, undo or redo)."""
        self._meta_listeners.append(listener)

    def remove_meta_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._meta_listeners:
            self._meta_listeners.remove(listener)

    def _meta_changed(self) -> None:
        self.revision += 1
        for listener in list(self._meta_listeners):
            listener()

    def _history_changed(self) -> None:
        for listener in list(self._history_listeners):
            listener()

    def _changed(self, dirty: Dirty) -> None:
        self.revision += 1
        for listener in list(self._listeners):
            listener(dirty)

    # -- low level -----------------------------------------------------------------------
    def _apply_region(self, region: raster.Region, mask: np.ndarray, value: int,
                      paint_over: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        """Set ``value`` where ``mask`` is true inside ``region``; return (flat indices, old)."""
        view = self.labels[region]
        change = mask & (view != value)
        if paint_over is not None:
            change &= view == paint_over
        if not change.any():
            return None
        rows, cols = np.nonzero(change)
        rows += region[0].start
        cols += region[1].start
        flat = rows.astype(np.int64) * self.shape[1] + cols
        old = view[change].copy()
        view[change] = value
        self._changed((int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1))
        return flat, old

    def _record(self, flat: np.ndarray, old: np.ndarray, description: str,
                meta_old: dict | None = None, link: int | None = None) -> Edit | None:
        order = np.argsort(flat, kind="stable")
        flat, old = flat[order], old[order]
        first = np.ones(flat.size, dtype=bool)
        first[1:] = flat[1:] != flat[:-1]  # keep the value from before the first change
        flat, old = flat[first], old[first]
        new = self.labels.ravel()[flat]
        keep = old != new
        meta_changed = meta_old is not None and meta_old != self.meta
        if not keep.any() and not meta_changed:
            return None
        edit = Edit(flat[keep], old[keep], new[keep].copy(), description,
                    dict(meta_old) if meta_changed else None, dict(self.meta) if meta_changed else None,
                    next(_link_ids) if link is None else link)
        self.history.push(edit)
        self._history_changed()
        return edit

    def _apply_edit(self, edit: Edit, values: np.ndarray, meta: dict | None) -> None:
        if edit.indices.size:
            self.labels.ravel()[edit.indices] = values
            rows, cols = np.divmod(edit.indices, self.shape[1])
            self._changed((int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1))
        if meta is not None:
            self.meta = dict(meta)
            self._meta_changed()

    # -- strokes -------------------------------------------------------------------------
    def begin_stroke(self, description: str = "brush stroke", link: int | None = None) -> Stroke:
        """Open a stroke and return its token; a stroke open already is closed first, as its
        own undo step. ``link``: the link of another document's step this one follows."""
        self._close_open_stroke()
        self._stroke = Stroke(description, link)
        return self._stroke

    def _close_open_stroke(self) -> None:
        if self._stroke is not None:
            self.end_stroke(self._stroke)

    def _adding_to(self, stroke: Stroke) -> Stroke:
        if stroke is not self._stroke:
            raise ValueError(f"{stroke!r} is not this document's open stroke: it was ended, or another "
                             "stroke or edit closed it")
        return stroke

    def stroke_to(self, stroke: Stroke, x: float, y: float, diameter: int, value: int,
                  paint_over: int | None = None, square: bool = False) -> None:
        """Paint a round (or ``square``) brush from the stroke's previous point (or a dab at
        its first)."""
        self._adding_to(stroke)
        start = stroke.last or (x, y)
        stroke.last = (x, y)
        shape = (raster.square_stroke if square else raster.capsule)(self.shape, start, (x, y), diameter)
        if shape is not None:
            changed = self._apply_region(*shape, value=value, paint_over=paint_over)
            if changed is not None:
                stroke.pieces.append(changed)

    def end_stroke(self, stroke: Stroke) -> Edit | None:
        """Close ``stroke`` as one undo step. None when it changed nothing, or when it was
        closed already (then the stroke open now, if any, is left alone)."""
        if stroke is not self._stroke:
            return None
        self._stroke = None
        stroke.open = False
        if not stroke.changed:
            return None
        pieces = stroke.pieces
        flat = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
        old = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, np.uint8)
        return self._record(flat, old, stroke.description, stroke.meta_old, stroke.link)

    def set_meta_in_stroke(self, stroke: Stroke, **changes) -> None:
        """Within ``stroke``, change the metadata (``anatomy``, ``fan``); the stroke's undo
        step restores it."""
        self._check_meta(changes)
        self._adding_to(stroke)
        if stroke.meta_old is None:
            stroke.meta_old = dict(self.meta)
        new = {**self.meta, **changes}
        if new != self.meta:
            self.meta = new
            self._meta_changed()

    def set_meta(self, description: str, *, link: int | None = None, **changes) -> Edit | None:
        """Change the metadata as one undo step (e.g. the fan); ``link`` as for
        :meth:`begin_stroke`."""
        self._check_meta(changes)  # before the stroke: a refused change leaves no stroke open
        stroke = self.begin_stroke(description, link)
        self.set_meta_in_stroke(stroke, **changes)
        return self.end_stroke(stroke)

    def _check_meta(self, changes: dict) -> None:
        """Refuse ``changes`` to the metadata that cannot be made: an unknown key (a bug) or
        an unusable fan (FanError)."""
        unknown = set(changes) - set(self.meta)
        assert not unknown, f"unknown document metadata: {unknown}"
        if "fan" in changes:
            usable_fan(changes["fan"])

    def replace_in_stroke(self, stroke: Stroke, labels: np.ndarray) -> None:
        """Within ``stroke``, make the whole map ``labels`` (an anatomy slider's drag is one
        such stroke)."""
        labels = np.asarray(labels, np.uint8)
        assert labels.shape == self.shape, (labels.shape, self.shape)
        self._adding_to(stroke)
        flat = np.flatnonzero(labels != self.labels)
        if flat.size == 0:
            return
        old = self.labels.ravel()[flat].copy()
        self.labels.ravel()[flat] = labels.ravel()[flat]
        rows, cols = np.divmod(flat, self.shape[1])
        self._changed((int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1))
        stroke.pieces.append((flat, old))

    def replace(self, labels: np.ndarray, description: str) -> Edit | None:
        """Make the whole map ``labels`` as one undo step (the mask tools)."""
        stroke = self.begin_stroke(description)
        self.replace_in_stroke(stroke, labels)
        return self.end_stroke(stroke)

    # -- one-shot edits ------------------------------------------------------------------
    def _one_shot(self, shape, value: int, paint_over: int | None, description: str) -> Edit | None:
        self._close_open_stroke()
        if shape is None:
            return None
        changed = self._apply_region(*shape, value=value, paint_over=paint_over)
        if changed is None:
            return None
        return self._record(*changed, description)

    def fill(self, x: float, y: float, value: int, paint_over: int | None = None) -> Edit | None:
        """Flood-fill the 4-connected region of equal labels under (x, y) with ``value``."""
        col, row = int(np.floor(x)), int(np.floor(y))
        return self._one_shot(raster.flood_region(self.labels, col, row), value, paint_over, "fill")

    def fill_polygon(self, points: Sequence[tuple[float, float]], value: int,
                     paint_over: int | None = None) -> Edit | None:
        return self._one_shot(raster.polygon(self.shape, points), value, paint_over, "polygon fill")

    def clear(self) -> Edit | None:
        """Set every pixel to background, as one undoable step. A blank mask is no longer the
        heart it was drawn from: the step forgets the heart too (undo brings it back); the
        probe's fan stays."""
        stroke = self.begin_stroke("clear")
        self.replace_in_stroke(stroke, np.full(self.shape, BACKGROUND, np.uint8))
        if self.anatomy is not None:
            self.set_meta_in_stroke(stroke, anatomy=None)
        return self.end_stroke(stroke)

    # -- history -------------------------------------------------------------------------
    def undo(self) -> bool:
        """Take back the last step; False with none, or while a stroke is open."""
        if self._stroke is not None:
            return False
        edit = self.history.take_undo()
        if edit is None:
            return False
        self._apply_edit(edit, edit.old, edit.meta_old)
        self._history_changed()
        return True

    def redo(self) -> bool:
        """Bring back the last step undone; False with none, or while a stroke is open."""
        if self._stroke is not None:
            return False
        edit = self.history.take_redo()
        if edit is None:
            return False
        self._apply_edit(edit, edit.new, edit.meta_new)
        self._history_changed()
        return True
