"""3D Slicer segmentations (``.seg.nrrd``) read as cardiGAN label maps.

Slicer's Segment Editor saves a segmentation as an NRRD volume whose header names every
segment: ``SegmentN_Name``, the value its voxels hold (``SegmentN_LabelValue``) and, when
segments overlap, the layer that holds it (``SegmentN_Layer``; a file with several layers is
a 4-D volume whose first axis is the layer). The values are Slicer's own (1, 2, 3 ... in the
order the segments were made), so they are mapped to ours by what each segment is: by its
name, as follows (its words compared without case or accents, so "Ventrículo derecho" reads as
"ventriculo derecho", and a German adjective of a side and a chamber in one word as two, so
"Linksatriale Wand" reads as "links atriale wand", and "la" after "de" dropped as the French and
Spanish article it is there: :func:`name_words`), or by its standard terminology (below):

- a name with a word for an atrium (``atri``…, ``auric``…, ``oreillette``…, ``vorhof``…,
  ``herzvorhof``…, ``herzohr``…) or its abbreviation (``la``; French ``og``, Portuguese ``ae``:
  :data:`LEFT_ATRIUM_ABBREVIATIONS`): left atrium (3); ``atrioventricular``…,
  ``auriculoventricular``… name what lies between the chambers ("Left atrioventricular valve",
  the mitral valve) and are no atrium's word;
  an atrium's word with a wall's (below: "Left atrial wall", "LA myocardium", "LA scar"), or a
  German compound of the two ("Linke Vorhofwand", "Vorhofmyokard"), says the atrium's own wall,
  which CAMUS does not label (:func:`names_atrial_wall`): its left atrium is the cavity;
- ``myo``…, ``miocard``…, ``epicard``…, ``epikard``…, ``herzmusk``…, ``epi``, a word for a
  wall (``wall``, ``paroi``, ``pared``, ``parete``, ``parede``, ``wand``, ``paries``; a ventricle's word
  compounded with one: "Kammerwand", "Ventrikelmyokard"), for a scar or an infarct (``scar``…,
  ``cicatri``…, ``narbe``…, ``infarct``…: fibrous myocardium, within the wall's borders) or for
  the septum (``sept``…, ``setto``…, ``tabique``…, ``kammerscheidewand``): myocardium (2), looked
  at before the LV words, so "LV epicardium" (CAMUS's name for the myocardium's band), "LV wall",
  "LV scar" and "Interventricular septum" are myocardium. CAMUS's myocardium holds the septum, so a septum
  segment is a part of the wall: beside a "Myocardium" segment, or overlapping it, both are
  myocardium and merge; it is a band, never a filled outline, so one drawn over the cavity's
  segment is an overlap like any other wall's. The septum between the atria ("Interatrial
  septum", "Vorhofseptum") is neither the LV's wall nor the atrium's cavity: a structure CAMUS
  does not label (below);
- ``lv`` (French ``vg``, Spanish ``vi``, Portuguese ``ve``: :data:`LV_ABBREVIATIONS`), ``lvot`` (the outflow part of the cavity),
  ``pool``, ``cavit``…, ``cavid``…, ``kavum``, ``cavum``, ``höhle``, ``endo``…, a word for a ventricle (``ventric``…,
  ``ventrik``…, ``kammer``…, ``herzkammer``…) or for the LV's papillary muscles and trabeculae
  (``papil``…, ``trabec``…, ``trabek``…): LV cavity (1). CAMUS's cavity includes them (its
  endocardial border runs outside them), so a "Papillary muscle" segment is a part of the
  cavity wherever it is drawn: inside the cavity's segment it merges with it, inside a filled
  outline the cavity takes it as it takes its own pixels, and over a "Myocardium" band it is an
  overlap. A thrombus lies in the cavity: "LV thrombus" is the LV cavity, "LA thrombus" the
  left atrium, by their chambers' words ("Thrombus" alone says no chamber and is none of ours);
- a region with no tissue beside a chamber's word ("LV apex", "Herzspitze": ``apex``,
  ``apic``…, ``spitze``, ``pointe``, ``punta``, ``ponta``) is none of our classes, as it may hold the cavity, the wall or both: it
  is refused with the advice to rename it as what it holds ("LV apical myocardium" says it);
- ``background``: background (0);
- the right heart: background (0), as CAMUS labels it (its apical 4-chamber views hold the right
  ventricle and atrium in the background): the word ``rv``, ``ra`` or ``rvot`` ("RV", "RV wall";
  French ``vd``, ``od``, Spanish ``ad``: :data:`RIGHT_HEART`), or
  ``right`` with a chamber's word ("Right ventricle", "Right atrial appendage", "Right heart";
  the side's word in a few other languages too: "Ventricule droit", "Atrio destro"), and no
  word of the left heart (``left``, ``lv``, ``la``, ``gauche``..., ``sept``...). Any other name with
  one of these words ("Right myocardium", "LV and RV") is none of our classes: the right heart
  is read as background only where the name says nothing else (:func:`names_right_heart`).

A segment's standard terminology (Slicer's ``SegmentN_Tags`` ``TerminologyEntry``: SNOMED CT
codes, :data:`STRUCTURE_CODES`; designated ``SCT``, or ``SRT`` as older Slicer files write it,
DICOM's old designator of SNOMED, read alike: :func:`coding_scheme`, with SNOMED RT's values
where those files give them) names its class too (the interventricular septum's code, 589001,
the myocardium, as its name; the interatrial septum's, 58095006, a structure CAMUS does not
label, as its name): it
decides for a name that says none of the above, and over a name that says another class
(:func:`class_of`); a terminology that codes none of our structures, or is damaged, leaves the
segment to its name. A segment its terminology placed where its name does not (a name that says
nothing, or another class) is told to the reader's ``notify`` in one line (:func:`reading_note`);
a plain name match says nothing.

A segment of the right heart (by its name, or coded as the right ventricle or atrium, or as a
structure in a region of the right heart) is read as background and told in the same note
("segments 'Right ventricle', 'Right atrium' read as background (the right heart, as CAMUS
labels it)"), unless its name says one of our classes while its code says the right heart: that
is refused, as the two cannot both be right. One that lies wholly under our classes' segments
leaves no pixel background and is not told. A segment read as background (the right heart,
or one named "Background") claims no pixel: where it overlaps a segment of one of our classes (a
right ventricle painted over the septum), that class keeps its pixels.

A segment that neither its name nor its terminology places is refused by name: with the advice
to remove it when it is plainly a structure CAMUS does not label ("Aorta", "Pericardium", the
atrial septum or the atrium's wall, or coded as one; and fat: "Epicardial fat", "Pericardial
fat" are never myocardium, whatever else their names say: :func:`names_fat`), to rename it otherwise
("Segment_7", or one holding an abbreviation that is a common word in another language, "Pared
de la AI": :data:`AMBIGUOUS_ABBREVIATIONS`; :func:`unplaced_segment`). So are two segments of our classes that claim the same
pixel, with one exception: a myocardium
segment may be the filled area inside the heart's outer outline (as contour-drawn segmentations
keep it, the endocardium in a layer of its own), so where it overlaps an LV cavity segment the
cavity wins and it is the wall around it. It is taken as such when its name says the epicardium,
or, when its class came from its terminology, when it holds the whole cavity
(:func:`is_filled_outline`): a segment named as the wall itself, or a wall over part of the
cavity, is an overlap. A segmentation Slicer saved cropped to its segments
is put back on its reference image's grid, and of one painted on a loop loaded as a volume the
single painted frame is taken (:func:`segment_layers`). A file without segment records (a plain NRRD or
MetaImage label map, or a labelmap volume exported from Slicer) is read as its values, which
must then be label ids 0-3 already.

A mask read from a segmentation is written back (:func:`write_segmentation`, the studio's File ›
Export › Mask… to ``.seg.nrrd``) as its user named it: each of our classes the file held keeps
the name, colour and tags (its terminology among them) of its segment, the first in the file's
order when several merged into it ("LV cavity" before "Papillary muscle": "LV cavity"), as
:func:`read_kept_segments` reads them beside the label map; a class it did not hold (painted new
in the studio) is written as ours, as is a terminology where the kept tags hold none. A segment
read as background or refused is never kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .errors import MaskError
from .labels import BACKGROUND, LABELS, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM, in_sentence

# a chamber's words (word beginnings) in English, French, Spanish, Italian, Portuguese, German and
# Latin, by language
ATRIUM_WORDS = (
    "atri", "auric",  # English, Italian, Portuguese, Latin: "Atrium", "Atrio", "Átrio", "Atrial", "Auricle";
                      # French, Spanish: "Auriculaire", "Aurícula"
    "oreillette",  # French: "Oreillette gauche"
    "intraatri", "intraauric",  # English, French: "Intraatrial thrombus", "Thrombus intra-auriculaire"
    "vorhof", "herzvorhof",  # German: "Vorhof", "Linker Herzvorhof" (atrium)
    "herzohr",  # German: "Linkes Herzohr" (the atrium's appendage, as "Left atrial appendage" is the atrium)
    "orejuela",  # Spanish: "Orejuela izquierda" (the atrium's appendage)
)
VENTRICLE_WORDS = (
    "ventric",  # English, French, Spanish, Italian, Portuguese, Latin: "Ventricle", "Ventricule", "Ventrículo"
    "ventrik", "kammer", "herzkammer",  # German: "Ventrikel", "Linksventrikulär", "Kammer", "Herzkammer"
    "intraventric", "intraventrik",  # "Intraventricular thrombus", "Thrombus intraventriculaire gauche"
)
# a chamber's abbreviations as clinicians write them (whole words), by language; those of the
# right heart are in RIGHT_HEART
LEFT_ATRIUM_ABBREVIATIONS = (
    "la",  # English, German: "LA" (left atrium, linker Vorhof)
    "og",  # French: "OG" (oreillette gauche)
    "ae",  # Portuguese: "AE" (átrio esquerdo)
)
LV_ABBREVIATIONS = (
    "lv",  # English, German: "LV" (left ventricle, linker Ventrikel)
    "vg",  # French: "VG" (ventricule gauche)
    "vi",  # Spanish: "VI" (ventrículo izquierdo); as a Roman six it is not how Slicer or ITK-SNAP
           # number segments ("Segment_6", "Label 6")
    "ve",  # Portuguese: "VE" (ventrículo esquerdo)
)
# "la" is also the French and Spanish article: after "de" ("Myocarde de la paroi latérale",
# "Miocardio de la pared lateral") it is "of the", never the left atrium, and is dropped
ARTICLE_AFTER = {"la": ("de",)}
# abbreviations of a chamber in one language that are common words in another: a name holding
# one is none of our classes, to be renamed, rather than read as the one its language may mean
AMBIGUOUS_ABBREVIATIONS = (
    "ai",  # Spanish "AI" (aurícula izquierda), but English for artificial intelligence ("LV (AI)")
           # and aortic insufficiency: "Pared de la AI" must not read as the LV's wall either
    "as", "vs",  # Italian "AS", "VS" (atrio, ventricolo sinistro), but English "as", "vs" (versus)
                 # and aortic stenosis: "Parete dell'AS" must not read as the LV's wall
)
# German adjectives of a side and a chamber in one word ("Linksatriale Wand", "Linksventrikuläres
# Myokard", "Rechtsventrikulär") are read as the side's word and the chamber's: "links atriale wand"
SIDE_PREFIXES = ("links", "rechts")
# the septum: "Septum", "Septal wall", "Setto", "Tabique", and German compounds as whole words
# ("Kammerscheidewand"; "Vorhofseptum" is the atria's: :func:`names_atrial_septum`)
SEPTUM_WORDS = ("sept", "setto", "tabique")  # word beginnings
VENTRICULAR_SEPTUM_COMPOUNDS = ("kammerscheidewand", "kammerseptum", "ventrikelseptum")
ATRIAL_SEPTUM_COMPOUNDS = ("vorhofseptum", "vorhofscheidewand")
ATRIAL_SIDE = ("interatri", "interauric") + ATRIUM_WORDS  # word beginnings: "Interatrial", "Atrial"
# what lies between an atrium and a ventricle ("Left atrioventricular valve", the mitral valve;
# "Válvula auriculoventricular"): neither chamber, though its word begins as an atrium's
ATRIOVENTRICULAR = ("atrioventric", "atrioventrik", "auriculoventric")  # word beginnings
# a wall's words ("LV wall", "Myocardium", "Epicardium"); with an atrium's, the atrium's own wall
# ("Left atrial wall", "LA myocardium"): neither the LV's wall nor the atrium's cavity that CAMUS
# labels (:func:`names_atrial_wall`)
WALL_WORDS = ("wall", "paroi", "pared", "parete", "parede", "wand", "paries", "epi")  # whole words
# a scar or an infarct ("LV scar", "Cicatrice", "Narbe", "Infarto") is myocardium turned fibrous:
# it lies within the wall's borders, which CAMUS's myocardium holds, so it is read as the wall
# (and with an atrium's word, "LA scar", as the atrium's own wall, which CAMUS does not label)
SCAR_BEGINNINGS = ("scar", "cicatri", "narbe", "infarct", "infarkt", "infart")
WALL_BEGINNINGS = ("myo", "miocard", "epicard", "epikard",
                   "herzmusk",  # German: "Herzmuskel", "Herzmuskulatur" (heart muscle, the myocardium)
                   ) + SCAR_BEGINNINGS
# German compounds of a chamber's word and a wall's ("Vorhofwand", "Vorhofmyokard", "Kammerwand",
# "Ventrikelmyokard"): the chamber's own wall, not its cavity (:func:`is_wall_compound`)
WALL_ENDINGS = ("wand", "myokard", "epikard", "muskulatur", "narbe")
# a region, not a tissue ("LV apex", "Herzspitze"): with only a chamber's word beside it, the name
# does not say whether it holds the cavity, the wall or both, so it is none of our classes and
# is to be renamed as what it holds (:func:`names_region_only`)
REGION_BEGINNINGS = (
    "apex", "apic",  # English, French, Italian, Latin: "LV apex", "Apex du VG", "Apicale"
    "spitze", "herzspitze",  # German: "Herzspitze" (apex)
    "pointe",  # French: "Pointe du VG" (apex)
    "punta",  # Spanish, Italian: "Punta del VI", "Punta del ventricolo sinistro" (apex)
    "ponta",  # Portuguese: "Ponta do VE" (apex)
)
# a thrombus lies in a chamber's cavity ("LV thrombus", "LA appendage thrombus"), inside the
# endocardial border CAMUS traces: read as the chamber its name says, even at a region ("LV
# apical thrombus"); alone ("Thrombus") it says no chamber and is none of ours
THROMBUS_BEGINNINGS = ("thromb", "trombo")
# the LV's papillary muscles and trabeculae ("Papillary muscle", "Muscle papillaire", "Músculo
# papilar", "Papillarmuskel", "Trabeculae carneae", "Trabekel"), which CAMUS counts as the cavity
PAPILLARY_WORDS = ("papil", "trabec", "trabek")  # word beginnings
# fat ("Epicardial fat", "Graisse péricardique", "Grasa epicárdica", "Tessuto adiposo",
# "Epikardiales Fettgewebe"): never one of our classes, whatever other word its name holds
FAT_WORDS = ("fat", "graisse", "grasa", "grasso", "grassa", "gordura", "adeps")  # whole words
FAT_BEGINNINGS = ("adip", "fett")
# a cavity's words besides "Cavity", "Cavité", "Cavidad" (beginnings ``cavit``, ``cavid``): German
# "LV-Kavum", "Linksventrikuläres Cavum", "Linksventrikuläre Höhle" (whole words; "Hoehle" as the
# umlaut is written without it). Not "Lumen", which as often names a vessel's ("Aortic lumen")
CAVITY_WORDS = ("kavum", "cavum", "hohle", "hoehle")
# (class, words that name it): the first class one of whose words a segment's name holds wins
CLASS_WORDS: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    # class, whole words, word beginnings
    (LEFT_ATRIUM, LEFT_ATRIUM_ABBREVIATIONS, ATRIUM_WORDS),
    (MYOCARDIUM, WALL_WORDS + VENTRICULAR_SEPTUM_COMPOUNDS, WALL_BEGINNINGS + SEPTUM_WORDS),
    # the LV outflow tract ("LVOT", "Left ventricular outflow tract") is the outflow part of the
    # LV cavity, which a 4- or 2-chamber view rarely shows and CAMUS's cavity would hold
    (LV_CAVITY, LV_ABBREVIATIONS + ("lvot", "pool") + CAVITY_WORDS, ("cavit", "cavid", "endo") + VENTRICLE_WORDS + PAPILLARY_WORDS),
    (BACKGROUND, ("background",), ()),
)
# the right heart by name: a whole word of RIGHT_HEART, or RIGHT_SIDE with a word beginning one
# of RIGHT_HEART_CHAMBERS; a name that holds one of these and a word of LEFT_HEART is neither side's
# (the side's word in the same languages: a chamber's word alone is of the left heart, so
# "Ventricule droit" must not read as the LV cavity)
RIGHT_HEART = (
    "rv", "ra", "rvot",  # English, German: "RV", "RA", "RVOT"
    "vd", "od",  # French: "VD", "OD" (ventricule droit, oreillette droite); Spanish, Italian,
                 # Portuguese "VD" too (ventrículo derecho, ventricolo destro, ventrículo direito)
    "ad",  # Spanish, Italian, Portuguese: "AD" (aurícula derecha, atrio destro, átrio direito)
)
RIGHT_SIDE = ("right", "droit", "droite", "derecho", "derecha", "destro", "destra", "direito", "direita",
              "rechter", "rechte", "rechten", "rechtes", "rechts", "dexter", "dextra", "dextrum")
RIGHT_HEART_CHAMBERS = VENTRICLE_WORDS + ATRIUM_WORDS + ("heart",)
LEFT_HEART = LV_ABBREVIATIONS + LEFT_ATRIUM_ABBREVIATIONS + ("left", "gauche", "izquierdo", "izquierda", "sinistro", "sinistra", "esquerdo",
              "esquerda", "linker", "linke", "linken", "linkes", "links", "sinister", "sinistrum")  # whole words
LEFT_HEART_BEGINNINGS = SEPTUM_WORDS  # the septum is the LV's wall in CAMUS
# structures of the heart and around it that CAMUS does not label, by the beginnings of their
# words in the same languages: the aorta, the pericardium, the coronary, pulmonary and other
# vessels, the valves, the lungs, the oesophagus and the trachea (:func:`names_unlabelled_structure`)
UNLABELLED_STRUCTURE_WORDS = (
    "aort", "pericard", "perikard", "herzbeutel", "coronar", "koronar", "pulmon", "polmon", "lung", "poumon",
    "vena", "vein", "veine", "vene", "cava", "arter", "valv", "klappe", "mitral", "tricusp", "trikusp",
    "esophag", "oesophag", "osophag", "trache", "pleur")
RIGHT_HEART_READING = "read as background (the right heart, as CAMUS labels it)"
SEGMENT_KEY = re.compile(r"^Segment(\d+)_(Name|LabelValue|Layer|Tags|Color)$")


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
filled outline (:func:`is_filled_outline`)."""

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
(:func:`unplaced_segment`). They never decide a class: a segment whose name says one of ours
is read by its name, as under any code the table of ours does not know."""


@dataclass(frozen=True)
class Segment:
    name: str
    value: int
    layer: int
    tags: str = ""  # Slicer's "key:value|..." tags, its standard terminology among them
    color: str = ""  # Slicer's "r g b", each 0-1


def name_words(name: str) -> list[str]:
    """A structure's name as the words it is matched by: its letters in lower case without
    accents (Unicode NFKD with the combining marks dropped, then casefolded), so "Ventrículo
    derecho" reads as "ventriculo derecho" and "MIOCÁRDIO" as "miocardio"; digits, spaces and
    punctuation part words ("LV_cavity2": "lv", "cavity"). A German adjective of a side and a
    chamber is two words ("Linksatriale Wand": "links", "atriale", "wand": :func:`side_and_chamber`);
    an article that is no abbreviation there ("la" after "de": :data:`ARTICLE_AFTER`) is dropped."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = [part for word in re.findall(r"[^\W\d_]+", bare) for part in side_and_chamber(word)]
    return [w for i, w in enumerate(words) if not (i and words[i - 1] in ARTICLE_AFTER.get(w, ()))]


