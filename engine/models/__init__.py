"""Model files: native safetensors models, NVlabs SPADE import, built-in models."""

from .handle import GeneratorModel
from .modelfile import load_model_file, save_model_file
from .nvlabs import import_nvlabs
from .registry import BUILTIN_MODELS, open_model

__all__ = ["GeneratorModel", "load_model_file", "save_model_file", "import_nvlabs",
           "open_model", "BUILTIN_MODELS"]
