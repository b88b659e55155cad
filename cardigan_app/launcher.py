"""The ``cardigan`` console script: the desktop app with no command, else the headless CLI.

Qt is imported only when the app is opened, so the commands work where no display (or no
working Qt) is available.
"""

from __future__ import annotations

import os
import sys


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


def launch(argv: list[str]) -> int:
    if argv:
        from engine.cli.main import main as cli_main

        return cli_main(argv)
    if not display_available():
        from engine.cli.main import headless_commands

        print("cardigan: no display available to open the app; the headless commands are: "
              + ", ".join(headless_commands()) + " (see cardigan --help)", file=sys.stderr)
        return 1
    from .app import run_app

    return run_app()


if __name__ == "__main__":
    sys.exit(main())