def side_and_chamber(word: str) -> list[str]:
    """A German compound of a side's word and a chamber's ("linksatriale", "rechtsventrikulares",
    "linksventrikel") as those two words ("links", "atriale"); any other word as itself."""
    for side in SIDE_PREFIXES:
        if word.startswith(side) and word[len(side):].startswith(ATRIUM_WORDS + VENTRICLE_WORDS):
            return [side, word[len(side):]]
    return [word]


def class_of_segment(name: str) -> int | None:
    """The label id a segment's name stands for, or None when it names none of them. A name
    of the right heart is background (:func:`names_right_heart`); any other name with a word of
    the right side ("Right myocardium", "LV and RV") is none of them, nor is one with an
    abbreviation that is a common word in another language ("Pared de la AI":
    :data:`AMBIGUOUS_ABBREVIATIONS`). Names are compared without case or accents (:func:`name_words`)."""
    if names_right_heart(name):
        return BACKGROUND
    words = name_words(name)
    if (any(w in RIGHT_HEART + RIGHT_SIDE + AMBIGUOUS_ABBREVIATIONS for w in words) or names_fat(name)
            or names_atrial_septum(name) or names_atrial_wall(name)):
        return None
    words = [w for w in words if not w.startswith(ATRIOVENTRICULAR)]  # no chamber's word
    words = ["wand" if is_wall_compound(w, VENTRICLE_WORDS) else w for w in words]  # "Kammerwand": the wall
    if names_region_only(words):
        return None
    return class_of_words(words)


