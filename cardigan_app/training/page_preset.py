"""Wizard page 2: a preset and its hyper-parameters, editable and validated by the engine."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWizardPage

from engine.errors import CardiganError
from engine.training.config import PRESETS, TrainConfig, resolve_config
from engine.training.data_size import preset_on_data, size_given_none

from .. import theme
from ..data_tools.prepare_form import ERROR_STYLE
from ..wording import studio_line
from .hyperparams import HyperParameterTable, preset_description
from .process import TRAINING_WORDS
from .row_description import RowDescription
from .wizard_state import WizardState

HINT_STYLE = theme.text_style(theme.MUTED)


def default_preset() -> tuple[str, str]:
    """The preset that fits this machine, and why (shown under the table)."""
    import torch

    if torch.cuda.is_available():
        return "quality", "A CUDA GPU is available: the quality preset trains the full-width model."
    return "lite", ("No CUDA GPU: the lite preset (CLADE, ngf 10) is the one a CPU trains in hours "
                    "rather than days; choose seed or quality on a GPU machine.")


class PresetPage(QWizardPage):
    def __init__(self, state: WizardState) -> None:
        super().__init__()
        self.state = state
        self.setTitle("Preset and hyper-parameters")
        self.setSubTitle("Start from a preset and change what you need; changed values are highlighted. "
                         "Double-click a value to edit it.")
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(f"{name} \u2014 {preset_description(name)}", name)
        self.preset.setToolTip("The preset's values fill the table")
        reset = QPushButton("Reset to preset")
        reset.setToolTip("Put back the preset's own values")
        reset.clicked.connect(lambda: self.load_preset(self.preset_name()))
        row = QHBoxLayout()
        row.addWidget(QLabel("Preset"))
        row.addWidget(self.preset, 1)
        row.addWidget(reset)
        self.table = HyperParameterTable()
        self.description = RowDescription(self.table)
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(HINT_STYLE)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.description)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        self.preset.currentIndexChanged.connect(lambda: self.load_preset(self.preset_name()))
        self.table.edited.connect(self._edited)
        name, self.default_reason = default_preset()
        self.set_preset(name)
        self.load_preset(self.preset_name())

    def preset_name(self) -> str:
        return self.preset.currentData()

    def set_preset(self, name: str) -> None:
        self.preset.setCurrentIndex(self.preset.findData(name))

    def preset_values(self, name: str) -> TrainConfig:
        """Preset ``name``'s values on the chosen data: its image size follows smaller data."""
        return preset_on_data(name, self.state.data_side())

    def fitted_size(self) -> int:
        """The image size the engine would train the table's values at on the chosen data
        when none is given (it follows the upsampling shown: 'most' needs 128 px)."""
        name = self.preset_name()
        values, _problems = self.table.values()
        values = {k: v for k, v in values.items() if k != "image_size"}
        config = dataclasses.replace(preset_on_data(name, None), **values)  # checked by config()
        return size_given_none(config, self.state.data_side())

    def _refit(self) -> None:
        """The preset's image size follows the data and the upsampling shown; the value
        shown follows it unless it was changed."""
        fitted = self.fitted_size()
        if self.table.item(self.table.row_of("image_size"), self.table.PRESET).text() != str(fitted):
            self.table.set_preset_value("image_size", fitted)

    def load_preset(self, name: str) -> None:
        self.table.load(name, defaults=self.preset_values(name))
        self.description.preset_loaded()
        self.message.setText("")
        self._update_hint()

    def initializePage(self) -> None:
        self._refit()  # other data: the preset's image size follows it
        self._update_hint()

    def _update_hint(self) -> None:
        size = self.state.data_size
        try:
            image_size = int(self.table.text("image_size"))
        except ValueError:
            image_size = None
        notes = [self.default_reason]
        name = self.preset_name()
        preset_size, fitted = preset_on_data(name, None).image_size, self.fitted_size()
        mixed = self.state.data_sizes > 1
        if size and image_size == fitted < preset_size:
            if fitted == max(size):
                what = "the data's largest side" if mixed else "the data's size"
            else:
                what = f"the size the network takes nearest the data's {size[1]} \u00d7 {size[0]} px"
            notes.append(f"Trains at {fitted} px, {what} (the {name} preset's is {preset_size}); set "
                         "image_size to change.")
        elif size and image_size and mixed:
            notes.append(f"The data's pairs come in {self.state.data_sizes} sizes; each is resized to "
                         f"image_size {image_size} while training.")
        elif size and image_size and size[1] != image_size:
            notes.append(f"The data is {size[1]} \u00d7 {size[0]} px; pairs are resized to image_size "
                         f"{image_size} while training.")
        self.hint.setText(" ".join(notes))

    def _edited(self) -> None:
        self._refit()
        self._update_hint()
        problem = self.problem()
        self.message.setText(problem or "")

    def config(self) -> TrainConfig:
        """The configuration shown (raises CardiganError when it is not valid)."""
        values, problems = self.table.values()
        if problems:
            raise CardiganError("; ".join(problems))
        return resolve_config(self.preset_name(), **values)

    def problem(self) -> str | None:
        try:
            self.config()
        except CardiganError as exc:
            return studio_line(exc, extra=TRAINING_WORDS)
        return None

    def validatePage(self) -> bool:
        try:
            self.state.config = self.config()
        except CardiganError as exc:
            self.message.setText(studio_line(exc, extra=TRAINING_WORDS))
            return False
        self.message.setText("")
        return True
