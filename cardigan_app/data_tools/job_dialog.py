"""What the Prepare, Export and Phantom dialogs share: one engine job at a time, with progress
and cancel.

A :class:`JobDialog` lays out the subclass's options above a progress bar, a status line, the
result's summary and a row of Start / Cancel / Open / Close buttons. The progress bar shows
only while a job runs and once one is done; before that, and after a failure or a cancel, an
empty bar would only say nothing, so it is hidden but keeps its room: the dialog is sized to
its content when it opens, and the status line and the buttons do not move when a job starts.
Content taller than the screen scrolls above the buttons; a dialog with tall options (Export
batch, New phantom dataset) puts the result beside them when the screen is wide enough for
both, so a 1280 x 800 screen shows it without scrolling. A note that appears, or grows, in
an open dialog (a refused output, a plan's warning) grows the dialog by its height, within
the screen, rather than bring a scroll bar. The progress and status are scrolled into view when a job
starts, the status when it fails or is cancelled, and the result when it ends well. The
subclass says what is wrong with its options (:meth:`JobDialog.problem`; an output that cannot
be written is said under its field before Start is pressed,
:meth:`JobDialog.watch_output`), starts its job with :meth:`JobDialog.run_task` and reports
success with :meth:`JobDialog.show_result`; progress, failure, cancelling and closing while the
job runs are handled here. The engine removes its staging folder on failure or cancel, so
neither leaves anything behind.

The engine's messages name the command line's options; a failure is shown with them said as
this dialog's options (:meth:`JobDialog.words`: the subclass's ``option_names`` and its
Overwrite check box).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QRect, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QGridLayout, QGroupBox, QLabel,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from engine.errors import USE_OVERWRITE, Message, Words, option, said
from engine.export.sources import READING, random_plan
from engine.progress import Progress

from .. import theme
from ..fitted_label import SettlingScrollArea
from ..icons import icon
from ..tasks import BackgroundTask, TaskFunction
from ..wording import studio_words
from .manifest_summary import ManifestSummary
from .output_note import OutputNote
from .prepare_form import ERROR_STYLE, OK_STYLE

FRAME_ALLOWANCE = 48  # pixels of a window manager's title bar and frame
SIDE_ALLOWANCE = 20  # pixels of a window manager's left and right frame
OPTIONS_ROW, BELOW_ROW = 0, 3  # the content grid's rows of the options and of a result below everything


# a number and the unit after it ("256 px", "64x64 px", "3.5 MB"): a line may not break between them
_NUMBER_AND_UNIT = re.compile(r"(\d) (px|[kKMGT]i?B|bytes?)\b")


def numbers_kept_with_units(text: str) -> str:
    """``text`` with the space between each number and its unit made a non-breaking one, so
    that a label wrapping its text never leaves "256" at a line's end and "px" on the next."""
    return _NUMBER_AND_UNIT.sub("\\1\u00a0\\2", text)


def show_plan(label: QLabel, count: int, seed: int, views: int = 2, phases: int = 2, variations: int = 1,
              detail: str = "", cine: bool = False) -> None:
    """Put in ``label`` what ``count`` generated patients make (pairs, or loops with ``cine``,
    patients per split, and ``detail``: their masks' size, say), in the warning colour, with
    advice, when a split would stay empty."""
    text, empty = random_plan(count, seed, views, phases, variations, cine)
    text += f"; {detail}" if detail else ""
    if empty:
        text += f" \u2014 no patient in {' or '.join(empty)}: choose 3 or more patients for every split"
    label.setText(numbers_kept_with_units(text))
    label.setStyleSheet(theme.text_style(theme.WARNING if empty else theme.MUTED))


