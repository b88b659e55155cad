"""SPADE networks (Park et al. 2019) with NVlabs-compatible state-dict names.

``config``        the generator's architecture as a dataclass (every constructor argument)
``norms``         parameter-free norms and the SPADE / CLADE modulation layers
``blocks``        the SPADE residual block
``generator``     the SPADE generator
``encoder``       the VAE style encoder
``discriminator`` the multi-scale PatchGAN discriminator
"""

from .config import GeneratorConfig

__all__ = ["GeneratorConfig", "SPADEGenerator"]


def __getattr__(name: str):
    # the generator (and torch with it) loads on first use, so that reading a config, the
    # command line's option tables among them, does not wait for torch
    if name == "SPADEGenerator":
        from .generator import SPADEGenerator
        return SPADEGenerator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
