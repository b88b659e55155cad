"""Finding the files shipped with the app, in editable and regular installs alike."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_MODEL = ("models", "demo.safetensors")


def resource_path(*parts: str) -> Path:
    """Path of a shipped file (``resources/<parts>`` in the source tree)."""
    root = resources.files("cardigan_resources")
    return Path(str(root.joinpath(*parts)))


def demo_model_path() -> Path | None:
    """The bundled demo model, or None when this installation has none."""
    path = resource_path(*DEMO_MODEL)
    return path if path.is_file() else None