def open_folder(path: Path | str) -> None:
    """Show ``path`` in the system's file manager."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class JobDialog(QDialog):
    """Base of a dialog that runs one engine job over patients on a :class:`BackgroundTask`."""

    failed = Signal(str)  # the one-line reason
    cancelled = Signal()

    start_tip = ""  # the Start button's tooltip when the job can start
    working = "Working"  # the status while it runs: "<working>: 3 of 10 patients"
    option_names: Words = {}  # this dialog's names of the options an engine message may name

    def __init__(self, parent: QWidget | None, start_button: QPushButton, open_button: QPushButton) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # hidden before a job, without the dialog jumping at Start
        self.progress.setSizePolicy(policy)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.summary_box = QGroupBox("Result")
        self.summary = ManifestSummary()
        QVBoxLayout(self.summary_box).addWidget(self.summary)
        self.summary_box.hide()
        self._reset_progress()

        self.buttons = QDialogButtonBox()
        self.start_button = start_button  # the default button once it is in the dialog (lay_out)
        self.cancel_button = QPushButton(icon("stop-circle-outline"), "Cancel")
        self.cancel_button.setToolTip("Stop; nothing is left in the output folder")
        self.open_button = open_button
        self.close_button = QPushButton("Close")
        for button in (self.start_button, self.cancel_button, self.open_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)

        self.task: BackgroundTask | None = None
        self.result_dir: Path | None = None
        self.manifest: dict | None = None
        self._started = 0.0
        self._options: tuple[QWidget, ...] = ()
        self._fitted_on_show = False
        self._content_height = 0  # the content's preferred height when the dialog last fitted or grew
        self._grow = QTimer(self)  # grows the dialog once a layout asked for has been done
        self._grow.setSingleShot(True)
        self._grow.setInterval(0)
        self._grow.timeout.connect(self.grow_to_content)
        self.output_note: OutputNote | None = None

    def lay_out(self, options: QWidget, disable_while_running: Iterable[QWidget],
                result_beside: bool = False) -> None:
        """Put ``options`` above the progress, status, result and buttons; the widgets in
        ``disable_while_running`` are greyed out while a job runs. Everything but the
        buttons scrolls, so a result taller than the screen never hides them. With
        ``result_beside`` the result goes right of the options when the screen is wide
        enough for both (:meth:`place_result`): options too tall to leave room for it below."""
        self._options = tuple(disable_while_running)
        self.options, self.result_beside = options, result_beside
        content = QWidget()
        self.grid = QGridLayout(content)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.addWidget(options, OPTIONS_ROW, 0)
        self.grid.addWidget(self.progress, 1, 0, 1, 2)
        self.grid.addWidget(self.status, 2, 0, 1, 2)
        self.grid.addWidget(self.summary_box, BELOW_ROW, 0, 1, 2)
        self.grid.setRowStretch(BELOW_ROW + 1, 1)
        self.grid.setColumnStretch(0, 1)
        self.scroll = SettlingScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(SettlingScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        # the focus opens on the first field, not on the scroll area around it (Tab first)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        content.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.buttons)
        # made the default only now that it is in the dialog: one made before is forgotten once a
        # Browse… button has had the focus, and Enter in a typed output would then open a file dialog
        self.start_button.setDefault(True)
        self.fit_to_screen()

    def place_result(self, screen_width: int) -> None:
        """The result right of the options (top-aligned) when the dialog may be made wide enough
        for both on a screen ``screen_width`` wide, else below the status, across the dialog."""
        beside = self.result_beside and (
            self.options.sizeHint().width() + self.grid.horizontalSpacing() + self.summary_box.sizeHint().width()
            + self._frame_width() <= screen_width - SIDE_ALLOWANCE)
        self.grid.removeWidget(self.summary_box)
        if beside:
            self.grid.addWidget(self.summary_box, OPTIONS_ROW, 1, Qt.AlignmentFlag.AlignTop)
        else:
            self.grid.addWidget(self.summary_box, BELOW_ROW, 0, 1, 2)

    def _frame_width(self) -> int:
        """What the dialog adds to its content's width: its margins and the scroll bar's room."""
        margins = self.layout().contentsMargins()
        return self.scroll.verticalScrollBar().sizeHint().width() + margins.left() + margins.right()

    def watch_output(self, note: OutputNote) -> OutputNote:
        """Keep ``note`` (and Start) up to date as its output or Replace box changes (a typed
        output once the typing pauses); the subclass puts it under the output field and ends
        :meth:`problem` with its problem."""
        self.output_note = note
        note.field.pathChanged.connect(self._output_changed)
        note.overwrite.toggled.connect(self._update_buttons)
        note.settled.connect(self._update_buttons)
        return note

    def _output_changed(self) -> None:
        """A typed output is looked at when the typing pauses; one chosen (Browse…) at once."""
        if self.output_note.field.edit.isModified():
            self.output_note.typed()
        self._update_buttons()

    def fit_to_screen(self) -> None:
        """As tall as the content wants, but on the screen: taller content scrolls. The layouts
        that wrapped notes asked for, once they had their widths, are done first: a note's height
        is its text's at the width it got (:class:`~cardigan_app.fitted_label.FittedLabel`)."""
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        if self.summary_box.isVisibleTo(self):
            self.place_result(screen.width())
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        content, margins = self.scroll.widget().sizeHint(), self.layout().contentsMargins()
        width = min(max(self.minimumWidth(), content.width() + self._frame_width()), screen.width() - SIDE_ALLOWANCE)
        height = (content.height() + self.buttons.sizeHint().height() + self.layout().spacing()
                  + margins.top() + margins.bottom())
        self._content_height = content.height()
        self.resize(max(self.width(), width) if self.isVisible() else width,
                    min(height, screen.height() - FRAME_ALLOWANCE))
        self._keep_on_screen(screen)

    def _keep_on_screen(self, screen: QRect) -> None:
        """Move the dialog up or left when it has grown past ``screen``'s bottom or right."""
        frame = self.frameGeometry()
        if self.isVisible() and (frame.bottom() > screen.bottom() or frame.right() > screen.right()):
            # grown past the screen's bottom or right: move up or left
            self.move(max(screen.left(), min(frame.x(), screen.right() - frame.width())),
                      max(screen.top(), min(frame.y(), screen.bottom() - frame.height())))

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and watched is self.scroll.widget():
            self._grow.start()  # once the layout has its new size
        return super().eventFilter(watched, event)

    def grow_to_content(self) -> None:
        """Grow an open dialog by what its content has grown since it last fitted (a note shown
        under a field), as far as it no longer fits, within the screen: no scroll bar comes
        with a note. A dialog the user made shorter keeps its scroll bar; none shrinks."""
        wanted = self.scroll.widget().sizeHint().height()
        grown, self._content_height = wanted - self._content_height, wanted
        if not self._fitted_on_show or not self.isVisible() or grown <= 0:
            return
        short = wanted - self.scroll.viewport().height()
        if short > 0:
            screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
            self.resize(self.width(), min(self.height() + min(grown, short), screen.height() - FRAME_ALLOWANCE))
            self._keep_on_screen(screen)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted_on_show:  # the style's sizes are known only now
            self._fitted_on_show = True
            self.fit_to_screen()

    # -- state ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def problem(self) -> str | None:
        """Why the job cannot start (shown on the Start button), or None."""
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def _update_buttons(self) -> None:
        if self.output_note is not None:
            self.output_note.refresh_unless_typing()
        running = self.running
        problem = self.problem()
        self.start_button.setEnabled(not running and problem is None)
        self.start_button.setToolTip(problem or self.start_tip)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and self.result_opens())
        self.close_button.setEnabled(not running)
        for widget in self._options:
            widget.setEnabled(not running)

    def result_opens(self) -> bool:
        """Whether the Open button can open the last result (there is one, by default)."""
        return self.result_dir is not None

    def set_status(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    def _reset_progress(self, value: int = 0, text: str = "") -> None:
        """No job running: the bar full (``value`` 1) after a job done, else hidden."""
        self.progress.setRange(0, 1)
        self.progress.setValue(value)
        self.progress.setFormat(text)
        self.progress.setVisible(bool(value))

    # -- running -------------------------------------------------------------------------
    def ready_to_start(self) -> bool:
        """True when no job runs and the options are complete; else says what is missing. The
        output is looked at afresh: it may have changed since it was typed."""
        if self.output_note is not None:
            self.output_note.refresh()
        problem = self.problem()
        if problem:
            self.set_status(problem, ERROR_STYLE)
        return problem is None and not self.running

    def run_task(self, function: TaskFunction, name: str, status: str,
                 succeeded: Callable[[Any], None]) -> None:
        """Run ``function(progress, should_stop)`` in the background; ``succeeded`` gets its
        return value. The last result is hidden meanwhile but kept: a job that fails or is
        cancelled leaves what an earlier one wrote in place, so it is shown again."""
        if self.task is not None:
            self.task.deleteLater()
        self.summary_box.hide()
        self.progress.setRange(0, 0)
        self.progress.setFormat("%v / %m patients")
        self.progress.show()
        self.set_status(status)
        self.task = BackgroundTask(function, name, self, self.words())
        self.task.progressed.connect(self._progressed)
        self.task.succeeded.connect(succeeded)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(self._cancelled)
        self.task.finished.connect(self._update_buttons)
        self._started = time.monotonic()
        self.task.start()
        self._update_buttons()
        self.scroll_into_view(self.progress, self.status)

    def elapsed(self) -> float:
        """Seconds since the current job started."""
        return time.monotonic() - self._started

    def cancel(self) -> None:
        if self.running and self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.set_status("Cancelling\u2026")

    def _progressed(self, progress: Progress) -> None:
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        note = f" \u2014 {progress.message}" if progress.message else ""
        if progress.stage == READING:  # a masks folder read before the first patient is drawn
            self.set_status(f"Reading masks: {progress.done} of {progress.total}{note}")
        else:
            self.set_status(f"{self.working}: {progress.done} of {progress.total} patients{note}")

    def show_result(self, out: Path, manifest: dict, text: str, root: Path | None, title: str) -> None:
        """The job wrote ``out``: status ``text`` with the time it took, and the manifest's
        summary (thumbnails from ``root`` when that is a prepared layout)."""
        self.result_dir, self.manifest = out, manifest
        self._reset_progress(1, "done")
        self.set_status(f"{text} in {self.elapsed():.1f} s", OK_STYLE)
        self.summary.show_manifest(manifest, root, title)
        self.summary_box.show()
        if self.output_note is not None:
            self.output_note.mark_written()
        self._update_buttons()
        self.fit_to_screen()
        self.scroll_into_view(self.summary_box, self.status)

    def scroll_into_view(self, *widgets: QWidget) -> None:
        """Scroll to each of ``widgets`` in turn, so the last one surely shows: a dialog taller
        than the screen would otherwise start a job, or end one, out of sight below its options.
        Done once the layout has placed them, as they may have just been shown or grown."""
        def scroll() -> None:
            for widget in widgets:
                self.scroll.ensureWidgetVisible(widget, 0, 0)

        QTimer.singleShot(0, self, scroll)

    def words(self) -> Words:
        """The studio's words for engine advice, with this dialog's options for the command
        line's ("use --overwrite" -> tick "Replace the folder if it is not empty")."""
        overwrite = getattr(self, "overwrite", None)
        tick = {USE_OVERWRITE: f'tick "{overwrite.text()}"'} if overwrite is not None else {}
        return studio_words({**tick, **self.option_names})

    def in_dialog_words(self, message: str) -> str:
        """An engine message (a note on the way, a problem) as this dialog says it."""
        return said(message, self.words())

    def output_name_problem(self, problem: Message | None) -> str | None:
        """The engine's refusal of the output's name (:func:`engine.data.staging.named_as_file`,
        by the name alone) as the note under the output says it: "the output x.png: is named as
        a file, but it is a folder; name a new folder, such as x"."""
        if problem is None:
            return None
        return "the output " + problem.said({**self.words(), option("out"): "it"})

    def _show_last_result(self) -> None:
        """Show again the result of the last job that succeeded, if there was one."""
        self.summary_box.setVisible(self.result_dir is not None)

    def _failed(self, message: str) -> None:
        self._reset_progress()
        self.set_status(message, ERROR_STYLE)
        self._show_last_result()
        self._update_buttons()
        self.scroll_into_view(self.status)
        self.failed.emit(message)

    def _cancelled(self) -> None:
        self._reset_progress()
        self.set_status("Cancelled; nothing was written.")
        self._show_last_result()
        self._update_buttons()
        self.scroll_into_view(self.status)
        self.cancelled.emit()

    # -- closing -------------------------------------------------------------------------
    def reject(self) -> None:
        if self.running:
            self.cancel()
            return  # closing waits for the cancellation
        super().reject()

    def closeEvent(self, event) -> None:
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)
