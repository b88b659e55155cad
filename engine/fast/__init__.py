"""Fast inference for trained generators: the same math as the plain network, less work.

``folding``     spectral norm and eval-mode batch norm folded into plain conv weights
``modulation``  SPADE / CLADE modulation maps; SPADE's convolutional MLP is evaluated only
                where the label map changes (elsewhere gamma and beta are per-class constants)
``generator``   ``FastGenerator``, a drop-in for ``SPADEGenerator`` at inference
"""

from .generator import FastGenerator, optimize_for_inference

__all__ = ["FastGenerator", "optimize_for_inference"]