def class_of_words(words: list[str]) -> int | None:
    """The class the first of :data:`CLASS_WORDS` one of ``words`` names stands for, or None."""
    for label_id, whole, beginnings in CLASS_WORDS:
        if any(w in whole or w.startswith(beginnings) for w in words):
            return label_id
    return None


def is_wall_compound(word: str, chambers: tuple[str, ...]) -> bool:
    """Whether ``word`` is a German compound of a chamber's word (one of ``chambers``) and a
    wall's ("Vorhofwand", "Vorhofmyokard", "Kammerwand", "Ventrikelmyokard"): the chamber's
    own wall."""
    return word.startswith(chambers) and word.endswith(WALL_ENDINGS) and not word.startswith(WALL_ENDINGS)


CHAMBER_WHOLE_WORDS = LV_ABBREVIATIONS + LEFT_ATRIUM_ABBREVIATIONS  # say where but not which tissue


def names_region_only(words: list[str]) -> bool:
    """Whether a name's ``words`` say a region ("LV apex", "Left ventricular apex", "Herzspitze")
    and no tissue beside a chamber's word: no word of our classes but the chambers' (a wall's,
    the cavity's, the blood pool's) and no thrombus. "LV apical myocardium" and "LV apical
    thrombus" say their tissue and are not a region only."""
    if not any(w.startswith(REGION_BEGINNINGS) for w in words):
        return False
    tissue = [w for w in words if not (w.startswith(REGION_BEGINNINGS) or w in CHAMBER_WHOLE_WORDS
                                       or w.startswith(ATRIUM_WORDS + VENTRICLE_WORDS))]
    return class_of_words(tissue) is None and not any(w.startswith(THROMBUS_BEGINNINGS) for w in words)


