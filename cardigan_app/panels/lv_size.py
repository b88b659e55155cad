"""The Anatomy panel's line of the LV's size in millimetres: its length along the long axis
and its area, of the mask as painted (:func:`engine.anatomy.descriptors.lv_size_mm`), with the
pixel spacing the mask's file records (a NIfTI, MetaImage or NRRD header, kept as
``LabelDocument.geometry``). A mask whose file records none (a PNG) gets no line: no spacing
is made up for it."""

from __future__ import annotations

from engine.anatomy.descriptors import lv_size_mm

from ..editing import LabelDocument

LV_SIZE_TIP = ("The LV cavity of the mask as painted, measured with the pixel spacing its file records: its "
               "length along the long axis and its area. Shown only for a mask whose file records a spacing "
               "(NIfTI, MetaImage, NRRD)")


def lv_size_line(document: LabelDocument | None) -> str:
    """``LV length 84.2 mm · area 31.5 cm² (as painted)``, or "" without a recorded spacing
    that fits the mask, or without an LV cavity to measure."""
    geometry = None if document is None else document.geometry
    if geometry is None or not geometry.fits(document.labels):
        return ""
    try:
        size = lv_size_mm(document.labels, geometry.spacing[:2])
    except ValueError:  # a header's spacing of zero or below: no size to give
        return ""
    if size is None:
        return ""
    length, area = size
    return f"LV length {length:.1f} mm \u00b7 area {area:.1f} cm\u00b2 (as painted)"
