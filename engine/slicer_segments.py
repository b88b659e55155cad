"""3D Slicer segmentations (``.seg.nrrd``) read as cardiGAN label maps, and written back.

Slicer's Segment Editor saves a segmentation as an NRRD volume whose header names every
segment: ``SegmentN_Name``, the value its voxels hold (``SegmentN_LabelValue``) and, when
segments overlap, the layer that holds it (``SegmentN_Layer``; a file with several layers is
a 4-D volume whose first axis is the layer). The values are Slicer's own (1, 2, 3 ... in the
order the segments were made), so they are mapped to ours by what each segment is: by its
name (:mod:`engine.segment_names`, the words that say each class), or by its standard
terminology (:mod:`engine.segment_codes`, the SNOMED CT codes of each class).

The terminology decides for a name that says none of our classes, and over a name that says
another class (:func:`class_of`); a terminology that codes none of our structures, or is
damaged, leaves the segment to its name. A segment its terminology placed where its name does
not (a name that says nothing, or another class) is told to the reader's ``notify`` in one line
(:func:`reading_note`); a plain name match says nothing.

A segment of the right heart (by its name, or coded as the right ventricle or atrium, or as a
structure in a region of the right heart) is read as background and told in the same note
("segments 'Right ventricle', 'Right atrium' read as background (the right heart, as CAMUS
labels it)"), unless its name says one of our classes while its code says the right heart: that
is refused, as the two cannot both be right. One that lies wholly under our classes' segments
leaves no pixel background and is not told. A segment read as background (the right heart,
or one named "Background") claims no pixel: where it overlaps a segment of one of our classes (a
right ventricle painted over the septum), that class keeps its pixels.

A segment that neither its name nor its terminology places is refused by name: with the advice
to remove it when it is plainly a structure CAMUS does not label ("Aorta", "Pericardium",
"Epicardial fat", the atrial septum or the atrium's wall, or coded as one), to rename it
otherwise ("Segment_7", "Pared de la AI": :func:`unplaced_segment`). So are two segments of our
classes that claim the same pixel, with one exception: a myocardium
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
from dataclasses import dataclass

import numpy as np

from .errors import MaskError
from .labels import BACKGROUND, LABELS, LEFT_ATRIUM, LV_CAVITY, MYOCARDIUM, in_sentence
from .segment_codes import (INTERVENTRICULAR_SEPTUM, OLD_INTERVENTRICULAR_SEPTUM, Code, coded_structure,
                            coded_unlabelled_structure, has_terminology, terminology_entry)
from .segment_names import (UNLABELLED_STRUCTURE, class_of_segment, classes_in_words, classes_named,
                            is_named_outline, name_words, names_region_only, names_right_heart, names_unlabelled_structure,
                            our_classes_in_words, right_heart_line)

SEGMENT_KEY = re.compile(r"^Segment(\d+)_(Name|LabelValue|Layer|Tags|Color)$")


@dataclass(frozen=True)
class Segment:
    name: str
    value: int
    layer: int
    tags: str = ""  # Slicer's "key:value|..." tags, its standard terminology among them
    color: str = ""  # Slicer's "r g b", each 0-1


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
    """The class a segment stands for, by its standard terminology
    (:func:`engine.segment_codes.coded_structure`) and its name
    (:func:`engine.segment_names.class_of_segment`). The name decides when the terminology codes none of
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
    (:data:`engine.segment_codes.UNLABELLED_STRUCTURE_CODES`) or its name
    (:func:`engine.segment_names.names_unlabelled_structure`: "Aorta", "Right coronary
    artery"), is to be removed (or left out of what is exported from Slicer); a region named
    with no tissue ("LV apex": :func:`engine.segment_names.names_region_only`) holds the cavity, the
    wall or both, and is to be renamed as what it holds, as is one named as two of our classes
    ("LA and LV": :func:`engine.segment_names.classes_named`), or split into a segment per class;
    any other name ("Segment_7") may be one of ours that Slicer's user named otherwise, and is
    to be renamed."""
    names = ", ".join(lab.name for lab in LABELS[1:])
    code = coded_unlabelled_structure(segment.tags)
    joined = classes_named(segment.name)
    if code is None and len(joined) > 1:
        return MaskError(f"{where}: segment {segment.name!r} names {classes_in_words(joined)}, which one segment "
                         "cannot hold apart; rename it in Slicer as what it holds (e.g. 'LV cavity') or split it "
                         "into a segment per class")
    if code is None and names_region_only(name_words(segment.name)):
        return MaskError(f"{where}: segment {segment.name!r} is a region of the heart, not a tissue: none of "
                         f"{names}; rename it in Slicer as what it holds (e.g. 'LV cavity') or remove it")
    if code is None and not names_unlabelled_structure(segment.name):
        return MaskError(f"{where}: segment {segment.name!r} is none of {names}; rename it "
                         "in Slicer (e.g. 'LV cavity') or remove it")
    coded = f" (coded {code.meaning})" if code is not None and code.meaning.casefold() != segment.name.casefold() else ""
    return MaskError(f"{where}: segment {segment.name!r}{coded} is {UNLABELLED_STRUCTURE}; remove it in Slicer's "
                     f"Segment Editor, or export only the {our_classes_in_words()} segments")

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
    (:data:`engine.segment_codes.STRUCTURE_CODES`), gzip-compressed, written
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