def names_right_heart(name: str) -> bool:
    """Whether a segment's (or a label's) name plainly says the right heart: "Right ventricle",
    "Right atrium", "RV", "RA", "RV wall", "Right heart", and no word of the left heart with
    it. The one rule by which both 3D Slicer segments and ITK-SNAP labels are read as the right
    heart."""
    words = name_words(name)
    right = any(w in RIGHT_HEART for w in words) or (
        any(w in RIGHT_SIDE for w in words)
        and any(w.startswith(RIGHT_HEART_CHAMBERS) and not w.startswith(ATRIOVENTRICULAR) for w in words))
    left = any(w in LEFT_HEART or w.startswith(LEFT_HEART_BEGINNINGS) for w in words)
    return right and not left


def names_unlabelled_structure(name: str) -> bool:
    """Whether a name (one that names none of our classes) plainly says a structure CAMUS does
    not label: "Aorta", "Pericardium", "Right coronary artery", "Válvula mitral", "Epicardial fat",
    "Interatrial septum". Such a structure is to be removed from the segmentation, not renamed; a
    name that says nothing we know ("Segment_7", "Label 4") may be one of ours under another name."""
    return (any(w.startswith(UNLABELLED_STRUCTURE_WORDS) for w in name_words(name))
            or names_fat(name) or names_atrial_septum(name) or names_atrial_wall(name))


