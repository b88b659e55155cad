"""Dataset tools: preparing CAMUS sources and exporting synthetic pairs in bulk."""

from .export_dialog import ExportDialog
from .prepare_dialog import PrepareDialog

__all__ = ["ExportDialog", "PrepareDialog"]
