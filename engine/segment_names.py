"""Segment and label names read as cardiGAN classes.

A structure's name is read by its words (compared without case or accents, so "Ventrículo
derecho" reads as "ventriculo derecho", and a German or Dutch word of a side and a chamber in
one word as two, so "Linksatriale Wand" reads as "links atriale wand" and "Linkerventrikel" as
"linker ventrikel", and "la" after "de" dropped as the French and Spanish article it is there:
:func:`name_words`), in English, French, Spanish, Italian, Portuguese, German, Dutch and Latin,
and stands for the class its words say
(:func:`class_of_segment`). 3D Slicer's segments (:mod:`engine.slicer_segments`) and ITK-SNAP's
labels (:mod:`engine.itksnap_workspace`) are both read by these rules:

- a name with a word for an atrium (``atri``…, ``auric``…, ``oreillette``…, ``vorhof``…,
  ``herzvorhof``…, ``herzohr``…, ``boezem``…, ``hartboezem``…) or its abbreviation (``la``; French ``og``, Portuguese ``ae``:
  :data:`LEFT_ATRIUM_ABBREVIATIONS`): left atrium (3); ``atrioventricular``…,
  ``auriculoventricular``… name what lies between the chambers ("Left atrioventricular valve",
  the mitral valve) and are no atrium's word;
  an atrium's word with a wall's (below: "Left atrial wall", "LA myocardium", "LA scar"), or a
  German or Dutch compound of the two ("Linke Vorhofwand", "Vorhofmyokard", "Boezemwand"), says the atrium's own wall,
  which CAMUS does not label (:func:`names_atrial_wall`): its left atrium is the cavity;
- ``myo``…, ``miocard``…, ``epicard``…, ``epikard``…, ``herzmusk``…, ``hartspier``…, ``epi``, a
  word for a wall (``wall``, ``paroi``, ``pared``, ``parete``, ``parede``, ``wand``, ``hartwand``,
  ``paries``; a ventricle's word compounded with one: "Kammerwand", "Ventrikelmyokard", Dutch
  "Kamerwand"), for a scar or an infarct (``scar``…,
  ``cicatri``…, ``narbe``…, ``infarct``…: fibrous myocardium, within the wall's borders) or for
  the septum (``sept``…, ``setto``…, ``tabique``…, ``tussenschot``…, ``kammerscheidewand``): myocardium (2), looked
  at before the LV words, so "LV epicardium" (CAMUS's name for the myocardium's band), "LV wall",
  "LV scar" and "Interventricular septum" are myocardium (but the wall of a structure CAMUS does
  not label, "Aortic wall", is that structure's: below). CAMUS's myocardium holds the septum, so a
  septum segment is a part of the wall: beside a "Myocardium" segment, or overlapping it, both are
  myocardium and merge; it is a band, never a filled outline, so one drawn over the cavity's
  segment is an overlap like any other wall's. The septum between the atria ("Interatrial
  septum", "Vorhofseptum", "Boezemtussenschot") is neither the LV's wall nor the atrium's cavity: a structure CAMUS
  does not label (below);
- ``lv`` (French ``vg``, Spanish ``vi``, Portuguese ``ve``: :data:`LV_ABBREVIATIONS`), ``lvot``
  (the outflow part of the cavity), ``pool``, ``cavit``…, ``cavid``…, ``kavum``, ``cavum``,
  ``höhle``, ``holte``, ``endo``…, a word for a ventricle (``ventric``…,
  ``ventrik``…, ``kammer``…, ``herzkammer``…, ``kamer``…, ``hartkamer``…) or for the LV's papillary muscles and trabeculae
  (``papil``…, ``trabec``…, ``trabek``…): LV cavity (1). CAMUS's cavity includes them (its
  endocardial border runs outside them), so a "Papillary muscle" segment is a part of the
  cavity wherever it is drawn: inside the cavity's segment it merges with it, inside a filled
  outline the cavity takes it as it takes its own pixels, and over a "Myocardium" band it is an
  overlap. A thrombus lies in the cavity: "LV thrombus" is the LV cavity, "LA thrombus" the
  left atrium, by their chambers' words ("Thrombus" alone says no chamber and is none of ours);
- a region with no tissue beside a chamber's word ("LV apex", "Herzspitze": ``apex``,
  ``apic``…, ``spitze``, ``pointe``, ``punta``, ``ponta``) is none of our classes, as it may hold
  the cavity, the wall or both: it is refused with the advice to rename it as what it holds
  ("LV apical myocardium" says it);
- ``background``, ``achtergrond``: background (0);
- the right heart: background (0), as CAMUS labels it (its apical 4-chamber views hold the right
  ventricle and atrium in the background): the word ``rv``, ``ra`` or ``rvot`` ("RV", "RV wall";
  French ``vd``, ``od``, Spanish ``ad``: :data:`RIGHT_HEART`), or
  ``right`` with a chamber's word ("Right ventricle", "Right atrial appendage", "Right heart";
  the side's word in a few other languages too: "Ventricule droit", "Atrio destro"), and no
  word of the left heart (``left``, ``lv``, ``la``, ``gauche``..., ``sept``...). Any other name with
  one of these words ("Right myocardium", "LV and RV") is none of our classes: the right heart
  is read as background only where the name says nothing else (:func:`names_right_heart`);
- a name that joins two of our classes is none of them: it holds both, and no name can split
  its pixels (:func:`classes_named`). Two structures are named where a joining word or sign
  (``and``, ``+``, ``/``, ``&``, ``or``, ``with`` and theirs in the other languages:
  :data:`JOINING_WORDS`) parts the name into pieces that, each read by the rules above, say two
  of our classes ("LA and LV", "LV + LA", "Left atrium and ventricle", "LV and myocardium",
  "Cavity and wall", "LV wall and cavity"), or where one piece names both an atrium and a
  ventricle ("LA LV"). A wall's word beside a chamber's, with no joining word between them,
  names one structure, that chamber's wall ("LV wall", "LA myocardium", "LV epicardium"), as a
  cavity's word beside a chamber's names its cavity ("LA cavity") and a cavity's beside a
  wall's the cavity's wall ("LV cavity wall"); ``atrioventricular`` is no atrium's word ("Left
  atrioventricular valve"); a joining word between two names of one class ("Myocardium and
  septum", "LV cavity and papillary muscles") or between one of ours and a structure that is
  not ("LV and RV", "LA with appendage") joins no two of ours. Such a name is refused with the
  advice to rename it as what it holds, or to split it into one segment per class.

A name that says none of our classes is either plainly a structure CAMUS does not label, to be
removed ("Aorta", "Pericardium", the atrial septum or the atrium's wall; and fat: "Epicardial
fat", "Pericardial fat" are never myocardium, whatever else their names say: :func:`names_fat`;
:func:`names_unlabelled_structure`), or one to be renamed ("Segment_7", a region with no tissue,
or one holding an abbreviation that is a common word in another language, "Pared de la AI":
:data:`AMBIGUOUS_ABBREVIATIONS`). The words the readers' notes and refusals share are here too
(:data:`UNLABELLED_STRUCTURE`, :func:`our_classes_in_words`, :func:`right_heart_line`,
:func:`classes_in_words`).
"""

