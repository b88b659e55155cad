"""Number boxes as wide as their values, in forms whose other fields take the width.

A form lets every field that may grow take its whole field column (Fusion's
``QFormLayout.AllNonFixedFieldsGrow``), so a box for a three-digit count stretched as wide as
an output path. A box made :func:`as_wide_as_its_values` keeps the width its own size hint
asks for, which Qt computes from its widest value (the minimum's and the maximum's text, the
special value text) with the prefix and suffix, plus the arrows; it sits at the left of its
row, so nothing is clipped and the form keeps its width for the fields that need it.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QAbstractSpinBox, QSizePolicy

Box = TypeVar("Box", bound=QAbstractSpinBox)


def as_wide_as_its_values(box: Box) -> Box:
    """``box``, kept at the width its widest value and suffix need (set its range, suffix and
    special value text first or after: the width follows them)."""
    box.setSizePolicy(QSizePolicy.Policy.Fixed, box.sizePolicy().verticalPolicy())
    return box
