"""Undo/redo as a stack of diffs: which pixels changed, what they held before and after.

Storing diffs rather than copies keeps a long painting session small: a brush stroke over
a few hundred pixels costs a few kilobytes, whatever the size of the map.

Each edit carries a ``link``: an id of its own, unless it was made to follow an edit of
another document as part of the same change (the fan handed from one cine key frame to the
other); then it carries that edit's id, and whoever owns the two documents can undo and redo
the two together (:mod:`cardigan_app.cine.key_frames`). A history never looks at links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Edit:
    """One undoable step: flat pixel indices with their old and new label values, and the
    document's metadata (the heart it was drawn from, the fan) before and after, when the
    step changed it (None otherwise)."""

    indices: np.ndarray  # int64, flat indices into the label map, unique
    old: np.ndarray  # uint8, values before the edit
    new: np.ndarray  # uint8, values after the edit
    description: str = "edit"
    meta_old: dict | None = None
    meta_new: dict | None = None
    link: int | None = None  # shared with the edit of another document it is one change with

    def __post_init__(self) -> None:
        assert self.indices.shape == self.old.shape == self.new.shape, "mismatched diff arrays"

    @property
    def nbytes(self) -> int:
        return self.indices.nbytes + self.old.nbytes + self.new.nbytes

    def __len__(self) -> int:
        return int(self.indices.size)


class History:
    """Undo and redo stacks of :class:`Edit`, trimmed oldest-first past a memory budget."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self.dropped = 0  # edits trimmed off the bottom of the undo stack so far

    def push(self, edit: Edit) -> None:
        """Record a new edit; it invalidates everything that could be redone."""
        self._undo.append(edit)
        self._redo.clear()
        total = sum(e.nbytes for e in self._undo)
        while len(self._undo) > 1 and total > self.budget_bytes:
            total -= self._undo.pop(0).nbytes
            self.dropped += 1

    def take_undo(self) -> Edit | None:
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._redo.append(edit)
        return edit

    def take_redo(self) -> Edit | None:
        if not self._redo:
            return None
        edit = self._redo.pop()
        self._undo.append(edit)
        return edit

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def undo_steps(self):
        """The edits that can be undone, newest first."""
        return reversed(self._undo)

    @property
    def top(self) -> Edit | None:
        """The edit the content is at (the last one not undone), None at the start."""
        return self._undo[-1] if self._undo else None

    @property
    def next_redo(self) -> Edit | None:
        """The edit redo would bring back (the last one undone), None when there is none."""
        return self._redo[-1] if self._redo else None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_description(self) -> str | None:
        return self._undo[-1].description if self._undo else None

    @property
    def redo_description(self) -> str | None:
        return self._redo[-1].description if self._redo else None

    def __len__(self) -> int:
        return len(self._undo)
