"""An evaluation report as strict JSON.

A figure that could not be measured (a class absent from a split, a test with too few
patients) is NaN in the report Python holds and ``null`` in ``evaluation.json``, so any JSON
reader takes the file: a bare ``NaN`` is not JSON, and JavaScript's, Go's and Rust's parsers
refuse it. Infinities are written as ``null`` too.
"""

from __future__ import annotations

import json
import math


def finite_or_none(value):
    """``value`` with every float that is not finite replaced by None, through dicts, lists
    and tuples."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def report_text(report: dict) -> str:
    """``report`` as indented strict JSON, ending with a newline."""
    return json.dumps(finite_or_none(report), indent=2, allow_nan=False) + "\n"