from __future__ import annotations

import re
import unicodedata

from .labels import BACKGROUND, LABELS, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM, in_sentence

# a chamber's words (word beginnings) in English, French, Spanish, Italian, Portuguese, German,
# Dutch and Latin, by language
ATRIUM_WORDS = (
    "atri", "auric",  # English, Italian, Portuguese, Latin: "Atrium", "Atrio", "Átrio", "Atrial", "Auricle";
                      # French, Spanish: "Auriculaire", "Aurícula"
    "oreillette",  # French: "Oreillette gauche"
    "intraatri", "intraauric",  # English, French: "Intraatrial thrombus", "Thrombus intra-auriculaire"
    "vorhof", "herzvorhof",  # German: "Vorhof", "Linker Herzvorhof" (atrium)
    "herzohr",  # German: "Linkes Herzohr" (the atrium's appendage, as "Left atrial appendage" is the atrium)
    "orejuela",  # Spanish: "Orejuela izquierda" (the atrium's appendage)
    "boezem", "hartboezem",  # Dutch: "Linkerboezem", "Linkerhartboezem" (atrium)
)
VENTRICLE_WORDS = (
    "ventric",  # English, French, Spanish, Italian, Portuguese, Latin: "Ventricle", "Ventricule", "Ventrículo"
    "ventrik", "kammer", "herzkammer",  # German: "Ventrikel", "Linksventrikulär", "Kammer", "Herzkammer"
    "kamer", "hartkamer",  # Dutch: "Linkerkamer", "Hartkamer" ("Ventrikel", "Linkerventrikel" as German's)
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
# German adjectives and Dutch nouns of a side and a chamber in one word ("Linksatriale Wand",
# "Linksventrikuläres Myokard", "Rechtsventrikulär"; "Linkerventrikel", "Linkerboezem",
# "Rechterkamer") are read as the side's word and the chamber's: "links atriale wand", "linker ventrikel"
SIDE_PREFIXES = ("links", "rechts", "linker", "rechter")
# the septum: "Septum", "Septal wall", "Setto", "Tabique", Dutch "Tussenschot", and German and
# Dutch compounds as whole words ("Kammerscheidewand", "Kamertussenschot"; "Vorhofseptum",
# "Boezemtussenschot" are the atria's: :func:`names_atrial_septum`)
SEPTUM_WORDS = ("sept", "setto", "tabique", "tussenschot")  # word beginnings
VENTRICULAR_SEPTUM_COMPOUNDS = ("kammerscheidewand", "kammerseptum", "ventrikelseptum",
                                "kamertussenschot", "kamerseptum")
ATRIAL_SEPTUM_COMPOUNDS = ("vorhofseptum", "vorhofscheidewand", "boezemtussenschot", "boezemseptum")
ATRIAL_SIDE = ("interatri", "interauric") + ATRIUM_WORDS  # word beginnings: "Interatrial", "Atrial"
# what lies between an atrium and a ventricle ("Left atrioventricular valve", the mitral valve;
# "Válvula auriculoventricular"): neither chamber, though its word begins as an atrium's
ATRIOVENTRICULAR = ("atrioventric", "atrioventrik", "auriculoventric")  # word beginnings
# a wall's words ("LV wall", "Myocardium", "Epicardium"); with an atrium's, the atrium's own wall
# ("Left atrial wall", "LA myocardium"): neither the LV's wall nor the atrium's cavity that CAMUS
# labels (:func:`names_atrial_wall`)
WALL_WORDS = ("wall", "paroi", "pared", "parete", "parede", "wand", "hartwand", "paries", "epi")  # whole words
# a scar or an infarct ("LV scar", "Cicatrice", "Narbe", "Infarto") is myocardium turned fibrous:
# it lies within the wall's borders, which CAMUS's myocardium holds, so it is read as the wall
# (and with an atrium's word, "LA scar", as the atrium's own wall, which CAMUS does not label)
SCAR_BEGINNINGS = ("scar", "cicatri", "narbe", "infarct", "infarkt", "infart")
WALL_BEGINNINGS = ("myo", "miocard", "epicard", "epikard",
                   "herzmusk",  # German: "Herzmuskel", "Herzmuskulatur" (heart muscle, the myocardium)
                   "hartspier",  # Dutch: "Hartspier", "Hartspierweefsel" (heart muscle)
                   ) + SCAR_BEGINNINGS
# German and Dutch compounds of a chamber's word and a wall's ("Vorhofwand", "Vorhofmyokard",
# "Kammerwand", "Ventrikelmyokard"; "Boezemwand", "Kamerwand"): the chamber's own wall, not its cavity (:func:`is_wall_compound`)
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
# umlaut is written without it); Dutch "Holte" ("Linker ventrikel holte"). Not "Lumen", which as
# often names a vessel's ("Aortic lumen")
CAVITY_WORDS = ("kavum", "cavum", "hohle", "hoehle", "holte")
# (class, words that name it): the first class one of whose words a segment's name holds wins
CLASS_WORDS: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    # class, whole words, word beginnings
    (LEFT_ATRIUM, LEFT_ATRIUM_ABBREVIATIONS, ATRIUM_WORDS),
    (MYOCARDIUM, WALL_WORDS + VENTRICULAR_SEPTUM_COMPOUNDS, WALL_BEGINNINGS + SEPTUM_WORDS),
    # the LV outflow tract ("LVOT", "Left ventricular outflow tract") is the outflow part of the
    # LV cavity, which a 4- or 2-chamber view rarely shows and CAMUS's cavity would hold
    (LV_CAVITY, LV_ABBREVIATIONS + ("lvot", "pool") + CAVITY_WORDS,
     ("cavit", "cavid", "endo") + VENTRICLE_WORDS + PAPILLARY_WORDS),
    (BACKGROUND, ("background", "achtergrond"), ()),
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
              "rechter", "rechte", "rechten", "rechtes", "rechts",  # German; "rechter", "rechts" Dutch too
              "dexter", "dextra", "dextrum")
