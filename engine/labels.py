"""The label table: the one place that defines the classes of a cardiac label map.

Label maps are ``uint8`` arrays holding the ids below. The network input is the one-hot
encoding over the four ids, channel ``k`` being 1 where the label equals ``k`` (the encoding
of NVlabs SPADE with ``--label_nc 3 --contain_dontcare_label``).
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

from .errors import MaskError

if TYPE_CHECKING:  # torch is imported lazily: commands that never touch a network start faster
    import torch


@dataclass(frozen=True)
class Label:
    id: int
    key: str  # short machine name
    name: str  # what a user reads
    camus_name: str
    color: tuple[int, int, int]  # display colour (Okabe-Ito palette, colour-blind safe)
    shortcut: str  # keyboard key that selects the class in the app


LABELS: tuple[Label, ...] = (
    Label(0, "background", "Background", "", (0, 0, 0), "0"),
    Label(1, "lv", "LV cavity", "LV endocardium (inside)", (0, 114, 178), "1"),
    Label(2, "myo", "Myocardium", "LV epicardium band", (230, 159, 0), "2"),
    Label(3, "la", "Left atrium", "LA", (204, 121, 167), "3"),
)

NUM_CLASSES = len(LABELS)


def in_sentence(name: str) -> str:
    """A class name as it reads inside a sentence: "Myocardium" becomes "myocardium", while an
    abbreviation keeps its capitals ("LV cavity" stays "LV cavity")."""
    first = name.split(" ", 1)[0]
    return name if first.isupper() else name[:1].lower() + name[1:]

BACKGROUND, LV_CAVITY, MYOCARDIUM, LEFT_ATRIUM = (label.id for label in LABELS)
LABEL_BY_KEY = {label.key: label for label in LABELS}


def label_table() -> list[dict]:
    """The table as plain dictionaries (for model-file metadata and manifests)."""
    return [
        {"id": lab.id, "key": lab.key, "name": lab.name, "camus_name": lab.camus_name,
         "color": list(lab.color)}
        for lab in LABELS
    ]


ITKSNAP_LABELS_NAME = "itksnap_labels.txt"


def itksnap_label_descriptions() -> str:
    """The label table as an ITK-SNAP label description file (Segmentation › Import Label
    Descriptions): per line the id, the colour (0-255), opacity, visibility in the slice and
    in 3D, and the quoted name; background is ITK-SNAP's transparent "Clear Label"."""
    lines = ["# cardiGAN Studio label table for ITK-SNAP",
             "# IDX  R  G  B  opacity  visible  mesh  \"name\""]
    for lab in LABELS:
        if lab.id == 0:
            lines.append('0 0 0 0 0 0 0 "Clear Label"')
        else:
            lines.append(f'{lab.id} {lab.color[0]} {lab.color[1]} {lab.color[2]} 1 1 1 "{lab.name}"')
    return "\n".join(lines) + "\n"


def bad_values(labels: np.ndarray) -> list[int]:
    """The distinct values of ``labels`` that are not label ids, sorted."""
    present = np.unique(labels)
    return [v.item() for v in present if not (0 <= v < NUM_CLASSES and float(v).is_integer())]


LOOKS_LIKE_AN_IMAGE = 16  # distinct values that are not labels: more, and it is a picture
VIEWING_SCALE = 255 // (NUM_CLASSES - 1)  # 85: masks saved as 0/85/170/255 to be seen in a viewer


def joined(words: list) -> str:
    """``words`` as a sentence lists them: "4", "4 and 7", "4, 5 and 7"."""
    words = [str(w) for w in words]
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]])) if words else ""


def not_labels(values: list, shown: int = 8) -> str:
    """``values`` that are not labels, in words: "value 4 is not a label", "values 4 and 7
    are not labels", and past ``shown`` values "values 4, 5, ... and 9 more are not labels"."""
    if len(values) == 1:
        return f"value {values[0]} is not a label"
    if len(values) > shown:
        values = values[:shown - 1] + [f"{len(values) - shown + 1} more"]
    return f"values {joined(values)} are not labels"


def validate_label_map(labels: np.ndarray, source: str = "label map") -> np.ndarray:
    """Check that ``labels`` is a 2-D (or batched 3-D) map of label ids; return it as uint8.

    Raises :class:`MaskError` naming ``source`` and the offending values; nothing is clipped.
    """
    labels = np.asarray(labels)
    if labels.ndim not in (2, 3) or labels.size == 0:
        raise MaskError(f"{source}: expected a 2-D label map, got an array of shape {labels.shape}")
    if labels.dtype.kind not in "iubf":
        raise MaskError(f"{source}: label maps hold integer class ids 0-{NUM_CLASSES - 1}, "
                        f"got {labels.dtype} values")
    bad = bad_values(labels)
    if bad:
        shown = ", ".join(str(v) for v in bad[:8]) + (" ..." if len(bad) > 8 else "")
        if len(bad) > LOOKS_LIKE_AN_IMAGE:
            raise MaskError(f"{source}: this looks like an image, not a label map: {len(bad)} values "
                            f"({shown}) are not labels, a mask holds only 0-{NUM_CLASSES - 1} (CAMUS "
                            "masks are the *_gt files)")
        allowed = ", ".join(f"{lab.id} {in_sentence(lab.name)}" for lab in LABELS)
        if set(bad) <= set(VIEWING_SCALE * np.arange(1, NUM_CLASSES)):
            raise MaskError(f"{source}: {not_labels(bad)}: this looks like labels 0-{NUM_CLASSES - 1} "
                            f"multiplied by {VIEWING_SCALE} for viewing; divide it by {VIEWING_SCALE} "
                            f"(allowed: {allowed})")
        raise MaskError(f"{source}: {not_labels(bad)} (allowed: {allowed})")
    return labels.astype(np.uint8, copy=False)


def one_hot(labels: "torch.Tensor | np.ndarray", channels: int = NUM_CLASSES,
            dtype: "torch.dtype | None" = None) -> "torch.Tensor":
    """One-hot encode label ids of shape (H, W) or (N, H, W) into (N, channels, H, W)."""
    import torch

    dtype = dtype or torch.float32
    labels = torch.as_tensor(labels)
    if labels.ndim == 2:
        labels = labels[None]
    assert labels.ndim == 3, f"expected (N, H, W) labels, got {tuple(labels.shape)}"
    out = torch.zeros((labels.shape[0], channels, *labels.shape[1:]), dtype=dtype,
                      device=labels.device)
    out.scatter_(1, labels.long()[:, None], 1.0)
    return out


def colorize(labels: np.ndarray) -> np.ndarray:
    """An RGB picture (H, W, 3) of a label map in the display colours."""
    palette = np.array([lab.color for lab in LABELS], dtype=np.uint8)
    return palette[np.asarray(labels, dtype=np.intp)]
