"""Creating the QApplication and the main window."""

from __future__ import annotations

import sys

from .settings import APPLICATION, ORGANIZATION


def create_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from .icons import app_icon
    from .theme import apply_dark_theme

    existing = QApplication.instance()
    app = existing or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName(APPLICATION)
    if existing is None:
        apply_dark_theme(app)
    app.setWindowIcon(app_icon())
    return app


def run_app(argv: list[str] | None = None, files=()) -> int:
    """Show the studio; ``files`` (paths) are opened in it once it is up, after the offer to
    recover unsaved work."""
    app = create_application(argv)
    from PySide6.QtCore import QTimer

    from .main_window import MainWindow

    window = MainWindow()
    window.show()
    QTimer.singleShot(0, lambda: start_session(window, files))
    return app.exec()


def start_session(window, files=()) -> None:
    """Offer back what a crash left, then open ``files``: in turn, so a recovery question
    never stands over a file opening beneath it (and a recovered mask is asked about before
    a file replaces it)."""
    window.offer_recovery()
    if files:
        window.open_paths(list(files))