RIGHT_HEART_CHAMBERS = VENTRICLE_WORDS + ATRIUM_WORDS + ("heart",)
LEFT_HEART = LV_ABBREVIATIONS + LEFT_ATRIUM_ABBREVIATIONS + (  # whole words
    "left", "gauche", "izquierdo", "izquierda", "sinistro", "sinistra", "esquerdo", "esquerda", "linker", "linke",
    "linken", "linkes", "links",  # German; "linker", "links" Dutch too
    "sinister", "sinistrum")
LEFT_HEART_BEGINNINGS = SEPTUM_WORDS  # the septum is the LV's wall in CAMUS
# structures of the heart and around it that CAMUS does not label, by the beginnings of their
# words in the same languages: the aorta, the pericardium, the coronary, pulmonary and other
# vessels, the valves, the lungs, the oesophagus and the trachea (:func:`names_unlabelled_structure`)
UNLABELLED_STRUCTURE_WORDS = (
    "aort", "pericard", "perikard", "herzbeutel", "coronar", "koronar", "pulmon", "polmon", "lung", "poumon",
    "vena", "vein", "veine", "vene", "cava", "arter", "valv", "klappe", "mitral", "tricusp", "trikusp",
    "esophag", "oesophag", "osophag", "trache", "pleur")
RIGHT_HEART_READING = "read as background (the right heart, as CAMUS labels it)"
# words and signs that join two structures in one name ("LA and LV", "LV + LA", "LV/LA",
# "Ventricule et oreillette gauches", "Linker Ventrikel und Vorhof"): each piece between them is
# read on its own (:func:`classes_named`); they are no word of any structure
JOINING_SIGNS = ("+", "/", "&")
JOINING_WORDS = (
    "and", "or", "with", "plus",  # English
    "et", "ou", "avec",  # French ("ou", "or", Portuguese too)
    "y", "o", "con",  # Spanish ("o", "or", and "con", "with", Italian too)
    "e", "ed",  # Italian, Portuguese: "and"
    "com",  # Portuguese: "with"
    "und", "oder", "mit",  # German
    "en", "met",  # Dutch: "and", "with" (not "of", Dutch "or" but English "of")
)


