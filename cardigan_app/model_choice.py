"""The model the studio draws with, as the user chose it: loading it, telling how that went,
and remembering it.

:class:`ModelChoice` owns the model the user chose (remembered in the studio state once it
has loaded, so the next start opens it; the default model is never remembered, so a demo
model bundled later is picked up), the notes its "Model ... ready" status line adds (a saved
device this machine lacks, a model that failed and was replaced, a note given with
:meth:`ModelChoice.note_when_ready`), a recent model whose file has gone taken off the
recent models (and said so), the Open model dialogs, and the watch on the model file
in use (:class:`~cardigan_app.model_watch.ModelFileWatcher`: a file rewritten on disk is
loaded again). It relies on the window's live synthesis (``live``, which loads models off the
window's thread and says when one has loaded or failed), its state, its settings (the recent
models), the model and synthesis panels, and the status bar (whose note about a file just opened
its lines never replace: :meth:`~cardigan_app.status_line.StatusBar.show_background`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from engine.models.registry import (FILE_DIALOG_FILTER, as_builtin, default_model, display_name, is_builtin,
                                    model_file_of)

from . import folders
from .model_watch import ModelFileWatcher
from .synthesis.jobs import ModelInfo

if TYPE_CHECKING:
    from .main_window import MainWindow


def loaded_spec(spec: str | Path) -> str:
    """The spec a model is loaded by: a path made absolute, a training run folder its run's
    model file (a built-in model's name as it is, and the bundled demo model's file ``demo``)."""
    spec = as_builtin(spec)
    return str(spec) if is_builtin(spec) else os.path.abspath(model_file_of(spec))


class ModelChoice:
    """The window's model: what the user chose, its loading, and the file watched under it."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.live, self.state = window.live, window.state
        self.chosen: str | None = None  # only a model the user chose (the default is not remembered)
        self.load_note = ""  # what the next "ready" line says whatever model loads
        self.ready_notes: dict[str, str] = {}  # model spec: what its "ready" line adds (note_when_ready)
        self.live.modelLoading.connect(self._loading)
        self.live.modelLoaded.connect(self._loaded)
        self.watch = ModelFileWatcher(window)
        self.watch.changed.connect(self._file_changed)
        self.live.modelFailed.connect(self._failed)

    def start(self, model: str | None, device: str | None) -> None:
        """Load the first model: ``model`` (else the one remembered, else the default) on
        ``device`` (else the one remembered)."""
        chosen = model or self.state.model
        self.chosen = str(as_builtin(chosen)) if chosen else None  # the bundled file by its path is the demo model
        if device:
            self.state.set("device", device)
        self.load_note = self._usable_device()
        self.live.load(self.chosen or default_model(), self.state.device)

    def _usable_device(self) -> str:
        """A saved device this machine lacks (settings from a machine with a GPU, a damaged
        entry) becomes Auto, so the remembered model still opens; returns what to tell."""
        from engine.devices import resolve_device
        from engine.errors import DeviceError

        try:
            resolve_device(self.state.device)
        except DeviceError:
            saved = self.state.device
            self.state.set("device", "auto")
            return f"the device chosen last time ({saved}) is not available here, so Auto was used"
        return ""

    def load(self, spec: str) -> None:
        """Load a model the user chose (it is remembered for the next start). A path is made
        absolute first: a recent model or the next start's model is found from any folder. A
        training run folder is its run's model file (watched, so the run's newer weights are
        drawn with as they are saved)."""
        spec = loaded_spec(spec)
        self.chosen = spec
        self.live.load(spec)

    def note_when_ready(self, spec: str, text: str) -> None:
        """Add ``text`` to the status line's "Model ... ready" line once model ``spec`` (as given
        to :meth:`load`) has loaded, so a note said while it loads is not lost when that
        line replaces it. Dropped if that model fails to load."""
        self.ready_notes[loaded_spec(spec)] = text

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Open model", folders.start_folder("models"),
                                              FILE_DIALOG_FILTER)
        if name:
            folders.remember("models", name)
            self.window.load_model(name)

    def open_folder_dialog(self) -> None:
        """Open a model that is a folder: a training run (or its checkpoints folder), drawn with
        its model file, or an NVlabs SPADE checkpoints folder. A dialog of its own because one
        file dialog picks files or a folder, never either; a folder that holds no model is
        refused by the load in one line, and the model in use stays."""
        folder = QFileDialog.getExistingDirectory(self.window, "Open model folder", folders.start_folder("models"))
        if folder:
            folders.remember("models", Path(folder).parent)  # the next dialog shows its neighbours
            self.window.load_model(folder)

    def _loading(self, spec: str) -> None:
        self.window.model_panel.set_loading(spec)
        self.window.status_widgets.busy.setText(f"loading {display_name(spec)}\u2026")

    def _loaded(self, info: ModelInfo) -> None:
        window, spec = self.window, info.spec
        if not is_builtin(spec):
            window.settings.add_recent_model(spec)
        if spec == self.chosen:
            self.state.set("model", spec)
        window.model_panel.set_models(window.settings.recent_models(), spec)
        window.model_panel.set_loaded(spec, info.summary, info.device_label)
        window.model_panel.set_device(info.device)
        self.state.set("device", info.device)  # what the model runs on is the choice (not a reload)
        window.status_widgets.device.setText(info.device_label)
        window.status_widgets.busy.setText("")
        window.synthesis_panel.set_stochastic(info.stochastic, display_name(spec))
        window.synthesis_panel.set_model_style(info.own_style_scale, info.stochastic, display_name(spec))
        window.synthesis_panel.clear_variations()  # the old model's pictures are not this one's
        window.synthesis_panel.set_variation_seeds(self.live.current_variation_seeds())
        if window.echo_view.image is None:
            window.echo_view.set_placeholder("Synthesizing\u2026")
        notes = [note for note in (self.load_note, self.ready_notes.pop(spec, "")) if note]
        note, self.load_note = "".join(f"; {note}" for note in notes), ""
        window.statusBar().show_background(f"Model {display_name(spec)} ready on {info.device_label}, "
                                           f"loaded in {info.load_s:.1f} s{note}", 15000 if note else 6000)
        self.watch.watch(None if is_builtin(spec) or not Path(spec).is_file() else spec, info.file_stamp)

    def _file_changed(self, path: str) -> None:
        """The model file in use was rewritten (a training run's checkpoint, ``cardigan tune``
        in place): draw with the new weights."""
        if self.live.model is None or Path(self.live.model.spec) != Path(path):
            return  # another model was chosen meanwhile
        spec = self.live.model.spec  # as it was given (a path written ./run/model.safetensors stays so)
        self.window.statusBar().show_background(f"{display_name(spec)} changed on disk: reloading it", 6000)
        self.live.load(spec)

    def _failed(self, spec: str, message: str) -> None:
        window = self.window
        self.ready_notes.pop(spec, None)
        if spec in window.settings.recent_models() and not Path(spec).exists():
            window.settings.remove_recent_model(spec)
            message = (f"{display_name(spec)} is no longer in {Path(spec).parent} (moved or deleted), "
                       "so it was taken off the recent models")
        if self.live.model is None:  # another model is drawn with instead: say why once it is ready
            self.load_note = message
        if spec == self.state.model and self.live.model is None:
            self.state.set("model", "")  # a remembered model that no longer opens: back to the default
        if self.live.model is not None:  # a failed switch: the device in use stays the choice
            self.state.set("device", self.live.model.device)
        window.model_panel.set_models(window.settings.recent_models(), self.live.model_spec)  # without a file gone
        window.model_panel.set_error(message)
        window.model_panel.set_device(self.live.device_spec)
        window.status_widgets.busy.setText("")
        window.statusBar().show_background(message, 15000)
