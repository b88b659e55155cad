"""The model panel: pick a model and a device, see what is loaded and why a load failed."""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QLabel, QScrollArea, QVBoxLayout, QWidget)

from engine.models.registry import BUILTIN_NAMES, KINDS_IN_WORDS, builtin_models, display_name, is_builtin

from .. import theme
from ..device_choice import fill_device_combo

OPEN_ITEM = "__open__"


def format_count(n: int) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return str(n)


def summary_html(summary: dict) -> str:
    """The model's summary as a small two-column table."""
    rows: list[tuple[str, str]] = []
    kinds = {"native": "cardiGAN model file", "nvlabs": "NVlabs SPADE checkpoint", "simulator": "built in"}
    rows.append(("Kind", kinds.get(summary.get("kind", ""), summary.get("kind", ""))))
    arch = summary.get("architecture") or {}
    if "type" in arch:
        rows.append(("Method", arch["type"]))
    else:
        parts = [f"ngf {arch.get('ngf')}", f"{arch.get('modulation', 'spade').upper()}",
                 f"{arch.get('norm')} norm", f"{arch.get('upsampling')} upsampling"]
        if arch.get("use_vae"):
            parts.append(f"VAE z {arch.get('z_dim')}")
        if arch.get("noise_nc"):
            parts.append(f"noise {arch.get('noise_nc')} ch")
            if arch.get("style_scale", 1.0) != 1.0:
                parts.append(f"style scale {arch['style_scale']:g}")
        if arch.get("upsample") == "bilinear":
            parts.append("bilinear")
        if arch.get("fan"):
            parts.append("the fan as input")
        if arch.get("texture"):
            parts.append("speckle path")
        if arch.get("beam"):
            parts.append(f"speckle along the arcs ({arch['beam']:g}\u00b0)")
        if arch.get("grain"):
            parts.append(f"pixel grain ({arch['grain']:g} grey levels)")
        if arch.get("tone", 1.0) != 1.0:
            parts.append(f"output tone \u03b3 {arch['tone']:g}")
        if arch.get("depth_gain"):
            gains = arch["depth_gain"]
            parts.append(f"depth gain {min(gains):.2f}\u2013{max(gains):.2f}")
        if arch.get("tip_gain"):
            parts.append(f"tip gain over {len(arch['tip_gain'])} px")
        if arch.get("speckle_shape"):
            parts.append(f"speckle shaped by depth ({len(arch['speckle_shape'])} points)")
        if arch.get("fine_filter"):
            size = len(arch["fine_filter"])
            parts.append(f"fine speckle filtered ({size}\u00d7{size})")
        if arch.get("pool_detail"):
            gains = arch["pool_detail"]
            parts.append(f"pool speckle by depth ({min(gains):.2f}\u2013{max(gains):.2f})")
        if arch.get("ring_down"):
            parts.append(f"ring-down per seed ({len(arch['ring_down'])} directions)")
        if arch.get("border_soften") and any(arch["border_soften"]):
            parts.append("drawn borders faded in patches")
        if arch.get("shading"):
            parts.append(f"shading per seed ({len(arch['shading']) - 1} directions)")
        if summary.get("refiner_parameters"):
            reach = summary.get("refiner_near_field")
            where = f", top {reach:.0%} of the depth" if reach else ""
            parts.append(f"texture refiner ({format_count(int(summary['refiner_parameters']))} parameters{where})")
        rows.append(("Architecture", ", ".join(str(p) for p in parts)))
    if summary.get("parameters"):
        rows.append(("Parameters", format_count(int(summary["parameters"]))))
    if summary.get("image_size"):
        h, w = summary["image_size"]
        rows.append(("Native size", f"{w} \u00d7 {h} (other sizes resampled)"))
    rows.append(("Output", f"{summary.get('output_channels', 1)} channel(s)"))
    rows.append(("Seed changes output", "yes" if summary.get("stochastic") else "no (deterministic)"))
    skip = {"sha256", "file"} if summary.get("path") else {"sha256"}
    for key, value in (summary.get("provenance") or {}).items():
        if isinstance(value, (str, int, float)) and key not in skip:
            rows.append((key.replace("_", " ").capitalize(), str(value)))
    if summary.get("path"):
        rows.append(("Path", str(summary["path"])))
    cells = "".join(f"<tr><td style='color:{theme.MUTED};padding-right:8px;vertical-align:top'>{html.escape(k)}</td>"
                    f"<td>{breakable(v)}</td></tr>" for k, v in rows)
    return f"<table width='100%' cellspacing='0' cellpadding='1'>{cells}</table>"


