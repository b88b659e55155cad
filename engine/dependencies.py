"""The third-party packages cardiGAN Studio installs, by the name they are imported as.

A ``pip install --no-deps``, a half-finished upgrade or a package removed by hand leaves an
import failing deep inside a command or the app; :func:`missing_dependency` turns that
failure into one line naming what to install, and leaves our own modules' failures (bugs)
alone. ``DISTRIBUTIONS`` mirrors ``[project] dependencies`` in pyproject.toml (a test keeps
them in step).
"""

from __future__ import annotations

# import name -> the name pip installs it under
DISTRIBUTIONS = {
    "torch": "torch",
    "numpy": "numpy",
    "h5py": "h5py",
    "pydicom": "pydicom",
    "PIL": "pillow",
    "PySide6": "PySide6-Essentials",
    "qtawesome": "qtawesome",
    "SimpleITK": "SimpleITK",
    "scipy": "scipy",
    "safetensors": "safetensors",
    "tqdm": "tqdm",
    "imageio": "imageio",
    "imageio_ffmpeg": "imageio-ffmpeg",
}


def missing_dependency(exc: BaseException) -> str | None:
    """One line for a ModuleNotFoundError of one of our dependencies, else None."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    if top not in DISTRIBUTIONS:
        return None
    package = DISTRIBUTIONS[top]
    return (f"the package {package} that cardiGAN Studio needs is not installed "
            f"(pip install {package}, or reinstall cardigan-studio with its dependencies)")
