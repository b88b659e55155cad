"""ED and ES: two key frames of one document, each with its own undo history.

The studio state's ``key_frame`` says which one is being edited. The ES frame is made the
first time it is asked for: for a heart drawn from the shape model, the same heart at
end-systole (same view, same fan); otherwise a copy of the ED mask for the user to shrink.
While the ES frame is still as it was made, it follows ED's heart: a new heart or a slider
moved at ED makes it again (:meth:`KeyFrames.follow_ed`), so the pair stays one heart; an
ES frame edited by hand is kept. Opening or creating another mask starts a new pair (ED
only). No Qt here.

What is whose. Each frame's mask carries an anatomy record (``{"view", "phase", "heart"}``,
saved in its label PNG, :mod:`engine.anatomy.heart`). The heart is one vector of the shape
model that holds both views at both ED and ES (each mode moves all four outlines), so it
is the patient's: its shape coefficients and pose, hence LV length, width and tilt, the
wall, the atrium, the shape modes, a preset, New heart, Fit to mask's result, and the Target
EF (which moves end-systole within the same vector, ED kept). The acquisition's are the fan
and the view. Each frame's own are its phase (where in the cycle it is drawn; the ED frame
on the diastolic half, the ES frame on the systolic half, as the anatomy panel keeps them)
and the pixels painted on top of the heart.

The two frames share one fan, one view and, both drawn from hearts, one heart (one
acquisition of one patient: a 2CH ED frame never pairs with a 4CH ES frame, and a heart
moved on one frame moves on the other, or the loop and the key-frame EF would mix two
patients). A change of any of them on one frame is handed to the other by
:meth:`KeyFrames.share` as a step of the other's own history (its phase and its paint kept),
linked to the step that made it (:attr:`Edit.link`): the two are one change. Undoing or
redoing either step undoes or redoes its partner, so neither history gains a step and
neither loses what it could redo, as long as the partner is where that undo or redo would
take it (on top of its history, or next to redo). When it is not (the other frame was edited
since), the change is handed over again as a new step, linked only when it came from the
frame's newest step (a new change, or a redo with nothing left to redo;
:func:`link_of_new_change`): the two frames are in one fan whatever happened, and no edit
is lost. The window calls :meth:`KeyFrames.share` once the step on screen is closed (a
slider drag is one step).

A fan, a view or a heart is handed over only when it changed on the frame that calls (since
the key frames last saw it), never merely because the two differ: a pair saved before they
were shared may hold two fans or two hearts, and opens as it was saved, unmodified. Its first
change of one makes the two one acquisition or one patient, the frame changed winning, and
:meth:`KeyFrames.share` says so once of a heart; undoing it brings both back as saved.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.anatomy import ShapeModel
from engine.anatomy.heart import heart_in_record, keep_painted, record_as_drawn
from engine.fan import Fan
from engine.labels import LV_CAVITY

from ..editing import Edit, LabelDocument
from ..state import StudioState


def es_frame_of(ed: LabelDocument) -> LabelDocument:
    """The end-systole key frame that goes with ``ed``."""
    return _frame_at(ed, 1.0)


def ed_frame_of(es: LabelDocument) -> LabelDocument:
    """An end-diastole key frame made for ``es`` when only ES is at hand (an ES frame recovered
    alone): its heart at end-diastole, else a copy of the ES mask for the user to widen. Made,
    not edited: it holds no unsaved work."""
    return _frame_at(es, 0.0)


def _frame_at(document: LabelDocument, phase: float) -> LabelDocument:
    """The other key frame of ``document``: its heart drawn at ``phase`` (same view, same fan),
    else a copy of its mask."""
    record = document.anatomy
    if heart_in_record(record) is not None and document.shape[0] == document.shape[1]:
        record = {**record, "phase": phase}
        drawn = record_as_drawn(record, ShapeModel.default(), document.shape[0], document.fan)
        other = LabelDocument(drawn, origin=document.origin)
        other.anatomy = record
    else:
        other = LabelDocument(document.labels.copy(), origin=document.origin)
    other.fan = document.fan
    return other


def heart_as_drawn(document: LabelDocument, fan: Fan | None = None) -> np.ndarray | None:
    """The heart of ``document``'s anatomy record drawn at its size in ``fan`` (by default its
    own fan), as the shape model draws it (:func:`engine.anatomy.heart.record_as_drawn`); None
    for a mask with no usable heart, or not square."""
    if document.shape[0] != document.shape[1]:
        return None
    return record_as_drawn(document.anatomy, ShapeModel.default(), document.shape[0],
                           document.fan if fan is None else fan)


def take_shared(document: LabelDocument, fan: Fan, description: str, link: int | None = None,
                view: str | None = None, heart: dict | None = None) -> None:
    """Give ``document`` ``fan`` (and its heart ``view`` and the patient's ``heart`` record, if
    given) as one undo step of its own (linked with ``link``, the step of the other frame it
    follows, if given). A heart drawn from the shape model is drawn again in the new fan, view
    and heart at its own phase, as the anatomy panel draws it when its own sliders move: the
    pixels painted on top of the heart (those that differ from it as drawn before) stay as
    painted. A ``heart`` is only taken by a frame drawn from a heart (a mask painted by hand
    has no heart to move)."""
    old = heart_as_drawn(document)
    if old is None:
        document.set_meta(description, link=link, fan=fan)
        return
    record = document.anatomy if view is None else {**document.anatomy, "view": view}
    if heart is not None:
        record = {**record, "heart": heart}
    labels = keep_painted(document.labels, old, record_as_drawn(record, ShapeModel.default(), document.shape[0], fan))
    stroke = document.begin_stroke(description, link)
    document.set_meta_in_stroke(stroke, fan=fan, anatomy=record)
    document.replace_in_stroke(stroke, labels)
    document.end_stroke(stroke)


def heart_view(record: dict | None) -> str | None:
    """The view of an anatomy record's heart; None without a usable heart (no view to share)."""
    return record["view"] if heart_in_record(record) is not None else None


