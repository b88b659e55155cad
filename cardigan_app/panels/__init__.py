"""The dockable panels around the canvas."""

from .dataset_browser import DatasetBrowser
from .model_panel import ModelPanel
from .palette import LabelPalette
from .synthesis_panel import SynthesisPanel

__all__ = ["DatasetBrowser", "ModelPanel", "LabelPalette", "SynthesisPanel"]
