"""Closing the window: asking first, then shutting the studio down in order.

:class:`WindowClosing` is a base class of :class:`~cardigan_app.main_window.MainWindow` that
holds the close sequence: each of the window's ``close_guards`` (the features plugged in, a
cine loop being written) may veto closing after asking the user, then unsaved edits are
asked about; :meth:`WindowClosing.shutdown` (once only) stops the autosave and the file
still being read, waits for a loop being written, runs the ``shutdown_hooks``, saves the
window's layout and the studio state (saying in a dialog, before the window goes, when the
settings file could not be written: :meth:`~cardigan_app.settings.AppSettings.not_saved`), and
stops the live synthesis, the dataset browser and the autosaver.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QCloseEvent

from .dialogs.prompts import show_error


class WindowClosing:
    """The window's close and shutdown sequence (a base class of the main window)."""

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed and not (all(guard() for guard in self.close_guards)
                                     and self.files.confirm_discard("closing")):
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save settings and stop the background threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.recovery.stop()
        self.files.reader.shutdown()
        self.exporter.wait_cine()  # a loop being written (or stopped, as closing asked) ends whole or not at all
        for hook in self.shutdown_hooks:
            hook()
        self.settings.save_window(self.saveGeometry(), self.saveState(1), self.workspace.saveState()
                                  if self.workspace is not None else QByteArray())
        self.settings.save_state(self.state)
        if (lost := self.settings.not_saved()) is not None:
            show_error(self, "Settings not saved", lost)
        self.live.shutdown()
        self.dataset_browser.shutdown()
        self.autosaver.close()
