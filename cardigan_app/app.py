"""Creating the QApplication and the main window."""

from __future__ import annotations

import sys


def create_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("cardiGAN Studio")
    app.setOrganizationName("cardiGAN")
    return app


def run_app(argv: list[str] | None = None) -> int:
    app = create_application(argv)
    from .main_window import MainWindow

    window = MainWindow()
    window.show()
    return app.exec()
