"""The label map being edited, its undo history and the raster operations behind the tools.

Nothing here imports Qt (``tests/test_app_editing.py`` checks it): the document can be
driven from scripts and tests, and the canvas is only a view onto it.
"""

from .document import LabelDocument, Stroke
from .history import Edit, History

__all__ = ["LabelDocument", "Stroke", "Edit", "History"]
