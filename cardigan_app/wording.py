"""The studio's words for the advice in engine messages.

The engine tells how to fix a problem in the command line's words ("use --device cpu or
auto"); where those words are an :class:`engine.errors.Advice`, the studio says them in
terms of its own controls instead. The words are looked up by the advice's key, never by the
command line's text, so the command line may be reworded without the studio noticing. A
dialog adds the names of its own options and check boxes (:func:`studio_words`).
"""

from __future__ import annotations

from engine.data.label_values import MASKS_FROM_SOURCE
from engine.data.layout import EIGHT_BIT_COPY, MAKE_DATASET
from engine.data.staging import MADE_BY
from engine.errors import OTHER_DEVICE, Words, one_line
from engine.maskio import HDF5_MASKS

STUDIO_WORDS: Words = {OTHER_DEVICE: "choose CPU or Auto as the device",
                       EIGHT_BIT_COPY: "Data \u203a Prepare dataset\u2026 with this folder as the source makes an "
                                       "8-bit copy",
                       MAKE_DATASET: "make one with Data \u203a Prepare dataset\u2026 or Data \u203a New phantom "
                                     "dataset\u2026",
                       MASKS_FROM_SOURCE: "Data \u203a Prepare dataset\u2026 makes them from a CAMUS source, whose "
                                          "masks are the *_gt files",
                       HDF5_MASKS: "Data \u203a Prepare dataset\u2026 with this file as the source writes its masks "
                                   "as PNG label maps",
                       # what makes each kind of dataset the studio may refuse to replace
                       MADE_BY["prepared"]: "made with Data \u203a Prepare dataset\u2026",
                       MADE_BY["phantom"]: "made with Data \u203a New phantom dataset\u2026",
                       MADE_BY["export"]: "made with Data \u203a Export batch\u2026"}


def studio_words(extra: Words | None = None) -> Words:
    """The studio's words, with ``extra`` (a dialog's own) taking precedence."""
    return {**STUDIO_WORDS, **(extra or {})}


def studio_line(exc: BaseException, what: str = "the task", extra: Words | None = None) -> str:
    """:func:`engine.errors.one_line` in the studio's words (``extra``: a dialog's own, as
    :func:`studio_words` takes them)."""
    return one_line(exc, what, studio_words(extra))
