"""The standard terminology of 3D Slicer segments: the codes that name a segment's class.

A segment's standard terminology (Slicer's ``SegmentN_Tags`` ``TerminologyEntry``: SNOMED CT
codes, :data:`STRUCTURE_CODES`; designated ``SCT``, or ``SRT`` as older Slicer files write it,
DICOM's old designator of SNOMED, read alike: :func:`coding_scheme`, with SNOMED RT's values
where those files give them) names its class too (the interventricular septum's code, 589001,
the myocardium, as its name; the interatrial septum's, 58095006, a structure CAMUS does not
label, as its name: :data:`UNLABELLED_STRUCTURE_CODES`). A structure coded as the right
ventricle or atrium, or placed in an anatomic region of the right heart, is the right heart's:
background, as CAMUS labels it (:func:`coded_structure`). A terminology that codes none of our
structures, or is damaged, codes nothing here and is never an error: the segment is left to its
name (:mod:`engine.segment_names`). How a code and a name are weighed when both say a class is
:func:`engine.slicer_segments.class_of`'s. A segment written for Slicer is coded with the first
code of its class (:func:`terminology_entry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .labels import BACKGROUND, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM


@dataclass(frozen=True)
class Code:
    """One coded concept: coding scheme designator, code value, code meaning."""
    scheme: str
    value: str
    meaning: str

    def __str__(self) -> str:
        return f"{self.scheme}^{self.value}^{self.meaning}"


SNOMED_CT = "SCT"  # DICOM's designator of SNOMED CT
OLD_SNOMED_DESIGNATOR = "SRT"  # DICOM's designator of SNOMED before "SCT", in older Slicer files


def coding_scheme(designator: str) -> str:
    """A coding scheme designator as codes are compared: without case or surrounding spaces,
    DICOM's old designator of SNOMED (``SRT``) read as SNOMED CT's (``SCT``)."""
    scheme = designator.strip().upper()
    return SNOMED_CT if scheme == OLD_SNOMED_DESIGNATOR else scheme


TERMINOLOGY_CONTEXT = "Segmentation category and type - 3D Slicer General Anatomy list"
ANATOMIC_CONTEXT = "Anatomic codes - DICOM master list"
ANATOMICAL_STRUCTURE = Code(SNOMED_CT, "123037004", "Anatomical Structure")  # the category of them all

# the septa as Slicer's General Anatomy list codes them (and older Slicer files, under SRT, as
# SNOMED RT's values): the one between the ventricles is a part of CAMUS's myocardium (as the
# name "Interventricular septum" is), the one between the atria a structure CAMUS does not label
# (as the name "Interatrial septum" is: :data:`UNLABELLED_STRUCTURE_CODES`)
INTERVENTRICULAR_SEPTUM = Code(SNOMED_CT, "589001", "Interventricular septum")
OLD_INTERVENTRICULAR_SEPTUM = Code(OLD_SNOMED_DESIGNATOR, "T-32410", "Interventricular septum")

STRUCTURE_CODES: tuple[tuple[int, Code], ...] = (
    (LV_CAVITY, Code(SNOMED_CT, "87878005", "Left ventricle")),
    (MYOCARDIUM, Code(SNOMED_CT, "74281007", "Myocardium")),
    (MYOCARDIUM, INTERVENTRICULAR_SEPTUM),
    (LEFT_ATRIUM, Code(SNOMED_CT, "82471001", "Left atrium")),
    (BACKGROUND, Code(SNOMED_CT, "53085002", "Right ventricle")),
    (BACKGROUND, Code(SNOMED_CT, "73829009", "Right atrium")),
    # older Slicer files (its General Anatomy list before SNOMED CT's codes) code them as SNOMED
    # RT's values under ``SRT``; that list held no left atrium or myocardium
    (LV_CAVITY, Code(OLD_SNOMED_DESIGNATOR, "T-32600", "Left ventricle")),
    (BACKGROUND, Code(OLD_SNOMED_DESIGNATOR, "T-32500", "Right ventricle")),
    (MYOCARDIUM, OLD_INTERVENTRICULAR_SEPTUM),
)
"""The SNOMED CT (coding scheme ``SCT``) anatomical structures a segment's standard terminology
may name, with the class each stands for (background: a chamber of the right heart, which CAMUS
labels as background). The first code of one of our classes is the one written for it. The LV
cavity is coded as the left ventricle, 87878005, which in SNOMED CT is the whole ventricle, wall
included, and the myocardium as 74281007, the myocardium in general:
the codes for the LV cavity alone and for the LV's own myocardium are not known here with
certainty, so none is written or read. Every code is compared by scheme and value, a scheme
of ``SRT`` (DICOM's old designator of SNOMED, as older Slicer files code) as ``SCT``
(:func:`coding_scheme`). Older Slicer files give ``SRT`` SNOMED RT's values ("T-32600", the
left ventricle), which are listed here beside SNOMED CT's. The interventricular septum is the
myocardium, as CAMUS's myocardium holds it; a segment coded so is a band of the wall, never a
filled outline (:func:`engine.slicer_segments.is_filled_outline`)."""

UNLABELLED_STRUCTURE_CODES: tuple[Code, ...] = (
    Code(SNOMED_CT, "15825003", "Aorta"),
    Code(SNOMED_CT, "34202007", "Aortic valve"),
    Code(SNOMED_CT, "91134007", "Mitral valve"),
    Code(SNOMED_CT, "76848001", "Pericardium"),
    Code(SNOMED_CT, "58095006", "Interatrial septum"),
    Code(OLD_SNOMED_DESIGNATOR, "T-42000", "Aorta"),  # as older Slicer files code them (see STRUCTURE_CODES)
    Code(OLD_SNOMED_DESIGNATOR, "T-35400", "Aortic valve"),
    Code(OLD_SNOMED_DESIGNATOR, "T-35300", "Mitral valve"),
    Code(OLD_SNOMED_DESIGNATOR, "T-39000", "Pericardium"),
    Code(OLD_SNOMED_DESIGNATOR, "T-32150", "Interatrial septum"),
)
"""Structures a segment's terminology may code (as Slicer's anatomy list codes them) that CAMUS
does not label: a segment coded as one is refused with the advice to remove it, not rename it
(:func:`engine.slicer_segments.unplaced_segment`). They never decide a class: a segment whose
name says one of ours is read by its name, as under any code the table of ours does not know."""


def coded_structure(tags: str) -> tuple[int, Code] | None:
    """The structure a segment's ``TerminologyEntry`` tag codes, as (its class, its code) from
    :data:`STRUCTURE_CODES`; None when the tags code none of them: no terminology, Slicer's
    default "Tissue", another structure, a type with a modifier (a structure qualified in a way
    the table does not know), or a tag too damaged to read. A structure placed in an anatomic
    region of the right heart (the right ventricle's myocardium, its papillary muscles) is the
    right heart's (background), whether the table knows the structure or not. Never
    raises: a damaged tag only leaves the segment to its name."""
    parts = terminology_parts(tags)
    if parts is None:
        return None
    structure = known_code(parts[2])
    region = known_code(parts[5]) if len(parts) > 5 else None
    if region is not None and region[0] == BACKGROUND and any(parts[2].split("^")[:2]):
        return region
    return structure


def terminology_parts(tags: str) -> list[str] | None:
    """The ``~``-separated parts of a segment's ``TerminologyEntry`` tag (context, category,
    type, type modifier, ...), or None when it has none, too few to hold a type, or a type
    modifier (a structure qualified in a way no table here knows)."""
    for tag in tags.split("|"):
        key, _, entry = tag.partition(":")
        if key.strip() != "TerminologyEntry":
            continue
        parts = entry.split("~")
        if len(parts) < 3 or (len(parts) > 3 and any(parts[3].split("^")[:2])):
            return None
        return parts
    return None


def coded_unlabelled_structure(tags: str) -> Code | None:
    """The entry of :data:`UNLABELLED_STRUCTURE_CODES` a segment's terminology codes, or None."""
    parts = terminology_parts(tags)
    if parts is None:
        return None
    scheme, _, rest = parts[2].partition("^")
    value = rest.partition("^")[0].strip()
    return next((code for code in UNLABELLED_STRUCTURE_CODES
                 if coding_scheme(scheme) == coding_scheme(code.scheme) and value == code.value), None)


