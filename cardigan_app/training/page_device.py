"""Wizard page 3: device, precision and batch size, with an estimate of the memory needed.

The estimate (``engine.training.memory``) builds the networks on PyTorch's meta device once
per architecture, on a background thread (about a second on two CPU cores); changing the
batch size afterwards is arithmetic. Nothing waits for it: Next and Start training work while
it runs, a result for networks no longer chosen is dropped, one that takes longer than
:data:`SLOW_ESTIMATE_MS` says what it is doing, and a failure says so in one line.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWizardPage

from engine.devices import available_devices, resolve_device
from engine.errors import CardiganError
from engine.training.config import TrainConfig, validate
from engine.training.memory import device_memory_bytes, estimate_training_memory, network_footprint
from engine.units import format_bytes
from engine.training.config import ARCHITECTURE_FIELDS

from .. import theme
from ..data_tools.prepare_form import BUSY_STYLE, ERROR_STYLE, OK_STYLE
from ..data_tools.spin_width import as_wide_as_its_values
from ..device_choice import fill_device_combo
from ..tasks import BackgroundTask
from ..wording import STUDIO_WORDS
from .wizard_state import WizardState

AMP_CHOICES = (("auto", "Auto (bf16 on GPUs and CPUs that support it, else full precision)"),
               ("bf16", "bfloat16 mixed precision"), ("fp16", "float16 mixed precision (with loss scaling)"),
               ("off", "Full precision (float32)"))
WARN_STYLE = theme.text_style(theme.CAUTION)
SLOW_ESTIMATE_MS = 3000
ESTIMATING = "estimating\u2026"


def batch_problem(batch_size: int, pairs: int) -> str | None:
    """Why ``batch_size`` cannot train on ``pairs`` training pairs (0: not known yet, as for a
    source prepared when training starts), or None. An epoch is whole batches only."""
    if batch_size < 1:
        return "batch size must be at least 1"
    if pairs and batch_size > pairs:
        return (f"batch size {batch_size} is more than the {pairs} training pairs of the data: "
                f"choose at most {pairs}")
    return None


class DevicePage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Device, precision and batch size")
        self.setSubTitle("Where the run trains. Larger batches train faster per image but need more memory.")
        self.device = QComboBox()
        fill_device_combo(self.device, auto_text="Auto (a GPU when there is one)")
        self.amp = QComboBox()
        for value, text in AMP_CHOICES:
            self.amp.addItem(text, value)
        self.batch = QSpinBox()
        self.batch.setRange(0, 4096)
        self.batch.setToolTip("Images per training step")
        as_wide_as_its_values(self.batch)
        self.memory = QLabel("")
        self.memory.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        form = QFormLayout()
        form.addRow("Device", self.device)
        form.addRow("Precision", self.amp)
        form.addRow("Batch size", self.batch)
        form.addRow("Memory", self.memory)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self._preset_batch: tuple | None = None
        self._footprint_key: tuple | None = None  # the architecture estimated last
        self._footprint_ready: tuple | None = None  # the architecture whose footprint is known
        self._footprint = None
        self.estimator = network_footprint  # TrainConfig -> NetworkFootprint, run on a background thread
        self._slow = QTimer(self, singleShot=True, interval=SLOW_ESTIMATE_MS)
        self._slow.timeout.connect(self._still_estimating)
        for signal in (self.device.currentIndexChanged, self.amp.currentIndexChanged, self.batch.valueChanged):
            signal.connect(self._update_memory)

    def initializePage(self) -> None:
        config = self.state.config
        if config is None:
            return
        key = (config.preset, config.batch_size)
        if key != self._preset_batch:  # a new preset (or batch in the table): take its batch size
            self._preset_batch = key
            self.batch.setValue(config.batch_size)
        self._start_footprint(config)
        self._update_memory()

    # -- memory estimate -----------------------------------------------------------------
    def _start_footprint(self, config: TrainConfig) -> None:
        key = tuple(getattr(config, name) for name in ARCHITECTURE_FIELDS)
        if key == self._footprint_key:
            return
        self._footprint_key = key
        self.memory.setText(ESTIMATING)
        self.memory.setStyleSheet(BUSY_STYLE)
        self._slow.start()
        estimator = self.estimator
        task = BackgroundTask(lambda _p, _s: estimator(config), "memory estimate", self)
        task.succeeded.connect(lambda footprint: self._footprint_done(key, footprint))
        task.failed.connect(lambda message: self._footprint_failed(key, message))
        task.finished.connect(task.deleteLater)
        task.start()

    def _footprint_done(self, key: tuple, footprint) -> None:
        if key == self._footprint_key:  # else: networks no longer chosen
            self._slow.stop()
            self._footprint_ready, self._footprint = key, footprint
            self._update_memory()

    def _footprint_failed(self, key: tuple, message: str) -> None:
        if key == self._footprint_key:
            self._slow.stop()
            self.memory.setText(f"no estimate: {message}; the run does not need one")
            self.memory.setStyleSheet(WARN_STYLE)

    def _still_estimating(self) -> None:
        if self._footprint_ready != self._footprint_key and self.memory.text() == ESTIMATING:
            self.memory.setText(ESTIMATING + " (building the networks to count their parameters and "
                                "activations; Next and Start training need not wait for it)")

    def chosen_config(self) -> TrainConfig | None:
        if self.state.config is None:
            return None
        return dataclasses.replace(self.state.config, device=self.device.currentData(),
                                   amp=self.amp.currentData(), batch_size=self.batch.value())

    def _update_memory(self) -> None:
        config = self.chosen_config()
        if config is None or self._footprint_ready is None or self._footprint_ready != self._footprint_key:
            return
        if config.batch_size < 1:
            self.memory.setText("")
            return
        device = config.device
        estimate = estimate_training_memory(config, config.batch_size, device, self._footprint)
        available = device_memory_bytes(device)
        text = (f"\u2248 {format_bytes(estimate.total_bytes, binary=True)} estimated "
                f"({estimate.parameters / 1e6:.1f} M parameters; activations "
                f"{format_bytes(estimate.activation_bytes, binary=True)} at batch {config.batch_size})")
        style = OK_STYLE
        if available:
            share = estimate.total_bytes / available
            gpu = device.startswith("cuda") or (device == "auto" and available_devices()[0].startswith("cuda"))
            where = "GPU memory" if gpu else "RAM"
            text += f" of {format_bytes(available, binary=True)} {where}"
            if share > 0.9:
                style = ERROR_STYLE
                text += " \u2014 likely too much: lower the batch size"
            elif share > 0.6:
                style = WARN_STYLE
                text += " \u2014 tight"
        self.memory.setText(text + ". A rough estimate, not a measurement.")
        self.memory.setStyleSheet(style)

    # -- the wizard ----------------------------------------------------------------------
    def validatePage(self) -> bool:
        config = self.chosen_config()
        if config is None:
            return False
        problem = batch_problem(config.batch_size, self.state.data_pairs)
        if problem:
            self.message.setText(problem)
            return False
        try:
            resolve_device(config.device)
            validate(config)
        except CardiganError as exc:
            self.message.setText(exc.said(STUDIO_WORDS))
            return False
        self.message.setText("")
        self.state.device, self.state.amp, self.state.batch_size = config.device, config.amp, config.batch_size
        return True