def names_fat(name: str) -> bool:
    """Whether a name says fat ("Epicardial fat", "Pericardial fat", "Epicardial adipose tissue",
    "Graisse épicardique", "Epikardiales Fettgewebe"): a tissue CAMUS does not label, whatever
    structure the rest of its name says it lies on (the epicardium, the LV)."""
    return any(w in FAT_WORDS or w.startswith(FAT_BEGINNINGS) for w in name_words(name))


def names_atrial_septum(name: str) -> bool:
    """Whether a name says the septum between the atria ("Interatrial septum", "Atrial septum",
    "Septum interauriculaire", "Vorhofseptum"): not the LV's wall, and no part of the left
    atrium as CAMUS labels it (the atrium's cavity)."""
    words = name_words(name)
    if any(w in ATRIAL_SEPTUM_COMPOUNDS for w in words):
        return True
    return any(w.startswith(SEPTUM_WORDS) for w in words) and any(w.startswith(ATRIAL_SIDE) for w in words)


def names_atrial_wall(name: str) -> bool:
    """Whether a name says the left atrium's own wall ("Left atrial wall", "LA myocardium",
    "LA epicardium", "LA scar", "Paroi de l'oreillette gauche", "Linke Vorhofwand"): a band
    around the cavity CAMUS labels as the left atrium, and not the LV's wall either."""
    words = name_words(name)
    if any(is_wall_compound(w, ATRIUM_WORDS) for w in words):  # "Linke Vorhofwand", "Vorhofmyokard"
        return True
    atrium = any(w in LEFT_ATRIUM_ABBREVIATIONS or (w.startswith(ATRIUM_WORDS) and not w.startswith(ATRIOVENTRICULAR)) for w in words)
    return atrium and any(w in WALL_WORDS or w.startswith(WALL_BEGINNINGS) for w in words)


UNLABELLED_STRUCTURE = "a structure CAMUS does not label"


def our_classes_in_words() -> str:
    """"LV cavity, myocardium and left atrium": our classes as a sentence lists them."""
    names = [in_sentence(lab.name) for lab in LABELS[1:]]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def right_heart_line(noun: str, called: list[str]) -> str:
    """The note for structures read as the right heart: "segments 'Right ventricle', 'RA' read
    as background (the right heart, as CAMUS labels it)", ``noun`` ("segment", "label") made
    plural for several of ``called``."""
    return f"{noun}{'s' if len(called) > 1 else ''} {', '.join(called)} {RIGHT_HEART_READING}"


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


def segments_of(metadata: dict[str, str], where: str, layered: bool = False) -> list[Segment]:
    """The segments a Slicer header records (empty for a file without them). A segment without
    its ``LabelValue`` or ``Layer`` (files from before Slicer 4.11, one segment per layer) is
    read as Slicer reads it: in a ``layered`` file, layer = its index and value 1; in a file of
    one layer, layer 0 and value = its index + 1."""
    fields: dict[int, dict[str, str]] = {}
    for key, value in metadata.items():
        match = SEGMENT_KEY.match(key)
        if match:
            fields.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
    segments = []
    for index in sorted(fields):
        record = fields[index]
        name = record.get("Name", f"Segment{index}")
        try:
            value = int(record.get("LabelValue", 1 if layered else index + 1))
            layer = int(record.get("Layer", index if layered else 0))
        except ValueError:
            raise MaskError(f"{where}: segment {name!r} has a damaged label value or layer "
                            f"({record.get('LabelValue')!r}, {record.get('Layer')!r})") from None
        segments.append(Segment(name, value, layer, record.get("Tags", ""), record.get("Color", "")))
    return segments


def reference_extent(metadata: dict[str, str]) -> tuple[int, ...] | None:
    """The reference image's voxel extent (i0, i1, j0, j1, k0, k1) a segmentation records in
    its conversion parameters ("Reference image geometry": a 4 x 4 matrix, then the extent),
    or None."""
    for parameter in metadata.get("Segmentation_ConversionParameters", "").split("&"):
        name, _, rest = parameter.partition("|")
        if name.strip() == "Reference image geometry":
            numbers = rest.partition("|")[0].strip().strip(";").split(";")
            try:
                extent = tuple(int(float(n)) for n in numbers[16:22])
            except ValueError:
                return None
            return extent if len(extent) == 6 and all(extent[2 * a + 1] >= extent[2 * a] for a in range(3)) else None
    return None


def reference_block(metadata: dict[str, str], where: str) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
    """Where a segmentation Slicer saved cropped to its segments lies in its reference image:
    (the saved block's first voxel in the reference's frame, the reference's size), both
    (x, y, z), from Segmentation_ReferenceImageExtentOffset and the extent its conversion
    parameters record; None when the header records no such pair. A damaged offset is one line."""
    offset_text = metadata.get("Segmentation_ReferenceImageExtentOffset", "").split()
    extent = reference_extent(metadata)
    if extent is None or len(offset_text) != 3:
        return None
    try:
        offset = tuple(int(v) for v in offset_text)
    except ValueError:
        raise MaskError(f"{where}: its reference image offset is damaged ({offset_text!r})") from None
    i0, i1, j0, j1, k0, k1 = extent
    return (offset[0] - i0, offset[1] - j0, offset[2] - k0), (i1 - i0 + 1, j1 - j0 + 1, k1 - k0 + 1)


