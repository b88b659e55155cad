"""The model panel: pick a model and a device, see what is loaded and why a load failed.

What it says about a loaded model is meant to be read at a glance: the network in one short
line (modulation, width, normalisation), its size (parameters, file), what it takes as input,
and how many output settings (speckle, gains, filters...) it has, whose list a link opens and
folds. Its table puts each key above its value where the column is too narrow for a value's
longest word beside its key, so no value is cut at the panel's edge; that least width is
measured once per content and font, and a resize re-lays the table only when it crosses it
(:meth:`ModelPanel.fit_summary`), not at every pixel of a drag. A path wraps at its
separators, its names whole where they fit the line (:func:`.model_summary.with_breaks`). Nothing
is hidden for good: "Copy details" puts the whole description, every output setting included, on the
clipboard as plain text.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QApplication, QFormLayout, QLabel, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from engine import resources
from engine.models.registry import (BUILTIN_NAMES, FOLDER_KINDS_IN_WORDS, KINDS_IN_WORDS, as_builtin, builtin_models,
                                    display_name, is_builtin, short_name)

from .. import theme
from ..device_choice import fill_device_combo
from ..icons import icon
from .model_summary import (KEY_GAP, SETTINGS_LINK, TABLE_CELL_PADDING, file_size, model_rows, path_names,
                            provenance_rows, summary_html, summary_text, table_least_width, widest_unbroken)
from .narrow import NarrowCombo, panel_margins, wrapping_form

OPEN_ITEM = "__open__"
OPEN_FOLDER_ITEM = "__open_folder__"


class ModelPanel(QWidget):
    modelRequested = Signal(str)  # a spec: simulator, demo or a path
    openRequested = Signal()
    openFolderRequested = Signal()
    deviceRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # a file's name cut short keeps its end (its suffix, a run's name in brackets)
        self.model_combo = NarrowCombo(8, "The model that turns the mask into an image", Qt.TextElideMode.ElideMiddle)
        self.model_combo.activated.connect(self._model_activated)
        # a recent model's file moved or deleted since the list was made is not offered
        self.model_combo.popupOpening.connect(lambda: self.set_models(self._recent, self.current_spec))
        self.device_combo = NarrowCombo(8, "Where the model runs; Auto picks a GPU when there is one")
        fill_device_combo(self.device_combo, show_unavailable=True)
        self.device_combo.activated.connect(self._device_activated)
        self.active_device = QLabel("\u2014")
        self.active_device.setToolTip("The device the loaded model runs on")
        self.active_device.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setVisible(False)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.info.setMinimumWidth(1)
        self.info.linkActivated.connect(self._link_activated)
        self.info.installEventFilter(self)
        self.stacked = False  # each key of the summary above its value (a narrow panel)
        self._least: int | None = None  # the two-column table's least width, measured for the content shown
        self._whole: frozenset[str] = frozenset()  # the names in the summary's paths shown unbroken
        self.copy_button = QToolButton()
        self.copy_button.setIcon(icon("content-copy"))
        self.copy_button.setText("Copy details")
        self.copy_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.copy_button.setAutoRaise(True)
        self.copy_button.setToolTip("Copy everything about the model, its output settings included, as text")
        self.copy_button.clicked.connect(self.copy_details)
        self.copy_button.setVisible(False)  # until a model is loaded
        details = QWidget()
        column = QVBoxLayout(details)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.info)
        column.addWidget(self.copy_button)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # long values wrap inside the panel's width instead of hiding behind a scrollbar
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        details.setMinimumWidth(1)
        scroll.setWidget(details)
        form = wrapping_form(QFormLayout())
        form.addRow("Model", self.model_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Running on", self.active_device)
        layout = panel_margins(QVBoxLayout(self))
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        self.current_spec: str | None = None
        self._recent: list[str] = []
        self.settings_shown = False
        self._summary: dict = {}
        self._size_bytes: int | None = None

    # -- devices -------------------------------------------------------------------------
    def set_device(self, spec: str) -> None:
        index = self.device_combo.findData(spec)
        self.device_combo.setCurrentIndex(index if index >= 0 else 0)

    def _device_activated(self, index: int) -> None:
        self.deviceRequested.emit(self.device_combo.itemData(index))

    # -- models --------------------------------------------------------------------------
    def set_models(self, recent: list[str], current: str | None) -> None:
        """Rebuild the picker (again each time its list opens): built-in models, the recent
        models (files and folders) still on disk, Open model file... and Open model folder...; each entry names its model as the
        panel does elsewhere and gives its file in its tooltip (the bundled demo model opened
        by its path is the demo model's entry)."""
        self._recent = list(recent)
        self.current_spec = current
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        for spec in builtin_models():
            combo.addItem(short_name(spec), spec)
            bundled = resources.demo_model_path() if spec == "demo" else None
            tip = "\n".join(str(part) for part in (BUILTIN_NAMES[spec], bundled) if part)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        files = [m for m in recent if not is_builtin(as_builtin(m)) and Path(m).exists()]
        if current and not is_builtin(as_builtin(current)) and current not in files:
            files.insert(0, current)
        if files:
            combo.insertSeparator(combo.count())
            for spec in files:
                combo.addItem(display_name(spec), spec)
                combo.setItemData(combo.count() - 1, spec, Qt.ItemDataRole.ToolTipRole)
        combo.insertSeparator(combo.count())
        combo.addItem("Open model file\u2026", OPEN_ITEM)
        combo.setItemData(combo.count() - 1, KINDS_IN_WORDS[0].upper() + KINDS_IN_WORDS[1:],
                          Qt.ItemDataRole.ToolTipRole)
        combo.addItem("Open model folder\u2026", OPEN_FOLDER_ITEM)
        combo.setItemData(combo.count() - 1, FOLDER_KINDS_IN_WORDS[0].upper() + FOLDER_KINDS_IN_WORDS[1:],
                          Qt.ItemDataRole.ToolTipRole)
        self._select(current)
        combo.blockSignals(False)
        combo.tell_whole_text()

    def _select(self, spec: str | None) -> None:
        index = self.model_combo.findData(str(as_builtin(spec))) if spec else -1
        if index >= 0:
            self.model_combo.setCurrentIndex(index)

    def model_specs(self) -> list[str]:
        """The specs listed in the picker (without the Open entries)."""
        return [self.model_combo.itemData(i) for i in range(self.model_combo.count())
                if self.model_combo.itemData(i) not in (None, OPEN_ITEM, OPEN_FOLDER_ITEM)]

    def _model_activated(self, index: int) -> None:
        spec = self.model_combo.itemData(index)
        self._select(self.current_spec)  # the picker shows the loaded model until a new one is ready
        if spec == OPEN_ITEM:
            self.openRequested.emit()
        elif spec == OPEN_FOLDER_ITEM:
            self.openFolderRequested.emit()
        elif spec and spec != self.current_spec:
            self.modelRequested.emit(spec)

    # -- state ---------------------------------------------------------------------------
    def _say(self, text: str, colour: str = theme.MUTED) -> None:
        """The status line (hidden while it has nothing to say, so it takes no room)."""
        self.status.setStyleSheet(theme.text_style(colour))
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_loading(self, spec: str) -> None:
        self._say(f"Loading {display_name(spec)}\u2026", theme.BUSY)

    def set_loaded(self, spec: str, summary: dict, device_label: str) -> None:
        self.current_spec = spec
        self._select(spec)
        self._say("")
        self.active_device.setText(device_label + (" \u2014 the simulator always runs on the CPU"
                                                   if summary.get("kind") == "simulator" else ""))
        self._summary, self._size_bytes = summary, file_size(summary)
        self._least = None
        self._show_summary()
        self.copy_button.setVisible(True)

    def least_table_width(self) -> int:
        """The two-column table's least width for the summary shown (:func:`table_least_width`),
        measured again only once the content or the font has changed."""
        if self._least is None:
            self._least = table_least_width(self._summary, self._size_bytes, self.settings_shown,
                                            self.info.fontMetrics())
        return self._least

    def _show_summary(self) -> None:
        """The summary as a two-column table where its values fit beside their keys, else with
        each key above its value: a value is never cut at the panel's edge, and a path breaks
        only at its separators where its names fit a line."""
        if not self._summary:
            return
        self.stacked = self.info.contentsRect().width() < self.least_table_width()
        self._whole = self.whole_path_names()
        self.info.setText(summary_html(self._summary, self._size_bytes, self.settings_shown, self.stacked,
                                       self._whole))

    def whole_path_names(self) -> frozenset[str]:
        """The parts of the summary's paths that fit a value's line at the panel's width (beside
        the keys' widest word, as :func:`table_least_width` reckons, unless each key is above
        its value): kept whole, they leave the table's columns room for their least widths."""
        metrics, width = self.info.fontMetrics(), self.info.contentsRect().width()
        room = width - KEY_GAP - 4 * TABLE_CELL_PADDING
        if not self.stacked:
            keys = [k for k, _ in model_rows(self._summary) + provenance_rows(self._summary)] + ["Output settings"]
            room -= widest_unbroken(keys, metrics)
        return frozenset(part for part in path_names(self._summary) if metrics.horizontalAdvance(part) <= room)

    def fit_summary(self) -> None:
        """The table, or keys above values, for the summary's new width: laid out again only
        when the width crosses the table's least width, or a name in a path comes to fit its
        line or no longer does."""
        if self._summary and ((self.info.contentsRect().width() < self.least_table_width()) != self.stacked
                              or self.whole_path_names() != self._whole):
            self._show_summary()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.info:
            if event.type() == QEvent.Type.Resize and event.size().width() != event.oldSize().width():
                self.fit_summary()
            elif event.type() == QEvent.Type.FontChange:  # words measured in the old font
                self._least = None
                self._show_summary()
        return super().eventFilter(watched, event)

    def _link_activated(self, link: str) -> None:
        if link == SETTINGS_LINK:
            self.show_settings(not self.settings_shown)

    def show_settings(self, shown: bool) -> None:
        """Open or fold the list of the output settings (the choice holds for the next model)."""
        self.settings_shown = shown
        self._least = None
        self._show_summary()

    def details_text(self) -> str:
        """Everything the panel knows about the loaded model, as plain text."""
        return summary_text(self._summary, self._size_bytes) if self._summary else ""

    def copy_details(self) -> None:
        QApplication.clipboard().setText(self.details_text())

    def set_error(self, message: str) -> None:
        self._say(message, theme.ERROR)
        self._select(self.current_spec)