def name_words(name: str) -> list[str]:
    """A structure's name as the words it is matched by: its letters in lower case without
    accents (Unicode NFKD with the combining marks dropped, then casefolded), so "Ventrículo
    derecho" reads as "ventriculo derecho" and "MIOCÁRDIO" as "miocardio"; digits, spaces and
    punctuation part words ("LV_cavity2": "lv", "cavity"). A German or Dutch word of a side and a
    chamber is two words ("Linksatriale Wand": "links", "atriale", "wand": :func:`side_and_chamber`);
    an article that is no abbreviation there ("la" after "de": :data:`ARTICLE_AFTER`; a leading
    "la" before a ventricle's word: :func:`names_ventricle_only`) is dropped."""
    return [word for piece in name_pieces(name) for word in piece]


def name_pieces(name: str) -> list[list[str]]:
    """A name's words (as :func:`name_words` reads them) in the pieces its joining words and
    signs part it into, those dropped ("LA and LV", "LV/LA": ``[["la"], ["lv"]]``;
    :data:`JOINING_WORDS`); a name with none is one piece. An article is dropped by the words of
    its own piece ("LA and left ventricle": the "la" before no ventricle's word of its piece is
    the left atrium)."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    pieces: list[list[str]] = [[]]
    for token in re.findall(r"[^\W\d_]+|[+/&]", bare):
        if token in JOINING_SIGNS or token in JOINING_WORDS:
            pieces.append([])
        else:
            pieces[-1].extend(side_and_chamber(token))
    return [without_articles(words) for words in pieces if words]


def without_articles(words: list[str]) -> list[str]:
    """``words`` without the articles that are no abbreviation there: "la" after "de"
    (:data:`ARTICLE_AFTER`), and a leading "la" before a ventricle's word
    (:func:`names_ventricle_only`: "La cavité ventriculaire gauche")."""
    if words[:1] == ["la"] and names_ventricle_only(words[1:]):
        words = words[1:]
    return [w for i, w in enumerate(words) if not (i and words[i - 1] in ARTICLE_AFTER.get(w, ()))]


def names_ventricle_only(words: list[str]) -> bool:
    """Whether ``words`` name a ventricle and no atrium: after them a leading "la" is the French
    or Spanish article ("La cavité ventriculaire gauche", "La pared del ventrículo"), not the
    left atrium, as no name of the left atrium's cavity also names a ventricle."""
    return (any(w.startswith(VENTRICLE_WORDS) for w in words)
            and not any(w.startswith(ATRIUM_WORDS + ATRIOVENTRICULAR) for w in words))