def segment_layers(volume: np.ndarray, layered: bool, metadata: dict[str, str], where: str,
                   every_slice: bool = False) -> np.ndarray:
    """A segmentation's values as (layers, rows, columns) on its reference image's grid
    (with ``every_slice``, (layers, slices, rows, columns): each slice of the reference).

    ``volume`` is what SimpleITK reads, (slices, rows, columns[, layers]). Slicer may save a
    segmentation cropped to its segments' extent: the Segmentation_ReferenceImageExtentOffset
    then says where the saved block starts in the reference image, whose extent the
    conversion parameters record, and the block is put back in place so the mask has the
    image's size. Of a reference with several slices (a loop loaded as a volume), the one slice
    that holds segments is taken."""
    layers = np.moveaxis(volume, -1, 0) if layered else volume[None]
    while layers.ndim < 4:
        layers = layers[:, None]
    block = reference_block(metadata, where)
    if block is not None:
        (x, y, z), (full_width, full_height, full_depth) = block
        full = np.zeros((layers.shape[0], full_depth, full_height, full_width), layers.dtype)
        _, depth, height, width = layers.shape
        if min(z, y, x) < 0 or z + depth > full.shape[1] or y + height > full.shape[2] or x + width > full.shape[3]:
            raise MaskError(f"{where}: its segments lie outside the reference image it records "
                            f"(offset {metadata['Segmentation_ReferenceImageExtentOffset'].strip()}, "
                            f"extent {' '.join(map(str, reference_extent(metadata)))})")
        full[:, z:z + depth, y:y + height, x:x + width] = layers
        layers = full
    if every_slice:
        return layers
    if layers.shape[1] > 1:
        painted = [k for k in range(layers.shape[1]) if layers[:, k].any()]
        if len(painted) > 1:
            raise MaskError(f"{where}: segments on {len(painted)} slices (of {layers.shape[1]}); a mask "
                            "is one 2-D frame: keep the segments of one frame")
        slice_index = painted[0] if painted else 0
        layers = layers[:, slice_index:slice_index + 1]
    return layers[:, 0]


def labels_from_segments(array: np.ndarray, segments: list[Segment], where: str,
                         told: list[Told] | None = None) -> np.ndarray:
    """A (H, W) label map from a segmentation's values: ``array`` is (H, W) for one layer or
    (L, H, W) for several; every segment's pixels get the class it stands for (:func:`class_of`),
    but a segment read as background (the right heart, or one named "Background") claims none:
    what our classes' segments hold stays theirs, wherever it lies and whichever came first. How a segment was
    read that its name does not say (its terminology decided, it was taken as a filled outline
    by what it holds, it is the right heart) is appended to ``told`` (:func:`reading_note`), when
    it changed a pixel: a right heart segment lying wholly under our classes' segments made no
    pixel background, and is not told."""
    layers = array[None] if array.ndim == 2 else array
    if layers.ndim != 3:
        raise MaskError(f"{where}: expected a single 2-D frame of segments, got shape {array.shape}")
    for segment in segments:
        if not 0 <= segment.layer < layers.shape[0]:
            raise MaskError(f"{where}: segment {segment.name!r} lies in layer {segment.layer}, "
                            f"but the file holds {layers.shape[0]}")
    for layer_index, layer in enumerate(layers):
        known = {0} | {s.value for s in segments if s.layer == layer_index}
        stray = sorted(set(np.unique(layer).tolist()) - known)
        if stray:
            raise MaskError(f"{where}: values {stray[:5]} in layer {layer_index} belong to no segment "
                            "in its header; the file is damaged or not a Slicer segmentation")
    classes = [class_of(segment, where) for segment in segments]
    masks = [layers[segment.layer] == segment.value for segment in segments]
    cavity = np.zeros(layers.shape[1:], bool)
    for label_id, pixels in zip(classes, masks):
        if label_id == LV_CAVITY:
            cavity |= pixels
    labels = np.zeros(layers.shape[1:], np.uint8)
    claimed = np.full(layers.shape[1:], -1, np.int16)
    under_cavity = np.zeros(layers.shape[1:], bool)  # filled outline pixels a cavity may take
    read_as_background = []  # (how, its pixels): told once every class has taken its own
    for segment, label_id, pixels in zip(segments, classes, masks):
        if label_id == BACKGROUND:  # never overwrites one of ours, never clashes with one
            reading = how_read(segment, label_id, False)
            if reading is not None:
                read_as_background.append((reading, pixels))
            continue
        outline = label_id == MYOCARDIUM and is_filled_outline(segment, pixels, cavity)
        clash = pixels & (claimed >= 0) & (claimed != label_id)
        if label_id == LV_CAVITY:
            clash &= ~under_cavity
        elif outline:
            pixels = pixels & (claimed != LV_CAVITY)
            clash &= claimed != LV_CAVITY
        if clash.any():
            other = LABELS[int(claimed[clash][0])].name
            raise MaskError(f"{where}: segment {segment.name!r} overlaps a segment of {other} in "
                            f"{int(clash.sum())} pixels; a label map gives each pixel one class")
        if outline:
            under_cavity |= pixels
        labels[pixels] = label_id
        claimed[pixels] = label_id
        reading = how_read(segment, label_id, outline and not is_named_outline(segment.name))
        if reading is not None and told is not None and pixels.any():  # an empty segment changes nothing
            told.append(reading)
    if told is not None:  # a right heart wholly under our classes left nothing background: not told
        told.extend(reading for reading, pixels in read_as_background if (pixels & (claimed < 0)).any())
    return labels


def class_of(segment: Segment, where: str) -> int:
    """The class a segment stands for, by its standard terminology (:func:`coded_structure`)
    and its name (:func:`class_of_segment`). The name decides when the terminology codes none of
    our structures (Slicer gives new segments a generic "Tissue"); the terminology decides a
    segment whose name is not one we recognise ("Segment_1", a name in another language).
    When both say a class and they differ, the terminology wins: it is the standard, picked
    from a list, while a name is free text. One exception: a name saying the myocardium under
    the code of the left ventricle is the myocardium, as that code is the whole ventricle, wall
    included (how "LV epicardium" or "LV wall" may well be coded). The right heart, by its code
    or its name, is background (as CAMUS labels it), but a segment coded as the right heart
    and named as one of our classes is refused in one line: reading it as background would
    drop a structure its name says we hold. A segment that neither its code nor its name
    places is refused in one line."""
    coded = coded_structure(segment.tags)
    named = class_of_segment(segment.name)
    if coded is None:
        if named is None:
            raise unplaced_segment(segment, where)
        return named
    label_id, code = coded
    if label_id == BACKGROUND and named not in (None, BACKGROUND):
        raise MaskError(f"{where}: segment {segment.name!r} is coded as {code.meaning} "
                        f"({code.scheme} {code.value}), the right heart, but named as "
                        f"{in_sentence(LABELS[named].name)}; correct its terminology or its name in Slicer")
    if label_id == LV_CAVITY and named == MYOCARDIUM:
        return MYOCARDIUM
    return label_id


