"""A status-bar field for a background job the user may stop: how far it is, and Cancel.

Hidden while no job runs. :meth:`JobProgress.start` shows it (a busy bar until the job says how
far it is), :meth:`JobProgress.show_progress` moves the bar, the Cancel button emits
:attr:`JobProgress.cancelRequested` (greyed once pressed, while the job cleans up) and
:meth:`JobProgress.stop` hides it again. It is a fixed field of the status bar
(:meth:`~cardigan_app.status_line.StatusBar.add_fixed`): a long message never pushes it away.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QToolButton, QWidget

from engine.progress import Progress

BAR_WIDTH = 120


class JobProgress(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(BAR_WIDTH)
        self.bar.setFormat("%p%")
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self._cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, what: str, cancel_tip: str) -> None:
        """Show the field for a job that has just started; ``what`` is the bar's tooltip."""
        self.bar.setRange(0, 0)
        self.bar.setToolTip(what)
        self.cancel_button.setToolTip(cancel_tip)
        self.cancel_button.setEnabled(True)
        self.show()

    def show_progress(self, progress: Progress) -> None:
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)

    def cancelling(self) -> None:
        """The job was asked to stop: the button greys until it has."""
        self.cancel_button.setEnabled(False)

    def stop(self) -> None:
        self.hide()
        self.bar.reset()

    def _cancel_clicked(self) -> None:
        if self.cancel_button.isEnabled():
            self.cancelRequested.emit()
