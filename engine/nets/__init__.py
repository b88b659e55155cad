"""SPADE networks (Park et al. 2019) with NVlabs-compatible state-dict names.

``config``        the generator's architecture as a dataclass (every constructor argument)
``norms``         parameter-free norms and the SPADE / CLADE modulation layers
``blocks``        the SPADE residual block
``generator``     the SPADE generator
``encoder``       the VAE style encoder
``discriminator`` the multi-scale PatchGAN discriminator
"""

from .config import GeneratorConfig
from .generator import SPADEGenerator

__all__ = ["GeneratorConfig", "SPADEGenerator"]
