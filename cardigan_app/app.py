"""Creating the QApplication and the main window."""

from __future__ import annotations

import os
import sys

from .launcher import QT_SYSTEM_PACKAGES
from .settings import APPLICATION, ORGANIZATION

WINDOW_SYSTEM_HELP = ("check that the display is reachable (DISPLAY, WAYLAND_DISPLAY) and that Qt's "
                      f"system libraries are installed (Debian/Ubuntu: apt-get install {QT_SYSTEM_PACKAGES}); "
                      "the commands work without a window (cardigan --help)")


def create_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from .icons import app_icon
    from .theme import apply_dark_theme

    existing = QApplication.instance()
    app = existing or new_application(QApplication, argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName(APPLICATION)
    if existing is None:
        apply_dark_theme(app)
    app.setWindowIcon(app_icon())
    return app


def new_application(application_class, argv: list[str]):
    """``application_class(argv)``, except that when Qt cannot start its window system (an
    unreachable display, a missing system library, an unknown QT_QPA_PLATFORM), which Qt
    answers by aborting the process with a core dump, the process ends with one line on
    stderr and status 1. What Qt says while it starts is kept back until then: it becomes
    part of that line, or is shown as Qt would show it once the application is up."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    said: list[tuple[str, str]] = []

    def on_message(kind, context, message):
        if kind != QtMsgType.QtFatalMsg:
            said.append((getattr(context, "category", None) or "default", message))
            return
        print(f"cardigan: cannot open the app's window: {window_system_failure(said)}; "
              f"{WINDOW_SYSTEM_HELP}", file=sys.stderr, flush=True)
        os._exit(1)

    previous = qInstallMessageHandler(on_message)
    try:
        return application_class(argv)
    finally:
        qInstallMessageHandler(previous)
        for category, message in said:
            print(message if category == "default" else f"{category}: {message}", file=sys.stderr)


def window_system_failure(said: list[tuple[str, str]]) -> str:
    """What went wrong, in a few words, from what Qt said while starting: the platform plugin
    it could not start and the plugin's own reason (``could not connect to display :1``)."""
    plugin_lines = [message for category, message in said if "platform plugin" in message]
    plugin = next((line.split('"')[1] for line in reversed(plugin_lines) if line.count('"') >= 2), None)
    reasons = [message for category, message in said
               if category.startswith("qt.qpa.") and category != "qt.qpa.plugin"]
    if not reasons:
        platform = os.environ.get("QT_QPA_PLATFORM")
        display = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")
        reasons = [f"QT_QPA_PLATFORM={platform}" if platform else
                   f"display {display}" if display else "no display"]
    return f"Qt could not start its {plugin + ' ' if plugin else ''}platform plugin ({reasons[0]})"


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
