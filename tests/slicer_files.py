"""Test helper: NRRD segmentation files written as 3D Slicer writes them."""

from __future__ import annotations

import numpy as np


def write_segmentation(path, layers: np.ndarray, segments, legacy: bool = False) -> None:
    """An NRRD file as Slicer's Segment Editor writes one: ``layers`` (L, H, W) of Slicer's own
    values; ``segments`` (name, value, layer) or (name, value, layer, tags), ``tags`` the
    segment's ``SegmentN_Tags`` text as it stands in the header. One layer is a 3-D volume of one slice, several
    a 4-D one whose first, fastest axis is the layer (Slicer's "list" kind). ``legacy``: as
    Slicer wrote before 4.11, without the segments' label values and layers."""
    count, height, width = layers.shape
    header = ["NRRD0004", "type: unsigned char", "space: left-posterior-superior",
              "endian: little", "encoding: raw", "space origin: (0,0,0)"]
    if count == 1:
        header += ["dimension: 3", f"sizes: {width} {height} 1", "kinds: domain domain domain",
                   "space directions: (0.6,0,0) (0,0.6,0) (0,0,1)"]
        data = layers[0]
    else:
        header += ["dimension: 4", f"sizes: {count} {width} {height} 1", "kinds: list domain domain domain",
                   "space directions: none (0.6,0,0) (0,0.6,0) (0,0,1)"]
        data = np.moveaxis(layers, 0, -1)
    for index, (name, value, layer, *tags) in enumerate(segments):
        header += [f"Segment{index}_ID:=Segment_{index + 1}", f"Segment{index}_Name:={name}",
                   f"Segment{index}_Color:=0.5 0.5 0.5"]
        if not legacy:
            header += [f"Segment{index}_LabelValue:={value}", f"Segment{index}_Layer:={layer}"]
        header += [f"Segment{index}_Tags:={text}" for text in tags]
    header += ["Segmentation_MasterRepresentation:=Binary labelmap"]
    path.write_bytes(("\n".join(header) + "\n\n").encode() + np.ascontiguousarray(data, np.uint8).tobytes())


GENERAL_ANATOMY = "Segmentation category and type - 3D Slicer General Anatomy list"


def terminology_tags(structure: str, region: str = "^^", modifier: str = "^^") -> str:
    """A segment's tags as Slicer writes them for an anatomical structure picked from its
    General Anatomy list: ``structure`` (and an anatomic ``region``, a type ``modifier``) as
    ``scheme^value^meaning``."""
    return (f"Segmentation.Status:inprogress|TerminologyEntry:{GENERAL_ANATOMY}~SCT^123037004^Anatomical Structure"
            f"~{structure}~{modifier}~Anatomic codes - DICOM master list~{region}~^^|")


SLICER_DEFAULT_TAGS = (f"Segmentation.Status:inprogress|TerminologyEntry:{GENERAL_ANATOMY}~SCT^85756007^Tissue"
                       "~SCT^85756007^Tissue~^^~Anatomic codes - DICOM master list~^^~^^|")
"""What Slicer tags a new segment with until its terminology is picked: Tissue, category and type."""
