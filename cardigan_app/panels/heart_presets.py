"""The anatomy panel's preset row: the box of positions the real data defines and its Apply
button, and which preset the box names as the heart moves, is undone or redone.
:class:`PresetRow` is that part of :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QToolButton

NO_PRESET = "Choose a preset"  # the preset box before one is chosen


class PresetRow:
    """The preset box and Apply of :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`,
    which gives them its ``model`` and ``document`` and draws a preset as one undo step."""

    def _add_preset_row(self, form: QFormLayout) -> None:
        """The preset box and Apply beside its label, as the last rows of ``form``."""
        self.preset = QComboBox()
        for name, (label, meaning) in self.model.presets.items():
            self.preset.addItem(label, name)
            self.preset.setItemData(self.preset.count() - 1, meaning, Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip("Positions the real data defines; hover an entry for what it means")
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # no name cut short
        # none chosen until the user picks one: a name shown beside a heart reads as what that heart is
        self.preset.setPlaceholderText(NO_PRESET)
        self.preset.setCurrentIndex(-1)
        self.apply = QToolButton()
        self.apply.setText("Apply")
        self.apply.setToolTip("Make the current heart this preset (one undo step)")
        self.apply.setEnabled(False)
        self.apply.clicked.connect(self.apply_preset)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self._applied_preset: str | None = None  # the preset the heart is, until a slider moves it
        preset_head = QHBoxLayout()  # Apply beside the label: the combo takes the whole width
        preset_head.setContentsMargins(0, 0, 0, 0)
        preset_head.addWidget(QLabel("Preset"))
        preset_head.addStretch(1)
        preset_head.addWidget(self.apply)
        form.addRow(preset_head)
        form.addRow(self.preset)  # the whole width, not the field column's: the longest name fits

    def _preset_chosen(self, index: int) -> None:
        """A preset picked in the box (or the box cleared): Apply applies it; the heart is no
        preset until it does."""
        self.apply.setEnabled(index >= 0)
        self._applied_preset = None

    def _leave_preset(self) -> None:
        """A slider moved the heart away from the preset it was made: the box shows no preset
        (a name beside a heart reads as what that heart is). A preset chosen since, not yet
        applied, stays chosen."""
        if self._applied_preset is not None and self.preset.currentData() == self._applied_preset:
            self.preset.setCurrentIndex(-1)

    def _name_preset(self) -> None:
        """After undo, redo or another edit: the box names the preset the heart now is, if it is
        one, and no longer names a preset applied that the heart has left. A preset chosen but
        not yet applied stays chosen while the heart is no preset."""
        heart = self.heart
        now = next((name for name in self.model.presets if heart == self.model.preset(name)), None)
        if now is not None:
            self.preset.setCurrentIndex(self.preset.findData(now))
            self._applied_preset = now
        elif self._applied_preset is not None:
            self._leave_preset()
            self._applied_preset = None

    def apply_preset(self) -> None:
        if self.document is None or self.heart is None:
            return
        name = self.preset.currentData()
        if name is None:
            return
        record = {**self.document.anatomy, "heart": self.model.preset(name).to_dict()}
        self._begin_step(f"preset: {self.preset.currentText()}")
        self._draw(record)
        self._end_step()
        self._applied_preset = name
        self._note = f"Preset: {self.preset.currentText()}"
        self._show_state()
