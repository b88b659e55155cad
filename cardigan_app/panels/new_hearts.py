"""Where the anatomy panel's heart comes from: Start from anatomy and New heart draw a random
heart from the shape model, Fit to mask finds the real-looking heart nearest to the mask.
Each keeps the frame's phase (:meth:`~cardigan_app.panels.anatomy_panel.AnatomyPanel.frame_phase`):
on the ES key frame a new heart is drawn at its end-systole and a mask is fitted as one.
:class:`NewHearts` is that part of :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`."""

from __future__ import annotations

import random

from PySide6.QtWidgets import QMessageBox

from engine.anatomy.fitting import fit_mask
from engine.anatomy.heart import TYPED_SEEDS, anatomy_record
from engine.errors import CardiganError

from ..wording import studio_line

POOR_FIT = 0.6  # Fit to mask asks first below this overlap (mean Dice) of heart and mask


class NewHearts:
    """Start from anatomy, New heart and Fit to mask for
    :class:`~cardigan_app.panels.anatomy_panel.AnatomyPanel`, each one undo step of its document."""

    def _painted(self) -> bool:
        return bool(self.document is not None and (self.document.labels > 0).any())

    def start_from_anatomy(self, ask: bool = True) -> bool:
        """Replace the mask with a random heart from the shape model (one undo step); asks
        first when the mask holds painted work that is not a heart of its own."""
        if self._usable() is not None:
            return False
        if ask and self.heart is None and self._painted():
            answer = QMessageBox.question(self, "Start from anatomy",
                                          "Replace the painted mask with a generated heart? (Undo brings "
                                          "it back.)")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        heart, phase = self.model.draw(random.randrange(TYPED_SEEDS)), self.frame_phase()
        self.preset.setCurrentIndex(-1)  # a new heart is no preset
        self._drawn = None  # the whole mask is replaced, painted pixels included
        self._begin_step("new heart")
        self._draw(anatomy_record(heart, self.view.currentText(), phase))
        self._end_step()
        self._note = ""
        self._show_state()
        return True

    def fit_to_mask(self) -> bool:
        """Replace the mask by the real-looking heart nearest to it (at ED, or at ES on the ES
        key frame, in the view it fits best; one undo step): from then on the sliders move that heart. A heart that
        overlaps the mask poorly (not an apical view, upside down, ...) is only used when
        the user says so."""
        doc = self.document
        if self._usable() is not None or doc is None:
            return False
        try:
            phase = "ES" if self.frame_phase() >= 0.5 else "ED"
            heart, view, score = fit_mask(self.model, doc.labels, fan=doc.fan, phase=phase)
        except CardiganError as exc:
            QMessageBox.warning(self, "Cannot fit a heart", f"Cannot fit a heart to this mask: {studio_line(exc)}.")
            return False
        if score < POOR_FIT:
            answer = QMessageBox.question(
                self, "Fit to mask", f"The nearest real-looking heart ({view}) overlaps only {score:.0%} of "
                "this mask: is it an apical view with the apex at the top and the atrium below? Replace "
                "the mask with that heart anyway? (Undo brings it back.)")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self._drawn = None
        self._begin_step("fit heart")
        self._draw(anatomy_record(heart, view, float(phase == "ES")))
        self._end_step()
        self._note = f"Fitted to the mask ({score:.0%} overlap)"
        self._show_state()
        return True
