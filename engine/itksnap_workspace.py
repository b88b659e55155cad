"""ITK-SNAP workspaces (``.itksnap``) read as a cardiGAN mask and the image under it.

A workspace is ITK-SNAP's project file: an XML "registry" of nested ``folder`` elements and
``entry key=... value=...`` elements. What is read here:

- ``Layers/Layer[NNN]``: each layer's ``AbsolutePath`` and ``Role``. The ``MainRole`` layer is
  the image (shown under the mask in the studio); the first ``SegmentationRole`` layer is the
  label map.
- A moved workspace: when a layer's file is not at its recorded path, ITK-SNAP looks for it at
  the same place relative to the workspace as it was relative to the ``SaveLocation`` entry
  (the folder the workspace was saved in), and so does this reader, for a workspace saved on
  Windows (``C:/...``, ``\\\\server\\...``) as for one saved here; a relative path is taken from
  the workspace's folder.
- ``Layers/Layer[000]/ProjectMetaData/IRIS/LabelTable``: ``Element[i]`` with ``Index`` (the
  value in the label map) and ``Label`` (its name). Values are mapped to our classes by name,
  as 3D Slicer segments are (:func:`engine.segment_names.class_of_segment`: "LV", "LV
  cavity", "Myocardium", "Left atrium" ...). A label still under ITK-SNAP's default name
  ("Label 2") keeps its value, as in a plain NIfTI label map, so a segmentation painted in
  CAMUS numbering (1 cavity, 2 wall, 3 atrium) reads as it is. A label named as the right heart
  ("Right ventricle", "RA", by the rule Slicer segments are read by:
  :func:`engine.segment_names.names_right_heart`) is background, as CAMUS labels it, and said
  so in the mapping's line. A label whose name is none of these is refused by name when the
  map uses it (ITK-SNAP lists six labels whether used or not): one that plainly names a
  structure CAMUS does not label ("Aorta") with the advice to clear it, any other ("Tumor")
  with the advice to rename it.

The segmentation must be one 2-D frame (a single-slice volume, as ITK-SNAP keeps 2-D images).

A plain label map (NIfTI, NRRD, a label PNG) carries no names: its values are our ids 1-3 as they are.
When it holds other values (ITK-SNAP numbers new labels on from 1, so a map painted with its
labels 4-6 is common), an ITK-SNAP label description file (Segmentation > Export Label
Descriptions: ``IDX R G B A VIS MSH "name"`` per line, as :func:`engine.labels.itksnap_label_descriptions`
writes it) beside it names them, and they are mapped by those names as a workspace's are
(:func:`label_descriptions_beside`, :func:`classes_by_name`); the mapping is said in one line.
A label PNG in other values with no description beside it is refused as a PNG always was
(:func:`engine.labels.validate_label_map`: the values that are not labels). A map whose values are all our ids 0-3 is read by a description beside it too, when one is
there under a name it usually has (``x_gt.txt``, ``labels.txt`` ...: looked up by name, the
folder not listed, no file read when none is there): an ITK-SNAP user who painted 1 as the
wall and 2 as the cavity and exported the description beside the map gets them mapped by their
names, the mapping said in one line. A description whose names of the present labels are our
classes in our numbering, or ITK-SNAP's defaults ("Label 1", "Clear Label"), leaves the map as
it is and says nothing. One that names some present labels otherwise and leaves others under a
default name is refused in one line naming the unnamed ones (to be named in the description,
or the description removed), as which numbering they follow cannot be told
(:func:`labels_of_ours_by_description`). A label PNG the studio wrote (it carries the studio's
fan record) holds our ids whatever a description beside it says.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

import numpy as np

from .errors import MaskError
from .labels import BACKGROUND, LABELS, in_sentence, joined
from .segment_names import (UNLABELLED_STRUCTURE, class_of_segment, classes_in_words, classes_named,
                            names_right_heart, names_unlabelled_structure,
                            our_classes_in_words, right_heart_line)

if TYPE_CHECKING:
    from .maskio import VolumeHeader

WORKSPACE_SUFFIX = ".itksnap"
WINDOWS_PATH = re.compile(r"^([A-Za-z]:[\\/]|\\\\)")  # a drive's root, or a share's
DEFAULT_NAME = re.compile(r"^\s*(label\s*\d+|clear label)\s*$", re.IGNORECASE)
MAX_BYTES = 16 * 1024 * 1024  # a workspace is a few kB; anything this large is not one
# a line of an ITK-SNAP label description file: IDX R G B A VIS MSH "name"
DESCRIPTION_LINE = re.compile(r'^\s*(\d+)\s+\d+\s+\d+\s+\d+\s+[\d.]+\s+\d+\s+\d+\s+"([^"]*)"\s*$')
MAX_DESCRIPTION_BYTES = 256 * 1024  # a label description is a few hundred bytes
MAX_TEXT_FILES = 64  # text files beside a volume looked at for a label description
MAX_UNNAMED_VALUE = 16  # a label map's values up to this are taken for ITK-SNAP's label numbering


@dataclass
class Workspace:
    path: Path
    main_image: Path | None = None
    segmentation: Path | None = None
    label_names: dict[int, str] = field(default_factory=dict)


def is_workspace_file(path: Path | str) -> bool:
    return str(path).lower().endswith(WORKSPACE_SUFFIX)


def _registry(path: Path) -> ET.Element:
    if not path.is_file():
        raise MaskError(f"{path}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise MaskError(f"{path}: too large to be an ITK-SNAP workspace")
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, ValueError) as exc:
        raise MaskError(f"{path}: not an ITK-SNAP workspace (its XML cannot be read: {exc})") from None
    if root.tag != "registry":
        raise MaskError(f"{path}: not an ITK-SNAP workspace (its XML is a <{root.tag}>, not a <registry>)")
    return root


def _folder(parent: ET.Element | None, key: str) -> ET.Element | None:
    if parent is None:
        return None
    return next((f for f in parent.findall("folder") if f.get("key") == key), None)


def _entry(parent: ET.Element | None, key: str) -> str | None:
    if parent is None:
        return None
    return next((e.get("value") for e in parent.findall("entry") if e.get("key") == key), None)


def _recorded_path(text: str) -> PurePath:
    """A path as a workspace records it, from whichever system saved it: ``C:/...``, ``C:\\...``
    or ``\\\\server\\...`` on Windows, ``/...`` elsewhere."""
    if WINDOWS_PATH.match(text) or "\\" in text:
        return PureWindowsPath(text)
    return PurePosixPath(text)


def _layer_file(recorded: str, workspace: Path, saved_in: str | None) -> Path:
    """Where a layer's file is: as recorded, or moved along with the workspace (saved on this
    system or another)."""
    recorded_path = _recorded_path(recorded)
    if not recorded_path.is_absolute():
        return workspace.parent.joinpath(*recorded_path.parts)
    here = Path(recorded)
    native = type(recorded_path) is type(PurePath())  # saved on a system like this one
    if (native and here.exists()) or not saved_in:
        return here
    try:
        relative = recorded_path.relative_to(_recorded_path(saved_in))
    except ValueError:
        return here
    return workspace.parent.joinpath(*relative.parts)


def read_workspace(path: Path | str) -> Workspace:
    """The workspace's image, segmentation and label names (a one-line MaskError for a file
    that is not a workspace or has no segmentation)."""
    path = Path(path)
    root = _registry(path)
    saved_in = _entry(root, "SaveLocation")
    layers = _folder(root, "Layers")
    found = Workspace(path)
    main = None  # the main layer holds the label table (the first layer when none says main)
    for layer in (layers.findall("folder") if layers is not None else []):
        if not (layer.get("key") or "").startswith("Layer["):
            continue
        recorded, role = _entry(layer, "AbsolutePath"), _entry(layer, "Role")
        if main is None or (role == "MainRole" and _entry(main, "Role") != "MainRole"):
            main = layer
        if not recorded:
            continue
        where = _layer_file(recorded, path, saved_in)
        if role == "MainRole" and found.main_image is None:
            found.main_image = where
        elif role == "SegmentationRole" and found.segmentation is None:
            found.segmentation = where
    if found.segmentation is None:
        raise MaskError(f"{path}: the ITK-SNAP workspace holds no segmentation layer "
                        "(save the segmentation in ITK-SNAP, then the workspace)")
    table = _folder(_folder(_folder(main, "ProjectMetaData"), "IRIS"), "LabelTable")
    for element in (table.findall("folder") if table is not None else []):
        index, name = _entry(element, "Index"), _entry(element, "Label")
        try:
            found.label_names[int(index)] = name or ""
        except (TypeError, ValueError):
            raise MaskError(f"{path}: its label table has a damaged index ({index!r})") from None
    return found


def class_of_label(value: int, name: str | None) -> int | None:
    """Our class for an ITK-SNAP label: by its name (the right heart's background), or its own
    value under a default name (or with no entry in the table); None when it is none of ours."""
    if value == 0:
        return 0
    if name is not None and not DEFAULT_NAME.match(name):
        return class_of_segment(name)
    return value if 0 < value < len(LABELS) else None


def read_label_descriptions(path: Path) -> dict[int, str] | None:
    """The label names of an ITK-SNAP label description file (value -> name), or None when
    ``path`` is no such file (unreadable, too large, or a line of another kind)."""
    try:
        if path.stat().st_size > MAX_DESCRIPTION_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    names: dict[int, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = DESCRIPTION_LINE.match(line)
        if match is None:
            return None
        names[int(match.group(1))] = match.group(2)
    return names or None


def label_descriptions_beside(volume: Path) -> tuple[Path, dict[int, str]] | None:
    """(the file, its names) of an ITK-SNAP label description beside ``volume``: one under a
    name it usually has (:func:`description_names`), looked up by that name; else the first
    other ``*.txt`` in its folder that is one (the folder listed only up to it, at most
    :data:`MAX_TEXT_FILES` text files read); None when there is none."""
    return (label_descriptions_named_beside(volume)
            or _first_description_in(volume.parent, set(description_names(volume))))


def label_descriptions_named_beside(volume: Path) -> tuple[Path, dict[int, str]] | None:
    """(the file, its names) of an ITK-SNAP label description beside ``volume`` under a name
    it usually has (:func:`description_names`), looked up by those names (no listing, and no
    file read when none is there); None when there is none."""
    for name in description_names(volume):
        path = volume.parent / name
        names = read_label_descriptions(path) if path.is_file() else None
        if names is not None:
            return path, names
    return None


def description_names(volume: Path) -> list[str]:
    """The names a label description beside ``volume`` usually has, in the order they are
    looked for: named after the volume (``x_gt.txt``, ``x_gt_labels.txt``, and ``x.txt``,
    ``x_labels.txt`` for the images ``x`` whose masks ``x_gt.nii.gz`` are), then ``labels.txt``
    and the one an export writes (``itksnap_labels.txt``)."""
    from .labels import ITKSNAP_LABELS_NAME
    from .maskio import MASKS_MARK, mask_name_stem

    stem = mask_name_stem(volume.name)
    stems = [stem]
    if stem.lower().endswith(MASKS_MARK) and len(stem) > len(MASKS_MARK):
        stems.append(stem[: -len(MASKS_MARK)])
    names = [name for each in stems for name in (f"{each}.txt", f"{each}_labels.txt")]
    return list(dict.fromkeys(names + ["labels.txt", ITKSNAP_LABELS_NAME]))


def _first_description_in(folder: Path, skip: set[str]) -> tuple[Path, dict[int, str]] | None:
    """The first ``*.txt`` in ``folder`` (not one of ``skip``) that is a label description,
    the folder listed only until it is found."""
    read = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.lower().endswith(".txt") or entry.name in skip or not entry.is_file():
                    continue
                names = read_label_descriptions(Path(entry.path))
                if names is not None:
                    return Path(entry.path), names
                read += 1
                if read >= MAX_TEXT_FILES:
                    return None
    except OSError:
        return None
    return None


def classes_by_name(values: list[int], names: dict[int, str], where: str, fix: str, remove: str) -> dict[int, int]:
    """Our class for each of ``values`` (a label map's), by its name in ``names`` (a workspace's
    label table, a label description's) as :func:`class_of_label` reads it; a value that is
    none of ours is refused in one line naming it: with ``remove`` (how to take it out of the
    map) when its name plainly says a structure CAMUS does not label ("Aorta":
    :func:`engine.segment_names.names_unlabelled_structure`), else with ``fix`` (how to
    rename or relabel it: "Label 4" may be one of ours); one named as two of our classes ("LA
    and LV": :func:`engine.segment_names.classes_named`) with the advice to paint them apart or,
    if it holds one, rename it as what it holds."""
    classes = {}
    for value in values:
        name = names.get(value)
        label_id = class_of_label(value, name)
        if label_id is None:
            called = f"label {value} ({name!r})" if name else f"label value {value}"
            joined = classes_named(name) if name else []
            if len(joined) > 1:
                raise MaskError(f"{where}: {called} names {classes_in_words(joined)}, which one label cannot "
                                f"hold apart; paint each as a label of its own, or, if it holds one, {fix}")
            if name and names_unlabelled_structure(name):
                raise MaskError(f"{where}: {called} is {UNLABELLED_STRUCTURE} (only the {our_classes_in_words()}); "
                                f"{remove}")
            ours = ", ".join(lab.name for lab in LABELS[1:])
            raise MaskError(f"{where}: {called} is none of {ours}; {fix}")
        classes[value] = label_id
    return classes


def mapping_line(classes: dict[int, int], names: dict[int, str], named_by: str) -> str | None:
    """The mapping in words ("labels 4 'LV' -> 1 LV cavity, ... by the names in x.txt", then
    "; labels 5 'Right ventricle', ... read as background (the right heart, as CAMUS labels it)"),
    or None when every value keeps its own."""
    changed = [(value, label_id) for value, label_id in sorted(classes.items()) if value != label_id and value in names]
    right_heart = [value for value, label_id in changed if label_id == BACKGROUND and names_right_heart(names[value])]
    moved = [f"{value} {names[value]!r} \u2192 {label_id} {in_sentence(LABELS[label_id].name)}"
             for value, label_id in changed if value not in right_heart]
    parts = [f"labels {', '.join(moved)}, by the names in {named_by}"] if moved else []
    if right_heart:
        parts.append(right_heart_line("label", [f"{value} {names[value]!r}" for value in right_heart]))
    return "; ".join(parts) or None


def relabelled(values: np.ndarray, classes: dict[int, int]) -> np.ndarray:
    """``values`` with each value replaced by its class in ``classes``, as uint8."""
    labels = np.zeros(values.shape, np.uint8)
    for value, label_id in classes.items():
        labels[values == value] = label_id
    return labels


def numbered_as_itksnap_labels(present: list[int]) -> bool:
    """Whether a label map's distinct values ``present`` look like ITK-SNAP label values that
    are not all our ids: a few, 0-255, not our ids scaled for viewing (0/85/170/255, which
    :func:`engine.labels.validate_label_map` explains), not a picture's many grey levels."""
    from .labels import LOOKS_LIKE_AN_IMAGE, VIEWING_SCALE

    others = {v for v in present if not 0 <= v < len(LABELS)}
    viewing = {VIEWING_SCALE * k for k in range(1, len(LABELS))}
    return bool(others) and len(others) <= LOOKS_LIKE_AN_IMAGE and min(present) >= 0 \
        and max(present) <= 255 and not others <= viewing


def labels_by_description(values: np.ndarray, volume: Path, where: str,
                          notify=None, refuse_unnamed: bool = True) -> np.ndarray | None:
    """A plain label map's ``values`` in our ids, mapped by the names of an ITK-SNAP label
    description beside ``volume`` (the mapping told to ``notify`` in one line), or None: it
    is checked as it is.

    When it holds values that are not our ids and a small number of them, the description is
    looked for under the names it usually has, then among the folder's other text files; with
    none beside it, a map numbered as ITK-SNAP numbers labels (values up to
    :data:`MAX_UNNAMED_VALUE`) is refused in one line that says how to go on (unless not
    ``refuse_unnamed``: None then, for the caller's own refusal of its values). When its values
    are all our ids 0-3, only a description under a name it usually has is read
    (:func:`labels_of_ours_by_description`): its names are followed where they place a present
    value in another of our classes (the right heart's in background), and ignored where they
    are our numbering or ITK-SNAP's default names; a mix of names otherwise than our numbering
    and default names is refused in one line."""
    if not np.issubdtype(values.dtype, np.integer):
        return None
    present = np.unique(values).tolist()
    if all(0 <= v < len(LABELS) for v in present):
        return labels_of_ours_by_description(values, volume, where, notify, present)
    if not numbered_as_itksnap_labels(present):
        return None
    found = label_descriptions_beside(volume)
    if found is None and (max(present) > MAX_UNNAMED_VALUE or not refuse_unnamed):
        return None  # no label numbering, or the caller refuses it: validate_label_map says what it looks like
    if found is None:
        others = [v for v in present if v >= len(LABELS)]
        values, are, them = (("value", "is", "it") if len(others) == 1 else ("values", "are", "them"))
        raise MaskError(f"{where}: label {values} {joined(others)} {are} not ours ({numbering_in_words()}) and "
                        f"nothing names {them}; relabel {them} to 1-3, or put the ITK-SNAP label description "
                        "(Segmentation > Export Label Descriptions) beside it")
    described, names = found
    classes = classes_by_name(present, names, where, f"rename it in {described.name}, or relabel it to 1-3",
                              "relabel it to 0 (background)")
    line = mapping_line(classes, names, described.name)
    if line and notify is not None:
        notify(f"{Path(where).name}: {line}")
    return relabelled(values, classes)


def labels_of_ours_by_description(values: np.ndarray, volume: Path, where: str, notify,
                                  present: list[int]) -> np.ndarray | None:
    """A label map whose ``present`` values are all our ids, read by the names of an ITK-SNAP
    label description beside ``volume`` (only under a name it usually has:
    :func:`label_descriptions_named_beside`): None (taken as it is, nothing said) when there is
    none, or its names of the present labels are ITK-SNAP's defaults ("Label 2") or our classes
    in our numbering; else mapped by those names as other values are (:func:`classes_by_name`,
    the mapping told to ``notify`` in one line). When it names some present labels otherwise
    and leaves others under a default name, which numbering the unnamed ones follow cannot be
    told: refused in one line naming them. ``present``: the map's distinct values."""
    if all(v == BACKGROUND for v in present):
        return None
    found = label_descriptions_named_beside(volume)
    if found is None:
        return None
    painted = [v for v in present if v != BACKGROUND]
    described, names = found
    named = {v: class_of_label(v, names[v]) for v in painted
             if v in names and not DEFAULT_NAME.match(names[v])}
    if all(label_id == v for v, label_id in named.items()):
        return None
    unnamed = [v for v in painted if v not in named]
    if unnamed:
        raise MaskError(ambiguous_line(where, described.name, names, [v for v in named if named[v] != v], unnamed))
    classes = classes_by_name(present, names, where,
                              f"rename it in {described.name}, or remove {described.name} if the map is in "
                              "our numbering", "relabel it to 0 (background)")
    line = mapping_line(classes, names, described.name)
    if line and notify is not None:
        notify(f"{Path(where).name}: {line}")
    return relabelled(values, classes)


def ambiguous_line(where: str, described: str, names: dict[int, str], off: list[int], unnamed: list[int]) -> str:
    """The refusal of a label map in our ids whose description ``described`` names the labels
    ``off`` otherwise than our numbering and leaves ``unnamed`` under a default name (or out)."""
    several = len(unnamed) > 1
    return (f"{where}: {described} names label{'s' if len(off) > 1 else ''} "
            f"{', '.join(f'{v} {names[v]!r}' for v in off)} otherwise than our numbering ({numbering_in_words()}) "
            f"but leaves label{'s' if several else ''} {', '.join(str(v) for v in unnamed)} unnamed, so what "
            f"{'they hold' if several else 'it holds'} cannot be told; name {'them' if several else 'it'} in "
            f"{described}, or remove {described} if the map is in our numbering")


def numbering_in_words() -> str:
    """Our label ids in words: "1 LV cavity, 2 myocardium, 3 left atrium"."""
    return ", ".join(f"{lab.id} {in_sentence(lab.name)}" for lab in LABELS[1:])


def labels_from_workspace(workspace: Workspace, loop: bool = False, notify=None) -> np.ndarray:
    """:func:`labels_and_header_from_workspace` without the header."""
    return labels_and_header_from_workspace(workspace, loop, notify)[0]


def labels_and_header_from_workspace(workspace: Workspace, loop: bool = False, notify=None
                                     ) -> tuple[np.ndarray, VolumeHeader]:
    """(the workspace's segmentation as a (H, W) label map in our ids: of a volume of several
    frames, its one painted frame; its header (:class:`engine.maskio.VolumeHeader`), read with
    its labels, for what needs it (the geometry, a NRRD's segment names) to read the file no
    more). With ``loop``, every frame of it, (T, H, W) (a 2-D segmentation is then one
    frame), for the caller to say which it takes. A NIfTI pair of the segmentation and its
    image that a write stopped between its two files left mixed is put back as the old pair
    first, told to ``notify`` in one line (:func:`engine.maskio.nifti_pair_file`; within
    :func:`engine.maskio.one_look_per_pair`, a read of the image after it looks no more)."""
    import SimpleITK as sitk

    from .data.metaimage import native_stderr_silenced
    from .data.volume_checks import readable_volume
    from .errors import itk_reason
    from .maskio import VolumeHeader, check_mask_path, nifti_pair_file, one_painted_frame

    where = workspace.path.name
    segmentation = workspace.segmentation
    try:
        check_mask_path(segmentation)
        # a NIfTI pair a stopped write left mixed is read as the old pair, as other readers read it
        with nifti_pair_file(segmentation, notify) as source, readable_volume(source, MaskError) as readable, \
                native_stderr_silenced():
            image = sitk.ReadImage(str(readable))
    except MaskError as exc:
        raise MaskError(f"{where}: its segmentation layer cannot be read ({exc})") from None
    except RuntimeError as exc:
        raise MaskError(f"{where}: its segmentation {segmentation.name} cannot be read "
                        f"({itk_reason(exc, 'unreadable')})") from None
    values, header = np.squeeze(sitk.GetArrayFromImage(image)), VolumeHeader.of(image)
    if loop and values.ndim == 2:
        values = values[None]
    elif not loop:
        values = one_painted_frame(values, f"{where}: its segmentation {segmentation.name}")
    if values.ndim != (3 if loop else 2):
        raise MaskError(f"{where}: its segmentation {segmentation.name} is {values.shape}, not "
                        + ("2-D frames" if loop else "one 2-D frame"))
    if not np.issubdtype(values.dtype, np.integer):
        raise MaskError(f"{where}: its segmentation {segmentation.name} holds {values.dtype} values, not labels")
    present = np.unique(values).tolist()
    names, named_by = workspace_label_names(workspace, present)
    classes = classes_by_name(present, names, where, "rename it in ITK-SNAP's label editor (e.g. 'LV cavity') "
                                                     "or clear it, or relabel it to 1-3",
                              "clear it in ITK-SNAP (move its voxels to Clear Label), or relabel it to 0")
    line = mapping_line(classes, names, named_by)
    if line and notify is not None:
        notify(f"{where}: {line}")
    return relabelled(values, classes), header


def workspace_label_names(workspace: Workspace, present: list[int]) -> tuple[dict[int, str], str]:
    """(the names the ``present`` values of a workspace's segmentation go by, where they come
    from, in words): its label table's, and for a value it leaves under a default name that
    is not one of our ids, an ITK-SNAP label description's beside the segmentation."""
    names = dict(workspace.label_names)
    unnamed = [v for v in present if v >= len(LABELS) and DEFAULT_NAME.match(names.get(v) or "label 0")]
    found = label_descriptions_beside(workspace.segmentation) if unnamed else None
    if found is None:
        return names, "the workspace's label table"
    described, described_names = found
    names.update((v, described_names[v]) for v in unnamed if v in described_names)
    return names, f"the workspace's label table and {described.name}"


def read_workspace_label_map(path: Path | str, notify=None) -> np.ndarray:
    """The label map of the workspace at ``path``; how its labels were mapped by their names,
    and a mixed NIfTI pair put back, are told to ``notify``."""
    return labels_from_workspace(read_workspace(path), notify=notify)


WORKSPACE_VERSION = "20190612"  # the workspace format date ITK-SNAP 3.8 and later write


def write_workspace(path: Path | str, image: Path | str, segmentation: Path | str) -> None:
    """An ITK-SNAP workspace that opens ``image`` with ``segmentation`` over it, its labels
    named and coloured as in the studio (``itksnap -w path``), written atomically
    (:func:`workspace_text`)."""
    from .fileio import atomic_path

    text = workspace_text(Path(path).parent, image, segmentation)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def workspace_text(folder: Path | str, image: Path | str, segmentation: Path | str) -> str:
    """The text of an ITK-SNAP workspace saved in ``folder`` that opens ``image`` with
    ``segmentation`` over it. As ITK-SNAP writes its own: the layers' absolute paths,
    ``SaveLocation`` the workspace's folder and a format ``Version``, so ITK-SNAP opens it from
    any working folder and, should the files move together, finds them where they went by the
    folder they left (as :func:`read_workspace` does)."""
    folder = Path(folder).resolve()
    root = ET.Element("registry")

    def entry(parent: ET.Element, key: str, value) -> None:
        ET.SubElement(parent, "entry", key=key, value=str(value))

    def folder_in(parent: ET.Element, key: str) -> ET.Element:
        return ET.SubElement(parent, "folder", key=key)

    def layer_path(file: Path | str) -> str:
        return Path(file).resolve().as_posix()  # ITK-SNAP reads a relative one from its working folder

    entry(root, "SaveLocation", folder.as_posix())
    entry(root, "Version", WORKSPACE_VERSION)
    layers = folder_in(root, "Layers")
    main = folder_in(layers, "Layer[000]")
    entry(main, "AbsolutePath", layer_path(image))
    entry(main, "Role", "MainRole")
    table = folder_in(folder_in(folder_in(main, "ProjectMetaData"), "IRIS"), "LabelTable")
    entry(table, "NumberOfElements", len(LABELS) - 1)
    for index, label in enumerate(LABELS[1:]):
        element = folder_in(table, f"Element[{index}]")
        entry(element, "Alpha", 255)
        entry(element, "Color", " ".join(str(c) for c in label.color))
        entry(element, "Flags", "1 1")  # visible, and in the 3-D mesh
        entry(element, "Index", label.id)
        entry(element, "Label", label.name)
    segmentation_layer = folder_in(layers, "Layer[001]")
    entry(segmentation_layer, "AbsolutePath", layer_path(segmentation))
    entry(segmentation_layer, "Role", "SegmentationRole")
    ET.indent(root, "  ")
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n'
            "<!--ITK-SNAP workspace written by cardiGAN Studio: the synthesized image and its mask-->\n"
            + ET.tostring(root, encoding="unicode") + "\n")