def unplaced_segment(segment: Segment, where: str) -> MaskError:
    """The one-line refusal of a segment that neither its name nor its terminology places in
    one of our classes. A structure CAMUS does not label, by its terminology
    (:data:`UNLABELLED_STRUCTURE_CODES`) or its name (:func:`names_unlabelled_structure`: "Aorta",
    "Right coronary artery"), is to be removed (or left out of what is exported from Slicer);
    a region named with no tissue ("LV apex": :func:`names_region_only`) holds the cavity, the
    wall or both, and is to be renamed as what it holds; any other name ("Segment_7") may be one
    of ours that Slicer's user named otherwise, and is to be renamed."""
    names = ", ".join(lab.name for lab in LABELS[1:])
    code = coded_unlabelled_structure(segment.tags)
    if code is None and names_region_only(name_words(segment.name)):
        return MaskError(f"{where}: segment {segment.name!r} is a region of the heart, not a tissue: none of "
                         f"{names}; rename it in Slicer as what it holds (e.g. 'LV cavity') or remove it")
    if code is None and not names_unlabelled_structure(segment.name):
        return MaskError(f"{where}: segment {segment.name!r} is none of {names}; rename it "
                         "in Slicer (e.g. 'LV cavity') or remove it")
    coded = f" (coded {code.meaning})" if code is not None and code.meaning.casefold() != segment.name.casefold() else ""
    return MaskError(f"{where}: segment {segment.name!r}{coded} is {UNLABELLED_STRUCTURE}; remove it in Slicer's "
                     f"Segment Editor, or export only the {our_classes_in_words()} segments")


def is_named_outline(name: str) -> bool:
    """Whether a segment's name says it is the epicardium: the area inside the heart's outer
    outline, cavity included, as contour-drawn segmentations keep it ("LV epicardium", "Epi");
    a name of a tissue on it ("Epicardial fat") is not."""
    if class_of_segment(name) != MYOCARDIUM:
        return False
    return any(w == "epi" or w.startswith(("epicard", "epikard")) for w in name_words(name))


def is_filled_outline(segment: Segment, pixels: np.ndarray, cavity: np.ndarray) -> bool:
    """Whether a myocardium segment (its ``pixels``) is the filled area inside the heart's outer
    outline, which holds the LV cavity (``cavity``: the pixels of the cavity's segments) too:
    its name says so ("LV epicardium"), or, when neither its name nor its code says it is the
    wall itself or a band of it (its class came from a code other than the septum's), it holds
    every pixel of a cavity there is. A wall
    drawn over part of the cavity holds it only in part, and is an overlap."""
    if is_named_outline(segment.name):
        return True
    if class_of_segment(segment.name) == MYOCARDIUM:
        return False  # "Myocardium", "LV wall": the band itself, never the area inside it
    coded = coded_structure(segment.tags)
    if coded is not None and coded[1] in (INTERVENTRICULAR_SEPTUM, OLD_INTERVENTRICULAR_SEPTUM):
        return False  # coded as the septum: a band of the wall, as one named so is
    return bool(cavity.any()) and not (cavity & ~pixels).any()


@dataclass(frozen=True)
class Told:
    """How a segment was read that its name does not say: the class its terminology ``code``
    gave it, ``over_name`` when its name says another class, ``outline`` when it was taken as
    a filled outline (the cavity inside it kept as the cavity) by holding the whole cavity.
    A segment of the right heart is told with ``label_id`` background, and ``code`` the right
    heart's code when that, not its name, said so (else None)."""
    name: str
    label_id: int
    code: Code | None
    over_name: bool
    outline: bool


def how_read(segment: Segment, label_id: int, outline: bool) -> Told | None:
    """How ``segment``, read as ``label_id``, was read that its name does not say, or None:
    its name alone decided, or its name and its terminology agree. A segment of the right heart
    read as background is always told: its pixels are not what its name or code says."""
    coded = coded_structure(segment.tags)
    named = class_of_segment(segment.name)
    if label_id == BACKGROUND:
        if names_right_heart(segment.name):
            return Told(segment.name, label_id, None, False, False)
        if coded is not None and coded[0] == BACKGROUND:
            return Told(segment.name, label_id, coded[1], False, False)
        return None  # a segment named "Background"
    if coded is None or named == label_id:
        return None
    return Told(segment.name, label_id, coded[1], named is not None, outline)


def reading_note(told: list[Told]) -> str | None:
    """One line saying how the segments in ``told`` were read ("segment 'Segment_1' read as
    LV cavity by its terminology (Left ventricle)"; "segments 'Right ventricle', 'Segment_4'
    (coded Right atrium) read as background (the right heart, as CAMUS labels it)"; both,
    ``;`` between), each segment once, or None when none."""
    once: dict[tuple, Told] = {}  # a loop's segments are read frame by frame
    for reading in told:
        key = (reading.name, reading.label_id, reading.code, reading.over_name)
        once[key] = reading if key not in once or reading.outline else once[key]
    coded = [r for r in once.values() if r.label_id != BACKGROUND]
    right_heart = [r for r in once.values() if r.label_id == BACKGROUND]
    parts = []
    if len(coded) == 1:
        parts.append(f"segment {reading_in_words(coded[0], 'read as', ' by its terminology')}")
    elif coded:
        parts.append(f"segments read by their terminology: {', '.join(reading_in_words(r, 'as') for r in coded)}")
    if right_heart:
        parts.append(right_heart_line("segment", [f"{r.name!r}" + (f" (coded {r.code.meaning})" if r.code else "")
                                                  for r in right_heart]))
    return "; ".join(parts) or None


def reading_in_words(reading: Told, verb: str, by: str = "") -> str:
    """"'Segment_1' <verb> LV cavity<by> (Left ventricle[, not as its name says][, ...])"."""
    why = [reading.code.meaning] + (["not as its name says"] if reading.over_name else []) \
        + (["a filled outline: the cavity inside it kept"] if reading.outline else [])
    return f"{reading.name!r} {verb} {in_sentence(LABELS[reading.label_id].name)}{by} ({', '.join(why)})"


SEGMENTATION_SUFFIX = ".seg.nrrd"


def terminology_entry(label_id: int) -> str:
    """A class's standard terminology as Slicer serializes it in a segment's ``TerminologyEntry``
    tag: the context, then category, type and type modifier, then the anatomic context, region
    and region modifier, ``~`` between them, each code ``scheme^value^meaning`` (empty: ``^^``)."""
    code = next(code for class_id, code in STRUCTURE_CODES if class_id == label_id)
    return "~".join((TERMINOLOGY_CONTEXT, str(ANATOMICAL_STRUCTURE), str(code), "^^",
                     ANATOMIC_CONTEXT, "^^", "^^"))