def known_code(triple: str) -> tuple[int, Code] | None:
    """The entry of :data:`STRUCTURE_CODES` a ``scheme^value^meaning`` triple names (by scheme
    and value, as codes are compared, ``SRT`` as ``SCT``: :func:`coding_scheme`; the meaning is
    free text), or None."""
    scheme, _, rest = triple.partition("^")
    value = rest.partition("^")[0].strip()
    for class_id, code in STRUCTURE_CODES:
        if coding_scheme(scheme) == coding_scheme(code.scheme) and value == code.value:
            return class_id, code
    return None


def terminology_entry(label_id: int) -> str:
    """A class's standard terminology as Slicer serializes it in a segment's ``TerminologyEntry``
    tag: the context, then category, type and type modifier, then the anatomic context, region
    and region modifier, ``~`` between them, each code ``scheme^value^meaning`` (empty: ``^^``)."""
    code = next(code for class_id, code in STRUCTURE_CODES if class_id == label_id)
    return "~".join((TERMINOLOGY_CONTEXT, str(ANATOMICAL_STRUCTURE), str(code), "^^",
                     ANATOMIC_CONTEXT, "^^", "^^"))


def has_terminology(tags: str) -> bool:
    """Whether Slicer's tags text holds a ``TerminologyEntry`` tag."""
    return any(tag.partition(":")[0].strip() == "TerminologyEntry" for tag in tags.split("|"))
