"""The real image the mask is painted over: shown in its pane and under the mask, at the
contrast the user chose.

:class:`ReferenceImage` owns the real image shown now (``image``: the key frame's picture,
or the loop frame chosen under it; None when there is none), the contrast it is shown at
(its own grey values until Auto, Reset or a drag in its pane chooses a window,
:mod:`cardigan_app.contrast`; a view setting kept while the images opened stay, never the
mask's), Auto's windows worked out so far, and which image lies under the mask: the real one
when it is the mask's size and the synthesis has its own pane beside it, else the
synthesized image. It relies on the window's workspace (the real-image pane, its header and
frame slider, the mask's canvas), the key frames' images (``references``, a
:class:`~cardigan_app.cine.key_references.KeyReferences` the window replaces as documents
open; its ``contrast`` is the window chosen), the live synthesis' last result, the Auto and
Reset commands, and the status bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer

from .contrast import AUTO_CONTRAST, AutoWindowCache, Window, own_window
from .imaging import grey_qimage

if TYPE_CHECKING:
    from .main_window import MainWindow


class ReferenceImage:
    """The real image on screen, its contrast, and the image under the mask."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.image: np.ndarray | None = None  # the real image shown now
        self.auto_windows = AutoWindowCache()  # Auto's window for the real images shown, worked out once each

    def show(self, image: np.ndarray | None) -> None:
        """Show ``image`` (None: none) in the real-image pane, and under the mask when it fits,
        at the contrast chosen for the images opened (their own values until one is chosen)."""
        studio = self.window
        workspace, references = studio.workspace, studio.references
        self.image = image
        workspace.reference_view.set_contrast(references.contrast)
        workspace.reference_view.set_image(image)
        self._show_contrast_state()
        workspace.show_reference_frames(references.count, references.index[studio.key_of(studio.document)])
        self.update_canvas_background()
        if workspace.reference_pane.isHidden() != (image is None):
            workspace.reference_pane.setVisible(image is not None)
            workspace.balance()
            QTimer.singleShot(0, studio.fit_views)

    def update_canvas_background(self) -> None:
        """The image under the mask ("Image under"): the real one when the mask has one of its
        size and the synthesis has its own pane beside it; else the synthesized image."""
        studio = self.window
        reference, shape = self.image, studio.document.shape
        if studio.state.side_by_side and reference is not None and reference.shape == shape:
            studio.canvas.set_background(grey_qimage(studio.workspace.reference_view.shown_image()))  # its contrast
            return
        result = studio.live.last_result
        fits = result is not None and result.document == studio.document.id and result.image.shape == shape
        studio.canvas.set_background(grey_qimage(result.image) if fits else None)

    def auto_contrast(self) -> None:
        """Stretch the real image's 1-99 % grey values, inside its fan where it has one, to black and white (A)."""
        if self.image is not None:
            self.set_contrast(self.auto_windows.window_for(self.image), AUTO_CONTRAST)

    def reset_contrast(self) -> None:
        """Show the real image's own grey values again (Shift+A)."""
        if self.image is not None:
            self.set_contrast(None)

    def set_contrast(self, window: Window | None, how: str = "") -> None:
        """Show the real image through ``window`` (None: its own values), in its pane and under
        the mask; ``how`` names the way it was chosen in the status bar (Auto)."""
        self.window.workspace.reference_view.set_contrast(window)
        self.contrast_chosen(window, how)

    def contrast_chosen(self, window: Window | None, how: str = "") -> None:
        """The real-image pane shows ``window`` now (set, or dragged in the pane): keep it for
        the images opened, and say so."""
        self.window.references.contrast = window
        self._show_contrast_state()
        self.update_canvas_background()
        own = own_window(self.image)
        shown = window or own
        notes = [note for note in (how, "its own values" if shown == own else "") if note]
        said = f" ({', '.join(notes)})" if notes else ""
        self.window.statusBar().showMessage(f"Real image contrast: {shown.describe()}{said}", 4000)

    def _show_contrast_state(self) -> None:
        """The header says the window while it is not the image's own; Auto and Reset need an image."""
        window, image = self.window.references.contrast, self.image
        own = image is None or window is None or window == own_window(image)
        self.window.workspace.show_contrast("" if own else window.describe())
        for name in ("contrast_auto", "contrast_reset"):
            self.window.commands[name].setEnabled(image is not None)
