"""The ``cardigan`` console script: the desktop app with no command, else the headless CLI.

``cardigan PATH ...`` opens the app with those files (a mask, a Slicer segmentation, an image
to trace over, a model, a prepared dataset folder), as ``itksnap`` or ``Slicer`` take the
files to open. Qt is imported only when the app is opened, so the commands work where no
display (or no working Qt) is available.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# the Debian/Ubuntu packages Qt's window needs, named in every message about them
QT_SYSTEM_PACKAGES = ("libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3 "
                      "libglib2.0-0 libx11-6 libxcb-cursor0")


def display_available() -> bool:
    """Whether a Qt window can be shown (or an offscreen platform was chosen)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    try:
        return launch(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # Ctrl-C before a command's own handling is in place
        print("cardigan: interrupted", file=sys.stderr)
        return 130


def files_to_open(argv: list[str]) -> list[Path] | None:
    """The paths ``cardigan PATH ...`` opens in the app, or None when ``argv`` is a command
    line (its first word a command or an option). A word that names no file is a path only
    when it looks like one (a folder separator or a suffix), and then FileNotFoundError names
    it; a mistyped command is left to the command line's own message."""
    from engine.cli.main import headless_commands

    if not argv or argv[0].startswith("-") or argv[0] in headless_commands():
        return None
    paths = [Path(word).expanduser() for word in argv]
    missing = [word for word, path in zip(argv, paths) if not path.exists()]
    if not missing:
        return paths
    looks_like_a_path = [word for word in missing if looks_like_path(word)]
    if looks_like_a_path:
        raise FileNotFoundError(looks_like_a_path[0])
    return None


def looks_like_path(word: str) -> bool:
    """Whether a command-line word is meant as a file or folder (``data/``, ``~/x``,
    ``heart.png``) rather than a command."""
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    return any(sep in word for sep in separators) or word.startswith("~") or bool(Path(word).suffix)


def launch(argv: list[str]) -> int:
    try:
        files = files_to_open(argv)
    except FileNotFoundError as missing:
        print(f"cardigan: {missing}: no such file or folder to open (the commands: cardigan --help)",
              file=sys.stderr)
        return 2
    if argv and files is None:
        from engine.cli.main import main as cli_main

        return cli_main(argv)
    if not display_available():
        from engine.cli.main import headless_commands

        print("cardigan: no display available to open the app; the headless commands are: "
              + ", ".join(headless_commands()) + " (see cardigan --help)", file=sys.stderr)
        return 1
    problem = app_import_problem()
    if problem:
        print(f"cardigan: cannot open the app: {problem}; the commands work without it "
              "(cardigan --help)", file=sys.stderr)
        return 1
    from .app import run_app

    return run_app(files=files or [])


def app_import_problem() -> str | None:
    """Why the app's code cannot be loaded, in one line, or None when it can: a dependency
    that is not installed, or Qt's libraries missing a system library (``libEGL.so.1``).
    Anything else failing to import is a bug and raises."""
    from engine.dependencies import missing_dependency

    try:
        import PySide6.QtWidgets  # noqa: F401 - loads Qt's own libraries

        from . import main_window  # noqa: F401 - and every module the window needs
    except ImportError as exc:
        line = missing_dependency(exc)
        if line:
            return line
        if "PySide6" in str(getattr(exc, "name", "") or "") or "shared object" in str(exc):
            return (f"Qt's libraries could not be loaded ({exc}); install the system libraries "
                    f"Qt needs (Debian/Ubuntu: apt-get install {QT_SYSTEM_PACKAGES})")
        raise
    return None


if __name__ == "__main__":
    sys.exit(main())