def side_and_chamber(word: str) -> list[str]:
    """A German or Dutch compound of a side's word and a chamber's ("linksatriale",
    "rechtsventrikulares", "linksventrikel"; "linkerventrikel", "rechterkamer") as those two
    words ("links", "atriale"; "linker", "ventrikel"); any other word as itself."""
    for side in SIDE_PREFIXES:
        if word.startswith(side) and word[len(side):].startswith(ATRIUM_WORDS + VENTRICLE_WORDS):
            return [side, word[len(side):]]
    return [word]


def class_of_segment(name: str) -> int | None:
    """The label id a segment's name stands for, or None when it names none of them or more
    than one ("LA and LV", "LV and myocardium": :func:`classes_named`); otherwise as
    :func:`class_of_structure` reads it."""
    if len(classes_named(name)) > 1:
        return None
    return class_of_structure(name)


def classes_named(name: str) -> list[int]:
    """Our classes (LV cavity, myocardium, left atrium; not background) a name says, each once,
    in the order it says them: each piece between its joining words and signs
    (:func:`name_pieces`) read on its own as one structure (:func:`class_of_structure`), and a
    piece read as one of ours that names both an atrium and a ventricle ("LA LV", "Left atrium
    ventricle") as both chambers. "LA and LV": left atrium, LV cavity; "LV wall": myocardium
    alone (one piece, one structure); "Myocardium and septum": myocardium alone."""
    found: list[int] = []
    for words in name_pieces(name):
        label_id = class_of_structure(" ".join(words))
        if label_id in (None, BACKGROUND):
            continue
        chambers = chambers_named(words)
        for said in chambers if len(chambers) > 1 else [label_id]:
            if said not in found:
                found.append(said)
    return found


