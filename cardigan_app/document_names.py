"""How the studio names a mask and its key frames to the user, in one place: the window title,
the unsaved-changes question, the autosave's recovery offer and the status lines all say
:func:`key_frame_name`, and the names Save As and the exports suggest start with
:func:`file_stem`. No Qt here.

A mask is named by its file (``p_4CH_ED.png``; a volume's slice with its number,
``lv.nii.gz, slice 3``), else it is untitled and named by the heart it holds and its view
(``Untitled heart #89, 4CH``, read from the heart it holds now, so a new heart renames it),
else by where it came from (``Untitled tracing of echo.dcm``). A key frame of a pair is its
pair's name with the key frame after a middle dot (``Untitled heart #89, 4CH · ES``); an ES
frame with no file of its own is its ED frame's (``p_4CH_ED.png · ES``), and a file whose name
says its key frame already needs no dot (``p_4CH_ES.png``). A name never holds another name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from engine.anatomy.heart import heart_in_record, heart_name
from engine.maskio import mask_name_stem

from .editing import LabelDocument

Frames = Mapping[str, "LabelDocument | None"]
UNTITLED = "Untitled"


def untitled_words(document: LabelDocument) -> str:
    """What an untitled mask is, without "Untitled": its heart and view ("heart #89, 4CH"),
    else where it came from (its ``origin``), else ""."""
    record = document.anatomy
    heart = heart_in_record(record)
    if heart is not None:
        return f"{heart_name(heart.seed)}, {record['view']}"
    return document.origin


def own_name(document: LabelDocument) -> str:
    """A mask's name by itself, not as a key frame (see the module's rules)."""
    if document.path is not None:
        taken = document.slice
        return document.path.name + (f", slice {taken[0] + 1}" if taken is not None and taken[1] > 1 else "")
    words = untitled_words(document)
    return f"{UNTITLED} {words}" if words else UNTITLED


def key_of(document: LabelDocument, frames: Frames) -> str | None:
    """The key frame ``document`` is ("ED" or "ES"), or None when it is not one of a pair yet
    (no ES frame), or not one of ``frames`` at all."""
    if frames.get("ES") is None:
        return None
    return "ES" if document is frames["ES"] else "ED" if document is frames.get("ED") else None


def _says_key(path: Path, key: str) -> bool:
    """Whether a file's name ends with its key frame already (``p_4CH_ES.png``,
    ``patient0001_4CH_ED_gt.mhd``)."""
    stem = mask_name_stem(path.name).upper().removesuffix("_GT")
    return stem.endswith(f"_{key}")


def key_frame_name(document: LabelDocument, frames: Frames) -> str:
    """The one name of ``document``, the key frame of ``frames`` (the window's key frames) it
    is, or a mask alone: "p_4CH_ED.png", "p_4CH_ED.png \u00b7 ES", "Untitled heart #89, 4CH \u00b7 ES"."""
    key = key_of(document, frames)
    if key is None:
        return own_name(document)
    if document.path is not None:
        name = own_name(document)
        return name if _says_key(document.path, key) else f"{name} \u00b7 {key}"
    return f"{own_name(frames['ED'])} \u00b7 {key}"  # an untitled frame is its pair's: the ED frame's


def file_stem(document: LabelDocument, frames: Frames) -> str:
    """The stem of the file a key frame is saved or exported as: its own file's, an ES frame
    without one its ED file's with ES for ED (``p_4CH_ED.png`` -> ``p_4CH_ES``, as Save
    suggests), else its heart's ("heart_89_4CH", with ``_ED`` or ``_ES`` in a pair), else
    "untitled" (with them too)."""
    if document.path is not None:
        return mask_name_stem(document.path.name)
    key = key_of(document, frames)
    ed = frames["ED"] if key == "ES" else document
    if ed.path is not None:
        return es_stem(ed.path)
    stem = _safe_stem(untitled_words(ed)) if heart_in_record(ed.anatomy) is not None else UNTITLED.lower()
    return f"{stem}_{key}" if key else stem


def loop_stem(frames: Frames) -> str:
    """The stem of the loop between the key frames: the ED frame's, without its ``_ED``."""
    stem = file_stem(frames["ED"], frames)
    return stem[:-3] if stem.upper().endswith("_ED") and len(stem) > 3 else stem


def _safe_stem(words: str) -> str:
    """Words as a file name's stem: "heart #89, 4CH" -> "heart_89_4CH"."""
    return re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_")


def es_stem(ed_path: Path) -> str:
    """Where a pair's ES frame goes beside its ED frame ``ed_path``, as a stem: ED replaced by
    ES in the name (``p_4CH_ED.png`` -> ``p_4CH_ES``; the name's own case kept), else ``_ES``
    added."""
    stem = mask_name_stem(Path(ed_path).name)
    if stem.upper().endswith("_ED"):
        return stem[:-2] + ("es" if stem[-2:] == "ed" else "ES")
    return stem + "_ES"


def both_names(first: str, second: str) -> str:
    """Two key frames' names as one phrase: a pair's frames of one name share it ("Untitled
    heart #89, 4CH · ES and ED"), others are joined ("p_4CH_ES.png and p_4CH_ED.png")."""
    base, dot, key = first.rpartition(" \u00b7 ")
    other_base, other_dot, other_key = second.rpartition(" \u00b7 ")
    if dot and other_dot and base == other_base:
        return f"{base} \u00b7 {key} and {other_key}"
    return f"{first} and {second}"
