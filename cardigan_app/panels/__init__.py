"""The dockable panels around the canvas."""

from .anatomy_panel import AnatomyPanel
from .dataset_browser import DatasetBrowser
from .model_panel import ModelPanel
from .palette import LabelPalette
from .synthesis_panel import SynthesisPanel

__all__ = ["AnatomyPanel", "DatasetBrowser", "ModelPanel", "LabelPalette", "SynthesisPanel"]
