"""Edit > Mask tools and Edit > Check topology: the two windows that work on the whole mask.

:class:`MaskDialogs` owns both windows (each made when first asked for, then kept and shown
again), running a mask tool on the whole mask as one undo step, checking the mask's
topology and pointing out a stray piece on the canvas, and making Apply in Mask tools wait
while the mouse holds an anatomy slider. The windows themselves are
:mod:`cardigan_app.dialogs.mask_tools` and :mod:`cardigan_app.dialogs.topology`; the work
is the engine's. It relies on the window's document, canvas, state (the class chosen),
anatomy panel (whether a slider is held) and status bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

if TYPE_CHECKING:
    from .dialogs.mask_tools import MaskToolsDialog
    from .dialogs.topology import TopologyDialog
    from .main_window import MainWindow


class MaskDialogs:
    """The Mask tools and Check topology windows, and what they do to the window's mask."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.tools: MaskToolsDialog | None = None  # Edit > Mask tools, made when first asked for
        self.topology: TopologyDialog | None = None  # Edit > Check topology, likewise

    def set_waiting(self, held: bool) -> None:
        """Apply in Mask tools waits while the mouse holds an anatomy slider (``held``)."""
        if self.tools is not None:
            self.tools.set_waiting(held)

    def show_tools(self) -> None:
        from .dialogs.mask_tools import MaskToolsDialog

        if self.tools is None:
            self.tools = MaskToolsDialog(self.window.state.active_label, self.window)
            self.tools.apply_button.clicked.connect(lambda: self.apply_tool(*self.tools.choice()))
            self.tools.set_waiting(self.window.anatomy_panel.dragging)  # opened mid-drag (Ctrl+M)
        self.tools.show()
        self.tools.raise_()

    def apply_tool(self, name: str, label: int, size: int) -> int:
        """Run one mask tool on the whole mask as one undo step; returns the pixels changed."""
        from .dialogs.mask_tools import OPERATIONS, apply_operation

        self.window.canvas.cancel_gesture()
        doc = self.window.document
        result = apply_operation(doc.labels, name, label, size)
        changed = int((result != doc.labels).sum())
        doc.replace(result, OPERATIONS[name][0].lower())
        self.window.statusBar().showMessage(f"{OPERATIONS[name][0]}: {changed} pixels changed", 6000)
        return changed

    def check_topology(self) -> list[str]:
        """Say whether the mask is a plausible heart (cavity enclosed, atrium attached below)
        and list every stray piece (clicking one shows it); returns what was found."""
        from engine.anatomy.topology import stray_pieces, topology_problems

        from .dialogs.topology import TopologyDialog

        if self.topology is None:
            self.topology = TopologyDialog(self.window)
            self.topology.checkRequested.connect(self.check_topology)
            self.topology.pieceSelected.connect(self.show_piece)
        labels = self.window.document.labels
        problems, stray = topology_problems(labels), stray_pieces(labels)
        self.topology.show_report(problems, stray)
        self.topology.show()
        self.topology.raise_()
        return problems + [piece.describe() for piece in stray]

    def show_piece(self, piece) -> None:
        """Centre the mask on one piece of a structure and frame it for a moment."""
        self.window.canvas.point_out(QRectF(piece.left, piece.top, piece.right - piece.left, piece.bottom - piece.top))
        self.window.statusBar().showMessage(piece.describe()[0].upper() + piece.describe()[1:], 8000)