def one_acquisition(document: LabelDocument, other: LabelDocument) -> bool:
    """Whether two key frames show one acquisition: one fan and, both drawn from hearts, one view."""
    view, other_view = heart_view(document.anatomy), heart_view(other.anatomy)
    return document.fan == other.fan and (view is None or other_view is None or view == other_view)


def _as_drawn(document: LabelDocument) -> bool:
    """Whether ``document`` holds exactly its heart as drawn in its own fan, nothing painted
    on top (a heart frame that only took the other frame's fan is still as it was made)."""
    drawn = heart_as_drawn(document)
    return drawn is not None and bool(np.array_equal(document.labels, drawn))


def linked(edit: Edit | None, other: Edit | None) -> bool:
    """Whether two steps (of the two key frames) are one change."""
    return edit is not None and other is not None and edit.link is not None and edit.link == other.link


def _shared_part(fan: Fan, record: dict | None) -> tuple:
    """What of a frame's fan and anatomy record the two key frames share: the fan, the view
    and the heart (None where there is no usable heart)."""
    return fan, heart_view(record), heart_in_record(record)


def link_of_new_change(document: LabelDocument) -> int | None:
    """The link of the step that just gave ``document`` its fan, its heart's view or its
    heart, when it came from its newest step (a new edit, or the last one redone); None when
    it came from an undo (the step undone is not the change's) or from no step at all (a
    file opened)."""
    history, top = document.history, document.history.top
    if history.can_redo or top is None or top.meta_old is None or top.meta_new is None:
        return None
    now = _shared_part(document.fan, document.anatomy)
    if _shared_part(top.meta_new["fan"], top.meta_new["anatomy"]) != now:
        return None
    if _shared_part(top.meta_old["fan"], top.meta_old["anatomy"]) == now:
        return None
    return top.link


def area_ejection_fraction(ed: np.ndarray, es: np.ndarray) -> float | None:
    """(A_ED - A_ES) / A_ED of the LV cavity, percent; None without a cavity at ED."""
    a_ed, a_es = int((ed == LV_CAVITY).sum()), int((es == LV_CAVITY).sum())
    return 100.0 * (a_ed - a_es) / a_ed if a_ed else None


