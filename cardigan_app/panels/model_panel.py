"""The model panel: pick a model and a device, see what is loaded and why a load failed.

What it says about a loaded model is meant to be read at a glance: the network in one short
line (modulation, width, normalisation), its size (parameters, file), what it takes as input,
and how many output settings (speckle, gains, filters...) it has, whose list a link opens and
folds. Its table puts each key above its value where the column is too narrow for a value's
longest word beside its key, so no value is cut at the panel's edge; that least width is
measured once per content and font, and a resize re-lays the table only when it crosses it
(:meth:`ModelPanel.fit_summary`), not at every pixel of a drag. A path wraps at its
separators, its names whole where they fit the line (:func:`with_breaks`). Nothing is hidden for
good: "Copy details" puts the whole description, every output setting included, on the
clipboard as plain text.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Container
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QApplication, QFormLayout, QLabel, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from engine import resources
from engine.models.registry import (BUILTIN_NAMES, FOLDER_KINDS_IN_WORDS, KINDS_IN_WORDS, as_builtin, builtin_models,
                                    display_name, is_builtin, short_name)
from engine.units import format_bytes

from .. import theme
from ..device_choice import fill_device_combo
from ..icons import icon
from .narrow import NarrowCombo, panel_margins, wrapping_form

OPEN_ITEM = "__open__"
OPEN_FOLDER_ITEM = "__open_folder__"
SETTINGS_LINK = "#output-settings"
KINDS = {"native": "cardiGAN model file", "nvlabs": "NVlabs SPADE checkpoint", "simulator": "built in"}


def format_count(n: int) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return str(n)


def file_size(summary: dict) -> int | None:
    """The size of the model's file in bytes; None for a built-in model or a file gone."""
    path = summary.get("path")
    try:
        return os.path.getsize(path) if path else None
    except OSError:
        return None


def network_line(arch: dict) -> str:
    """The network in one short line: modulation, width, normalisation (and the number of
    upsampling layers when it is not SPADE's usual one)."""
    parts = [str(arch.get("modulation", "spade")).upper(), f"ngf {arch.get('ngf')}", f"{arch.get('norm')} norm"]
    if arch.get("upsampling") not in (None, "normal"):
        parts.append(f"{arch['upsampling']} upsampling")
    return " \u00b7 ".join(parts)


def size_line(summary: dict, size_bytes: int | None = None) -> str:
    """The network's parameters and its file's size, as far as they are known."""
    parts = []
    if summary.get("parameters"):
        parts.append(f"{format_count(int(summary['parameters']))} parameters".replace(" ", "\u00a0", 1))
    if size_bytes:
        parts.append(f"{format_bytes(size_bytes)} file".replace(" ", "\u00a0", 1))
    return " \u00b7 ".join(parts)


def inputs_line(arch: dict) -> str:
    """What the network takes besides the mask: the fan, noise, a style code."""
    parts = ["mask"]
    if arch.get("fan"):
        parts.append("the fan")
    if arch.get("noise_nc"):
        noise = f"noise {arch['noise_nc']} ch"
        if arch.get("style_scale", 1.0) != 1.0:
            noise += f" (style scale {arch['style_scale']:g})"
        parts.append(noise)
    if arch.get("use_vae"):
        parts.append(f"style code (VAE, z {arch.get('z_dim')})")
    return " \u00b7 ".join(parts)


def _span(values) -> str:
    """The lowest and highest of a setting's values, as "0.84\u20131.00"."""
    return f"{min(values):.2f}\u2013{max(values):.2f}"


