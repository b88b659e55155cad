"""The training progress panel: bars, speed, loss curves, the newest preview, a log tail.

It owns the :class:`~.process.TrainingProcess` of the run it shows. Stop asks the child to
stop after the current iteration (it saves its state); Resume starts it again with
``--resume``; when the child dies the panel says how (exit code or signal, the Failed
event's message, the last lines it wrote) and offers Resume, since states are written
atomically and the newest one survives a kill.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QProgressDialog, QPushButton, QSlider, QSplitter, QVBoxLayout, QWidget)

from engine.data.dataset_folder import summary_of
from engine.data.prepare import PrepareOptions
from engine.progress import Progress
from engine.training.batches import epoch_number
from engine.training.events import (CheckpointSaved, Failed, Finished, Notice, ProgressUpdate, SamplePreview,
                                    Scalars, Started)
from engine.training.run_folder import RunFolder, RunSummary
from engine.training.stats import diagnostics, losses, progress

from .. import theme
from ..data_tools.job_dialog import open_folder
from ..data_tools.prepare_form import PREPARE_WORDS
from ..device_choice import device_text
from ..icons import icon
from ..tasks import BackgroundTask
from ..wording import studio_words
from .command import TrainCommand
from .loss_plot import LossPlot
from .preview import SamplePreview as PreviewView
from .process import TrainingExit, TrainingProcess
from .run_folders import run_info

LOG_LINES = 400
STARTING = "Starting: loading the data and building the networks\u2026"
MEASURING = "measuring speed\u2026"
LOG_SHOWN = 3  # lines the log shows at least (the panel still fits under the canvases at 1280 x 800)
OK, BUSY, BAD = (theme.text_style(c) for c in (theme.OK, theme.BUSY, theme.ERROR))


def format_duration(seconds: float) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "\u2014"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def log_height(view: QPlainTextEdit, lines: int) -> int:
    """The height of ``view`` showing ``lines`` lines of its font."""
    margins = view.contentsMargins()
    document = 2 * int(view.document().documentMargin())
    return lines * view.fontMetrics().lineSpacing() + document + margins.top() + margins.bottom()


class TrainingPanel(QWidget):
    openModelRequested = Signal(str)  # a model file to load in the studio
    stateChanged = Signal(str)  # idle | preparing | running | stopping | finished | stopped | failed
    exited = Signal(object)  # TrainingExit of the child

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.process = TrainingProcess(self)
        self.process.event.connect(self._event)
        self.process.logLine.connect(self.log)
        self.process.exited.connect(self._exited)
        self.process.startFailed.connect(self._start_failed)
        self.process.started.connect(lambda pid: self.log(f"training process started (pid {pid})"))
        self.command: TrainCommand | None = None
        self.state = "idle"
        self.last_exit: TrainingExit | None = None
        self.prepare_task: BackgroundTask | None = None
        self.total_iters = 0
        self._run_started = 0.0
        self._trained = False  # the child got as far as training (a refusal before that saved nothing to lose)
        self._already_done = 0  # a resumed run that had trained all it was asked to (its iterations)
        self._epochs: tuple[int, int] | None = None  # (epochs, iterations per epoch) of the run training

        self.title = QLabel("No training run")
        title_font = self.title.font()
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("Start one with Train \u203a New training run\u2026")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.iter_bar = QProgressBar()
        self.iter_bar.setRange(0, 1)
        self.iter_bar.setValue(0)
        self.iter_bar.setFormat("iterations")
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setRange(0, 1)
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat("epochs")
        self.eta = QLabel("ETA \u2014")
        self.speed = QLabel("\u2014 images/s")
        self.elapsed = QLabel("")
        self.critic = QLabel("")  # the run's diagnostics (a pooled critic's gap), when it logs any
        self.critic.setToolTip("The pooled critic's mean verdict on real images minus on synthetic ones: "
                               "about 0 while it is fooled, growing while it tells them apart")
        self.lr = QLabel("")  # the generator's learning rate at the newest logged step
        self.lr.setToolTip("The generator's learning rate at the last logged iteration (it decays "
                           "linearly over the run's last niter_decay epochs)")
        for label in (self.eta, self.speed, self.elapsed, self.lr):
            label.setMinimumWidth(110)
        bars = QGridLayout()
        bars.addWidget(self.iter_bar, 0, 0)
        bars.addWidget(self.eta, 0, 1)
        bars.addWidget(self.epoch_bar, 1, 0)
        bars.addWidget(self.speed, 1, 1)
        bars.addWidget(self.elapsed, 0, 2)
        bars.addWidget(self.critic, 1, 2)
        bars.addWidget(self.lr, 0, 3)
        bars.setColumnStretch(0, 1)

        self.plot = LossPlot()
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 95)
        self.smoothing.setValue(80)
        self.smoothing.setFixedWidth(110)
        self.smoothing.setToolTip("Smoothing of the loss curves (moving average)")
        self.smoothing.valueChanged.connect(lambda v: self.plot.set_smoothing(v / 100))
        plot_box = QWidget()
        plot_layout = QVBoxLayout(plot_box)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addWidget(self.plot, 1)
        smoothing_row = QHBoxLayout()
        smoothing_row.addStretch(1)
        smoothing_row.addWidget(QLabel("Smoothing"))
        smoothing_row.addWidget(self.smoothing)
        plot_layout.addLayout(smoothing_row)
        self.preview = PreviewView()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setPlaceholderText("Notices and messages of the training process")
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # long paths wrap, none is cut
        self.log_view.setMinimumHeight(log_height(self.log_view, LOG_SHOWN))
        self._log_follows = True  # the newest line stays in view until the user scrolls up
        log_bar = self.log_view.verticalScrollBar()
        log_bar.actionTriggered.connect(lambda _action: self._follow_log(log_bar.sliderPosition() >= log_bar.maximum()))
        log_bar.rangeChanged.connect(lambda _low, _high: self._show_newest_log_line())

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(plot_box)
        top.addWidget(self.preview)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.log_view)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([1000, 110])

        self.stop_button = QPushButton(icon("stop-circle-outline"), "Stop")
        self.stop_button.setToolTip("Stop after this iteration and save the training state (Resume continues)")
        self.resume_button = QPushButton(icon("play-circle-outline"), "Resume")
        self.resume_button.setToolTip("Continue the run from its newest saved state")
        self.copy_button = QPushButton(icon("content-copy"), "Copy command")
        self.copy_button.setToolTip("Copy the run's cardigan train command, to run it from a terminal")
        self.copy_button.clicked.connect(self.copy_command)
        self.folder_button = QPushButton(icon("folder-open-outline"), "Open run folder")
        self.model_button = QPushButton(icon("chip"), "Open model in studio")
        self.model_button.setToolTip("Load the run's model.safetensors into the studio's model picker")
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.folder_button.clicked.connect(self.open_folder)
        self.model_button.clicked.connect(self.open_model)
        buttons = QHBoxLayout()
        for button in (self.stop_button, self.resume_button, self.folder_button, self.model_button,
                       self.copy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addLayout(bars)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(buttons)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)
        self._update_buttons()

    # -- state ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process.running or (self.prepare_task is not None and self.prepare_task.running)

    @property
    def run_dir(self) -> Path | None:
        return self.command.run if self.command else None

    def _set_state(self, state: str, text: str, style: str = "") -> None:
        self.state = state
        self.status.setText(text)
        self.status.setStyleSheet(style)
        self._update_buttons()
        self.stateChanged.emit(state)

    def can_resume(self) -> bool:
        if self.running or self.command is None:
            return False
        if self.last_exit is not None and self.last_exit.ok and not self.last_exit.stopped_early:
            return False  # finished: nothing left to do
        return run_info(self.command.run).resume_from is not None

    def _update_buttons(self) -> None:
        running = self.running
        self.stop_button.setEnabled(running and self.state not in ("stopping",))
        self.resume_button.setEnabled(self.can_resume())
        run = self.run_dir
        self.folder_button.setEnabled(run is not None and run.is_dir())
        self.model_button.setEnabled(run is not None and RunFolder(run).model_path.is_file())
        self.copy_button.setEnabled(self.command is not None)
        if self.command is not None:
            self.copy_button.setToolTip(f"Copy the command, to run it from a terminal:\n{self.command.display()}")

    def log(self, line: str) -> None:
        self.log_view.appendPlainText(line)
        self._show_newest_log_line()

    def _follow_log(self, follows: bool) -> None:
        """Scrolled by the user: to the end, the log follows new lines again; above it, it stays."""
        self._log_follows = follows

    def _show_newest_log_line(self) -> None:
        """Scroll the log so its newest line is its bottom one (its range grows after a line was
        added, as the view lays its lines out late, so this runs again then). The range counts
        blocks, and wrapped lines make its end overshoot, leaving the view's lower part empty:
        it then steps back while the newest line still fits."""
        if not self._log_follows:
            return
        view, bar = self.log_view, self.log_view.verticalScrollBar()
        bar.setValue(bar.maximum())
        newest = view.document().lastBlock()
        while bar.value() > 0:
            bar.setValue(bar.value() - 1)
            if view.blockBoundingGeometry(newest).translated(view.contentOffset()).bottom() > view.viewport().height():
                bar.setValue(bar.value() + 1)
                break

    # -- starting ------------------------------------------------------------------------
    def start(self, command: TrainCommand, prepare: PrepareOptions | None = None) -> None:
        """Run ``command``; with ``prepare``, first prepare that source into ``command.data``."""
        if self.running:
            raise RuntimeError("a training run is already in progress")
        fresh = self.command is None or Path(command.run) != Path(self.command.run) or command.overwrite
        self.command = command
        self.last_exit = None
        self.title.setText(f"Run folder: {command.run}")
        self.title.setToolTip(command.display())
        if fresh:
            self.plot.clear()
            self.preview.clear()
            self.critic.setText("")  # a resumed run's comes back from its history
            self.lr.setText("")
            if not command.overwrite:  # (the run it replaces is not this one's history)
                self._load_history(Path(command.run))
        if prepare is not None:
            self._prepare_then_train(prepare, command)
            return
        self._launch(command)

    def offer_resume(self, command: TrainCommand, summary: RunSummary | None = None) -> None:
        """Show an unfinished run found on disk (the one the studio ran when it last closed)
        with its curves and newest preview, as a stopped run that Resume continues;
        ``summary``: its folder as already read (:func:`run_info`), else read here."""
        if self.running:
            raise RuntimeError("a training run is already in progress")
        summary = run_info(command.run) if summary is None else summary
        self.command, self.last_exit = command, None
        self.title.setText(f"Run folder: {command.run}")
        self.title.setToolTip(command.display())
        self.plot.clear()
        self.preview.clear()
        self._load_history(Path(command.run))
        planned = summary.planned_iters()
        if planned:
            self.iter_bar.setRange(0, planned)
            self.iter_bar.setFormat("iteration %v / %m")
            self.iter_bar.setValue(min(summary.resume_from or 0, planned))
        self.epoch_bar.setVisible(False)  # (its epochs are counted once it trains again)
        self.speed.setText("")
        text = (f"Not finished when the studio last closed: its state was saved at iteration "
                f"{summary.resume_from}; Resume continues from there.")
        self.log(text)
        self._set_state("stopped", text, OK)

    def _load_history(self, run: Path) -> None:
        """Curves of a run being resumed, from its stats.jsonl."""
        folder = RunFolder(run)
        records, skipped = folder.read_stats_counted()
        if skipped:
            self.log(f"skipped {skipped} damaged line{'s' if skipped > 1 else ''} of {folder.stats_path.name}")
        for record in records:
            values = losses(record)
            if "iter" in record and values:
                self.plot.add(int(record["iter"]), values)
            self.show_diagnostics(diagnostics(record))
            self.show_progress(progress(record))
        newest = folder.newest_sample()
        if newest is not None:
            self.preview.show_sample(newest[1], newest[0])

    def _launch(self, command: TrainCommand) -> None:
        self.log(command.headline())  # the command itself: the title's tooltip and Copy command
        self._run_started = time.monotonic()
        self._trained = False
        self._already_done = 0
        self._clock.start()
        self.process.start(command)
        self._show_starting()
        self._set_state("running", STARTING, BUSY)

    def _show_starting(self) -> None:
        """Until the child's Started event: a busy bar, and no speed or time left to show yet."""
        self.iter_bar.setRange(0, 0)
        self.iter_bar.setFormat(STARTING)
        self.epoch_bar.setVisible(False)
        self.eta.setText("")
        self.speed.setText("")

    def _end_starting(self) -> None:
        """A child that ended before it started training leaves no busy bar behind."""
        if self.iter_bar.maximum() == 0 and self.prepare_task is None:
            self.iter_bar.setRange(0, 1)
            self.iter_bar.setValue(0)
            self.iter_bar.setFormat("iteration %v / %m")

    def _prepare_then_train(self, options: PrepareOptions, command: TrainCommand) -> None:
        self.log(f"preparing {options.source} into {command.data}")
        task = BackgroundTask(lambda progress, stop: options.run(command.data, False, progress, stop),
                              "prepare-for-training", self, studio_words(PREPARE_WORDS))
        task.progressed.connect(self._prepare_progress)
        task.succeeded.connect(lambda manifest: self._prepared(manifest, command))
        task.failed.connect(lambda message: self._prepare_ended(f"Preparing the data failed: {message}", BAD, "failed"))
        task.cancelled.connect(lambda: self._prepare_ended("Preparation cancelled; nothing was written.", "", "idle"))
        self.prepare_task = task
        self.iter_bar.setRange(0, 0)
        task.start()
        self._set_state("preparing", f"Preparing {options.source.name}\u2026", BUSY)

    def _prepare_progress(self, progress: Progress) -> None:
        self.iter_bar.setRange(0, max(progress.total, 1))
        self.iter_bar.setFormat("preparing %v / %m patients")
        self.iter_bar.setValue(progress.done)

    def _prepared(self, manifest: dict, command: TrainCommand) -> None:
        counts = summary_of(manifest).counts
        self.log("prepared: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        self.prepare_task = None
        self.iter_bar.setFormat("iteration %v / %m")
        self._launch(command)

    def _prepare_ended(self, text: str, style: str, state: str) -> None:
        self.prepare_task = None
        self.iter_bar.setRange(0, 1)
        self.iter_bar.setValue(0)
        self.iter_bar.setFormat("iteration %v / %m")
        self.log(text)
        self._set_state(state, text, style)

    # -- control -------------------------------------------------------------------------
    def stop(self) -> None:
        """Graceful: the child finishes its iteration, saves its state and exits."""
        if self.prepare_task is not None and self.prepare_task.running:
            self.prepare_task.cancel()
            return
        if self.process.stop():  # (the child's log says it stops)
            self._set_state("stopping", "Stopping after this iteration and saving the state\u2026", BUSY)

    def resume(self) -> None:
        if not self.can_resume() or self.command is None:
            return
        # the same time limit as before (a run kept to its nightly hours stays so)
        self.start(dataclasses.replace(TrainCommand.resume_run(self.command.data, self.command.run),
                                       time_limit=self.command.time_limit))

    def copy_command(self) -> None:
        if self.command is not None:
            QApplication.clipboard().setText(self.command.display())

    def open_folder(self) -> None:
        if self.run_dir is not None:
            open_folder(self.run_dir)

    def open_model(self) -> None:
        if self.run_dir is not None and RunFolder(self.run_dir).model_path.is_file():
            self.openModelRequested.emit(str(RunFolder(self.run_dir).model_path))

    def stop_and_wait(self, timeout_ms: int | None = None) -> bool:
        """Stop gracefully and wait (keeping the UI painted) until the child has saved and
        exited, however long a large state takes to write; the dialog's "Quit without saving"
        (or ``timeout_ms``, for scripts) kills it instead. True when it stopped by itself."""
        if self.prepare_task is not None and self.prepare_task.running:
            self.prepare_task.cancel()
            self.prepare_task.wait(30.0)
        if not self.process.running:
            return True
        dialog = QProgressDialog("Stopping the training run and saving its state\u2026", "Quit without saving",
                                 0, 0, self.window())
        dialog.setWindowTitle("Stopping training")
        dialog.setMinimumDuration(300)
        dialog.setValue(0)  # starts the clock that shows it after 300 ms
        loop = QEventLoop()
        self.process.exited.connect(loop.quit)
        dialog.canceled.connect(loop.quit)
        if timeout_ms is not None:
            QTimer.singleShot(timeout_ms, loop.quit)
        self.stop()
        if self.process.running:
            loop.exec()
        self.process.exited.disconnect(loop.quit)
        dialog.close()
        dialog.deleteLater()
        if self.process.running:  # the user chose not to wait (or a script's time ran out)
            self.process.kill()
            self.process.wait_for_exit(5000)
            return False
        return True

    def show_diagnostics(self, values: dict[str, float]) -> None:
        """The newest diagnostics beside the speed (the pooled critic's gap as "critic gap")."""
        gap = values.get("D_pooled_gap")
        if gap is not None and math.isfinite(gap):
            self.critic.setText(f"critic gap {gap:.2f}")

    def show_progress(self, values: dict[str, float]) -> None:
        """The newest learning rate (of the generator) beside the elapsed time."""
        lr = values.get("lr_g")
        if lr is not None and math.isfinite(lr):
            self.lr.setText(f"lr {lr:.3g}")

    # -- events --------------------------------------------------------------------------
    def _event(self, event) -> None:
        if isinstance(event, Started):
            self._trained = True
            self.eta.setText("ETA \u2014")
            self.speed.setText(MEASURING)
            self.total_iters = event.total_iters
            self.iter_bar.setFormat("iteration %v / %m")
            self.iter_bar.setRange(0, max(event.total_iters, 1))
            self.iter_bar.setValue(event.start_iter)
            epochs = max(1, math.ceil(event.total_iters / max(event.iters_per_epoch, 1)))
            self._epochs = epochs, max(event.iters_per_epoch, 1)
            # the epoch bar fills with the iterations (not a whole epoch at its first step);
            # a run shorter than two epochs has no use for it
            self.epoch_bar.setVisible(epochs >= 2)
            self.epoch_bar.setRange(0, max(event.total_iters, 1))
            self.epoch_bar.setValue(event.start_iter)
            self.epoch_bar.setFormat(f"epoch {min(event.start_iter // max(event.iters_per_epoch, 1) + 1, epochs)}"
                                     f" / {epochs}")
            where = f"from iteration {event.start_iter}" if event.start_iter else "from scratch"
            if event.start_iter >= event.total_iters:
                self._already_done = event.start_iter
                self.log(f"nothing to train: the run has trained all {event.total_iters} iterations asked for")
                return
            self.log(f"training on {device_text(event.device)}: {event.total_iters} iterations "
                     f"({event.iters_per_epoch} per epoch), {where}")
            if self.state != "stopping":
                self._set_state("running", f"Training on {device_text(event.device)} {where}", OK)
        elif isinstance(event, ProgressUpdate):
            self.iter_bar.setRange(0, max(event.total_iters, 1))
            self.epoch_bar.setRange(0, max(event.total_iters, 1))
            self._reached(event.iteration, newest=False)
            self.epoch_bar.setFormat(f"epoch {event.epoch} / {event.total_epochs}")
            self.eta.setText(f"ETA {format_duration(event.eta_s)}")
            self.speed.setText(f"{event.img_per_s:.1f} images/s" if event.img_per_s else "\u2014 images/s")
        elif isinstance(event, Scalars):
            self._reached(event.iteration)  # progress is reported a few times a second, losses each step
            self.plot.add(event.iteration, losses(event.values))
            self.show_diagnostics(diagnostics(event.values))
            self.show_progress(progress(event.values))
        elif isinstance(event, SamplePreview):
            self._reached(event.iteration)
            self.preview.show_sample(event.path, event.iteration)
        elif isinstance(event, CheckpointSaved):
            self.log(f"saved state at iteration {event.iteration}")
            self._update_buttons()
        elif isinstance(event, Notice):
            self.log(event.said(self.process.words))
        elif isinstance(event, Failed):
            self.log(f"failed: {event.said(self.process.words)}")
        elif isinstance(event, Finished):
            # progress is reported a few times a second: the last iterations may not have been
            self.iter_bar.setValue(event.iteration)
            self.epoch_bar.setValue(event.iteration)
            self.log(f"{'stopped' if event.stopped_early else 'finished'} at iteration {event.iteration}; "
                     f"model: {event.model_path}")

    def _reached(self, iteration: int, newest: bool = True) -> None:
        """Move the bars to ``iteration``. The curves and previews arrive with every logged
        step while progress is reported a few times a second, so an iteration they name
        (``newest``) only moves the bars forward: they never show fewer than the curves."""
        if newest and iteration <= self.iter_bar.value():
            return
        for bar in (self.iter_bar, self.epoch_bar):
            if bar.maximum() > 0:
                bar.setValue(min(iteration, bar.maximum()))
        if newest and self._epochs is not None:
            epochs, per_epoch = self._epochs
            self.epoch_bar.setFormat(f"epoch {epoch_number(iteration, per_epoch, epochs)} / {epochs}")

    def _tick(self) -> None:
        if self.process.running:
            self.elapsed.setText(f"elapsed {format_duration(time.monotonic() - self._run_started)}")

    def _exited(self, result: TrainingExit) -> None:
        self._clock.stop()
        self._end_starting()
        self._tick()
        if self.speed.text() == MEASURING:  # (nothing was trained to measure)
            self.speed.setText("")
        self.last_exit = result
        self.eta.setText("ETA \u2014")  # nothing runs any more, however it ended
        text = result.describe()
        if result.ok and self._already_done and not result.stopped_early:
            text = (f"Nothing to train: the run had already finished at iteration {self._already_done}. To train "
                    "it longer, resume it from New training run\u2026 with \"Train N more iterations\".")
            self._set_state("finished", text, OK)
        elif result.ok:
            state = "stopped" if result.stopped_early else "finished"
            self._set_state(state, text, OK)
        else:
            if result.crashed or not result.failure:
                tail = [line for line in result.stderr_tail if line.strip()][-3:]
                for line in tail:
                    self.log(f"  {line}")
            if self.can_resume():
                saved = run_info(self.command.run).resume_from
                text += f" The state saved at iteration {saved} is intact: Resume continues from there"
                lost = result.iteration - saved
                text += ("." if lost <= 0 else " (the iteration after it is trained again)." if lost == 1 else
                         f" (the {lost} iterations after it are trained again).")
            elif self._trained and run_info(self.command.run).resume_from is None:
                text += (" No training state was saved yet, so the run has to start again "
                         "(New training run, Replace the run in this folder).")
            self.log(text)
            self._set_state("failed", text, BAD)
        self.exited.emit(result)

    def _start_failed(self, message: str) -> None:
        self._clock.stop()
        self._end_starting()
        self.eta.setText("ETA \u2014")
        self.log(message)
        self._set_state("failed", message, BAD)
