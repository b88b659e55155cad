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
            self.tools = MaskToolsDialog(self.window.state.active_label, self.window, self.window.state.paint_over)
            self.window.state.observe("paint_over", self.tools.set_rule)
            self.tools.apply_button.clicked.connect(lambda: self.apply_tool(*self.tools.choice()))
            self.tools.set_waiting(self.window.anatomy_panel.dragging)  # opened mid-drag (Ctrl+M)
        self.tools.show()
        self.tools.raise_()

    def apply_tool(self, name: str, label: int, size: int) -> int:
        """Run one mask tool on the whole mask as one undo step, changing only what the
        paint-over rule allows and painting nothing outside the fan; returns the pixels
        changed. Nothing changed makes no step, and the dialog and status line say why."""
        from engine.fan import edge_distance
        from engine.mask_tools import confine

        from .dialogs.mask_tools import OPERATIONS, apply_operation, rule_name

        self.window.canvas.cancel_gesture()
        doc, over = self.window.document, self.window.state.paint_over
        title = OPERATIONS[name][0]
        free = apply_operation(doc.labels, name, label, size)  # as if painting over every class
        by_rule = confine(doc.labels, free, over)
        result = confine(doc.labels, by_rule, outside=edge_distance(doc.fan, *doc.shape) < -0.5)
        changed = int((result != doc.labels).sum())
        kept = [f"{n} pixels kept by {why}" for n, why in (
            (int((free != by_rule).sum()), f"Over: {rule_name(over)}"),
            (int((by_rule != result).sum()), "the fan (no class is painted outside it)")) if n]
        if changed:
            doc.replace(result, title.lower())
            text = f"{title}: {changed} pixels changed (Ctrl+Z undoes)"
        else:
            text = f"{title} changed nothing" + ("" if kept else ": the mask has nothing it would change")
        if kept:
            text += "; " + ", ".join(kept)
        self.window.statusBar().showMessage(text, 8000)
        if self.tools is not None:
            self.tools.show_result(text)
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