class KeyFrames:
    """The ED and ES documents; ``show`` is called with the document to edit whenever the
    state's key frame changes."""

    def __init__(self, state: StudioState, ed: LabelDocument, show: Callable[[LabelDocument], None]) -> None:
        self.state = state
        self.frames: dict[str, LabelDocument | None] = {"ED": ed, "ES": None}
        self._show = show
        # the ES frame this pair made, ED's heart it was made from, and its labels and heart then
        self._made: tuple[LabelDocument, dict | None, np.ndarray, dict | None] | None = None
        # each frame's fan, view and heart when last seen (:meth:`share` hands them over only
        # when they changed)
        self._seen: dict[str, tuple[LabelDocument, tuple]] = {}
        state.observe("key_frame", self._switch)

    @property
    def ed(self) -> LabelDocument:
        return self.frames["ED"]  # type: ignore[return-value]

    @property
    def es(self) -> LabelDocument:
        if self.frames["ES"] is None:
            es = es_frame_of(self.ed)
            self.frames["ES"] = es
            self._made = (es, self.ed.anatomy, es.labels.copy(), es.anatomy)
            self._look()
        return self.frames["ES"]  # type: ignore[return-value]

    @property
    def current(self) -> LabelDocument:
        return self.es if self.state.key_frame == "ES" else self.ed

    def owns(self, document: LabelDocument) -> bool:
        return any(document is doc for doc in self.frames.values())

    def other_of(self, document: LabelDocument) -> LabelDocument | None:
        """The other key frame of ``document``; None until ES exists, or for a document that
        is not one of the pair."""
        ed, es = self.frames["ED"], self.frames["ES"]
        if es is None:
            return None
        return es if document is ed else ed if document is es else None

    def share(self, document: LabelDocument) -> str | None:
        """``document``'s fan, heart's view or heart changed (an edit, an undo or a redo, its
        step closed): bring the other key frame to it, by undoing or redoing the paired step
        there when that is the change (see the module's contract), else by a step of its own.
        Returns a line for the status line when the two frames held different hearts until
        now (a pair saved so) and are one patient from this change on, else None."""
        self._look()
        other = self.other_of(document)
        seen, now = self._seen_part(document), _shared_part(document.fan, document.anatomy)
        self._seen[self._key_of(document)] = (document, now)
        if other is None:
            return None
        before, heart = seen[2], now[2]
        hand_heart = heart is not None and heart != before and heart_in_record(other.anatomy) not in (None, heart)
        # a fan or view not changed here is not handed over, though the other frame's differs
        hand_fan = now[:2] != seen[:2] and not one_acquisition(document, other)
        if not hand_fan and not hand_heart:
            return None
        done, undone = document.history.top, document.history.next_redo
        note = None
        # the partner step carries the change: it gives the other frame what it held when
        # this one held what it holds now (one acquisition, or the two a pair saved with)
        if linked(done, other.history.next_redo):
            other.redo()
        elif linked(undone, other.history.top):
            other.undo()
        else:  # no partner to follow: a step of the other frame's own
            view = heart_view(document.anatomy)
            new_view = view is not None and heart_view(other.anatomy) not in (None, view)
            was_one = heart_in_record(other.anatomy) == before
            what = "heart" if hand_heart else "view" if new_view else "fan"
            take_shared(other, document.fan, f"{what} of the other key frame", link_of_new_change(document),
                        view if new_view else None, document.anatomy["heart"] if hand_heart else None)
            if hand_heart and not was_one:
                mine, theirs = self._key_of(document), self._key_of(other)
                note = (f"The {theirs} key frame held another heart: it now has this {mine} frame's, "
                        f"so the two are one patient (undo brings both back)")
        self._seen[self._key_of(other)] = (other, _shared_part(other.fan, other.anatomy))
        return note

    def _key_of(self, document: LabelDocument) -> str:
        return "ES" if document is self.frames["ES"] else "ED"

    def _seen_part(self, document: LabelDocument) -> tuple:
        """``document``'s fan, view and heart when the key frames last saw them."""
        seen = self._seen.get(self._key_of(document))
        return seen[1] if seen is not None and seen[0] is document else _shared_part(document.fan, document.anatomy)

    def _look(self) -> None:
        """Note the fan, view and heart of each frame not seen yet (a pair just opened, an ES
        frame made or given): what it holds is where it starts, not a change to hand over."""
        for key, document in self.frames.items():
            seen = self._seen.get(key)
            if document is not None and (seen is None or seen[0] is not document):
                self._seen[key] = (document, _shared_part(document.fan, document.anatomy))

    def start(self, document: LabelDocument) -> None:
        """A new mask: it is the ED frame of a new pair, edited now."""
        self.frames = {"ED": document, "ES": None}
        self._made = None
        self._seen = {}
        if self.state.key_frame != "ED":
            self.state.set("key_frame", "ED")  # shows the new ED frame

    def follow_ed(self) -> bool:
        """ED's heart changed while ED is edited: an ES frame this pair made that is still as
        made (its labels and heart; taking ED's fan does not count) is made again from ED's
        heart now. True when it was; an ES frame edited by hand, or given from a file, stays, and
        so does one whose linked step ED's change undoes or redoes (:meth:`share` takes it there,
        keeping ES's history)."""
        es = self.frames["ES"]
        if es is None or self._made is None or self.state.key_frame != "ED":
            return False
        made, source, labels, anatomy = self._made
        if es is not made or self.ed.anatomy == source:
            return False
        ed_history, es_history = self.ed.history, es.history
        if linked(ed_history.top, es_history.next_redo) or linked(ed_history.next_redo, es_history.top):
            return False
        if es.anatomy != anatomy or not (np.array_equal(es.labels, labels) or _as_drawn(es)):
            return False
        self.frames["ES"] = None
        _ = self.es
        return True

    def _switch(self, frame: str) -> None:
        self._show(self.current)

    def ejection_fraction(self) -> float | None:
        """EF by area between the key frames (None until ES exists or without a cavity)."""
        if self.frames["ES"] is None or self.ed.shape != self.es.shape:
            return None
        return area_ejection_fraction(self.ed.labels, self.es.labels)

    def shared_phase(self) -> float | None:
        """The phase both key frames are drawn at, when both are drawn from hearts at one phase
        (a pair saved so: the loop does not beat and the EF by area is 0); else None."""
        if self.frames["ES"] is None:
            return None
        ed, es = self.ed.anatomy, self.es.anatomy
        if heart_in_record(ed) is None or heart_in_record(es) is None or ed["phase"] != es["phase"]:
            return None
        return float(ed["phase"])

    def modified(self) -> bool:
        return any(doc is not None and doc.modified for doc in self.frames.values())

    def edited(self, first: LabelDocument) -> list[tuple[str, LabelDocument]]:
        """(key frame, document) of the frames with unsaved edits, ``first`` (the one on
        screen) ahead of the other."""
        frames = sorted(self.frames.items(), key=lambda item: item[1] is not first)
        return [(key, doc) for key, doc in frames if doc is not None and doc.modified]