def chambers_named(words: list[str]) -> list[int]:
    """The chambers of ours ``words`` name, each once, in order: the left atrium by an atrium's
    word or abbreviation (not ``atrioventricular``), the LV cavity by a ventricle's."""
    found: list[int] = []
    for w in words:
        if w.startswith(ATRIOVENTRICULAR):
            continue
        if w in LEFT_ATRIUM_ABBREVIATIONS or w.startswith(ATRIUM_WORDS):
            said = LEFT_ATRIUM
        elif w in LV_ABBREVIATIONS + ("lvot",) or w.startswith(VENTRICLE_WORDS):
            said = LV_CAVITY
        else:
            continue
        if said not in found:
            found.append(said)
    return found


def class_of_structure(name: str) -> int | None:
    """The label id a name of one structure stands for, or None when it names none of them. A name
    of the right heart is background (:func:`names_right_heart`); any other name with a word of
    the right side ("Right myocardium", "LV and RV") is none of them, nor is one with an
    abbreviation that is a common word in another language ("Pared de la AI":
    :data:`AMBIGUOUS_ABBREVIATIONS`), nor one with a word of a structure CAMUS does not label
    ("Aortic wall" is the aorta's, not the myocardium: :data:`UNLABELLED_STRUCTURE_WORDS`). Names
    are compared without case or accents (:func:`name_words`)."""
    if names_right_heart(name):
        return BACKGROUND
    words = name_words(name)
    # a structure CAMUS does not label wins over a wall's or a chamber's word: "Aortic wall" is the aorta's
    if any(w in RIGHT_HEART + RIGHT_SIDE + AMBIGUOUS_ABBREVIATIONS for w in words) or names_unlabelled_structure(name):
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
    """Whether ``word`` is a German or Dutch compound of a chamber's word (one of ``chambers``) and a
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
    atrium = any(w in LEFT_ATRIUM_ABBREVIATIONS or (w.startswith(ATRIUM_WORDS) and not w.startswith(ATRIOVENTRICULAR))
                 for w in words)
    return atrium and any(w in WALL_WORDS or w.startswith(WALL_BEGINNINGS) for w in words)


def is_named_outline(name: str) -> bool:
    """Whether a segment's name says it is the epicardium: the area inside the heart's outer
    outline, cavity included, as contour-drawn segmentations keep it ("LV epicardium", "Epi");
    a name of a tissue on it ("Epicardial fat") is not."""
    if class_of_segment(name) != MYOCARDIUM:
        return False
    return any(w == "epi" or w.startswith(("epicard", "epikard")) for w in name_words(name))


UNLABELLED_STRUCTURE = "a structure CAMUS does not label"


def our_classes_in_words() -> str:
    """"LV cavity, myocardium and left atrium": our classes as a sentence lists them."""
    return classes_in_words(list(range(1, len(LABELS))))


def classes_in_words(classes: list[int]) -> str:
    """"left atrium and LV cavity": ``classes`` as a sentence lists them."""
    names = [in_sentence(LABELS[label_id].name) for label_id in classes]
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]


def right_heart_line(noun: str, called: list[str]) -> str:
    """The note for structures read as the right heart: "segments 'Right ventricle', 'RA' read
    as background (the right heart, as CAMUS labels it)", ``noun`` ("segment", "label") made
    plural for several of ``called``."""
    return f"{noun}{'s' if len(called) > 1 else ''} {', '.join(called)} {RIGHT_HEART_READING}"