def output_settings(summary: dict) -> list[str]:
    """The settings of the model's output stage, one short phrase each (empty for a plain
    SPADE generator and for the simulator)."""
    arch = summary.get("architecture") or {}
    if "type" in arch:
        return []
    items = []
    if arch.get("upsample") == "bilinear":
        items.append("bilinear upsampling")
    if arch.get("texture"):
        items.append("speckle path")
    if arch.get("beam"):
        items.append(f"speckle along the arcs ({arch['beam']:g}\u00b0)")
    if arch.get("grain"):
        items.append(f"pixel grain ({arch['grain']:g} grey levels)")
    if arch.get("tone", 1.0) != 1.0:
        items.append(f"output tone \u03b3 {arch['tone']:g}")
    if arch.get("depth_gain"):
        items.append(f"depth gain {_span(arch['depth_gain'])}")
    if arch.get("tip_gain"):
        items.append(f"tip gain over {len(arch['tip_gain'])} px")
    if arch.get("speckle_shape"):
        items.append(f"speckle shaped by depth ({len(arch['speckle_shape'])} points)")
    if arch.get("fine_filter"):
        size = len(arch["fine_filter"])
        items.append(f"fine speckle filtered ({size}\u00d7{size})")
    if arch.get("pool_detail"):
        items.append(f"pool speckle by depth ({_span(arch['pool_detail'])})")
    if arch.get("ring_down"):
        items.append(f"ring-down per seed ({len(arch['ring_down'])} directions)")
    if arch.get("border_soften") and any(arch["border_soften"]):
        items.append("drawn borders faded in patches")
    if arch.get("shading"):
        items.append(f"shading per seed ({len(arch['shading']) - 1} directions)")
    if summary.get("refiner_parameters"):
        reach = summary.get("refiner_near_field")
        where = f", top {reach:.0%} of the depth" if reach else ""
        items.append(f"texture refiner ({format_count(int(summary['refiner_parameters']))} parameters{where})")
    return items


def model_rows(summary: dict, size_bytes: int | None = None) -> list[tuple[str, str]]:
    """What the model is and does, above its output settings."""
    rows = [("Kind", KINDS.get(summary.get("kind", ""), summary.get("kind", "")))]
    arch = summary.get("architecture") or {}
    if "type" in arch:
        rows.append(("Method", arch["type"]))
    else:
        rows.append(("Network", network_line(arch)))
        if size_line(summary, size_bytes):
            rows.append(("Size", size_line(summary, size_bytes)))
        rows.append(("Inputs", inputs_line(arch)))
    if summary.get("image_size"):
        h, w = summary["image_size"]
        rows.append(("Native size", f"{w} \u00d7 {h} (other sizes resampled)"))
    channels = int(summary.get("output_channels", 1))
    rows.append(("Output", f"{channels} channel" + ("" if channels == 1 else "s")))
    rows.append(("Seed changes output", "yes" if summary.get("stochastic") else "no (deterministic)"))
    return rows


def provenance_rows(summary: dict) -> list[tuple[str, str]]:
    """Where the model comes from (training, data, licence) and its file, below the settings;
    a record that only repeats the model's kind is left out."""
    rows = []
    skip = {"sha256", "file"} if summary.get("path") else {"sha256"}
    kind = KINDS.get(summary.get("kind", ""), summary.get("kind", ""))
    for key, value in (summary.get("provenance") or {}).items():
        if isinstance(value, (str, int, float)) and key not in skip and str(value) != kind:
            rows.append((key.replace("_", " ").capitalize(), str(value)))
    if summary.get("path"):
        rows.append(("Path", str(summary["path"])))
    return rows


