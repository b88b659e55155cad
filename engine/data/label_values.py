"""A dataset's label maps that hold values other than the label ids, said in one line.

A folder of such maps usually has one cause, shared by every file: masks saved as greys for
viewing (0/85/170/255, or 0-3 times another factor), or pictures put where the masks belong.
So the line counts the files, names one, says what it holds against the 0-3 expected and
what it looks like, and how to fix it; ``cardigan prepare`` refuses such masks the same way
(it maps no values), so the advice is to change the files, not to prepare them.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from ..errors import Advice, Message
from ..labels import LABELS, LOOKS_LIKE_AN_IMAGE, NUM_CLASSES, bad_values, in_sentence, joined, not_labels

# how a folder whose label maps are pictures gets masks (a front end names its own controls)
MASKS_FROM_SOURCE = Advice("masks from a source", "`cardigan prepare` makes them from a CAMUS source, "
                                                  "whose masks are the *_gt files")


@dataclass(frozen=True)
class BadLabelMap:
    """A label map (``path``, as the dataset names it) and its distinct values, some not labels."""

    path: str
    values: tuple[int, ...]

    @property
    def bad(self) -> list[int]:
        return bad_values(self.values)

    def scale(self) -> int | None:
        """k when the map holds labels 0-3 multiplied by k > 1 (at least two classes besides
        background, so that a binary 0/255 mask is not taken for one), else None."""
        nonzero = [v for v in self.values if v]
        if len(nonzero) < 2 or min(nonzero) < 0:
            return None
        k = 0
        for v in nonzero:
            k = gcd(k, int(v))
        return k if k > 1 and max(nonzero) <= k * (NUM_CLASSES - 1) else None

    def is_picture(self) -> bool:
        return len(self.bad) > LOOKS_LIKE_AN_IMAGE

    def kind(self) -> tuple:
        """What is wrong with it, equal for maps with the same cause."""
        return ("picture",) if self.is_picture() else ("scaled", self.scale()) if self.scale() else ("other",)


def bad_label_maps_line(maps: list[BadLabelMap]) -> Message:
    """``maps`` (one at least) in one line: how many, one named with what it holds, what it
    looks like and what to do, for all of them when they share the cause, else for the one."""
    example = maps[0]
    shared = all(m.kind() == example.kind() for m in maps)
    them, their = ("them", "their") if shared and len(maps) > 1 else ("it", "its")
    count = (f"{len(maps)} label maps hold values other than the labels 0-{NUM_CLASSES - 1}, e.g. "
             if len(maps) > 1 else "")
    values = [int(v) for v in example.values]
    classes = ", ".join(f"{lab.id} {in_sentence(lab.name)}" for lab in LABELS[:-1])
    classes += f" or {LABELS[-1].id} {in_sentence(LABELS[-1].name)}"
    if example.is_picture():
        return Message(f"{count}{example.path} holds {len(values)} grey levels from {min(values)} to "
                       f"{max(values)}: a picture, not a label map; put masks of 0-{NUM_CLASSES - 1} in "
                       f"{their} place (", MASKS_FROM_SOURCE, ")")
    k = example.scale()
    if k:
        return Message(f"{count}{example.path} holds {joined(values)}: labels 0-{NUM_CLASSES - 1} "
                       f"multiplied by {k}, as saved for viewing; divide {them} by {k}")
    return Message(f"{count}{example.path}: {not_labels(example.bad, 5)} (allowed: 0-{NUM_CLASSES - 1}); "
                   f"relabel {them} to {classes}")