@dataclass(frozen=True)
class KeptSegment:
    """How a user's segment of one of our classes was named, coloured and tagged in the Slicer
    segmentation a mask was read from, to be written back so: its ``name``, its ``color``
    (r, g, b, each 0-1; None when its header's was missing or damaged) and its ``tags`` (its
    standard terminology among them, as the header holds them)."""
    name: str
    color: tuple[float, float, float] | None
    tags: str


def segment_color(text: str) -> tuple[float, float, float] | None:
    """A segment's ``Color`` ("0.9 0.1 0.1") as (r, g, b), or None unless it is three numbers 0-1."""
    try:
        rgb = tuple(float(v) for v in text.split())
    except ValueError:
        return None
    return rgb if len(rgb) == 3 and all(0.0 <= c <= 1.0 for c in rgb) else None  # type: ignore[return-value]


def kept_segments(segments: list[Segment], where: str) -> dict[int, KeptSegment]:
    """Of a segmentation's ``segments``, the one kept for each of our classes (LV cavity,
    myocardium, left atrium) it holds, by class id: the first segment in the header's order
    (Slicer's segment list) read as that class (:func:`class_of`) wins, so of "LV cavity" then
    "Papillary muscle", merged as the cavity, "LV cavity" is kept. A segment read as background
    (the right heart, "Background") or refused is never kept, so a kept segment's tags never
    code the right heart or a structure CAMUS does not label."""
    kept: dict[int, KeptSegment] = {}
    for segment in segments:
        try:
            label_id = class_of(segment, where)
        except MaskError:
            continue
        if label_id in (LV_CAVITY, MYOCARDIUM, LEFT_ATRIUM) and label_id not in kept:
            kept[label_id] = KeptSegment(segment.name, segment_color(segment.color), segment.tags)
    return kept


SEGMENTATION_HEADER_SUFFIXES = (".nrrd", ".nhdr")  # the files whose headers may name Slicer's segments


def read_kept_segments(path, header=None) -> dict[int, KeptSegment]:
    """:func:`kept_segments` of the Slicer segmentation at ``path`` (its header only is read, or
    ``header``, an :class:`engine.maskio.VolumeHeader` read with its labels, taken), for the
    mask read from it to be written back with the user's names, colours and tags; empty for
    any other file, or one whose header cannot be read."""
    from .maskio import read_volume_header

    if not str(path).lower().endswith(SEGMENTATION_HEADER_SUFFIXES):
        return {}
    header = read_volume_header(path) if header is None else header
    if header is None:
        return {}
    try:
        return kept_segments(segments_of(header.metadata, str(path), header.components > 1), str(path))
    except MaskError:
        return {}


def has_terminology(tags: str) -> bool:
    """Whether Slicer's tags text holds a ``TerminologyEntry`` tag."""
    return any(tag.partition(":")[0].strip() == "TerminologyEntry" for tag in tags.split("|"))


def segment_fields(label_id: int, kept: KeptSegment | None) -> dict[str, str]:
    """The name, colour and tags written for class ``label_id``'s segment: the ``kept`` user's
    segment's (its tags given our terminology when they hold none), else ours."""
    label = LABELS[label_id]
    ours = f"TerminologyEntry:{terminology_entry(label_id)}|"
    name = kept.name if kept is not None else label.name
    color = kept.color if kept is not None and kept.color is not None else tuple(c / 255 for c in label.color)
    if kept is not None and has_terminology(kept.tags):
        tags = kept.tags
    else:
        others = kept.tags.strip().strip("|") if kept is not None else ""
        tags = f"{others}|{ours}" if others else ours
    return {"Name": name, "Color": " ".join(f"{c:.4f}" for c in color), "Tags": tags}


def write_segmentation(path, labels: np.ndarray, geometry=None,
                       kept: dict[int, KeptSegment] | None = None) -> None:
    """A label map as a Slicer segmentation: one layer whose values are our ids, a segment per
    class (background aside) with its name, colour, extent and standard terminology
    (:data:`STRUCTURE_CODES`), gzip-compressed, written
    atomically. Slicer's Segment Editor opens it with the classes named and coloured as in the
    studio; :func:`engine.maskio.read_label_map` reads it back unchanged. With the
    :class:`engine.maskio.Geometry` of the volume the labels were read from (when it fits), it
    lies where that volume's slice lies, over the image it was drawn on. With the ``kept``
    segments of the segmentation they were read from (:func:`read_kept_segments`), each class
    that had one is written with its user's name, colour and tags (:func:`segment_fields`)."""
    from pathlib import Path

    import SimpleITK as sitk

    from .labels import validate_label_map
    from .maskio import pixel_spacing_mm, write_itk_image

    path = Path(path)
    labels = validate_label_map(np.asarray(labels), str(path))
    if labels.ndim != 2:
        raise MaskError(f"{path}: can only write a single 2-D label map, got {labels.shape}")
    image = sitk.GetImageFromArray(labels[None])  # one slice: Slicer's 2-D segmentations are 3-D
    spacing = pixel_spacing_mm(labels.shape[1])
    image.SetSpacing((spacing, spacing, 1.0))
    if geometry is not None and geometry.fits(labels):
        geometry.apply(image)
    for index, label in enumerate(LABELS[1:]):
        rows, columns = np.nonzero(labels == label.id)
        extent = (f"{columns.min()} {columns.max()} {rows.min()} {rows.max()} 0 0" if rows.size
                  else "0 -1 0 -1 0 -1")
        written = segment_fields(label.id, (kept or {}).get(label.id))
        fields = {"ID": f"Segment_{label.id}", "Name": written["Name"], "NameAutoGenerated": "0",
                  "Color": written["Color"], "ColorAutoGenerated": "0",
                  "LabelValue": str(label.id), "Layer": "0", "Extent": extent, "Tags": written["Tags"]}
        for key, value in fields.items():
            image.SetMetaData(f"Segment{index}_{key}", value)
    image.SetMetaData("Segmentation_MasterRepresentation", "Binary labelmap")
    image.SetMetaData("Segmentation_ContainedRepresentationNames", "Binary labelmap|")
    write_itk_image(path, image, ".nrrd", compress=True)