def rows_html(rows: list[tuple[str, str]], stacked: bool = False) -> str:
    """``rows`` (key, HTML value) as a small two-column table, or with each key above its value
    when ``stacked`` (a panel too narrow for the two columns)."""
    if stacked:
        cells = "".join(f"<tr><td style='color:{theme.MUTED}'>{html.escape(k)}</td></tr>"
                        f"<tr><td style='padding-left:{KEY_GAP}px;padding-bottom:3px'>{v}</td></tr>" for k, v in rows)
    else:
        cells = "".join(f"<tr><td style='color:{theme.MUTED};padding-right:{KEY_GAP}px;vertical-align:top'>"
                        f"{html.escape(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table width='100%' cellspacing='0' cellpadding='{TABLE_CELL_PADDING}'>{cells}</table>"


def settings_html(settings: list[str], shown: bool) -> str:
    """The output settings' value in the table: their count and a link that opens the list,
    or the list, one a line, and a link that folds it."""
    if not shown:
        return f"{len(settings)} \u00b7 <a href='{SETTINGS_LINK}'>show</a>"
    lines = "".join(f"\u2022 {breakable(item)}<br>" for item in settings)
    return f"{lines}<a href='{SETTINGS_LINK}'>hide</a>"


def summary_html(summary: dict, size_bytes: int | None = None, settings_shown: bool = False,
                 stacked: bool = False, whole: Container[str] = ()) -> str:
    """The model's summary as a small two-column table (each key above its value when
    ``stacked``): what it is, its output settings (a count, or the list when
    ``settings_shown``), where it comes from; the names in a path that are in ``whole`` are
    not broken (:func:`with_breaks`)."""
    rows = [(k, breakable(v, whole)) for k, v in model_rows(summary, size_bytes)]
    settings = output_settings(summary)
    if settings:
        rows.append(("Output settings", settings_html(settings, settings_shown)))
    rows += [(k, breakable(v, whole)) for k, v in provenance_rows(summary)]
    return rows_html(rows, stacked)


def path_names(summary: dict) -> list[str]:
    """The parts of the paths in the summary's values, each with the separator after it
    ("scripts/", "build_camus_model.sh"): what a path wraps between."""
    values = [v for _, v in model_rows(summary) + provenance_rows(summary)]
    return [part for value in values for word in value.split() if PATH_SEPARATOR.search(word)
            for part in re.split(r"(?<=[/\\])", word) if part]


def widest_unbroken(texts: list[str], metrics: QFontMetrics) -> int:
    """The width of the widest part of ``texts`` that cannot wrap (between spaces and the breaks
    :func:`with_breaks` puts in)."""
    return max((metrics.horizontalAdvance(part) for text in texts
                for part in re.split(r"[\s\u200b]+", with_breaks(text)) if part), default=0)


def table_least_width(summary: dict, size_bytes: int | None, settings_shown: bool, metrics: QFontMetrics) -> int:
    """The least width the two-column summary table needs without cutting a value short: its
    widest key word, the gap, its widest value word and the cells' padding."""
    rows = model_rows(summary, size_bytes) + provenance_rows(summary)
    settings = output_settings(summary)
    if settings:
        rows.append(("Output settings", f"{len(settings)} \u00b7 show"))
    values = [v for _, v in rows] + ([f"\u2022 {item}" for item in settings] if settings_shown else [])
    return (widest_unbroken([k for k, _ in rows], metrics) + KEY_GAP + widest_unbroken(values, metrics)
            + 4 * TABLE_CELL_PADDING)


def summary_text(summary: dict, size_bytes: int | None = None) -> str:
    """Everything the panel says about the model as plain text, one fact a line."""
    lines = [f"{key}: {value}" for key, value in model_rows(summary, size_bytes)]
    settings = output_settings(summary)
    if settings:
        lines.append("Output settings:")
        lines += [f"  - {item}" for item in settings]
    lines += [f"{key}: {value}" for key, value in provenance_rows(summary)]
    return "\n".join(lines)


LONGEST_UNBROKEN = 16  # characters of a path, hash or word before a possible line break
PATH_SEPARATOR = re.compile(r"[/\\]")
KEY_GAP = 8  # pixels between a key and its value in the summary table
TABLE_CELL_PADDING = 1  # pixels around each cell's text in the summary table


def with_breaks(text: str, whole: Container[str] = ()) -> str:
    """``text`` with zero-width spaces where a narrow panel may wrap it: after path separators
    and, in a word, after "_" and inside long unbroken runs (checksums, file names). A part of
    a path in ``whole`` (one that fits the panel's line, with its separator) is left whole, so
    the path wraps at its separators and no name in it is cut in two."""
    def split(word: str) -> str:
        pieces = [word[i:i + LONGEST_UNBROKEN] for i in range(0, len(word), LONGEST_UNBROKEN)]
        return "\u200b".join(pieces)

    def broken(word: str) -> str:
        word = re.sub(r"[/_\\]", lambda m: m.group(0) + "\u200b", word)
        return re.sub(rf"[^\s\u200b]{{{LONGEST_UNBROKEN + 1},}}", lambda m: split(m.group(0)), word)

    def path(word: str) -> str:
        parts = [part for part in re.split(r"(?<=[/\\])", word) if part]
        return "\u200b".join(part if part in whole else broken(part).rstrip("\u200b") for part in parts)

    return "".join(path(word) if PATH_SEPARATOR.search(word) else broken(word) for word in re.split(r"(\s+)", text))


def breakable(text: str, whole: Container[str] = ()) -> str:
    """``text`` as HTML that can wrap anywhere a narrow panel needs (:func:`with_breaks`)."""
    return html.escape(with_breaks(text, whole)).replace("\u200b", "&#8203;")


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
        """Rebuild the picker: built-in models, the recent models (files and folders) still on
        disk, Open model file... and Open model folder...; each entry names its model as the
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
