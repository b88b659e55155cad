"""cardiGAN Studio engine: headless SPADE synthesis, data preparation and training.

This package never imports Qt; the desktop app in ``cardigan_app`` sits on top of it.
"""

__version__ = "0.1.0"
