"""The main window: composes the widgets and wires them to the studio state.

What the studio is doing lives in :class:`~cardigan_app.state.StudioState` (tool, class,
brush, paint-over rule, model, device, seed, view options; the document being edited);
widgets set it and observe it. The pieces live in their own modules (``workspace``,
``canvas``, ``panels``, ``synthesis``, ``model_choice``, ``reference_image``, ``mask_dialogs``,
``mask_files``, ``opening``, ``export``, ``autosave``, ``crash_recovery``, ``settings``); this
class connects them and holds no choices of its own. Parts of the window itself live in its
base classes, each in a module of its own: the docks and their layout (``window_docks``), the
document edited and its key frames (``window_document``), the live synthesis, its seed and
variations and the cine loop shown in the views (``synthesis_views``), the widgets and views
following the state (``state_binding``), closing and shutting down (``window_closing``).
Later features plug in with :meth:`MainWindow.add_menu` (menus go before Help) and
:meth:`MainWindow.add_panel` (a dock, listed under View > Panels).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QMainWindow,
                               QMenu, QMessageBox)

from engine.labels import LABELS

from . import folders
from .actions import ActionRegistry
from .autosave import Autosaver
from .cine.key_frames import KeyFrames
from .cine.key_references import KeyReferences
from .cine.timeline import Timeline
from .crash_recovery import CrashRecovery
from .data_tools.menu import install_data_menu
from .dialogs.new_mask import FIRST_HEART_SEED, NewMaskChoice
from .dialogs.shortcuts import ShortcutsDialog, shortcut_rows
from .editing import LabelDocument
from .export import Exporter
from .icons import app_icon
from .mask_dialogs import MaskDialogs
from .mask_files import MaskFiles
from .model_choice import ModelChoice
from .opening import Opener
from .reference_image import ReferenceImage
from .panels.dataset_browser import DatasetItem
from .settings import AppSettings
from .state import StudioState
from .synthesis.latency import LatencyLog
from .synthesis.live import LiveSynthesis
from .training.menu import install_training
from .window_chrome import (StudioCommands, bind_actions, build_actions, build_menus, build_status_bar,
                            build_toolbar)
from .state_binding import StateBinding
from .synthesis_views import SynthesisViews
from .window_closing import WindowClosing
from .window_docks import WindowDocks
from .window_document import APP_NAME, WindowDocument
from .workspace import Workspace

# typing into these ends with Enter or Esc, which then hand the keys back to the canvas
FIELDS = (QLineEdit, QAbstractSpinBox, QComboBox, QAbstractSlider)
LEAVE_FIELD_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)

UNDO_MESSAGE_MS = 4000  # how long the status line says which step undo or redo took, or an opacity

# while the mouse holds an anatomy slider (one undo step still open), these commands wait:
# each would close the drag's step, or replace, reopen or save the document in the middle of it
WAIT_FOR_SLIDER = ("clear", "key_frame", "new", "new_deformed", "open", "trace", "save", "save_as",
                   "next_pair", "previous_pair")


class MainWindow(StateBinding, SynthesisViews, WindowDocument, WindowDocks, WindowClosing, QMainWindow):
    """The studio window. ``settings``/``autosave_dir`` default to the user's; tests pass their own."""

    synthesisShown = Signal(object)  # SynthesisResult now on screen

    def __init__(self, settings: AppSettings | None = None, autosave_dir: Path | None = None,
                 model: str | None = None, device: str | None = None, backend: str | None = None,
                 document: LabelDocument | None = None) -> None:
        super().__init__()
        self.setWindowIcon(app_icon())
        self.resize(1440, 860)
        self.settings = settings if settings is not None else AppSettings()
        self.state = StudioState()
        self.settings.restore_state(self.state)
        folders.install(self.settings.qsettings)
        self.document = document or NewMaskChoice(True, self.state.template_view, self.state.template_phase,
                                                  FIRST_HEART_SEED, 256).document()
        self.state.set_document(self.document)
        self.references = KeyReferences()  # what lies under each key frame
        self.under_image = ReferenceImage(self)  # the real image shown now, its contrast, what lies under the mask
        self.live = LiveSynthesis(backend, self)
        self.latency = LatencyLog()  # the synthesis times the status bar reports
        self.live.seed = self.state.seed
        self.live.style_scale = self.state.style_scale or None
        self.live.variations_enabled = self.state.variations
        self.autosaver = Autosaver(autosave_dir)
        self.files = MaskFiles(self)
        self.exporter = Exporter(self)
        self.opener = Opener(self)  # where dropped and named paths go
        self.models = ModelChoice(self)  # the model chosen, its loading, and the watch on its file
        self.mask_dialogs = MaskDialogs(self)  # Edit > Mask tools and Edit > Check topology
        self._closed = False
        # Features plugged in later: each guard may veto closing (after asking the user);
        # each hook runs once at shutdown.
        self.close_guards: list[Callable[[], bool]] = [self.exporter.confirm_close]
        self.shutdown_hooks: list[Callable[[], None]] = []

        self.workspace = Workspace(self.document, self.state)
        self.canvas = self.workspace.canvas
        self.echo_view = self.workspace.echo_view
        self.setCentralWidget(self.workspace)
        self.key_frames = KeyFrames(self.state, self.document, self._show_key_frame)
        self.timeline = Timeline(self.state)
        self.workspace.echo_pane.add_footer(self.timeline)
        self.commands = ActionRegistry(self)  # not ``actions``: QWidget.actions() is Qt's
        self._build_panels()
        build_actions(self.commands, self.state, self._studio_commands())
        bind_actions(self.commands, self.state)
        self.menus = build_menus(self)
        self.tool_widgets = build_toolbar(self, self.state)
        self.status_widgets = build_status_bar(self)
        if (unkept := self.settings.unwritable()) is not None:
            self.statusBar().show_note(unkept)
        self.status_widgets.job.cancelRequested.connect(self.exporter.cancel_cine)
        self.data_tools = install_data_menu(self)
        self.training = install_training(self)
        self._connect()
        self._bind_state()
        self._restore_window()

        self._ui_timer = QTimer(self, singleShot=True, interval=80)
        self._ui_timer.timeout.connect(self._refresh_document_ui)
        self.recovery = CrashRecovery(self)  # autosaves on a timer; offers back what a crash left
        self.setAcceptDrops(True)

        self.set_document(self.document)
        self.models.start(model, device)

    # -- construction (menus and wiring; the docks are :class:`~cardigan_app.window_docks.WindowDocks`'s)
    def add_menu(self, menu: QMenu) -> QAction:
        """Insert a top-level menu (Data, Train, ...) before Help."""
        return self.menuBar().insertMenu(self.menus.help.menuAction(), menu)

    def _connect(self) -> None:
        ws, state = self.workspace, self.state
        ws.referenceClosed.connect(self._close_reference)
        ws.reference_frame.valueChanged.connect(self._choose_reference_frame)
        ws.reference_view.contrastDragged.connect(self.under_image.contrast_chosen)
        ws.contrast_auto.setDefaultAction(self.commands["contrast_auto"])
        ws.contrast_reset.setDefaultAction(self.commands["contrast_reset"])
        self.canvas.cursorMoved.connect(self._cursor_moved)
        self.canvas.gestureChanged.connect(self._history_changed)
        self.canvas.noticed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        for name in ("opacity_down", "opacity_up"):
            self.commands[name].triggered.connect(self._say_opacity)
        self.anatomy_panel.holdChanged.connect(self._slider_held)
        self.canvas.cursorLeft.connect(lambda: (self.status_widgets.cursor.setText(""),
                                                self.status_widgets.label.setText("")))
        self.palette.labelSelected.connect(lambda label: state.set("active_label", label))
        self.palette.visibilityChanged.connect(state.set_class_visible)
        self.model_panel.modelRequested.connect(self.load_model)
        self.model_panel.openRequested.connect(self.models.open_dialog)
        self.model_panel.openFolderRequested.connect(self.models.open_folder_dialog)
        self.model_panel.deviceRequested.connect(lambda device: state.set("device", device))
        self.dataset_browser.openRequested.connect(self.open_dataset_item)
        self.dataset_browser.deformRequested.connect(lambda item: self.files.new_deformed_from(item.label_path))
        self.dataset_browser.folderChanged.connect(self._dataset_folder_changed)
        self._connect_synthesis()

    def _studio_commands(self) -> StudioCommands:
        f, x = self.files, self.exporter
        # lambdas where the verb takes arguments: an action's ``triggered(checked)`` would fill the first
        return StudioCommands(
            new_mask=f.new_mask, new_deformed=lambda: f.new_deformed(), open_mask=f.open_dialog,
            trace_image=f.trace_dialog, browse_dataset=self.browse_dataset, save=lambda: f.save(),
            save_as=lambda: f.save_as(), export_image=x.export_image, export_mask=x.export_mask,
            export_pair=x.export_pair, export_figure=x.export_figure, export_cine=lambda: x.export_cine(),
            play=self.timeline.play_button.setChecked, step_frame=self.step_frame,
            quit=self.close, undo=self.undo, redo=self.redo,
            clear=self.clear_mask, mask_tools=self.mask_dialogs.show_tools, topology=self.mask_dialogs.check_topology,
            fit=self.fit_views, actual_size=self.canvas.actual_size, zoom_in=self.canvas.zoom_in,
            zoom_out=self.canvas.zoom_out, contrast_auto=self.under_image.auto_contrast,
            contrast_reset=self.under_image.reset_contrast,
            open_model=self.models.open_dialog, open_model_folder=self.models.open_folder_dialog,
            new_variation=self.synthesis_panel.roll, resynthesize=self.live.refresh,
            shortcuts=self.show_shortcuts, about=self.show_about)

    def step_frame(self, step: int) -> None:
        """One frame on (``step`` 1) or back (-1): of the loop traced over, the frame under the
        key frame being edited, else of the cine loop on the timeline; the first and last stop."""
        slider = self.workspace.reference_frame
        if slider.isHidden():
            slider = self.timeline.slider
        slider.setValue(slider.value() + step)

    # -- the real image (:class:`~cardigan_app.reference_image.ReferenceImage`) ------------------
    @property
    def reference_image(self) -> np.ndarray | None:
        """The real image shown now (None: none)."""
        return self.under_image.image

    def show_reference(self, image: np.ndarray | None) -> None:
        """Show ``image`` (None: none) in the real-image pane, and under the mask when it fits."""
        self.under_image.show(image)

    def auto_contrast(self) -> None:
        """Stretch the real image's grey values to black and white (A)."""
        self.under_image.auto_contrast()

    # -- editing -------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo the last step: a corner of the polygon being placed, else the last edit. A
        brush stroke under way ends first and is the step undone; while the mouse holds an
        anatomy slider the document undoes nothing (its drag is one step, still open)."""
        if self.canvas.take_back():
            return
        self.canvas.cancel_gesture()
        step = self.document.history.undo_description
        if self.document.undo():
            self._say_step("Undone", step)

    def redo(self) -> None:
        """Redo the last undone edit; a polygon being placed keeps its corners. Nothing while
        a stroke or a slider drag is under way."""
        step = self.document.history.redo_description
        if self.document.redo():
            self._say_step("Redone", step)

    def _say_step(self, done: str, step: str | None) -> None:
        """The status line says which step undo or redo took ("Undone: fill"), in place of what
        it said of that step (a fill's paint outside the fan, "Undo takes the fill back")."""
        self.statusBar().showMessage(f"{done}: {step}" if step else done, UNDO_MESSAGE_MS)

    def _say_opacity(self) -> None:
        """D and F say the mask's opacity they set: the pane's slider shows no number, and at
        0 % the mask is gone from the canvas."""
        percent = round(self.state.overlay_opacity * 100)
        hidden = " (hidden: F shows it again)" if percent == 0 else ""
        self.statusBar().showMessage(f"Mask opacity {percent} %{hidden}", UNDO_MESSAGE_MS)

    def _slider_held(self, held: bool) -> None:
        """While the mouse holds an anatomy slider, the commands that would end its drag (and
        split its undo step) or put another document or file under it wait: Clear mask,
        switching key frames, New, Open (recent files included), tracing an image, Save and
        Apply in Mask tools."""
        for name in WAIT_FOR_SLIDER:
            self.commands[name].setEnabled(not held)
        self.menus.recent.menuAction().setEnabled(not held)
        self.mask_dialogs.set_waiting(held)
        if not held:  # a drag that changed nothing: an autosave it held back is made now
            self.recovery.let_go()

    def clear_mask(self) -> None:
        self.canvas.cancel_gesture()
        self.document.clear()

    # -- autosave and recovery (:class:`~cardigan_app.crash_recovery.CrashRecovery`) ------------
    def autosave_now(self) -> bool:
        """Autosave the key frames' unsaved edits now; False when there were none."""
        return self.recovery.autosave_now()

    def offer_recovery(self) -> bool:
        """Offer back masks autosaved by an app that crashed; True when one was recovered."""
        return self.recovery.offer()

    # -- tools (shortcuts for scripts and tests: the state is the one place) ------------------
    def set_tool(self, key: str) -> None:
        self.state.set("tool", key)

    def set_active_label(self, label: int) -> None:
        self.state.set("active_label", label)

    # -- views ---------------------------------------------------------------------------
    def fit_views(self) -> None:
        for view in (self.canvas, self.echo_view, self.workspace.reference_view):
            view.fit()

    def set_side_by_side(self, on: bool) -> None:
        self.state.set("side_by_side", on)

    def _cursor_moved(self, col: int, row: int, label: int) -> None:
        if label < 0:
            self.status_widgets.cursor.setText("")
            self.status_widgets.label.setText("")
            return
        self.status_widgets.cursor.setText(f"x {col}, y {row}")
        self.status_widgets.label.setText(f"{label} \u00b7 {LABELS[label].name}")

    # -- models (:class:`~cardigan_app.model_choice.ModelChoice`) ----------------------------
    def load_model(self, spec: str) -> None:
        """Load a model the user chose (:meth:`ModelChoice.load <cardigan_app.model_choice.ModelChoice.load>`)."""
        self.models.load(spec)

    def set_device(self, device: str) -> None:
        self.state.set("device", device)

    # -- datasets and drops --------------------------------------------------------------
    def browse_dataset(self) -> None:
        """File \u203a Browse prepared dataset: show the browser, on the last folder or one
        chosen, with the focus in its filter (type a patient, Enter opens it; Tab reaches the
        list), so that the keyboard need not pass every panel on the way."""
        self.show_dataset_panel()
        if self.dataset_browser.root is None:
            if self.state.dataset_dir and Path(self.state.dataset_dir).is_dir():
                self.dataset_browser.open_folder(Path(self.state.dataset_dir), self.state.dataset_split)
            else:
                self.dataset_browser.choose_folder()
        if self.dataset_browser.root is not None:
            self.dataset_browser.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_dataset_item(self, item: DatasetItem) -> bool:
        """Open a pair of the dataset browser (after the unsaved-changes prompt) and select
        its entry, so that the list follows the pair on screen. An ES pair opens with its ED
        pair, as the ES key frame beside it (the ED file brings its ES file along). A pair that
        is a key frame on screen already (``p_4CH_ES`` beside ``p_4CH_ED``) is switched to, not
        read again: its edits, and a loop made of the two, stay."""
        shown = self._key_frame_of_pair(item)
        if shown is not None:
            self.state.set("key_frame", shown)
            self.dataset_browser.select(item)
            return True
        ed = self.dataset_browser.ed_partner(item)
        opened = (self.files.open_path(ed.label_path, reference=ed.image_path, key_frame="ES") if ed is not None
                  else self.files.open_path(item.label_path, reference=item.image_path))
        if not opened:
            return False
        self.dataset_browser.select(item)
        return True

    def _key_frame_of_pair(self, item: DatasetItem) -> str | None:
        """The key frame on screen that is ``item``'s mask, over its image when it has one (ED
        or ES); None when none is (a mask of that file opened without its image is not)."""
        mask = item.label_path.resolve()
        for key, document in self.key_frames.frames.items():
            if (document is not None and document.path is not None and document.path.resolve() == mask
                    and (item.image_path is None or self.references.image_for(key) is not None)):
                return key
        return None

    def step_dataset_pair(self, step: int) -> bool:
        """Open the pair after (``step`` 1) or before (-1) the one selected in the dataset
        browser, among those its filter shows (Data \u203a Next pair, Previous pair)."""
        browser = self.dataset_browser
        if browser.root is None:
            self.statusBar().showMessage("No dataset is open: File \u203a Browse prepared dataset opens one", 5000)
            return False
        item = browser.neighbour(step)
        if item is None:
            beyond = "after" if step > 0 else "before"
            self.statusBar().showMessage(f"The dataset list shows no pair {beyond} this one", 5000)
            return False
        return self.open_dataset_item(item)

    def _dataset_folder_changed(self, root: str, split: str) -> None:
        self.state.set("dataset_dir", root)
        self.state.set("dataset_split", split)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.opener.drag_enter(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.opener.drop(event)

    def open_dropped(self, paths: list[Path]) -> bool:
        return self.opener.open_dropped(paths)

    def open_paths(self, paths: list[Path]) -> int:
        return self.opener.open_paths(paths)

    def open_any(self, path: Path) -> bool:
        return self.opener.open_any(path)

    # -- help ----------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        ShortcutsDialog(shortcut_rows(self.commands.sections), self).exec()

    def show_about(self) -> None:
        from engine import __version__

        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME} {__version__}</b><p>Paint a cardiac label map; a SPADE "
                          "generator (or the built-in ultrasound simulator) turns it into an "
                          "echocardiogram as you paint.</p><p>The code is MIT licensed. The bundled "
                          "model was trained on the CAMUS dataset and carries its terms: CC BY-NC-SA "
                          "4.0, non-commercial research only; cite Leclerc et al., IEEE TMI "
                          "38(9):2198\u20132210, 2019.</p>")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter or Esc in a field of the window (the brush size, the seed, a slider, a filter)
        ends the typing there: the focus goes back to the canvas, so the painting keys (0-3,
        [ ], B, E, ...) work again. Esc that nothing in the window took (a polygon's corners
        take it first) stops the cine loop being written."""
        if event.key() in LEAVE_FIELD_KEYS and isinstance(QApplication.focusWidget(), FIELDS):
            self.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.exporter.cancel_cine():
            event.accept()
            return
        super().keyPressEvent(event)