LONGEST_UNBROKEN = 16  # characters of a path, hash or word before a possible line break


def breakable(text: str) -> str:
    """``text`` as HTML that can wrap anywhere a narrow panel needs: zero-width spaces after
    path separators and inside long unbroken runs (checksums, file names)."""
    def split(word: str) -> str:
        pieces = [word[i:i + LONGEST_UNBROKEN] for i in range(0, len(word), LONGEST_UNBROKEN)]
        return "\u200b".join(pieces)

    text = re.sub(r"[/_\\]", lambda m: m.group(0) + "\u200b", text)
    text = re.sub(rf"[^\s\u200b]{{{LONGEST_UNBROKEN + 1},}}", lambda m: split(m.group(0)), text)
    return html.escape(text).replace("\u200b", "&#8203;")


class ModelPanel(QWidget):
    modelRequested = Signal(str)  # a spec: simulator, demo or a path
    openRequested = Signal()
    deviceRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("The model that turns the mask into an image")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.model_combo.activated.connect(self._model_activated)
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Where the model runs; Auto picks a GPU when there is one")
        fill_device_combo(self.device_combo, show_unavailable=True)
        self.device_combo.activated.connect(self._device_activated)
        self.active_device = QLabel("\u2014")
        self.active_device.setToolTip("The device the loaded model runs on")
        self.active_device.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # long values wrap inside the panel's width instead of hiding behind a scrollbar
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.info.setMinimumWidth(1)
        scroll.setWidget(self.info)
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Running on", self.active_device)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        self.current_spec: str | None = None
        self._recent: list[str] = []

    # -- devices -------------------------------------------------------------------------
    def set_device(self, spec: str) -> None:
        index = self.device_combo.findData(spec)
        self.device_combo.setCurrentIndex(index if index >= 0 else 0)

    def _device_activated(self, index: int) -> None:
        self.deviceRequested.emit(self.device_combo.itemData(index))

    # -- models --------------------------------------------------------------------------
    def set_models(self, recent: list[str], current: str | None) -> None:
        """Rebuild the picker: built-in models, the recent model files still on disk, Open..."""
        self._recent = list(recent)
        self.current_spec = current
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        for spec in builtin_models():
            combo.addItem(display_name(spec), spec)
            combo.setItemData(combo.count() - 1, BUILTIN_NAMES[spec], Qt.ItemDataRole.ToolTipRole)
        files = [m for m in recent if not is_builtin(m) and Path(m).exists()]
        if current and not is_builtin(current) and current not in files:
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
        self._select(current)
        combo.blockSignals(False)

    def _select(self, spec: str | None) -> None:
        index = self.model_combo.findData(spec) if spec else -1
        if index >= 0:
            self.model_combo.setCurrentIndex(index)

    def model_specs(self) -> list[str]:
        """The specs listed in the picker (without the Open entry)."""
        return [self.model_combo.itemData(i) for i in range(self.model_combo.count())
                if self.model_combo.itemData(i) not in (None, OPEN_ITEM)]

    def _model_activated(self, index: int) -> None:
        spec = self.model_combo.itemData(index)
        self._select(self.current_spec)  # the picker shows the loaded model until a new one is ready
        if spec == OPEN_ITEM:
            self.openRequested.emit()
        elif spec and spec != self.current_spec:
            self.modelRequested.emit(spec)

    # -- state ---------------------------------------------------------------------------
    def set_loading(self, spec: str) -> None:
        self.status.setStyleSheet(theme.text_style(theme.BUSY))
        self.status.setText(f"Loading {display_name(spec)}\u2026")

    def set_loaded(self, spec: str, summary: dict, device_label: str) -> None:
        self.current_spec = spec
        self._select(spec)
        self.status.setText("")
        self.active_device.setText(device_label + (" \u2014 the simulator always runs on the CPU"
                                                   if summary.get("kind") == "simulator" else ""))
        self.info.setText(summary_html(summary))

    def set_error(self, message: str) -> None:
        self.status.setStyleSheet(theme.text_style(theme.ERROR))
        self.status.setText(message)
        self._select(self.current_spec)
