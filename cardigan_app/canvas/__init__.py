"""Widgets that show images with zoom and pan: the mask canvas and the image panes."""

from .canvas import MaskCanvas
from .image_view import ImageView, link_views
from .panes import EchoView, ReferenceView

__all__ = ["MaskCanvas", "ImageView", "link_views", "EchoView", "ReferenceView"]
